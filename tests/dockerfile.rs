//! There is no Docker engine here, so the image is checked piece by piece:
//! what the Dockerfile copies exists and is not excluded by .dockerignore,
//! and the binary runs with the exact arguments of ENTRYPOINT + CMD and
//! HEALTHCHECK, with the image's environment.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Dockerfile instructions, continuation lines joined, comments dropped.
fn instructions() -> Vec<(String, String)> {
    let text = std::fs::read_to_string(repo().join("Dockerfile")).expect("Dockerfile");
    let mut out = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('#') || (line.is_empty() && current.is_empty()) {
            continue;
        }
        if let Some(head) = line.strip_suffix('\\') {
            current.push_str(head);
            current.push(' ');
            continue;
        }
        current.push_str(line);
        if let Some((op, rest)) = current.trim().split_once(' ') {
            out.push((op.to_ascii_uppercase(), rest.trim().to_string()));
        }
        current.clear();
    }
    out
}

fn exec_form(text: &str) -> Vec<String> {
    serde_json::from_str(text).unwrap_or_else(|_| panic!("not an exec-form JSON array: {text}"))
}

#[test]
fn every_path_the_dockerfile_copies_exists_and_reaches_the_build_context() {
    let ignored: Vec<String> = std::fs::read_to_string(repo().join(".dockerignore"))
        .expect(".dockerignore")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| l.trim_end_matches('/').to_string())
        .collect();
    let copies: Vec<String> = instructions().into_iter().filter(|(op, _)| op == "COPY").map(|(_, rest)| rest).collect();
    assert!(copies.len() >= 4, "{copies:?}");
    for rest in copies {
        if rest.starts_with("--from=") {
            continue;
        }
        let parts: Vec<&str> = rest.split_whitespace().collect();
        for source in &parts[..parts.len() - 1] {
            let path = repo().join(source);
            assert!(path.exists(), "COPY {source}: no such path");
            let top = source.trim_end_matches('/').split('/').next().unwrap_or("");
            assert!(!ignored.iter().any(|i| i == top), "COPY {source}: excluded by .dockerignore");
        }
    }
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

#[test]
fn the_binary_runs_with_the_images_entrypoint_cmd_and_healthcheck() {
    let steps = instructions();
    let one = |op: &str| {
        steps.iter().rev().find(|(o, _)| o == op).map(|(_, r)| r.clone()).unwrap_or_else(|| panic!("no {op}"))
    };
    let entrypoint = exec_form(&one("ENTRYPOINT"));
    let cmd = exec_form(&one("CMD"));
    let health = one("HEALTHCHECK");
    let health = exec_form(health.split_once("CMD ").expect("HEALTHCHECK ... CMD [...]").1);
    assert_eq!(entrypoint, ["deploy-gate"]);
    assert_eq!(health[0], "deploy-gate");

    // The image's environment, with its paths and port mapped onto this machine.
    let data = tempfile::tempdir().expect("data dir");
    let port = free_port();
    let map_path = |s: &str| {
        s.replace("/etc/deploy-gate", &repo().join("config").display().to_string())
            .replace("/var/lib/deploy-gate", &data.path().display().to_string())
    };
    let mut env: HashMap<String, String> = HashMap::new();
    for (_, rest) in steps.iter().filter(|(op, _)| op == "ENV") {
        for pair in rest.split_whitespace() {
            let (k, v) = pair.split_once('=').expect("ENV KEY=value");
            env.insert(k.to_string(), map_path(v));
        }
    }
    assert_eq!(env.get("DEPLOY_GATE_SERVER__LISTEN").map(String::as_str), Some("0.0.0.0:8080"));
    env.insert("DEPLOY_GATE_SERVER__LISTEN".into(), format!("127.0.0.1:{port}"));
    let copied_config = steps.iter().any(|(op, rest)| op == "COPY" && rest == "config/ /etc/deploy-gate/");
    assert!(copied_config, "the image's config comes from config/");

    let binary = env!("CARGO_BIN_EXE_deploy-gate");
    let run = |args: &[String]| {
        let mut c = Command::new(binary);
        for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("DEPLOY_GATE_")) {
            c.env_remove(k);
        }
        c.args(args.iter().map(|a| map_path(a))).envs(&env);
        c
    };
    // Not serving yet: unhealthy.
    let status = run(&health[1..]).stdout(Stdio::null()).stderr(Stdio::null()).status().expect("health");
    assert!(!status.success(), "healthy with nothing listening");

    let mut server = run(&cmd).stdout(Stdio::null()).stderr(Stdio::null()).spawn().expect("ENTRYPOINT + CMD");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(exit) = server.try_wait().expect("server state") {
            panic!("the server stopped: {exit}");
        }
        let status = run(&health[1..]).stdout(Stdio::null()).stderr(Stdio::null()).status().expect("health");
        if status.success() {
            break;
        }
        assert!(Instant::now() < deadline, "HEALTHCHECK never passed");
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = server.kill();
    let _ = server.wait();
    assert!(Path::new(&data.path().join("deploy-gate.db")).exists(), "the store lives in the volume");
}
