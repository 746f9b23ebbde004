//! A window: when it is open (its schedule) and which targets it applies to.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::selector::Selector;
use super::target::Target;
use crate::schedule::{Memo, Occurrence, Schedule, Zone};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// A deploy-exclusion window (a freeze).
    Deny,
    /// A deploy window: targets it applies to may deploy only while one is open.
    Allow,
}

/// Where a window or team was defined.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    Config,
    Api,
}

/// A window as written, the form shown by the API and kept by the store.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct WindowSpec {
    pub id: String,
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub timezone: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cron: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_cron: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub environments: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub teams: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub services: Option<Vec<String>>,
    pub overridable: bool,
}

/// A compiled window: schedule, zone and selectors parsed once at load.
#[derive(Clone, Debug)]
pub struct Window {
    pub spec: WindowSpec,
    pub kind: Kind,
    pub zone: Zone,
    pub schedule: Schedule,
    pub environments: Selector,
    pub teams: Selector,
    pub services: Selector,
    pub source: Source,
    /// The file it came from, for config windows.
    pub file: Option<String>,
    /// Occurrence searches shared by decisions.
    pub memo: Memo,
}

impl Window {
    pub fn id(&self) -> &str {
        &self.spec.id
    }

    pub fn overridable(&self) -> bool {
        self.spec.overridable
    }

    pub fn applies_to(&self, target: &Target) -> bool {
        self.environments.matches(target.environment.as_str())
            && self.teams.matches(target.team.as_str())
            && target.service.as_ref().is_none_or(|s| self.services.matches(s.as_str()))
    }

    /// Whether the window applies to some target with these (optional) parts:
    /// an absent part matches anything. For calendar filters.
    pub fn may_apply(&self, team: Option<&str>, service: Option<&str>, environment: Option<&str>) -> bool {
        environment.is_none_or(|e| self.environments.matches(e))
            && team.is_none_or(|t| self.teams.matches(t))
            && service.is_none_or(|s| self.services.matches(s))
    }

    pub fn containing(&self, t: DateTime<Utc>) -> Option<Occurrence> {
        self.schedule.containing(t)
    }

    /// A wall-clock line in the window's own zone, e.g. "Mon 2026-11-30 08:00 CET".
    pub fn local_time(&self, t: DateTime<Utc>) -> String {
        t.with_timezone(&self.zone.tz()).format("%a %Y-%m-%d %H:%M %Z").to_string()
    }

    /// "Deploy freeze 'friday-evening' (No deploys over the weekend)".
    pub fn title(&self) -> String {
        let what = match self.kind {
            Kind::Deny => "Deploy freeze",
            Kind::Allow => "Deploy window",
        };
        match self.spec.reason.as_deref() {
            Some(r) if !r.is_empty() => format!("{what} '{}' ({r})", self.spec.id),
            _ => format!("{what} '{}'", self.spec.id),
        }
    }
}
