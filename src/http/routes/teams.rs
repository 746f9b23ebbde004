//! `/teams`: each team's risk status and what it counts as now.

use std::collections::BTreeMap;

use actix_web::{HttpResponse, web};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use serde_json::Value;

use crate::error::Error;
use crate::gate::{Gate, Live};
use crate::http::auth::Admin;
use crate::policy::{Blame, Source, Status, Team, TeamSpec};

#[derive(Serialize, utoipa::ToSchema)]
pub struct TeamView<'a> {
    pub name: &'a str,
    /// The colour set on the team itself; absent when the scorecard says it all.
    pub status: Option<Status>,
    /// The worst the team counts as in any environment: its own colour (an
    /// overdue yellow plan counting as red) and every scorecard item that
    /// gates somewhere.
    pub effective_status: Status,
    /// The scorecard items that count against the team somewhere, worst first.
    pub items: Vec<Blame>,
    /// By environment the config names: what the team counts as there.
    pub environments: BTreeMap<String, Status>,
    /// The team's own plan is overdue.
    pub overdue: bool,
    pub plan: Option<&'a str>,
    pub plan_due: Option<NaiveDate>,
    pub timezone: &'a str,
    pub source: &'a Source,
}

impl<'a> TeamView<'a> {
    pub fn at(live: &Live, team: &'a Team, t: DateTime<Utc>) -> TeamView<'a> {
        let environments =
            live.rules.environment_names().map(|e| (e.to_string(), live.rules.team_status(team, e, t).0)).collect();
        let (effective_status, items) = live.rules.team_status_anywhere(team, t);
        TeamView {
            name: team.name.as_str(),
            status: team.status(),
            effective_status,
            items: items.into_iter().map(|b| b.blame).collect(),
            environments,
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
pub async fn list(gate: web::Data<Gate>) -> HttpResponse {
    let now = Utc::now();
    let live = gate.live();
    let views: Vec<TeamView> = live.rules.teams().map(|t| TeamView::at(&live, t, now)).collect();
    HttpResponse::Ok().json(views)
}

/// One team.
#[utoipa::path(get, path = "/teams/{name}", tag = "teams", params(("name" = String, Path)),
    responses((status = 200, body = TeamView)))]
pub async fn one(gate: web::Data<Gate>, name: web::Path<String>) -> Result<HttpResponse, Error> {
    let live = gate.live();
    let team = live.rules.team(&name).ok_or_else(|| crate::gate::team_not_found(&name))?;
    Ok(HttpResponse::Ok().json(TeamView::at(&live, team, Utc::now())))
}

/// Set a team's status, plan and due date (the name comes from the path).
#[utoipa::path(put, path = "/teams/{name}", tag = "teams", params(("name" = String, Path)), request_body = TeamSpec,
    security(("bearer" = [])),
    responses((status = 200, description = "Replaced", body = TeamView), (status = 201, description = "Created", body = TeamView)))]
pub async fn put(
    admin: Admin,
    gate: web::Data<Gate>,
    name: web::Path<String>,
    body: web::Json<Value>,
) -> Result<HttpResponse, Error> {
    let now = Utc::now();
    let (team, created) = gate.put_team(&name, body.into_inner(), &admin.0, now).await?;
    let view = TeamView::at(&gate.live(), &team, now);
    Ok(if created { HttpResponse::Created().json(view) } else { HttpResponse::Ok().json(view) })
}
