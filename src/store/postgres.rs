//! PostgreSQL, for several replicas: they share the database, take turns
//! through row locks (the change feed's revision row orders every change),
//! and learn of each other's writes from the change feed.

use std::sync::Once;
use std::time::Duration;

use anyhow::Context;
use chrono::Utc;
use sqlx::any::AnyPoolOptions;
use sqlx::{AnyPool, AssertSqlSafe, Executor};

use super::{Store, millis};

/// Schema changes, in order; the same versions as SQLite's.
const MIGRATIONS: &[(i64, &str, &str)] = &[
    (1, "initial", include_str!("migrations/postgres/0001_initial.sql")),
    (2, "change feed", include_str!("migrations/postgres/0002_change_feed.sql")),
    (3, "idempotency keys", include_str!("migrations/postgres/0003_idempotency.sql")),
    (4, "unrecorded expiries", include_str!("migrations/postgres/0004_unrecorded_expiries.sql")),
    (5, "scorecard cells", include_str!("migrations/postgres/0005_scorecard.sql")),
    (6, "deployments", include_str!("migrations/postgres/0006_deployments.sql")),
    (7, "health checks", include_str!("migrations/postgres/0007_health_checks.sql")),
];

/// The advisory lock replicas starting together take turns on to migrate.
const MIGRATION_LOCK: i64 = 0x6465_706c_6f79;

pub fn is_url(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

pub async fn connect(url: &str) -> anyhow::Result<AnyPool> {
    static DRIVERS: Once = Once::new();
    DRIVERS.call_once(sqlx::any::install_default_drivers);
    // rustls needs its provider chosen once per process.
    let _ = rustls::crypto::ring::default_provider().install_default();
    AnyPoolOptions::new()
        .max_connections(16)
        .acquire_timeout(Duration::from_secs(5))
        .connect(url)
        .await
        .with_context(|| format!("cannot open the store at {}", redact(url)))
}

/// The URL without its password, for messages.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            let user = creds.split(':').next().unwrap_or("");
            format!("{}{user}:***{}", &url[..s + 3], &url[at..])
        }
        _ => url.to_string(),
    }
}

/// Run what is missing, once, however many replicas start together.
pub async fn migrate(store: &Store) -> anyhow::Result<()> {
    let mut conn = store.pool().acquire().await.context("no connection to the store")?;
    sqlx::query("SELECT pg_advisory_lock($1)").bind(MIGRATION_LOCK).execute(&mut *conn).await?;
    let result = async {
        conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)",
        )
        .await
        .context("cannot create the migrations table")?;
        for (version, name, sql) in MIGRATIONS {
            let done: Option<i64> = sqlx::query_scalar("SELECT version FROM schema_migrations WHERE version = $1")
                .bind(*version)
                .fetch_optional(&mut *conn)
                .await?;
            if done.is_some() {
                continue;
            }
            conn.execute("BEGIN").await?;
            let applied = async {
                sqlx::raw_sql(AssertSqlSafe(*sql))
                    .execute(&mut *conn)
                    .await
                    .with_context(|| format!("migration {version} ({name}) failed"))?;
                sqlx::query("INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)")
                    .bind(*version)
                    .bind(*name)
                    .bind(millis(Utc::now()))
                    .execute(&mut *conn)
                    .await?;
                anyhow::Ok(())
            }
            .await;
            match applied {
                Ok(()) => {
                    conn.execute("COMMIT").await?;
                }
                Err(e) => {
                    let _ = conn.execute("ROLLBACK").await;
                    return Err(e);
                }
            }
        }
        anyhow::Ok(())
    }
    .await;
    let _ = sqlx::query("SELECT pg_advisory_unlock($1)").bind(MIGRATION_LOCK).execute(&mut *conn).await;
    result
}

#[cfg(test)]
mod tests {
    #[test]
    fn passwords_stay_out_of_messages() {
        assert_eq!(super::redact("postgres://gate:s3cret@db:5432/gate"), "postgres://gate:***@db:5432/gate");
        assert_eq!(super::redact("postgres://db/gate"), "postgres://db/gate");
    }
}
