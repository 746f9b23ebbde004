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
#[derive(Clone, Copy, Hash, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    Config,
    Api,
}

/// A window as written, the form shown by the API and kept by the store;
/// its zone and selectors are kept compiled, once.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct WindowSpec {
    pub id: String,
    pub kind: Kind,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[schema(value_type = String)]
    pub timezone: Zone,
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
    #[serde(skip_serializing_if = "Selector::is_any")]
    #[schema(value_type = Option<Vec<String>>)]
    pub environments: Selector,
    #[serde(skip_serializing_if = "Selector::is_any")]
    #[schema(value_type = Option<Vec<String>>)]
    pub teams: Selector,
    #[serde(skip_serializing_if = "Selector::is_any")]
    #[schema(value_type = Option<Vec<String>>)]
    pub services: Selector,
    pub overridable: bool,
}

/// A compiled window: schedule, zone and selectors parsed once at load.
#[derive(Clone, Debug)]
pub struct Window {
    pub spec: WindowSpec,
    pub kind: Kind,
    pub zone: Zone,
    pub schedule: Schedule,
    pub source: Source,
    /// The file it came from, for config windows.
    pub file: Option<String>,
    /// Occurrence searches shared by decisions.
    pub memo: Memo,
    /// See [`Window::title`].
    pub title: String,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Deny => "deny",
            Kind::Allow => "allow",
        }
    }
}

impl Window {
    pub fn id(&self) -> &str {
        &self.spec.id
    }

    pub fn overridable(&self) -> bool {
        self.spec.overridable
    }

    pub fn applies_to(&self, target: &Target) -> bool {
        let spec = &self.spec;
        spec.environments.matches(target.environment.as_str())
            && spec.teams.matches(target.team.as_str())
            && target.service.as_ref().is_none_or(|s| spec.services.matches(s.as_str()))
    }

    /// Whether the window applies to some target with these (optional) parts:
    /// an absent part matches anything. For calendar filters.
    pub fn may_apply(&self, team: Option<&str>, service: Option<&str>, environment: Option<&str>) -> bool {
        let spec = &self.spec;
        environment.is_none_or(|e| spec.environments.matches(e))
            && team.is_none_or(|t| spec.teams.matches(t))
            && service.is_none_or(|s| spec.services.matches(s))
    }

    pub fn containing(&self, t: DateTime<Utc>) -> Option<Occurrence> {
        self.schedule.containing(t)
    }

    /// A wall-clock line in the window's own zone, e.g. "Mon 2026-11-30 08:00 CET".
    /// Written field by field: it is in every reason of every decision.
    pub fn local_time(&self, t: DateTime<Utc>) -> String {
        use chrono::{Datelike, Offset, TimeZone, Timelike};
        use chrono_tz::OffsetName;
        use std::fmt::Write as _;
        let local = self.zone.local(t);
        let offset = self.zone.tz().offset_from_utc_datetime(&t.naive_utc());
        let abbreviation = offset.abbreviation().map_or_else(|| offset.fix().to_string(), str::to_string);
        let mut out = String::with_capacity(24);
        let _ = write!(
            out,
            "{} {:04}-{:02}-{:02} {:02}:{:02} {abbreviation}",
            local.weekday(),
            local.year(),
            local.month(),
            local.day(),
            local.hour(),
            local.minute()
        );
        out
    }

    /// Whom it applies to, for people: "environments production; teams
    /// payments", or "every deploy".
    pub fn scope(&self) -> String {
        let spec = &self.spec;
        let parts: Vec<String> =
            [("environments", &spec.environments), ("teams", &spec.teams), ("services", &spec.services)]
                .into_iter()
                .filter_map(|(name, s)| s.text().map(|t| format!("{name} {t}")))
                .collect();
        if parts.is_empty() { "every deploy".into() } else { parts.join("; ") }
    }

    /// "Deploy freeze 'friday-evening' (No deploys over the weekend)".
    pub fn title(&self) -> &str {
        &self.title
    }

    /// The title a window is shown by, written once when it is compiled.
    pub fn title_of(spec: &WindowSpec) -> String {
        let what = match spec.kind {
            Kind::Deny => "Deploy freeze",
            Kind::Allow => "Deploy window",
        };
        match spec.reason.as_deref() {
            Some(r) if !r.is_empty() => format!("{what} '{}' ({r})", spec.id),
            _ => format!("{what} '{}'", spec.id),
        }
    }
}
