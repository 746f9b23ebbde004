//! The command line's side of the HTTP API: asking a gate, with timeouts and
//! a bounded retry for connection failures.

use std::time::Duration;

use serde_json::Value;

/// A client with connect and read timeouts, TLS by rustls (no OpenSSL).
pub fn http_client(connect_timeout: Duration, timeout: Duration) -> reqwest::Result<reqwest::Client> {
    // Installing twice fails harmlessly: another caller got there first.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .connect_timeout(connect_timeout)
        .timeout(timeout)
        .user_agent(concat!("deploy-gate/", env!("CARGO_PKG_VERSION")))
        .build()
}

/// Why a gate could not be asked (as opposed to answering "no").
#[derive(Debug, thiserror::Error)]
pub enum AskError {
    #[error("cannot reach {url}: {cause}")]
    Unreachable { url: String, cause: String },
    #[error("{url} answered {status} with a body that is not deploy-gate's JSON: {snippet}")]
    BadAnswer { url: String, status: u16, snippet: String },
}

/// A gate at a base URL, with an optional bearer token.
pub struct Gate {
    base: String,
    token: Option<String>,
    client: reqwest::Client,
    /// Attempts for requests that never reached the server.
    pub attempts: u32,
}

/// Every cause in a reqwest error chain, on one line.
fn causes(e: &reqwest::Error) -> String {
    let mut out = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

impl Gate {
    pub fn new(
        base: &str,
        token: Option<String>,
        connect_timeout: Duration,
        timeout: Duration,
    ) -> Result<Gate, AskError> {
        let client = http_client(connect_timeout, timeout)
            .map_err(|e| AskError::Unreachable { url: base.into(), cause: causes(&e) })?;
        Ok(Gate {
            base: base.trim_end_matches('/').to_string(),
            token: token.filter(|t| !t.is_empty()),
            client,
            attempts: 3,
        })
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Send a JSON request; answers the status and the JSON body. Retries,
    /// with backoff, only when the request never reached the server, so a
    /// POST is never sent twice.
    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<(u16, Value), AskError> {
        let url = self.url(path);
        let mut delay = Duration::from_millis(250);
        let mut attempt = 1;
        let response = loop {
            let mut request = self.client.request(method.clone(), &url);
            if let Some(token) = &self.token {
                request = request.bearer_auth(token);
            }
            if let Some(body) = body {
                request = request.json(body);
            }
            match request.send().await {
                Ok(r) => break r,
                Err(e) if e.is_connect() && attempt < self.attempts => {
                    eprintln!(
                        "deploy-gate: cannot connect to {url} (attempt {attempt} of {}); retrying in {delay:?}",
                        self.attempts
                    );
                    tokio::time::sleep(delay).await;
                    delay *= 2;
                    attempt += 1;
                }
                Err(e) => {
                    return Err(AskError::Unreachable { url, cause: causes(&e) });
                }
            }
        };
        let status = response.status().as_u16();
        let text = response.text().await.map_err(|e| AskError::Unreachable { url: url.clone(), cause: causes(&e) })?;
        match serde_json::from_str::<Value>(&text) {
            Ok(json) if json.is_object() || json.is_array() => Ok((status, json)),
            _ => Err(AskError::BadAnswer { url, status, snippet: text.chars().take(120).collect() }),
        }
    }
}

/// The message of an error body in the contract's shape.
pub fn error_message(body: &Value) -> String {
    let e = &body["error"];
    match (e["message"].as_str(), e["field"].as_str()) {
        (Some(m), Some(f)) => format!("{m} (field {f})"),
        (Some(m), None) => m.to_string(),
        _ => body.to_string(),
    }
}
