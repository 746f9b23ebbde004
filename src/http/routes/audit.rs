//! `/audit`: every real decision, override and change, newest first.

use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::gate::Gate;
use crate::http::auth::Auditor;
use crate::http::params;
use crate::http::strict::{Known, Query};
use crate::store::{AuditFilter, AuditRecord};

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// `decision`, `override` (every `override.*`), `override.created`, `window`, `team`, ...
    kind: Option<String>,
    team: Option<String>,
    /// RFC 3339.
    since: Option<String>,
    /// A `next_before` from the previous page.
    before: Option<String>,
    limit: Option<String>,
}

impl Known for AuditQuery {
    const FIELDS: &'static [&'static str] = &["kind", "team", "since", "before", "limit"];
}

/// A page of audit records, newest first.
#[derive(Serialize, utoipa::ToSchema)]
pub struct AuditPage {
    pub records: Vec<AuditRecord>,
    /// Pass as `before` for the next page; null on the last.
    pub next_before: Option<i64>,
}

/// Every real decision, override and change, newest first.
#[utoipa::path(get, path = "/audit", tag = "audit", params(AuditQuery), security(("bearer" = [])),
    responses((status = 200, body = AuditPage)))]
pub async fn list(_caller: Auditor, gate: web::Data<Gate>, query: Query<AuditQuery>) -> Result<HttpResponse, Error> {
    let q = query.into_inner();
    let kind = q.kind.filter(|k| !k.is_empty());
    if let Some(k) = &kind
        && (k.len() > 40 || !k.chars().all(|c| c.is_ascii_lowercase() || c == '.' || c == '_'))
    {
        return Err(Error::invalid_parameter(
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
        Some(b) => Some(
            b.parse::<i64>()
                .map_err(|_| Error::invalid_parameter("before", "before must be a record id from next_before"))?,
        ),
    };
    let limit = params::limit(q.limit.as_deref(), 100, 1000)?;
    let records = gate.audit_records(&AuditFilter { kind, team, since, before, limit }).await?;
    let next_before = (records.len() as i64 == limit).then(|| records.last().map(|r| r.id)).flatten();
    Ok(HttpResponse::Ok().json(AuditPage { records, next_before }))
}
