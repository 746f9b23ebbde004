use reqwest::Method;
use serde_json::json;

use crate::helpers::{ADMIN, READER, auth_config, spawn_app};

#[tokio::test]
async fn every_real_decision_is_recorded_with_its_caller_and_simulations_are_not() {
    let app = spawn_app(&auth_config()).await;
    let body = json!({
        "team": "payments", "service": "api", "environment": "production",
        "actor": "octocat", "pipeline_url": "https://ci.example/runs/42", "commit": "4b825dc"
    });
    let (_, d) = app.post_json("/can-deploy", &body).await;
    let (_, simulated) = app.get_json("/can-deploy?team=payments&environment=production&at=2026-11-27T18:00:00Z").await;
    assert_eq!(simulated["simulated"], true);

    let (status, a) = app.call(Method::GET, "/audit?kind=decision", Some(READER), None).await;
    assert_eq!(status, 200);
    let records = a["records"].as_array().expect("records");
    assert_eq!(records.len(), 1, "only the real decision: {a}");
    let r = &records[0];
    assert_eq!(r["actor"], "octocat");
    assert_eq!(r["team"], "payments");
    assert_eq!(r["environment"], "production");
    assert_eq!(r["details"]["decision_id"], d["decision_id"]);
    assert_eq!(r["details"]["allowed"], d["allowed"]);
    assert_eq!(r["details"]["target"], json!({"team": "payments", "service": "api", "environment": "production"}));
    assert_eq!(r["details"]["pipeline_url"], "https://ci.example/runs/42");
    assert_eq!(r["details"]["commit"], "4b825dc");
}

#[tokio::test]
async fn the_audit_log_filters_and_pages_newest_first() {
    let app = spawn_app(&auth_config()).await;
    for team in ["payments", "search", "payments", "identity", "payments"] {
        let (status, _) = app.get_json(&format!("/can-deploy?team={team}&environment=production")).await;
        assert_eq!(status, 200);
    }
    let (_, a) = app.call(Method::GET, "/audit?team=payments&limit=2", Some(ADMIN), None).await;
    let first = a["records"].as_array().expect("records").clone();
    assert_eq!(first.len(), 2);
    assert!(first[0]["id"].as_i64() > first[1]["id"].as_i64(), "newest first");
    let before = a["next_before"].as_i64().expect("a next page");
    let (_, b) =
        app.call(Method::GET, &format!("/audit?team=payments&limit=2&before={before}"), Some(ADMIN), None).await;
    let second = b["records"].as_array().expect("records");
    assert_eq!(second.len(), 1);
    assert!(second[0]["id"].as_i64() < Some(before));
    assert_eq!(b["next_before"], json!(null));

    let (_, all) = app.call(Method::GET, "/audit?since=2000-01-01T00:00:00Z", Some(ADMIN), None).await;
    assert_eq!(all["records"].as_array().map(Vec::len), Some(5));
    let (_, none) = app.call(Method::GET, "/audit?since=2100-01-01T00:00:00Z", Some(ADMIN), None).await;
    assert_eq!(none["records"].as_array().map(Vec::len), Some(0));
    for bad in
        ["/audit?limit=0", "/audit?limit=x", "/audit?since=yesterday", "/audit?kind=DROP%20TABLE", "/audit?before=x"]
    {
        let (status, e) = app.call(Method::GET, bad, Some(ADMIN), None).await;
        assert_eq!(status, 400, "{bad}: {e}");
    }
}

#[tokio::test]
async fn nothing_in_the_api_deletes_or_edits_audit_records() {
    let app = spawn_app(&auth_config()).await;
    for method in [Method::DELETE, Method::PUT, Method::POST, Method::PATCH] {
        let (status, _) = app.call(method.clone(), "/audit", Some(ADMIN), Some(&json!({}))).await;
        assert_eq!(status, 405, "{method} /audit");
        let (status, _) = app.call(method.clone(), "/audit/1", Some(ADMIN), Some(&json!({}))).await;
        assert_eq!(status, 404, "{method} /audit/1");
    }
}
