//! Query strings and JSON bodies read strictly: a parameter or field the
//! route does not know (usually a typo, `expected_duraton=2h`) is refused
//! with the closest known name, instead of being dropped while a decision
//! is made without it.

use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::config::did_you_mean;
use crate::error::{Error, ErrorCode};
pub use crate::wire::Known;

/// Refuse the first name not in `known`.
pub fn check_names<'n>(names: impl IntoIterator<Item = &'n str>, known: &[&str], what: &str) -> Result<(), Error> {
    for name in names {
        if known.contains(&name) {
            continue;
        }
        let shown = name.escape_debug().to_string();
        let hint = match did_you_mean(name, known) {
            Some(k) => format!("did you mean `{k}`?"),
            None => format!("known ones are {}", known.join(", ")),
        };
        return Err(Error::field(ErrorCode::UnknownParameter, name, format!("unknown {what} `{shown}`; {hint}")));
    }
    Ok(())
}

/// A query string with only known parameters, read into `T`.
pub struct Query<T>(pub T);

impl<T> Query<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> std::ops::Deref for Query<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: DeserializeOwned + Known> FromRequest for Query<T> {
    type Error = Error;
    type Future = Ready<Result<Self, Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(query(req.query_string()).map(Query))
    }
}

fn query<T: DeserializeOwned + Known>(text: &str) -> Result<T, Error> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(text)
        .map_err(|e| Error::field(ErrorCode::InvalidQuery, "query", format!("the query string cannot be read: {e}")))?;
    check_names(pairs.iter().map(|(k, _)| k.as_str()), T::FIELDS, "parameter")?;
    if let Some((name, _)) = pairs
        .iter()
        .enumerate()
        .find_map(|(i, (k, _))| pairs[..i].iter().any(|(earlier, _)| earlier == k).then_some((k, i)))
    {
        return Err(Error::invalid_parameter(name, format!("`{name}` is given more than once; give it once")));
    }
    serde_urlencoded::from_str(text)
        .map_err(|e| Error::field(ErrorCode::InvalidQuery, "query", format!("the query string does not fit: {e}")))
}

/// A JSON body with only known fields, read into `T`.
pub fn body<T: DeserializeOwned + Known>(value: Value) -> Result<T, Error> {
    let Value::Object(map) = &value else {
        return Err(Error::field(ErrorCode::InvalidJson, "body", "the body must be a JSON object"));
    };
    check_names(map.keys().map(String::as_str), T::FIELDS, "field")?;
    serde_json::from_value(value)
        .map_err(|e| Error::field(ErrorCode::InvalidJson, "body", format!("the JSON body does not fit: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_typo_is_named_with_the_closest_known_name() {
        let e = check_names(["expected_duraton"], &["team", "expected_duration"], "parameter").expect_err("typo");
        assert_eq!(e.code, ErrorCode::UnknownParameter);
        assert_eq!(e.field.as_deref(), Some("expected_duraton"));
        assert!(e.message.contains("did you mean `expected_duration`?"), "{}", e.message);
        assert!(check_names(["team"], &["team"], "parameter").is_ok());
    }
}
