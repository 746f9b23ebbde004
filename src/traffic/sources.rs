//! Where traffic comes from: a CSV file, Prometheus (`query_range`), or New
//! Relic (NerdGraph NRQL). Each fetch answers per-minute samples by service.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration as StdDuration;

use anyhow::{Context, bail};
use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};

use super::profile::Sample;
use crate::policy::Pattern;
use crate::schedule::Zone;

/// Prometheus answers at most this many points per series.
pub const PROMETHEUS_MAX_POINTS: i64 = 11_000;

/// Per-minute samples, by service.
pub type Samples = HashMap<String, Vec<Sample>>;

/// What kind of source, with what it needs.
#[derive(Clone, Debug, PartialEq)]
pub enum Kind {
    Csv {
        path: PathBuf,
    },
    Prometheus {
        url: String,
        requests: String,
        errors: Option<String>,
        latency_p95: Option<String>,
    },
    NewRelic {
        endpoint: String,
        account_id: i64,
        api_key_env: String,
        requests: String,
        errors: Option<String>,
        latency_p95: Option<String>,
    },
}

impl Kind {
    pub fn name(&self) -> &'static str {
        match self {
            Kind::Csv { .. } => "csv",
            Kind::Prometheus { .. } => "prometheus",
            Kind::NewRelic { .. } => "newrelic",
        }
    }
}

/// One `[[traffic.sources]]` table.
#[derive(Clone, Debug, PartialEq)]
pub struct SourceSpec {
    pub id: String,
    pub kind: Kind,
    /// Which services it describes.
    pub services: Vec<Pattern>,
    pub zone: Zone,
    pub timeout: StdDuration,
}

impl SourceSpec {
    pub fn describes(&self, service: &str) -> bool {
        self.services.iter().any(|p| p.matches(service))
    }
}

/// Read a CSV file: `timestamp,service,requests,errors,latency_p95_ms`.
/// A malformed row fails the whole read, naming its line.
pub fn read_csv(text: &str, describes: impl Fn(&str) -> bool) -> anyhow::Result<Samples> {
    let mut lines = text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty());
    let header: Vec<&str> = match lines.next() {
        Some((_, h)) => h.split(',').map(str::trim).collect(),
        None => bail!("the file is empty; its first line must be timestamp,service,requests,errors,latency_p95_ms"),
    };
    if header != ["timestamp", "service", "requests", "errors", "latency_p95_ms"] {
        bail!("line 1: the header must be timestamp,service,requests,errors,latency_p95_ms, not {}", header.join(","));
    }
    let mut out: Samples = HashMap::new();
    for (i, line) in lines {
        let n = i + 1;
        let cells: Vec<&str> = line.split(',').map(str::trim).collect();
        if cells.len() != 5 {
            bail!("line {n}: {} fields, not 5", cells.len());
        }
        let at = DateTime::parse_from_rfc3339(cells[0])
            .with_context(|| format!("line {n}: timestamp `{}` is not RFC 3339", cells[0]))?
            .with_timezone(&Utc);
        let number = |k: usize, what: &str| -> anyhow::Result<Option<f64>> {
            if cells[k].is_empty() {
                return Ok(None);
            }
            let x: f64 =
                cells[k].parse().with_context(|| format!("line {n}: {what} `{}` is not a number", cells[k]))?;
            if !x.is_finite() || x < 0.0 {
                bail!("line {n}: {what} `{}` must be a number, 0 or more", cells[k]);
            }
            Ok(Some(x))
        };
        let requests = number(2, "requests")?.with_context(|| format!("line {n}: requests is empty"))?;
        let errors = number(3, "errors")?;
        let latency = number(4, "latency_p95_ms")?.map(|ms| ms / 1000.0);
        let service = cells[1].to_ascii_lowercase();
        if service.is_empty() {
            bail!("line {n}: service is empty");
        }
        if describes(&service) {
            out.entry(service).or_default().push(Sample { at, requests, errors, latency_p95: latency });
        }
    }
    Ok(out)
}

/// A Prometheus `query_range` over `[from, until)`, split so that no request
/// asks for more than [`PROMETHEUS_MAX_POINTS`] points; the series are summed.
pub async fn prometheus_range(
    client: &reqwest::Client,
    url: &str,
    query: &str,
    from: DateTime<Utc>,
    until: DateTime<Utc>,
    step: Duration,
) -> anyhow::Result<Vec<(DateTime<Utc>, f64)>> {
    let mut out: Vec<(DateTime<Utc>, f64)> = Vec::new();
    let chunk = step * (PROMETHEUS_MAX_POINTS as i32 - 1);
    let mut start = from;
    while start < until {
        let end = (start + chunk).min(until);
        let address = reqwest::Url::parse_with_params(
            &format!("{}/api/v1/query_range", url.trim_end_matches('/')),
            &[
                ("query", query.to_string()),
                ("start", start.timestamp().to_string()),
                ("end", end.timestamp().to_string()),
                ("step", format!("{}s", step.num_seconds())),
            ],
        )
        .with_context(|| format!("`{url}` is not a URL"))?;
        let response = client.get(address).send().await.with_context(|| format!("cannot reach Prometheus at {url}"))?;
        let status = response.status();
        let body: Value = response.json().await.with_context(|| format!("Prometheus answered {status}, not JSON"))?;
        if body["status"] != "success" {
            bail!(
                "Prometheus refused the query ({status}): {} {}",
                body["errorType"].as_str().unwrap_or(""),
                body["error"].as_str().unwrap_or("")
            );
        }
        let mut sums: std::collections::BTreeMap<i64, f64> = std::collections::BTreeMap::new();
        for series in body["data"]["result"].as_array().into_iter().flatten() {
            for point in series["values"].as_array().into_iter().flatten() {
                let (Some(ts), Some(v)) = (point[0].as_f64(), point[1].as_str().and_then(|v| v.parse::<f64>().ok()))
                else {
                    continue;
                };
                if v.is_finite() {
                    *sums.entry(ts as i64).or_default() += v;
                }
            }
        }
        out.extend(sums.into_iter().filter_map(|(ts, v)| DateTime::from_timestamp(ts, 0).map(|t| (t, v))));
        // The next chunk starts a step after this one's last point.
        start = end + step;
    }
    Ok(out)
}

/// One NerdGraph NRQL query; each result's value is its one field other
/// than `beginTimeSeconds` and `endTimeSeconds`.
pub async fn newrelic_series(
    client: &reqwest::Client,
    endpoint: &str,
    api_key: &str,
    account_id: i64,
    nrql: &str,
    from: DateTime<Utc>,
    until: DateTime<Utc>,
) -> anyhow::Result<Vec<(DateTime<Utc>, f64)>> {
    let nrql = format!("{nrql} SINCE {} UNTIL {}", from.timestamp_millis(), until.timestamp_millis());
    let graphql = format!(
        "{{ actor {{ account(id: {account_id}) {{ nrql(query: {}) {{ results }} }} }} }}",
        serde_json::to_string(&nrql)?
    );
    let response = client
        .post(endpoint)
        .header("API-Key", api_key)
        .json(&json!({ "query": graphql }))
        .send()
        .await
        .with_context(|| format!("cannot reach New Relic at {endpoint}"))?;
    let status = response.status();
    if status == reqwest::StatusCode::UNAUTHORIZED || status == reqwest::StatusCode::FORBIDDEN {
        bail!("New Relic refused the API key ({status})");
    }
    let body: Value = response.json().await.with_context(|| format!("New Relic answered {status}, not JSON"))?;
    if let Some(errors) = body["errors"].as_array().filter(|e| !e.is_empty()) {
        let messages: Vec<&str> = errors.iter().filter_map(|e| e["message"].as_str()).collect();
        bail!("New Relic refused the query: {}", messages.join("; "));
    }
    let results = body["data"]["actor"]["account"]["nrql"]["results"]
        .as_array()
        .with_context(|| format!("New Relic answered {status} without data.actor.account.nrql.results"))?;
    let mut out = Vec::with_capacity(results.len());
    for r in results {
        let Some(map) = r.as_object() else { continue };
        let Some(begin) = map.get("beginTimeSeconds").and_then(Value::as_f64) else { continue };
        let value =
            map.iter().find(|(k, _)| *k != "beginTimeSeconds" && *k != "endTimeSeconds").and_then(|(_, v)| v.as_f64());
        if let (Some(v), Some(t)) = (value, DateTime::from_timestamp(begin as i64, 0)) {
            out.push((t, v));
        }
    }
    Ok(out)
}

/// Join a requests series with optional errors and latency series, by instant.
pub fn join(
    requests: Vec<(DateTime<Utc>, f64)>,
    errors: Option<Vec<(DateTime<Utc>, f64)>>,
    latency: Option<Vec<(DateTime<Utc>, f64)>>,
) -> Vec<Sample> {
    let errors: HashMap<DateTime<Utc>, f64> = errors.unwrap_or_default().into_iter().collect();
    let latency: HashMap<DateTime<Utc>, f64> = latency.unwrap_or_default().into_iter().collect();
    requests
        .into_iter()
        .map(|(at, requests)| Sample {
            at,
            requests,
            errors: errors.get(&at).copied(),
            latency_p95: latency.get(&at).copied(),
        })
        .collect()
}

/// Fill `{service}` in a query template.
pub fn for_service(template: &str, service: &str) -> String {
    template.replace("{service}", service)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_csv_file_is_read_by_service_and_a_bad_row_is_named() {
        let text = "timestamp,service,requests,errors,latency_p95_ms\n2026-11-02T00:00:00Z,checkout,120,1.5,230\n2026-11-02T00:01:00Z,Checkout,100,,\n2026-11-02T00:00:00Z,search,50,0,90\n";
        let s = read_csv(text, |s| s == "checkout").expect("csv");
        assert_eq!(s.len(), 1);
        let c = &s["checkout"];
        assert_eq!(c.len(), 2);
        assert_eq!((c[0].requests, c[0].errors, c[0].latency_p95), (120.0, Some(1.5), Some(0.23)));
        assert_eq!((c[1].errors, c[1].latency_p95), (None, None));
        for (bad, says) in [
            ("timestamp,service,requests,errors,latency_p95_ms\nyesterday,checkout,1,,\n", "line 2: timestamp"),
            (
                "timestamp,service,requests,errors,latency_p95_ms\n2026-11-02T00:00:00Z,checkout,-3,,\n",
                "line 2: requests",
            ),
            (
                "timestamp,service,requests,errors,latency_p95_ms\n2026-11-02T00:00:00Z,checkout,1,,\n2026-11-02T00:00:00Z,checkout\n",
                "line 3: 2 fields",
            ),
            ("time,service\n", "line 1: the header"),
        ] {
            let e = read_csv(bad, |_| true).expect_err(bad).to_string();
            assert!(e.contains(says), "{e}");
        }
    }
}
