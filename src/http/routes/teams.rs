//! `/teams`: each team's risk status and what it counts as now.

use actix_web::{HttpResponse, web};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use serde_json::Value;

use crate::http::auth::Admin;
use crate::http::error::ApiError;
use crate::http::openapi::ErrorBody;
use crate::http::params;
use crate::http::state::{AppState, team_from_json};
#[allow(unused_imports)]
use crate::policy::TeamSpec;
use crate::policy::{Source, Status, Team};

#[derive(Serialize, utoipa::ToSchema)]
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

/// Every team: status, effective status (an overdue yellow plan counts as red), plan.
#[utoipa::path(get, path = "/teams", tag = "teams", responses((status = 200, body = Vec<TeamView>)))]
pub async fn list(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let now = Utc::now();
    let live = state.live();
    let views: Vec<TeamView> = live.rules.teams().map(|t| TeamView::at(t, now)).collect();
    Ok(HttpResponse::Ok().json(views))
}

/// One team.
#[utoipa::path(get, path = "/teams/{name}", tag = "teams", params(("name" = String, Path)),
    responses((status = 200, body = TeamView), (status = 404, body = ErrorBody)))]
pub async fn one(state: web::Data<AppState>, name: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let live = state.live();
    let team = live.rules.team(&name).ok_or_else(|| ApiError::NotFound {
        code: "team_not_found",
        message: format!("no team is named `{}`; GET /teams lists them", name.escape_debug()),
    })?;
    Ok(HttpResponse::Ok().json(TeamView::at(team, Utc::now())))
}

/// Set a team's status, plan and due date (the name comes from the path).
#[utoipa::path(put, path = "/teams/{name}", tag = "teams", params(("name" = String, Path)), request_body = TeamSpec,
    security(("bearer" = [])),
    responses((status = 200, description = "Replaced", body = TeamView), (status = 201, description = "Created", body = TeamView),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 409, description = "A config file defines it", body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn put(
    admin: Admin,
    state: web::Data<AppState>,
    name: web::Path<String>,
    body: web::Json<Value>,
) -> Result<HttpResponse, ApiError> {
    if state.config_defines_team(&name) {
        return Err(ApiError::Conflict {
            code: "defined_in_config",
            message: format!("team `{name}` comes from a config file; change it there (in git), not through the API"),
        });
    }
    let body = params::body_keyed(body.into_inner(), "name", &name, "{\"status\": \"green\"}")?;
    let team = team_from_json(&body).map_err(ApiError::Invalid)?;
    let spec = serde_json::to_value(&team.spec).map_err(anyhow::Error::from)?;
    let now = Utc::now();
    let before = state.store.put_team(&name, &spec, &admin.0.name, now).await?;
    state.set_api_team(team, now);
    tracing::info!(team = %name, by = %admin.0.name, "team saved");
    let live = state.live();
    let team = live.rules.team(&name).ok_or_else(|| anyhow::anyhow!("team {name} missing after save"))?;
    let view = TeamView::at(team, now);
    Ok(if before.is_some() { HttpResponse::Ok().json(view) } else { HttpResponse::Created().json(view) })
}
