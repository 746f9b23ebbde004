//! Every route, with the error codes it can answer: the OpenAPI document
//! takes its error responses from here, and every answer is checked against
//! it (an error code a route does not declare is flagged in a header and the
//! log, which the tests refuse).

use crate::error::ErrorCode::{self, *};

pub struct Route {
    pub method: &'static str,
    pub path: &'static str,
    /// The codes this route answers with, besides those of [`EVERY_ROUTE`].
    pub errors: &'static [ErrorCode],
}

/// What any route may answer.
pub const EVERY_ROUTE: &[ErrorCode] = &[MalformedRequest, MethodNotAllowed, HeaderTooLarge, Internal];

const BODY: &[ErrorCode] = &[InvalidJson, PayloadTooLarge];
const TOKEN: &[ErrorCode] = &[Unauthorized, Forbidden, TooManyRequests];

macro_rules! routes {
    ($($method:literal $path:literal => [$($code:expr),* $(,)?];)*) => {
        /// Every route `routes` registers, by method and path.
        pub const ROUTES: &[Route] = &[$(Route { method: $method, path: $path, errors: &[$($code),*] }),*];
    };
}

routes! {
    "GET" "/" => [StoreUnavailable];
    "GET" "/can-deploy" => [MissingParameter, InvalidParameter, UnknownParameter, InvalidQuery, Unauthorized, Forbidden, TooManyRequests, StoreUnavailable];
    "POST" "/can-deploy" => [MissingParameter, InvalidParameter, UnknownParameter, InvalidJson, PayloadTooLarge, Unauthorized, Forbidden, TooManyRequests, StoreUnavailable];
    "GET" "/windows" => [InvalidParameter, UnknownParameter, InvalidQuery];
    "POST" "/windows" => [InvalidJson, PayloadTooLarge, InvalidHeader, IdempotencyKeyReused, Unauthorized, Forbidden, TooManyRequests, WindowExists, DefinedInConfig, StoreUnavailable,
        InvalidValue, InvalidType, MissingField, UnknownField, InvalidId, InvalidSchedule, InvalidCron, InvalidDuration, InvalidTime, UnknownTimezone, InvalidPattern];
    "GET" "/windows/{id}" => [InvalidParameter, UnknownParameter, InvalidQuery, WindowNotFound];
    "PUT" "/windows/{id}" => [InvalidJson, PayloadTooLarge, Unauthorized, Forbidden, TooManyRequests, DefinedInConfig, StoreUnavailable,
        InvalidValue, InvalidType, MissingField, UnknownField, InvalidId, InvalidSchedule, InvalidCron, InvalidDuration, InvalidTime, UnknownTimezone, InvalidPattern];
    "DELETE" "/windows/{id}" => [Unauthorized, Forbidden, TooManyRequests, WindowNotFound, DefinedInConfig, StoreUnavailable];
    "GET" "/calendar" => [InvalidParameter, UnknownParameter, InvalidQuery, TooManyOccurrences];
    "GET" "/calendar.ics" => [InvalidParameter, UnknownParameter, InvalidQuery, TooManyOccurrences];
    "GET" "/teams" => [];
    "GET" "/teams/{name}" => [TeamNotFound];
    "PUT" "/teams/{name}" => [InvalidJson, PayloadTooLarge, Unauthorized, Forbidden, TooManyRequests, DefinedInConfig, StoreUnavailable,
        InvalidValue, InvalidType, MissingField, UnknownField, InvalidTime, UnknownTimezone];
    "PUT" "/teams/{name}/scorecard/{item}" => [InvalidJson, PayloadTooLarge, InvalidParameter, Unauthorized, Forbidden, TooManyRequests, TeamNotFound, ItemNotFound, DefinedInConfig, StoreUnavailable,
        InvalidValue, InvalidType, MissingField, UnknownField, InvalidTime];
    "GET" "/teams/{name}/process" => [InvalidParameter, TeamNotFound, StoreUnavailable];
    "GET" "/teams/{name}/process.svg" => [InvalidParameter, TeamNotFound, StoreUnavailable];
    "GET" "/scorecard" => [];
    "GET" "/scorecard/history" => [InvalidParameter, UnknownParameter, InvalidQuery, TeamNotFound, ItemNotFound, StoreUnavailable];
    "GET" "/scorecard.html" => [InvalidParameter, UnknownParameter, InvalidQuery, StoreUnavailable];
    "POST" "/overrides" => [InvalidJson, UnknownParameter, PayloadTooLarge, InvalidHeader, Unauthorized, Forbidden, TooManyRequests, TooManyOverrides,
        IdempotencyKeyReused, StoreUnavailable, InvalidValue, MissingField, InvalidDuration];
    "GET" "/overrides" => [InvalidParameter, UnknownParameter, InvalidQuery, Unauthorized, Forbidden, TooManyRequests, StoreUnavailable];
    "DELETE" "/overrides/{id}" => [Unauthorized, Forbidden, TooManyRequests, OverrideNotFound, OverrideEnded, StoreUnavailable];
    "POST" "/health-checks" => [InvalidJson, PayloadTooLarge, MissingParameter, InvalidParameter, UnknownParameter, Unauthorized, Forbidden, TooManyRequests,
        TeamNotFound, HealthCheckExists, StoreUnavailable];
    "GET" "/health-checks" => [InvalidParameter, UnknownParameter, InvalidQuery, TeamNotFound, StoreUnavailable];
    "GET" "/health-map" => [UnknownParameter, InvalidQuery, StoreUnavailable];
    "GET" "/health-map/quarters" => [UnknownParameter, InvalidQuery, StoreUnavailable];
    "GET" "/health-map.html" => [UnknownParameter, InvalidQuery, StoreUnavailable];
    "GET" "/audit" => [InvalidParameter, UnknownParameter, InvalidQuery, Unauthorized, Forbidden, TooManyRequests, StoreUnavailable];
    "POST" "/deployments" => [InvalidJson, PayloadTooLarge, MissingParameter, InvalidParameter, UnknownParameter, Unauthorized, Forbidden, TooManyRequests,
        DeploymentConflict, InvalidValue, StoreUnavailable];
    "GET" "/deployments" => [InvalidParameter, UnknownParameter, InvalidQuery, StoreUnavailable];
    "GET" "/stats/delivery" => [InvalidParameter, UnknownParameter, InvalidQuery, StoreUnavailable];
    "GET" "/impact" => [MissingParameter, InvalidParameter, UnknownParameter, InvalidQuery, NoTrafficData];
    "GET" "/impact/profile" => [MissingParameter, InvalidParameter, UnknownParameter, InvalidQuery, NoTrafficData];
    "GET" "/impact/profile.svg" => [MissingParameter, InvalidParameter, UnknownParameter, InvalidQuery, NoTrafficData];
    "GET" "/impact/suggest" => [MissingParameter, InvalidParameter, UnknownParameter, InvalidQuery, NoTrafficData];
    "GET" "/impact/report" => [MissingParameter, InvalidParameter, UnknownParameter, InvalidQuery, StoreUnavailable];
    "GET" "/deployments/{id}/impact" => [DeploymentNotFound, DeploymentNotFinished, NoTrafficData, StoreUnavailable];
    "GET" "/healthz" => [];
    "GET" "/readyz" => [];
    "GET" "/metrics" => [];
    "GET" "/openapi.json" => [];
    "GET" "/docs/" => [];
}

/// Read routes that stay open under `[auth] reads_need_token`.
const OPEN_READS: &[&str] = &["/healthz", "/readyz", "/can-deploy"];

impl Route {
    /// Every code this route may answer: its own, those of every route, and
    /// for a read route those of `[auth] reads_need_token`.
    pub fn all_errors(&self) -> Vec<ErrorCode> {
        let mut all: Vec<ErrorCode> = self.errors.iter().chain(EVERY_ROUTE).copied().collect();
        if self.method == "GET" && !OPEN_READS.contains(&self.path) {
            all.extend(TOKEN);
        }
        all.sort();
        all.dedup();
        all
    }
}

/// Whether `code` is an answer the route at (method, matched pattern) declares.
pub fn declares(method: &str, pattern: &str, code: ErrorCode) -> bool {
    match ROUTES.iter().find(|r| r.method == method && r.path == pattern) {
        Some(r) => r.all_errors().contains(&code),
        // Unmatched paths answer route_not_found, and malformed requests the protocol errors.
        None => {
            EVERY_ROUTE.contains(&code)
                || matches!(code, RouteNotFound | InvalidPath)
                || BODY.contains(&code)
                || TOKEN.contains(&code)
        }
    }
}
