//! Windows and teams changed through the API: validated like config files,
//! stored, audited, and refused for what a config file defines.

use reqwest::Method;
use serde_json::json;

use crate::helpers::{ADMIN, auth_config, codes, error_code, spawn_app};

fn config() -> String {
    format!(
        r#"{}
[policy.environments.production]
red = "deny"

[[windows]]
id = "friday-evening"
cron = "0 17 * * FRI"
duration = "63h"

[[teams]]
name = "payments"
status = "green"
"#,
        auth_config()
    )
}

#[tokio::test]
async fn a_window_made_through_the_api_is_stored_decides_and_can_be_changed_and_deleted() {
    let app = spawn_app(&config()).await;
    let now = chrono::Utc::now();
    let window = json!({
        "id": "db-migration",
        "reason": "Database migration",
        "start": (now - chrono::Duration::minutes(5)).to_rfc3339(),
        "end": (now + chrono::Duration::hours(1)).to_rfc3339(),
        "teams": ["payments"],
    });
    let (status, w) = app.call(Method::POST, "/windows", Some(ADMIN), Some(&window)).await;
    assert_eq!(status, 201, "{w}");
    assert_eq!(w["source"], "api");
    assert_eq!(w["active"], true);
    let (_, d) = app.get_json("/can-deploy?team=payments&environment=production").await;
    assert_eq!(codes(&d, "reasons"), ["window_active"]);
    assert_eq!(d["reasons"][0]["window_id"], "db-migration");

    // POST again: it exists.
    let (status, e) = app.call(Method::POST, "/windows", Some(ADMIN), Some(&window)).await;
    assert_eq!((status, error_code(&e).as_str()), (409, "window_exists"));

    // PUT replaces it: now for search only.
    let mut changed = window.clone();
    changed["teams"] = json!(["search"]);
    let (status, w) = app.call(Method::PUT, "/windows/db-migration", Some(ADMIN), Some(&changed)).await;
    assert_eq!(status, 200, "{w}");
    assert_eq!(w["teams"], json!(["search"]));
    let (_, d) = app.get_json("/can-deploy?team=payments&environment=production").await;
    assert_eq!(d["allowed"], true);

    let (status, deleted) = app.call(Method::DELETE, "/windows/db-migration", Some(ADMIN), None).await;
    assert_eq!(status, 200);
    assert_eq!(deleted["deleted"]["id"], "db-migration");
    let (status, _) = app.call(Method::GET, "/windows/db-migration", None, None).await;
    assert_eq!(status, 404);
    let (status, e) = app.call(Method::DELETE, "/windows/db-migration", Some(ADMIN), None).await;
    assert_eq!((status, error_code(&e).as_str()), (404, "window_not_found"));

    // Each change is audited with who made it and the value before and after.
    let (_, a) = app.call(Method::GET, "/audit?kind=window", Some(ADMIN), None).await;
    let records = a["records"].as_array().expect("records");
    let kinds: Vec<&str> = records.iter().map(|r| r["kind"].as_str().unwrap_or("")).collect();
    assert_eq!(kinds, ["window.deleted", "window.updated", "window.created"]);
    assert!(records.iter().all(|r| r["actor"] == "ops-admin"));
    assert_eq!(records[1]["details"]["before"]["teams"], json!(["payments"]));
    assert_eq!(records[1]["details"]["after"]["teams"], json!(["search"]));
    assert_eq!(records[0]["details"]["after"], json!(null));
    assert_eq!(records[2]["details"]["before"], json!(null));
}

#[tokio::test]
async fn api_windows_are_validated_exactly_like_config_files() {
    let app = spawn_app(&config()).await;
    let cases = [
        (json!({"id": "w", "cron": "0 17 * * FRX", "duration": "1h"}), "cron", "invalid_cron"),
        (json!({"id": "w", "cron": "0 0 30 FEB *", "duration": "1h"}), "cron", "invalid_cron"),
        (json!({"id": "w", "cron": "0 17 * * FRI", "durration": "1h"}), "durration", "unknown_field"),
        (
            json!({"id": "w", "cron": "0 17 * * FRI", "duration": "1h", "timezone": "Europe/Berln"}),
            "timezone",
            "unknown_timezone",
        ),
        (json!({"id": "w", "start": "2026-12-02T00:00:00Z", "end": "2026-12-01T00:00:00Z"}), "end", "invalid_schedule"),
        (json!({"id": "Bad Id", "cron": "0 17 * * FRI", "duration": "1h"}), "id", "invalid_id"),
        (json!({"id": "w", "cron": 5, "duration": "1h"}), "cron", "invalid_type"),
        (json!({"id": "w", "start": "0001-01-01T00:00:00Z", "end": "2026-01-01T00:00:00Z"}), "start", "invalid_time"),
        (json!({"id": "w", "cron": "* * * * * *", "duration": "1h"}), "cron", "invalid_cron"),
        // Control characters would forge log lines: refused in every text field.
        (
            json!({"id": "w", "cron": "0 17 * * FRI", "duration": "1h", "reason": "ok\n2026-12-01 INFO forged"}),
            "reason",
            "invalid_value",
        ),
        (
            json!({"id": "w", "cron": "0 17 * * FRI", "duration": "1h", "reason": "\u{1b}[31mred"}),
            "reason",
            "invalid_value",
        ),
    ];
    for (body, field, code) in cases {
        let (status, e) = app.call(Method::PUT, "/windows/w", Some(ADMIN), Some(&body)).await;
        if field == "id" {
            // The path says `w`, the body another id.
            assert_eq!((status, e["error"]["field"].as_str()), (422, Some("id")), "{body}: {e}");
            continue;
        }
        assert_eq!(status, 422, "{body}: {e}");
        let problems = e["error"]["problems"].as_array().expect("problems");
        assert!(
            problems.iter().any(|p| p["field"] == field && p["code"] == code),
            "{body}: want {field}/{code} in {e}"
        );
    }
    // The unknown key is named too.
    let (_, e) = app
        .call(Method::PUT, "/windows/w", Some(ADMIN), Some(&json!({"cron": "0 17 * * FRI", "durration": "1h"})))
        .await;
    let text = e.to_string();
    assert!(text.contains("did you mean `duration`"), "{text}");
    // Nothing was stored.
    let (status, _) = app.call(Method::GET, "/windows/w", None, None).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn what_a_config_file_defines_answers_409() {
    let app = spawn_app(&config()).await;
    let body = json!({"cron": "0 18 * * FRI", "duration": "1h"});
    let (status, e) = app.call(Method::PUT, "/windows/friday-evening", Some(ADMIN), Some(&body)).await;
    assert_eq!((status, error_code(&e).as_str()), (409, "defined_in_config"));
    let (status, _) = app.call(Method::DELETE, "/windows/friday-evening", Some(ADMIN), None).await;
    assert_eq!(status, 409);
    let mut with_id = body.clone();
    with_id["id"] = json!("friday-evening");
    let (status, _) = app.call(Method::POST, "/windows", Some(ADMIN), Some(&with_id)).await;
    assert_eq!(status, 409);
    let (status, e) = app.call(Method::PUT, "/teams/payments", Some(ADMIN), Some(&json!({"status": "red"}))).await;
    assert_eq!((status, error_code(&e).as_str()), (409, "defined_in_config"));
}

#[tokio::test]
async fn a_team_set_through_the_api_counts_in_decisions() {
    let app = spawn_app(&config()).await;
    let (status, t) = app.call(Method::PUT, "/teams/search", Some(ADMIN), Some(&json!({"status": "red"}))).await;
    assert_eq!(status, 201, "{t}");
    assert_eq!(t["source"], "api");
    let at = "2026-11-26T12:00:00Z";
    let (_, d) = app.get_json(&format!("/can-deploy?team=search&environment=production&at={at}")).await;
    assert_eq!(codes(&d, "reasons"), ["team_red"]);

    let body = json!({"status": "yellow", "plan": "https://tracker.example/SRCH-1", "plan_due": "2030-01-31"});
    let (status, t) = app.call(Method::PUT, "/teams/search", Some(ADMIN), Some(&body)).await;
    assert_eq!(status, 200, "{t}");
    assert_eq!(t["effective_status"], "yellow");
    let (_, d) = app.get_json(&format!("/can-deploy?team=search&environment=production&at={at}")).await;
    assert_eq!(d["allowed"], true);

    // A yellow team needs its plan and due date.
    let (status, e) = app.call(Method::PUT, "/teams/search", Some(ADMIN), Some(&json!({"status": "yellow"}))).await;
    assert_eq!(status, 422);
    let fields: Vec<&str> = e["error"]["problems"]
        .as_array()
        .expect("problems")
        .iter()
        .map(|p| p["field"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(fields, ["plan", "plan_due"]);

    let (_, a) = app.call(Method::GET, "/audit?kind=team&team=search", Some(ADMIN), None).await;
    let records = a["records"].as_array().expect("records");
    assert_eq!(records.len(), 2);
    assert_eq!(records[0]["details"]["before"]["status"], "red");
    assert_eq!(records[0]["details"]["after"]["status"], "yellow");
}

/// Creating the same window id many times at once: the database decides,
/// one 201 each, every other a 409, never a silent replacement or a 500.
#[tokio::test]
async fn racing_creates_of_one_window_id_give_one_201_and_409s() {
    let app = spawn_app(&config()).await;
    let mut tasks = Vec::new();
    for i in 0..100 {
        for _ in 0..2 {
            let (client, url) = (app.client.clone(), format!("{}/windows", app.address));
            let body =
                json!({"id": format!("race-{i}"), "start": "2030-01-01T00:00:00Z", "end": "2030-01-02T00:00:00Z"});
            tasks.push(tokio::spawn(async move {
                let r = client.post(url).bearer_auth(ADMIN).json(&body).send().await.expect("post");
                (i, r.status().as_u16())
            }));
        }
    }
    let mut created = vec![0; 100];
    for t in tasks {
        let (i, status) = t.await.expect("join");
        match status {
            201 => created[i] += 1,
            409 => {}
            other => panic!("race-{i}: {other}"),
        }
    }
    assert!(created.iter().all(|n| *n == 1), "{created:?}");
    let (_, audit) = app.call(Method::GET, "/audit?kind=window&limit=1000", Some(ADMIN), None).await;
    let kinds: Vec<&str> =
        audit["records"].as_array().expect("records").iter().filter_map(|r| r["kind"].as_str()).collect();
    assert_eq!(kinds.len(), 100);
    assert!(kinds.iter().all(|k| *k == "window.created"), "no replacement: {kinds:?}");
}
