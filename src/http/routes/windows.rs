//! `/windows`: the windows in force, where each one is in its schedule, and
//! changes to the windows the service itself keeps.

use std::sync::Arc;

use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::config::Problem;
use crate::http::auth::Admin;
use crate::http::error::ApiError;
use crate::http::openapi::ErrorBody;
use crate::http::params;
use crate::http::state::{AppState, window_from_json};
use crate::policy::{Source, Window, WindowSpec};
use crate::schedule::{Occurrence, SEARCH_LIMIT};

#[derive(Serialize, utoipa::ToSchema)]
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

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AtQuery {
    /// RFC 3339; default now.
    at: Option<String>,
}

/// Every window, where each is in its schedule at `at`.
#[utoipa::path(get, path = "/windows", tag = "windows", params(AtQuery),
    responses((status = 200, body = Vec<WindowView>), (status = 400, description = "A parameter is missing or malformed", body = ErrorBody)))]
pub async fn list(state: web::Data<AppState>, query: web::Query<AtQuery>) -> Result<HttpResponse, ApiError> {
    let t = params::instant("at", query.at.as_deref())?.unwrap_or_else(Utc::now);
    let live = state.live();
    let views: Vec<WindowView> = live.rules.windows().iter().map(|w| WindowView::at(w, t)).collect();
    Ok(HttpResponse::Ok().json(views))
}

/// One window: `active`, the `current` occurrence and the `next` one at `at`.
#[utoipa::path(get, path = "/windows/{id}", tag = "windows", params(("id" = String, Path), AtQuery),
    responses((status = 200, body = WindowView), (status = 400, description = "A parameter is missing or malformed", body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn one(
    state: web::Data<AppState>,
    id: web::Path<String>,
    query: web::Query<AtQuery>,
) -> Result<HttpResponse, ApiError> {
    let t = params::instant("at", query.at.as_deref())?.unwrap_or_else(Utc::now);
    let live = state.live();
    let w = live.rules.window(&id).ok_or_else(|| ApiError::NotFound {
        code: "window_not_found",
        message: format!("no window has id `{}`; GET /windows lists them", id.escape_debug()),
    })?;
    Ok(HttpResponse::Ok().json(WindowView::at(w, t)))
}

fn defined_in_config(id: &str) -> ApiError {
    ApiError::Conflict {
        code: "defined_in_config",
        message: format!("window `{id}` comes from a config file; change it there (in git), not through the API"),
    }
}

/// Compile and store a window definition (callers have refused ids a
/// config file defines); answers the stored view and whether it replaced one.
async fn save(state: &AppState, admin: &Admin, body: &Value) -> Result<(Arc<Window>, bool), ApiError> {
    let window = window_from_json(body).map_err(ApiError::Invalid)?;
    let id = window.id().to_string();
    let spec = serde_json::to_value(&window.spec).map_err(anyhow::Error::from)?;
    let now = Utc::now();
    let before = state.store.put_window(&id, &spec, &admin.0.name, now).await?;
    state.set_api_window(&id, Some(window), now);
    let live = state.live();
    let stored = live.rules.window(&id).cloned().ok_or_else(|| anyhow::anyhow!("window {id} missing after save"))?;
    tracing::info!(window = %id, by = %admin.0.name, replaced = before.is_some(), "window saved");
    Ok((stored, before.is_some()))
}

/// Add a window kept by the service (validated like a config file).
#[utoipa::path(post, path = "/windows", tag = "windows", request_body = WindowSpec, security(("bearer" = [])),
    responses((status = 201, body = WindowView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 409, description = "The id exists, or a config file defines it", body = ErrorBody),
        (status = 422, description = "Every problem with the definition", body = ErrorBody)))]
pub async fn create(
    admin: Admin,
    state: web::Data<AppState>,
    body: web::Json<Value>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let id = match body.get("id").and_then(Value::as_str) {
        Some(id) => id.to_string(),
        None => {
            return Err(ApiError::Invalid(vec![Problem::new(
                None,
                "",
                "id",
                "missing_field",
                "is required, e.g. \"id\": \"hotfix-freeze\"",
            )]));
        }
    };
    if state.config_defines_window(&id) {
        return Err(defined_in_config(&id));
    }
    if state.live().rules.window(&id).is_some() {
        return Err(ApiError::Conflict {
            code: "window_exists",
            message: format!("window `{id}` already exists; PUT /windows/{id} replaces it"),
        });
    }
    let (w, _) = save(&state, &admin, &body).await?;
    Ok(HttpResponse::Created().json(WindowView::at(&w, Utc::now())))
}

/// Add or replace a window kept by the service.
#[utoipa::path(put, path = "/windows/{id}", tag = "windows", params(("id" = String, Path)), request_body = WindowSpec,
    security(("bearer" = [])),
    responses((status = 200, description = "Replaced", body = WindowView), (status = 201, description = "Created", body = WindowView),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 409, description = "A config file defines it", body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn replace(
    admin: Admin,
    state: web::Data<AppState>,
    id: web::Path<String>,
    body: web::Json<Value>,
) -> Result<HttpResponse, ApiError> {
    if state.config_defines_window(&id) {
        return Err(defined_in_config(&id));
    }
    let body = params::body_keyed(body.into_inner(), "id", &id, "{\"cron\": \"0 17 * * FRI\", \"duration\": \"63h\"}")?;
    let (w, replaced) = save(&state, &admin, &body).await?;
    let view = WindowView::at(&w, Utc::now());
    Ok(if replaced { HttpResponse::Ok().json(view) } else { HttpResponse::Created().json(view) })
}

/// Delete a window kept by the service.
#[utoipa::path(delete, path = "/windows/{id}", tag = "windows", params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, description = "`{\"deleted\": definition}`"), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "A config file defines it", body = ErrorBody)))]
pub async fn delete(admin: Admin, state: web::Data<AppState>, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    if state.config_defines_window(&id) {
        return Err(defined_in_config(&id));
    }
    let now = Utc::now();
    match state.store.delete_window(&id, &admin.0.name, now).await? {
        Some(before) => {
            state.set_api_window(&id, None, now);
            tracing::info!(window = %id, by = %admin.0.name, "window deleted");
            Ok(HttpResponse::Ok().json(serde_json::json!({ "deleted": before })))
        }
        None => Err(ApiError::NotFound {
            code: "window_not_found",
            message: format!("no window has id `{}`; GET /windows lists them", id.escape_debug()),
        }),
    }
}
