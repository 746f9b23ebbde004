//! `/openapi.json`, generated from the handlers' annotations, with every
//! route's error answers taken from the route table and the catalogue.

use std::collections::BTreeMap;

use utoipa::openapi::path::Operation;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
use utoipa::{Modify, OpenApi};

use super::routes::{
    audit, calendar, dashboard, decisions, deployments, health, health_checks, health_map_page, impact, overrides,
    process, scorecard, scorecard_page, teams, windows,
};
use super::routes_table::ROUTES;
use crate::error::ErrorCode;
use crate::wire::ErrorBody;

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

/// Each route's error answers, by status, listing the codes and what they mean.
struct ErrorResponses;

fn operation<'a>(openapi: &'a mut utoipa::openapi::OpenApi, method: &str, path: &str) -> Option<&'a mut Operation> {
    let item = openapi.paths.paths.get_mut(path)?;
    match method {
        "GET" => item.get.as_mut(),
        "POST" => item.post.as_mut(),
        "PUT" => item.put.as_mut(),
        "DELETE" => item.delete.as_mut(),
        _ => None,
    }
}

impl Modify for ErrorResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for route in ROUTES {
            let mut by_status: BTreeMap<u16, Vec<ErrorCode>> = BTreeMap::new();
            for code in route.all_errors() {
                by_status.entry(code.status()).or_default().push(code);
            }
            let Some(op) = operation(openapi, route.method, route.path) else { continue };
            for (status, codes) in by_status {
                let lines: Vec<String> = codes.iter().map(|c| format!("- `{}`: {}", c.as_str(), c.doc())).collect();
                let response = ResponseBuilder::new()
                    .description(lines.join("\n"))
                    .content(
                        "application/json",
                        ContentBuilder::new().schema(Some(Ref::from_schema_name("ErrorBody"))).build(),
                    )
                    .build();
                op.responses.responses.insert(status.to_string(), response.into());
            }
        }
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "deploy-gate", description = "May I deploy now? Deploy windows, team risk, emergency overrides and their audit log."),
    paths(
        decisions::get, decisions::post,
        windows::list, windows::one, windows::create, windows::replace, windows::delete,
        calendar::get, calendar::ics,
        teams::list, teams::one, teams::put, process::get, process::svg,
        scorecard::get, scorecard::put, scorecard::history, scorecard_page::page,
        overrides::create, overrides::list, overrides::revoke,
        audit::list,
        health_checks::record, health_checks::list, health_checks::map, health_checks::quarters, health_map_page::page,
        deployments::report_route, deployments::list, deployments::delivery,
        impact::what_if, impact::profile, impact::heat_map, impact::suggest, impact::report, impact::deployment,
        health::healthz, health::readyz, health::metrics,
        dashboard::page, openapi_json, docs,
    ),
    components(schemas(ErrorBody)),
    modifiers(&BearerAuth, &ErrorResponses),
    tags(
        (name = "decisions", description = "The question CI asks before every deploy"),
        (name = "windows", description = "Freezes and deploy windows"),
        (name = "teams", description = "Teams and their risk scorecard"),
        (name = "overrides", description = "Emergency exceptions"),
        (name = "health checks", description = "Teams' own health check votes: seen by everyone, never used to judge or to decide"),
        (name = "audit", description = "Every decision, override and change"),
        (name = "deployments", description = "Deployments as CI reports them, and delivery statistics"),
        (name = "impact", description = "Traffic data: the week's busy and quiet hours, what a deploy would run through"),
        (name = "operations", description = "Health, metrics, the dashboard, this document"),
    )
)]
pub struct ApiDoc;
