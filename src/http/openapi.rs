//! `/openapi.json`, generated from the handlers' annotations, and the
//! shapes that exist only in the documentation.

use serde::Serialize;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};

use super::routes::{audit, calendar, dashboard, decisions, health, overrides, teams, windows};
use crate::store::AuditRecord;

/// Every error: a stable `code`, a `message` a person can act on, the
/// `field` to blame when there is one.
#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Serialize, ToSchema)]
pub struct ErrorDetail {
    pub code: String,
    pub message: String,
    pub field: Option<String>,
    /// For a 422: every problem with the body.
    pub problems: Option<Vec<ProblemDetail>>,
}

#[derive(Serialize, ToSchema)]
pub struct ProblemDetail {
    pub code: String,
    pub field: String,
    pub message: String,
}

/// A page of audit records, newest first.
#[derive(Serialize, ToSchema)]
pub struct AuditPage {
    pub records: Vec<AuditRecord>,
    /// Pass as `before` for the next page; null on the last.
    pub next_before: Option<i64>,
}

/// This document.
#[utoipa::path(get, path = "/openapi.json", tag = "operations", responses((status = 200, description = "OpenAPI JSON")))]
#[allow(dead_code)]
fn openapi_json() {}

/// Swagger UI for this document.
#[utoipa::path(get, path = "/docs/", tag = "operations", responses((status = 200, content_type = "text/html", body = String)))]
#[allow(dead_code)]
fn docs() {}

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "deploy-gate", description = "May I deploy now? Deploy windows, team risk, emergency overrides and their audit log."),
    paths(
        decisions::get, decisions::post,
        windows::list, windows::one, windows::create, windows::replace, windows::delete,
        calendar::get, calendar::ics,
        teams::list, teams::one, teams::put,
        overrides::create, overrides::list, overrides::revoke,
        audit::list,
        health::healthz, health::readyz, health::metrics,
        dashboard::page, openapi_json, docs,
    ),
    modifiers(&BearerAuth),
    tags(
        (name = "decisions", description = "The question CI asks before every deploy"),
        (name = "windows", description = "Freezes and deploy windows"),
        (name = "teams", description = "The risk scorecard"),
        (name = "overrides", description = "Emergency exceptions"),
        (name = "audit", description = "Every decision, override and change"),
        (name = "operations", description = "Health, metrics, the dashboard, this document"),
    )
)]
pub struct ApiDoc;
