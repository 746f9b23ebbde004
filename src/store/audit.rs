//! The append-only audit log: every real decision, override and change.

use sqlx::{AnyConnection, AssertSqlSafe, Row};

use super::{Audit, AuditEntry, AuditFilter, AuditRecord, Params, Store, from_millis, millis};

/// Rows to one INSERT statement, at most.
const ROWS: usize = 64;

/// An INSERT of `rows` rows.
fn insert_sql(rows: usize) -> String {
    let mut p = Params::default();
    let values: Vec<String> = (0..rows)
        .map(|_| format!("({}, {}, {}, {}, {}, {})", p.next(), p.next(), p.next(), p.next(), p.next(), p.next()))
        .collect();
    format!("INSERT INTO audit (at, kind, actor, team, environment, details) VALUES {}", values.join(", "))
}

/// One record, inside the writer's transaction.
pub(super) async fn insert_audit(conn: &mut AnyConnection, e: &AuditEntry) -> anyhow::Result<()> {
    sqlx::query("INSERT INTO audit (at, kind, actor, team, environment, details) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(millis(e.at))
        .bind(&e.kind)
        .bind(e.actor.clone())
        .bind(e.team.clone())
        .bind(e.environment.clone())
        .bind(e.details.to_string())
        .execute(conn)
        .await?;
    Ok(())
}

impl Audit for Store {
    async fn append(&self, entries: &[AuditEntry]) -> anyhow::Result<()> {
        let mut tx = self.write().await?;
        for chunk in entries.chunks(ROWS) {
            // Not kept prepared: one statement per batch size would fill the
            // connections' caches (and memory); preparing costs far less
            // than the commit's fsync.
            let mut q = sqlx::query(AssertSqlSafe(insert_sql(chunk.len()))).persistent(chunk.len() == 1);
            for e in chunk {
                q = q
                    .bind(millis(e.at))
                    .bind(e.kind.clone())
                    .bind(e.actor.clone())
                    .bind(e.team.clone())
                    .bind(e.environment.clone())
                    .bind(e.details.to_string());
            }
            q.execute(tx.conn()).await?;
        }
        tx.commit().await
    }

    async fn audit(&self, filter: &AuditFilter) -> anyhow::Result<Vec<AuditRecord>> {
        let mut p = Params::default();
        let mut clauses = Vec::new();
        if filter.kind.is_some() {
            clauses.push(format!("(kind = {} OR kind LIKE {})", p.next(), p.next()));
        }
        if filter.team.is_some() {
            clauses.push(format!("team = {}", p.next()));
        }
        if filter.since.is_some() {
            clauses.push(format!("at >= {}", p.next()));
        }
        if filter.before.is_some() {
            clauses.push(format!("id < {}", p.next()));
        }
        let sql = format!(
            "SELECT id, at, kind, actor, team, environment, details FROM audit {} ORDER BY id DESC LIMIT {}",
            p.filter(&clauses),
            p.next()
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
        let rows = q.bind(filter.limit).fetch_all(self.pool()).await?;
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

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use serde_json::json;

    use super::*;

    /// The database itself refuses to change or remove a record: without the
    /// triggers of the first migration both statements would succeed.
    /// A batch of more rows than one statement takes stores them all.
    #[tokio::test]
    async fn a_large_batch_stores_exactly_its_records() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Store::open(&format!("sqlite://{}", dir.path().join("gate.db").display())).await.expect("open");
        let entry = |i: usize| AuditEntry {
            kind: "decision".into(),
            at: Utc::now(),
            actor: Some(format!("ci-{i}")),
            team: None,
            environment: None,
            details: json!({"i": i}),
        };
        let entries: Vec<AuditEntry> = (0..70).map(entry).collect();
        store.append(&entries).await.expect("append");
        let records = store.audit(&AuditFilter { limit: 1000, ..AuditFilter::default() }).await.expect("read");
        assert_eq!(records.len(), 70);
        assert_eq!(records[0].entry.actor.as_deref(), Some("ci-69"));
    }

    #[tokio::test]
    async fn audit_records_cannot_be_changed_or_deleted() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Store::open(&format!("sqlite://{}", dir.path().join("gate.db").display())).await.expect("open");
        let entry = AuditEntry {
            kind: "decision".into(),
            at: Utc::now(),
            actor: Some("ci".into()),
            team: Some("payments".into()),
            environment: Some("production".into()),
            details: json!({"allowed": false}),
        };
        store.append(&[entry]).await.expect("append");
        for sql in ["UPDATE audit SET kind = 'forged'", "DELETE FROM audit"] {
            let e = sqlx::query(sql).execute(store.pool()).await.expect_err(sql);
            assert!(e.to_string().contains("append-only"), "{sql}: {e}");
        }
        let records = store.audit(&AuditFilter { limit: 10, ..AuditFilter::default() }).await.expect("read");
        assert_eq!(records.len(), 1);
        assert_eq!(records[0].entry.kind, "decision");
    }
}
