//! The real binary as ops run it: crash safety, secrets in logs, SIGHUP,
//! and the `token` and `override` subcommands.

#[path = "support/process.rs"]
#[allow(dead_code)]
mod process;

use std::process::Command;

use process::{ADMIN, Server, binary, call, client, workspace};
use reqwest::Method;
use serde_json::{Value, json};

const CONFIG: &str = r#"
[policy.environments.production]
red = "deny"

[[windows]]
id = "always"
start = "2020-01-01T00:00:00Z"
end = "2099-01-01T00:00:00Z"
teams = ["payments"]

[[teams]]
name = "payments"
status = "green"
"#;

#[tokio::test]
async fn every_acknowledged_write_and_audit_record_survives_sigkill() {
    let dir = workspace(CONFIG);
    let server = Server::start(dir.path());
    let url = server.url();
    let ok = |s: u16| (200..300).contains(&s);

    let (s, o) = call(
        &url,
        Method::POST,
        "/overrides",
        Some(ADMIN),
        Some(json!({
            "team": "payments", "environment": "production", "reason": "Hotfix for checkout outage INC-1", "ttl": "4h"
        })),
    )
    .await;
    assert!(ok(s), "{o}");
    let (s, revoked) = call(
        &url,
        Method::POST,
        "/overrides",
        Some(ADMIN),
        Some(json!({
            "team": "payments", "environment": "staging", "reason": "Staging hotfix for INC-2 tests"
        })),
    )
    .await;
    assert!(ok(s));
    let (s, _) =
        call(&url, Method::DELETE, &format!("/overrides/{}", revoked["id"].as_str().expect("id")), Some(ADMIN), None)
            .await;
    assert!(ok(s));
    let (s, _) = call(
        &url,
        Method::PUT,
        "/windows/api-freeze",
        Some(ADMIN),
        Some(json!({
            "cron": "0 17 * * FRI", "duration": "2h", "reason": "Made through the API"
        })),
    )
    .await;
    assert!(ok(s));
    let (s, _) = call(&url, Method::PUT, "/teams/search", Some(ADMIN), Some(json!({"status": "red"}))).await;
    assert!(ok(s));
    let mut decision_ids = Vec::new();
    for i in 0..20 {
        let (s, d) = call(&url, Method::POST, "/can-deploy", None, Some(json!({
            "team": if i % 2 == 0 { "payments" } else { "search" }, "environment": "production", "actor": format!("run-{i}")
        }))).await;
        assert_eq!(s, 200);
        decision_ids.push(d["decision_id"].as_str().expect("decision id").to_string());
    }
    server.kill9();

    let server = Server::start(dir.path());
    let url = server.url();
    let (_, active) = call(&url, Method::GET, "/overrides?active=true", Some(ADMIN), None).await;
    let ids: Vec<&str> = active.as_array().expect("list").iter().filter_map(|o| o["id"].as_str()).collect();
    assert_eq!(ids, [o["id"].as_str().expect("id")]);
    let (_, d) = call(&url, Method::GET, "/can-deploy?team=payments&environment=production", None, None).await;
    assert_eq!(d["allowed"], true, "the override still lifts the freeze: {d}");
    let (s, w) = call(&url, Method::GET, "/windows/api-freeze", None, None).await;
    assert_eq!((s, w["source"].as_str()), (200, Some("api")));
    let (_, t) = call(&url, Method::GET, "/teams/search", None, None).await;
    assert_eq!(t["status"], "red");

    let (_, audit) = call(&url, Method::GET, "/audit?limit=1000", Some(ADMIN), None).await;
    let records = audit["records"].as_array().expect("records");
    let recorded: Vec<&str> = records.iter().filter_map(|r| r["details"]["decision_id"].as_str()).collect();
    for id in &decision_ids {
        assert!(recorded.contains(&id.as_str()), "decision {id} lost");
    }
    let kinds: Vec<&str> = records.iter().filter_map(|r| r["kind"].as_str()).collect();
    for kind in ["override.created", "override.revoked", "window.created", "team.created"] {
        assert!(kinds.contains(&kind), "{kind} lost: {kinds:?}");
    }
}

#[tokio::test]
async fn no_token_appears_in_the_logs() {
    let override_token = "override-secret-token-abcdef0123456789";
    let digest = deploy_gate::config::hex(&deploy_gate::config::token_digest(override_token));
    let config =
        format!("{CONFIG}\n[auth]\n[[auth.tokens]]\nname = \"oncall\"\nsha256 = \"{digest}\"\nrole = \"override\"\n");
    let dir = workspace(&config);
    let server = Server::start(dir.path());
    let url = server.url();
    let wrong = "wrong-token-that-must-not-be-logged-42";
    call(
        &url,
        Method::POST,
        "/overrides",
        Some(override_token),
        Some(json!({
            "team": "payments", "environment": "production", "reason": "Hotfix for checkout outage INC-1"
        })),
    )
    .await;
    call(&url, Method::GET, "/audit", Some(wrong), None).await;
    call(&url, Method::GET, "/audit", Some(ADMIN), None).await;
    call(&url, Method::GET, "/can-deploy?team=payments&environment=production", Some(override_token), None).await;
    call(&url, Method::PUT, "/teams/x", Some(wrong), Some(json!({"status": "red"}))).await;
    server.wait_for_log("override created");
    let log = server.log();
    assert!(log.contains("\"decision\""), "the log has the requests:\n{log}");
    for secret in [ADMIN, override_token, wrong, digest.as_str()] {
        assert!(!log.contains(secret), "`{secret}` appears in the log");
    }
}

#[tokio::test]
async fn sighup_reloads_the_config() {
    let dir = workspace(CONFIG);
    let server = Server::start(dir.path());
    std::fs::write(dir.path().join("config/deploy-gate.toml"), CONFIG.replace("\"payments\"]", "\"search\"]"))
        .expect("edit");
    let status = Command::new("kill").args(["-HUP", &server.child.id().to_string()]).status().expect("kill -HUP");
    assert!(status.success());
    server.wait_for_log("SIGHUP: reloading the config");
    server.wait_for_log("config reloaded");
    let (_, w) = call(&server.url(), Method::GET, "/windows/always", None, None).await;
    assert_eq!(w["teams"], json!(["search"]));
}

#[tokio::test]
async fn a_new_token_works_and_the_override_command_uses_it() {
    let out = binary()
        .args([
            "token",
            "new",
            "--name",
            "payments-oncall",
            "--role",
            "override",
            "--teams",
            "payments",
            "--environments",
            "production",
        ])
        .output()
        .expect("token new");
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let token = text.lines().find(|l| l.starts_with("dg_")).expect("a token line").to_string();
    assert_eq!(token.len(), 3 + 64);
    let lines: String =
        text.lines().skip_while(|l| !l.starts_with("[[auth.tokens]]")).map(|l| format!("{l}\n")).collect();
    assert!(lines.contains("role = \"override\"") && lines.contains("teams = [\"payments\"]"), "{text}");
    assert!(!lines.contains(&token), "the config lines hold only the digest");

    let dir = workspace(&format!("{CONFIG}\n[auth]\n{lines}"));
    let server = Server::start(dir.path());
    let url = server.url();
    let run = |team: &str, token: &str| {
        binary()
            .args(["override", "--url", &url, "--team", team, "--environment", "production", "--ttl", "15m"])
            .args(["--reason", "Hotfix for checkout outage INC-4211"])
            .env("DEPLOY_GATE_TOKEN", token)
            .output()
            .expect("override")
    };
    let out = run("payments", &token);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("is in force for payments in production"));
    let (_, d) = call(&url, Method::GET, "/can-deploy?team=payments&environment=production", None, None).await;
    assert_eq!(d["allowed"], true);
    // Out of scope: refused, exit 1.
    let out = run("search", &token);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("may not override for team search"));
    // Unreachable: exit 2.
    let out = binary()
        .args(["override", "--url", "http://127.0.0.1:9", "--team", "payments", "--environment", "production"])
        .args(["--reason", "Hotfix for checkout outage INC-4211"])
        .env("DEPLOY_GATE_TOKEN", &token)
        .output()
        .expect("override");
    assert_eq!(out.status.code(), Some(2));
}

#[tokio::test]
async fn json_logs_have_one_line_per_decision_with_the_request_id() {
    let dir = workspace(CONFIG);
    let server = Server::start(dir.path());
    let response = client()
        .get(format!("{}/can-deploy?team=payments&service=api&environment=production", server.url()))
        .header("x-request-id", "pipeline-77")
        .send()
        .await
        .expect("request");
    assert_eq!(response.headers()["x-request-id"], "pipeline-77");
    let decision: Value = response.json().await.expect("json");
    server.wait_for_log("\"decision_id\"");
    let log = server.log();
    let lines: Vec<Value> = log
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["message"] == "decision")
        .collect();
    assert_eq!(lines.len(), 1, "one line per decision:\n{log}");
    let line = &lines[0];
    assert_eq!(line["decision_id"], decision["decision_id"]);
    assert_eq!(line["team"], "payments");
    assert_eq!(line["service"], "api");
    assert_eq!(line["environment"], "production");
    assert_eq!(line["allowed"], false);
    assert!(line["reasons"].as_str().is_some_and(|r| r.contains("window_active")), "{line}");
    assert_eq!(line["span"]["request_id"], "pipeline-77", "{line}");
}

/// Logs read by a pipeline get no terminal colours.
#[test]
fn logs_into_a_pipe_carry_no_colour_codes() {
    use std::io::{BufRead, BufReader};
    let dir = workspace(CONFIG);
    let mut child = binary()
        .args(["serve", "--listen", "127.0.0.1:0", "--config"])
        .arg(dir.path().join("config"))
        .env("DEPLOY_GATE_STORE__URL", format!("sqlite://{}", dir.path().join("data/gate.db").display()))
        .env("DEPLOY_GATE_SERVER__LOG_FORMAT", "pretty")
        .stderr(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("start");
    let stderr = child.stderr.take().expect("stderr");
    let mut seen = String::new();
    for line in BufReader::new(stderr).lines().map_while(Result::ok) {
        seen.push_str(&line);
        seen.push('\n');
        if line.contains("deploy-gate is listening") {
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(seen.contains("deploy-gate is listening"), "{seen}");
    assert!(!seen.contains('\x1b'), "colour codes in piped logs: {seen:?}");
}
