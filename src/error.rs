//! The error catalogue: every error deploy-gate reports, over HTTP or in a
//! `validate` line, has one stable code declared here once, with its HTTP
//! status and one line of documentation. `docs/api.md` lists them all (a
//! test keeps the two equal), and the OpenAPI document takes its error
//! responses from here.

use std::fmt;

use serde::Serialize;

use crate::config::Problem;

/// Declares every code once: variant, wire name, HTTP status, documentation.
macro_rules! catalogue {
    ($($variant:ident = $code:literal, $status:literal, $doc:literal;)*) => {
        /// A stable machine code. Only these exist.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum ErrorCode { $($variant),* }

        impl ErrorCode {
            /// Every code, in documentation order.
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant),*];

            pub fn as_str(self) -> &'static str {
                match self { $(ErrorCode::$variant => $code),* }
            }

            /// The HTTP status an answer with this code carries.
            pub fn status(self) -> u16 {
                match self { $(ErrorCode::$variant => $status),* }
            }

            /// What it means and what to do about it.
            pub fn doc(self) -> &'static str {
                match self { $(ErrorCode::$variant => $doc),* }
            }
        }
    };
}

catalogue! {
    // The request itself.
    MissingParameter = "missing_parameter", 400, "A required query parameter or body field is absent; the message shows an example.";
    InvalidParameter = "invalid_parameter", 400, "A query parameter or body field is malformed (a name, a time, a duration, a number); the message says what fits.";
    UnknownParameter = "unknown_parameter", 400, "A query parameter or body field this route does not know, usually a typo; the message suggests the closest known name.";
    InvalidJson = "invalid_json", 400, "The body is not JSON, or not the JSON object this route takes.";
    InvalidQuery = "invalid_query", 400, "The query string cannot be read.";
    InvalidPath = "invalid_path", 400, "A value in the path cannot be read.";
    MalformedRequest = "malformed_request", 400, "The request is not valid HTTP/1.1 (a header, the method or the body's framing cannot be read).";
    InvalidHeader = "invalid_header", 400, "A header cannot be read, e.g. an Idempotency-Key that is not short printable text.";
    TooManyOccurrences = "too_many_occurrences", 400, "The calendar range holds more occurrences than one answer carries; ask for a shorter range or filter.";
    Unauthorized = "unauthorized", 401, "No token, a malformed Authorization header, or a token this gate does not know; send Authorization: Bearer <token>.";
    Forbidden = "forbidden", 403, "The token is known but lacks the role, or the team or environment is outside its scope.";
    RouteNotFound = "route_not_found", 404, "No route has this path.";
    WindowNotFound = "window_not_found", 404, "No window has this id.";
    TeamNotFound = "team_not_found", 404, "No team has this name.";
    OverrideNotFound = "override_not_found", 404, "No override has this id.";
    DeploymentNotFound = "deployment_not_found", 404, "No deployment has this id; GET /deployments lists them.";
    DeploymentNotFinished = "deployment_not_finished", 409, "The deployment has not finished yet: what users saw is known once it has.";
    NoTrafficData = "no_traffic_data", 404, "No traffic source has data for this service (yet); /readyz lists the sources and their last errors.";
    ItemNotFound = "item_not_found", 404, "No scorecard item has this id; GET /scorecard lists them.";
    MethodNotAllowed = "method_not_allowed", 405, "The route exists but not with this HTTP method.";
    WindowExists = "window_exists", 409, "POST /windows with an id that exists; PUT /windows/{id} replaces it.";
    DefinedInConfig = "defined_in_config", 409, "A config file defines this; change it there (in git), not through the API.";
    DeploymentConflict = "deployment_conflict", 409, "A report for a deployment id that is of another team or environment, or that starts again a deployment already finished; a new deployment needs a new id.";
    HealthCheckExists = "health_check_exists", 409, "This team already has a health check on this day (one session a day per team); GET /health-checks?team= shows it.";
    OverrideEnded = "override_ended", 409, "The override already ended (expired or revoked).";
    TooManyOverrides = "too_many_overrides", 409, "As many overrides are in force as the gate allows; revoke one, or wait for one to expire.";
    IdempotencyKeyReused = "idempotency_key_reused", 422, "This Idempotency-Key was used by the same token for a different request; use a new key.";
    PayloadTooLarge = "payload_too_large", 413, "The body is larger than the route accepts.";
    HeaderTooLarge = "header_too_large", 431, "A request header (or all of them together) is too large.";
    TooManyRequests = "too_many_requests", 429, "This client sent too many bad tokens; wait for Retry-After seconds.";
    Internal = "internal", 500, "A fault in deploy-gate itself; the cause is in its log, under the request id.";
    StoreUnavailable = "store_unavailable", 503, "The store could not record or read what this needs (disk full, database down, or busy); nothing was changed. Ask again after Retry-After.";

    // A window, team or settings definition, in a config file (a `validate`
    // line) or an API body (a 422 listing every problem).
    InvalidValue = "invalid_value", 422, "A value is not one of those allowed; the message lists them.";
    InvalidType = "invalid_type", 422, "A value has the wrong type, e.g. a number where text is needed.";
    MissingField = "missing_field", 422, "A required field is absent; the message shows an example.";
    UnknownField = "unknown_field", 422, "A field deploy-gate does not know, usually a typo; the message names the closest known field.";
    InvalidId = "invalid_id", 422, "A window or scorecard item id is not lowercase letters, digits and -, at most 64 characters.";
    DuplicateId = "duplicate_id", 422, "Two windows, teams or tokens share an id or name.";
    InvalidSchedule = "invalid_schedule", 422, "A window has no schedule, two schedule forms, or an end not after its start.";
    InvalidCron = "invalid_cron", 422, "A cron expression cannot be read, never fires, or fires more often than once a minute.";
    InvalidDuration = "invalid_duration", 422, "A duration cannot be read (write 90m, 2h, 1d 12h) or is out of range.";
    InvalidTime = "invalid_time", 422, "A time or date cannot be read (write 2026-12-21T00:00:00, a date, or RFC 3339).";
    UnknownTimezone = "unknown_timezone", 422, "Not an IANA time-zone name; the message suggests the closest ones.";
    InvalidPattern = "invalid_pattern", 422, "A selector is not a list of name patterns (letters, digits, . _ - and the wildcards * ?).";
    InvalidToml = "invalid_toml", 422, "A config file is not valid TOML; the message gives the line and column.";
    MisplacedSettings = "misplaced_settings", 422, "A settings table ([server], [store], [auth], [policy]) stands in more than one file.";
    Unreadable = "unreadable", 422, "A config file or directory cannot be read.";
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for ErrorCode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// An error as the caller sees it: a code from the catalogue, a message a
/// person can act on, and the field to blame. Internal causes go to the log,
/// never to the caller.
#[derive(Debug)]
pub struct Error {
    pub code: ErrorCode,
    pub message: String,
    pub field: Option<String>,
    /// For a definition that fails validation: every problem.
    pub problems: Vec<Problem>,
    /// Seconds to wait before asking again, for 429 and 503.
    pub retry_after: Option<u64>,
    /// What went wrong inside, for the log.
    pub cause: Option<anyhow::Error>,
}

impl Error {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Error {
        Error { code, message: message.into(), field: None, problems: Vec::new(), retry_after: None, cause: None }
    }

    /// An error that blames one field.
    pub fn field(code: ErrorCode, field: &str, message: impl Into<String>) -> Error {
        Error { field: Some(field.to_string()), ..Error::new(code, message) }
    }

    pub fn missing(field: &str, example: &str) -> Error {
        Error::field(ErrorCode::MissingParameter, field, format!("{field} is required, e.g. {field}={example}"))
    }

    pub fn invalid_parameter(field: &str, message: impl Into<String>) -> Error {
        Error::field(ErrorCode::InvalidParameter, field, message)
    }

    /// A definition with problems: the first one sets the code, message and
    /// field; all are listed.
    pub fn invalid(problems: Vec<Problem>) -> Error {
        let first = problems.first();
        let code = first.map_or(ErrorCode::InvalidValue, |p| p.code);
        let message = first.map_or_else(|| "the definition is invalid".to_string(), |p| p.message.clone());
        let field = first.map(Problem::api_field).filter(|f| !f.is_empty());
        Error { code, message, field, problems, retry_after: None, cause: None }
    }

    pub fn not_found(code: ErrorCode, message: impl Into<String>) -> Error {
        Error::new(code, message)
    }

    /// The store failed: nothing was changed; ask again shortly.
    pub fn store(cause: anyhow::Error, what: &str) -> Error {
        Error {
            retry_after: Some(1),
            cause: Some(cause),
            ..Error::new(
                ErrorCode::StoreUnavailable,
                format!("the store could not {what}; nothing was changed, ask again"),
            )
        }
    }

    /// A fault in deploy-gate itself.
    pub fn internal(cause: anyhow::Error) -> Error {
        Error {
            cause: Some(cause),
            ..Error::new(ErrorCode::Internal, "the gate failed to answer; the cause is in its log")
        }
    }

    pub fn status(&self) -> u16 {
        self.code.status()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for Error {}

/// The catalogue as the Markdown table `docs/api.md` carries.
pub fn markdown_table() -> String {
    let mut out = String::from("| code | status | meaning |\n|---|---|---|\n");
    for code in ErrorCode::ALL {
        out.push_str(&format!("| `{}` | {} | {} |\n", code.as_str(), code.status(), code.doc()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// docs/api.md lists exactly the catalogue, between its markers.
    #[test]
    fn the_documented_error_table_is_the_catalogue() {
        let doc = include_str!("../docs/api.md");
        let (start, end) = ("<!-- error codes: begin -->\n", "<!-- error codes: end -->");
        let from = doc.find(start).expect("docs/api.md has the error-code markers") + start.len();
        let to = doc[from..].find(end).expect("end marker") + from;
        let want = markdown_table();
        assert!(doc[from..to] == want, "docs/api.md's error table differs from the catalogue; it should be:\n{want}");
    }

    #[test]
    fn codes_are_unique_snake_case_and_documented() {
        let mut seen = std::collections::HashSet::new();
        for code in ErrorCode::ALL {
            let name = code.as_str();
            assert!(seen.insert(name), "{name} declared twice");
            assert!(name.chars().all(|c| c.is_ascii_lowercase() || c == '_'), "{name}");
            assert!((400..600).contains(&code.status()), "{name}");
            assert!(code.doc().ends_with('.'), "{name}: one documentation line, a sentence");
        }
    }
}
