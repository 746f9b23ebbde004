//! `/teams/{name}/process`: a team's process map, its lead time and flow
//! efficiency, and beside it what deploy-gate itself saw: how long the
//! team's pipelines waited on the gate over the last 30 days.

use std::sync::Arc;

use actix_web::{HttpResponse, web};
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use crate::error::Error;
use crate::gate::{Gate, team_not_found};
use crate::http::params;
use crate::process_maps::{self, Flow, ProcessMap, Step, short_duration};

/// How far back the gate wait beside the map looks.
const GATE_WAIT_DAYS: i64 = 30;

/// How long the team's pipelines waited on the gate: from a pipeline's first
/// denied decision to its allowed one, from the audit log.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct GateWait {
    pub since: DateTime<Utc>,
    pub until: DateTime<Utc>,
    /// Pipelines that were denied and later allowed.
    pub pipelines: usize,
    pub median_seconds: Option<f64>,
    pub total_seconds: f64,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct ProcessView {
    pub team: String,
    pub steps: Vec<Step>,
    /// Null for a team with no steps.
    pub lead_time: Option<String>,
    #[serde(flatten)]
    pub flow: Option<Flow>,
    pub gate_wait: GateWait,
}

async fn view(gate: &Gate, name: &str) -> Result<ProcessView, Error> {
    let team = params::name("name", Some(name), "payments")?;
    let live = gate.live();
    if live.rules.team(team.as_str()).is_none() {
        return Err(team_not_found(team.as_str()));
    }
    let map: Arc<ProcessMap> = live.processes.get(team.as_str()).cloned().unwrap_or_default();
    let now = Utc::now();
    let since = now - Duration::days(GATE_WAIT_DAYS);
    let stats = gate.delivery_stats(Some(team.to_string()), None, since, now).await?;
    let flow = map.flow();
    Ok(ProcessView {
        team: team.to_string(),
        steps: map.steps.clone(),
        lead_time: flow.map(|f| short_duration(f.lead_time_seconds)),
        flow,
        gate_wait: GateWait {
            since,
            until: now,
            pipelines: stats.gate_wait_samples,
            median_seconds: stats.gate_wait,
            total_seconds: stats.gate_wait_total,
        },
    })
}

/// The team's steps, in order, with lead time (the sum of the typical
/// durations) and flow efficiency (work / lead time), and how long its
/// pipelines waited on the gate over the last 30 days.
#[utoipa::path(get, path = "/teams/{name}/process", tag = "teams", params(("name" = String, Path)),
    responses((status = 200, body = ProcessView)))]
pub async fn get(gate: web::Data<Gate>, path: web::Path<String>) -> Result<HttpResponse, Error> {
    Ok(HttpResponse::Ok().json(view(&gate, &path.into_inner()).await?))
}

/// The map drawn left to right: work solid, waits hatched and dashed, pain
/// points marked; the gate wait under it.
#[utoipa::path(get, path = "/teams/{name}/process.svg", tag = "teams", params(("name" = String, Path)),
    responses((status = 200, content_type = "image/svg+xml", body = String)))]
pub async fn svg(gate: web::Data<Gate>, path: web::Path<String>) -> Result<HttpResponse, Error> {
    let v = view(&gate, &path.into_inner()).await?;
    let w = &v.gate_wait;
    let line = match w.median_seconds {
        Some(median) => format!(
            "Waiting on deploy-gate, last {GATE_WAIT_DAYS} days: {} held, median {}, {} in all (first deny to allow).",
            if w.pipelines == 1 { "1 pipeline".to_string() } else { format!("{} pipelines", w.pipelines) },
            short_duration(median.round() as u64),
            short_duration(w.total_seconds.round() as u64)
        ),
        None => format!("Waiting on deploy-gate, last {GATE_WAIT_DAYS} days: no pipeline was held."),
    };
    let map = ProcessMap { steps: v.steps };
    Ok(HttpResponse::Ok()
        .content_type("image/svg+xml")
        .insert_header(("cache-control", "no-store"))
        .body(process_maps::svg(&v.team, &map, Some(&line))))
}
