//! A team's risk scorecard colour and what each environment's policy makes of it.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use std::collections::BTreeMap;
use std::sync::Arc;

use super::scorecard::{Cell, due_instant};
use super::target::Name;
use super::window::Source;
use crate::schedule::Zone;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Good enough for now.
    Green,
    /// Non-compliant, with a plan in progress.
    Yellow,
    /// Non-compliant, with no plan.
    Red,
}

impl Status {
    pub fn parse(text: &str) -> Option<Status> {
        match text {
            "green" => Some(Status::Green),
            "yellow" => Some(Status::Yellow),
            "red" => Some(Status::Red),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Green => "green",
            Status::Yellow => "yellow",
            Status::Red => "red",
        }
    }
}

/// A team as written, the form shown by the API and kept by the store.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TeamSpec {
    pub name: String,
    /// The manual colour; optional when the scorecard says it all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<Status>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan_due: Option<NaiveDate>,
    pub timezone: String,
}

#[derive(Clone, Debug)]
pub struct Team {
    pub name: Name,
    pub spec: TeamSpec,
    pub zone: Zone,
    /// The instant the plan falls due: the end of `plan_due` in the team's zone.
    pub due_at: Option<DateTime<Utc>>,
    /// Scorecard cells a config file sets, by item id.
    pub cells: BTreeMap<Arc<str>, Arc<Cell>>,
    pub source: Source,
    pub file: Option<String>,
}

impl Team {
    pub fn new(name: Name, spec: TeamSpec, zone: Zone, source: Source, file: Option<String>) -> Team {
        let due_at = spec.plan_due.and_then(|d| due_instant(d, &zone));
        Team { name, spec, zone, due_at, cells: BTreeMap::new(), source, file }
    }

    /// The manual colour, if one is set.
    pub fn status(&self) -> Option<Status> {
        self.spec.status
    }

    /// A yellow team whose plan is past due counts as red.
    pub fn overdue(&self, t: DateTime<Utc>) -> bool {
        self.spec.status == Some(Status::Yellow) && self.due_at.is_some_and(|due| t >= due)
    }

    /// The manual colour at `t` (green when none is set).
    pub fn effective_status(&self, t: DateTime<Utc>) -> Status {
        if self.overdue(t) { Status::Red } else { self.spec.status.unwrap_or(Status::Green) }
    }
}

/// What a policy does with a risk status or an unknown team.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Deny,
    Warn,
    Allow,
}

impl Action {
    pub fn parse(text: &str) -> Option<Action> {
        match text {
            "deny" => Some(Action::Deny),
            "warn" => Some(Action::Warn),
            "allow" => Some(Action::Allow),
            _ => None,
        }
    }
}

/// What the `[policy]` table says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Policy {
    /// Per environment, by (lower-case) name.
    pub environments: std::collections::HashMap<String, EnvironmentPolicy>,
    /// What a deploy to an environment no window or policy names gets.
    pub unknown_environment: Action,
}

impl Default for Policy {
    fn default() -> Policy {
        Policy { environments: Default::default(), unknown_environment: Action::Warn }
    }
}

/// One environment's policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct EnvironmentPolicy {
    pub red: Action,
    pub yellow: Action,
    pub unknown_team: Action,
    /// A deploy running through a busy hour of its service's week (75th percentile and up).
    pub busy_traffic: Action,
    /// ... through a peak hour (95th percentile and up).
    pub peak_traffic: Action,
}

impl Default for EnvironmentPolicy {
    /// For environments the config does not list.
    fn default() -> Self {
        EnvironmentPolicy {
            red: Action::Warn,
            yellow: Action::Allow,
            unknown_team: Action::Allow,
            busy_traffic: Action::Warn,
            peak_traffic: Action::Warn,
        }
    }
}
