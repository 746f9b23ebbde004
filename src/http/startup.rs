//! Builds the service once, for `serve` and for the tests alike: the store,
//! the core, the background tasks and the HTTP server.

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use actix_web::body::MessageBody;
use actix_web::dev::{Server, ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::{Next, from_fn};
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use anyhow::Context;
use chrono::Utc;
use tracing::Instrument;
use utoipa::OpenApi;
use utoipa_swagger_ui::SwaggerUi;

use super::error::{json_error, path_error, query_error};
use super::metrics::Metrics;
use super::openapi::ApiDoc;
use super::routes::{
    audit, calendar, dashboard, decisions, deployments, health, health_checks, health_map_page, impact, overrides,
    process, scorecard, scorecard_page, teams, windows,
};
use super::routes_table::declares;
use crate::config::{Config, config_files};
use crate::error::{Error, ErrorCode};
use crate::gate::{Gate, Reloaded};
use crate::store::Store;

/// How often config files are looked at.
const WATCH_EVERY: Duration = Duration::from_millis(200);
/// An edit goes live once the files have stayed the same this long, so a
/// file caught half-written (emptied, then written again) is never loaded.
const SETTLE: Duration = Duration::from_millis(600);
/// How often expired overrides are recorded.
const EXPIRE_EVERY: Duration = Duration::from_secs(1);
/// How often the change feed is read for other replicas' writes.
const SYNC_EVERY: Duration = Duration::from_millis(250);

pub struct Application {
    port: u16,
    server: Server,
    gate: web::Data<Gate>,
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
        // Taken before the core reads the files, so no edit slips in between.
        let seen = config_signature(&launch.config_path);
        let gate = web::Data::new(Gate::start(config, launch.config_path, launch.env, store, Utc::now()).await?);
        let metrics = web::Data::new(Metrics::default());
        let sections = web::Data::new(dashboard::SectionCache::default());
        let throttle = web::Data::new(super::auth::Throttle::default());
        let listener = TcpListener::bind(listen).with_context(|| format!("cannot listen on {listen}"))?;
        let port = listener.local_addr().context("no local address")?.port();
        let server = {
            let (gate, metrics) = (gate.clone(), metrics.clone());
            HttpServer::new(move || {
                App::new()
                    .app_data(gate.clone())
                    .app_data(metrics.clone())
                    .app_data(sections.clone())
                    .app_data(throttle.clone())
                    .wrap(from_fn(super::auth::reads_need_token))
                    .wrap(from_fn(observe))
                    .configure(routes)
            })
            .listen(listener)
            .with_context(|| format!("cannot serve on {listen}"))?
            .run()
        };
        tokio::spawn(record_expiries(gate.clone()));
        tokio::spawn(forget_idempotency_keys(gate.clone()));
        tokio::spawn(follow_changes(gate.clone()));
        tokio::spawn(fetch_traffic(gate.clone()));
        let hangup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
            .map_err(|e| tracing::warn!(error = %e, "SIGHUP will not reload the config"))
            .ok();
        tokio::spawn(watch_config(gate.clone(), seen, hangup));
        Ok(Application { port, server, gate })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn gate(&self) -> web::Data<Gate> {
        self.gate.clone()
    }

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}

/// Record each override's expiry once, at its `expires_at`.
async fn record_expiries(gate: web::Data<Gate>) {
    let mut tick = tokio::time::interval(EXPIRE_EVERY);
    loop {
        tick.tick().await;
        match gate.record_expiries(Utc::now()).await {
            Ok(expired) => {
                for o in &expired {
                    tracing::info!(override_id = %o.id, team = %o.team, environment = %o.environment, "override expired");
                }
            }
            Err(e) => tracing::error!(error = %format!("{e:#}"), "cannot record expired overrides"),
        }
    }
}

/// Forget idempotency keys a day old, hourly.
async fn forget_idempotency_keys(gate: web::Data<Gate>) {
    let mut tick = tokio::time::interval(Duration::from_secs(3600));
    loop {
        tick.tick().await;
        if let Err(e) = gate.store().forget_idempotency_keys(Utc::now()).await {
            tracing::warn!(error = %format!("{e:#}"), "cannot forget old idempotency keys");
        }
    }
}

/// Fetch the traffic sources at start and every `[traffic] refresh`, and at
/// once when a config reload changes them. Never on a decision's path.
async fn fetch_traffic(gate: web::Data<Gate>) {
    loop {
        let live = gate.live();
        let settings = live.traffic.clone();
        if !settings.sources.is_empty() {
            gate.traffic().refresh(&live, gate.catalog().env(), Utc::now()).await;
        }
        drop(live);
        let due = tokio::time::Instant::now() + settings.refresh;
        while tokio::time::Instant::now() < due {
            tokio::time::sleep(Duration::from_secs(1)).await;
            if *gate.live().traffic != *settings {
                break;
            }
        }
    }
}

/// Apply other replicas' writes (and catch up on any of ours a failed read missed).
async fn follow_changes(gate: web::Data<Gate>) {
    let mut tick = tokio::time::interval(SYNC_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if let Err(e) = gate.sync(Utc::now()).await {
            tracing::warn!(error = %format!("{e:#}"), "cannot read the change feed; trying again");
        }
    }
}

/// What the config files hold now: names and the digests of their contents.
type Signature = Option<Vec<(PathBuf, [u8; 32])>>;

fn config_signature(path: &Path) -> Signature {
    use sha2::Digest;
    let files = config_files(path).ok()?;
    Some(
        files
            .into_iter()
            .map(|f| {
                let digest = sha2::Sha256::digest(std::fs::read(&f).unwrap_or_default()).into();
                (f, digest)
            })
            .collect(),
    )
}

/// Reload on SIGHUP at once, and on edits to the config files once they
/// have settled.
async fn watch_config(gate: web::Data<Gate>, mut live: Signature, mut hangup: Option<tokio::signal::unix::Signal>) {
    let path = gate.catalog().config_path().clone();
    let mut tick = tokio::time::interval(WATCH_EVERY);
    // The last signature seen and since when it has not changed.
    let mut settling: Option<(Signature, Instant)> = None;
    loop {
        let signalled = tokio::select! {
            _ = tick.tick() => false,
            Some(()) = async { match hangup.as_mut() { Some(h) => h.recv().await, None => std::future::pending().await } } => true,
        };
        let now_files = {
            let path = path.clone();
            tokio::task::spawn_blocking(move || config_signature(&path)).await.ok().flatten()
        };
        let due = if signalled {
            tracing::info!("SIGHUP: reloading the config");
            true
        } else if now_files == live {
            settling = None;
            false
        } else {
            match &settling {
                Some((sig, since)) if *sig == now_files => since.elapsed() >= SETTLE,
                _ => {
                    settling = Some((now_files.clone(), Instant::now()));
                    false
                }
            }
        };
        if due {
            settling = None;
            live = now_files;
            reload(&gate).await;
        }
    }
}

async fn reload(gate: &Gate) {
    match gate.catalog().reload_config(Utc::now()).await {
        Reloaded::Live { windows_before, windows_after } if windows_after == 0 && windows_before > 0 => {
            tracing::error!(
                windows_before,
                "CONFIG RELOADED WITH NO WINDOWS: every freeze and deploy window from the config files is gone; \
                 if that was not meant, restore the files (write them elsewhere and rename them into place)"
            );
        }
        Reloaded::Live { windows_after, .. } => tracing::info!(windows = windows_after, "config reloaded"),
        Reloaded::Refused(problems) => {
            for p in &problems {
                tracing::error!(problem = %p, "config edit refused; the last good config stays in force");
            }
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
/// on every log line and in the response, its latency in the metrics, and a
/// check that an error answer is one the route declares.
async fn observe(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let id = caller_request_id(&req).unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string());
    let span = tracing::info_span!("request", request_id = %id, method = %req.method(), path = %req.path());
    let metrics = req.app_data::<web::Data<Metrics>>().cloned();
    let method = req.method().to_string();
    let started = Instant::now();
    let mut res = next.call(req).instrument(span.clone()).await?;
    let took = started.elapsed();
    let route = res.request().match_pattern().unwrap_or_else(|| "unmatched".into());
    if let Some(metrics) = metrics {
        metrics.request(&route, &method, took);
    }
    let code = res.response().extensions().get::<ErrorCode>().copied();
    if let Some(code) = code.filter(|c| !declares(&method, &route, *c)) {
        span.in_scope(|| tracing::error!(code = %code, route = %route, "an error code the route does not declare"));
        if let Ok(value) = HeaderValue::from_str(code.as_str()) {
            res.headers_mut().insert(HeaderName::from_static("x-undeclared-error-code"), value);
        }
    }
    if let Ok(value) = HeaderValue::from_str(&id) {
        res.headers_mut().insert(HeaderName::from_static("x-request-id"), value);
    }
    span.in_scope(|| {
        tracing::debug!(status = res.status().as_u16(), took_us = took.as_micros() as u64, route = %route, "request done")
    });
    Ok(res)
}

/// Every route, with the catalogue's error shape for bad bodies and queries.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.app_data(web::JsonConfig::default().limit(64 * 1024).content_type_required(false).error_handler(json_error))
        .app_data(web::QueryConfig::default().error_handler(query_error))
        .app_data(web::PathConfig::default().error_handler(path_error))
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
        .service(resource("/teams/{name}/scorecard/{item}").route(web::put().to(scorecard::put)))
        .service(resource("/scorecard").route(web::get().to(scorecard::get)))
        .service(resource("/scorecard/history").route(web::get().to(scorecard::history)))
        .service(resource("/scorecard.html").route(web::get().to(scorecard_page::page)))
        .service(resource("/teams/{name}/process").route(web::get().to(process::get)))
        .service(resource("/teams/{name}/process.svg").route(web::get().to(process::svg)))
        .service(
            resource("/health-checks")
                .route(web::get().to(health_checks::list))
                .route(web::post().to(health_checks::record)),
        )
        .service(resource("/health-map").route(web::get().to(health_checks::map)))
        .service(resource("/health-map/quarters").route(web::get().to(health_checks::quarters)))
        .service(resource("/health-map.html").route(web::get().to(health_map_page::page)))
        .service(resource("/overrides").route(web::get().to(overrides::list)).route(web::post().to(overrides::create)))
        .service(resource("/overrides/{id}").route(web::delete().to(overrides::revoke)))
        .service(resource("/audit").route(web::get().to(audit::list)))
        .service(
            resource("/deployments")
                .route(web::get().to(deployments::list))
                .route(web::post().to(deployments::report_route)),
        )
        .service(resource("/stats/delivery").route(web::get().to(deployments::delivery)))
        .service(resource("/impact").route(web::get().to(impact::what_if)))
        .service(resource("/impact/profile").route(web::get().to(impact::profile)))
        .service(resource("/impact/profile.svg").route(web::get().to(impact::heat_map)))
        .service(resource("/impact/suggest").route(web::get().to(impact::suggest)))
        .service(resource("/impact/report").route(web::get().to(impact::report)))
        .service(resource("/deployments/{id}/impact").route(web::get().to(impact::deployment)))
        .service(resource("/openapi.json").route(web::get().to(openapi_json)))
        .service(SwaggerUi::new("/docs/{_:.*}").config(utoipa_swagger_ui::Config::from("/openapi.json")))
        .service(
            resource("/docs").route(
                web::get()
                    .to(|| async { HttpResponse::PermanentRedirect().insert_header(("location", "/docs/")).finish() }),
            ),
        )
        .service(resource("/healthz").route(web::get().to(health::healthz)))
        .service(resource("/readyz").route(web::get().to(health::readyz)))
        .default_service(web::to(not_found));
}

/// The OpenAPI document, rendered once for every worker and request.
async fn openapi_json() -> HttpResponse {
    static DOCUMENT: std::sync::LazyLock<String> =
        std::sync::LazyLock::new(|| ApiDoc::openapi().to_json().unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}")));
    HttpResponse::Ok().content_type("application/json").body(DOCUMENT.as_str())
}

fn resource(path: &str) -> actix_web::Resource {
    web::resource(path).default_service(web::to(method_not_allowed))
}

async fn not_found(req: HttpRequest) -> Result<HttpResponse, Error> {
    Err(Error::new(ErrorCode::RouteNotFound, format!("no route {} {}", req.method(), req.path())))
}

async fn method_not_allowed(req: HttpRequest) -> Result<HttpResponse, Error> {
    Err(Error::new(ErrorCode::MethodNotAllowed, format!("{} is not allowed on {}", req.method(), req.path())))
}
