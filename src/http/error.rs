//! The catalogue's errors as HTTP answers: the status from the code, the
//! body in the one shape, `WWW-Authenticate` and `Retry-After` where they
//! belong, and the code in the response's extensions for the route check.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};

use crate::error::{Error, ErrorCode};
use crate::wire::ErrorBody;

impl ResponseError for Error {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.code.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        if let Some(cause) = &self.cause {
            if self.code == ErrorCode::Internal {
                tracing::error!(error = %format!("{cause:#}"), "request failed");
            } else {
                tracing::warn!(code = %self.code, error = %format!("{cause:#}"), "request refused");
            }
        }
        let mut response = HttpResponse::build(self.status_code());
        if self.code == ErrorCode::Unauthorized {
            response.insert_header((header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer")));
        }
        if let Some(seconds) = self.retry_after {
            response.insert_header((header::RETRY_AFTER, seconds.to_string()));
        }
        let mut response = response.json(ErrorBody::of(self));
        response.extensions_mut().insert(self.code);
        response
    }
}

/// Body errors (malformed JSON, wrong types, too large) in the catalogue's shape.
pub fn json_error(err: actix_web::error::JsonPayloadError, _req: &actix_web::HttpRequest) -> actix_web::Error {
    use actix_web::error::JsonPayloadError as E;
    let e = match &err {
        E::OverflowKnownLength { .. } | E::Overflow { .. } => {
            Error::new(ErrorCode::PayloadTooLarge, "the JSON body is too large; send at most 64 KiB")
        }
        E::Deserialize(e) if e.is_data() => {
            Error::field(ErrorCode::InvalidJson, "body", format!("the JSON body does not fit: {e}"))
        }
        E::Deserialize(e) => Error::field(ErrorCode::InvalidJson, "body", format!("the body is not valid JSON: {e}")),
        other => Error::field(ErrorCode::InvalidJson, "body", format!("could not read the JSON body: {other}")),
    };
    e.into()
}

/// Query-string errors in the catalogue's shape.
pub fn query_error(err: actix_web::error::QueryPayloadError, _req: &actix_web::HttpRequest) -> actix_web::Error {
    Error::field(ErrorCode::InvalidQuery, "query", format!("the query string does not fit: {err}")).into()
}

/// Path errors (e.g. a malformed id) in the catalogue's shape.
pub fn path_error(err: actix_web::error::PathError, _req: &actix_web::HttpRequest) -> actix_web::Error {
    Error::field(ErrorCode::InvalidPath, "path", format!("the path does not fit: {err}")).into()
}
