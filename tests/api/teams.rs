use crate::helpers::spawn_app;

const TEAMS: &str = r#"
[[teams]]
name = "payments"
status = "yellow"
plan = "https://tracker.example/PAY-12"
plan_due = "2026-01-31"

[[teams]]
name = "search"
status = "green"
"#;

#[tokio::test]
async fn teams_show_status_effective_status_and_plan() {
    let app = spawn_app(TEAMS).await;
    let (status, list) = app.get_json("/teams").await;
    assert_eq!(status, 200);
    let list = list.as_array().expect("array");
    assert_eq!(list.len(), 2);
    // A past-due yellow plan counts as red.
    assert_eq!(list[0]["name"], "payments");
    assert_eq!(list[0]["status"], "yellow");
    assert_eq!(list[0]["effective_status"], "red");
    assert_eq!(list[0]["overdue"], true);
    assert_eq!(list[0]["plan"], "https://tracker.example/PAY-12");
    assert_eq!(list[0]["plan_due"], "2026-01-31");
    let (status, one) = app.get_json("/teams/search").await;
    assert_eq!(status, 200);
    assert_eq!(one["effective_status"], "green");
}

#[tokio::test]
async fn health_and_readiness() {
    let app = spawn_app(TEAMS).await;
    let (status, h) = app.get_json("/healthz").await;
    assert_eq!((status, h["status"].as_str()), (200, Some("ok")));
    let (status, r) = app.get_json("/readyz").await;
    assert_eq!(status, 200);
    assert_eq!(r["ready"], true);
    assert_eq!(r["config"]["teams"], 2);
}
