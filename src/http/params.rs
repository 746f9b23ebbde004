//! Parsing request parameters into domain types, with messages that say what to fix.

use chrono::{DateTime, Duration, Utc};

use super::error::ApiError;
use crate::config::parse_duration_text;
use crate::policy::{Name, Target};

/// The longest `expected_duration` a decision looks ahead.
const MAX_EXPECTED: Duration = Duration::days(7);

pub fn name(field: &str, value: Option<&str>, example: &str) -> Result<Name, ApiError> {
    let text = value.filter(|v| !v.is_empty()).ok_or_else(|| ApiError::missing(field, example))?;
    Name::parse(field, text).map_err(|m| ApiError::bad("invalid_parameter", field, m))
}

/// An optional name; empty counts as absent (CI templates often send `service=`).
pub fn optional_name(field: &str, value: Option<&str>) -> Result<Option<Name>, ApiError> {
    match value.filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(text) => Name::parse(field, text).map(Some).map_err(|m| ApiError::bad("invalid_parameter", field, m)),
    }
}

pub fn target(team: Option<&str>, service: Option<&str>, environment: Option<&str>) -> Result<Target, ApiError> {
    Ok(Target {
        team: name("team", team, "payments")?,
        service: optional_name("service", service)?,
        environment: name("environment", environment, "production")?,
    })
}

pub fn instant(field: &str, value: Option<&str>) -> Result<Option<DateTime<Utc>>, ApiError> {
    match value.filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(text) => DateTime::parse_from_rfc3339(text).map(|t| Some(t.with_timezone(&Utc))).map_err(|_| {
            ApiError::bad(
                "invalid_parameter",
                field,
                format!("{field} `{text}` is not an RFC 3339 time; write e.g. 2026-11-27T18:00:00Z (in a URL, + must be sent as %2B)"),
            )
        }),
    }
}

pub fn expected_duration(value: Option<&str>) -> Result<Option<Duration>, ApiError> {
    match value.filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(text) => {
            let d =
                parse_duration_text(text).map_err(|m| ApiError::bad("invalid_parameter", "expected_duration", m))?;
            if d > MAX_EXPECTED {
                return Err(ApiError::bad(
                    "invalid_parameter",
                    "expected_duration",
                    format!("`{text}` is longer than 7 days"),
                ));
            }
            Ok(Some(d))
        }
    }
}

/// A page size: `default` when absent, at most `max`.
pub fn limit(value: Option<&str>, default: i64, max: i64) -> Result<i64, ApiError> {
    match value.filter(|v| !v.is_empty()) {
        None => Ok(default),
        Some(text) => match text.parse::<i64>() {
            Ok(n) if (1..=max).contains(&n) => Ok(n),
            _ => Err(ApiError::bad("invalid_parameter", "limit", format!("limit must be a number from 1 to {max}"))),
        },
    }
}

/// A JSON body that names what it defines by `key` (a window's `id`, a
/// team's `name`) where the path names it too: absent takes the path's
/// value; a different one is refused.
pub fn body_keyed(
    mut body: serde_json::Value,
    key: &str,
    from_path: &str,
    example: &str,
) -> Result<serde_json::Value, ApiError> {
    use serde_json::Value;
    let Some(map) = body.as_object_mut() else {
        return Err(ApiError::bad("invalid_json", "body", format!("the body must be a JSON object such as {example}")));
    };
    match map.get(key) {
        None | Some(Value::Null) => {
            map.insert(key.into(), Value::String(from_path.to_string()));
        }
        Some(Value::String(given)) if given == from_path => {}
        Some(_) => {
            return Err(ApiError::Invalid(vec![crate::config::Problem::new(
                None,
                "",
                key,
                "invalid_value",
                format!("does not match the {key} in the path, `{from_path}`"),
            )]));
        }
    }
    Ok(body)
}
