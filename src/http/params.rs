//! Request parameters into domain types, with messages that say what to fix.

use chrono::{DateTime, Duration, Utc};

use crate::config::parse_duration_text;
use crate::error::Error;
use crate::gate::{CalendarQuery, Question};
use crate::policy::{Name, Target};
use crate::wire::DecisionRequest;

/// The longest `expected_duration` a decision looks ahead.
const MAX_EXPECTED: Duration = Duration::days(7);
/// The default calendar range, from `from`.
pub const CALENDAR_SPAN: Duration = Duration::days(14);

pub fn name(field: &str, value: Option<&str>, example: &str) -> Result<Name, Error> {
    let text = value.filter(|v| !v.is_empty()).ok_or_else(|| Error::missing(field, example))?;
    Name::parse(field, text).map_err(|m| Error::invalid_parameter(field, m))
}

/// An optional name; empty counts as absent (CI templates often send `service=`).
pub fn optional_name(field: &str, value: Option<&str>) -> Result<Option<Name>, Error> {
    match value.filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(text) => Name::parse(field, text).map(Some).map_err(|m| Error::invalid_parameter(field, m)),
    }
}

pub fn target(team: Option<&str>, service: Option<&str>, environment: Option<&str>) -> Result<Target, Error> {
    Ok(Target {
        team: name("team", team, "payments")?,
        service: optional_name("service", service)?,
        environment: name("environment", environment, "production")?,
    })
}

pub fn instant(field: &str, value: Option<&str>) -> Result<Option<DateTime<Utc>>, Error> {
    match value.filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(text) => DateTime::parse_from_rfc3339(text).map(|t| Some(t.with_timezone(&Utc))).map_err(|_| {
            Error::invalid_parameter(
                field,
                format!("{field} `{text}` is not an RFC 3339 time; write e.g. 2026-11-27T18:00:00Z (in a URL, + must be sent as %2B)"),
            )
        }),
    }
}

/// An instant, or a date meaning its midnight UTC (`from=2026-12-01`).
pub fn instant_or_date(field: &str, value: Option<&str>) -> Result<Option<DateTime<Utc>>, Error> {
    if let Some(day) = value.and_then(|v| chrono::NaiveDate::parse_from_str(v, "%Y-%m-%d").ok()) {
        return Ok(Some(day.and_time(chrono::NaiveTime::MIN).and_utc()));
    }
    instant(field, value).map_err(|mut e| {
        e.message =
            e.message.replace("is not an RFC 3339 time;", "is neither a date (2026-12-01) nor an RFC 3339 time;");
        e
    })
}

pub fn expected_duration(value: Option<&str>) -> Result<Option<Duration>, Error> {
    match value.filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(text) => {
            let d = parse_duration_text(text).map_err(|m| Error::invalid_parameter("expected_duration", m))?;
            if d > MAX_EXPECTED {
                return Err(Error::invalid_parameter("expected_duration", format!("`{text}` is longer than 7 days")));
            }
            Ok(Some(d))
        }
    }
}

/// A page size: `default` when absent, at most `max`.
pub fn limit(value: Option<&str>, default: i64, max: i64) -> Result<i64, Error> {
    match value.filter(|v| !v.is_empty()) {
        None => Ok(default),
        Some(text) => match text.parse::<i64>() {
            Ok(n) if (1..=max).contains(&n) => Ok(n),
            _ => Err(Error::invalid_parameter("limit", format!("limit must be a number from 1 to {max}"))),
        },
    }
}

/// Caller-supplied text kept in the audit log: bounded and printable.
pub fn caller_text(field: &str, value: Option<String>) -> Result<Option<String>, Error> {
    match value.filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) if v.len() > 512 || v.chars().any(char::is_control) => {
            Err(Error::invalid_parameter(field, format!("{field} must be at most 512 printable characters")))
        }
        Some(v) => Ok(Some(v)),
    }
}

/// The question a `/can-deploy` request asks.
pub fn question(q: DecisionRequest) -> Result<Question, Error> {
    Ok(Question {
        target: target(q.team.as_deref(), q.service.as_deref(), q.environment.as_deref())?,
        expected: expected_duration(q.expected_duration.as_deref())?,
        at: instant("at", q.at.as_deref())?,
        actor: caller_text("actor", q.actor)?,
        pipeline_url: caller_text("pipeline_url", q.pipeline_url)?,
        commit: caller_text("commit", q.commit)?,
    })
}

/// A calendar range and filters; `to` defaults to `span` after `from`.
pub fn calendar(
    q: &crate::http::routes::calendar::CalendarParams,
    now: DateTime<Utc>,
    span: Duration,
) -> Result<CalendarQuery, Error> {
    let from = instant_or_date("from", q.from.as_deref())?.unwrap_or(now);
    let to = instant_or_date("to", q.to.as_deref())?.unwrap_or(from + span);
    CalendarQuery::check_range(from, to)?;
    Ok(CalendarQuery {
        from,
        to,
        team: optional_name("team", q.team.as_deref())?,
        service: optional_name("service", q.service.as_deref())?,
        environment: optional_name("environment", q.environment.as_deref())?,
    })
}

/// The `Idempotency-Key` header, if sent (its form is checked by the core).
pub fn idempotency_key(req: &actix_web::HttpRequest) -> Result<Option<String>, Error> {
    match req.headers().get("idempotency-key") {
        None => Ok(None),
        Some(v) => v.to_str().map(|k| Some(k.to_string())).map_err(|_| {
            Error::field(
                crate::error::ErrorCode::InvalidHeader,
                "Idempotency-Key",
                "Idempotency-Key must be 1 to 128 printable ASCII characters, e.g. a UUID",
            )
        }),
    }
}

/// A created thing's answer: 201 now, or the answer recorded for the same
/// idempotency key, marked as such.
pub fn made<T: serde::Serialize>(m: crate::gate::Made<T>) -> actix_web::HttpResponse {
    use actix_web::http::StatusCode;
    match m {
        crate::gate::Made::Now(body) => actix_web::HttpResponse::Created().json(body),
        crate::gate::Made::Replayed { status, body } => {
            actix_web::HttpResponse::build(StatusCode::from_u16(status).unwrap_or(StatusCode::CREATED))
                .insert_header(("idempotency-replayed", "true"))
                .json(body)
        }
    }
}
