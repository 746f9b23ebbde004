//! `/scorecard`: the risk items of every team, a cell changed by its team or
//! an admin, and the history that shows whether risk goes down.

use actix_web::{HttpResponse, web};
use chrono::{Duration, Utc};
use serde::Deserialize;
use serde_json::Value;

use crate::error::Error;
use crate::gate::{CellView, Gate, HISTORY_DAYS_MAX, History, HistoryQuery, ScorecardView, scorecard};
use crate::http::auth::TeamEditor;
use crate::http::params;
use crate::http::strict::{Known, Query};
use crate::policy::CellSpec;

/// The matrix teams x items: each cell as written and what it counts as now.
#[utoipa::path(get, path = "/scorecard", tag = "teams", responses((status = 200, body = ScorecardView)))]
pub async fn get(gate: web::Data<Gate>) -> HttpResponse {
    HttpResponse::Ok().json(scorecard(&gate.live(), Utc::now()))
}

/// Set one team's cell for one item: an admin, or a `team` token whose teams cover the team.
#[utoipa::path(put, path = "/teams/{name}/scorecard/{item}", tag = "teams",
    params(("name" = String, Path), ("item" = String, Path)), request_body = CellSpec, security(("bearer" = [])),
    responses((status = 200, description = "Replaced", body = CellView), (status = 201, description = "Set for the first time", body = CellView)))]
pub async fn put(
    editor: TeamEditor,
    gate: web::Data<Gate>,
    path: web::Path<(String, String)>,
    body: web::Json<Value>,
) -> Result<HttpResponse, Error> {
    let (team, item) = path.into_inner();
    let team = params::name("name", Some(&team), "payments")?;
    let (view, created) = gate.put_cell(team.as_str(), &item, body.into_inner(), &editor.0, Utc::now()).await?;
    Ok(if created { HttpResponse::Created().json(view) } else { HttpResponse::Ok().json(view) })
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HistoryParams {
    /// One team's cells only.
    team: Option<String>,
    /// One item's cells only.
    item: Option<String>,
    /// A date (2026-09-01) or RFC 3339 time, at most 366 days ago; default 90 days ago.
    since: Option<String>,
}

impl Known for HistoryParams {
    const FIELDS: &'static [&'static str] = &["team", "item", "since"];
}

/// Read and check `/scorecard/history`'s parameters.
pub fn history_query(p: &HistoryParams, now: chrono::DateTime<Utc>) -> Result<HistoryQuery, Error> {
    let team = params::optional_name("team", p.team.as_deref())?.map(|n| n.to_string());
    let item = p.item.as_deref().filter(|i| !i.is_empty()).map(str::to_string);
    let since = params::instant_or_date("since", p.since.as_deref())?;
    if let Some(s) = since {
        if s > now {
            return Err(Error::invalid_parameter("since", "since is in the future; give a past date, e.g. 2026-09-01"));
        }
        if now - s > Duration::days(HISTORY_DAYS_MAX) {
            return Err(Error::invalid_parameter(
                "since",
                format!("since reaches back more than {HISTORY_DAYS_MAX} days; give a later date"),
            ));
        }
    }
    Ok(HistoryQuery { team, item, since })
}

/// The cell changes since `since`, oldest first, and per day how many cells
/// were green, yellow, red and unassessed (an overdue yellow counting as red).
#[utoipa::path(get, path = "/scorecard/history", tag = "teams", params(HistoryParams),
    responses((status = 200, body = History)))]
pub async fn history(gate: web::Data<Gate>, query: Query<HistoryParams>) -> Result<HttpResponse, Error> {
    let now = Utc::now();
    let q = history_query(&query, now)?;
    Ok(HttpResponse::Ok().json(gate.scorecard_history(&q, now).await?))
}
