//! The real binary as a process, for the tests that need one: started on a
//! port it picks, its JSON log captured, killed with SIGKILL when asked.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::Value;

pub const ADMIN: &str = "bootstrap-admin-token-0123456789";

pub fn binary() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_deploy-gate"));
    for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("DEPLOY_GATE_")) {
        c.env_remove(k);
    }
    c
}

/// The service, started as a process on a port it picks, logging JSON lines.
pub struct Server {
    pub child: Child,
    port: u16,
    log: Arc<Mutex<String>>,
}

impl Server {
    /// On `dir/config`, with its store in `dir/data`.
    pub fn start(dir: &std::path::Path) -> Server {
        Server::start_with(&dir.join("config"), &format!("sqlite://{}", dir.join("data/gate.db").display()))
    }

    /// On a config path and a store URL of the caller's choosing.
    pub fn start_with(config: &std::path::Path, store_url: &str) -> Server {
        let mut child = binary()
            .args(["serve", "--listen", "127.0.0.1:0", "--config"])
            .arg(config)
            .env("DEPLOY_GATE_STORE__URL", store_url)
            .env("DEPLOY_GATE_SERVER__LOG_FORMAT", "json")
            .env("DEPLOY_GATE_ADMIN_TOKEN", ADMIN)
            .env("RUST_LOG", "debug")
            .stderr(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .expect("start deploy-gate");
        let log = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        let stderr = child.stderr.take().expect("stderr");
        let sink = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Ok(v) = serde_json::from_str::<Value>(&line)
                    && v["message"] == "deploy-gate is listening"
                {
                    let _ = tx.send(v["port"].as_u64().unwrap_or(0) as u16);
                }
                sink.lock().expect("log").push_str(&format!("{line}\n"));
            }
        });
        let port = rx
            .recv_timeout(Duration::from_secs(30))
            .unwrap_or_else(|_| panic!("no listening line in:\n{}", log.lock().expect("log")));
        Server { child, port, log }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn log(&self) -> String {
        self.log.lock().expect("log").clone()
    }

    /// Wait until the log holds `needle`.
    pub fn wait_for_log(&self, needle: &str) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !self.log().contains(needle) {
            assert!(Instant::now() < deadline, "no `{needle}` in the log:\n{}", self.log());
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn kill9(mut self) {
        self.child.kill().expect("SIGKILL");
        self.child.wait().expect("reaped");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn client() -> reqwest::Client {
    deploy_gate::client::http_client(Duration::from_secs(5), Duration::from_secs(30)).expect("client")
}

pub async fn call(url: &str, method: Method, path: &str, token: Option<&str>, body: Option<Value>) -> (u16, Value) {
    let mut r = client().request(method, format!("{url}{path}"));
    if let Some(t) = token {
        r = r.bearer_auth(t);
    }
    if let Some(b) = body {
        r = r.json(&b);
    }
    let response = r.send().await.expect("request");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

pub fn workspace(config: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir(dir.path().join("config")).expect("config dir");
    std::fs::write(dir.path().join("config/deploy-gate.toml"), config).expect("config");
    dir
}
