//! Builds the HTTP server once, for `serve` and for the tests alike.

use std::net::{SocketAddr, TcpListener};

use actix_web::dev::Server;
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use anyhow::Context;
use chrono::Utc;

use super::error::{self, ApiError};
use super::routes::{calendar, decisions, health, teams, windows};
use super::state::AppState;
use crate::config::Config;

pub struct Application {
    port: u16,
    server: Server,
    state: web::Data<AppState>,
}

impl Application {
    /// Bind `listen` (port 0 picks a free port) and build the server.
    pub async fn build(config: Config, listen: SocketAddr) -> anyhow::Result<Application> {
        let listener =
            TcpListener::bind(listen).with_context(|| format!("cannot listen on {listen}"))?;
        let port = listener.local_addr().context("no local address")?.port();
        let state = web::Data::new(AppState::new(&config, Utc::now()));
        let server = {
            let state = state.clone();
            HttpServer::new(move || App::new().app_data(state.clone()).configure(routes))
                .listen(listener)
                .with_context(|| format!("cannot serve on {listen}"))?
                .run()
        };
        Ok(Application {
            port,
            server,
            state,
        })
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

/// Every route, with the catalogue's error shape for bad bodies and queries.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.app_data(
        web::JsonConfig::default()
            .limit(64 * 1024)
            .content_type_required(false)
            .error_handler(error::json_error),
    )
    .app_data(web::QueryConfig::default().error_handler(error::query_error))
    .app_data(web::PathConfig::default().error_handler(error::path_error))
    .service(
        resource("/can-deploy")
            .route(web::get().to(decisions::get))
            .route(web::post().to(decisions::post)),
    )
    .service(resource("/windows").route(web::get().to(windows::list)))
    .service(resource("/windows/{id}").route(web::get().to(windows::one)))
    .service(resource("/calendar").route(web::get().to(calendar::get)))
    .service(resource("/teams").route(web::get().to(teams::list)))
    .service(resource("/teams/{name}").route(web::get().to(teams::one)))
    .service(resource("/healthz").route(web::get().to(health::healthz)))
    .service(resource("/readyz").route(web::get().to(health::readyz)))
    .default_service(web::to(not_found));
}

fn resource(path: &str) -> actix_web::Resource {
    web::resource(path).default_service(web::to(method_not_allowed))
}

async fn not_found(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    Err(ApiError::NotFound {
        code: "route_not_found",
        message: format!("no route {} {}", req.method(), req.path()),
    })
}

async fn method_not_allowed(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    Err(ApiError::MethodNotAllowed {
        message: format!("{} is not allowed on {}", req.method(), req.path()),
    })
}
