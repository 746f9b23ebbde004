//! Deployments as CI reports them, and what they say about delivery:
//! deployments per week, change failure rate, time to restore, and how long
//! pipelines waited on the gate.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use super::{Caller, DecisionRecord, Gate};
use crate::config::Role;
use crate::error::{Error, ErrorCode};
use crate::policy::Target;
use crate::store::{AuditFilter, DeploymentFilter, Deployments};
use crate::wire::{Deployment, DeploymentStatus};

/// Records read for one statistic, at most.
const STATS_READ_MAX: i64 = 100_000;

/// A checked deployment report.
#[derive(Clone, Debug)]
pub struct Report {
    pub id: Option<String>,
    pub target: Target,
    pub status: DeploymentStatus,
    pub decision_id: Option<String>,
    pub version: Option<String>,
    pub commit: Option<String>,
    pub pipeline_url: Option<String>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
}

fn conflict(message: String) -> Error {
    Error::new(ErrorCode::DeploymentConflict, message)
}

/// The new record from the stored one (if any) and a report.
fn merge(before: Option<Deployment>, r: Report, id: &str, by: &str, now: DateTime<Utc>) -> Result<Deployment, Error> {
    let team = r.target.team.to_string();
    let environment = r.target.environment.to_string();
    let service = r.target.service.as_ref().map(|s| s.to_string());
    let mut d = match before {
        None => Deployment {
            id: id.to_string(),
            team,
            service,
            environment,
            status: r.status,
            decision_id: None,
            version: None,
            commit: None,
            pipeline_url: None,
            started_at: r.started_at.unwrap_or(now),
            finished_at: None,
            reported_by: by.to_string(),
        },
        Some(d) => {
            if d.team != team || d.environment != environment || (service.is_some() && d.service != service) {
                return Err(conflict(format!(
                    "deployment `{id}` is of {}{} in {}, not of {}; a new deployment needs a new id",
                    d.team,
                    d.service.as_deref().map(|s| format!("/{s}")).unwrap_or_default(),
                    d.environment,
                    r.target
                )));
            }
            if d.status.finished() && r.status == DeploymentStatus::Started {
                return Err(conflict(format!(
                    "deployment `{id}` already finished ({}); report a new deployment with a new id",
                    d.status.as_str()
                )));
            }
            let mut d = d;
            d.status = r.status;
            d.reported_by = by.to_string();
            if let Some(s) = r.started_at {
                d.started_at = s;
            }
            d
        }
    };
    d.decision_id = r.decision_id.or(d.decision_id);
    d.version = r.version.or(d.version);
    d.commit = r.commit.or(d.commit);
    d.pipeline_url = r.pipeline_url.or(d.pipeline_url);
    let sane = |t: DateTime<Utc>| t.timestamp() >= 946_684_800 && t <= now + Duration::days(1);
    for (field, t) in [("started_at", Some(d.started_at)), ("finished_at", r.finished_at)] {
        if let Some(t) = t.filter(|t| !sane(*t)) {
            return Err(Error::field(
                ErrorCode::InvalidValue,
                field,
                format!("{field} {t} is not a time a deployment ran; give one from 2000 up to now"),
            ));
        }
    }
    d.finished_at = match r.status {
        DeploymentStatus::Started => None,
        _ => Some(r.finished_at.or(d.finished_at).unwrap_or(now)),
    };
    if let Some(f) = d.finished_at.filter(|f| *f < d.started_at) {
        return Err(Error::field(
            ErrorCode::InvalidValue,
            "finished_at",
            format!("finished_at {f} is before the deployment started ({})", d.started_at),
        ));
    }
    Ok(d)
}

/// Delivery as the deployments and decisions tell it.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct DeliveryStats {
    pub since: DateTime<Utc>,
    pub until: DateTime<Utc>,
    pub team: Option<String>,
    pub environment: Option<String>,
    /// Deployments started in the range.
    pub deployments: usize,
    pub deployments_per_week: f64,
    /// (failed + rolled back) / finished; null when none finished.
    pub change_failure_rate: Option<f64>,
    /// Median seconds from a failed (or rolled back) deployment's end to the
    /// end of the next successful one of the same service and environment.
    pub time_to_restore: Option<f64>,
    pub time_to_restore_samples: usize,
    /// Median seconds a pipeline waited on the gate: from its first denied
    /// decision to its first allowed one (same `pipeline_url`).
    pub gate_wait: Option<f64>,
    pub gate_wait_samples: usize,
    /// Those waits added up, in seconds.
    pub gate_wait_total: f64,
}

fn median(mut xs: Vec<f64>) -> Option<f64> {
    if xs.is_empty() {
        return None;
    }
    xs.sort_by(f64::total_cmp);
    let n = xs.len();
    Some(if n % 2 == 1 { xs[n / 2] } else { (xs[n / 2 - 1] + xs[n / 2]) / 2.0 })
}

fn seconds(d: Duration) -> f64 {
    d.num_milliseconds() as f64 / 1000.0
}

/// Failed to the next succeeded, per service and environment.
fn restores(deployments: &[Deployment]) -> Vec<f64> {
    let mut by_target: HashMap<(&str, Option<&str>, &str), Vec<&Deployment>> = HashMap::new();
    for d in deployments {
        by_target.entry((&d.team, d.service.as_deref(), &d.environment)).or_default().push(d);
    }
    let mut out = Vec::new();
    for list in by_target.values_mut() {
        list.sort_by_key(|d| d.started_at);
        for (i, failed) in list.iter().enumerate().filter(|(_, d)| d.status.failed()) {
            let broke = failed.finished_at.unwrap_or(failed.started_at);
            let next = list[i + 1..].iter().find(|d| d.status == DeploymentStatus::Succeeded);
            if let Some(fixed) = next.and_then(|d| d.finished_at) {
                out.push(seconds(fixed - broke));
            }
        }
    }
    out
}

/// First deny to first allow after it, per pipeline.
fn gate_waits(decisions: &[(DateTime<Utc>, DecisionRecord)]) -> Vec<f64> {
    let mut by_pipeline: HashMap<&str, Vec<(DateTime<Utc>, bool)>> = HashMap::new();
    for (at, d) in decisions {
        if let Some(p) = d.pipeline_url.as_deref() {
            by_pipeline.entry(p).or_default().push((*at, d.allowed));
        }
    }
    let mut out = Vec::new();
    for list in by_pipeline.values_mut() {
        list.sort();
        let Some(first_deny) = list.iter().position(|(_, allowed)| !allowed) else { continue };
        if let Some((allowed_at, _)) = list[first_deny..].iter().find(|(_, allowed)| *allowed) {
            out.push(seconds(*allowed_at - list[first_deny].0));
        }
    }
    out
}

impl Gate {
    /// `POST /deployments`: create or update; answers the record and whether it is new.
    pub async fn report_deployment(
        &self,
        r: Report,
        by: &Caller,
        now: DateTime<Utc>,
    ) -> Result<(Deployment, bool), Error> {
        let (team, env) = (r.target.team.as_str(), r.target.environment.as_str());
        if by.role != Role::Admin && !by.in_scope(team, env) {
            return Err(Error::new(
                ErrorCode::Forbidden,
                format!(
                    "token '{}' may not report deployments of team {team} in {env}; its scope is its configured teams and environments",
                    by.name
                ),
            ));
        }
        let id = r.id.clone().unwrap_or_else(|| format!("dep-{}", uuid::Uuid::new_v4().simple()));
        let by_name = by.name.clone();
        let key = id.clone();
        let reported = self
            .store
            .report_deployment(&id, move |before| merge(before, r, &key, &by_name, now), &by.name, now)
            .await
            .map_err(|e| Error::store(e, "record the deployment"))??;
        tracing::info!(deployment = %reported.0.id, status = reported.0.status.as_str(), by = %by.name, "deployment reported");
        Ok(reported)
    }

    /// `GET /deployments`, newest first.
    pub async fn deployments(&self, filter: &DeploymentFilter) -> Result<Vec<Deployment>, Error> {
        self.store.deployments(filter).await.map_err(|e| Error::store(e, "read the deployments"))
    }

    /// `GET /stats/delivery`.
    pub async fn delivery_stats(
        &self,
        team: Option<String>,
        environment: Option<String>,
        since: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<DeliveryStats, Error> {
        let filter = DeploymentFilter {
            team: team.clone(),
            service: None,
            environment: environment.clone(),
            since: Some(since),
            limit: STATS_READ_MAX,
        };
        let deployments = self.deployments(&filter).await?;
        let finished: Vec<&Deployment> = deployments.iter().filter(|d| d.status.finished()).collect();
        let failed = finished.iter().filter(|d| d.status.failed()).count();
        let weeks = (seconds(now - since) / (7.0 * 86_400.0)).max(1.0 / 7.0);
        let audit = AuditFilter {
            kind: Some("decision".into()),
            team: team.clone(),
            since: Some(since),
            before: None,
            limit: STATS_READ_MAX,
        };
        let decisions: Vec<(DateTime<Utc>, DecisionRecord)> = self
            .audit_records(&audit)
            .await?
            .into_iter()
            .filter_map(|r| DecisionRecord::from_details(&r.entry.details).map(|d| (r.entry.at, d)))
            .filter(|(_, d)| environment.as_ref().is_none_or(|e| d.target.environment.as_str() == e))
            .collect();
        let restores = restores(&deployments);
        let waits = gate_waits(&decisions);
        Ok(DeliveryStats {
            since,
            until: now,
            team,
            environment,
            deployments: deployments.len(),
            deployments_per_week: (deployments.len() as f64 / weeks * 100.0).round() / 100.0,
            change_failure_rate: (!finished.is_empty()).then(|| failed as f64 / finished.len() as f64),
            time_to_restore_samples: restores.len(),
            time_to_restore: median(restores),
            gate_wait_samples: waits.len(),
            // A sum of nothing is -0.0 for floats: start from 0.
            gate_wait_total: waits.iter().fold(0.0, |a, b| a + b),
            gate_wait: median(waits),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().expect("instant")
    }

    fn dep(id: &str, status: DeploymentStatus, start: &str, end: &str) -> Deployment {
        Deployment {
            id: id.into(),
            team: "payments".into(),
            service: Some("api".into()),
            environment: "production".into(),
            status,
            decision_id: None,
            version: None,
            commit: None,
            pipeline_url: None,
            started_at: at(start),
            finished_at: Some(at(end)),
            reported_by: "ci".into(),
        }
    }

    #[test]
    fn time_to_restore_runs_from_a_failure_to_the_next_success() {
        use DeploymentStatus::*;
        let list = [
            dep("a", Succeeded, "2026-11-02T10:00:00Z", "2026-11-02T10:10:00Z"),
            dep("b", Failed, "2026-11-03T10:00:00Z", "2026-11-03T10:10:00Z"),
            dep("c", RolledBack, "2026-11-03T11:00:00Z", "2026-11-03T11:05:00Z"),
            dep("d", Succeeded, "2026-11-03T12:00:00Z", "2026-11-03T12:10:00Z"),
        ];
        let mut r = restores(&list);
        r.sort_by(f64::total_cmp);
        assert_eq!(r, [3900.0, 7200.0]);
        assert_eq!(median(r), Some(5550.0));
    }
}

/// How long after a deployment ends its effects are still counted.
pub const AFTERMATH: Duration = Duration::minutes(10);

/// What users saw during one release.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct DeploymentImpact {
    pub deployment: Deployment,
    /// `[started_at, finished_at + 10m)`.
    pub from: DateTime<Utc>,
    pub until: DateTime<Utc>,
    /// The same span a week earlier.
    pub baseline_from: DateTime<Utc>,
    #[serde(flatten)]
    pub impact: crate::traffic::Impact,
}

/// `GET /impact/report`: a team's releases, in one sentence and in detail.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct ImpactReport {
    pub team: String,
    pub since: DateTime<Utc>,
    /// Finished releases of a service in the range.
    pub releases: usize,
    /// Those with traffic data for both spans.
    pub with_data: usize,
    pub failed_requests: f64,
    pub minutes_slow: f64,
    pub minutes_degraded: f64,
    pub degraded_releases: usize,
    /// What users saw, for a business reader.
    pub sentence: String,
    pub deployments: Vec<DeploymentImpact>,
}

/// Releases a report looks at, at most (the newest).
const REPORT_MAX: i64 = 50;

fn thousands(x: f64) -> String {
    let digits = format!("{:.0}", x.max(0.0));
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

impl Gate {
    /// `GET /deployments/{id}/impact`.
    pub async fn deployment_impact(&self, id: &str) -> Result<DeploymentImpact, Error> {
        let d =
            self.store.deployment(id).await.map_err(|e| Error::store(e, "read the deployment"))?.ok_or_else(|| {
                Error::new(
                    ErrorCode::DeploymentNotFound,
                    format!("no deployment has id `{}`; GET /deployments lists them", id.escape_debug()),
                )
            })?;
        self.impact_of(d).await
    }

    async fn impact_of(&self, d: Deployment) -> Result<DeploymentImpact, Error> {
        let Some(finished) = d.finished_at else {
            return Err(Error::new(
                ErrorCode::DeploymentNotFinished,
                format!("deployment `{}` has not finished yet; report its outcome first", d.id),
            ));
        };
        let no_data = |why: String| Error::new(ErrorCode::NoTrafficData, why);
        let Some(service) = d.service.clone() else {
            return Err(no_data(format!("deployment `{}` names no service; traffic data is kept per service", d.id)));
        };
        let (from, until) = (d.started_at, finished + AFTERMATH);
        let week = Duration::weeks(1);
        let live = self.live();
        let env = self.catalog.env();
        let read = |from, until| self.traffic.series(&live, env, &service, from, until);
        let during =
            read(from, until).await.map_err(|e| no_data(format!("the traffic source could not be read: {e:#}")))?;
        let before = read(from - week, until - week)
            .await
            .map_err(|e| no_data(format!("the traffic source could not be read: {e:#}")))?;
        match (during, before) {
            (Some(during), Some(before)) => Ok(DeploymentImpact {
                deployment: d,
                from,
                until,
                baseline_from: from - week,
                impact: crate::traffic::compare(&during, &before),
            }),
            _ => Err(no_data(format!(
                "no traffic source has data for {service} during deployment `{}` and the same span a week earlier",
                d.id
            ))),
        }
    }

    /// `GET /impact/report`.
    pub async fn impact_report(&self, team: &str, since: DateTime<Utc>) -> Result<ImpactReport, Error> {
        let filter = DeploymentFilter {
            team: Some(team.to_string()),
            service: None,
            environment: None,
            since: Some(since),
            limit: REPORT_MAX * 4,
        };
        let releases: Vec<Deployment> = self
            .deployments(&filter)
            .await?
            .into_iter()
            .filter(|d| d.status.finished() && d.service.is_some())
            .take(REPORT_MAX as usize)
            .collect();
        let mut deployments = Vec::new();
        for d in releases.iter().cloned() {
            match self.impact_of(d).await {
                Ok(i) => deployments.push(i),
                Err(e) if e.code == ErrorCode::NoTrafficData => {}
                Err(e) => return Err(e),
            }
        }
        // Folds from 0: a float sum of nothing is -0.0.
        let failed = deployments.iter().fold(0.0, |a, i| a + i.impact.extra_failed_requests);
        let slow = deployments.iter().fold(0.0, |a, i| a + i.impact.minutes_slow);
        let degraded_minutes = deployments.iter().fold(0.0, |a, i| a + i.impact.minutes_degraded);
        let degraded =
            deployments.iter().filter(|i| i.impact.verdict == crate::traffic::ImpactVerdict::Degraded).count();
        let n = deployments.len();
        let releases_text = if n == 1 { "1 release".to_string() } else { format!("{n} releases") };
        let sentence = if n == 0 {
            format!("No release of {team} since {} has traffic data to tell what users saw.", since.date_naive())
        } else {
            let mut s = format!(
                "During {releases_text} of {team} since {}, users saw {} failed requests and {} minutes of slow pages",
                since.date_naive(),
                thousands(failed),
                thousands(slow)
            );
            s.push_str(&match degraded {
                0 => "; none of the releases visibly degraded the service.".to_string(),
                1 => "; 1 release visibly degraded the service.".to_string(),
                k => format!("; {k} releases visibly degraded the service."),
            });
            s
        };
        Ok(ImpactReport {
            team: team.to_string(),
            since,
            releases: releases.len(),
            with_data: n,
            failed_requests: failed,
            minutes_slow: slow,
            minutes_degraded: degraded_minutes,
            degraded_releases: degraded,
            sentence,
            deployments,
        })
    }
}
