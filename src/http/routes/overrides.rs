//! `/overrides`: emergency exceptions, time-limited, scoped and audited.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::Utc;
use serde::Deserialize;

use crate::error::Error;
use crate::gate::Gate;
use crate::http::auth::{Admin, Overrider};
use crate::http::params;
use crate::http::strict::{self, Known, Query};
use crate::policy::Override;
use crate::wire::{CreatedOverride, OverrideRequest};

/// Lift the gate in an emergency: time-limited, scoped to the token's teams and environments, audited.
/// With an `Idempotency-Key` header, a retry with the same key gets the first answer back.
#[utoipa::path(post, path = "/overrides", tag = "overrides", request_body = OverrideRequest, security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "A key of your choosing (e.g. a UUID): the same key from the same token gets the same answer for 24 h")),
    responses((status = 201, body = CreatedOverride)))]
pub async fn create(
    caller: Overrider,
    gate: web::Data<Gate>,
    req: HttpRequest,
    body: web::Json<serde_json::Value>,
) -> Result<HttpResponse, Error> {
    let key = params::idempotency_key(&req)?;
    let request: OverrideRequest = strict::body(body.into_inner())?;
    let made = gate.create_override(request, &caller.0, key.as_deref(), Utc::now()).await?;
    Ok(params::made(made))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// `true`: only overrides in force.
    active: Option<String>,
    /// At most this many (default 200, at most 1000).
    limit: Option<String>,
    /// The id of the last override of the previous page (the `Link: rel="next"` header gives it).
    after: Option<String>,
}

impl Known for ListQuery {
    const FIELDS: &'static [&'static str] = &["active", "limit", "after"];
}

/// Overrides, newest first, a page at a time; a full page carries a `Link` header to the next.
#[utoipa::path(get, path = "/overrides", tag = "overrides", params(ListQuery), security(("bearer" = [])),
    responses((status = 200, body = Vec<Override>, headers(("Link" = String, description = "rel=\"next\": the next page")))))]
pub async fn list(_caller: Overrider, gate: web::Data<Gate>, query: Query<ListQuery>) -> Result<HttpResponse, Error> {
    let active = match query.active.as_deref() {
        None | Some("") | Some("false") => false,
        Some("true") => true,
        Some(other) => {
            return Err(Error::invalid_parameter("active", format!("active `{other}` must be true or false")));
        }
    };
    let limit = params::limit(query.limit.as_deref(), 200, 1000)?;
    let after = query.after.as_deref().filter(|a| !a.is_empty());
    let list = gate.list_overrides(active.then(Utc::now), after, limit).await?;
    let mut response = HttpResponse::Ok();
    if let Some(last) = list.last().filter(|_| list.len() as i64 == limit) {
        let next = format!("</overrides?active={active}&limit={limit}&after={}>; rel=\"next\"", last.id);
        response.insert_header((header::LINK, next));
    }
    Ok(response.json(list))
}

/// Revoke an override early.
#[utoipa::path(delete, path = "/overrides/{id}", tag = "overrides", params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = Override)))]
pub async fn revoke(admin: Admin, gate: web::Data<Gate>, id: web::Path<String>) -> Result<HttpResponse, Error> {
    let o = gate.revoke_override(&id, &admin.0, Utc::now()).await?;
    Ok(HttpResponse::Ok().json(o))
}
