//! Config edits go live without a restart; a bad edit changes nothing.

use std::time::Duration;

use crate::helpers::spawn_app;

const BEFORE: &str = r#"
[[windows]]
id = "friday-evening"
cron = "0 17 * * FRI"
duration = "63h"
"#;

#[tokio::test]
async fn a_valid_edit_is_live_within_two_seconds() {
    let app = spawn_app(BEFORE).await;
    let (status, _) = app.get_json("/windows/hotfix-freeze").await;
    assert_eq!(status, 404);
    let edited = format!(
        "{BEFORE}\n[[windows]]\nid = \"hotfix-freeze\"\nstart = \"2026-12-01T00:00:00Z\"\nend = \"2026-12-02T00:00:00Z\"\n"
    );
    std::fs::write(app.config_dir.path().join("deploy-gate.toml"), edited).expect("edit");
    app.wait_for("/windows/hotfix-freeze", Duration::from_secs(2), |s, _| s == 200).await;
    let (_, d) = app.get_json("/can-deploy?team=a&environment=production&at=2026-12-01T12:00:00Z").await;
    assert_eq!(d["reasons"][0]["window_id"], "hotfix-freeze");
    let (_, r) = app.get_json("/readyz").await;
    assert_eq!(r["config"]["reloads"], 1);
}

#[tokio::test]
async fn a_new_file_in_the_config_directory_is_picked_up() {
    let app = spawn_app(BEFORE).await;
    std::fs::write(app.config_dir.path().join("teams.toml"), "[[teams]]\nname = \"search\"\nstatus = \"red\"\n")
        .expect("write");
    app.wait_for("/teams/search", Duration::from_secs(2), |s, _| s == 200).await;
}

#[tokio::test]
async fn an_invalid_edit_keeps_the_last_good_config_and_is_reported() {
    let app = spawn_app(BEFORE).await;
    let broken = BEFORE.replace("0 17 * * FRI", "0 17 * * FRX");
    std::fs::write(app.config_dir.path().join("deploy-gate.toml"), broken).expect("edit");
    let (status, r) =
        app.wait_for("/readyz", Duration::from_secs(2), |_, r| !r["config"]["last_error"].is_null()).await;
    assert_eq!(status, 200, "stays ready");
    assert_eq!(r["ready"], true);
    let problems = r["config"]["last_error"].as_array().expect("problems");
    assert!(
        problems
            .iter()
            .any(|p| p.as_str().is_some_and(|p| p.contains("windows[friday-evening].cron") && p.contains("FRX"))),
        "{r}"
    );
    // The old window still decides.
    let (_, d) = app.get_json("/can-deploy?team=a&environment=production&at=2026-11-27T18:00:00Z").await;
    assert_eq!(d["reasons"][0]["window_id"], "friday-evening");
    let (_, w) = app.get_json("/windows/friday-evening").await;
    assert_eq!(w["cron"], "0 17 * * FRI");
    // Fixing it clears the error.
    std::fs::write(app.config_dir.path().join("deploy-gate.toml"), BEFORE.replace("17", "18")).expect("fix");
    let (_, r) = app.wait_for("/readyz", Duration::from_secs(2), |_, r| r["config"]["last_error"].is_null()).await;
    assert_eq!(r["config"]["failed_reloads"], 1);
    let (_, w) = app.get_json("/windows/friday-evening").await;
    assert_eq!(w["cron"], "0 18 * * FRI");
}
