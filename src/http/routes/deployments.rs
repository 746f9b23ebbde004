//! `/deployments`: deployments as CI reports them, and `/stats/delivery`.

use actix_web::{HttpResponse, web};
use chrono::{Duration, Utc};
use serde::Deserialize;

use crate::error::Error;
use crate::gate::{DeliveryStats, Gate, Report};
use crate::http::auth::Reporter;
use crate::http::params;
use crate::http::strict::{self, Known, Query};
use crate::store::DeploymentFilter;
use crate::wire::{Deployment, DeploymentReport, DeploymentStatus};

/// The longest text a report's free fields take.
const MAX_TEXT: usize = 512;

/// A deployment id: 1 to 64 letters, digits, `.`, `_`, `-`.
fn deployment_id(id: Option<String>) -> Result<Option<String>, Error> {
    match id.filter(|i| !i.is_empty()) {
        None => Ok(None),
        Some(i) if i.len() <= 64 && i.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')) => {
            Ok(Some(i))
        }
        Some(_) => Err(Error::invalid_parameter("id", "id must be 1 to 64 letters, digits, `.`, `_` or `-`")),
    }
}

fn text(field: &str, value: Option<String>) -> Result<Option<String>, Error> {
    let v = params::caller_text(field, value)?;
    match v {
        Some(t) if t.len() > MAX_TEXT => {
            Err(Error::invalid_parameter(field, format!("{field} must be at most {MAX_TEXT} characters")))
        }
        v => Ok(v),
    }
}

/// A report's fields, checked.
pub fn report(r: DeploymentReport) -> Result<Report, Error> {
    let status_text = r.status.filter(|s| !s.is_empty()).ok_or_else(|| Error::missing("status", "succeeded"))?;
    let status = DeploymentStatus::parse(&status_text).ok_or_else(|| {
        Error::invalid_parameter(
            "status",
            format!("status `{}` is not one of started, succeeded, failed, rolled_back", status_text.escape_debug()),
        )
    })?;
    Ok(Report {
        id: deployment_id(r.id)?,
        target: params::target(r.team.as_deref(), r.service.as_deref(), r.environment.as_deref())?,
        status,
        decision_id: text("decision_id", r.decision_id)?,
        version: text("version", r.version)?,
        commit: text("commit", r.commit)?,
        pipeline_url: text("pipeline_url", r.pipeline_url)?,
        started_at: params::instant("started_at", r.started_at.as_deref())?,
        finished_at: params::instant("finished_at", r.finished_at.as_deref())?,
    })
}

/// Report a deployment: its start, then its outcome (same `id`). Role
/// `deploy` or `admin`, or an `override` token for its own teams.
#[utoipa::path(post, path = "/deployments", tag = "deployments", request_body = DeploymentReport, security(("bearer" = [])),
    responses((status = 201, description = "A new deployment", body = Deployment), (status = 200, description = "Updated", body = Deployment)))]
pub async fn report_route(
    caller: Reporter,
    gate: web::Data<Gate>,
    body: web::Json<serde_json::Value>,
) -> Result<HttpResponse, Error> {
    let r = report(strict::body(body.into_inner())?)?;
    let (d, created) = gate.report_deployment(r, &caller.0, Utc::now()).await?;
    Ok(if created { HttpResponse::Created().json(d) } else { HttpResponse::Ok().json(d) })
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    team: Option<String>,
    service: Option<String>,
    environment: Option<String>,
    /// A date or RFC 3339 time: deployments started then or later.
    since: Option<String>,
    /// At most this many (default 100, at most 1000).
    limit: Option<String>,
}

impl Known for ListQuery {
    const FIELDS: &'static [&'static str] = &["team", "service", "environment", "since", "limit"];
}

/// Deployments, newest first.
#[utoipa::path(get, path = "/deployments", tag = "deployments", params(ListQuery), responses((status = 200, body = Vec<Deployment>)))]
pub async fn list(gate: web::Data<Gate>, query: Query<ListQuery>) -> Result<HttpResponse, Error> {
    let q = query.into_inner();
    let filter = DeploymentFilter {
        team: params::optional_name("team", q.team.as_deref())?.map(|n| n.to_string()),
        service: params::optional_name("service", q.service.as_deref())?.map(|n| n.to_string()),
        environment: params::optional_name("environment", q.environment.as_deref())?.map(|n| n.to_string()),
        since: params::instant_or_date("since", q.since.as_deref())?,
        limit: params::limit(q.limit.as_deref(), 100, 1000)?,
    };
    Ok(HttpResponse::Ok().json(gate.deployments(&filter).await?))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StatsQuery {
    team: Option<String>,
    environment: Option<String>,
    /// A date or RFC 3339 time; default 28 days ago, at most 366.
    since: Option<String>,
}

impl Known for StatsQuery {
    const FIELDS: &'static [&'static str] = &["team", "environment", "since"];
}

/// Deployments per week, change failure rate, time to restore, and how long
/// pipelines waited on the gate; durations in seconds.
#[utoipa::path(get, path = "/stats/delivery", tag = "deployments", params(StatsQuery), responses((status = 200, body = DeliveryStats)))]
pub async fn delivery(gate: web::Data<Gate>, query: Query<StatsQuery>) -> Result<HttpResponse, Error> {
    let now = Utc::now();
    let q = query.into_inner();
    let team = params::optional_name("team", q.team.as_deref())?.map(|n| n.to_string());
    let environment = params::optional_name("environment", q.environment.as_deref())?.map(|n| n.to_string());
    let since = params::instant_or_date("since", q.since.as_deref())?.unwrap_or(now - Duration::days(28));
    if since >= now || now - since > Duration::days(366) {
        return Err(Error::invalid_parameter("since", "since must be in the past, at most 366 days ago"));
    }
    Ok(HttpResponse::Ok().json(gate.delivery_stats(team, environment, since, now).await?))
}
