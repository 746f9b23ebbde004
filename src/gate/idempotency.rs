//! `Idempotency-Key` on creating requests: the same key from the same token
//! gets the same answer, so a client may retry when an answer was lost.

use serde_json::Value;
use sha2::Digest;

use super::Caller;
use crate::error::{Error, ErrorCode};
use crate::store::{Idempotent, Recorded};

/// What a creating call came to: made now, or answered before for the same key.
pub enum Made<T> {
    Now(T),
    Replayed { status: u16, body: Value },
}

/// A key as sent: 1 to 128 printable ASCII characters.
pub fn key(caller: &Caller, key: Option<&str>, route: &str, body: &Value) -> Result<Option<Idempotent>, Error> {
    let Some(key) = key else { return Ok(None) };
    if key.is_empty() || key.len() > 128 || !key.chars().all(|c| c.is_ascii_graphic()) {
        return Err(Error::field(
            ErrorCode::InvalidHeader,
            "Idempotency-Key",
            "Idempotency-Key must be 1 to 128 printable ASCII characters, e.g. a UUID",
        ));
    }
    let fingerprint = sha2::Sha256::digest(format!("{route}\n{body}").as_bytes());
    Ok(Some(Idempotent {
        token: caller.name.clone(),
        key: key.to_string(),
        fingerprint: crate::config::hex(&fingerprint),
    }))
}

/// The answer recorded for a key (the store answers one only for a key
/// sent), if it was for the same request.
pub fn replay<T>(idem: Option<&Idempotent>, recorded: Recorded) -> Result<Made<T>, Error> {
    let Some(idem) = idem else { return Err(Error::internal(anyhow::anyhow!("a replay without a key"))) };
    if recorded.fingerprint != idem.fingerprint {
        return Err(Error::field(
            ErrorCode::IdempotencyKeyReused,
            "Idempotency-Key",
            format!(
                "Idempotency-Key `{}` was used with a different request by this token; use a new key for a new request",
                idem.key
            ),
        ));
    }
    Ok(Made::Replayed { status: recorded.status, body: recorded.response })
}
