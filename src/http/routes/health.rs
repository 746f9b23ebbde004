//! Liveness, readiness and metrics.

use actix_web::{HttpResponse, web};
use chrono::Utc;
use serde_json::json;

use crate::gate::Gate;
use crate::http::metrics::{Gauges, Metrics};
use crate::policy::Kind;

/// Liveness.
#[utoipa::path(get, path = "/healthz", tag = "operations", responses((status = 200, description = "`{\"status\": \"ok\"}`")))]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}

/// Ready when the store takes a write and a config is loaded. A refused
/// config edit does not make the gate unready: the last good config is in
/// force, and `last_error` says what was wrong with the edit.
#[utoipa::path(get, path = "/readyz", tag = "operations",
    responses((status = 200, description = "Ready; `config.last_error` lists a refused config edit's problems"),
        (status = 503, description = "The store cannot record decisions now")))]
pub async fn readyz(gate: web::Data<Gate>) -> HttpResponse {
    let live = gate.live();
    let reload = gate.catalog().reload_status();
    let store = gate.store().probe(Utc::now()).await;
    let body = json!({
        "ready": store.is_ok(),
        "store": match &store { Ok(()) => json!({"ok": true}), Err(e) => json!({"ok": false, "error": format!("{e:#}")}) },
        "config": {
            "loaded_at": live.loaded_at,
            "windows": live.rules.windows().len(),
            "teams": live.rules.team_count(),
            "reloads": reload.reloads,
            "failed_reloads": reload.failures,
            "last_error": reload.last_error,
            "shadowed": live.shadowed,
        },
        // Traffic sources never make the gate unready: decisions do without them.
        "traffic": gate.traffic().sources(&live.traffic),
    });
    if store.is_ok() { HttpResponse::Ok().json(body) } else { HttpResponse::ServiceUnavailable().json(body) }
}

/// Prometheus text format: decisions, reasons, request latency, active windows and overrides, reloads.
#[utoipa::path(get, path = "/metrics", tag = "operations", responses((status = 200, content_type = "text/plain", body = String)))]
pub async fn metrics(gate: web::Data<Gate>, metrics: web::Data<Metrics>) -> HttpResponse {
    let now = Utc::now();
    let live = gate.live();
    let active =
        |kind: Kind| live.rules.windows().iter().filter(|w| w.kind == kind && w.containing(now).is_some()).count();
    let reload = gate.catalog().reload_status();
    let gauges = Gauges {
        active_deny: active(Kind::Deny),
        active_allow: active(Kind::Allow),
        active_overrides: gate.overrides().active_at(now).len(),
        reloads: reload.reloads,
        reload_errors: reload.failures,
    };
    HttpResponse::Ok()
        .content_type("application/openmetrics-text; version=1.0.0; charset=utf-8")
        .body(metrics.render(&gauges))
}
