//! Deployments as CI reports them: the first report creates the record, the
//! later ones (same id) update it, each in one transaction with its audit
//! record.

use chrono::{DateTime, Utc};
use sqlx::{AssertSqlSafe, Row};

use super::audit::insert_audit;
use super::definitions::take_turn;
use super::{AuditEntry, DeploymentFilter, Deployments, Params, Store, millis};
use crate::error::Error;
use crate::wire::Deployment;

impl Deployments for Store {
    async fn report_deployment<F>(
        &self,
        id: &str,
        merge: F,
        by: &str,
        at: DateTime<Utc>,
    ) -> anyhow::Result<Result<(Deployment, bool), Error>>
    where
        F: FnOnce(Option<Deployment>) -> Result<Deployment, Error> + Send,
    {
        let mut tx = self.write().await?;
        // Two reports for one deployment (on two replicas) merge in turn.
        take_turn(tx.conn()).await?;
        let before: Option<String> = sqlx::query_scalar("SELECT record FROM deployments WHERE id = $1")
            .bind(id)
            .fetch_optional(tx.conn())
            .await?;
        let before: Option<Deployment> = before.map(|r| serde_json::from_str(&r)).transpose()?;
        let created = before.is_none();
        let d = match merge(before) {
            Ok(d) => d,
            // Dropping the transaction writes nothing.
            Err(e) => return Ok(Err(e)),
        };
        sqlx::query(
            "INSERT INTO deployments (id, team, environment, started_at, record, updated_at) VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (id) DO UPDATE SET started_at = excluded.started_at, record = excluded.record, updated_at = excluded.updated_at",
        )
        .bind(&d.id)
        .bind(&d.team)
        .bind(&d.environment)
        .bind(millis(d.started_at))
        .bind(serde_json::to_string(&d)?)
        .bind(millis(at))
        .execute(tx.conn())
        .await?;
        let entry = AuditEntry {
            kind: format!("deployment.{}", d.status.as_str()),
            at,
            actor: Some(by.to_string()),
            team: Some(d.team.clone()),
            environment: Some(d.environment.clone()),
            details: serde_json::to_value(&d)?,
        };
        insert_audit(tx.conn(), &entry).await?;
        tx.commit().await?;
        Ok(Ok((d, created)))
    }

    async fn deployment(&self, id: &str) -> anyhow::Result<Option<Deployment>> {
        let record: Option<String> = sqlx::query_scalar("SELECT record FROM deployments WHERE id = $1")
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        Ok(record.map(|r| serde_json::from_str(&r)).transpose()?)
    }

    async fn deployments(&self, filter: &DeploymentFilter) -> anyhow::Result<Vec<Deployment>> {
        let mut p = Params::default();
        let mut clauses = Vec::new();
        if filter.team.is_some() {
            clauses.push(format!("team = {}", p.next()));
        }
        if filter.environment.is_some() {
            clauses.push(format!("environment = {}", p.next()));
        }
        if filter.since.is_some() {
            clauses.push(format!("started_at >= {}", p.next()));
        }
        let sql = format!(
            "SELECT record FROM deployments {} ORDER BY started_at DESC, id DESC LIMIT {}",
            p.filter(&clauses),
            p.next()
        );
        let mut q = sqlx::query(AssertSqlSafe(sql));
        if let Some(team) = &filter.team {
            q = q.bind(team.clone());
        }
        if let Some(env) = &filter.environment {
            q = q.bind(env.clone());
        }
        if let Some(since) = filter.since {
            q = q.bind(millis(since));
        }
        let rows = q.bind(filter.limit).fetch_all(self.pool()).await?;
        let mut list = Vec::with_capacity(rows.len());
        for r in &rows {
            let record: String = r.try_get(0)?;
            let d: Deployment = serde_json::from_str(&record)?;
            if filter.service.as_ref().is_none_or(|s| d.service.as_deref() == Some(s.as_str())) {
                list.push(d);
            }
        }
        Ok(list)
    }
}
