//! The shapes that cross the wire, shared by the server, which writes them,
//! and the command line, which reads them: one definition, so the two cannot
//! drift apart.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub use crate::policy::{Code as ReasonCode, Decision, Override, OverrideRef, Reason, Verdict};
use crate::policy::{Source, Window, WindowSpec};
use crate::schedule::{Occurrence, SEARCH_LIMIT};

/// The names a query string or body may hold; others are refused.
pub trait Known {
    const FIELDS: &'static [&'static str];
}

/// What `/can-deploy` answers: the decision, its id, and whether it was a simulation.
#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Answer {
    #[serde(flatten)]
    pub decision: Decision,
    pub decision_id: String,
    pub simulated: bool,
}

/// The question, as a query string (GET) or a JSON body (POST).
#[derive(Clone, Debug, Default, Serialize, Deserialize, utoipa::ToSchema, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DecisionRequest {
    /// The team that owns what is deployed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team: Option<String>,
    /// The service deployed; absent means the team's whole surface.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    /// Where, e.g. `production`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
    /// How long the deploy takes (`20m`): also deny if a freeze opens or the deploy window closes meanwhile.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_duration: Option<String>,
    /// RFC 3339: simulate the decision at this instant (not audited).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
    /// Who or what asked, for the audit log.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor: Option<String>,
    /// The pipeline run that asked, for the audit log.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pipeline_url: Option<String>,
    /// The commit deployed, for the audit log.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
}

impl Known for DecisionRequest {
    const FIELDS: &'static [&'static str] =
        &["team", "service", "environment", "expected_duration", "at", "actor", "pipeline_url", "commit"];
}

/// A request for an emergency override.
#[derive(Clone, Debug, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct OverrideRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
    /// Why, in words others can act on later: at least two words and ten letters or digits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticket: Option<String>,
    /// How long: default 1h, at most `[auth] max_override_ttl`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl: Option<String>,
}

impl Known for OverrideRequest {
    const FIELDS: &'static [&'static str] = &["team", "service", "environment", "reason", "ticket", "ttl"];
}

/// Every error: a stable `code` from the catalogue, a `message` a person
/// can act on, the `field` to blame when there is one.
#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    pub code: String,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// For a 422: every problem with the body.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<ProblemDetail>,
}

#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ProblemDetail {
    pub code: String,
    pub field: String,
    pub message: String,
}

impl ErrorBody {
    /// The catalogue's shape for an error.
    pub fn of(e: &crate::error::Error) -> ErrorBody {
        let problems = e
            .problems
            .iter()
            .map(|p| ProblemDetail {
                code: p.code.as_str().to_string(),
                field: p.api_field(),
                message: p.message.clone(),
            })
            .collect();
        ErrorBody {
            error: ErrorDetail {
                code: e.code.as_str().to_string(),
                message: e.message.clone(),
                field: e.field.clone(),
                problems,
            },
        }
    }

    /// The message with the field to blame, on one line.
    pub fn line(&self) -> String {
        match &self.error.field {
            Some(f) => format!("{} (field {f})", self.error.message),
            None => self.error.message.clone(),
        }
    }
}

/// An override as created: the override, and what it cannot lift.
#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CreatedOverride {
    #[serde(flatten)]
    pub created: Override,
    /// Windows in force now for this target that no override lifts
    /// (`overridable = false`): the override is created, but they still deny.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<Reason>,
}

/// A window as `/windows` shows it: its definition, where it came from, and
/// where it stands in its schedule at an instant.
#[derive(Serialize, utoipa::ToSchema)]
pub struct WindowView<'a> {
    #[serde(flatten)]
    spec: &'a WindowSpec,
    source: &'a Source,
    #[serde(skip_serializing_if = "Option::is_none")]
    file: Option<&'a str>,
    active: bool,
    /// The occurrence open at the instant asked about.
    current: Option<Occurrence>,
    /// While active: when it stops, the occurrences that overlap or touch
    /// `current` counted with it (absent: not within eight years).
    #[serde(skip_serializing_if = "Option::is_none")]
    until: Option<DateTime<Utc>>,
    next: Option<Occurrence>,
}

impl<'a> WindowView<'a> {
    pub fn at(w: &'a Window, t: DateTime<Utc>) -> WindowView<'a> {
        let current = w.containing(t);
        let limit = t + SEARCH_LIMIT;
        WindowView {
            spec: &w.spec,
            source: &w.source,
            file: w.file.as_deref(),
            active: current.is_some(),
            until: current.and_then(|o| w.schedule.span_end(o, limit)),
            current,
            next: w.schedule.next_after(t, limit),
        }
    }
}

/// Where a deployment stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeploymentStatus {
    Started,
    Succeeded,
    Failed,
    RolledBack,
}

impl DeploymentStatus {
    pub fn parse(text: &str) -> Option<DeploymentStatus> {
        match text {
            "started" => Some(DeploymentStatus::Started),
            "succeeded" => Some(DeploymentStatus::Succeeded),
            "failed" => Some(DeploymentStatus::Failed),
            "rolled_back" => Some(DeploymentStatus::RolledBack),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            DeploymentStatus::Started => "started",
            DeploymentStatus::Succeeded => "succeeded",
            DeploymentStatus::Failed => "failed",
            DeploymentStatus::RolledBack => "rolled_back",
        }
    }

    /// Failed or rolled back: a change that failed.
    pub fn failed(self) -> bool {
        matches!(self, DeploymentStatus::Failed | DeploymentStatus::RolledBack)
    }

    pub fn finished(self) -> bool {
        self != DeploymentStatus::Started
    }
}

/// A deployment report, as CI sends it to `POST /deployments`.
#[derive(Clone, Debug, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DeploymentReport {
    /// Absent on a first report: the gate makes one. Later reports of the same deployment send it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
    /// `started`, `succeeded`, `failed` or `rolled_back`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// The decision that let it go.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pipeline_url: Option<String>,
    /// RFC 3339; default: now, on the first report.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<String>,
    /// RFC 3339; default: now, once the status is not `started`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<String>,
}

impl Known for DeploymentReport {
    const FIELDS: &'static [&'static str] = &[
        "id",
        "team",
        "service",
        "environment",
        "status",
        "decision_id",
        "version",
        "commit",
        "pipeline_url",
        "started_at",
        "finished_at",
    ];
}

/// A deployment as the gate keeps it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Deployment {
    pub id: String,
    pub team: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    pub environment: String,
    pub status: DeploymentStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pipeline_url: Option<String>,
    pub started_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<DateTime<Utc>>,
    /// The token that reported it last.
    pub reported_by: String,
}
