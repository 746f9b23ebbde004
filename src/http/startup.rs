//! Builds the service once, for `serve` and for the tests alike: the store,
//! the state, the background tasks and the HTTP server.

use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::time::Duration;

use actix_web::body::MessageBody;
use actix_web::dev::{Server, ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::{Next, from_fn};
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use anyhow::Context;
use chrono::Utc;
use tracing::Instrument;

use super::error::{self, ApiError};
use super::openapi::ApiDoc;
use super::routes::{audit, calendar, dashboard, decisions, health, overrides, teams, windows};
use super::state::AppState;
use crate::config::{Config, config_files};
use crate::store::Store;
use utoipa::OpenApi;
use utoipa_swagger_ui::SwaggerUi;

/// How often config files are checked for edits.
const WATCH_EVERY: Duration = Duration::from_millis(400);
/// How often expired overrides are recorded and the override cache refreshed.
const EXPIRE_EVERY: Duration = Duration::from_secs(1);

pub struct Application {
    port: u16,
    server: Server,
    state: web::Data<AppState>,
}

/// Where the config came from, so it can be read again on edits.
pub struct Launch {
    pub config_path: PathBuf,
    /// The environment the config was read with (`DEPLOY_GATE_*` overrides).
    pub env: Vec<(String, String)>,
    /// Instead of `[server] listen`; port 0 picks a free port.
    pub listen: Option<SocketAddr>,
}

impl Application {
    /// Open the store, bind, and build the server; background tasks start on
    /// the current tokio runtime.
    pub async fn build(config: Config, launch: Launch) -> anyhow::Result<Application> {
        let listen = launch.listen.unwrap_or(config.settings.listen);
        let store = Store::open(&config.settings.store_url).await?;
        let state = web::Data::new(AppState::load(config, launch.config_path, launch.env, store, Utc::now()).await?);
        let listener = TcpListener::bind(listen).with_context(|| format!("cannot listen on {listen}"))?;
        let port = listener.local_addr().context("no local address")?.port();
        let server = {
            let state = state.clone();
            HttpServer::new(move || App::new().app_data(state.clone()).wrap(from_fn(observe)).configure(routes))
                .listen(listener)
                .with_context(|| format!("cannot serve on {listen}"))?
                .run()
        };
        tokio::spawn(record_expiries(state.clone()));
        // Taken now, not when the task first runs, so no edit or SIGHUP
        // slips in between.
        let seen = config_signature(&state.config_path);
        let hangup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
            .map_err(|e| tracing::warn!(error = %e, "SIGHUP will not reload the config"))
            .ok();
        tokio::spawn(watch_config(state.clone(), seen, hangup));
        Ok(Application { port, server, state })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn state(&self) -> web::Data<AppState> {
        self.state.clone()
    }

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}

/// Record each override's expiry once, at its `expires_at`, and drop it from
/// the cache (decisions check expiry themselves; this keeps the cache small).
async fn record_expiries(state: web::Data<AppState>) {
    let mut tick = tokio::time::interval(EXPIRE_EVERY);
    loop {
        tick.tick().await;
        let now = Utc::now();
        match state.store.record_expired(now).await {
            Ok(expired) => {
                for o in &expired {
                    tracing::info!(override_id = %o.id, team = %o.team, environment = %o.environment, "override expired");
                }
                if !expired.is_empty()
                    && let Err(e) = state.refresh_overrides(now).await
                {
                    tracing::error!(error = %format!("{e:#}"), "cannot read overrides");
                }
            }
            Err(e) => tracing::error!(error = %format!("{e:#}"), "cannot record expired overrides"),
        }
    }
}

/// What the config files hold now: names and contents.
fn config_signature(path: &std::path::Path) -> Option<Vec<(PathBuf, Vec<u8>)>> {
    let files = config_files(path).ok()?;
    Some(
        files
            .into_iter()
            .map(|f| {
                let bytes = std::fs::read(&f).unwrap_or_default();
                (f, bytes)
            })
            .collect(),
    )
}

/// Reload on any edit to the config files (checked every 400 ms) and on SIGHUP.
async fn watch_config(
    state: web::Data<AppState>,
    mut seen: Option<Vec<(PathBuf, Vec<u8>)>>,
    mut hangup: Option<tokio::signal::unix::Signal>,
) {
    let path = state.config_path.clone();
    let mut tick = tokio::time::interval(WATCH_EVERY);
    loop {
        let signalled = tokio::select! {
            _ = tick.tick() => false,
            Some(()) = async { match hangup.as_mut() { Some(h) => h.recv().await, None => std::future::pending().await } } => true,
        };
        let now_files = {
            let path = path.clone();
            tokio::task::spawn_blocking(move || config_signature(&path)).await.ok().flatten()
        };
        if signalled || now_files != seen {
            if signalled {
                tracing::info!("SIGHUP: reloading the config");
            }
            seen = now_files;
            state.reload_config(Utc::now()).await;
        }
    }
}

/// A caller's request id, if it is short and plain enough to echo and log.
fn caller_request_id(req: &ServiceRequest) -> Option<String> {
    let id = req.headers().get("x-request-id")?.to_str().ok()?;
    let plain = !id.is_empty() && id.len() <= 64 && id.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
    plain.then(|| id.to_string())
}

/// Every request: a request id (the caller's `x-request-id`, or a new one)
/// on every log line and in the response, and its latency in the metrics.
async fn observe(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let id = caller_request_id(&req).unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string());
    let span = tracing::info_span!("request", request_id = %id, method = %req.method(), path = %req.path());
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let method = req.method().to_string();
    let started = std::time::Instant::now();
    let mut res = next.call(req).instrument(span.clone()).await?;
    let took = started.elapsed();
    let route = res.request().match_pattern().unwrap_or_else(|| "unmatched".into());
    if let Some(state) = state {
        state.metrics.request(&route, &method, took);
    }
    if let Ok(value) = HeaderValue::from_str(&id) {
        res.headers_mut().insert(HeaderName::from_static("x-request-id"), value);
    }
    span.in_scope(|| {
        tracing::debug!(status = res.status().as_u16(), took_us = took.as_micros() as u64, route = %route, "request done")
    });
    Ok(res)
}

/// Every route `routes` registers, by method and path: the tests check that
/// each is served and is in the OpenAPI document, and the reverse.
pub const ROUTES: &[(&str, &str)] = &[
    ("GET", "/"),
    ("GET", "/can-deploy"),
    ("POST", "/can-deploy"),
    ("GET", "/windows"),
    ("POST", "/windows"),
    ("GET", "/windows/{id}"),
    ("PUT", "/windows/{id}"),
    ("DELETE", "/windows/{id}"),
    ("GET", "/calendar"),
    ("GET", "/calendar.ics"),
    ("GET", "/teams"),
    ("GET", "/teams/{name}"),
    ("PUT", "/teams/{name}"),
    ("POST", "/overrides"),
    ("GET", "/overrides"),
    ("DELETE", "/overrides/{id}"),
    ("GET", "/audit"),
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("GET", "/metrics"),
    ("GET", "/openapi.json"),
    ("GET", "/docs/"),
];

/// Every route, with the catalogue's error shape for bad bodies and queries.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.app_data(
        web::JsonConfig::default().limit(64 * 1024).content_type_required(false).error_handler(error::json_error),
    )
    .app_data(web::QueryConfig::default().error_handler(error::query_error))
    .app_data(web::PathConfig::default().error_handler(error::path_error))
    .service(resource("/can-deploy").route(web::get().to(decisions::get)).route(web::post().to(decisions::post)))
    .service(resource("/windows").route(web::get().to(windows::list)).route(web::post().to(windows::create)))
    .service(
        resource("/windows/{id}")
            .route(web::get().to(windows::one))
            .route(web::put().to(windows::replace))
            .route(web::delete().to(windows::delete)),
    )
    .service(resource("/").route(web::get().to(dashboard::page)))
    .service(resource("/calendar").route(web::get().to(calendar::get)))
    .service(resource("/calendar.ics").route(web::get().to(calendar::ics)))
    .service(resource("/metrics").route(web::get().to(health::metrics)))
    .service(resource("/teams").route(web::get().to(teams::list)))
    .service(resource("/teams/{name}").route(web::get().to(teams::one)).route(web::put().to(teams::put)))
    .service(resource("/overrides").route(web::get().to(overrides::list)).route(web::post().to(overrides::create)))
    .service(resource("/overrides/{id}").route(web::delete().to(overrides::revoke)))
    .service(resource("/audit").route(web::get().to(audit::list)))
    .service(SwaggerUi::new("/docs/{_:.*}").url("/openapi.json", ApiDoc::openapi()))
    .service(resource("/docs").route(
        web::get().to(|| async { HttpResponse::PermanentRedirect().insert_header(("location", "/docs/")).finish() }),
    ))
    .service(resource("/healthz").route(web::get().to(health::healthz)))
    .service(resource("/readyz").route(web::get().to(health::readyz)))
    .default_service(web::to(not_found));
}

fn resource(path: &str) -> actix_web::Resource {
    web::resource(path).default_service(web::to(method_not_allowed))
}

async fn not_found(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    Err(ApiError::NotFound { code: "route_not_found", message: format!("no route {} {}", req.method(), req.path()) })
}

async fn method_not_allowed(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    Err(ApiError::MethodNotAllowed { message: format!("{} is not allowed on {}", req.method(), req.path()) })
}
