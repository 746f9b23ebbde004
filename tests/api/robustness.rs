//! The gate under the load and edits of a normal day: admin writes while CI
//! asks, and config files rewritten the way editors and `cat >` do.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use chrono::Utc;
use reqwest::Method;
use serde_json::json;

use crate::helpers::{ADMIN, auth_config, spawn_app, spawn_in};

/// Admin writes (window puts and deletes, override creations and
/// revocations) succeed while CI clients keep asking for real decisions:
/// writers take turns instead of failing on a busy database.
#[tokio::test]
async fn admin_writes_succeed_while_ci_asks() {
    let app = spawn_app(&format!("{}\n[[teams]]\nname = \"payments\"\nstatus = \"green\"\n", auth_config())).await;
    let stop = Arc::new(AtomicBool::new(false));
    let mut askers = Vec::new();
    for _ in 0..4 {
        let (client, url, stop) = (
            app.client.clone(),
            format!("{}/can-deploy?team=payments&environment=production", app.address),
            stop.clone(),
        );
        askers.push(tokio::spawn(async move {
            let mut answered = 0;
            while !stop.load(Ordering::Relaxed) {
                let r = client.get(&url).send().await.expect("ask");
                assert_eq!(r.status(), 200);
                answered += 1;
            }
            answered
        }));
    }
    let mut statuses = Vec::new();
    for i in 0..30 {
        let window =
            json!({"start": "2030-01-01T00:00:00Z", "end": "2030-01-02T00:00:00Z", "reason": format!("load {i}")});
        statuses.push(app.call(Method::PUT, &format!("/windows/load-{i}"), Some(ADMIN), Some(&window)).await.0);
        let body =
            json!({"team": "payments", "environment": "production", "reason": format!("Hotfix number {i} under load")});
        let (status, o) = app.call(Method::POST, "/overrides", Some(ADMIN), Some(&body)).await;
        statuses.push(status);
        let id = o["id"].as_str().unwrap_or_default().to_string();
        statuses.push(app.call(Method::DELETE, &format!("/overrides/{id}"), Some(ADMIN), None).await.0);
        statuses.push(app.call(Method::DELETE, &format!("/windows/load-{i}"), Some(ADMIN), None).await.0);
    }
    stop.store(true, Ordering::Relaxed);
    let mut decisions = 0;
    for a in askers {
        decisions += a.await.expect("asker");
    }
    assert!(decisions > 0);
    assert!(statuses.iter().all(|s| (200..300).contains(s)), "every admin write succeeded: {statuses:?}");
}

/// A config file emptied and written again (as `cat >` and many editors
/// do) never goes live half-written: the freeze it holds stays in force
/// throughout, because an edit waits until the files have settled.
#[tokio::test]
async fn a_config_file_rewritten_in_place_never_drops_its_freeze() {
    let freeze = format!(
        "[[windows]]\nid = \"freeze\"\nstart = \"{}\"\nend = \"{}\"\n",
        (Utc::now() - chrono::Duration::hours(1)).to_rfc3339(),
        (Utc::now() + chrono::Duration::hours(2)).to_rfc3339()
    );
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("windows.toml");
    std::fs::write(&file, &freeze).expect("write");
    let app = spawn_in(dir).await;
    let writer = {
        let (file, freeze) = (file.clone(), freeze.clone());
        tokio::spawn(async move {
            for _ in 0..15 {
                std::fs::write(&file, "").expect("empty");
                tokio::time::sleep(std::time::Duration::from_millis(150)).await;
                std::fs::write(&file, &freeze).expect("write again");
                tokio::time::sleep(std::time::Duration::from_millis(150)).await;
            }
        })
    };
    let mut asked = 0;
    while !writer.is_finished() {
        let (_, d) = app.get_json("/can-deploy?team=payments&environment=production").await;
        assert_eq!(d["allowed"], false, "the freeze dropped while its file was rewritten: {d}");
        asked += 1;
    }
    assert!(asked > 10);
    // A file left empty does go live once settled: an edit is an edit.
    std::fs::write(&file, "").expect("empty");
    app.wait_for("/readyz", std::time::Duration::from_secs(10), |_, r| r["config"]["windows"] == 0).await;
    let (_, d) = app.get_json("/can-deploy?team=payments&environment=production").await;
    assert_eq!(d["allowed"], true, "{d}");
}
