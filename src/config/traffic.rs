//! `[traffic]` and its `[[traffic.sources]]`: where traffic data comes from.

use std::collections::HashSet;
use std::path::Path;
use std::time::Duration;

use toml::{Table, Value};

use super::fields::{Fields, Problem};
use super::window::{check_id, parse_duration_text};
use crate::error::ErrorCode;
use crate::policy::Pattern;
use crate::traffic::{Kind, SourceSpec};

const TRAFFIC_KEYS: &[&str] = &["refresh", "weeks", "sources"];
const SOURCE_KEYS: &[&str] = &[
    "id",
    "kind",
    "url",
    "services",
    "requests",
    "errors",
    "latency_p95",
    "timezone",
    "account_id",
    "api_key_env",
    "endpoint",
    "path",
    "timeout",
];
pub const NEW_RELIC_ENDPOINT: &str = "https://api.newrelic.com/graphql";

/// The traffic settings.
#[derive(Clone, Debug, PartialEq)]
pub struct TrafficSettings {
    /// How often every source is fetched again.
    pub refresh: Duration,
    /// How many weeks back a fetch reads.
    pub weeks: u32,
    pub sources: Vec<SourceSpec>,
}

impl Default for TrafficSettings {
    fn default() -> TrafficSettings {
        TrafficSettings { refresh: Duration::from_secs(15 * 60), weeks: 4, sources: Vec::new() }
    }
}

fn duration(f: &mut Fields, key: &str, default: Duration, min: Duration, max: Duration) -> Duration {
    let Some(text) = f.string(key) else { return default };
    match parse_duration_text(text).map(|d| d.to_std().unwrap_or_default()) {
        Ok(d) if d >= min && d <= max => d,
        Ok(_) => {
            f.problem(
                key,
                ErrorCode::InvalidDuration,
                format!(
                    "`{text}` is out of range; give {} to {}",
                    humantime::format_duration(min),
                    humantime::format_duration(max)
                ),
            );
            default
        }
        Err(e) => {
            f.problem(key, ErrorCode::InvalidDuration, e);
            default
        }
    }
}

/// The `[traffic]` table of `file`.
pub fn traffic_from_table(table: &Table, file: &str) -> (TrafficSettings, Vec<Problem>) {
    let mut f = Fields::new(table, Some(file), "traffic".into(), TRAFFIC_KEYS);
    let defaults = TrafficSettings::default();
    let refresh = duration(&mut f, "refresh", defaults.refresh, Duration::from_secs(1), Duration::from_secs(86_400));
    let weeks = match table.get("weeks") {
        None => defaults.weeks,
        Some(Value::Integer(n)) if (1..=12).contains(n) => *n as u32,
        Some(_) => {
            f.problem("weeks", ErrorCode::InvalidValue, "must be a whole number of weeks from 1 to 12");
            defaults.weeks
        }
    };
    let mut sources = Vec::new();
    let mut problems = Vec::new();
    match table.get("sources") {
        None => {}
        Some(Value::Array(list)) => {
            let mut seen = HashSet::new();
            for (i, v) in list.iter().enumerate() {
                let Some(t) = v.as_table() else {
                    f.problem("sources", ErrorCode::InvalidType, "must be [[traffic.sources]] tables");
                    continue;
                };
                // Ids as written, valid or not, so a repeat is named either way.
                if let Some(id) = t.get("id").and_then(Value::as_str)
                    && !seen.insert(id.to_string())
                {
                    problems.push(Problem::new(
                        Some(file),
                        &format!("traffic.sources[{id}]"),
                        "id",
                        ErrorCode::DuplicateId,
                        "is already used by another source; source ids must be unique",
                    ));
                    continue;
                }
                match source_from_table(t, file, i) {
                    Ok(s) => sources.push(s),
                    Err(mut p) => problems.append(&mut p),
                }
            }
        }
        Some(_) => f.problem("sources", ErrorCode::InvalidType, "must be [[traffic.sources]] tables"),
    }
    let mut all = f.finish();
    all.append(&mut problems);
    (TrafficSettings { refresh, weeks, sources }, all)
}

fn required(f: &mut Fields, key: &str, kind: &str, example: &str) -> Option<String> {
    if !f.has(key) {
        f.problem(key, ErrorCode::MissingField, format!("is required for a {kind} source, e.g. {key} = {example}"));
        return None;
    }
    f.required_string(key, example).map(str::to_string)
}

fn source_from_table(table: &Table, file: &str, index: usize) -> Result<SourceSpec, Vec<Problem>> {
    let scope = match table.get("id").and_then(Value::as_str) {
        Some(id) if !id.is_empty() => format!("traffic.sources[{id}]"),
        _ => format!("traffic.sources[{index}]"),
    };
    let mut f = Fields::new(table, Some(file), scope, SOURCE_KEYS);
    let id = f.required_string("id", "\"prom\"").filter(|id| match check_id("a source id", id) {
        Ok(()) => true,
        Err(m) => {
            f.problem("id", ErrorCode::InvalidId, m);
            false
        }
    });
    let zone = f.zone();
    let services = if f.has("services") { f.patterns("services") } else { Some(vec!["*".to_string()]) };
    let timeout =
        duration(&mut f, "timeout", Duration::from_secs(30), Duration::from_secs(1), Duration::from_secs(600));
    let optional = |f: &mut Fields, key: &str| f.string(key).filter(|s| !s.trim().is_empty()).map(str::to_string);
    let kind = match f.required_string("kind", "\"prometheus\"") {
        None => None,
        Some("csv") => required(&mut f, "path", "csv", "\"traffic/sample.csv\"").map(|p| {
            let path = Path::new(&p);
            let path = if path.is_absolute() {
                path.to_path_buf()
            } else {
                Path::new(file).parent().unwrap_or(Path::new(".")).join(path)
            };
            Kind::Csv { path }
        }),
        Some("prometheus") => {
            let url = required(&mut f, "url", "prometheus", "\"http://127.0.0.1:9090\"");
            let requests = required(
                &mut f,
                "requests",
                "prometheus",
                "'sum(rate(http_requests_total{service=\"{service}\"}[5m])) * 60'",
            );
            let (errors, latency_p95) = (optional(&mut f, "errors"), optional(&mut f, "latency_p95"));
            match (url, requests) {
                (Some(url), Some(requests)) => Some(Kind::Prometheus { url, requests, errors, latency_p95 }),
                _ => None,
            }
        }
        Some("newrelic") => {
            let account_id = match table.get("account_id") {
                Some(Value::Integer(n)) if *n > 0 => Some(*n),
                Some(_) => {
                    f.problem("account_id", ErrorCode::InvalidValue, "must be the account's number, e.g. 1234567");
                    None
                }
                None => {
                    f.problem(
                        "account_id",
                        ErrorCode::MissingField,
                        "is required for a newrelic source, e.g. account_id = 1234567",
                    );
                    None
                }
            };
            let api_key_env = required(&mut f, "api_key_env", "newrelic", "\"NEW_RELIC_API_KEY\"");
            let requests = required(
                &mut f,
                "requests",
                "newrelic",
                "\"SELECT rate(count(*), 1 minute) FROM Transaction WHERE appName = '{service}' TIMESERIES 5 minutes\"",
            );
            let endpoint = optional(&mut f, "endpoint").unwrap_or_else(|| NEW_RELIC_ENDPOINT.to_string());
            let (errors, latency_p95) = (optional(&mut f, "errors"), optional(&mut f, "latency_p95"));
            match (account_id, api_key_env, requests) {
                (Some(account_id), Some(api_key_env), Some(requests)) => {
                    Some(Kind::NewRelic { endpoint, account_id, api_key_env, requests, errors, latency_p95 })
                }
                _ => None,
            }
        }
        Some(other) => {
            f.problem(
                "kind",
                ErrorCode::InvalidValue,
                format!("`{other}` is not a source kind; use prometheus, newrelic or csv"),
            );
            None
        }
    };
    let problems = f.finish();
    match (id, zone, services, kind) {
        (Some(id), Some(zone), Some(services), Some(kind)) if problems.is_empty() => Ok(SourceSpec {
            id: id.to_string(),
            kind,
            services: services.iter().map(|p| Pattern::new(p)).collect(),
            zone,
            timeout,
        }),
        _ => Err(problems),
    }
}
