//! Deployments reported by CI, and the delivery statistics drawn from them
//! and from the decisions.

use chrono::{Duration, Utc};
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{ADMIN, PAYMENTS_ONCALL, READER, auth_config, error_code, spawn_app, token_lines};

const DEPLOYER: &str = "deploy-token-0123456789abcdef";

fn config() -> String {
    format!(
        "{}{}\n[[windows]]\nid = \"freeze\"\nstart = \"{}\"\nend = \"{}\"\nteams = [\"frozen\"]\n\n[[teams]]\nname = \"payments\"\nstatus = \"green\"\n\n[[teams]]\nname = \"frozen\"\nstatus = \"green\"\n",
        auth_config(),
        token_lines("ci-deployer", DEPLOYER, "deploy", ""),
        (Utc::now() - Duration::hours(1)).to_rfc3339(),
        (Utc::now() + Duration::hours(2)).to_rfc3339(),
    )
}

#[tokio::test]
async fn a_deployment_is_reported_started_then_finished_and_listed() {
    let app = spawn_app(&config()).await;
    let start = json!({"team": "payments", "service": "api", "environment": "production", "status": "started",
        "version": "1.4.2", "pipeline_url": "https://ci.example/runs/7"});
    let (status, d) = app.call(Method::POST, "/deployments", Some(DEPLOYER), Some(&start)).await;
    assert_eq!(status, 201, "{d}");
    let id = d["id"].as_str().expect("id").to_string();
    assert!(id.starts_with("dep-"));
    assert_eq!((d["status"].as_str(), d["finished_at"].as_str()), (Some("started"), None));
    assert_eq!(d["reported_by"], "ci-deployer");

    let done = json!({"id": id, "team": "payments", "environment": "production", "status": "succeeded"});
    let (status, d) = app.call(Method::POST, "/deployments", Some(DEPLOYER), Some(&done)).await;
    assert_eq!(status, 200, "{d}");
    assert_eq!(d["status"], "succeeded");
    assert_eq!(d["version"], "1.4.2", "fields of the first report are kept");
    assert_eq!(d["service"], "api");
    assert!(d["finished_at"].is_string());

    let (status, list) = app.get_json("/deployments?team=payments").await;
    assert_eq!(status, 200);
    assert_eq!(list.as_array().expect("list").len(), 1);
    assert_eq!(list[0]["id"], id.as_str());
    let (_, none) = app.get_json("/deployments?team=payments&service=web").await;
    assert_eq!(none, json!([]));

    let (_, a) = app.call(Method::GET, "/audit?kind=deployment", Some(ADMIN), None).await;
    let kinds: Vec<&str> =
        a["records"].as_array().expect("records").iter().map(|r| r["kind"].as_str().expect("kind")).collect();
    assert_eq!(kinds, ["deployment.succeeded", "deployment.started"]);
}

#[tokio::test]
async fn who_may_report_and_what_is_refused() {
    let app = spawn_app(&config()).await;
    let body = |team: &str| json!({"team": team, "environment": "production", "status": "succeeded"});
    for (token, team, want) in [
        (None, "payments", 401),
        (Some(READER), "payments", 403),
        (Some(PAYMENTS_ONCALL), "frozen", 403),
        (Some(PAYMENTS_ONCALL), "payments", 201),
        (Some(ADMIN), "frozen", 201),
    ] {
        let (status, r) = app.call(Method::POST, "/deployments", token, Some(&body(team))).await;
        assert_eq!(status, want, "{token:?} {team}: {r}");
    }
    let base = json!({"id": "dep-1", "team": "payments", "environment": "production", "status": "started"});
    assert_eq!(app.call(Method::POST, "/deployments", Some(DEPLOYER), Some(&base)).await.0, 201);
    let with = |k: &str, v: Value| {
        let mut b = base.clone();
        b[k] = v;
        b
    };
    let cases = [
        (json!({"team": "payments", "environment": "production"}), 400, "missing_parameter", "status"),
        (with("status", json!("done")), 400, "invalid_parameter", "status"),
        (with("started_at", json!("yesterday")), 400, "invalid_parameter", "started_at"),
        (with("id", json!("no spaces please")), 400, "invalid_parameter", "id"),
        (with("colour", json!("red")), 400, "unknown_parameter", "colour"),
        (with("version", json!("1.0\u{1b}[31m")), 400, "invalid_parameter", "version"),
        (with("team", json!("search")), 409, "deployment_conflict", ""),
        (with("started_at", json!("9999-12-31T23:59:59Z")), 422, "invalid_value", "started_at"),
    ];
    for (b, want_status, want_code, field) in cases {
        let (status, e) = app.call(Method::POST, "/deployments", Some(DEPLOYER), Some(&b)).await;
        assert_eq!((status, error_code(&e).as_str()), (want_status, want_code), "{b}: {e}");
        if !field.is_empty() {
            assert_eq!(e["error"]["field"], field, "{e}");
        }
    }
    let finished = with("status", json!("failed"));
    assert_eq!(app.call(Method::POST, "/deployments", Some(DEPLOYER), Some(&finished)).await.0, 200);
    let (status, e) = app.call(Method::POST, "/deployments", Some(DEPLOYER), Some(&base)).await;
    assert_eq!(
        (status, error_code(&e).as_str()),
        (409, "deployment_conflict"),
        "a finished deployment does not start again"
    );
    let (_, list) = app.get_json("/deployments?team=payments").await;
    let dep1 = list.as_array().expect("list").iter().find(|d| d["id"] == "dep-1").expect("dep-1");
    assert_eq!(dep1["status"], "failed", "nothing refused changed it");
}

#[tokio::test]
async fn delivery_statistics_count_failures_restores_and_waits_on_the_gate() {
    let app = spawn_app(&config()).await;
    let now = Utc::now();
    let t = |hours: i64| (now - Duration::hours(hours)).to_rfc3339();
    for (id, status, start, end) in
        [("d1", "succeeded", 100, 99), ("d2", "failed", 50, 49), ("d3", "succeeded", 30, 28), ("d4", "started", 1, 0)]
    {
        let mut b = json!({"id": id, "team": "payments", "environment": "production", "status": status, "started_at": t(start)});
        if status != "started" {
            b["finished_at"] = json!(t(end));
        }
        let (s, r) = app.call(Method::POST, "/deployments", Some(DEPLOYER), Some(&b)).await;
        assert_eq!(s, 201, "{r}");
    }
    // A pipeline denied by the freeze, then let through by an override.
    let ask = "/can-deploy?team=frozen&environment=production&pipeline_url=https://ci.example/runs/9";
    let (_, d) = app.get_json(ask).await;
    assert_eq!(d["allowed"], false);
    let o = json!({"team": "frozen", "environment": "production", "reason": "Hotfix for outage INC-1"});
    assert_eq!(app.call(Method::POST, "/overrides", Some(ADMIN), Some(&o)).await.0, 201);
    let (_, d) = app.get_json(ask).await;
    assert_eq!(d["allowed"], true);

    let (status, s) = app.get_json("/stats/delivery?team=payments").await;
    assert_eq!(status, 200, "{s}");
    assert_eq!(s["deployments"], 4);
    assert_eq!(s["deployments_per_week"], 1.0, "4 in 28 days");
    let cfr = s["change_failure_rate"].as_f64().expect("rate");
    assert!((cfr - 1.0 / 3.0).abs() < 1e-9, "{s}");
    assert_eq!(s["time_to_restore"], json!(21.0 * 3600.0), "failed at -49h, restored at -28h");
    assert_eq!(s["gate_wait_samples"], 0, "payments never waited");
    assert_eq!(s["gate_wait_total"].to_string(), "0.0", "not -0.0");

    let (_, s) = app.get_json("/stats/delivery?team=frozen").await;
    assert_eq!(s["gate_wait_samples"], 1, "{s}");
    let (_, a) = app.call(Method::GET, "/audit?kind=decision&team=frozen", Some(ADMIN), None).await;
    let at =
        |i: usize| chrono::DateTime::parse_from_rfc3339(a["records"][i]["at"].as_str().expect("at")).expect("time");
    let want = (at(0) - at(1)).num_milliseconds() as f64 / 1000.0;
    assert_eq!(s["gate_wait"].as_f64(), Some(want), "from the deny to the allow");
    assert_eq!(s["change_failure_rate"], Value::Null, "no deployment finished");

    for q in ["since=2000-01-01", "since=tomorrow", "team=Pay%20ments", "tean=x"] {
        let (status, e) = app.get_json(&format!("/stats/delivery?{q}")).await;
        assert_eq!(status, 400, "{q}: {e}");
    }
}
