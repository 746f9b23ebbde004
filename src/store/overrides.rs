//! Emergency overrides: created, revoked and expired, each with its audit
//! record in the same transaction.

use chrono::{DateTime, Utc};
use serde_json::json;
use sqlx::any::AnyRow;
use sqlx::{AssertSqlSafe, Row};

use super::audit::insert_audit;
use super::definitions::record_change;
use super::idempotency::claim;
use super::{Answering, AuditEntry, Created, OverrideFilter, Overrides, Params, Revoked, Store, from_millis, millis};
use crate::policy::{Name, Override};

const COLUMNS: &str =
    "id, team, service, environment, reason, ticket, created_by, created_at, expires_at, revoked_at, revoked_by";

/// The name of overrides in the change feed.
pub const CHANGE_KIND: &str = "override";

fn from_row(r: &AnyRow) -> anyhow::Result<Override> {
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

fn entry(kind: &str, at: DateTime<Utc>, by: &str, o: &Override) -> AuditEntry {
    AuditEntry {
        kind: kind.into(),
        at,
        actor: Some(by.to_string()),
        team: Some(o.team.to_string()),
        environment: Some(o.environment.to_string()),
        details: json!({ "override": o }),
    }
}

impl Overrides for Store {
    async fn active_overrides(&self, now: DateTime<Utc>) -> anyhow::Result<Vec<Override>> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM overrides WHERE revoked_at IS NULL AND expires_at > $1 ORDER BY created_at DESC, id"
        )))
        .bind(millis(now))
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(from_row).collect()
    }

    async fn override_by_id(&self, id: &str) -> anyhow::Result<Option<Override>> {
        let row = sqlx::query(AssertSqlSafe(format!("SELECT {COLUMNS} FROM overrides WHERE id = $1")))
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(from_row).transpose()
    }

    async fn list_overrides(&self, filter: &OverrideFilter) -> anyhow::Result<Vec<Override>> {
        let mut p = Params::default();
        let mut clauses = Vec::new();
        if filter.active_at.is_some() {
            let at = p.next();
            clauses.push(format!("revoked_at IS NULL AND expires_at > {at} AND created_at <= {at}"));
        }
        if filter.before.is_some() {
            let (created, id) = (p.next(), p.next());
            clauses.push(format!("(created_at < {created} OR (created_at = {created} AND id > {id}))"));
        }
        let sql = format!(
            "SELECT {COLUMNS} FROM overrides {} ORDER BY created_at DESC, id LIMIT {}",
            p.filter(&clauses),
            p.next()
        );
        let mut q = sqlx::query(AssertSqlSafe(sql));
        if let Some(at) = filter.active_at {
            q = q.bind(millis(at));
        }
        if let Some(o) = &filter.before {
            q = q.bind(millis(o.created_at)).bind(o.id.clone());
        }
        let rows = q.bind(filter.limit).fetch_all(self.pool()).await?;
        rows.iter().map(from_row).collect()
    }

    async fn create_override(&self, o: &Override, limit: i64, answering: Answering<'_>) -> anyhow::Result<Created> {
        let mut tx = self.write().await?;
        if let Some((idem, status, response)) = answering
            && let Some(before) = claim(tx.conn(), idem, status, response, o.created_at).await?
        {
            tx.commit().await?;
            return Ok(Created::Replayed(before));
        }
        // The change feed's revision row first: on PostgreSQL its lock makes
        // creators on every replica take turns, so the count below sees every
        // override committed before it and the cap holds across replicas.
        // (SQLite's BEGIN IMMEDIATE already gives one writer at a time.)
        record_change(tx.conn(), CHANGE_KIND, &o.id, o.created_at).await?;
        let active: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM overrides WHERE revoked_at IS NULL AND expires_at > $1")
                .bind(millis(o.created_at))
                .fetch_one(tx.conn())
                .await?;
        if active >= limit {
            // Dropping the transaction undoes the key's claim too.
            return Ok(Created::TooMany);
        }
        sqlx::query(AssertSqlSafe(format!(
            "INSERT INTO overrides ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
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
        .execute(tx.conn())
        .await?;
        insert_audit(tx.conn(), &entry("override.created", o.created_at, &o.created_by, o)).await?;
        tx.commit().await?;
        Ok(Created::Now)
    }

    async fn revoke_override(&self, id: &str, by: &str, at: DateTime<Utc>) -> anyhow::Result<Revoked> {
        let mut tx = self.write().await?;
        let row = sqlx::query(AssertSqlSafe(format!("SELECT {COLUMNS} FROM overrides WHERE id = $1")))
            .bind(id)
            .fetch_optional(tx.conn())
            .await?;
        let Some(row) = row else {
            tx.commit().await?;
            return Ok(Revoked::NotFound);
        };
        let mut o = from_row(&row)?;
        // Conditional: of two revocations, one changes the row; the other
        // finds it ended.
        let changed = sqlx::query(
            "UPDATE overrides SET revoked_at = $1, revoked_by = $2 WHERE id = $3 AND revoked_at IS NULL AND expires_at > $1",
        )
        .bind(millis(at))
        .bind(by)
        .bind(id)
        .execute(tx.conn())
        .await?
        .rows_affected();
        if changed == 0 {
            tx.commit().await?;
            return Ok(Revoked::AlreadyEnded(o));
        }
        o.revoked_at = Some(at);
        o.revoked_by = Some(by.to_string());
        insert_audit(tx.conn(), &entry("override.revoked", at, by, &o)).await?;
        record_change(tx.conn(), CHANGE_KIND, &o.id, at).await?;
        tx.commit().await?;
        Ok(Revoked::Now(o))
    }

    async fn record_expired(&self, now: DateTime<Utc>) -> anyhow::Result<Vec<Override>> {
        // Most seconds nothing expires: look before taking the writer's turn
        // (and an fsync) from the decisions being recorded.
        let due: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM overrides WHERE expiry_recorded = 0 AND revoked_at IS NULL AND expires_at <= $1",
        )
        .bind(millis(now))
        .fetch_one(self.pool())
        .await?;
        if due == 0 {
            return Ok(Vec::new());
        }
        let mut tx = self.write().await?;
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM overrides WHERE expiry_recorded = 0 AND revoked_at IS NULL AND expires_at <= $1"
        )))
        .bind(millis(now))
        .fetch_all(tx.conn())
        .await?;
        let mut recorded = Vec::new();
        for row in &rows {
            let o = from_row(row)?;
            // Exactly once: only the writer that flips the flag records it.
            let flipped = sqlx::query("UPDATE overrides SET expiry_recorded = 1 WHERE id = $1 AND expiry_recorded = 0")
                .bind(&o.id)
                .execute(tx.conn())
                .await?
                .rows_affected();
            if flipped == 1 {
                insert_audit(tx.conn(), &entry("override.expired", o.expires_at, "deploy-gate", &o)).await?;
                recorded.push(o);
            }
        }
        tx.commit().await?;
        Ok(recorded)
    }
}
