//! `/can-deploy`: the question CI asks before every deploy.

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::http::auth::DecisionCaller;
use crate::http::error::ApiError;
use crate::http::openapi::ErrorBody;
use crate::http::params;
use crate::http::state::AppState;
use crate::policy::{Decision, Target, decide};
use crate::store::AuditEntry;

/// The same fields as a query string (GET) or a JSON body (POST).
#[derive(Debug, Default, Deserialize, utoipa::ToSchema, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DecisionRequest {
    /// The team that owns what is deployed.
    team: Option<String>,
    /// The service deployed; absent means the team's whole surface.
    service: Option<String>,
    /// Where, e.g. `production`.
    environment: Option<String>,
    /// How long the deploy takes (`20m`): also deny if a freeze opens or the deploy window closes meanwhile.
    expected_duration: Option<String>,
    /// RFC 3339: simulate the decision at this instant (not audited).
    at: Option<String>,
    /// Who or what asked, for the audit log.
    actor: Option<String>,
    pipeline_url: Option<String>,
    commit: Option<String>,
}

#[derive(Serialize)]
struct DecisionResponse<'a> {
    #[serde(flatten)]
    decision: &'a Decision,
    decision_id: String,
    simulated: bool,
}

/// May this target deploy now? Always 200 for a decision.
#[utoipa::path(get, path = "/can-deploy", tag = "decisions", params(DecisionRequest),
    responses(
        (status = 200, description = "The decision, with every reason", body = Decision,
            headers(("Retry-After" = u64, description = "On deny: seconds until next_allowed_at, when known"))),
        (status = 400, description = "A parameter is missing or malformed", body = ErrorBody),
        (status = 401, description = "A token is needed ([auth] decisions_need_token) or unknown", body = ErrorBody),
        (status = 503, description = "The decision could not be recorded in the audit log", body = ErrorBody)))]
pub async fn get(
    caller: DecisionCaller,
    state: web::Data<AppState>,
    query: web::Query<DecisionRequest>,
) -> Result<HttpResponse, ApiError> {
    answer(&state, caller, query.into_inner(), Utc::now()).await
}

/// The same question with a JSON body.
#[utoipa::path(post, path = "/can-deploy", tag = "decisions", request_body = DecisionRequest,
    responses(
        (status = 200, description = "The decision, with every reason", body = Decision),
        (status = 400, description = "A parameter is missing or malformed", body = ErrorBody),
        (status = 401, description = "A token is needed or unknown", body = ErrorBody),
        (status = 503, description = "The decision could not be recorded in the audit log", body = ErrorBody)))]
pub async fn post(
    caller: DecisionCaller,
    state: web::Data<AppState>,
    body: web::Json<DecisionRequest>,
) -> Result<HttpResponse, ApiError> {
    answer(&state, caller, body.into_inner(), Utc::now()).await
}

/// Caller-supplied text kept in the audit log: bounded and printable.
fn caller_text(field: &str, value: Option<String>) -> Result<Option<String>, ApiError> {
    match value.filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) if v.len() > 512 || v.chars().any(char::is_control) => {
            Err(ApiError::bad("invalid_parameter", field, format!("{field} must be at most 512 printable characters")))
        }
        Some(v) => Ok(Some(v)),
    }
}

async fn answer(
    state: &AppState,
    caller: DecisionCaller,
    q: DecisionRequest,
    now: DateTime<Utc>,
) -> Result<HttpResponse, ApiError> {
    let target = params::target(q.team.as_deref(), q.service.as_deref(), q.environment.as_deref())?;
    let expected = params::expected_duration(q.expected_duration.as_deref())?;
    let at = params::instant("at", q.at.as_deref())?;
    let actor = caller_text("actor", q.actor)?;
    let pipeline_url = caller_text("pipeline_url", q.pipeline_url)?;
    let commit = caller_text("commit", q.commit)?;
    let live = state.live();
    let overrides = state.overrides();
    let t = at.unwrap_or(now);
    let decision = decide(&live.rules, &target, t, expected, &overrides);
    let decision_id = uuid::Uuid::new_v4().to_string();
    let simulated = at.is_some();
    tracing::info!(
        decision_id = %decision_id,
        team = %target.team,
        service = target.service.as_ref().map(|s| s.as_str()),
        environment = %target.environment,
        allowed = decision.allowed,
        reasons = ?decision.codes(),
        simulated,
        "decision"
    );
    if !simulated {
        state.metrics.decision(decision.allowed, target.environment.as_str(), &decision.codes());
        let entry = audit_entry(&target, &decision, &decision_id, caller, actor, pipeline_url, commit);
        state.audit.record(entry).await.map_err(|e| {
            tracing::error!(error = %format!("{e:#}"), decision_id = %decision_id, "decision not recorded");
            ApiError::Unavailable("the gate could not record this decision in its audit log; ask again".into())
        })?;
    }
    let body = DecisionResponse { decision: &decision, decision_id, simulated };
    let mut response = HttpResponse::Ok();
    if let (false, Some(next)) = (decision.allowed, decision.next_allowed_at) {
        let millis = (next - t).num_milliseconds().max(0);
        response.insert_header((header::RETRY_AFTER, ((millis + 999) / 1000).max(1).to_string()));
    }
    Ok(response.json(body))
}

fn audit_entry(
    target: &Target,
    decision: &Decision,
    decision_id: &str,
    caller: DecisionCaller,
    actor: Option<String>,
    pipeline_url: Option<String>,
    commit: Option<String>,
) -> AuditEntry {
    let token = caller.0.map(|c| c.name);
    let codes = |rs: &[crate::policy::Reason]| rs.iter().map(|r| r.code.as_str()).collect::<Vec<_>>();
    AuditEntry {
        kind: "decision".into(),
        at: decision.evaluated_at,
        actor: actor.clone().or_else(|| token.clone()),
        team: Some(target.team.to_string()),
        environment: Some(target.environment.to_string()),
        details: json!({
            "decision_id": decision_id,
            "target": target,
            "allowed": decision.allowed,
            "decision": decision.decision,
            "reasons": codes(&decision.reasons),
            "warnings": codes(&decision.warnings),
            "overridden": codes(&decision.overridden),
            "override_id": decision.override_.as_ref().map(|o| o.id.clone()),
            "next_allowed_at": decision.next_allowed_at,
            "actor": actor,
            "token": token,
            "pipeline_url": pipeline_url,
            "commit": commit,
        }),
    }
}
