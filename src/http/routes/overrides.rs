//! `/overrides`: emergency exceptions, time-limited, scoped and audited.

use actix_web::{HttpResponse, web};
use chrono::{Duration, Utc};
use serde::Deserialize;

use crate::config::{Problem, parse_duration_text};
use crate::http::auth::{Admin, Overrider};
use crate::http::error::ApiError;
use crate::http::openapi::ErrorBody;
use crate::http::params;
use crate::http::state::AppState;
use crate::policy::{Name, Override};
use crate::store::Revoked;

/// How long an override lasts when the request does not say.
const DEFAULT_TTL: Duration = Duration::hours(1);

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct NewOverride {
    team: Option<String>,
    service: Option<String>,
    environment: Option<String>,
    /// Why, in words others can act on later: at least two words and ten letters or digits.
    reason: Option<String>,
    ticket: Option<String>,
    /// How long: default 1h, at most `[auth] max_override_ttl`.
    ttl: Option<String>,
}

/// A reason someone reading the audit log later can act on: at least two
/// words and ten letters or digits, not "hotfix" or "urgent".
fn meaningful(reason: &str) -> bool {
    let words = reason.split_whitespace().count();
    let letters = reason.chars().filter(|c| c.is_alphanumeric()).count();
    words >= 2 && letters >= 10
}

fn problem(key: &str, code: &'static str, message: impl Into<String>) -> Problem {
    Problem::new(None, "", key, code, message)
}

/// Lift the gate in an emergency: time-limited, scoped to the token's teams and environments, audited.
#[utoipa::path(post, path = "/overrides", tag = "overrides", request_body = NewOverride, security(("bearer" = [])),
    responses((status = 201, body = Override), (status = 401, body = ErrorBody),
        (status = 403, description = "Not an override or admin token, or out of its scope", body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn create(
    caller: Overrider,
    state: web::Data<AppState>,
    body: web::Json<NewOverride>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let caller = caller.0;
    let live = state.live();
    let mut problems = Vec::new();
    let mut name = |key: &str, value: Option<&str>, example: &str| match value.filter(|v| !v.is_empty()) {
        None => {
            problems.push(problem(key, "missing_field", format!("is required, e.g. \"{key}\": \"{example}\"")));
            None
        }
        Some(v) => Name::parse(key, v).map_err(|m| problems.push(problem(key, "invalid_value", m))).ok(),
    };
    let team = name("team", body.team.as_deref(), "payments");
    let environment = name("environment", body.environment.as_deref(), "production");
    let service = params::optional_name("service", body.service.as_deref())?;
    let reason = body.reason.as_deref().map(str::trim).unwrap_or_default().to_string();
    if !meaningful(&reason) {
        problems.push(problem(
            "reason",
            "invalid_value",
            "must say why, in a few words others can act on later, e.g. \"Hotfix for checkout outage INC-4211\"",
        ));
    } else if reason.len() > 1000 {
        problems.push(problem("reason", "invalid_value", "is longer than 1000 characters"));
    }
    let ticket = body.ticket.filter(|t| !t.trim().is_empty());
    if ticket.as_ref().is_some_and(|t| t.len() > 200) {
        problems.push(problem("ticket", "invalid_value", "is longer than 200 characters"));
    }
    let max = live.settings.max_override_ttl;
    let ttl = match body.ttl.as_deref().filter(|t| !t.is_empty()) {
        None => Some(DEFAULT_TTL.min(max)),
        Some(text) => match parse_duration_text(text) {
            Ok(d) if d > max => {
                let max_text = humantime::format_duration(max.to_std().unwrap_or_default());
                problems.push(problem(
                    "ttl",
                    "invalid_duration",
                    format!("`{text}` is longer than [auth] max_override_ttl ({max_text})"),
                ));
                None
            }
            Ok(d) => Some(d),
            Err(m) => {
                problems.push(problem("ttl", "invalid_duration", m));
                None
            }
        },
    };
    let (Some(team), Some(environment), Some(ttl)) = (team, environment, ttl) else {
        return Err(ApiError::Invalid(problems));
    };
    if !problems.is_empty() {
        return Err(ApiError::Invalid(problems));
    }
    if !caller.in_scope(team.as_str(), environment.as_str()) {
        return Err(ApiError::Forbidden(format!(
            "token '{}' may not override for team {team} in {environment}; its scope is its configured teams and environments",
            caller.name
        )));
    }
    let now = Utc::now();
    let o = Override {
        id: format!("ovr-{}", uuid::Uuid::new_v4().simple()),
        team,
        service,
        environment,
        reason,
        ticket,
        created_by: caller.name.clone(),
        created_at: now,
        expires_at: now + ttl,
        revoked_at: None,
        revoked_by: None,
    };
    state.store.create_override(&o).await?;
    state.refresh_overrides(now).await?;
    tracing::warn!(
        override_id = %o.id, team = %o.team, environment = %o.environment, by = %o.created_by,
        expires_at = %o.expires_at, reason = %o.reason, "override created"
    );
    Ok(HttpResponse::Created().json(o))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// `true`: only overrides in force.
    active: Option<String>,
    limit: Option<String>,
}

/// Overrides, newest first.
#[utoipa::path(get, path = "/overrides", tag = "overrides", params(ListQuery), security(("bearer" = [])),
    responses((status = 200, body = Vec<Override>), (status = 400, description = "A parameter is missing or malformed", body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn list(
    _caller: Overrider,
    state: web::Data<AppState>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let active = match query.active.as_deref() {
        None | Some("") | Some("false") => false,
        Some("true") => true,
        Some(other) => {
            return Err(ApiError::bad(
                "invalid_parameter",
                "active",
                format!("active `{other}` must be true or false"),
            ));
        }
    };
    let limit = params::limit(query.limit.as_deref(), 200, 1000)?;
    let now = Utc::now();
    let list = if active { state.store.active_overrides(now).await? } else { state.store.overrides(limit).await? };
    Ok(HttpResponse::Ok().json(list.into_iter().take(limit as usize).collect::<Vec<_>>()))
}

/// Revoke an override early.
#[utoipa::path(delete, path = "/overrides/{id}", tag = "overrides", params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = Override), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, description = "It already ended", body = ErrorBody)))]
pub async fn revoke(admin: Admin, state: web::Data<AppState>, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let now = Utc::now();
    match state.store.revoke_override(&id, &admin.0.name, now).await? {
        Revoked::Now(o) => {
            state.refresh_overrides(now).await?;
            tracing::warn!(override_id = %o.id, by = %admin.0.name, "override revoked");
            Ok(HttpResponse::Ok().json(o))
        }
        Revoked::AlreadyEnded(o) => Err(ApiError::Conflict {
            code: "override_ended",
            message: format!("override {} already ended at {}", o.id, o.ends_at().to_rfc3339()),
        }),
        Revoked::NotFound => Err(ApiError::NotFound {
            code: "override_not_found",
            message: format!("no override has id `{}`; GET /overrides lists them", id.escape_debug()),
        }),
    }
}
