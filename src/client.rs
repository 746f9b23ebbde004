//! The command line's side of the HTTP API: asking a gate, with timeouts and
//! a bounded retry for connection failures. It returns typed answers and
//! reports what it does through events; printing is the caller's business.

use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::wire::{Answer, CreatedOverride, DecisionRequest, ErrorBody, OverrideRequest};

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

/// Why a gate could not be asked (as opposed to answering).
#[derive(Debug, thiserror::Error)]
pub enum AskError {
    #[error("`{url}` is not a URL the gate can be reached at: {why}")]
    BadUrl { url: String, why: String },
    #[error("cannot reach {url}: {cause}")]
    Unreachable { url: String, cause: String },
    #[error("{url} answered {status}: {message}")]
    ServerFailed { url: String, status: u16, message: String },
    #[error("{url} answered {status} with a body that is not deploy-gate's JSON: {snippet}")]
    BadAnswer { url: String, status: u16, snippet: String },
}

/// What the gate said: what was asked for, or a refusal (a 4xx: the request
/// or the token is wrong), which asking again will not change.
#[derive(Debug)]
pub enum Reply<T> {
    Done(T),
    Refused { status: u16, error: ErrorBody },
}

/// What the client does on the way, for the caller to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// The connection failed; another attempt follows after `delay`.
    Retrying { url: String, attempt: u32, of: u32, delay: Duration },
}

/// A gate at a base URL, with an optional bearer token.
pub struct GateClient {
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

/// A base URL people write: `https://gate.example`, not `gate.example:8080`.
pub fn check_base(url: &str) -> Result<String, AskError> {
    let bad = |why: &str| AskError::BadUrl { url: url.to_string(), why: why.to_string() };
    let trimmed = url.trim().trim_end_matches('/');
    if trimmed.is_empty() {
        return Err(bad("it is empty; set --url or DEPLOY_GATE_URL, e.g. https://gate.example"));
    }
    if !(trimmed.starts_with("http://") || trimmed.starts_with("https://")) {
        return Err(bad(&format!("add http:// or https://, e.g. http://{trimmed}")));
    }
    reqwest::Url::parse(trimmed).map_err(|e| bad(&e.to_string()))?;
    Ok(trimmed.to_string())
}

impl GateClient {
    pub fn new(
        base: &str,
        token: Option<String>,
        connect_timeout: Duration,
        timeout: Duration,
    ) -> Result<Self, AskError> {
        let base = check_base(base)?;
        let client = http_client(connect_timeout, timeout)
            .map_err(|e| AskError::Unreachable { url: base.clone(), cause: causes(&e) })?;
        Ok(GateClient { base, token: token.filter(|t| !t.is_empty()), client, attempts: 3 })
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// `POST /can-deploy`.
    pub async fn ask(&self, q: &DecisionRequest, on: &mut impl FnMut(Event)) -> Result<Reply<Answer>, AskError> {
        self.send(reqwest::Method::POST, "/can-deploy", Some(q), on).await
    }

    /// `POST /overrides`.
    pub async fn create_override(
        &self,
        r: &OverrideRequest,
        on: &mut impl FnMut(Event),
    ) -> Result<Reply<CreatedOverride>, AskError> {
        self.send(reqwest::Method::POST, "/overrides", Some(r), on).await
    }

    /// `GET /readyz`: whether the gate says it is ready.
    pub async fn ready(&self, on: &mut impl FnMut(Event)) -> Result<bool, AskError> {
        #[derive(serde::Deserialize)]
        struct Ready {
            ready: bool,
        }
        let url = self.url("/readyz");
        let response = self.request(reqwest::Method::GET, &url, None::<&()>, on).await?;
        let status = response.status().as_u16();
        let text = response.text().await.map_err(|e| AskError::Unreachable { url: url.clone(), cause: causes(&e) })?;
        serde_json::from_str::<Ready>(&text).map(|r| r.ready && status == 200).map_err(|_| AskError::BadAnswer {
            url,
            status,
            snippet: text.chars().take(120).collect(),
        })
    }

    /// Send a JSON request and read the answer. Retries, with backoff, only
    /// when the request never reached the server, so a POST is never sent twice.
    pub async fn send<B: Serialize, T: DeserializeOwned>(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&B>,
        on: &mut impl FnMut(Event),
    ) -> Result<Reply<T>, AskError> {
        let url = self.url(path);
        let response = self.request(method, &url, body, on).await?;
        let status = response.status().as_u16();
        let text = response.text().await.map_err(|e| AskError::Unreachable { url: url.clone(), cause: causes(&e) })?;
        let bad = || AskError::BadAnswer { url: url.clone(), status, snippet: text.chars().take(120).collect() };
        match status {
            200..=299 => serde_json::from_str(&text).map(Reply::Done).map_err(|_| bad()),
            400..=499 => serde_json::from_str(&text).map(|error| Reply::Refused { status, error }).map_err(|_| bad()),
            _ => {
                let message = serde_json::from_str::<ErrorBody>(&text).map(|e| e.line()).map_err(|_| bad())?;
                Err(AskError::ServerFailed { url: url.clone(), status, message })
            }
        }
    }

    async fn request<B: Serialize>(
        &self,
        method: reqwest::Method,
        url: &str,
        body: Option<&B>,
        on: &mut impl FnMut(Event),
    ) -> Result<reqwest::Response, AskError> {
        let mut delay = Duration::from_millis(250);
        let mut attempt = 1;
        loop {
            let mut request = self.client.request(method.clone(), url);
            if let Some(token) = &self.token {
                request = request.bearer_auth(token);
            }
            if let Some(body) = body {
                request = request.json(body);
            }
            match request.send().await {
                Ok(r) => return Ok(r),
                Err(e) if e.is_connect() && attempt < self.attempts => {
                    on(Event::Retrying { url: url.to_string(), attempt, of: self.attempts, delay });
                    tokio::time::sleep(delay).await;
                    delay *= 2;
                    attempt += 1;
                }
                Err(e) => return Err(AskError::Unreachable { url: url.to_string(), cause: causes(&e) }),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_base_url_needs_its_scheme() {
        assert_eq!(check_base("https://gate.example/").expect("ok"), "https://gate.example");
        let e = check_base("localhost:8080").expect_err("no scheme").to_string();
        assert!(e.contains("add http://"), "{e}");
        assert!(check_base("").is_err());
    }
}
