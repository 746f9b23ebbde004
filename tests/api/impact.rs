//! Traffic data from a CSV source on disk: the week profile, the heat map,
//! the what-if, the quietest spans, and busy hours in decisions.

use std::time::Duration;

use chrono::{DateTime, Datelike, Timelike, Utc};
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{ADMIN, auth_config, error_code, spawn_in};

/// Two weeks at 15-minute steps from Monday 2026-11-09 (UTC): 100 requests a
/// minute 10:00-17:00 on weekdays, 1,000 on Friday 12:00-13:00, 10 otherwise;
/// 1% of them fail, but 10% on Tuesday 2026-11-17 14:00-14:45 (a bad release).
fn csv() -> String {
    let start: DateTime<Utc> = "2026-11-09T00:00:00Z".parse().expect("t");
    let mut out = String::from("timestamp,service,requests,errors,latency_p95_ms\n");
    for i in 0..2 * 7 * 24 * 4 {
        let t = start + chrono::Duration::minutes(15 * i);
        let (d, h) = (t.weekday().num_days_from_monday(), t.hour());
        let r = match (d, h) {
            (4, 12) => 1000.0,
            (0..=4, 10..=16) => 100.0,
            _ => 10.0,
        };
        let spike = t >= "2026-11-17T14:00:00Z".parse::<DateTime<Utc>>().expect("t")
            && t < "2026-11-17T14:45:00Z".parse::<DateTime<Utc>>().expect("t");
        let errors = if spike { r / 10.0 } else { r / 100.0 };
        out.push_str(&format!(
            "{},checkout,{r},{errors},{}\n",
            t.format("%Y-%m-%dT%H:%M:%SZ"),
            if spike { 900 } else { 200 }
        ));
    }
    out
}

const CONFIG: &str = r#"
[policy.environments.production]
red = "deny"
peak_traffic = "deny"

[traffic]
refresh = "1s"

[[traffic.sources]]
id = "file"
kind = "csv"
path = "traffic.csv"

[[windows]]
id = "friday-freeze"
cron = "0 15 * * FRI"
duration = "3h"
services = ["checkout"]

[[teams]]
name = "payments"
status = "green"
"#;

async fn app() -> crate::helpers::TestApp {
    let dir = tempfile::tempdir().expect("dir");
    std::fs::write(dir.path().join("deploy-gate.toml"), format!("{}{CONFIG}", auth_config())).expect("config");
    std::fs::write(dir.path().join("traffic.csv"), csv()).expect("csv");
    let app = spawn_in(dir).await;
    app.wait_for("/readyz", Duration::from_secs(10), |_, r| r["traffic"][0]["last_success"].is_string()).await;
    app
}

#[tokio::test]
async fn the_week_profile_is_the_median_hour_of_week_with_percentiles() {
    let app = app().await;
    let (status, p) = app.get_json("/impact/profile?service=checkout").await;
    assert_eq!(status, 200, "{p}");
    assert_eq!((p["timezone"].as_str(), p["weeks"].as_u64()), (Some("UTC"), Some(2)));
    let slots = p["slots"].as_array().expect("slots");
    assert_eq!(slots.len(), 168);
    assert_eq!(
        slots[0],
        json!({"day": "Mon", "hour": 0, "requests": 10.0, "errors": 0.1, "latency_p95": 0.2, "percentile": 0.0})
    );
    let fri_noon = &slots[4 * 24 + 12];
    assert_eq!((fri_noon["day"].as_str(), fri_noon["requests"].as_f64()), (Some("Fri"), Some(1000.0)));
    assert_eq!(fri_noon["percentile"].as_f64(), Some(100.0 * 167.0 / 168.0));
    let (_, one) = app.get_json("/impact/profile?service=checkout&weeks=1").await;
    assert_eq!(one["weeks"], 1);

    for (query, status, code) in [
        ("service=search", 404, "no_traffic_data"),
        ("", 400, "missing_parameter"),
        ("service=checkout&weeks=0", 400, "invalid_parameter"),
        ("service=checkout&week=2", 400, "unknown_parameter"),
    ] {
        let (s, e) = app.get_json(&format!("/impact/profile?{query}")).await;
        assert_eq!((s, error_code(&e).as_str()), (status, code), "{query}");
    }
}

#[tokio::test]
async fn the_heat_map_has_a_cell_per_hour_and_shows_the_windows() {
    let app = app().await;
    let r = app.get("/impact/profile.svg?service=checkout").await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "image/svg+xml");
    let svg = r.text().await.expect("svg");
    assert_eq!(svg.matches("class=\"slot\"").count(), 168);
    // Friday 15:00-18:00 is frozen every week; Friday 14:00 is not.
    assert!(svg.contains(r#"data-slot="111" data-percentile"#));
    let slot = |i: usize| {
        svg.split(&format!("data-slot=\"{i}\"")).nth(1).expect("slot").split('>').next().expect("attrs").to_string()
    };
    assert!(slot(4 * 24 + 15).contains("data-deny=\"true\""), "{}", slot(4 * 24 + 15));
    assert!(slot(4 * 24 + 14).contains("data-deny=\"false\""));
    assert!(svg.contains("Fri 12:00: 1000 requests a minute"));
    // The dashboard leads to it, and to each team's release impact.
    let page = app.get("/").await.text().await.expect("dashboard");
    assert!(page.contains(r#"<section id="traffic">"#), "a traffic section");
    assert!(page.contains(r#"href="/impact/profile.svg?service=checkout""#));
    assert!(page.contains(r#"href="/impact/report?team=payments""#));
}

#[tokio::test]
async fn a_what_if_and_the_quietest_spans_come_from_the_profile() {
    let app = app().await;
    let (status, w) = app.get_json("/impact?service=checkout&at=2026-12-04T11:30:00Z&duration=1h").await;
    assert_eq!(status, 200, "{w}");
    assert_eq!(w["expected_requests"], 30.0 * 100.0 + 30.0 * 1000.0);
    assert_eq!((w["level"].as_str(), w["busiest"].as_str()), (Some("peak"), Some("Fri 12:00 UTC")));
    let (_, night) = app.get_json("/impact?service=checkout&at=2026-12-05T03:00:00Z").await;
    assert_eq!(night["level"], "quiet");

    let (status, s) = app.get_json("/impact/suggest?service=checkout&duration=90m&count=2").await;
    assert_eq!(status, 200, "{s}");
    let list = s["suggestions"].as_array().expect("suggestions");
    assert_eq!(list.len(), 2);
    assert_eq!(
        (list[0]["day"].as_str(), list[0]["start"].as_str(), list[0]["end"].as_str()),
        (Some("Mon"), Some("00:00"), Some("Mon 02:00"))
    );
    // The suggestion is a window the config takes as it is.
    let toml = list[0]["toml"].as_str().expect("toml");
    let config = deploy_gate::config::load_texts(&[("suggested.toml", toml)], &[]).expect("a valid window");
    assert_eq!(config.windows[0].kind, deploy_gate::policy::Kind::Allow);
    let (status, e) = app.get_json("/impact/suggest?service=checkout&count=11").await;
    assert_eq!(
        (status, error_code(&e).as_str(), e["error"]["field"].as_str()),
        (400, "invalid_parameter", Some("count"))
    );
}

#[tokio::test]
async fn a_deploy_into_a_peak_hour_is_denied_by_policy_and_a_busy_one_warned() {
    let app = app().await;
    let ask = |at: &str| format!("/can-deploy?team=payments&service=checkout&environment=production&at={at}");
    // Friday 11:45 + 30 minutes runs into the 12:00 peak: production denies peaks.
    let (_, d) = app.get_json(&ask("2026-12-04T11:45:00Z")).await;
    assert_eq!(d["allowed"], false, "{d}");
    assert_eq!(d["reasons"][0]["code"], "peak_traffic");
    assert!(d["reasons"][0]["message"].as_str().expect("message").contains("Fri 12:00 UTC"), "{d}");
    assert_eq!(d["reasons"][0]["until"], "2026-12-04T13:00:00Z", "a 30-minute deploy from 13:00 misses the peak");
    // Without expected_duration the deploy is taken to last 30 minutes: 11:00 is clear.
    let (_, d) = app.get_json(&ask("2026-12-04T11:00:00Z")).await;
    assert_eq!(d["reasons"], json!([]), "{d}");
    assert_eq!(d["warnings"][0]["code"], "busy_traffic", "office hours are busy: a warning by default");
    let (_, d) = app.get_json(&format!("{}&expected_duration=2h", ask("2026-12-04T11:00:00Z"))).await;
    assert_eq!(d["reasons"][0]["code"], "peak_traffic");
    // A night deploy, or one without a service: nothing about traffic.
    let (_, d) = app.get_json(&ask("2026-12-05T03:00:00Z")).await;
    assert_eq!((d["reasons"].clone(), d["warnings"].clone()), (json!([]), json!([])), "{d}");
    let (_, d) = app.get_json("/can-deploy?team=payments&environment=production&at=2026-12-04T11:45:00Z").await;
    assert_eq!(d["allowed"], true, "{d}");
}

#[tokio::test]
async fn a_malformed_file_keeps_the_last_good_data_and_says_where() {
    let app = app().await;
    let good = csv();
    let bad = format!("{good}2026-11-23T00:00:00Z,checkout,many,,\n");
    std::fs::write(app.config_dir.path().join("traffic.csv"), &bad).expect("edit");
    let lines = good.lines().count() + 1;
    let (_, r) =
        app.wait_for("/readyz", Duration::from_secs(10), |_, r| r["traffic"][0]["last_error"].is_string()).await;
    assert_eq!(r["ready"], true, "a traffic source never makes the gate unready");
    let error = r["traffic"][0]["last_error"].as_str().expect("error");
    assert!(error.contains(&format!("line {lines}: requests `many` is not a number")), "{error}");
    let (status, p) = app.get_json("/impact/profile?service=checkout").await;
    assert_eq!((status, p["weeks"].as_u64()), (200, Some(2)), "the last good data stays");
    let _: Value = p;
}

#[tokio::test]
async fn what_users_saw_during_each_release_and_in_one_sentence() {
    let app = app().await;
    let report = |id: &str, service: Option<&str>, status: &str, start: &str, end: Option<&str>| {
        let mut b =
            json!({"id": id, "team": "payments", "environment": "production", "status": status, "started_at": start});
        if let Some(s) = service {
            b["service"] = json!(s);
        }
        if let Some(e) = end {
            b["finished_at"] = json!(e);
        }
        b
    };
    for b in [
        report("bad", Some("checkout"), "succeeded", "2026-11-17T14:00:00Z", Some("2026-11-17T14:35:00Z")),
        report("fine", Some("checkout"), "succeeded", "2026-11-18T14:00:00Z", Some("2026-11-18T14:35:00Z")),
        report("running", Some("checkout"), "started", "2026-11-19T14:00:00Z", None),
        report("whole-team", None, "succeeded", "2026-11-19T15:00:00Z", Some("2026-11-19T15:10:00Z")),
    ] {
        let (status, d) = app.call(Method::POST, "/deployments", Some(ADMIN), Some(&b)).await;
        assert_eq!(status, 201, "{d}");
    }
    let (status, bad) = app.get_json("/deployments/bad/impact").await;
    assert_eq!(status, 200, "{bad}");
    assert_eq!(bad["verdict"], "degraded", "{bad}");
    assert_eq!((bad["error_ratio"].as_f64(), bad["baseline_error_ratio"].as_f64()), (Some(0.1), Some(0.01)));
    // 45 minutes of 100 requests a minute, 9 in 100 failing beyond the usual 1.
    assert_eq!(bad["requests"], 4500.0);
    assert_eq!(bad["extra_failed_requests"], 405.0);
    assert_eq!((bad["minutes_degraded"].as_f64(), bad["minutes_slow"].as_f64()), (Some(45.0), Some(45.0)));
    assert_eq!(bad["baseline_from"], "2026-11-10T14:00:00Z");
    let (_, fine) = app.get_json("/deployments/fine/impact").await;
    assert_eq!(
        (fine["verdict"].as_str(), fine["extra_failed_requests"].as_f64()),
        (Some("no_visible_impact"), Some(0.0))
    );
    for (id, status, code) in [
        ("running", 409, "deployment_not_finished"),
        ("whole-team", 404, "no_traffic_data"),
        ("nothing", 404, "deployment_not_found"),
    ] {
        let (s, e) = app.get_json(&format!("/deployments/{id}/impact")).await;
        assert_eq!((s, error_code(&e).as_str()), (status, code), "{id}: {e}");
    }

    let (status, r) = app.get_json("/impact/report?team=payments&since=2026-11-12").await;
    assert_eq!(status, 200, "{r}");
    assert_eq!(
        (r["releases"].as_u64(), r["with_data"].as_u64(), r["degraded_releases"].as_u64()),
        (Some(2), Some(2), Some(1))
    );
    assert_eq!(
        r["sentence"],
        "During 2 releases of payments since 2026-11-12, users saw 405 failed requests and 45 minutes of slow pages; 1 release visibly degraded the service."
    );
    let page = app
        .client
        .get(format!("{}/impact/report?team=payments&since=2026-11-12", app.address))
        .header("accept", "text/html,application/xhtml+xml")
        .send()
        .await
        .expect("page");
    assert_eq!(page.headers()["content-type"], "text/html; charset=utf-8");
    let html = page.text().await.expect("html");
    assert!(html.contains("users saw 405 failed requests") && html.contains("data-verdict=\"degraded\""), "{html}");
    let (status, e) = app.get_json("/impact/report").await;
    assert_eq!((status, error_code(&e).as_str()), (400, "missing_parameter"));
}
