use serde_json::json;

use crate::can_deploy::CONFIG;
use crate::helpers::spawn_app;

#[tokio::test]
async fn one_window_at_an_instant_has_active_current_and_next() {
    let app = spawn_app(CONFIG).await;
    let (status, w) = app.get_json("/windows/friday-evening?at=2026-11-27T18:00:00Z").await;
    assert_eq!(status, 200);
    assert_eq!(w["id"], "friday-evening");
    assert_eq!(w["source"], "config");
    assert_eq!(w["active"], true);
    assert_eq!(w["current"], json!({"start": "2026-11-27T16:00:00Z", "end": "2026-11-30T07:00:00Z"}));
    assert_eq!(w["next"], json!({"start": "2026-12-04T16:00:00Z", "end": "2026-12-07T07:00:00Z"}));

    let (_, w) = app.get_json("/windows/friday-evening?at=2026-11-26T12:00:00Z").await;
    assert_eq!(w["active"], false);
    assert_eq!(w["current"], json!(null));
    assert_eq!(w["next"]["start"], "2026-11-27T16:00:00Z");
}

#[tokio::test]
async fn the_list_has_every_window_with_its_definition() {
    let app = spawn_app(CONFIG).await;
    let (status, list) = app.get_json("/windows?at=2026-11-26T12:00:00Z").await;
    assert_eq!(status, 200);
    let list = list.as_array().expect("array");
    let ids: Vec<_> = list.iter().map(|w| w["id"].as_str().expect("id")).collect();
    assert_eq!(ids, ["friday-evening", "search-quiet-hours"]);
    assert_eq!(list[0]["cron"], "0 17 * * FRI");
    assert_eq!(list[0]["duration"], "63h");
    assert_eq!(list[0]["timezone"], "Europe/Berlin");
    assert_eq!(list[1]["kind"], "allow");
    assert_eq!(list[1]["teams"], json!(["search"]));
}
