//! Sessions kept and read: the only code that touches the health check
//! table. Decisions never come here.

use chrono::{DateTime, Utc};
use serde_json::json;

use super::{HealthSettings, NewSession, Session, SessionView, session_views};
use crate::error::{Error, ErrorCode};
use crate::store::{AuditEntry, HealthCheckRow, HealthChecks, Store};

/// The most sessions one read takes (a hundred teams meeting monthly for
/// eighty years).
const READ_MAX: i64 = 100_000;

/// Keep a session (with its audit record, in one transaction) and answer it
/// as shown, its trend against the team's previous session included.
pub async fn record(
    store: &Store,
    settings: &HealthSettings,
    new: NewSession,
    by: &str,
    now: DateTime<Utc>,
) -> Result<SessionView, Error> {
    let team = new.team.to_string();
    // The team's earlier sessions, read before the write: once the session
    // is committed, a failed read must not answer "nothing was changed".
    let mut all = sessions(store, Some(&team)).await?;
    let id = Session::id_for(&team, new.date);
    let session = Session {
        id: id.clone(),
        team: team.clone(),
        date: new.date,
        votes: new.votes,
        notes: new.notes,
        recorded_at: now,
        recorded_by: by.to_string(),
    };
    let record = serde_json::to_string(&session).map_err(|e| Error::internal(e.into()))?;
    let row = HealthCheckRow { id: id.clone(), team: team.clone(), date: new.date.to_string(), record };
    let entry = AuditEntry {
        kind: "health_check.recorded".into(),
        at: now,
        actor: Some(by.to_string()),
        team: Some(team.clone()),
        environment: None,
        // Which session, not what it said.
        details: json!({"id": id, "date": new.date, "topics": session.votes.len(), "voters": session.voters()}),
    };
    let added = store.add_health_check(&row, &entry).await.map_err(|e| Error::store(e, "record the health check"))?;
    if !added {
        return Err(Error::field(
            ErrorCode::HealthCheckExists,
            "date",
            format!("team {team} already has a health check on {}: one session a day per team (id {id})", new.date),
        ));
    }
    all.push(session);
    session_views(settings, &all)
        .into_iter()
        .find(|v| v.id == id)
        .ok_or_else(|| Error::internal(anyhow::anyhow!("session {id} was not read back")))
}

/// Sessions, of one team or all, oldest first.
pub async fn sessions(store: &Store, team: Option<&str>) -> Result<Vec<Session>, Error> {
    let rows = store.health_checks(team, READ_MAX).await.map_err(|e| Error::store(e, "read the health checks"))?;
    rows.iter()
        .map(|r| {
            serde_json::from_str::<Session>(&r.record)
                .map_err(|e| Error::internal(anyhow::anyhow!("health check {} cannot be read: {e}", r.id)))
        })
        .collect()
}
