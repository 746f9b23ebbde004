//! The error catalogue: every status >= 400 renders as
//! `{"error": {"code", "message", "field"}}` with a stable machine code.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use serde_json::json;

use crate::config::Problem;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// A request parameter or body field is missing or malformed.
    #[error("{message}")]
    BadRequest { code: &'static str, message: String, field: Option<String> },
    /// A window or team definition that fails validation, every problem listed.
    #[error("{}", .0.first().map(|p| p.to_string()).unwrap_or_default())]
    Invalid(Vec<Problem>),
    #[error("{message}")]
    NotFound { code: &'static str, message: String },
    #[error("{message}")]
    MethodNotAllowed { message: String },
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    PayloadTooLarge(String),
    #[error("{0}")]
    Unavailable(String),
    #[error("internal error: {0:#}")]
    Internal(#[from] anyhow::Error),
}

impl ApiError {
    pub fn bad(code: &'static str, field: &str, message: impl Into<String>) -> ApiError {
        ApiError::BadRequest { code, message: message.into(), field: Some(field.to_string()) }
    }

    pub fn missing(field: &str, example: &str) -> ApiError {
        ApiError::bad("missing_parameter", field, format!("{field} is required, e.g. {field}={example}"))
    }

    pub fn code(&self) -> &'static str {
        match self {
            ApiError::BadRequest { code, .. } | ApiError::NotFound { code, .. } | ApiError::Conflict { code, .. } => {
                code
            }
            ApiError::Invalid(problems) => problems.first().map_or("invalid", |p| p.code),
            ApiError::MethodNotAllowed { .. } => "method_not_allowed",
            ApiError::Unauthorized(_) => "unauthorized",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::PayloadTooLarge(_) => "payload_too_large",
            ApiError::Unavailable(_) => "unavailable",
            ApiError::Internal(_) => "internal",
        }
    }

    fn field(&self) -> Option<String> {
        match self {
            ApiError::BadRequest { field, .. } => field.clone(),
            ApiError::Invalid(problems) => problems.first().map(Problem::field).filter(|f| !f.is_empty()),
            _ => None,
        }
    }

    fn message(&self) -> String {
        match self {
            ApiError::Invalid(problems) => problems.first().map_or(String::new(), |p| p.message.clone()),
            // Details of internal failures go to the log, not to the caller.
            ApiError::Internal(_) => "the gate failed to answer; the cause is in its log".into(),
            other => other.to_string(),
        }
    }
}

/// An API body's problems name the key in the body (`cron`), not the
/// config-file path (`windows[x].cron`).
fn api_field(p: &Problem) -> String {
    if p.key.is_empty() { p.field() } else { p.key.clone() }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            ApiError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::NotFound { .. } => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Conflict { .. } => StatusCode::CONFLICT,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let ApiError::Internal(e) = self {
            tracing::error!(error = %format!("{e:#}"), "request failed");
        }
        let mut body = json!({"code": self.code(), "message": self.message()});
        if let Some(field) = self.field() {
            body["field"] = json!(field);
        }
        if let ApiError::Invalid(problems) = self {
            body["problems"] =
                problems.iter().map(|p| json!({"code": p.code, "field": api_field(p), "message": p.message})).collect();
        }
        let mut response = HttpResponse::build(self.status_code());
        if matches!(self, ApiError::Unauthorized(_)) {
            response.insert_header((header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer")));
        }
        response.json(json!({ "error": body }))
    }
}

/// Body errors (malformed JSON, wrong types, too large) in the catalogue's shape.
pub fn json_error(err: actix_web::error::JsonPayloadError, _req: &actix_web::HttpRequest) -> actix_web::Error {
    use actix_web::error::JsonPayloadError as E;
    let api = match &err {
        E::OverflowKnownLength { .. } | E::Overflow { .. } => {
            ApiError::PayloadTooLarge("the JSON body is too large; send at most 64 KiB".into())
        }
        E::Deserialize(e) if e.is_data() => {
            ApiError::bad("invalid_json", "body", format!("the JSON body does not fit: {e}"))
        }
        E::Deserialize(e) => ApiError::bad("invalid_json", "body", format!("the body is not valid JSON: {e}")),
        other => ApiError::bad("invalid_json", "body", format!("could not read the JSON body: {other}")),
    };
    api.into()
}

/// Query-string errors in the catalogue's shape.
pub fn query_error(err: actix_web::error::QueryPayloadError, _req: &actix_web::HttpRequest) -> actix_web::Error {
    ApiError::bad("invalid_query", "query", format!("the query string does not fit: {err}")).into()
}

/// Path errors (e.g. a malformed id) in the catalogue's shape.
pub fn path_error(err: actix_web::error::PathError, _req: &actix_web::HttpRequest) -> actix_web::Error {
    ApiError::bad("invalid_path", "path", format!("the path does not fit: {err}")).into()
}
