//! `/windows`: the windows in force, and where each one is in its schedule.

use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::http::error::ApiError;
use crate::http::params;
use crate::http::state::AppState;
use crate::policy::{Source, Window, WindowSpec};
use crate::schedule::{Occurrence, SEARCH_LIMIT};

#[derive(Serialize)]
pub struct WindowView<'a> {
    #[serde(flatten)]
    spec: &'a WindowSpec,
    source: &'a Source,
    #[serde(skip_serializing_if = "Option::is_none")]
    file: Option<&'a str>,
    active: bool,
    current: Option<Occurrence>,
    next: Option<Occurrence>,
}

impl<'a> WindowView<'a> {
    pub fn at(w: &'a Window, t: DateTime<Utc>) -> WindowView<'a> {
        let current = w.containing(t);
        WindowView {
            spec: &w.spec,
            source: &w.source,
            file: w.file.as_deref(),
            active: current.is_some(),
            current,
            next: w.schedule.next_after(t, t + SEARCH_LIMIT),
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct AtQuery {
    at: Option<String>,
}

pub async fn list(
    state: web::Data<AppState>,
    query: web::Query<AtQuery>,
) -> Result<HttpResponse, ApiError> {
    let t = params::instant("at", query.at.as_deref())?.unwrap_or_else(Utc::now);
    let live = state.live();
    let views: Vec<WindowView> = live
        .rules
        .windows()
        .iter()
        .map(|w| WindowView::at(w, t))
        .collect();
    Ok(HttpResponse::Ok().json(views))
}

pub async fn one(
    state: web::Data<AppState>,
    id: web::Path<String>,
    query: web::Query<AtQuery>,
) -> Result<HttpResponse, ApiError> {
    let t = params::instant("at", query.at.as_deref())?.unwrap_or_else(Utc::now);
    let live = state.live();
    let w = live.rules.window(&id).ok_or_else(|| ApiError::NotFound {
        code: "window_not_found",
        message: format!(
            "no window has id `{}`; GET /windows lists them",
            id.escape_debug()
        ),
    })?;
    Ok(HttpResponse::Ok().json(WindowView::at(w, t)))
}
