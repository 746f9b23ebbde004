//! Emergency overrides: who may create one, for what, for how long, and why
//! it must say why.

use chrono::{DateTime, Duration, Utc};

use super::idempotency::{self, Made};
use super::{Caller, Gate};
use crate::config::{Problem, parse_duration_text};
use crate::error::{Error, ErrorCode};
use crate::policy::{Name, Override, Target, decide};
use crate::store::{Created, OverrideFilter, Overrides, Revoked};
use crate::wire::{CreatedOverride, OverrideRequest};

/// How long an override lasts when the request does not say.
pub const DEFAULT_TTL: Duration = Duration::hours(1);
/// At most this many overrides may be in force at once.
pub const MAX_ACTIVE_OVERRIDES: i64 = 1000;
/// The name of overrides in the change feed.
pub const CHANGE_KIND: &str = crate::store::OVERRIDE_CHANGE;

/// Why an override was needed, in words someone reading the audit log later
/// can act on: at least two words and ten letters or digits, at most 1000
/// characters, no control characters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OverrideReason(String);

impl OverrideReason {
    pub fn parse(text: &str) -> Result<OverrideReason, String> {
        let text = text.trim();
        let words = text.split_whitespace().count();
        let letters = text.chars().filter(|c| c.is_alphanumeric()).count();
        if words < 2 || letters < 10 {
            return Err(
                "must say why, in a few words others can act on later, e.g. \"Hotfix for checkout outage INC-4211\""
                    .into(),
            );
        }
        if text.chars().count() > 1000 {
            return Err("is longer than 1000 characters".into());
        }
        if text.chars().any(char::is_control) {
            return Err("must be one line of printable text".into());
        }
        Ok(OverrideReason(text.to_string()))
    }
}

/// How long an override lasts: given, or [`DEFAULT_TTL`], never beyond `max`.
pub fn ttl(text: Option<&str>, max: Duration) -> Result<Duration, String> {
    let Some(text) = text.filter(|t| !t.is_empty()) else {
        return Ok(DEFAULT_TTL.min(max));
    };
    let d = parse_duration_text(text)?;
    if d > max {
        let max_text = humantime::format_duration(max.to_std().unwrap_or_default());
        return Err(format!("`{text}` is longer than [auth] max_override_ttl ({max_text})"));
    }
    Ok(d)
}

/// A request for an override, checked: every problem at once.
struct NewOverride {
    target: Target,
    reason: OverrideReason,
    ticket: Option<String>,
    ttl: Duration,
}

fn problem(key: &str, code: ErrorCode, message: impl Into<String>) -> Problem {
    Problem::new(None, "", key, code, message)
}

fn parse(req: OverrideRequest, max_ttl: Duration) -> Result<NewOverride, Error> {
    let mut problems = Vec::new();
    let mut name = |key: &str, value: Option<&str>, example: &str| match value.filter(|v| !v.is_empty()) {
        None => {
            problems.push(problem(key, ErrorCode::MissingField, format!("is required, e.g. \"{key}\": \"{example}\"")));
            None
        }
        Some(v) => Name::parse(key, v).map_err(|m| problems.push(problem(key, ErrorCode::InvalidValue, m))).ok(),
    };
    let team = name("team", req.team.as_deref(), "payments");
    let environment = name("environment", req.environment.as_deref(), "production");
    let service = match req.service.as_deref().filter(|s| !s.is_empty()) {
        None => Some(None),
        Some(s) => Name::parse("service", s)
            .map(Some)
            .map_err(|m| problems.push(problem("service", ErrorCode::InvalidValue, m)))
            .ok(),
    };
    let reason = OverrideReason::parse(req.reason.as_deref().unwrap_or_default())
        .map_err(|m| problems.push(problem("reason", ErrorCode::InvalidValue, m)))
        .ok();
    let ticket = req.ticket.map(|t| t.trim().to_string()).filter(|t| !t.is_empty());
    if let Some(t) = &ticket
        && (t.chars().count() > 200 || t.chars().any(char::is_control))
    {
        problems.push(problem("ticket", ErrorCode::InvalidValue, "must be one line of at most 200 characters"));
    }
    let ttl =
        ttl(req.ttl.as_deref(), max_ttl).map_err(|m| problems.push(problem("ttl", ErrorCode::InvalidDuration, m))).ok();
    match (team, environment, service, reason, ttl) {
        (Some(team), Some(environment), Some(service), Some(reason), Some(ttl)) if problems.is_empty() => {
            Ok(NewOverride { target: Target { team, service, environment }, reason, ticket, ttl })
        }
        _ => Err(Error::invalid(problems)),
    }
}

pub fn override_not_found(id: &str) -> Error {
    Error::new(
        ErrorCode::OverrideNotFound,
        format!("no override has id `{}`; GET /overrides lists them", id.escape_debug()),
    )
}

impl Gate {
    /// `POST /overrides`: lift the gate in an emergency, time-limited,
    /// scoped to the caller's teams and environments, audited.
    pub async fn create_override(
        &self,
        req: OverrideRequest,
        by: &Caller,
        key: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Made<CreatedOverride>, Error> {
        let request = serde_json::to_value(&req).map_err(|e| Error::internal(e.into()))?;
        let idem = idempotency::key(by, key, "POST /overrides", &request)?;
        let live = self.live();
        let new = parse(req, live.settings.max_override_ttl)?;
        let target = &new.target;
        if !by.in_scope(target.team.as_str(), target.environment.as_str()) {
            return Err(Error::new(
                ErrorCode::Forbidden,
                format!(
                    "token '{}' may not override for team {} in {}; its scope is its configured teams and environments",
                    by.name, target.team, target.environment
                ),
            ));
        }
        let o = Override {
            id: format!("ovr-{}", uuid::Uuid::new_v4().simple()),
            team: target.team.clone(),
            service: target.service.clone(),
            environment: target.environment.clone(),
            reason: new.reason.0,
            ticket: new.ticket,
            created_by: by.name.clone(),
            created_at: now,
            expires_at: now + new.ttl,
            revoked_at: None,
            revoked_by: None,
        };
        // What it cannot lift: windows in force now that no override lifts.
        let decision = decide(&live.rules, target, now, None, std::slice::from_ref(&o));
        let warnings = decision.reasons.into_iter().filter(|r| !r.overridable).collect();
        let created = CreatedOverride { created: o, warnings };
        let answer = serde_json::to_value(&created).map_err(|e| Error::internal(e.into()))?;
        let answering = idem.as_ref().map(|i| (i, 201, &answer));
        let outcome = self
            .store
            .create_override(&created.created, MAX_ACTIVE_OVERRIDES, answering)
            .await
            .map_err(|e| Error::store(e, "record the override"))?;
        match outcome {
            Created::Now => {}
            Created::TooMany => {
                return Err(Error::new(
                    ErrorCode::TooManyOverrides,
                    format!(
                        "{MAX_ACTIVE_OVERRIDES} overrides are in force already; revoke one (DELETE /overrides/{{id}}) or wait for one to expire"
                    ),
                ));
            }
            Created::Replayed(before) => return idempotency::replay(idem.as_ref(), before),
        }
        let o = &created.created;
        self.replace_override(&o.id, Some(o.clone()));
        self.after_write(now).await;
        tracing::warn!(
            override_id = %o.id, team = %o.team, environment = %o.environment, by = %o.created_by,
            expires_at = %o.expires_at, reason = %o.reason.escape_debug(), "override created"
        );
        Ok(Made::Now(created))
    }

    /// `DELETE /overrides/{id}`: end an override early; revoking twice records it once.
    pub async fn revoke_override(&self, id: &str, by: &Caller, now: DateTime<Utc>) -> Result<Override, Error> {
        match self.store.revoke_override(id, &by.name, now).await.map_err(|e| Error::store(e, "revoke the override"))? {
            Revoked::Now(o) => {
                self.replace_override(&o.id, None);
                self.after_write(now).await;
                tracing::warn!(override_id = %o.id, by = %by.name, "override revoked");
                Ok(o)
            }
            Revoked::AlreadyEnded(o) => Err(Error::new(
                ErrorCode::OverrideEnded,
                format!("override {} already ended at {}", o.id, o.ends_at().to_rfc3339()),
            )),
            Revoked::NotFound => Err(override_not_found(id)),
        }
    }

    /// `GET /overrides`: newest first, a page at a time.
    pub async fn list_overrides(
        &self,
        active_at: Option<DateTime<Utc>>,
        after: Option<&str>,
        limit: i64,
    ) -> Result<Vec<Override>, Error> {
        let before = match after {
            None => None,
            Some(id) => {
                Some(self.store.override_by_id(id).await.map_err(|e| Error::store(e, "read overrides"))?.ok_or_else(
                    || Error::invalid_parameter("after", format!("no override has id `{}`", id.escape_debug())),
                )?)
            }
        };
        self.store
            .list_overrides(&OverrideFilter { active_at, before, limit })
            .await
            .map_err(|e| Error::store(e, "read overrides"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reason_needs_two_words_and_ten_letters() {
        for bad in ["", "hotfix", "urgent fix", "a b c d e", "x\ny and more words"] {
            assert!(OverrideReason::parse(bad).is_err(), "{bad:?}");
        }
        assert!(OverrideReason::parse("Hotfix for checkout outage INC-4211").is_ok());
    }

    #[test]
    fn ttl_defaults_to_an_hour_within_the_maximum() {
        let max = Duration::hours(4);
        assert_eq!(ttl(None, max), Ok(Duration::hours(1)));
        assert_eq!(ttl(None, Duration::minutes(30)), Ok(Duration::minutes(30)));
        assert_eq!(ttl(Some("2h"), max), Ok(Duration::hours(2)));
        assert!(ttl(Some("5h"), max).unwrap_err().contains("max_override_ttl"));
        assert!(ttl(Some("soon"), max).is_err());
    }
}
