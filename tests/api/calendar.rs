use crate::can_deploy::CONFIG;
use crate::helpers::spawn_app;

#[tokio::test]
async fn every_occurrence_in_the_range_sorted_by_start() {
    let app = spawn_app(CONFIG).await;
    let (status, list) = app.get_json("/calendar?from=2026-11-26T00:00:00Z&to=2026-12-01T00:00:00Z").await;
    assert_eq!(status, 200);
    let got: Vec<(String, String, String)> = list
        .as_array()
        .expect("array")
        .iter()
        .map(|o| {
            (
                o["window_id"].as_str().unwrap_or("").into(),
                o["start"].as_str().unwrap_or("").into(),
                o["end"].as_str().unwrap_or("").into(),
            )
        })
        .collect();
    let want = [
        ("search-quiet-hours", "2026-11-25T03:00:00Z", "2026-11-25T11:00:00Z"),
        ("search-quiet-hours", "2026-11-26T03:00:00Z", "2026-11-26T11:00:00Z"),
        ("search-quiet-hours", "2026-11-27T03:00:00Z", "2026-11-27T11:00:00Z"),
        ("friday-evening", "2026-11-27T16:00:00Z", "2026-11-30T07:00:00Z"),
    ];
    // The first quiet-hours night started before `from` and does not reach it.
    let want: Vec<(String, String, String)> =
        want[1..].iter().map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string())).collect();
    assert_eq!(got, want);
    assert_eq!(list[0]["kind"], "allow");
    assert_eq!(list[2]["reason"], "No deploys over the weekend");
}

#[tokio::test]
async fn filters_keep_only_windows_that_apply() {
    let app = spawn_app(CONFIG).await;
    let range = "from=2026-11-26T00:00:00Z&to=2026-12-01T00:00:00Z";
    let (_, list) = app.get_json(&format!("/calendar?{range}&team=payments")).await;
    let ids: Vec<_> = list.as_array().expect("array").iter().map(|o| o["window_id"].as_str().unwrap_or("")).collect();
    assert_eq!(ids, ["friday-evening"]);
    let (_, list) = app.get_json(&format!("/calendar?{range}&environment=staging")).await;
    assert_eq!(list.as_array().expect("array").len(), 0);
}

/// `from` and `to` take a date (its midnight UTC) as well as an instant.
#[tokio::test]
async fn the_calendar_takes_dates() {
    let app = spawn_app(CONFIG).await;
    let (status, by_date) = app.get_json("/calendar?from=2026-10-19&to=2026-11-02").await;
    assert_eq!(status, 200, "{by_date}");
    let (_, by_instant) = app.get_json("/calendar?from=2026-10-19T00:00:00Z&to=2026-11-02T00:00:00Z").await;
    assert_eq!(by_date, by_instant);
    let (status, e) = app.get_json("/calendar?from=19.10.2026").await;
    assert_eq!(status, 400);
    assert!(e["error"]["message"].as_str().expect("message").contains("neither a date"), "{e}");
}
