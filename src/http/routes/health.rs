//! Liveness and readiness.

use actix_web::{HttpResponse, web};
use serde_json::json;

use crate::http::state::AppState;

pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}

/// Ready when the store answers and a config is loaded. A refused config
/// edit does not make the gate unready: the last good config is in force,
/// and `last_error` says what was wrong with the edit.
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let live = state.live();
    let reload = state.reload_status();
    let store = state.store.ping().await;
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
    });
    if store.is_ok() { HttpResponse::Ok().json(body) } else { HttpResponse::ServiceUnavailable().json(body) }
}
