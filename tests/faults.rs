//! A bad day in operations, against the real binary: the store's disk fills
//! up, then space returns. Nothing acknowledged is lost, nothing is
//! acknowledged that was not recorded, no request hangs, readiness says the
//! gate cannot record, and the gate recovers by itself.
//!
//! Mounting the small disk (a tmpfs) needs root, as CI has; elsewhere the
//! test says so and is skipped (a failure under DEPLOY_GATE_TEST_STRICT=1).

#[path = "api/helpers.rs"]
#[allow(dead_code)]
mod helpers;
#[path = "support/process.rs"]
#[allow(dead_code)]
mod process;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use process::{ADMIN, Server, call, workspace};
use reqwest::Method;
use serde_json::{Value, json};

/// A 3 MiB tmpfs, unmounted when dropped.
struct SmallDisk {
    path: PathBuf,
    _dir: tempfile::TempDir,
}

impl SmallDisk {
    fn mount() -> Result<SmallDisk, String> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let path = dir.path().join("disk");
        std::fs::create_dir(&path).map_err(|e| e.to_string())?;
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=3m", "tmpfs"])
            .arg(&path)
            .output()
            .map_err(|e| format!("cannot run mount: {e}"))?;
        if !out.status.success() {
            return Err(format!("mount refused: {}", String::from_utf8_lossy(&out.stderr).trim()));
        }
        Ok(SmallDisk { path, _dir: dir })
    }

    /// Fill every free byte.
    fn fill(&self) -> PathBuf {
        let filler = self.path.join("filler");
        let mut f = std::fs::File::create(&filler).expect("filler");
        let chunk = vec![0u8; 16 * 1024];
        while f.write_all(&chunk).is_ok() {}
        let _ = f.write_all(&[0u8; 512]);
        let _ = f.sync_all();
        filler
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.path).status();
    }
}

const CONFIG: &str = r#"
[policy.environments.production]
red = "deny"

[[teams]]
name = "payments"
status = "green"
"#;

async fn ask(url: &str, i: usize) -> (u16, Value) {
    let path = format!("/can-deploy?team=payments&environment=production&actor=ci-{i}");
    call(url, Method::GET, &path, None, None).await
}

fn override_body(i: usize) -> Value {
    json!({"team": "payments", "environment": "production", "ttl": "1h",
           "reason": format!("Hotfix {i} for a long enough reason {}", "x".repeat(600))})
}

/// Ready, within a bound.
async fn wait_ready(url: &str, want: bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        let (status, _) = call(url, Method::GET, "/readyz", None, None).await;
        if (status == 200) == want {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

#[tokio::test]
async fn a_full_disk_loses_nothing_acknowledged_and_the_gate_recovers_by_itself() {
    let disk = match SmallDisk::mount() {
        Ok(d) => d,
        Err(why) => return helpers::skip(&format!("needs root to mount a 3 MiB tmpfs ({why})")),
    };
    let work = workspace(CONFIG);
    let store = format!("sqlite://{}", disk.path.join("gate.db").display());
    let server = Server::start_with(&work.path().join("config"), &store);
    let url = server.url();
    let (status, _) = ask(&url, 0).await;
    assert_eq!(status, 200);

    let filler = disk.fill();
    // Write until the store cannot: every answer is an acknowledgement or a
    // 503 store_unavailable, never a 500 and never a hang (the client gives
    // up after 30 s and would fail the test).
    let mut acked_decisions = Vec::new();
    let mut acked_overrides = Vec::new();
    let mut refused = 0;
    let mut i = 0;
    while refused < 10 && i < 3000 {
        i += 1;
        let (status, d) = ask(&url, i).await;
        match status {
            200 => acked_decisions.push(d["decision_id"].as_str().expect("id").to_string()),
            503 => {
                assert_eq!(d["error"]["code"], "store_unavailable", "{d}");
                refused += 1;
                // Readiness agrees while writes fail.
                let (ready, body) = call(&url, Method::GET, "/readyz", None, None).await;
                assert_eq!(ready, 503, "ready while the store refuses writes: {body}");
            }
            other => panic!("decision {i} answered {other}: {d}"),
        }
        let (status, o) = call(&url, Method::POST, "/overrides", Some(ADMIN), Some(override_body(i))).await;
        match status {
            201 => acked_overrides.push(o["id"].as_str().expect("id").to_string()),
            503 => assert_eq!(o["error"]["code"], "store_unavailable", "{o}"),
            409 => assert_eq!(o["error"]["code"], "too_many_overrides", "{o}"),
            other => panic!("override {i} answered {other}: {o}"),
        }
    }
    assert!(refused >= 10, "the full disk never refused a write in {i} tries");

    // Space returns: the gate is ready again by itself, and writes work.
    std::fs::remove_file(&filler).expect("free the disk");
    assert!(wait_ready(&url, true).await, "not ready again after the disk was freed");
    let (status, d) = ask(&url, 9999).await;
    assert_eq!(status, 200, "{d}");
    acked_decisions.push(d["decision_id"].as_str().expect("id").to_string());
    let (status, o) = call(&url, Method::POST, "/overrides", Some(ADMIN), Some(override_body(9999))).await;
    assert_eq!(status, 201, "{o}");
    let revoked = o["id"].as_str().expect("id").to_string();
    let (status, _) = call(&url, Method::DELETE, &format!("/overrides/{revoked}"), Some(ADMIN), None).await;
    assert_eq!(status, 200);

    // A crash, and a new start on the same store: everything acknowledged is there.
    server.kill9();
    let server = Server::start_with(&work.path().join("config"), &store);
    let url = server.url();
    let (_, audit) = call(&url, Method::GET, "/audit?kind=decision&limit=1000", Some(ADMIN), None).await;
    let recorded: Vec<&str> = audit["records"]
        .as_array()
        .expect("records")
        .iter()
        .filter_map(|r| r["details"]["decision_id"].as_str())
        .collect();
    for id in &acked_decisions {
        assert!(recorded.contains(&id.as_str()), "acknowledged decision {id} was lost");
    }
    let (_, listed) = call(&url, Method::GET, "/overrides?limit=1000", Some(ADMIN), None).await;
    let listed = listed.as_array().expect("overrides");
    for id in &acked_overrides {
        assert!(listed.iter().any(|o| o["id"] == id.as_str()), "acknowledged override {id} was lost");
    }
    let revoked_now = listed.iter().find(|o| o["id"] == revoked.as_str()).expect("the revoked override");
    assert!(revoked_now["revoked_at"].is_string(), "the revocation was lost: {revoked_now}");
    let (_, active) = call(&url, Method::GET, "/overrides?active=true&limit=1000", Some(ADMIN), None).await;
    assert!(active.as_array().expect("list").iter().all(|o| o["id"] != revoked.as_str()));
    assert!(Path::new(&disk.path).exists());
}
