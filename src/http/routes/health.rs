//! Liveness and readiness.

use actix_web::{HttpResponse, web};
use serde_json::json;

use crate::http::state::AppState;

pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}

pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let live = state.live();
    HttpResponse::Ok().json(json!({
        "ready": true,
        "config": {
            "loaded_at": live.loaded_at,
            "windows": live.rules.windows().len(),
            "teams": live.rules.team_count(),
            "last_error": null,
        },
    }))
}
