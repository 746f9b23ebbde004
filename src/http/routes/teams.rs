//! `/teams`: each team's risk status and what it counts as now.

use actix_web::{HttpResponse, web};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use crate::http::error::ApiError;
use crate::http::state::AppState;
use crate::policy::{Source, Status, Team};

#[derive(Serialize)]
pub struct TeamView<'a> {
    pub name: &'a str,
    pub status: Status,
    pub effective_status: Status,
    pub overdue: bool,
    pub plan: Option<&'a str>,
    pub plan_due: Option<NaiveDate>,
    pub timezone: &'a str,
    pub source: &'a Source,
}

impl<'a> TeamView<'a> {
    pub fn at(team: &'a Team, t: DateTime<Utc>) -> TeamView<'a> {
        TeamView {
            name: team.name.as_str(),
            status: team.status(),
            effective_status: team.effective_status(t),
            overdue: team.overdue(t),
            plan: team.spec.plan.as_deref(),
            plan_due: team.spec.plan_due,
            timezone: &team.spec.timezone,
            source: &team.source,
        }
    }
}

pub async fn list(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let now = Utc::now();
    let live = state.live();
    let views: Vec<TeamView> = live.rules.teams().map(|t| TeamView::at(t, now)).collect();
    Ok(HttpResponse::Ok().json(views))
}

pub async fn one(
    state: web::Data<AppState>,
    name: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let live = state.live();
    let team = live.rules.team(&name).ok_or_else(|| ApiError::NotFound {
        code: "team_not_found",
        message: format!(
            "no team is named `{}`; GET /teams lists them",
            name.escape_debug()
        ),
    })?;
    Ok(HttpResponse::Ok().json(TeamView::at(team, Utc::now())))
}
