//! Bearer tokens: the auth check hands out a `Caller` with a role, and each
//! handler names the role it needs in its signature, so a handler that takes
//! one cannot run for a caller without it.

use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::http::header::AUTHORIZATION;
use actix_web::{FromRequest, HttpRequest, web};
use subtle::ConstantTimeEq;

use crate::config::{Role, TokenSpec, token_digest};
use crate::error::{Error, ErrorCode};
use crate::gate::{Caller, Gate};

fn unauthorized(message: &str) -> Error {
    Error::new(ErrorCode::Unauthorized, message)
}

/// Find the token's owner. Every configured digest is compared, in constant
/// time, whatever matches, so timing tells nothing about the tokens.
pub fn authenticate(header: Option<&str>, tokens: &[TokenSpec]) -> Result<Caller, Error> {
    let header = header.ok_or_else(|| unauthorized("send a token: Authorization: Bearer <token>"))?;
    let token = match header.split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => token.trim(),
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

fn caller(req: &HttpRequest, allowed: &[Role], what: &str) -> Result<Caller, Error> {
    let header = req.headers().get(AUTHORIZATION).map(|h| h.to_str().unwrap_or(""));
    let caller = authenticate(header, &gate(req)?.live().settings.tokens)?;
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
            caller(req, &[Role::Admin, Role::Override, Role::Read], "a decision").map(|c| DecisionCaller(Some(c)))
        } else {
            Ok(DecisionCaller(None))
        })
    }
}
