//! `/windows`: the windows in force, where each one is in its schedule, and
//! changes to the windows the service itself keeps.

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::Utc;
use serde::Deserialize;
use serde_json::Value;

use crate::error::Error;
use crate::gate::{Gate, window_not_found};
use crate::http::auth::Admin;
use crate::http::params;
use crate::http::strict::{Known, Query};
use crate::policy::WindowSpec;
use crate::wire::WindowView;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AtQuery {
    /// RFC 3339; default now.
    at: Option<String>,
}

impl Known for AtQuery {
    const FIELDS: &'static [&'static str] = &["at"];
}

/// Every window, where each is in its schedule at `at`.
#[utoipa::path(get, path = "/windows", tag = "windows", params(AtQuery), responses((status = 200, body = Vec<WindowView>)))]
pub async fn list(gate: web::Data<Gate>, query: Query<AtQuery>) -> Result<HttpResponse, Error> {
    let t = params::instant("at", query.at.as_deref())?.unwrap_or_else(Utc::now);
    let live = gate.live();
    let views: Vec<WindowView> = live.rules.windows().iter().map(|w| WindowView::at(w, t)).collect();
    Ok(HttpResponse::Ok().json(views))
}

/// One window: `active`, the `current` occurrence and the `next` one at `at`.
#[utoipa::path(get, path = "/windows/{id}", tag = "windows", params(("id" = String, Path), AtQuery),
    responses((status = 200, body = WindowView)))]
pub async fn one(gate: web::Data<Gate>, id: web::Path<String>, query: Query<AtQuery>) -> Result<HttpResponse, Error> {
    let t = params::instant("at", query.at.as_deref())?.unwrap_or_else(Utc::now);
    let live = gate.live();
    let w = live.rules.window(&id).ok_or_else(|| window_not_found(&id))?;
    Ok(HttpResponse::Ok().json(WindowView::at(w, t)))
}

/// Add a window kept by the service (validated like a config file).
/// With an `Idempotency-Key` header, a retry with the same key gets the first answer back.
#[utoipa::path(post, path = "/windows", tag = "windows", request_body = WindowSpec, security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "A key of your choosing (e.g. a UUID): the same key from the same token gets the same answer for 24 h")),
    responses((status = 201, body = WindowView)))]
pub async fn create(
    admin: Admin,
    gate: web::Data<Gate>,
    req: HttpRequest,
    body: web::Json<Value>,
) -> Result<HttpResponse, Error> {
    let key = params::idempotency_key(&req)?;
    let made = gate.create_window(body.into_inner(), &admin.0, key.as_deref(), Utc::now()).await?;
    Ok(params::made(made))
}

/// Add or replace a window kept by the service.
#[utoipa::path(put, path = "/windows/{id}", tag = "windows", params(("id" = String, Path)), request_body = WindowSpec,
    security(("bearer" = [])),
    responses((status = 200, description = "Replaced", body = WindowView), (status = 201, description = "Created", body = WindowView)))]
pub async fn replace(
    admin: Admin,
    gate: web::Data<Gate>,
    id: web::Path<String>,
    body: web::Json<Value>,
) -> Result<HttpResponse, Error> {
    let now = Utc::now();
    let (w, created) = gate.put_window(&id, body.into_inner(), &admin.0, now).await?;
    let view = WindowView::at(&w, now);
    Ok(if created { HttpResponse::Created().json(view) } else { HttpResponse::Ok().json(view) })
}

/// Delete a window kept by the service.
#[utoipa::path(delete, path = "/windows/{id}", tag = "windows", params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, description = "`{\"deleted\": definition}`")))]
pub async fn delete(admin: Admin, gate: web::Data<Gate>, id: web::Path<String>) -> Result<HttpResponse, Error> {
    let before = gate.delete_window(&id, &admin.0, Utc::now()).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "deleted": before })))
}
