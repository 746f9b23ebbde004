//! Start the real service on a free port, with a config written to a temp dir.

use std::time::Duration;

use deploy_gate::config;
use deploy_gate::http::{Application, Launch};
use serde_json::Value;

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    /// Kept alive for the service's lifetime; reload tests edit files in it.
    pub config_dir: std::sync::Arc<tempfile::TempDir>,
}

/// A service on 127.0.0.1 with a port the OS picks, serving `config_toml`,
/// with its own SQLite file.
pub async fn spawn_app(config_toml: &str) -> TestApp {
    let config_dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(config_dir.path().join("deploy-gate.toml"), config_toml).expect("write config");
    spawn_in(config_dir).await
}

/// A service on the config (and store) in `config_dir`.
pub async fn spawn_in(config_dir: tempfile::TempDir) -> TestApp {
    spawn_on(std::sync::Arc::new(config_dir)).await
}

/// A second replica of `app`: the same config files and the same store.
pub async fn spawn_replica(app: &TestApp) -> TestApp {
    spawn_on(app.config_dir.clone()).await
}

/// A service on the config in `config_dir`, started with these environment
/// variables too (as `serve` is started with the process's).
pub async fn spawn_in_env(config_dir: tempfile::TempDir, extra: &[(&str, &str)]) -> TestApp {
    spawn_with(std::sync::Arc::new(config_dir), extra).await
}

async fn spawn_on(config_dir: std::sync::Arc<tempfile::TempDir>) -> TestApp {
    spawn_with(config_dir, &[]).await
}

async fn spawn_with(config_dir: std::sync::Arc<tempfile::TempDir>, extra: &[(&str, &str)]) -> TestApp {
    let store = config_dir.path().join("store").join("gate.db");
    let mut env = vec![("DEPLOY_GATE_STORE__URL".to_string(), format!("sqlite://{}", store.display()))];
    env.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    let config = config::load(config_dir.path(), &env).unwrap_or_else(|p| {
        panic!("test config: {}", p.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))
    });
    let launch = Launch {
        config_path: config_dir.path().to_path_buf(),
        env,
        listen: Some("127.0.0.1:0".parse().expect("addr")),
    };
    let app = Application::build(config, launch).await.expect("build app");
    let address = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    let client = deploy_gate::client::http_client(Duration::from_secs(5), Duration::from_secs(30)).expect("client");
    TestApp { address, client, config_dir }
}

/// Every answer's error code is one its route declares (the server flags
/// any other in this header).
pub fn declared(r: &reqwest::Response) {
    if let Some(code) = r.headers().get("x-undeclared-error-code") {
        panic!("{} answered {code:?}, which its route does not declare in the route table", r.url());
    }
}

impl TestApp {
    pub async fn get(&self, path: &str) -> reqwest::Response {
        let r = self.client.get(format!("{}{path}", self.address)).send().await.expect("GET");
        declared(&r);
        r
    }

    pub async fn get_json(&self, path: &str) -> (u16, Value) {
        let r = self.get(path).await;
        let status = r.status().as_u16();
        (status, r.json().await.expect("JSON body"))
    }

    pub async fn post_json(&self, path: &str, body: &Value) -> (u16, Value) {
        let r = self.client.post(format!("{}{path}", self.address)).json(body).send().await.expect("POST");
        declared(&r);
        let status = r.status().as_u16();
        (status, r.json().await.expect("JSON body"))
    }

    pub async fn send_raw(&self, method: reqwest::Method, path: &str, body: &str) -> (u16, Value) {
        let r = self
            .client
            .request(method, format!("{}{path}", self.address))
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .expect("request");
        declared(&r);
        let status = r.status().as_u16();
        let text = r.text().await.expect("body");
        (status, serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}")))
    }
}

/// The reason codes of a decision.
pub fn codes(decision: &Value, list: &str) -> Vec<String> {
    decision[list].as_array().expect(list).iter().map(|r| r["code"].as_str().expect("code").to_string()).collect()
}

/// Asserts the contract's error shape and returns the code.
pub fn error_code(body: &Value) -> String {
    let e = &body["error"];
    assert!(e["message"].as_str().is_some_and(|m| !m.is_empty()), "error message in {body}");
    e["code"].as_str().unwrap_or_else(|| panic!("error code in {body}")).to_string()
}

/// The config lines for a token, and the token itself.
pub fn token_lines(name: &str, token: &str, role: &str, scope: &str) -> String {
    let digest = deploy_gate::config::hex(&deploy_gate::config::token_digest(token));
    format!("[[auth.tokens]]\nname = \"{name}\"\nsha256 = \"{digest}\"\nrole = \"{role}\"\n{scope}\n")
}

pub const ADMIN: &str = "admin-token-0123456789abcdef";
pub const READER: &str = "read-token-0123456789abcdef";
pub const PAYMENTS_ONCALL: &str = "override-token-payments-0123456789";

/// `[auth]` with an admin, a reader and an override token for payments in production.
pub fn auth_config() -> String {
    format!(
        "[auth]\nmax_override_ttl = \"2h\"\n\n{}{}{}",
        token_lines("ops-admin", ADMIN, "admin", ""),
        token_lines("auditor", READER, "read", ""),
        token_lines(
            "payments-oncall",
            PAYMENTS_ONCALL,
            "override",
            "teams = [\"payments\"]\nenvironments = [\"production\"]"
        ),
    )
}

impl TestApp {
    /// A request with an optional bearer token and JSON body.
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> (u16, Value) {
        let mut r = self.client.request(method, format!("{}{path}", self.address));
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        if let Some(b) = body {
            r = r.json(b);
        }
        let response = r.send().await.expect("request");
        declared(&response);
        let status = response.status().as_u16();
        let text = response.text().await.expect("body");
        (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }

    /// Wait (at most `limit`) until `check` holds for the JSON at `path`.
    pub async fn wait_for(&self, path: &str, limit: Duration, check: impl Fn(u16, &Value) -> bool) -> (u16, Value) {
        let started = std::time::Instant::now();
        loop {
            let r = self.get(path).await;
            let status = r.status().as_u16();
            let body: Value = r.json().await.unwrap_or(Value::Null);
            if check(status, &body) {
                return (status, body);
            }
            assert!(
                started.elapsed() < limit,
                "{path} did not reach the expected state within {limit:?}: {status} {body}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// Whether an outside program a test needs is here. When it is not, one loud
/// line names the Debian package that brings it and the test is skipped,
/// unless `DEPLOY_GATE_TEST_STRICT=1` (as in CI), where a skip is a failure.
pub fn need(program: &str, debian_package: &str) -> bool {
    let found = if program.contains('/') {
        std::path::Path::new(program).exists()
    } else {
        std::env::var_os("PATH")
            .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(program).is_file()))
    };
    if !found {
        skip(&format!("needs `{program}` (Debian package `{debian_package}`)"));
    }
    found
}

/// Skip a test loudly; under `DEPLOY_GATE_TEST_STRICT=1` fail instead.
pub fn skip(why: &str) {
    let line = format!("SKIPPED {}: {why}", std::thread::current().name().unwrap_or("a test"));
    if std::env::var("DEPLOY_GATE_TEST_STRICT").is_ok_and(|v| v == "1") {
        panic!("{line} (DEPLOY_GATE_TEST_STRICT=1: a skip is a failure)");
    }
    eprintln!("\n*** {line} ***\n");
}
