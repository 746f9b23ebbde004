//! `/can-deploy`: the question CI asks before every deploy.

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use chrono::Utc;

use crate::error::Error;
use crate::gate::Gate;
use crate::http::auth::DecisionCaller;
use crate::http::metrics::Metrics;
use crate::http::params;
use crate::http::strict::{self, Query};
use crate::wire::{Answer, DecisionRequest};

/// May this target deploy now? Always 200 for a decision.
#[utoipa::path(get, path = "/can-deploy", tag = "decisions", params(DecisionRequest),
    responses((status = 200, description = "The decision, with every reason", body = Answer,
        headers(("Retry-After" = u64, description = "On deny: seconds until next_allowed_at, when known")))))]
pub async fn get(
    caller: DecisionCaller,
    gate: web::Data<Gate>,
    metrics: web::Data<Metrics>,
    query: Query<DecisionRequest>,
) -> Result<HttpResponse, Error> {
    answer(&gate, &metrics, caller, query.into_inner()).await
}

/// The same question with a JSON body.
#[utoipa::path(post, path = "/can-deploy", tag = "decisions", request_body = DecisionRequest,
    responses((status = 200, description = "The decision, with every reason", body = Answer)))]
pub async fn post(
    caller: DecisionCaller,
    gate: web::Data<Gate>,
    metrics: web::Data<Metrics>,
    body: web::Json<serde_json::Value>,
) -> Result<HttpResponse, Error> {
    answer(&gate, &metrics, caller, strict::body(body.into_inner())?).await
}

async fn answer(
    gate: &Gate,
    metrics: &Metrics,
    caller: DecisionCaller,
    q: DecisionRequest,
) -> Result<HttpResponse, Error> {
    let question = params::question(q)?;
    let environment = question.target.environment.clone();
    let answer = gate.ask(question, caller.0.as_ref(), Utc::now()).await?;
    let d = &answer.decision;
    if !answer.simulated {
        metrics.decision(d.allowed, environment.as_str(), &d.codes());
    }
    let mut response = HttpResponse::Ok();
    if let (false, Some(next)) = (d.allowed, d.next_allowed_at) {
        let millis = (next - d.evaluated_at).num_milliseconds().max(0);
        response.insert_header((header::RETRY_AFTER, ((millis + 999) / 1000).max(1).to_string()));
    }
    Ok(response.json(answer))
}
