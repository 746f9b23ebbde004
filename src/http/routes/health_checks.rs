//! `/health-checks` and `/health-map`: the teams' own "I feel that..."
//! votes, shown to everyone. These routes read health data and team names
//! only: never a risk status, never a decision.

use actix_web::{HttpResponse, web};
use chrono::Utc;
use serde::Deserialize;
use serde_json::Value;

use crate::config::Role;
use crate::error::{Error, ErrorCode};
use crate::gate::{Gate, team_not_found};
use crate::health_checks::{self, HealthMap, Quarters, Session, SessionView};
use crate::http::auth::HealthRecorder;
use crate::http::params;
use crate::http::strict::{Known, Query};

/// Record one session: counts per topic and notes, nothing else (admin, or
/// a `team` token for its own teams).
#[utoipa::path(post, path = "/health-checks", tag = "health checks", security(("bearer" = [])),
    request_body(content = Object, description = r#"`{"team": "payments", "date": "2027-01-15", "votes": {"fun": {"green": 4, "yellow": 1, "red": 0}}, "notes": {"fun": "..."}}`"#),
    responses((status = 201, description = "Recorded; its id is team-date", body = SessionView)))]
pub async fn record(
    editor: HealthRecorder,
    gate: web::Data<Gate>,
    body: web::Json<Value>,
) -> Result<HttpResponse, Error> {
    let now = Utc::now();
    let live = gate.live();
    let new = health_checks::session_from_json(body.into_inner(), &live.health, now)?;
    let team = new.team.as_str();
    let caller = &editor.0;
    if caller.role != Role::Admin && !caller.teams.matches(team) {
        return Err(Error::new(
            ErrorCode::Forbidden,
            format!(
                "token '{}' may not record team {team}'s health check; its scope is its configured teams",
                caller.name
            ),
        ));
    }
    if live.rules.team(team).is_none() {
        let mut e = team_not_found(team);
        e.field = Some("team".into());
        return Err(e);
    }
    let view = health_checks::record(gate.store(), &live.health, new, &caller.name, now).await?;
    Ok(HttpResponse::Created().json(view))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// One team's sessions; absent: every team's.
    team: Option<String>,
}

impl Known for ListParams {
    const FIELDS: &'static [&'static str] = &["team"];
}

/// Sessions, newest first, with each topic's colour (the median vote) and
/// trend against the team's previous session.
#[utoipa::path(get, path = "/health-checks", tag = "health checks", params(ListParams),
    responses((status = 200, body = Vec<SessionView>)))]
pub async fn list(gate: web::Data<Gate>, query: Query<ListParams>) -> Result<HttpResponse, Error> {
    let team = params::optional_name("team", query.team.as_deref())?;
    let live = gate.live();
    let sessions = health_checks::sessions(gate.store(), team.as_ref().map(|t| t.as_str())).await?;
    if let Some(team) = &team
        && sessions.is_empty()
        && live.rules.team(team.as_str()).is_none()
    {
        return Err(team_not_found(team.as_str()));
    }
    Ok(HttpResponse::Ok().json(health_checks::session_views(&live.health, &sessions)))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NoParams {}

impl Known for NoParams {
    const FIELDS: &'static [&'static str] = &[];
}

/// Every team's latest session (every known team, and any with a session).
pub fn map_of(gate: &Gate, sessions: &[Session]) -> HealthMap {
    let live = gate.live();
    let teams: Vec<String> = live.rules.teams().map(|t| t.name.to_string()).collect();
    health_checks::health_map(&live.health, &teams, sessions)
}

/// Teams x topics: each team's latest session, colour and trend per topic,
/// sorted by team name (never by score).
#[utoipa::path(get, path = "/health-map", tag = "health checks", params(NoParams), responses((status = 200, body = HealthMap)))]
pub async fn map(gate: web::Data<Gate>, _query: Query<NoParams>) -> Result<HttpResponse, Error> {
    let sessions = health_checks::sessions(gate.store(), None).await?;
    Ok(HttpResponse::Ok().json(map_of(&gate, &sessions)))
}

/// Across the organisation: per topic and quarter, how many teams' latest
/// session of the quarter was green, yellow or red.
#[utoipa::path(get, path = "/health-map/quarters", tag = "health checks", params(NoParams), responses((status = 200, body = Quarters)))]
pub async fn quarters(gate: web::Data<Gate>, _query: Query<NoParams>) -> Result<HttpResponse, Error> {
    let sessions = health_checks::sessions(gate.store(), None).await?;
    Ok(HttpResponse::Ok().json(health_checks::quarters(&gate.live().health, &sessions)))
}
