//! Asking the gate: the decision, and the record of it that the audit log
//! keeps and the dashboard reads.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::{Caller, Gate};
use crate::error::Error;
use crate::policy::{Code, Decision, Target, Verdict, decide_with_traffic};
use crate::store::AuditEntry;
use crate::wire::Answer;

/// A checked question.
#[derive(Clone, Debug)]
pub struct Question {
    pub target: Target,
    pub expected: Option<Duration>,
    /// Simulate at this instant (not audited) instead of asking about now.
    pub at: Option<DateTime<Utc>>,
    pub actor: Option<String>,
    pub pipeline_url: Option<String>,
    pub commit: Option<String>,
}

/// What the audit log keeps of a real decision (`details` of a `decision`
/// record), and what the dashboard shows of it.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct DecisionRecord {
    pub decision_id: String,
    pub target: Target,
    pub allowed: bool,
    pub decision: Verdict,
    pub reasons: Vec<Code>,
    #[serde(default)]
    pub warnings: Vec<Code>,
    #[serde(default)]
    pub overridden: Vec<Code>,
    #[serde(default)]
    pub override_id: Option<String>,
    #[serde(default)]
    pub next_allowed_at: Option<DateTime<Utc>>,
    /// Who asked, as the caller said (CI's user).
    #[serde(default)]
    pub actor: Option<String>,
    /// The token's name, when one was presented.
    #[serde(default)]
    pub token: Option<String>,
    #[serde(default)]
    pub pipeline_url: Option<String>,
    #[serde(default)]
    pub commit: Option<String>,
}

impl DecisionRecord {
    fn new(q: &Question, d: &Decision, decision_id: &str, token: Option<String>) -> DecisionRecord {
        let codes = |rs: &[crate::policy::Reason]| rs.iter().map(|r| r.code).collect();
        DecisionRecord {
            decision_id: decision_id.to_string(),
            target: q.target.clone(),
            allowed: d.allowed,
            decision: d.decision,
            reasons: codes(&d.reasons),
            warnings: codes(&d.warnings),
            overridden: codes(&d.overridden),
            override_id: d.override_.as_ref().map(|o| o.id.clone()),
            next_allowed_at: d.next_allowed_at,
            actor: q.actor.clone(),
            token,
            pipeline_url: q.pipeline_url.clone(),
            commit: q.commit.clone(),
        }
    }

    /// Read back from an audit record's details.
    pub fn from_details(details: &serde_json::Value) -> Option<DecisionRecord> {
        serde_json::from_value(details.clone()).ok()
    }

    fn entry(&self, at: DateTime<Utc>) -> AuditEntry {
        AuditEntry {
            kind: "decision".into(),
            at,
            actor: self.actor.clone().or_else(|| self.token.clone()),
            team: Some(self.target.team.to_string()),
            environment: Some(self.target.environment.to_string()),
            details: serde_json::to_value(self).unwrap_or_default(),
        }
    }
}

impl Gate {
    /// Decide, and for a real (not simulated) decision, record it before
    /// answering: a decision that cannot be recorded is not given.
    pub async fn ask(&self, q: Question, caller: Option<&Caller>, now: DateTime<Utc>) -> Result<Answer, Error> {
        let live = self.live();
        let overrides = self.overrides();
        let t = q.at.unwrap_or(now);
        let profile = q.target.service.as_ref().and_then(|s| self.traffic.profile(s.as_str()));
        let decision = decide_with_traffic(
            &live.rules,
            &q.target,
            t,
            q.expected,
            overrides.for_team(q.target.team.as_str()),
            profile.as_deref(),
        );
        let decision_id = uuid::Uuid::new_v4().to_string();
        let simulated = q.at.is_some();
        tracing::info!(
            decision_id = %decision_id,
            team = %q.target.team,
            service = q.target.service.as_ref().map(|s| s.as_str()),
            environment = %q.target.environment,
            allowed = decision.allowed,
            reasons = ?decision.codes(),
            simulated,
            "decision"
        );
        if !simulated {
            let record = DecisionRecord::new(&q, &decision, &decision_id, caller.map(|c| c.name.clone()));
            self.audit.record(record.entry(decision.evaluated_at)).await.map_err(|e| {
                tracing::error!(error = %format!("{e:#}"), decision_id = %decision_id, "decision not recorded");
                Error::store(e, "record this decision in the audit log, so none is given")
            })?;
        }
        Ok(Answer { decision, decision_id, simulated })
    }
}
