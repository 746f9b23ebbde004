//! `deploy-gate health`: the container's HEALTHCHECK, with no curl needed.

use std::process::ExitCode;
use std::time::Duration;

use crate::client::GateClient;

/// The readiness URL of a gate listening on `DEPLOY_GATE_SERVER__LISTEN`
/// (default 127.0.0.1:8080), reached over loopback.
pub fn default_url(listen: Option<&str>) -> String {
    let listen = listen.filter(|l| !l.is_empty()).unwrap_or("127.0.0.1:8080");
    let port = listen.rsplit(':').next().unwrap_or("8080");
    format!("http://127.0.0.1:{port}")
}

pub fn run(url: Option<String>) -> ExitCode {
    let base = url.unwrap_or_else(|| default_url(std::env::var("DEPLOY_GATE_SERVER__LISTEN").ok().as_deref()));
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("unhealthy: {e}");
            return ExitCode::from(1);
        }
    };
    let answer = runtime.block_on(async {
        let mut gate = GateClient::new(&base, None, Duration::from_secs(2), Duration::from_secs(4))?;
        gate.attempts = 1;
        gate.ready(&mut |_| {}).await
    });
    match answer {
        Ok(true) => {
            println!("ready");
            ExitCode::SUCCESS
        }
        Ok(false) => {
            eprintln!("unhealthy: {base}/readyz says not ready");
            ExitCode::from(1)
        }
        Err(e) => {
            eprintln!("unhealthy: {e}");
            ExitCode::from(1)
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_default_url_follows_the_listen_setting() {
        assert_eq!(super::default_url(None), "http://127.0.0.1:8080");
        assert_eq!(super::default_url(Some("0.0.0.0:9000")), "http://127.0.0.1:9000");
        assert_eq!(super::default_url(Some("[::]:7000")), "http://127.0.0.1:7000");
    }
}
