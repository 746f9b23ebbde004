//! `/can-deploy`: the question CI asks before every deploy.

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::http::error::ApiError;
use crate::http::params;
use crate::http::state::AppState;
use crate::policy::{Decision, decide};

#[derive(Debug, Default, Deserialize)]
pub struct DecisionQuery {
    team: Option<String>,
    service: Option<String>,
    environment: Option<String>,
    expected_duration: Option<String>,
    at: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct DecisionBody {
    team: Option<String>,
    service: Option<String>,
    environment: Option<String>,
    expected_duration: Option<String>,
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

pub async fn get(
    state: web::Data<AppState>,
    query: web::Query<DecisionQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    answer(&state, q, Utc::now())
}

pub async fn post(
    state: web::Data<AppState>,
    body: web::Json<DecisionBody>,
) -> Result<HttpResponse, ApiError> {
    let b = body.into_inner();
    let q = DecisionQuery {
        team: b.team,
        service: b.service,
        environment: b.environment,
        expected_duration: b.expected_duration,
        at: b.at,
    };
    let _caller = (b.actor, b.pipeline_url, b.commit);
    answer(&state, q, Utc::now())
}

fn answer(
    state: &AppState,
    q: DecisionQuery,
    now: DateTime<Utc>,
) -> Result<HttpResponse, ApiError> {
    let target = params::target(
        q.team.as_deref(),
        q.service.as_deref(),
        q.environment.as_deref(),
    )?;
    let expected = params::expected_duration(q.expected_duration.as_deref())?;
    let at = params::instant("at", q.at.as_deref())?;
    let live = state.live();
    let t = at.unwrap_or(now);
    let decision = decide(&live.rules, &target, t, expected, &[]);
    let body = DecisionResponse {
        decision: &decision,
        decision_id: uuid::Uuid::new_v4().to_string(),
        simulated: at.is_some(),
    };
    let mut response = HttpResponse::Ok();
    if let (false, Some(next)) = (decision.allowed, decision.next_allowed_at) {
        let millis = (next - t).num_milliseconds().max(0);
        let seconds = (millis + 999) / 1000;
        response.insert_header((header::RETRY_AFTER, seconds.max(1).to_string()));
    }
    Ok(response.json(body))
}
