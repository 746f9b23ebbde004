//! `/audit`: every real decision, override and change, newest first.

use actix_web::{HttpResponse, web};
use serde::Deserialize;
use serde_json::json;

use crate::http::auth::Auditor;
use crate::http::error::ApiError;
use crate::http::params;
use crate::http::state::AppState;
use crate::store::AuditFilter;

#[derive(Debug, Deserialize)]
pub struct AuditQuery {
    kind: Option<String>,
    team: Option<String>,
    since: Option<String>,
    before: Option<String>,
    limit: Option<String>,
}

pub async fn list(
    _caller: Auditor,
    state: web::Data<AppState>,
    query: web::Query<AuditQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    let kind = q.kind.filter(|k| !k.is_empty());
    if let Some(k) = &kind
        && (k.len() > 40 || !k.chars().all(|c| c.is_ascii_lowercase() || c == '.'))
    {
        return Err(ApiError::bad(
            "invalid_parameter",
            "kind",
            format!(
                "kind `{}` is not a record kind; use e.g. decision, override, override.created, window, team",
                k.escape_debug()
            ),
        ));
    }
    let team = params::optional_name("team", q.team.as_deref())?.map(|n| n.to_string());
    let since = params::instant("since", q.since.as_deref())?;
    let before = match q.before.as_deref().filter(|b| !b.is_empty()) {
        None => None,
        Some(b) => Some(b.parse::<i64>().map_err(|_| {
            ApiError::bad("invalid_parameter", "before", "before must be a record id from next_before")
        })?),
    };
    let limit = params::limit(q.limit.as_deref(), 100, 1000)?;
    let records = state.store.audit(&AuditFilter { kind, team, since, before, limit }).await?;
    let next_before = (records.len() as i64 == limit).then(|| records.last().map(|r| r.id)).flatten();
    Ok(HttpResponse::Ok().json(json!({ "records": records, "next_before": next_before })))
}
