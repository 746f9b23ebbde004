//! Windows and teams changed through the API, and the change feed.

use anyhow::Context;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use sqlx::{AnyConnection, AssertSqlSafe, Row};

use super::audit::insert_audit;
use super::idempotency::claim;
use super::{
    Answering, AuditEntry, Change, ChangeFeed, Changes, DefinitionKind, Definitions, Inserted, Store, Stored, millis,
};

/// The feed keeps at least this many changes; a replica further behind reads everything.
const FEED_KEEPS: i64 = 10_000;

impl DefinitionKind {
    /// Table and key column.
    fn table(self) -> (&'static str, &'static str) {
        match self {
            DefinitionKind::Window => ("windows", "id"),
            DefinitionKind::Team => ("teams", "name"),
            DefinitionKind::Cell => ("scorecard_cells", "key"),
        }
    }
}

/// Bump the revision and name the change, inside the writer's transaction.
pub(super) async fn record_change(
    conn: &mut AnyConnection,
    kind: &str,
    key: &str,
    at: DateTime<Utc>,
) -> anyhow::Result<i64> {
    let rev: i64 =
        sqlx::query_scalar("UPDATE revision SET n = n + 1 WHERE id = 1 RETURNING n").fetch_one(&mut *conn).await?;
    sqlx::query("INSERT INTO changes (rev, kind, key, at) VALUES ($1, $2, $3, $4)")
        .bind(rev)
        .bind(kind)
        .bind(key)
        .bind(millis(at))
        .execute(&mut *conn)
        .await?;
    if rev % 1000 == 0 {
        sqlx::query("DELETE FROM changes WHERE rev <= $1").bind(rev - FEED_KEEPS).execute(&mut *conn).await?;
    }
    Ok(rev)
}

/// Take this writer's turn without changing anything decisions read: the
/// change feed's revision row is locked until the transaction ends, so a
/// read-then-write on PostgreSQL sees every write committed before it.
pub(super) async fn take_turn(conn: &mut AnyConnection) -> anyhow::Result<()> {
    sqlx::query("UPDATE revision SET n = n WHERE id = 1").execute(conn).await?;
    Ok(())
}

/// The audit record of a change: `window.created`, `team.updated`, ...; a
/// scorecard cell's is `scorecard.changed` with the old and new cell.
fn change_entry(
    kind: DefinitionKind,
    what: &str,
    key: &str,
    by: &str,
    at: DateTime<Utc>,
    before: Option<&Value>,
    after: Option<&Value>,
) -> AuditEntry {
    let (kind_name, team, details) = match kind {
        DefinitionKind::Cell => {
            let (team, item) = key.split_once('/').unwrap_or((key, ""));
            let details = json!({ "team": team, "item": item, "old": before, "new": after });
            ("scorecard.changed".to_string(), Some(team.to_string()), details)
        }
        DefinitionKind::Team => {
            (format!("team.{what}"), Some(key.to_string()), json!({ "team": key, "before": before, "after": after }))
        }
        DefinitionKind::Window => {
            (format!("window.{what}"), None, json!({ "window": key, "before": before, "after": after }))
        }
    };
    AuditEntry { kind: kind_name, at, actor: Some(by.to_string()), team, environment: None, details }
}

async fn spec_of(conn: &mut AnyConnection, kind: DefinitionKind, key: &str) -> anyhow::Result<Option<Value>> {
    let (table, key_column) = kind.table();
    let spec: Option<String> =
        sqlx::query_scalar(AssertSqlSafe(format!("SELECT spec FROM {table} WHERE {key_column} = $1")))
            .bind(key)
            .fetch_optional(conn)
            .await?;
    spec.map(|s| serde_json::from_str(&s).with_context(|| format!("the stored {} {key} is not JSON", kind.name())))
        .transpose()
}

impl Definitions for Store {
    async fn definitions(&self, kind: DefinitionKind) -> anyhow::Result<Vec<Stored>> {
        let (table, key_column) = kind.table();
        let rows = sqlx::query(AssertSqlSafe(format!("SELECT {key_column}, spec FROM {table} ORDER BY {key_column}")))
            .fetch_all(self.pool())
            .await?;
        rows.iter()
            .map(|r| {
                let key: String = r.try_get(0)?;
                let spec: String = r.try_get(1)?;
                let spec = serde_json::from_str(&spec).with_context(|| format!("the stored {key} is not JSON"))?;
                Ok(Stored { key, spec })
            })
            .collect()
    }

    async fn definition(&self, kind: DefinitionKind, key: &str) -> anyhow::Result<Option<Stored>> {
        let mut conn = self.pool().acquire().await?;
        Ok(spec_of(&mut conn, kind, key).await?.map(|spec| Stored { key: key.to_string(), spec }))
    }

    async fn insert_definition(
        &self,
        kind: DefinitionKind,
        key: &str,
        spec: &Value,
        by: &str,
        at: DateTime<Utc>,
        answering: Answering<'_>,
    ) -> anyhow::Result<Inserted> {
        let (table, key_column) = kind.table();
        let mut tx = self.write().await?;
        if let Some((idem, status, response)) = answering
            && let Some(before) = claim(tx.conn(), idem, status, response, at).await?
        {
            tx.commit().await?;
            return Ok(Inserted::Replayed(before));
        }
        let inserted = sqlx::query(AssertSqlSafe(format!(
            "INSERT INTO {table} ({key_column}, spec, updated_at, updated_by) VALUES ($1, $2, $3, $4) ON CONFLICT ({key_column}) DO NOTHING"
        )))
        .bind(key)
        .bind(spec.to_string())
        .bind(millis(at))
        .bind(by)
        .execute(tx.conn())
        .await?
        .rows_affected();
        if inserted == 0 {
            // Dropping the transaction undoes the key's claim too.
            return Ok(Inserted::Exists);
        }
        let entry = change_entry(kind, "created", key, by, at, None, Some(spec));
        insert_audit(tx.conn(), &entry).await?;
        record_change(tx.conn(), kind.name(), key, at).await?;
        tx.commit().await?;
        Ok(Inserted::Now)
    }

    async fn put_definition(
        &self,
        kind: DefinitionKind,
        key: &str,
        spec: &Value,
        by: &str,
        at: DateTime<Utc>,
    ) -> anyhow::Result<Option<Value>> {
        let (table, key_column) = kind.table();
        let mut tx = self.write().await?;
        // The revision row first: writers on every replica take turns, so
        // `before` is what this write replaces (the audit's old and new chain).
        record_change(tx.conn(), kind.name(), key, at).await?;
        let before = spec_of(tx.conn(), kind, key).await?;
        sqlx::query(AssertSqlSafe(format!(
            "INSERT INTO {table} ({key_column}, spec, updated_at, updated_by) VALUES ($1, $2, $3, $4) \
             ON CONFLICT ({key_column}) DO UPDATE SET spec = excluded.spec, updated_at = excluded.updated_at, updated_by = excluded.updated_by"
        )))
        .bind(key)
        .bind(spec.to_string())
        .bind(millis(at))
        .bind(by)
        .execute(tx.conn())
        .await?;
        let what = if before.is_some() { "updated" } else { "created" };
        let entry = change_entry(kind, what, key, by, at, before.as_ref(), Some(spec));
        insert_audit(tx.conn(), &entry).await?;
        tx.commit().await?;
        Ok(before)
    }

    async fn delete_definition(
        &self,
        kind: DefinitionKind,
        key: &str,
        by: &str,
        at: DateTime<Utc>,
    ) -> anyhow::Result<Option<Value>> {
        let (table, key_column) = kind.table();
        let mut tx = self.write().await?;
        // Turns first, as above: of two racing deletes, one finds the row.
        record_change(tx.conn(), kind.name(), key, at).await?;
        let Some(before) = spec_of(tx.conn(), kind, key).await? else {
            // Dropping the transaction undoes the change feed's entry.
            return Ok(None);
        };
        sqlx::query(AssertSqlSafe(format!("DELETE FROM {table} WHERE {key_column} = $1")))
            .bind(key)
            .execute(tx.conn())
            .await?;
        let entry = change_entry(kind, "deleted", key, by, at, Some(&before), None);
        insert_audit(tx.conn(), &entry).await?;
        tx.commit().await?;
        Ok(Some(before))
    }
}

impl ChangeFeed for Store {
    async fn changes_since(&self, revision: i64) -> anyhow::Result<Changes> {
        let latest: i64 = sqlx::query_scalar("SELECT n FROM revision WHERE id = 1").fetch_one(self.pool()).await?;
        if latest == revision {
            return Ok(Changes::Since { latest, changes: Vec::new() });
        }
        let rows = sqlx::query("SELECT rev, kind, key FROM changes WHERE rev > $1 AND rev <= $2 ORDER BY rev")
            .bind(revision)
            .bind(latest)
            .fetch_all(self.pool())
            .await?;
        // The feed must reach back to the revision after ours, with no gap.
        let first: Option<i64> = rows.first().map(|r| r.try_get(0)).transpose()?;
        if revision > latest || first != Some(revision + 1) || rows.len() as i64 != latest - revision {
            return Ok(Changes::Everything { latest });
        }
        let changes = rows
            .iter()
            .map(|r| Ok(Change { kind: r.try_get(1)?, key: r.try_get(2)? }))
            .collect::<anyhow::Result<_>>()?;
        Ok(Changes::Since { latest, changes })
    }
}
