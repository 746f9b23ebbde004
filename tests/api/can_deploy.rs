use chrono::{Duration, Utc};
use serde_json::json;

use crate::helpers::{codes, spawn_app};

pub const CONFIG: &str = r#"
[policy.environments.production]
red = "deny"
yellow = "warn"
unknown_team = "deny"

[policy.environments.staging]
red = "warn"
unknown_team = "warn"

[[windows]]
id = "friday-evening"
reason = "No deploys over the weekend"
timezone = "Europe/Berlin"
cron = "0 17 * * FRI"
duration = "63h"
environments = ["production"]

[[windows]]
id = "search-quiet-hours"
kind = "allow"
timezone = "America/New_York"
cron = "0 22 * * MON-THU"
duration = "8h"
teams = ["search"]
environments = ["production"]

[[teams]]
name = "payments"
status = "yellow"
plan = "https://tracker.example/PAY-12"
plan_due = "2030-01-01"

[[teams]]
name = "search"
status = "green"

[[teams]]
name = "identity"
status = "red"
"#;

const THURSDAY_NOON: &str = "2026-11-26T12:00:00Z";
const FRIDAY_EVENING: &str = "2026-11-27T18:00:00Z";

#[tokio::test]
async fn allow_on_a_quiet_thursday() {
    let app = spawn_app(CONFIG).await;
    let (status, d) =
        app.get_json(&format!("/can-deploy?team=payments&environment=production&at={THURSDAY_NOON}")).await;
    assert_eq!(status, 200);
    assert_eq!(d["allowed"], true);
    assert_eq!(d["decision"], "allow");
    assert_eq!(d["reasons"], json!([]));
    assert_eq!(d["next_allowed_at"], THURSDAY_NOON);
    assert!(d["decision_id"].as_str().is_some_and(|id| !id.is_empty()));
}

#[tokio::test]
async fn deny_by_a_deny_window_with_its_end_and_retry_after() {
    let app = spawn_app(CONFIG).await;
    let r = app.get(&format!("/can-deploy?team=search&service=api&environment=production&at={FRIDAY_EVENING}")).await;
    assert_eq!(r.status(), 200);
    // Outside the quiet hours and in the freeze: both reasons; the first time
    // both clear is Monday 22:00 New York (03:00Z Tuesday).
    let retry: i64 = r.headers()["retry-after"].to_str().expect("ascii").parse().expect("seconds");
    let d: serde_json::Value = r.json().await.expect("json");
    assert_eq!(d["allowed"], false);
    assert_eq!(codes(&d, "reasons"), ["window_active", "outside_allow_windows"]);
    assert_eq!(d["reasons"][0]["window_id"], "friday-evening");
    assert_eq!(d["reasons"][0]["until"], "2026-11-30T07:00:00Z");
    assert_eq!(d["next_allowed_at"], "2026-12-01T03:00:00Z");
    assert_eq!(retry, (3 * 24 + 9) * 3600);
}

#[tokio::test]
async fn deny_outside_allow_windows() {
    let app = spawn_app(CONFIG).await;
    let (_, d) = app.get_json(&format!("/can-deploy?team=search&environment=production&at={THURSDAY_NOON}")).await;
    assert_eq!(codes(&d, "reasons"), ["outside_allow_windows"]);
    assert_eq!(d["next_allowed_at"], "2026-11-27T03:00:00Z");
    let (_, d) = app.get_json("/can-deploy?team=search&environment=production&at=2026-11-27T04:00:00Z").await;
    assert_eq!(d["allowed"], true);
}

#[tokio::test]
async fn team_red_under_a_deny_policy_and_a_warning_under_warn() {
    let app = spawn_app(CONFIG).await;
    let (_, d) = app.get_json(&format!("/can-deploy?team=identity&environment=production&at={THURSDAY_NOON}")).await;
    assert_eq!(codes(&d, "reasons"), ["team_red"]);
    assert_eq!(d["next_allowed_at"], json!(null));
    let (_, d) = app.get_json(&format!("/can-deploy?team=identity&environment=staging&at={THURSDAY_NOON}")).await;
    assert_eq!(d["allowed"], true);
    assert_eq!(codes(&d, "warnings"), ["team_red"]);
    let (_, d) = app.get_json(&format!("/can-deploy?team=payments&environment=production&at={THURSDAY_NOON}")).await;
    assert_eq!(d["allowed"], true);
    assert_eq!(codes(&d, "warnings"), ["team_yellow"]);
}

#[tokio::test]
async fn unknown_team_by_policy() {
    let app = spawn_app(CONFIG).await;
    let (_, d) = app.get_json(&format!("/can-deploy?team=newcomers&environment=production&at={THURSDAY_NOON}")).await;
    assert_eq!(codes(&d, "reasons"), ["unknown_team"]);
    let (_, d) = app.get_json(&format!("/can-deploy?team=newcomers&environment=staging&at={THURSDAY_NOON}")).await;
    assert_eq!(d["allowed"], true);
    assert_eq!(codes(&d, "warnings"), ["unknown_team"]);
}

#[tokio::test]
async fn several_reasons_at_once_are_all_listed_and_joined() {
    let app = spawn_app(CONFIG).await;
    let (_, d) = app.get_json(&format!("/can-deploy?team=identity&environment=production&at={FRIDAY_EVENING}")).await;
    assert_eq!(codes(&d, "reasons"), ["window_active", "team_red"]);
    let line = d["reason"].as_str().expect("reason");
    assert!(line.contains("friday-evening") && line.contains("identity"), "{line}");
    assert_eq!(d["next_allowed_at"], json!(null));
}

#[tokio::test]
async fn look_ahead_with_expected_duration() {
    let app = spawn_app(CONFIG).await;
    // Friday 15:30 Berlin; the freeze opens at 17:00.
    let at = "2026-11-27T14:30:00Z";
    let (_, d) =
        app.get_json(&format!("/can-deploy?team=payments&environment=production&at={at}&expected_duration=45m")).await;
    assert_eq!(d["allowed"], true);
    let (_, d) =
        app.get_json(&format!("/can-deploy?team=payments&environment=production&at={at}&expected_duration=2h")).await;
    assert_eq!(codes(&d, "reasons"), ["window_starts_soon"]);
    assert_eq!(d["reasons"][0]["window_id"], "friday-evening");
    assert_eq!(d["next_allowed_at"], "2026-11-30T07:00:00Z");
}

#[tokio::test]
async fn simulation_is_flagged_and_a_real_decision_is_not() {
    let app = spawn_app(CONFIG).await;
    let (_, d) = app.get_json(&format!("/can-deploy?team=payments&environment=staging&at={THURSDAY_NOON}")).await;
    assert_eq!(d["simulated"], true);
    assert_eq!(d["evaluated_at"], THURSDAY_NOON);
    let before = Utc::now();
    let (_, d) = app.get_json("/can-deploy?team=payments&environment=staging").await;
    assert_eq!(d["simulated"], false);
    let evaluated: chrono::DateTime<Utc> = d["evaluated_at"].as_str().expect("evaluated_at").parse().expect("time");
    assert!(evaluated >= before && evaluated <= Utc::now() + Duration::seconds(1));
}

#[tokio::test]
async fn a_real_freeze_now_denies_with_retry_after_to_its_end() {
    let now = Utc::now();
    let end = now + Duration::hours(2);
    let config = format!(
        "[[windows]]\nid = \"incident\"\nstart = \"{}\"\nend = \"{}\"\n",
        (now - Duration::hours(1)).to_rfc3339(),
        end.to_rfc3339()
    );
    let app = spawn_app(&config).await;
    let r = app.get("/can-deploy?team=payments&environment=production").await;
    let retry: i64 = r.headers()["retry-after"].to_str().expect("ascii").parse().expect("seconds");
    assert!((7100..=7201).contains(&retry), "Retry-After {retry}");
    let d: serde_json::Value = r.json().await.expect("json");
    assert_eq!(d["allowed"], false);
    assert_eq!(d["simulated"], false);
}

#[tokio::test]
async fn post_takes_the_same_fields_as_json() {
    let app = spawn_app(CONFIG).await;
    let body = json!({
        "team": "identity", "environment": "production", "at": FRIDAY_EVENING,
        "actor": "ci-bot", "pipeline_url": "https://ci.example/p/1", "commit": "abc123"
    });
    let (status, d) = app.post_json("/can-deploy", &body).await;
    assert_eq!(status, 200);
    assert_eq!(codes(&d, "reasons"), ["window_active", "team_red"]);
    assert_eq!(d["simulated"], true);
}
