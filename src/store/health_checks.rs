//! Health check sessions: one row per team and day, added with its audit
//! record in one transaction, never read by anything that decides.

use sqlx::Row;

use super::audit::insert_audit;
use super::{AuditEntry, HealthCheckRow, HealthChecks, Store};

impl HealthChecks for Store {
    async fn add_health_check(&self, row: &HealthCheckRow, entry: &AuditEntry) -> anyhow::Result<bool> {
        let mut tx = self.write().await?;
        let added = sqlx::query(
            "INSERT INTO health_checks (id, team, date, record, recorded_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (id) DO NOTHING",
        )
        .bind(&row.id)
        .bind(&row.team)
        .bind(&row.date)
        .bind(&row.record)
        .bind(super::millis(entry.at))
        .execute(tx.conn())
        .await?
        .rows_affected()
            == 1;
        if !added {
            // Dropping the transaction writes nothing.
            return Ok(false);
        }
        insert_audit(tx.conn(), entry).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn health_checks(&self, team: Option<&str>, limit: i64) -> anyhow::Result<Vec<HealthCheckRow>> {
        let rows = match team {
            Some(team) => sqlx::query(
                "SELECT id, team, date, record FROM health_checks WHERE team = $1 ORDER BY date DESC, id DESC LIMIT $2",
            )
            .bind(team.to_string())
            .bind(limit)
            .fetch_all(self.pool())
            .await?,
            None => {
                sqlx::query("SELECT id, team, date, record FROM health_checks ORDER BY date DESC, id DESC LIMIT $1")
                    .bind(limit)
                    .fetch_all(self.pool())
                    .await?
            }
        };
        // The newest `limit`, handed back oldest first.
        rows.iter()
            .rev()
            .map(|r| {
                Ok(HealthCheckRow {
                    id: r.try_get(0)?,
                    team: r.try_get(1)?,
                    date: r.try_get(2)?,
                    record: r.try_get(3)?,
                })
            })
            .collect()
    }
}
