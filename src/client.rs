//! The HTTP client the command line uses to talk to a gate.

use std::time::Duration;

/// A client with connect and read timeouts, TLS by rustls (no OpenSSL).
pub fn http_client(
    connect_timeout: Duration,
    timeout: Duration,
) -> reqwest::Result<reqwest::Client> {
    // Installing twice fails harmlessly: another caller got there first.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .connect_timeout(connect_timeout)
        .timeout(timeout)
        .user_agent(concat!("deploy-gate/", env!("CARGO_PKG_VERSION")))
        .build()
}
