//! `deploy-gate check` and `ci-examples/can-deploy.sh` against a live gate:
//! the same exit codes (0 allowed, 1 denied, 2 could not ask), waiting, and
//! what happens when the gate is down or talks nonsense.

#[path = "api/helpers.rs"]
#[allow(dead_code)]
mod helpers;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::time::{Duration, Instant};

use chrono::Utc;
use helpers::{ADMIN, auth_config, need, spawn_app};

#[derive(Clone, Copy, Debug)]
enum Client {
    Binary,
    Script,
}

/// The binary always; the script when this machine has what it runs on.
fn both() -> Vec<Client> {
    let script = need("bash", "bash") && need("curl", "curl") && need("jq", "jq");
    if script { vec![Client::Binary, Client::Script] } else { vec![Client::Binary] }
}

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    took: Duration,
}

async fn run(client: Client, url: &str, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut cmd = match client {
        Client::Binary => {
            let mut c = tokio::process::Command::new(env!("CARGO_BIN_EXE_deploy-gate"));
            c.arg("check");
            c
        }
        Client::Script => {
            let mut c = tokio::process::Command::new("bash");
            c.arg(concat!(env!("CARGO_MANIFEST_DIR"), "/ci-examples/can-deploy.sh"));
            c
        }
    };
    for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("DEPLOY_GATE_") || k.starts_with("GITHUB_")) {
        cmd.env_remove(k);
    }
    cmd.env("DEPLOY_GATE_URL", url).args(args).envs(env.iter().copied());
    let started = Instant::now();
    let out = cmd.output().await.expect("run the client");
    Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into(),
        stderr: String::from_utf8_lossy(&out.stderr).into(),
        took: started.elapsed(),
    }
}

/// A freeze for `frozen` from an hour ago until `until`, and nothing for `free`.
fn config(until: chrono::DateTime<Utc>) -> String {
    format!(
        "{}\n[[windows]]\nid = \"freeze\"\nreason = \"Release train\"\nstart = \"{}\"\nend = \"{}\"\nteams = [\"frozen\"]\n",
        auth_config(),
        (Utc::now() - chrono::Duration::hours(1)).to_rfc3339(),
        until.to_rfc3339()
    )
}

#[tokio::test]
async fn allowed_exits_0_and_denied_exits_1_with_every_reason() {
    let app = spawn_app(&config(Utc::now() + chrono::Duration::hours(2))).await;
    for client in both() {
        let r = run(client, &app.address, &["--team", "free", "--environment", "production"], &[]).await;
        assert_eq!(r.code, Some(0), "{client:?}: {}{}", r.stdout, r.stderr);
        assert!(r.stdout.contains("ALLOWED free in production"), "{client:?}: {}", r.stdout);

        let r =
            run(client, &app.address, &["--team", "frozen", "--service", "api", "--environment", "production"], &[])
                .await;
        assert_eq!(r.code, Some(1), "{client:?}: {}{}", r.stdout, r.stderr);
        assert!(r.stdout.contains("DENIED frozen/api in production"), "{client:?}: {}", r.stdout);
        assert!(r.stdout.contains("window_active: Deploy freeze 'freeze' (Release train)"), "{client:?}: {}", r.stdout);
        assert!(
            r.stdout.contains("next allowed at ") && r.stdout.contains(" UTC (") && r.stdout.contains("on this runner"),
            "{client:?}: {}",
            r.stdout
        );

        let r = run(client, &app.address, &["--team", "frozen", "--environment", "production", "--json"], &[]).await;
        assert_eq!(r.code, Some(1));
        let d: serde_json::Value = serde_json::from_str(r.stdout.trim()).expect("--json prints the decision");
        assert_eq!(d["reasons"][0]["window_id"], "freeze");
    }
}

#[tokio::test]
async fn wait_rides_out_a_freeze_that_ends_soon() {
    for client in both() {
        let ends = Utc::now() + chrono::Duration::seconds(5);
        let app = spawn_app(&config(ends)).await;
        let r =
            run(client, &app.address, &["--team", "frozen", "--environment", "production", "--wait", "30s"], &[]).await;
        assert_eq!(r.code, Some(0), "{client:?}: {}{}", r.stdout, r.stderr);
        assert!(Utc::now() >= ends, "{client:?} answered before the freeze ended");
        assert!(r.stdout.contains("DENIED") && r.stdout.contains("ALLOWED"), "{client:?}: {}", r.stdout);
        assert!(r.stderr.contains("waiting until"), "{client:?} shows progress: {}", r.stderr);
    }
}

#[tokio::test]
async fn wait_shorter_than_the_freeze_gives_up_at_once() {
    let app = spawn_app(&config(Utc::now() + chrono::Duration::hours(1))).await;
    for client in both() {
        let r =
            run(client, &app.address, &["--team", "frozen", "--environment", "production", "--wait", "20s"], &[]).await;
        assert_eq!(r.code, Some(1), "{client:?}: {}{}", r.stdout, r.stderr);
        // It does not sit out the 20 s for nothing.
        assert!(r.took < Duration::from_secs(15), "{client:?} took {:?}", r.took);
        assert!(!r.stderr.contains("waiting until"), "{client:?}: {}", r.stderr);
    }
}

/// A port with nothing listening on it.
fn dead_address() -> String {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = l.local_addr().expect("addr").port();
    drop(l);
    format!("http://127.0.0.1:{port}")
}

/// A server that answers every request with `response`.
fn rogue_server(response: &'static str) -> String {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    let address = format!("http://{}", l.local_addr().expect("addr"));
    std::thread::spawn(move || {
        for stream in l.incoming() {
            let Ok(mut s) = stream else { continue };
            let mut buf = [0u8; 4096];
            let _ = s.set_read_timeout(Some(Duration::from_millis(500)));
            let _ = s.read(&mut buf);
            let _ = s.write_all(response.as_bytes());
        }
    });
    address
}

#[tokio::test]
async fn a_gate_that_cannot_be_asked_exits_2_unless_on_error_allow() {
    let garbage = rogue_server(
        "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 15\r\nConnection: close\r\n\r\n<html>hi</html>",
    );
    let broken =
        rogue_server("HTTP/1.1 500 Internal Server Error\r\nContent-Length: 5\r\nConnection: close\r\n\r\noops!");
    let json_but_not_a_decision = rogue_server(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}",
    );
    let down = dead_address();
    let ask = ["--team", "payments", "--environment", "production", "--timeout", "5"];
    for client in both() {
        for (what, url) in
            [("down", &down), ("garbage", &garbage), ("500", &broken), ("not a decision", &json_but_not_a_decision)]
        {
            let r = run(client, url, &ask, &[]).await;
            assert_eq!(r.code, Some(2), "{client:?}, server {what}: {}{}", r.stdout, r.stderr);
            assert!(r.stderr.contains("could not be asked"), "{client:?}, {what}: {}", r.stderr);
        }
        let mut allow = ask.to_vec();
        allow.extend(["--on-error", "allow"]);
        let r = run(client, &down, &allow, &[]).await;
        assert_eq!(r.code, Some(0), "{client:?}: {}", r.stderr);
        assert!(r.stderr.contains("WARNING: THE GATE COULD NOT BE ASKED"), "{client:?}: {}", r.stderr);
    }
}

/// A 4xx is the gate's answer to a wrong question or token: exit 2 with its
/// message, even with --on-error allow, never a deploy through a freeze.
#[tokio::test]
async fn a_refused_question_exits_2_even_with_on_error_allow() {
    let app = spawn_app(&config(Utc::now() + chrono::Duration::hours(2))).await;
    for client in both() {
        for (args, says) in [
            (
                vec!["--team", "frozen", "--environment", "production", "--expected-duration", "30d"],
                "longer than 7 days",
            ),
            (vec!["--team", "a b", "--environment", "production"], "team `a b`"),
        ] {
            let mut args = args.clone();
            args.extend(["--on-error", "allow"]);
            let r = run(client, &app.address, &args, &[]).await;
            assert_eq!(r.code, Some(2), "{client:?} {args:?}: {}{}", r.stdout, r.stderr);
            assert!(r.stderr.contains("refused the question") && r.stderr.contains(says), "{client:?}: {}", r.stderr);
            assert!(!r.stderr.contains("DEPLOYING WITHOUT A DECISION"), "{client:?}: {}", r.stderr);
        }
        let r = run(
            client,
            &app.address,
            &["--team", "frozen", "--environment", "production", "--on-error", "allow"],
            &[("DEPLOY_GATE_TOKEN", "not-a-known-token")],
        )
        .await;
        assert_eq!(r.code, Some(2), "{client:?}: a bad token is refused, not ignored: {}", r.stderr);
        assert!(r.stderr.contains("401"), "{client:?}: {}", r.stderr);
    }
}

/// `--wait` that will not wait says why.
#[tokio::test]
async fn wait_that_will_not_wait_says_why() {
    let app = spawn_app(&config(Utc::now() + chrono::Duration::hours(1))).await;
    for client in both() {
        let r =
            run(client, &app.address, &["--team", "frozen", "--environment", "production", "--wait", "1m"], &[]).await;
        assert_eq!(r.code, Some(1));
        assert!(
            r.stderr.contains("not waiting: the next allowed time") && r.stderr.contains("is more than --wait"),
            "{client:?}: {}",
            r.stderr
        );
    }
}

#[tokio::test]
async fn the_pipeline_that_asked_is_in_the_audit_log_and_the_job_summary() {
    let app = spawn_app(&config(Utc::now() + chrono::Duration::hours(2))).await;
    for client in both() {
        let summary = tempfile::NamedTempFile::new().expect("summary file");
        let path = summary.path().to_str().expect("path").to_string();
        let sha = format!("{client:?}-sha");
        let github = [
            ("GITHUB_ACTIONS", "true"),
            ("GITHUB_ACTOR", "octocat"),
            ("GITHUB_SERVER_URL", "https://github.example"),
            ("GITHUB_REPOSITORY", "acme/shop"),
            ("GITHUB_RUN_ID", "4242"),
            ("GITHUB_SHA", sha.as_str()),
            ("GITHUB_STEP_SUMMARY", path.as_str()),
        ];
        let r = run(client, &app.address, &["--team", "frozen", "--environment", "production"], &github).await;
        assert_eq!(r.code, Some(1));
        let written = std::fs::read_to_string(summary.path()).expect("summary");
        assert!(
            written.contains("deploy-gate") && written.contains("denied") && written.contains("window_active"),
            "{client:?}: {written}"
        );

        let (_, audit) = app.call(reqwest::Method::GET, "/audit?kind=decision&limit=1", Some(ADMIN), None).await;
        let record = &audit["records"][0];
        assert_eq!(record["actor"], "octocat", "{client:?}");
        assert_eq!(record["details"]["pipeline_url"], "https://github.example/acme/shop/actions/runs/4242");
        assert_eq!(record["details"]["commit"], sha.as_str());
    }
}

#[tokio::test]
async fn a_decision_blamed_on_scorecard_items_names_them_and_their_plans() {
    let config = r#"
[policy.environments.production]
red = "deny"

[[scorecard.items]]
id = "rollback"
title = "Rollback in one step"
gates = ["production"]

[[scorecard.items]]
id = "runbook"
title = "On-call runbook"

[[teams]]
name = "checkout"

[teams.scorecard.rollback]
status = "yellow"
plan = "https://tracker.example/CHK-7"
plan_due = "2026-01-31"

[teams.scorecard.runbook]
status = "red"
"#;
    let app = spawn_app(config).await;
    for client in both() {
        let r = run(client, &app.address, &["--team", "checkout", "--environment", "production"], &[]).await;
        assert_eq!(r.code, Some(1), "{client:?}: {}{}", r.stdout, r.stderr);
        assert!(
            r.stdout.contains("runbook: red, no plan; rollback: plan CHK-7 overdue since 2026-01-31"),
            "{client:?}: {}",
            r.stdout
        );
        if let Client::Binary = client {
            assert!(r.stdout.contains("rollback plan: https://tracker.example/CHK-7"), "{}", r.stdout);
        }
    }
}

/// `deploy-gate report` (or `report-deployment.sh`) with the CI run's variables.
async fn report(client: Client, url: &str, status: &str, env: &[(&str, &str)]) -> Run {
    let mut cmd = match client {
        Client::Binary => {
            let mut c = tokio::process::Command::new(env!("CARGO_BIN_EXE_deploy-gate"));
            c.arg("report");
            c
        }
        Client::Script => {
            let mut c = tokio::process::Command::new("bash");
            c.arg(concat!(env!("CARGO_MANIFEST_DIR"), "/ci-examples/report-deployment.sh"));
            c
        }
    };
    for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("DEPLOY_GATE_") || k.starts_with("GITHUB_")) {
        cmd.env_remove(k);
    }
    cmd.env("DEPLOY_GATE_URL", url)
        .env("DEPLOY_GATE_TOKEN", ADMIN)
        .args(["--team", "payments", "--service", "api", "--environment", "production", "--status", status])
        .envs(env.iter().copied());
    let started = Instant::now();
    let out = cmd.output().await.expect("run the reporter");
    Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into(),
        stderr: String::from_utf8_lossy(&out.stderr).into(),
        took: started.elapsed(),
    }
}

#[tokio::test]
async fn a_deployment_started_by_one_client_is_finished_by_the_other_in_the_same_ci_run() {
    let app = spawn_app(&config(Utc::now() + chrono::Duration::hours(2))).await;
    let github = [
        ("GITHUB_ACTIONS", "true"),
        ("GITHUB_SERVER_URL", "https://github.com"),
        ("GITHUB_REPOSITORY", "shop/payments"),
        ("GITHUB_RUN_ID", "4242"),
        ("GITHUB_SHA", "0123abc"),
    ];
    let clients = both();
    let (first, last) = (clients[0], *clients.last().expect("a client"));
    // The check hands the decision's id on to the job's later steps.
    let handed = tempfile::NamedTempFile::new().expect("GITHUB_ENV file");
    let handed_path = handed.path().to_str().expect("path").to_string();
    let mut asking: Vec<(&str, &str)> = github.to_vec();
    asking.push(("GITHUB_ENV", handed_path.as_str()));
    let r = run(last, &app.address, &["--team", "free", "--environment", "production"], &asking).await;
    assert_eq!(r.code, Some(0), "{}{}", r.stdout, r.stderr);
    let written = std::fs::read_to_string(handed.path()).expect("GITHUB_ENV");
    let decision_id = written.trim().strip_prefix("DEPLOY_GATE_DECISION_ID=").expect("the decision id").to_string();
    assert!(!decision_id.is_empty() && r.stdout.contains(&decision_id), "{written}");
    let mut github: Vec<(&str, &str)> = github.to_vec();
    github.push(("DEPLOY_GATE_DECISION_ID", decision_id.as_str()));
    let r = report(first, &app.address, "started", &github).await;
    assert_eq!(r.code, Some(0), "{}{}", r.stdout, r.stderr);
    let r = report(last, &app.address, "failed", &github).await;
    assert_eq!(r.code, Some(0), "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("failed"), "{}", r.stdout);
    let (_, list) = app.get_json("/deployments?team=payments").await;
    let list = list.as_array().expect("list");
    assert_eq!(list.len(), 1, "one deployment, started and finished: {list:?}");
    assert_eq!(list[0]["status"], "failed");
    assert_eq!(list[0]["pipeline_url"], "https://github.com/shop/payments/actions/runs/4242");
    assert_eq!(list[0]["commit"], "0123abc");
    assert_eq!(list[0]["decision_id"], decision_id.as_str(), "the decision that let it go");
    // Another run is another deployment; a bad status is refused before asking.
    let other = [("GITHUB_RUN_ID", "4243")];
    let env: Vec<(&str, &str)> = github.iter().filter(|(k, _)| *k != "GITHUB_RUN_ID").chain(&other).copied().collect();
    for client in clients {
        assert_eq!(report(client, &app.address, "succeeded", &env).await.code, Some(0));
        let bad = report(client, &app.address, "done", &env).await;
        assert_eq!(bad.code, Some(2), "{client:?}: {}", bad.stderr);
    }
    let (_, list) = app.get_json("/deployments?team=payments").await;
    assert_eq!(list.as_array().expect("list").len(), 2);
}
