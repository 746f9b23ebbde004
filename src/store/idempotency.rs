//! Idempotency keys: the first success of a creating request is kept in the
//! same transaction as what it created, so a client retrying after a lost
//! answer gets that answer again instead of a second override.

use chrono::{DateTime, Duration, Utc};
use serde_json::Value;
use sqlx::{AnyConnection, Row};

use super::{Store, millis};

/// How long a key is remembered.
pub const KEPT: Duration = Duration::hours(24);

/// A creating request sent with a key.
#[derive(Clone, Debug)]
pub struct Idempotent {
    /// The token's name: keys are per token.
    pub token: String,
    pub key: String,
    /// What was asked (method, path, body), so a reused key is noticed.
    pub fingerprint: String,
}

/// An answer given before.
#[derive(Clone, Debug, PartialEq)]
pub struct Recorded {
    pub fingerprint: String,
    pub status: u16,
    pub response: Value,
}

/// Claim `idem` for this answer inside the writer's transaction; when the
/// key was claimed before, the answer recorded then.
pub(super) async fn claim(
    conn: &mut AnyConnection,
    idem: &Idempotent,
    status: u16,
    response: &Value,
    at: DateTime<Utc>,
) -> anyhow::Result<Option<Recorded>> {
    let claimed = sqlx::query(
        "INSERT INTO idempotency (token, key, fingerprint, status, response, created_at) VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (token, key) DO NOTHING",
    )
    .bind(&idem.token)
    .bind(&idem.key)
    .bind(&idem.fingerprint)
    .bind(i64::from(status))
    .bind(response.to_string())
    .bind(millis(at))
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if claimed == 1 {
        return Ok(None);
    }
    let row = sqlx::query("SELECT fingerprint, status, response FROM idempotency WHERE token = $1 AND key = $2")
        .bind(&idem.token)
        .bind(&idem.key)
        .fetch_one(&mut *conn)
        .await?;
    let status: i64 = row.try_get(1)?;
    let response: String = row.try_get(2)?;
    Ok(Some(Recorded {
        fingerprint: row.try_get(0)?,
        status: u16::try_from(status).unwrap_or(200),
        response: serde_json::from_str(&response)?,
    }))
}

impl Store {
    /// Forget keys older than [`KEPT`].
    pub async fn forget_idempotency_keys(&self, now: DateTime<Utc>) -> anyhow::Result<u64> {
        let mut tx = self.write().await?;
        let gone = sqlx::query("DELETE FROM idempotency WHERE created_at < $1")
            .bind(millis(now - KEPT))
            .execute(tx.conn())
            .await?
            .rows_affected();
        tx.commit().await?;
        Ok(gone)
    }
}
