//! Traffic sources fetched in the background, on a schedule, each with a
//! timeout; a source that fails keeps its last good data and says why in
//! `/readyz`. Decisions read the precomputed profile of their service.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration as StdDuration;

use anyhow::Context;
use arc_swap::ArcSwap;
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use super::Live;
use crate::config::TrafficSettings;
use crate::traffic::{
    Kind, Profile, Samples, SourceSpec, Weekly, for_service, join, newrelic_series, prometheus_range, read_csv,
};

/// Queries to one source at once.
const CONCURRENCY: usize = 8;
/// The step of Prometheus queries: 5 minutes, 2,016 points a week.
const PROMETHEUS_STEP: Duration = Duration::minutes(5);

/// How a source's last fetches went.
#[derive(Clone, Debug, Default, Serialize, utoipa::ToSchema)]
pub struct SourceStatus {
    pub id: String,
    pub kind: String,
    pub last_attempt: Option<DateTime<Utc>>,
    pub last_success: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    /// How long the last fetch took, in seconds.
    pub last_duration: Option<f64>,
    /// Services with data from it.
    pub services: usize,
}

/// The traffic data the gate holds.
pub struct Traffic {
    /// By service: the first source (in config order) with data for it.
    weekly: ArcSwap<HashMap<String, Arc<Weekly>>>,
    /// The profiles over `[traffic] weeks`, by service, for decisions.
    profiles: ArcSwap<HashMap<String, Arc<Profile>>>,
    /// Each source's last good data.
    by_source: Mutex<HashMap<String, HashMap<String, Arc<Weekly>>>>,
    status: Mutex<BTreeMap<String, SourceStatus>>,
    client: reqwest::Client,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Traffic {
    pub fn new() -> anyhow::Result<Traffic> {
        // Each query has its source's own timeout on top of this one.
        let client = crate::client::http_client(StdDuration::from_secs(5), StdDuration::from_secs(600))
            .context("cannot build the HTTP client for traffic sources")?;
        Ok(Traffic {
            weekly: ArcSwap::from_pointee(HashMap::new()),
            profiles: ArcSwap::from_pointee(HashMap::new()),
            by_source: Mutex::new(HashMap::new()),
            status: Mutex::new(BTreeMap::new()),
            client,
        })
    }

    /// The week profile of a service, over `[traffic] weeks`.
    pub fn profile(&self, service: &str) -> Option<Arc<Profile>> {
        self.profiles.load().get(service).cloned()
    }

    /// A service's hours by week, to build a profile over other weeks.
    pub fn weekly(&self, service: &str) -> Option<Arc<Weekly>> {
        self.weekly.load().get(service).cloned()
    }

    /// Services with data, sorted.
    pub fn services(&self) -> Vec<String> {
        let mut names: Vec<String> = self.weekly.load().keys().cloned().collect();
        names.sort();
        names
    }

    /// Every configured source and how its fetches went.
    pub fn sources(&self, settings: &TrafficSettings) -> Vec<SourceStatus> {
        let status = lock(&self.status);
        settings
            .sources
            .iter()
            .map(|s| {
                status.get(&s.id).cloned().unwrap_or_else(|| SourceStatus {
                    id: s.id.clone(),
                    kind: s.kind.name().into(),
                    ..SourceStatus::default()
                })
            })
            .collect()
    }

    /// Fetch every source once (each within its timeout), keep what
    /// succeeded, and compile the profiles.
    pub async fn refresh(&self, live: &Live, env: &[(String, String)], now: DateTime<Utc>) {
        let settings = live.traffic.clone();
        let known = live.rules.service_names();
        for source in &settings.sources {
            let started = now;
            let clock = std::time::Instant::now();
            // Each query has the source's timeout; the whole fetch, as long as
            // its queries take one after another in the worst case.
            let rounds = services_for(source, &known).len().max(1).div_ceil(CONCURRENCY) as u32;
            let bound = source.timeout * (3 * rounds + 1);
            let fetched = tokio::time::timeout(bound, fetch(&self.client, source, &known, env, settings.weeks, now))
                .await
                .unwrap_or_else(|_| Err(anyhow::anyhow!("no answer within {bound:?}")));
            let mut status = lock(&self.status);
            let entry = status.entry(source.id.clone()).or_insert_with(|| SourceStatus {
                id: source.id.clone(),
                kind: source.kind.name().into(),
                ..SourceStatus::default()
            });
            entry.last_attempt = Some(started);
            entry.last_duration = Some(clock.elapsed().as_secs_f64());
            match fetched {
                Ok(samples) => {
                    let weekly: HashMap<String, Arc<Weekly>> = samples
                        .iter()
                        .filter_map(|(service, s)| {
                            Weekly::from_samples(service, &source.id, source.zone, s)
                                .map(|w| (service.clone(), Arc::new(w)))
                        })
                        .collect();
                    entry.last_success = Some(started);
                    entry.last_error = None;
                    entry.services = weekly.len();
                    lock(&self.by_source).insert(source.id.clone(), weekly);
                }
                Err(e) => {
                    let message = format!("{e:#}");
                    tracing::warn!(source = %source.id, error = %message, "a traffic source could not be read; its last good data stays");
                    entry.last_error = Some(message);
                }
            }
        }
        self.compile(&settings);
    }

    /// Merge the sources' data, first source first, and build the profiles.
    fn compile(&self, settings: &TrafficSettings) {
        let by_source = lock(&self.by_source);
        let mut weekly: HashMap<String, Arc<Weekly>> = HashMap::new();
        for source in &settings.sources {
            for (service, w) in by_source.get(&source.id).into_iter().flatten() {
                weekly.entry(service.clone()).or_insert_with(|| w.clone());
            }
        }
        let weeks = settings.weeks as usize;
        let profiles = weekly.iter().map(|(s, w)| (s.clone(), Arc::new(w.profile(weeks)))).collect();
        self.weekly.store(Arc::new(weekly));
        self.profiles.store(Arc::new(profiles));
    }
}

/// The services to ask a monitoring system about: those the source names
/// literally, and those windows name that it describes.
fn services_for(source: &SourceSpec, known: &HashSet<String>) -> Vec<String> {
    let mut names: HashSet<String> = source.services.iter().filter_map(|p| p.literal().map(str::to_string)).collect();
    names.extend(known.iter().filter(|s| source.describes(s)).cloned());
    let mut names: Vec<String> = names.into_iter().collect();
    names.sort();
    names
}

async fn fetch(
    client: &reqwest::Client,
    source: &SourceSpec,
    known: &HashSet<String>,
    env: &[(String, String)],
    weeks: u32,
    now: DateTime<Utc>,
) -> anyhow::Result<Samples> {
    let from = now - Duration::weeks(weeks as i64);
    match &source.kind {
        Kind::Csv { path } => {
            let text =
                tokio::fs::read_to_string(path).await.with_context(|| format!("cannot read {}", path.display()))?;
            let source = source.clone();
            tokio::task::spawn_blocking(move || read_csv(&text, |s| source.describes(s)))
                .await
                .context("the CSV reader stopped")?
        }
        Kind::Prometheus { .. } | Kind::NewRelic { .. } => {
            let key = api_key(source, env)?;
            let mut jobs = tokio::task::JoinSet::new();
            let gate = Arc::new(tokio::sync::Semaphore::new(CONCURRENCY));
            for service in services_for(source, known) {
                let (client, source, key, gate) = (client.clone(), source.clone(), key.clone(), gate.clone());
                jobs.spawn(async move {
                    let _turn = gate.acquire_owned().await;
                    let samples =
                        fetch_one(&client, &source, key.as_deref(), &service, from, now, PROMETHEUS_STEP).await?;
                    anyhow::Ok((service, samples))
                });
            }
            collect(jobs).await
        }
    }
}

/// A New Relic source's API key, from the environment the gate started with.
fn api_key(source: &SourceSpec, env: &[(String, String)]) -> anyhow::Result<Option<String>> {
    let Kind::NewRelic { api_key_env, .. } = &source.kind else { return Ok(None) };
    let key = env.iter().find(|(k, v)| k == api_key_env && !v.is_empty()).map(|(_, v)| v.clone());
    key.map(Some).with_context(|| format!("the environment variable {api_key_env} (the New Relic API key) is not set"))
}

/// One service's requests, errors and latency over `[from, until)` from a
/// monitoring system, each query within the source's timeout.
async fn fetch_one(
    client: &reqwest::Client,
    source: &SourceSpec,
    key: Option<&str>,
    service: &str,
    from: DateTime<Utc>,
    until: DateTime<Utc>,
    step: Duration,
) -> anyhow::Result<Vec<crate::traffic::Sample>> {
    let timeout = source.timeout;
    let (requests, errors, latency) = match &source.kind {
        Kind::Prometheus { requests, errors, latency_p95, .. }
        | Kind::NewRelic { requests, errors, latency_p95, .. } => (requests, errors, latency_p95),
        Kind::Csv { .. } => anyhow::bail!("a CSV file is read whole"),
    };
    let mut series = Vec::new();
    for q in [Some(requests), errors.as_ref(), latency.as_ref()] {
        let Some(q) = q else {
            series.push(None);
            continue;
        };
        let q = for_service(q, service);
        let asked = async {
            match &source.kind {
                Kind::Prometheus { url, .. } => prometheus_range(client, url, &q, from, until, step).await,
                Kind::NewRelic { endpoint, account_id, .. } => {
                    newrelic_series(client, endpoint, key.unwrap_or_default(), *account_id, &q, from, until).await
                }
                Kind::Csv { .. } => Err(anyhow::anyhow!("a CSV file is read whole")),
            }
        };
        let answer = tokio::time::timeout(timeout, asked)
            .await
            .map_err(|_| anyhow::anyhow!("{} gave no answer within {timeout:?}", source.kind.name()))??;
        series.push(Some(answer));
    }
    let mut it = series.into_iter();
    let (r, e, l) = (it.next().flatten(), it.next().flatten(), it.next().flatten());
    Ok(join(r.unwrap_or_default(), e, l))
}

impl Traffic {
    /// One service's samples over `[from, until)` from the first source that
    /// describes it and has data, at a one-minute step where it can: for
    /// what users saw during one release.
    pub async fn series(
        &self,
        live: &Live,
        env: &[(String, String)],
        service: &str,
        from: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> anyhow::Result<Option<Vec<crate::traffic::Sample>>> {
        for source in live.traffic.sources.iter().filter(|s| s.describes(service)) {
            let samples = match &source.kind {
                Kind::Csv { path } => {
                    let text = tokio::fs::read_to_string(path)
                        .await
                        .with_context(|| format!("cannot read {}", path.display()))?;
                    let mut all = read_csv(&text, |s| s == service)?;
                    all.remove(service)
                        .unwrap_or_default()
                        .into_iter()
                        .filter(|s| s.at >= from && s.at < until)
                        .collect()
                }
                _ => {
                    let key = api_key(source, env)?;
                    fetch_one(&self.client, source, key.as_deref(), service, from, until, Duration::minutes(1)).await?
                }
            };
            if !samples.is_empty() {
                return Ok(Some(samples));
            }
        }
        Ok(None)
    }
}

/// Every service's samples, or the first failure.
async fn collect(
    mut jobs: tokio::task::JoinSet<anyhow::Result<(String, Vec<crate::traffic::Sample>)>>,
) -> anyhow::Result<Samples> {
    let mut out = HashMap::new();
    while let Some(done) = jobs.join_next().await {
        let (service, samples) = done.context("a fetch stopped")??;
        if !samples.is_empty() {
            out.insert(service, samples);
        }
    }
    Ok(out)
}
