//! Bearer tokens: the auth check hands out a `Caller` with a role, and each
//! handler names the role it needs in its signature, so a handler that takes
//! one cannot run for a caller without it.

use std::collections::HashMap;
use std::future::{Ready, ready};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use actix_web::dev::Payload;
use actix_web::http::header::AUTHORIZATION;
use actix_web::{FromRequest, HttpRequest, web};
use subtle::ConstantTimeEq;

use super::metrics::Metrics;
use crate::config::{Role, TokenSpec, token_digest};
use crate::error::{Error, ErrorCode};
use crate::gate::{Caller, Gate};

/// Bad tokens an address may present in a burst, and how fast it earns the
/// right to another: a client that keeps failing is answered 429, while a
/// good token is never slowed (it is checked first, in constant time).
const FAILURE_BURST: f64 = 10.0;
const FAILURE_REFILL: Duration = Duration::from_secs(6);
/// Addresses remembered at once; past that, those that have recovered go first.
const ADDRESSES_KEPT: usize = 10_000;

/// Failed logins per client address (a token bucket each).
#[derive(Default)]
pub struct Throttle(Mutex<HashMap<IpAddr, Bucket>>);

struct Bucket {
    left: f64,
    at: Instant,
}

impl Bucket {
    fn refill(&mut self, now: Instant) {
        let earned = now.duration_since(self.at).as_secs_f64() / FAILURE_REFILL.as_secs_f64();
        self.left = (self.left + earned).min(FAILURE_BURST);
        self.at = now;
    }
}

impl Throttle {
    /// Note one failure from `ip`; `Err(seconds)` when it has failed too often.
    fn fail(&self, ip: IpAddr) -> Result<(), u64> {
        let now = Instant::now();
        let mut buckets = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if buckets.len() >= ADDRESSES_KEPT && !buckets.contains_key(&ip) {
            buckets.retain(|_, b| {
                b.refill(now);
                b.left < FAILURE_BURST
            });
            if buckets.len() >= ADDRESSES_KEPT {
                buckets.clear();
            }
        }
        let b = buckets.entry(ip).or_insert(Bucket { left: FAILURE_BURST, at: now });
        b.refill(now);
        if b.left >= 1.0 {
            b.left -= 1.0;
            Ok(())
        } else {
            Err(((1.0 - b.left) * FAILURE_REFILL.as_secs_f64()).ceil().max(1.0) as u64)
        }
    }
}

fn unauthorized(message: &str) -> Error {
    Error::new(ErrorCode::Unauthorized, message)
}

/// Find the token's owner. Every configured digest is compared, in constant
/// time, whatever matches, so timing tells nothing about the tokens.
pub fn authenticate(header: Option<&str>, tokens: &[TokenSpec]) -> Result<Caller, Error> {
    let header = header.ok_or_else(|| unauthorized("send a token: Authorization: Bearer <token>"))?;
    let basic;
    let token = match header.split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => token.trim(),
        // A browser sends a token typed as the password of its login prompt.
        Some((scheme, encoded)) if scheme.eq_ignore_ascii_case("basic") => {
            use base64::Engine;
            let decoded = base64::engine::general_purpose::STANDARD.decode(encoded.trim()).unwrap_or_default();
            basic = String::from_utf8(decoded).unwrap_or_default();
            basic.split_once(':').map_or("", |(_, password)| password)
        }
        _ => return Err(unauthorized("use the Bearer scheme: Authorization: Bearer <token>")),
    };
    if token.is_empty() {
        return Err(unauthorized("the bearer token is empty"));
    }
    let presented = token_digest(token);
    let mut found: Option<&TokenSpec> = None;
    for t in tokens {
        if bool::from(t.sha256.ct_eq(&presented)) {
            found = Some(t);
        }
    }
    found.map(Caller::of).ok_or_else(|| unauthorized("the token is not known to this gate"))
}

fn gate(req: &HttpRequest) -> Result<&web::Data<Gate>, Error> {
    req.app_data::<web::Data<Gate>>().ok_or_else(|| Error::internal(anyhow::anyhow!("no application state")))
}

/// A refused token: logged (never the token), counted, and throttled per
/// client address.
fn refused(req: &HttpRequest, e: Error) -> Error {
    let presented = req.headers().contains_key(AUTHORIZATION);
    let reason = if presented { "unknown_token" } else { "no_token" };
    let ip = req.peer_addr().map(|a| a.ip());
    if let Some(m) = req.app_data::<web::Data<Metrics>>() {
        m.auth_failure(reason);
    }
    tracing::warn!(client = ?ip, route = %req.path(), reason, "authentication failed");
    let (Some(ip), Some(throttle), true) = (ip, req.app_data::<web::Data<Throttle>>(), presented) else { return e };
    match throttle.fail(ip) {
        Ok(()) => e,
        Err(seconds) => {
            if let Some(m) = req.app_data::<web::Data<Metrics>>() {
                m.auth_failure("throttled");
            }
            Error {
                retry_after: Some(seconds),
                ..Error::new(
                    ErrorCode::TooManyRequests,
                    format!("too many bad tokens from this address; wait {seconds} s, and check the token"),
                )
            }
        }
    }
}

fn caller(req: &HttpRequest, allowed: &[Role], what: &str) -> Result<Caller, Error> {
    let header = req.headers().get(AUTHORIZATION).map(|h| h.to_str().unwrap_or(""));
    let caller = authenticate(header, &gate(req)?.live().settings.tokens).map_err(|e| refused(req, e))?;
    if !allowed.contains(&caller.role) {
        let roles: Vec<&str> = allowed.iter().map(|r| r.as_str()).collect();
        return Err(Error::new(
            ErrorCode::Forbidden,
            format!(
                "{what} needs a token with role {}; token '{}' has role {}",
                roles.join(" or "),
                caller.name,
                caller.role.as_str()
            ),
        ));
    }
    Ok(caller)
}

macro_rules! role_extractor {
    ($(#[$doc:meta])* $name:ident, [$($role:expr),+], $what:literal) => {
        $(#[$doc])*
        pub struct $name(pub Caller);

        impl FromRequest for $name {
            type Error = Error;
            type Future = Ready<Result<Self, Error>>;

            fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
                ready(caller(req, &[$($role),+], $what).map($name))
            }
        }
    };
}

role_extractor!(
    /// An admin: changes windows and teams, revokes overrides.
    Admin, [Role::Admin], "this change"
);
role_extractor!(
    /// May create overrides (within its scope) and list them.
    Overrider, [Role::Admin, Role::Override], "this override route"
);
role_extractor!(
    /// May edit scorecard cells: an admin anywhere, a team token for its teams.
    TeamEditor, [Role::Admin, Role::Team], "editing a team's scorecard"
);
role_extractor!(
    /// May record health checks: an admin anywhere, a team token for its teams.
    HealthRecorder, [Role::Admin, Role::Team], "recording a team's health check"
);
role_extractor!(
    /// May report deployments: deploy and admin tokens, and override tokens for their own teams.
    Reporter, [Role::Admin, Role::Deploy, Role::Override], "reporting deployments"
);
role_extractor!(
    /// May read the audit log.
    Auditor, [Role::Admin, Role::Read], "the audit log"
);

/// For decisions: a token is needed only when `[auth] decisions_need_token`.
pub struct DecisionCaller(pub Option<Caller>);

impl FromRequest for DecisionCaller {
    type Error = Error;
    type Future = Ready<Result<Self, Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let needed = gate(req).is_ok_and(|g| g.live().settings.decisions_need_token);
        let present = req.headers().contains_key(AUTHORIZATION);
        ready(if needed || present {
            caller(req, &[Role::Admin, Role::Override, Role::Read, Role::Deploy], "a decision")
                .map(|c| DecisionCaller(Some(c)))
        } else {
            Ok(DecisionCaller(None))
        })
    }
}

/// Routes that stay open when `[auth] reads_need_token` is on: health
/// checks, and decisions (governed by `decisions_need_token`).
const ALWAYS_OPEN: &[&str] = &["/healthz", "/readyz", "/can-deploy"];

/// With `[auth] reads_need_token`, every read route needs a `read` or
/// `admin` token; an HTML page also offers the browser's login prompt.
pub async fn reads_need_token(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody + 'static>,
) -> Result<
    actix_web::dev::ServiceResponse<actix_web::body::EitherBody<impl actix_web::body::MessageBody>>,
    actix_web::Error,
> {
    use actix_web::ResponseError;
    let needed = req.app_data::<web::Data<Gate>>().is_some_and(|g| g.live().settings.reads_need_token)
        && matches!(*req.method(), actix_web::http::Method::GET | actix_web::http::Method::HEAD)
        && !ALWAYS_OPEN.contains(&req.path());
    if needed && let Err(e) = caller(req.request(), &[Role::Admin, Role::Read], "reading this gate") {
        let mut res = e.error_response();
        if e.code == ErrorCode::Unauthorized && req.path() == "/" {
            res.headers_mut().append(
                actix_web::http::header::WWW_AUTHENTICATE,
                actix_web::http::header::HeaderValue::from_static("Basic realm=\"deploy-gate\", charset=\"UTF-8\""),
            );
        }
        return Ok(req.into_response(res).map_into_right_body());
    }
    next.call(req).await.map(actix_web::dev::ServiceResponse::map_into_left_body)
}
