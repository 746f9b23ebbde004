//! The team scorecard over HTTP: the matrix, cells changed by a team or an
//! admin (audited, refused where config sets them), decisions that follow,
//! the history, and a second replica that picks changes up.

use std::time::Duration;

use chrono::{Days, Utc};
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{ADMIN, READER, error_code, spawn_app, spawn_replica, token_lines};

const PAYMENTS_TEAM: &str = "payments-team-token-0123456789";

/// Plan dates relative to today, so "due soon" and "overdue" hold whenever the test runs.
fn day(offset: i64) -> String {
    let today = Utc::now().date_naive();
    let d = if offset >= 0 {
        today.checked_add_days(Days::new(offset as u64))
    } else {
        today.checked_sub_days(Days::new(offset.unsigned_abs()))
    };
    d.expect("date").to_string()
}

fn config() -> String {
    format!(
        r#"
[policy.environments.production]
red = "deny"
yellow = "warn"

[auth]
{tokens}

[[scorecard.items]]
id = "rollback"
title = "Rollback in one step"
why = "A bad release is undone in minutes"
gates = ["production"]

[[scorecard.items]]
id = "monitoring"
title = "Basic monitoring"
gates = ["production"]

[[scorecard.items]]
id = "release-impact"
title = "Release impact known"
gates = []

[[teams]]
name = "payments"

[teams.scorecard.monitoring]
status = "yellow"
plan = "https://tracker.example/PAY-7"
plan_due = "{soon}"

[[teams]]
name = "search"

[teams.scorecard.rollback]
status = "yellow"
plan = "https://tracker.example/SRC-2"
plan_due = "{past}"
"#,
        tokens = [
            token_lines("ops-admin", ADMIN, "admin", ""),
            token_lines("auditor", READER, "read", ""),
            token_lines("payments-team", PAYMENTS_TEAM, "team", "teams = [\"payments\"]"),
        ]
        .join("\n"),
        soon = day(3),
        past = day(-2),
    )
}

fn cell<'a>(scorecard: &'a Value, team: &str, item: &str) -> &'a Value {
    let teams = scorecard["teams"].as_array().expect("teams");
    let row = teams.iter().find(|t| t["name"] == team).unwrap_or_else(|| panic!("team {team} in {scorecard}"));
    &row["cells"][item]
}

#[tokio::test]
async fn the_matrix_shows_every_cell_with_what_it_counts_as() {
    let app = spawn_app(&config()).await;
    let (status, s) = app.get_json("/scorecard").await;
    assert_eq!(status, 200);
    let ids: Vec<&str> = s["items"].as_array().expect("items").iter().map(|i| i["id"].as_str().expect("id")).collect();
    assert_eq!(ids, ["rollback", "monitoring", "release-impact"]);
    assert_eq!(s["items"][0]["gates"], json!(["production"]));
    assert_eq!(s["items"][2]["gates"], json!([]));
    assert_eq!(s["unassessed"], "ignore");

    let soon = cell(&s, "payments", "monitoring");
    assert_eq!((soon["status"].as_str(), soon["effective"].as_str()), (Some("yellow"), Some("yellow")));
    assert_eq!((soon["due_soon"].as_bool(), soon["overdue"].as_bool()), (Some(true), Some(false)));
    assert_eq!(soon["plan"], "https://tracker.example/PAY-7");
    assert_eq!(soon["source"], "config");

    let overdue = cell(&s, "search", "rollback");
    assert_eq!((overdue["status"].as_str(), overdue["effective"].as_str()), (Some("yellow"), Some("red")));
    assert_eq!((overdue["overdue"].as_bool(), overdue["due_soon"].as_bool()), (Some(true), Some(false)));

    let never = cell(&s, "payments", "rollback");
    assert_eq!((never["status"].as_str(), never["effective"].as_str()), (Some("unassessed"), Some("unassessed")));
    assert_eq!(never["source"], Value::Null);

    // search counts as red (its overdue rollback plan gates production).
    let search = s["teams"].as_array().expect("teams").iter().find(|t| t["name"] == "search").expect("search");
    assert_eq!(search["status"], "red");
    assert_eq!(s["counts"], json!({"green": 0, "yellow": 1, "red": 1, "unassessed": 4}));

    // /teams agrees, per environment.
    let (_, t) = app.get_json("/teams/search").await;
    assert_eq!(t["effective_status"], "red");
    assert_eq!(t["environments"]["production"], "red");
    assert_eq!(t["items"][0]["id"], "rollback");
}

#[tokio::test]
async fn a_team_token_sets_its_own_cells_and_the_decision_follows_at_once() {
    let app = spawn_app(&config()).await;
    let path = "/teams/payments/scorecard/rollback";
    let (_, before) = app.get_json("/can-deploy?team=payments&environment=production").await;
    assert_eq!(before["allowed"], true, "{before}");

    let (status, c) = app.call(Method::PUT, path, Some(PAYMENTS_TEAM), Some(&json!({"status": "red"}))).await;
    assert_eq!(status, 201, "{c}");
    assert_eq!((c["status"].as_str(), c["source"].as_str()), (Some("red"), Some("api")));
    assert_eq!(c["updated_by"], "payments-team");

    let (_, d) = app.get_json("/can-deploy?team=payments&environment=production").await;
    assert_eq!(d["allowed"], false, "{d}");
    assert_eq!(d["reasons"][0]["code"], "team_red");
    assert_eq!(d["reasons"][0]["items"][0], json!({"id": "rollback", "status": "red", "overdue": false}));
    assert!(d["reason"].as_str().expect("reason").contains("rollback: red, no plan"), "{d}");

    // A plan in progress: yellow, a warning in production.
    let plan = json!({"status": "yellow", "plan": "https://tracker.example/PAY-40", "plan_due": day(60), "note": "blue/green"});
    let (status, c) = app.call(Method::PUT, path, Some(ADMIN), Some(&plan)).await;
    assert_eq!(status, 200, "{c}");
    assert_eq!((c["effective"].as_str(), c["note"].as_str()), (Some("yellow"), Some("blue/green")));
    let (_, d) = app.get_json("/can-deploy?team=payments&environment=production").await;
    assert_eq!(d["allowed"], true, "{d}");
    assert_eq!(d["warnings"][0]["items"][0]["plan"], "https://tracker.example/PAY-40");

    // Every change is audited with the old and new cell.
    let (_, a) = app.call(Method::GET, "/audit?kind=scorecard.changed", Some(ADMIN), None).await;
    let records = a["records"].as_array().expect("records");
    assert_eq!(records.len(), 2, "{a}");
    assert_eq!(records[0]["actor"], "ops-admin");
    assert_eq!(records[0]["team"], "payments");
    assert_eq!(records[0]["details"]["item"], "rollback");
    assert_eq!(records[0]["details"]["old"]["status"], "red");
    assert_eq!(records[0]["details"]["new"]["status"], "yellow");
    assert_eq!(records[1]["details"]["old"], Value::Null);
}

#[tokio::test]
async fn who_may_set_a_cell_and_what_is_refused() {
    let app = spawn_app(&config()).await;
    let green = json!({"status": "green"});
    let cases: Vec<(&str, Option<&str>, Value, u16, &str)> = vec![
        ("/teams/payments/scorecard/rollback", None, green.clone(), 401, "unauthorized"),
        ("/teams/payments/scorecard/rollback", Some(READER), green.clone(), 403, "forbidden"),
        ("/teams/search/scorecard/monitoring", Some(PAYMENTS_TEAM), green.clone(), 403, "forbidden"),
        ("/teams/nobody/scorecard/rollback", Some(ADMIN), green.clone(), 404, "team_not_found"),
        ("/teams/payments/scorecard/rollbak", Some(ADMIN), green.clone(), 404, "item_not_found"),
        ("/teams/payments/scorecard/monitoring", Some(ADMIN), green.clone(), 409, "defined_in_config"),
        ("/teams/payments/scorecard/rollback", Some(ADMIN), json!({"status": "yellow"}), 422, "missing_field"),
        ("/teams/payments/scorecard/rollback", Some(ADMIN), json!({"status": "purple"}), 422, "invalid_value"),
        (
            "/teams/payments/scorecard/rollback",
            Some(ADMIN),
            json!({"status": "yellow", "plan": "x", "plan_due": "2027-02-30"}),
            422,
            "invalid_time",
        ),
        (
            "/teams/payments/scorecard/rollback",
            Some(ADMIN),
            json!({"status": "green", "colour": "x"}),
            422,
            "unknown_field",
        ),
        (
            "/teams/payments/scorecard/rollback",
            Some(ADMIN),
            json!({"status": "green", "note": "a\nforged line"}),
            422,
            "invalid_value",
        ),
        ("/teams/payments/scorecard/rollback", Some(ADMIN), json!(["green"]), 400, "invalid_json"),
    ];
    for (path, token, body, want_status, want_code) in cases {
        let (status, e) = app.call(Method::PUT, path, token, Some(&body)).await;
        assert_eq!((status, error_code(&e).as_str()), (want_status, want_code), "{path} {body}: {e}");
    }
    // A yellow cell without plan names both fields.
    let yellow = json!({"status": "yellow"});
    let (_, e) = app.call(Method::PUT, "/teams/payments/scorecard/rollback", Some(ADMIN), Some(&yellow)).await;
    let fields: Vec<&str> =
        e["error"]["problems"].as_array().expect("problems").iter().filter_map(|p| p["field"].as_str()).collect();
    assert_eq!(fields, ["plan", "plan_due"], "{e}");
    // Nothing refused was stored or audited.
    let (_, s) = app.get_json("/scorecard").await;
    assert_eq!(cell(&s, "payments", "rollback")["status"], "unassessed");
    let (_, a) = app.call(Method::GET, "/audit?kind=scorecard.changed", Some(ADMIN), None).await;
    assert_eq!(a["records"], json!([]));
}

#[tokio::test]
async fn the_history_lists_changes_oldest_first_and_counts_cells_per_day() {
    let app = spawn_app(&config()).await;
    for status in ["red", "green"] {
        let (s, _) = app
            .call(Method::PUT, "/teams/payments/scorecard/rollback", Some(ADMIN), Some(&json!({"status": status})))
            .await;
        assert!(s == 200 || s == 201);
    }
    let (status, h) = app.get_json("/scorecard/history").await;
    assert_eq!(status, 200, "{h}");
    let changes = h["changes"].as_array().expect("changes");
    assert_eq!(changes.len(), 2);
    assert_eq!(
        (changes[0]["new"]["status"].as_str(), changes[1]["new"]["status"].as_str()),
        (Some("red"), Some("green"))
    );
    assert_eq!(changes[1]["old"]["status"], "red");
    let days = h["days"].as_array().expect("days");
    assert_eq!(days.len(), 91, "90 days back and today");
    let today = days.last().expect("today");
    assert_eq!(today["date"], Utc::now().date_naive().to_string());
    // Today: payments' rollback green, its monitoring yellow, search's rollback overdue (red).
    assert_eq!((today["green"].as_u64(), today["yellow"].as_u64(), today["red"].as_u64()), (Some(1), Some(1), Some(1)));
    // Yesterday the API cell did not exist; search's plan was not yet overdue
    // two days ago (it fell due at the end of that day).
    let yesterday = &days[days.len() - 2];
    assert_eq!((yesterday["green"].as_u64(), yesterday["unassessed"].as_u64()), (Some(0), Some(4)));
    let three_ago = &days[days.len() - 4];
    assert_eq!((three_ago["yellow"].as_u64(), three_ago["red"].as_u64()), (Some(2), Some(0)), "{three_ago}");

    let (_, one) = app.get_json("/scorecard/history?team=search&item=rollback&since=2026-01-01").await;
    assert_eq!(one["changes"], json!([]));
    for (query, code) in [
        ("since=yesterday", "invalid_parameter"),
        ("since=2000-01-01", "invalid_parameter"),
        ("team=nobody", "team_not_found"),
        ("item=nothing", "item_not_found"),
        ("tean=payments", "unknown_parameter"),
    ] {
        let (status, e) = app.get_json(&format!("/scorecard/history?{query}")).await;
        assert!((400..500).contains(&status), "{query}: {status}");
        assert_eq!(error_code(&e), code, "{query}");
    }
}

#[tokio::test]
async fn a_second_replica_picks_up_a_cell_set_on_the_first() {
    let app = spawn_app(&config()).await;
    let other = spawn_replica(&app).await;
    let (status, _) =
        app.call(Method::PUT, "/teams/payments/scorecard/rollback", Some(ADMIN), Some(&json!({"status": "red"}))).await;
    assert_eq!(status, 201);
    let (_, d) = other
        .wait_for("/can-deploy?team=payments&environment=production", Duration::from_secs(10), |_, d| {
            d["allowed"] == false
        })
        .await;
    assert_eq!(d["reasons"][0]["items"][0]["id"], "rollback");
}
