//! What lasts: windows and teams changed through the API, overrides, the
//! audit log, and the change feed by which every replica learns of the
//! others' writes. One small trait per job; one backend type, [`Store`],
//! implements them all with portable SQL over sqlx's `Any` driver, and each
//! database brings only what differs (connection settings, migrations, how a
//! write transaction begins) in its own module.

mod audit;
mod definitions;
mod deployments;
mod health_checks;
mod idempotency;
mod journal;
mod overrides;
mod postgres;
mod sqlite;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use sqlx::pool::PoolConnection;
use sqlx::{Any, AnyConnection, AnyPool, Executor};
use tokio::sync::{Mutex, OwnedMutexGuard};

pub use idempotency::{Idempotent, Recorded};
pub use journal::AuditWriter;
pub use overrides::CHANGE_KIND as OVERRIDE_CHANGE;

use crate::policy::Override;

/// How long a write may wait for its turn (another writer, a busy database)
/// before it gives up and the caller hears "store unavailable".
const WRITE_WAIT: Duration = Duration::from_secs(5);

// ---- what is kept

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

/// What the API can define and the store keeps as JSON.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DefinitionKind {
    Window,
    Team,
    /// A scorecard cell, keyed `team/item`.
    Cell,
}

impl DefinitionKind {
    /// The name in audit records and in the change feed.
    pub fn name(self) -> &'static str {
        match self {
            DefinitionKind::Window => "window",
            DefinitionKind::Team => "team",
            DefinitionKind::Cell => "cell",
        }
    }
}

/// A definition kept by the store, as its JSON.
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

/// What creating an override came to.
#[derive(Debug)]
pub enum Created {
    Now,
    /// `limit` overrides are in force already.
    TooMany,
    /// The idempotency key was used before: its answer.
    Replayed(Recorded),
}

/// What adding a definition came to.
#[derive(Debug)]
pub enum Inserted {
    Now,
    /// The key exists (the database decides).
    Exists,
    /// The idempotency key was used before: its answer.
    Replayed(Recorded),
}

/// A creating request's idempotency key, with the answer it will get.
pub type Answering<'a> = Option<(&'a Idempotent, u16, &'a Value)>;

/// Which overrides to list, newest first.
#[derive(Clone, Debug)]
pub struct OverrideFilter {
    /// Only those in force at this instant.
    pub active_at: Option<DateTime<Utc>>,
    /// Only those created before this override (the next page).
    pub before: Option<Override>,
    pub limit: i64,
}

/// One change another replica (or this one) made, as the change feed has it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    pub kind: String,
    pub key: String,
}

/// The change feed since a revision.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Changes {
    /// What changed, in order, up to revision `latest`.
    Since { latest: i64, changes: Vec<Change> },
    /// The feed no longer reaches back that far: read everything again.
    Everything { latest: i64 },
}

// ---- the jobs

/// Windows and teams changed through the API.
pub trait Definitions {
    fn definitions(&self, kind: DefinitionKind) -> impl Future<Output = anyhow::Result<Vec<Stored>>> + Send;
    fn definition(
        &self,
        kind: DefinitionKind,
        key: &str,
    ) -> impl Future<Output = anyhow::Result<Option<Stored>>> + Send;
    /// Add a new one, unless the key exists (the database decides).
    fn insert_definition(
        &self,
        kind: DefinitionKind,
        key: &str,
        spec: &Value,
        by: &str,
        at: DateTime<Utc>,
        answering: Answering<'_>,
    ) -> impl Future<Output = anyhow::Result<Inserted>> + Send;
    /// Add or replace; answers the previous definition.
    fn put_definition(
        &self,
        kind: DefinitionKind,
        key: &str,
        spec: &Value,
        by: &str,
        at: DateTime<Utc>,
    ) -> impl Future<Output = anyhow::Result<Option<Value>>> + Send;
    /// Remove; answers the removed definition.
    fn delete_definition(
        &self,
        kind: DefinitionKind,
        key: &str,
        by: &str,
        at: DateTime<Utc>,
    ) -> impl Future<Output = anyhow::Result<Option<Value>>> + Send;
}

/// Emergency overrides.
pub trait Overrides {
    /// Overrides not revoked whose expiry is after `now`.
    fn active_overrides(&self, now: DateTime<Utc>) -> impl Future<Output = anyhow::Result<Vec<Override>>> + Send;
    fn override_by_id(&self, id: &str) -> impl Future<Output = anyhow::Result<Option<Override>>> + Send;
    fn list_overrides(&self, filter: &OverrideFilter) -> impl Future<Output = anyhow::Result<Vec<Override>>> + Send;
    /// Record a new override and its audit record together, unless `limit`
    /// overrides are already in force.
    fn create_override(
        &self,
        o: &Override,
        limit: i64,
        answering: Answering<'_>,
    ) -> impl Future<Output = anyhow::Result<Created>> + Send;
    fn revoke_override(
        &self,
        id: &str,
        by: &str,
        at: DateTime<Utc>,
    ) -> impl Future<Output = anyhow::Result<Revoked>> + Send;
    /// Record the expiry of every override that ran out by `now`, exactly
    /// once however many replicas ask; answers those this call recorded.
    fn record_expired(&self, now: DateTime<Utc>) -> impl Future<Output = anyhow::Result<Vec<Override>>> + Send;
}

/// Which deployments to list, newest first.
#[derive(Clone, Debug, Default)]
pub struct DeploymentFilter {
    pub team: Option<String>,
    pub service: Option<String>,
    pub environment: Option<String>,
    /// Started at or after.
    pub since: Option<DateTime<Utc>>,
    pub limit: i64,
}

/// Deployments as CI reports them.
pub trait Deployments {
    /// Create or update deployment `id`: `merge` makes the new record from
    /// the stored one (or refuses), inside the write transaction, so two
    /// reports for one deployment never lose each other's fields. Answers
    /// the record and whether it is new.
    fn report_deployment<F>(
        &self,
        id: &str,
        merge: F,
        by: &str,
        at: DateTime<Utc>,
    ) -> impl Future<Output = anyhow::Result<Result<(crate::wire::Deployment, bool), crate::error::Error>>> + Send
    where
        F: FnOnce(Option<crate::wire::Deployment>) -> Result<crate::wire::Deployment, crate::error::Error> + Send;
    /// One deployment.
    fn deployment(&self, id: &str) -> impl Future<Output = anyhow::Result<Option<crate::wire::Deployment>>> + Send;
    /// Deployments, newest first.
    fn deployments(
        &self,
        filter: &DeploymentFilter,
    ) -> impl Future<Output = anyhow::Result<Vec<crate::wire::Deployment>>> + Send;
}

/// A health check session as kept: its key columns and the record (JSON),
/// which holds counts and notes only.
#[derive(Clone, Debug)]
pub struct HealthCheckRow {
    pub id: String,
    pub team: String,
    /// `YYYY-MM-DD`.
    pub date: String,
    pub record: String,
}

/// Health check sessions: kept apart from everything decisions read.
pub trait HealthChecks {
    /// Add a session and its audit record in one transaction; false when the
    /// id (one session per team and day) is taken, and nothing is written.
    fn add_health_check(
        &self,
        row: &HealthCheckRow,
        entry: &AuditEntry,
    ) -> impl Future<Output = anyhow::Result<bool>> + Send;
    /// Sessions, of one team or all, oldest first: the newest `limit`.
    fn health_checks(
        &self,
        team: Option<&str>,
        limit: i64,
    ) -> impl Future<Output = anyhow::Result<Vec<HealthCheckRow>>> + Send;
}

/// The append-only audit log.
pub trait Audit {
    /// Append records in one transaction (group commit).
    fn append(&self, entries: &[AuditEntry]) -> impl Future<Output = anyhow::Result<()>> + Send;
    /// Records, newest first.
    fn audit(&self, filter: &AuditFilter) -> impl Future<Output = anyhow::Result<Vec<AuditRecord>>> + Send;
}

/// The change feed: every write that changes what decisions read bumps the
/// revision in its own transaction, so a replica that sees revision n has
/// seen every change up to n.
pub trait ChangeFeed {
    fn changes_since(&self, revision: i64) -> impl Future<Output = anyhow::Result<Changes>> + Send;
}

// ---- the backend

/// Which database, and what differs between them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

impl Dialect {
    /// The statement that opens a write transaction: SQLite takes its write
    /// lock at once, so a transaction never fails halfway for a lock.
    fn begin(self) -> &'static str {
        match self {
            Dialect::Sqlite => "BEGIN IMMEDIATE",
            // Replicas order their changes on the change feed's revision row.
            Dialect::Postgres => "BEGIN",
        }
    }
}

/// The one backend: a pool, its dialect, and (for SQLite, which has one
/// writer) a turn for writers in this process.
#[derive(Clone, Debug)]
pub struct Store {
    pool: AnyPool,
    dialect: Dialect,
    writer: Option<Arc<Mutex<()>>>,
}

/// A write transaction. Committed only by [`WriteTx::commit`]; a transaction
/// that fails in any way (a statement, the commit itself) is rolled back and
/// its connection discarded, so no pooled connection is ever left inside a
/// transaction.
pub struct WriteTx {
    conn: PoolConnection<Any>,
    committed: bool,
    _turn: Option<OwnedMutexGuard<()>>,
}

impl WriteTx {
    pub fn conn(&mut self) -> &mut AnyConnection {
        &mut self.conn
    }

    /// Commit; on failure roll back what can be and discard the connection.
    pub async fn commit(mut self) -> anyhow::Result<()> {
        match self.conn.execute("COMMIT").await {
            Ok(_) => {
                self.committed = true;
                Ok(())
            }
            Err(e) => {
                let _ = self.conn.execute("ROLLBACK").await;
                Err(anyhow::Error::from(e).context("the commit failed"))
            }
        }
    }
}

impl Drop for WriteTx {
    fn drop(&mut self) {
        if !self.committed {
            // Closing a connection ends its transaction; a fresh one takes its place.
            self.conn.close_on_drop();
        }
    }
}

/// Numbered bind parameters for SQL built from optional filters: every
/// number handed out is bound, as PostgreSQL requires.
#[derive(Default)]
pub(crate) struct Params(usize);

impl Params {
    pub(crate) fn next(&mut self) -> String {
        self.0 += 1;
        format!("${}", self.0)
    }

    /// `WHERE a AND b`, or nothing.
    pub(crate) fn filter(&self, clauses: &[String]) -> String {
        if clauses.is_empty() { String::new() } else { format!("WHERE {}", clauses.join(" AND ")) }
    }
}

pub(crate) fn millis(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

pub(crate) fn from_millis(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

/// A store URL this build can open, checked the same way by `validate` and `serve`.
pub fn check_url(url: &str) -> Result<(), String> {
    if sqlite::path_of(url).is_some() {
        return Ok(());
    }
    if postgres::is_url(url) {
        return Ok(());
    }
    Err(format!("`{}` is not a store URL; use sqlite://PATH or postgres://USER@HOST/DATABASE", postgres::redact(url)))
}

impl Store {
    /// Open (and create, with its schema) the store at `url`.
    pub async fn open(url: &str) -> anyhow::Result<Store> {
        check_url(url).map_err(anyhow::Error::msg)?;
        if postgres::is_url(url) {
            let pool = postgres::connect(url).await?;
            let store = Store { pool, dialect: Dialect::Postgres, writer: None };
            postgres::migrate(&store).await?;
            return Ok(store);
        }
        let pool = sqlite::connect(url).await?;
        let store = Store { pool, dialect: Dialect::Sqlite, writer: Some(Arc::new(Mutex::new(()))) };
        sqlite::migrate(&store).await?;
        Ok(store)
    }

    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// Begin a write transaction, waiting at most [`WRITE_WAIT`] for its turn.
    pub async fn write(&self) -> anyhow::Result<WriteTx> {
        let begin = async {
            let turn = match &self.writer {
                Some(w) => Some(w.clone().lock_owned().await),
                None => None,
            };
            let conn = self.pool.acquire().await.context("no connection to the store")?;
            let mut tx = WriteTx { conn, committed: false, _turn: turn };
            // A failed BEGIN drops `tx`, which discards the connection.
            tx.conn().execute(self.dialect.begin()).await.context("cannot begin a write")?;
            anyhow::Ok(tx)
        };
        tokio::time::timeout(WRITE_WAIT, begin)
            .await
            .map_err(|_| anyhow::anyhow!("the store is busy: no turn to write within {WRITE_WAIT:?}"))?
    }

    /// Reachable and able to write: a write of one row, committed, so that
    /// "ready" means "can record decisions".
    pub async fn probe(&self, now: DateTime<Utc>) -> anyhow::Result<()> {
        let mut tx = self.write().await?;
        sqlx::query("UPDATE probe SET at = $1 WHERE id = 1").bind(millis(now)).execute(tx.conn()).await?;
        tx.commit().await
    }

    pub(crate) fn pool(&self) -> &AnyPool {
        &self.pool
    }
}
