//! What lasts: windows and teams changed through the API, overrides and the
//! audit log. One code path over sqlx's `Any` driver: SQLite (embedded, the
//! default) today; a PostgreSQL backend needs only its own migrations here,
//! nothing in the decision engine or the routes.

mod audit;

use std::path::Path;
use std::sync::Once;

use anyhow::{Context, bail};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Value, json};
use sqlx::any::{AnyPoolOptions, AnyRow};
// Table and column names in the SQL built here are constants, never input:
// values always go through bind parameters.
use sqlx::{AnyPool, AssertSqlSafe, Executor, Row};

pub use audit::AuditLog;

use crate::policy::{Name, Override};

/// Schema changes, in order; each runs once, in a transaction.
const SQLITE_MIGRATIONS: &[(i64, &str, &str)] = &[(1, "initial", include_str!("migrations/sqlite/0001_initial.sql"))];

/// One audit record to write.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct AuditEntry {
    pub kind: String,
    pub at: DateTime<Utc>,
    /// Who: a token's name, or the caller's `actor` for decisions.
    pub actor: Option<String>,
    pub team: Option<String>,
    pub environment: Option<String>,
    #[schema(value_type = Object)]
    pub details: Value,
}

/// An audit record as stored.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct AuditRecord {
    pub id: i64,
    #[serde(flatten)]
    pub entry: AuditEntry,
}

/// Which audit records to list, newest first.
#[derive(Clone, Debug, Default)]
pub struct AuditFilter {
    /// `decision`, or a prefix such as `override` for `override.created` etc.
    pub kind: Option<String>,
    pub team: Option<String>,
    pub since: Option<DateTime<Utc>>,
    /// Only records older than this id (the next page).
    pub before: Option<i64>,
    pub limit: i64,
}

/// A window or team kept by the store, as its JSON definition.
#[derive(Clone, Debug)]
pub struct Stored {
    pub key: String,
    pub spec: Value,
}

/// What revoking an override found.
#[derive(Debug)]
pub enum Revoked {
    Now(Override),
    AlreadyEnded(Override),
    NotFound,
}

/// What the API can define, and where each is kept.
#[derive(Clone, Copy)]
enum Definition {
    Window,
    Team,
}

impl Definition {
    /// Table, key column, and the name used in audit records.
    fn table(self) -> (&'static str, &'static str, &'static str) {
        match self {
            Definition::Window => ("windows", "id", "window"),
            Definition::Team => ("teams", "name", "team"),
        }
    }
}

#[derive(Clone, Debug)]
pub struct Store {
    pool: AnyPool,
}

fn millis(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

fn from_millis(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

impl Store {
    /// Open (and create, with its schema) the store at `url`.
    pub async fn open(url: &str) -> anyhow::Result<Store> {
        static DRIVERS: Once = Once::new();
        DRIVERS.call_once(sqlx::any::install_default_drivers);
        let Some(path) = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")) else {
            bail!("store url `{url}`: only sqlite:// is supported by this build");
        };
        let (file, _) = path.split_once('?').unwrap_or((path, ""));
        let dir = Path::new(file).parent().filter(|d| !d.as_os_str().is_empty());
        if let Some(dir) = dir.filter(|_| file != ":memory:") {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create the store directory {}", dir.display()))?;
        }
        let url = if url.contains('?') { url.to_string() } else { format!("{url}?mode=rwc") };
        let pool = AnyPoolOptions::new()
            .max_connections(4)
            .after_connect(|conn, _| {
                Box::pin(async move {
                    // WAL: readers never wait for the writer. FULL: a commit is
                    // on disk before the caller hears of it.
                    conn.execute("PRAGMA journal_mode = WAL").await?;
                    conn.execute("PRAGMA synchronous = FULL").await?;
                    conn.execute("PRAGMA busy_timeout = 10000").await?;
                    Ok(())
                })
            })
            .connect(&url)
            .await
            .with_context(|| format!("cannot open the store at {url}"))?;
        let store = Store { pool };
        store.migrate().await?;
        Ok(store)
    }

    async fn migrate(&self) -> anyhow::Result<()> {
        self.pool
            .execute("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)")
            .await
            .context("cannot create the migrations table")?;
        for (version, name, sql) in SQLITE_MIGRATIONS {
            let mut tx = self.pool.begin().await?;
            let done: Option<i64> = sqlx::query_scalar("SELECT version FROM schema_migrations WHERE version = $1")
                .bind(*version)
                .fetch_optional(&mut *tx)
                .await?;
            if done.is_some() {
                continue;
            }
            sqlx::raw_sql(AssertSqlSafe(*sql))
                .execute(&mut *tx)
                .await
                .with_context(|| format!("migration {version} ({name}) failed"))?;
            sqlx::query("INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)")
                .bind(*version)
                .bind(*name)
                .bind(millis(Utc::now()))
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
        }
        Ok(())
    }

    /// Reachable and answering.
    pub async fn ping(&self) -> anyhow::Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await.context("the store does not answer")?;
        Ok(())
    }

    // ---- windows and teams changed through the API

    pub async fn windows(&self) -> anyhow::Result<Vec<Stored>> {
        self.definitions("SELECT id, spec FROM windows ORDER BY id").await
    }

    pub async fn teams(&self) -> anyhow::Result<Vec<Stored>> {
        self.definitions("SELECT name, spec FROM teams ORDER BY name").await
    }

    async fn definitions(&self, sql: &'static str) -> anyhow::Result<Vec<Stored>> {
        let rows = sqlx::query(sql).fetch_all(&self.pool).await?;
        rows.iter()
            .map(|r| {
                let key: String = r.try_get(0)?;
                let spec: String = r.try_get(1)?;
                let spec =
                    serde_json::from_str(&spec).with_context(|| format!("stored definition of {key} is not JSON"))?;
                Ok(Stored { key, spec })
            })
            .collect()
    }

    /// Create or replace a window, recording the change; answers the previous definition.
    pub async fn put_window(
        &self,
        id: &str,
        spec: &Value,
        by: &str,
        at: DateTime<Utc>,
    ) -> anyhow::Result<Option<Value>> {
        self.put(Definition::Window, id, spec, by, at).await
    }

    /// Create or replace a team, recording the change; answers the previous definition.
    pub async fn put_team(
        &self,
        name: &str,
        spec: &Value,
        by: &str,
        at: DateTime<Utc>,
    ) -> anyhow::Result<Option<Value>> {
        self.put(Definition::Team, name, spec, by, at).await
    }

    async fn put(
        &self,
        what: Definition,
        key: &str,
        spec: &Value,
        by: &str,
        at: DateTime<Utc>,
    ) -> anyhow::Result<Option<Value>> {
        let (table, key_column, name) = what.table();
        let mut tx = self.pool.begin().await?;
        let before: Option<String> =
            sqlx::query_scalar(AssertSqlSafe(format!("SELECT spec FROM {table} WHERE {key_column} = $1")))
                .bind(key)
                .fetch_optional(&mut *tx)
                .await?;
        let before: Option<Value> = before.map(|s| serde_json::from_str(&s)).transpose()?;
        sqlx::query(AssertSqlSafe(format!(
            "INSERT INTO {table} ({key_column}, spec, updated_at, updated_by) VALUES ($1, $2, $3, $4) \
             ON CONFLICT ({key_column}) DO UPDATE SET spec = excluded.spec, updated_at = excluded.updated_at, updated_by = excluded.updated_by"
        )))
        .bind(key)
        .bind(spec.to_string())
        .bind(millis(at))
        .bind(by)
        .execute(&mut *tx)
        .await?;
        let kind = format!("{name}.{}", if before.is_some() { "updated" } else { "created" });
        let entry = AuditEntry {
            kind,
            at,
            actor: Some(by.to_string()),
            team: matches!(what, Definition::Team).then(|| key.to_string()),
            environment: None,
            details: json!({ name: key, "before": before, "after": spec }),
        };
        insert_audit(&mut tx, &entry).await?;
        tx.commit().await?;
        Ok(before)
    }

    /// Delete a window, recording the change; answers the deleted definition.
    pub async fn delete_window(&self, id: &str, by: &str, at: DateTime<Utc>) -> anyhow::Result<Option<Value>> {
        let mut tx = self.pool.begin().await?;
        let before: Option<String> =
            sqlx::query_scalar("SELECT spec FROM windows WHERE id = $1").bind(id).fetch_optional(&mut *tx).await?;
        let Some(before) = before else {
            return Ok(None);
        };
        let before: Value = serde_json::from_str(&before)?;
        sqlx::query("DELETE FROM windows WHERE id = $1").bind(id).execute(&mut *tx).await?;
        let entry = AuditEntry {
            kind: "window.deleted".into(),
            at,
            actor: Some(by.to_string()),
            team: None,
            environment: None,
            details: json!({"window": id, "before": before, "after": null}),
        };
        insert_audit(&mut tx, &entry).await?;
        tx.commit().await?;
        Ok(Some(before))
    }

    // ---- overrides

    /// Overrides not revoked whose expiry is after `now`.
    pub async fn active_overrides(&self, now: DateTime<Utc>) -> anyhow::Result<Vec<Override>> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {OVERRIDE_COLUMNS} FROM overrides WHERE revoked_at IS NULL AND expires_at > $1 ORDER BY created_at DESC, id"
        )))
        .bind(millis(now))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(override_from_row).collect()
    }

    /// Every override, newest first, at most `limit`.
    pub async fn overrides(&self, limit: i64) -> anyhow::Result<Vec<Override>> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {OVERRIDE_COLUMNS} FROM overrides ORDER BY created_at DESC, id LIMIT $1"
        )))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(override_from_row).collect()
    }

    /// Record a new override and its audit record, together.
    pub async fn create_override(&self, o: &Override) -> anyhow::Result<()> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(AssertSqlSafe(format!(
            "INSERT INTO overrides ({OVERRIDE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
        )))
        .bind(&o.id)
        .bind(o.team.as_str())
        .bind(o.service.as_ref().map(|s| s.as_str().to_string()))
        .bind(o.environment.as_str())
        .bind(&o.reason)
        .bind(o.ticket.clone())
        .bind(&o.created_by)
        .bind(millis(o.created_at))
        .bind(millis(o.expires_at))
        .bind(o.revoked_at.map(millis))
        .bind(o.revoked_by.clone())
        .execute(&mut *tx)
        .await?;
        insert_audit(&mut tx, &override_entry("override.created", o.created_at, &o.created_by, o)).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Revoke an override early, recording it.
    pub async fn revoke_override(&self, id: &str, by: &str, at: DateTime<Utc>) -> anyhow::Result<Revoked> {
        let mut tx = self.pool.begin().await?;
        let row = sqlx::query(AssertSqlSafe(format!("SELECT {OVERRIDE_COLUMNS} FROM overrides WHERE id = $1")))
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
        let Some(row) = row else {
            return Ok(Revoked::NotFound);
        };
        let mut o = override_from_row(&row)?;
        if !o.active_at(at) {
            return Ok(Revoked::AlreadyEnded(o));
        }
        sqlx::query("UPDATE overrides SET revoked_at = $1, revoked_by = $2 WHERE id = $3")
            .bind(millis(at))
            .bind(by)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        o.revoked_at = Some(at);
        o.revoked_by = Some(by.to_string());
        insert_audit(&mut tx, &override_entry("override.revoked", at, by, &o)).await?;
        tx.commit().await?;
        Ok(Revoked::Now(o))
    }

    /// Record the expiry of every override that ran out by `now` and was
    /// neither revoked nor recorded yet; each is recorded once, at its
    /// `expires_at`.
    pub async fn record_expired(&self, now: DateTime<Utc>) -> anyhow::Result<Vec<Override>> {
        let mut tx = self.pool.begin().await?;
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {OVERRIDE_COLUMNS} FROM overrides WHERE expiry_recorded = 0 AND revoked_at IS NULL AND expires_at <= $1"
        )))
        .bind(millis(now))
        .fetch_all(&mut *tx)
        .await?;
        let expired: Vec<Override> = rows.iter().map(override_from_row).collect::<anyhow::Result<_>>()?;
        for o in &expired {
            let done = sqlx::query("UPDATE overrides SET expiry_recorded = 1 WHERE id = $1 AND expiry_recorded = 0")
                .bind(&o.id)
                .execute(&mut *tx)
                .await?;
            if done.rows_affected() == 1 {
                insert_audit(&mut tx, &override_entry("override.expired", o.expires_at, "deploy-gate", o)).await?;
            }
        }
        tx.commit().await?;
        Ok(expired)
    }

    // ---- the audit log

    /// Append records in one transaction (group commit), many rows to a statement.
    pub async fn append(&self, entries: &[AuditEntry]) -> anyhow::Result<()> {
        const ROWS: usize = 100;
        let mut tx = self.pool.begin().await?;
        for chunk in entries.chunks(ROWS) {
            let rows: Vec<String> = (0..chunk.len())
                .map(|i| {
                    let n = i * 6;
                    format!("(${}, ${}, ${}, ${}, ${}, ${})", n + 1, n + 2, n + 3, n + 4, n + 5, n + 6)
                })
                .collect();
            let sql =
                format!("INSERT INTO audit (at, kind, actor, team, environment, details) VALUES {}", rows.join(", "));
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for e in chunk {
                q = q
                    .bind(millis(e.at))
                    .bind(e.kind.clone())
                    .bind(e.actor.clone())
                    .bind(e.team.clone())
                    .bind(e.environment.clone())
                    .bind(e.details.to_string());
            }
            q.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Audit records, newest first.
    pub async fn audit(&self, filter: &AuditFilter) -> anyhow::Result<Vec<AuditRecord>> {
        let mut n = 0;
        let mut next = || {
            n += 1;
            format!("${n}")
        };
        let mut clauses = Vec::new();
        if filter.kind.is_some() {
            clauses.push(format!("(kind = {} OR kind LIKE {})", next(), next()));
        }
        if filter.team.is_some() {
            clauses.push(format!("team = {}", next()));
        }
        if filter.since.is_some() {
            clauses.push(format!("at >= {}", next()));
        }
        if filter.before.is_some() {
            clauses.push(format!("id < {}", next()));
        }
        let filter_sql = if clauses.is_empty() { String::new() } else { format!("WHERE {}", clauses.join(" AND ")) };
        let sql = format!(
            "SELECT id, at, kind, actor, team, environment, details FROM audit {filter_sql} ORDER BY id DESC LIMIT {}",
            next()
        );
        let mut q = sqlx::query(AssertSqlSafe(sql));
        if let Some(kind) = &filter.kind {
            q = q.bind(kind.clone()).bind(format!("{kind}.%"));
        }
        if let Some(team) = &filter.team {
            q = q.bind(team.clone());
        }
        if let Some(since) = filter.since {
            q = q.bind(millis(since));
        }
        if let Some(before) = filter.before {
            q = q.bind(before);
        }
        let rows = q.bind(filter.limit).fetch_all(&self.pool).await?;
        rows.iter()
            .map(|r| {
                let details: String = r.try_get(6)?;
                Ok(AuditRecord {
                    id: r.try_get(0)?,
                    entry: AuditEntry {
                        at: from_millis(r.try_get(1)?),
                        kind: r.try_get(2)?,
                        actor: r.try_get(3)?,
                        team: r.try_get(4)?,
                        environment: r.try_get(5)?,
                        details: serde_json::from_str(&details)?,
                    },
                })
            })
            .collect()
    }
}

const OVERRIDE_COLUMNS: &str =
    "id, team, service, environment, reason, ticket, created_by, created_at, expires_at, revoked_at, revoked_by";

fn override_from_row(r: &AnyRow) -> anyhow::Result<Override> {
    let name = |what: &str, text: String| Name::parse(what, &text).map_err(anyhow::Error::msg);
    let service: Option<String> = r.try_get(2)?;
    let revoked_at: Option<i64> = r.try_get(9)?;
    Ok(Override {
        id: r.try_get(0)?,
        team: name("team", r.try_get(1)?)?,
        service: service.map(|s| name("service", s)).transpose()?,
        environment: name("environment", r.try_get(3)?)?,
        reason: r.try_get(4)?,
        ticket: r.try_get(5)?,
        created_by: r.try_get(6)?,
        created_at: from_millis(r.try_get(7)?),
        expires_at: from_millis(r.try_get(8)?),
        revoked_at: revoked_at.map(from_millis),
        revoked_by: r.try_get(10)?,
    })
}

fn override_entry(kind: &str, at: DateTime<Utc>, by: &str, o: &Override) -> AuditEntry {
    AuditEntry {
        kind: kind.into(),
        at,
        actor: Some(by.to_string()),
        team: Some(o.team.to_string()),
        environment: Some(o.environment.to_string()),
        details: json!({ "override": o }),
    }
}

async fn insert_audit(tx: &mut sqlx::Transaction<'_, sqlx::Any>, e: &AuditEntry) -> anyhow::Result<()> {
    sqlx::query("INSERT INTO audit (at, kind, actor, team, environment, details) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(millis(e.at))
        .bind(&e.kind)
        .bind(e.actor.clone())
        .bind(e.team.clone())
        .bind(e.environment.clone())
        .bind(e.details.to_string())
        .execute(&mut **tx)
        .await?;
    Ok(())
}
