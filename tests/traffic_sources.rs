//! Traffic sources against real parts: a real Prometheus (Debian's
//! `prometheus`), started on loopback with weeks of synthetic traffic
//! backfilled by `promtool`; and New Relic, which cannot be reached from
//! here, through a local stand-in that answers NerdGraph's documented JSON.

#[path = "api/helpers.rs"]
#[allow(dead_code)]
mod helpers;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Datelike, DurationRound, Timelike, Utc};
use helpers::{need, spawn_in, spawn_in_env};
use serde_json::{Value, json};

/// Requests a minute at `t`: 100 on weekdays 10:00-17:00 UTC, 1,000 on
/// Fridays 12:00-13:00, 10 otherwise.
fn rate(t: DateTime<Utc>) -> f64 {
    match (t.weekday().num_days_from_monday(), t.hour()) {
        (4, 12) => 1000.0,
        (0..=4, 10..=16) => 100.0,
        _ => 10.0,
    }
}

/// The bad release: 30 minutes, a day before `now`.
fn spike(now: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
    let from = now - chrono::Duration::days(1);
    (from, from + chrono::Duration::minutes(30))
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
}

struct Prometheus {
    child: Child,
    url: String,
    _dir: tempfile::TempDir,
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A Prometheus holding `weeks` of samples every `step` minutes up to now,
/// or `None` (said loudly).
async fn prometheus(weeks: i64, step: i64) -> Option<Prometheus> {
    if !need("prometheus", "prometheus") || !need("promtool", "prometheus") {
        return None;
    }
    let dir = tempfile::tempdir().expect("dir");
    let now = Utc::now().duration_trunc(chrono::Duration::minutes(5)).expect("now");
    let first = now - chrono::Duration::weeks(weeks) - chrono::Duration::hours(1);
    let mut om = String::from("# HELP requests_per_minute Requests a minute.\n# TYPE requests_per_minute gauge\n");
    let mut t = first;
    while t <= now {
        om.push_str(&format!("requests_per_minute{{service=\"checkout\"}} {} {}\n", rate(t), t.timestamp()));
        t += chrono::Duration::minutes(step);
    }
    // 1% of requests fail, but 10% during one bad release a day ago.
    om.push_str("# HELP errors_per_minute Failed requests a minute.\n# TYPE errors_per_minute gauge\n");
    let (spike_from, spike_until) = spike(now);
    let mut t = first;
    while t <= now {
        let share = if t >= spike_from && t < spike_until { 0.1 } else { 0.01 };
        om.push_str(&format!("errors_per_minute{{service=\"checkout\"}} {} {}\n", rate(t) * share, t.timestamp()));
        t += chrono::Duration::minutes(step);
    }
    om.push_str("# EOF\n");
    let file = dir.path().join("traffic.om");
    std::fs::write(&file, om).expect("openmetrics");
    let data = dir.path().join("data");
    let clock = Instant::now();
    let out = Command::new("promtool")
        .args(["tsdb", "create-blocks-from", "openmetrics", "--max-block-duration=168h"])
        .arg(&file)
        .arg(&data)
        .output()
        .expect("promtool");
    assert!(out.status.success(), "promtool: {}", String::from_utf8_lossy(&out.stderr));
    eprintln!("promtool backfilled {weeks} weeks in {:?}", clock.elapsed());
    let clock = Instant::now();
    let config = dir.path().join("prometheus.yml");
    std::fs::write(&config, "global:\n  scrape_interval: 1m\n").expect("config");
    let port = free_port();
    let child = Command::new("prometheus")
        .arg(format!("--config.file={}", config.display()))
        .arg(format!("--storage.tsdb.path={}", data.display()))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .arg("--storage.tsdb.retention.time=120d")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start prometheus");
    let url = format!("http://127.0.0.1:{port}");
    let client = deploy_gate::client::http_client(Duration::from_secs(2), Duration::from_secs(5)).expect("client");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if client.get(format!("{url}/-/ready")).send().await.is_ok_and(|r| r.status().is_success()) {
            break;
        }
        assert!(Instant::now() < deadline, "Prometheus did not become ready");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    eprintln!("Prometheus ready in {:?}", clock.elapsed());
    Some(Prometheus { child, url, _dir: dir })
}

#[tokio::test]
async fn a_range_longer_than_prometheus_answers_at_once_is_fetched_in_parts() {
    let Some(p) = prometheus(6, 5).await else { return };
    let client = deploy_gate::client::http_client(Duration::from_secs(5), Duration::from_secs(60)).expect("client");
    let until = Utc::now().duration_trunc(chrono::Duration::minutes(5)).expect("now");
    let from = until - chrono::Duration::weeks(6);
    let step = chrono::Duration::minutes(5);
    let points = deploy_gate::traffic::prometheus_range(
        &client,
        &p.url,
        "sum(requests_per_minute{service=\"checkout\"})",
        from,
        until,
        step,
    )
    .await
    .expect("query_range");
    // 12,097 points at a 5-minute step: more than the 11,000 one query may answer.
    assert_eq!(points.len() as i64, 6 * 7 * 24 * 12 + 1);
    assert!(points.windows(2).all(|w| w[1].0 - w[0].0 == step), "every step once, in order");
    assert!(points.iter().all(|(t, v)| *v == rate(*t)), "the values as backfilled");

    let e = deploy_gate::traffic::prometheus_range(&client, &p.url, "sum(rate(", from, until, step)
        .await
        .expect_err("bad PromQL");
    assert!(e.to_string().contains("Prometheus refused the query") && e.to_string().contains("bad_data"), "{e}");
}

fn config(source: &str) -> String {
    format!(
        "{}\n[policy.environments.production]\npeak_traffic = \"deny\"\n\n[traffic]\nweeks = 4\n\n{source}\n[[windows]]\nid = \"nightly\"\ncron = \"0 2 * * *\"\nduration = \"1h\"\nservices = [\"checkout\"]\n",
        helpers::auth_config()
    )
}

async fn app_with(source: &str) -> helpers::TestApp {
    let dir = tempfile::tempdir().expect("dir");
    std::fs::write(dir.path().join("deploy-gate.toml"), config(source)).expect("config");
    spawn_in(dir).await
}

/// The API keys come from the environment the gate is started with.
async fn app_with_keys(source: &str, keys: &[(&str, &str)]) -> helpers::TestApp {
    let dir = tempfile::tempdir().expect("dir");
    std::fs::write(dir.path().join("deploy-gate.toml"), config(source)).expect("config");
    spawn_in_env(dir, keys).await
}

#[tokio::test]
async fn the_gate_builds_the_week_profile_from_prometheus_and_reports_a_bad_query() {
    let Some(p) = prometheus(5, 1).await else { return };
    let source = format!(
        "[[traffic.sources]]\nid = \"prom\"\nkind = \"prometheus\"\nurl = \"{}\"\nrequests = 'sum(requests_per_minute{{service=\"{{service}}\"}})'\nerrors = 'sum(errors_per_minute{{service=\"{{service}}\"}})'\n\n[[traffic.sources]]\nid = \"broken\"\nkind = \"prometheus\"\nurl = \"{}\"\nservices = [\"search\"]\nrequests = 'sum(rate('\n",
        p.url, p.url
    );
    let app = app_with(&source).await;
    let (_, r) = app
        .wait_for("/readyz", Duration::from_secs(30), |_, r| {
            r["traffic"][0]["last_success"].is_string() && r["traffic"][1]["last_attempt"].is_string()
        })
        .await;
    assert_eq!(r["traffic"][0]["services"], 1, "{r}");
    let broken = r["traffic"][1]["last_error"].as_str().expect("an error for the bad query");
    assert!(broken.contains("bad_data"), "{broken}");
    let (status, profile) = app.get_json("/impact/profile?service=checkout").await;
    assert_eq!(status, 200, "{profile}");
    assert_eq!(profile["source"], "prom");
    let slots = profile["slots"].as_array().expect("slots");
    assert_eq!(slots[4 * 24 + 12]["requests"], 1000.0);
    assert_eq!(slots[3]["requests"], 10.0);
    assert_eq!(slots[10]["requests"], 100.0);
    let (_, w) = app.get_json("/impact?service=checkout&at=2026-12-04T12:10:00Z&duration=20m").await;
    assert_eq!((w["level"].as_str(), w["expected_requests"].as_f64()), (Some("peak"), Some(20_000.0)));
    let (_, s) = app.get_json("/impact/suggest?service=checkout&duration=3h&count=1").await;
    assert_eq!(s["suggestions"][0]["start"], "00:00");
    let (_, d) =
        app.get_json("/can-deploy?team=payments&service=checkout&environment=production&at=2026-12-04T12:10:00Z").await;
    assert_eq!(d["reasons"][0]["code"], "peak_traffic", "{d}");
    let svg = app.get("/impact/profile.svg?service=checkout").await.text().await.expect("svg");
    assert_eq!(svg.matches("class=\"slot\"").count(), 168);
    assert!(svg.contains("Fri 12:00: 1000 requests a minute"));

    // The bad release a day ago is degraded; the same span the day before is not.
    let (from, until) = spike(Utc::now().duration_trunc(chrono::Duration::minutes(5)).expect("now"));
    for (id, start) in [("bad", from), ("calm", from - chrono::Duration::days(1))] {
        let body = json!({"id": id, "team": "payments", "service": "checkout", "environment": "production",
            "status": "succeeded", "started_at": start.to_rfc3339(), "finished_at": (start + (until - from) - chrono::Duration::minutes(10)).to_rfc3339()});
        let (status, r) = app.call(reqwest::Method::POST, "/deployments", None, Some(&body)).await;
        assert_eq!(status, 401, "reports need a token: {r}");
        let (status, r) = app.call(reqwest::Method::POST, "/deployments", Some(helpers::ADMIN), Some(&body)).await;
        assert_eq!(status, 201, "{r}");
    }
    let (status, bad) = app.get_json("/deployments/bad/impact").await;
    assert_eq!(status, 200, "{bad}");
    assert_eq!(bad["verdict"], "degraded", "{bad}");
    let (_, calm) = app.get_json("/deployments/calm/impact").await;
    assert_eq!(calm["verdict"], "no_visible_impact", "{calm}");
}

/// A server that takes connections and never answers.
fn silent_server() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}/graphql", listener.local_addr().expect("addr"));
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            held.push(stream);
        }
    });
    url
}

/// What the New Relic stand-in saw.
#[derive(Default)]
struct Seen {
    keys: Vec<String>,
    queries: Vec<String>,
}

/// Answers NerdGraph NRQL queries the way New Relic documents: `data.actor.account.nrql.results`,
/// one result per 5-minute bucket from SINCE to UNTIL; 401 for another key.
fn newrelic_stand_in(seen: Arc<Mutex<Seen>>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}/graphql", listener.local_addr().expect("addr"));
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().expect("clone"));
            let (mut length, mut key) = (0usize, String::new());
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                let lower = line.to_ascii_lowercase();
                if let Some(v) = lower.strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
                if lower.starts_with("api-key:") {
                    key = line["api-key:".len()..].trim().to_string();
                }
            }
            let mut body = vec![0; length];
            reader.read_exact(&mut body).expect("body");
            let request: Value = serde_json::from_slice(&body).expect("JSON");
            let graphql = request["query"].as_str().unwrap_or_default().to_string();
            {
                let mut s = seen.lock().expect("seen");
                s.keys.push(key.clone());
                s.queries.push(graphql.clone());
            }
            let (status, answer) = if key != "nr-test-key" {
                ("401 Unauthorized", json!({"errors": [{"message": "Invalid API key"}]}))
            } else {
                let ms = |word: &str| -> i64 {
                    graphql
                        .split(word)
                        .nth(1)
                        .and_then(|r| r.split_whitespace().next())
                        .map_or(0, |n| n.trim_matches(|c: char| !c.is_ascii_digit()).parse().unwrap_or(0))
                };
                let (since, until) = (ms("SINCE ") / 1000, ms("UNTIL ") / 1000);
                let mut results = Vec::new();
                let mut t = since - since % 300;
                while t < until {
                    let at = DateTime::from_timestamp(t, 0).expect("t");
                    results.push(json!({"beginTimeSeconds": t, "endTimeSeconds": t + 300, "rate.count": rate(at)}));
                    t += 300;
                }
                ("200 OK", json!({"data": {"actor": {"account": {"nrql": {"results": results}}}}}))
            };
            let text = answer.to_string();
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}",
                text.len()
            );
        }
    });
    url
}

#[tokio::test]
async fn new_relic_is_asked_with_its_key_and_nrql_and_a_refused_key_is_reported() {
    let seen = Arc::new(Mutex::new(Seen::default()));
    let endpoint = newrelic_stand_in(seen.clone());
    let source = format!(
        "[[traffic.sources]]\nid = \"nr\"\nkind = \"newrelic\"\naccount_id = 1234567\napi_key_env = \"DG_TEST_NR_KEY\"\nendpoint = \"{endpoint}\"\nrequests = \"SELECT rate(count(*), 1 minute) FROM Transaction WHERE appName = '{{service}}' TIMESERIES 5 minutes\"\n\n[[traffic.sources]]\nid = \"nr-wrong-key\"\nkind = \"newrelic\"\naccount_id = 1234567\napi_key_env = \"DG_TEST_NR_WRONG_KEY\"\nendpoint = \"{endpoint}\"\nservices = [\"search\"]\nrequests = \"SELECT count(*) FROM Transaction WHERE appName = '{{service}}' TIMESERIES\"\n\n[[traffic.sources]]\nid = \"nr-no-key\"\nkind = \"newrelic\"\naccount_id = 1\napi_key_env = \"DG_TEST_NR_UNSET\"\nendpoint = \"{endpoint}\"\nservices = [\"web\"]\nrequests = \"SELECT count(*) FROM Transaction\"\n\n[[traffic.sources]]\nid = \"prom-down\"\nkind = \"prometheus\"\nurl = \"http://127.0.0.1:{closed}\"\nservices = [\"api\"]\ntimeout = \"2s\"\nrequests = \"up\"\n\n[[traffic.sources]]\nid = \"nr-slow\"\nkind = \"newrelic\"\naccount_id = 1\napi_key_env = \"DG_TEST_NR_KEY\"\nendpoint = \"{silent}\"\nservices = [\"slow\"]\ntimeout = \"1s\"\nrequests = \"SELECT count(*) FROM Transaction\"\n",
        closed = free_port(),
        silent = silent_server()
    );
    let app =
        app_with_keys(&source, &[("DG_TEST_NR_KEY", "nr-test-key"), ("DG_TEST_NR_WRONG_KEY", "not-the-key")]).await;
    let (_, r) = app
        .wait_for("/readyz", Duration::from_secs(30), |_, r| {
            (0..5).all(|i| r["traffic"][i]["last_attempt"].is_string())
        })
        .await;
    assert!(r["traffic"][0]["last_success"].is_string(), "{r}");
    let refused = r["traffic"][1]["last_error"].as_str().expect("refused");
    assert!(refused.contains("refused the API key"), "{refused}");
    let unset = r["traffic"][2]["last_error"].as_str().expect("unset");
    assert!(unset.contains("DG_TEST_NR_UNSET"), "{unset}");
    let down = r["traffic"][3]["last_error"].as_str().expect("down");
    assert!(down.contains("cannot reach Prometheus"), "{down}");
    let slow = r["traffic"][4]["last_error"].as_str().expect("slow");
    assert!(slow.contains("gave no answer within 1s"), "{slow}");
    assert_eq!(r["ready"], true, "sources that fail never make the gate unready");
    {
        let s = seen.lock().expect("seen");
        let q = s.queries.iter().find(|q| q.contains("appName = 'checkout'")).expect("checkout's query");
        assert!(q.contains("account(id: 1234567)") && q.contains("nrql(query:") && q.contains("{ results }"), "{q}");
        assert!(q.contains(" SINCE ") && q.contains(" UNTIL "), "{q}");
        assert!(s.keys.iter().any(|k| k == "nr-test-key"));
        assert!(!s.keys.iter().any(|k| k.is_empty()), "every query carries its key");
    }
    let (status, profile) = app.get_json("/impact/profile?service=checkout").await;
    assert_eq!(status, 200, "{profile}");
    assert_eq!(profile["source"], "nr");
    assert_eq!(profile["slots"][4 * 24 + 12]["requests"], 1000.0);
    let (status, _) = app.get_json("/impact/profile?service=search").await;
    assert_eq!(status, 404, "a refused source gives no data");
}
