//! SQLite, the embedded default for one replica: a file, WAL mode, every
//! commit on disk before anyone hears of it.

use std::path::Path;
use std::sync::Once;

use anyhow::Context;
use chrono::Utc;
use sqlx::any::AnyPoolOptions;
use sqlx::{AnyPool, AssertSqlSafe, Executor};

use super::{Store, millis};

/// Schema changes, in order; each runs once, in a transaction.
const MIGRATIONS: &[(i64, &str, &str)] = &[
    (1, "initial", include_str!("migrations/sqlite/0001_initial.sql")),
    (2, "change feed", include_str!("migrations/sqlite/0002_change_feed.sql")),
    (3, "idempotency keys", include_str!("migrations/sqlite/0003_idempotency.sql")),
    (4, "unrecorded expiries", include_str!("migrations/sqlite/0004_unrecorded_expiries.sql")),
    (5, "scorecard cells", include_str!("migrations/sqlite/0005_scorecard.sql")),
    (6, "deployments", include_str!("migrations/sqlite/0006_deployments.sql")),
    (7, "health checks", include_str!("migrations/sqlite/0007_health_checks.sql")),
];

/// The file path of a `sqlite://PATH` (or `sqlite:PATH`) URL, without options.
pub fn path_of(url: &str) -> Option<&str> {
    let path = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"))?;
    let file = path.split_once('?').map_or(path, |(f, _)| f);
    (!file.is_empty()).then_some(file)
}

pub async fn connect(url: &str) -> anyhow::Result<AnyPool> {
    static DRIVERS: Once = Once::new();
    DRIVERS.call_once(sqlx::any::install_default_drivers);
    let file = path_of(url).with_context(|| format!("`{url}` names no file"))?;
    let dir = Path::new(file).parent().filter(|d| !d.as_os_str().is_empty());
    if let Some(dir) = dir.filter(|_| file != ":memory:") {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create the store directory {}", dir.display()))?;
    }
    let url = if url.contains('?') { url.to_string() } else { format!("{url}?mode=rwc") };
    AnyPoolOptions::new()
        .max_connections(4)
        .after_connect(|conn, _| {
            Box::pin(async move {
                // WAL: readers never wait for the writer. FULL: a commit is on
                // disk before the caller hears of it. Writers in this process
                // take turns (Store::write), so the busy timeout only covers
                // another process holding the file.
                conn.execute("PRAGMA journal_mode = WAL").await?;
                conn.execute("PRAGMA synchronous = FULL").await?;
                conn.execute("PRAGMA busy_timeout = 2000").await?;
                // The audit log is appended to, rarely read back: a small
                // page cache per connection is enough (the default is 2 MB).
                conn.execute("PRAGMA cache_size = -256").await?;
                Ok(())
            })
        })
        .connect(&url)
        .await
        .with_context(|| format!("cannot open the store at {url}"))
}

pub async fn migrate(store: &Store) -> anyhow::Result<()> {
    store
        .pool()
        .execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)",
        )
        .await
        .context("cannot create the migrations table")?;
    for (version, name, sql) in MIGRATIONS {
        let mut tx = store.write().await?;
        let done: Option<i64> = sqlx::query_scalar("SELECT version FROM schema_migrations WHERE version = $1")
            .bind(*version)
            .fetch_optional(tx.conn())
            .await?;
        if done.is_none() {
            sqlx::raw_sql(AssertSqlSafe(*sql))
                .execute(tx.conn())
                .await
                .with_context(|| format!("migration {version} ({name}) failed"))?;
            sqlx::query("INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)")
                .bind(*version)
                .bind(*name)
                .bind(millis(Utc::now()))
                .execute(tx.conn())
                .await?;
        }
        tx.commit().await?;
    }
    Ok(())
}
