//! Bearer tokens: the auth check hands out a `Caller` with a role, and each
//! handler names the role it needs in its signature, so a handler that takes
//! one cannot run for a caller without it.

use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::http::header::AUTHORIZATION;
use actix_web::{FromRequest, HttpRequest, web};
use subtle::ConstantTimeEq;

use super::error::ApiError;
use super::state::AppState;
use crate::config::{Role, TokenSpec, token_digest};
use crate::policy::Selector;

/// Who is calling, by the token they presented. Never holds the token.
#[derive(Clone, Debug)]
pub struct Caller {
    pub name: String,
    pub role: Role,
    pub teams: Selector,
    pub environments: Selector,
}

impl Caller {
    /// Whether this caller may act on a team in an environment: admins
    /// anywhere, others within their token's scope.
    pub fn in_scope(&self, team: &str, environment: &str) -> bool {
        self.role == Role::Admin || (self.teams.matches(team) && self.environments.matches(environment))
    }
}

/// Find the token's owner. Every configured digest is compared, in constant
/// time, whatever matches, so timing tells nothing about the tokens.
pub fn authenticate(header: Option<&str>, tokens: &[TokenSpec]) -> Result<Caller, ApiError> {
    let header = header.ok_or_else(|| ApiError::Unauthorized("send a token: Authorization: Bearer <token>".into()))?;
    let token = match header.split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => token.trim(),
        _ => {
            return Err(ApiError::Unauthorized("use the Bearer scheme: Authorization: Bearer <token>".into()));
        }
    };
    if token.is_empty() {
        return Err(ApiError::Unauthorized("the bearer token is empty".into()));
    }
    let presented = token_digest(token);
    let mut found: Option<&TokenSpec> = None;
    for t in tokens {
        if bool::from(t.sha256.ct_eq(&presented)) {
            found = Some(t);
        }
    }
    let t = found.ok_or_else(|| ApiError::Unauthorized("the token is not known to this gate".into()))?;
    Ok(Caller { name: t.name.clone(), role: t.role, teams: t.teams.clone(), environments: t.environments.clone() })
}

fn caller(req: &HttpRequest, allowed: &[Role], what: &str) -> Result<Caller, ApiError> {
    let state = req
        .app_data::<web::Data<AppState>>()
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("no application state")))?;
    let header = req.headers().get(AUTHORIZATION).map(|h| h.to_str().unwrap_or(""));
    let caller = authenticate(header, &state.live().settings.tokens)?;
    if !allowed.contains(&caller.role) {
        let roles: Vec<&str> = allowed.iter().map(|r| r.as_str()).collect();
        return Err(ApiError::Forbidden(format!(
            "{what} needs a token with role {}; token '{}' has role {}",
            roles.join(" or "),
            caller.name,
            caller.role.as_str()
        )));
    }
    Ok(caller)
}

macro_rules! role_extractor {
    ($(#[$doc:meta])* $name:ident, [$($role:expr),+], $what:literal) => {
        $(#[$doc])*
        pub struct $name(pub Caller);

        impl FromRequest for $name {
            type Error = ApiError;
            type Future = Ready<Result<Self, ApiError>>;

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
    /// May read the audit log.
    Auditor, [Role::Admin, Role::Read], "the audit log"
);

/// For decisions: a token is needed only when `[auth] decisions_need_token`.
pub struct DecisionCaller(pub Option<Caller>);

impl FromRequest for DecisionCaller {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let needed = req.app_data::<web::Data<AppState>>().is_some_and(|s| s.live().settings.decisions_need_token);
        let present = req.headers().contains_key(AUTHORIZATION);
        ready(if needed || present {
            caller(req, &[Role::Admin, Role::Override, Role::Read], "a decision").map(|c| DecisionCaller(Some(c)))
        } else {
            Ok(DecisionCaller(None))
        })
    }
}
