//! What is being deployed: team, optional service, environment.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A team, service or environment name: letters, digits, `.`, `_`, `-`,
/// starting with a letter or digit, at most 64 characters. Names are
/// case-insensitive: `Production` is `production`, kept in lower case.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(try_from = "String", into = "String")]
pub struct Name(String);

impl TryFrom<String> for Name {
    type Error = String;

    fn try_from(text: String) -> Result<Name, String> {
        Name::parse("name", &text)
    }
}

impl From<Name> for String {
    fn from(name: Name) -> String {
        name.0
    }
}

impl Name {
    /// `what` names the field in the error ("team", "environment", ...).
    pub fn parse(what: &str, text: &str) -> Result<Name, String> {
        if text.is_empty() {
            return Err(format!("{what} is empty; give a name such as `payments`"));
        }
        if text.len() > 64 {
            let start: String = text.chars().take(16).collect();
            return Err(format!("{what} `{start}...` is longer than 64 characters"));
        }
        let mut chars = text.chars();
        let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphanumeric());
        let rest_ok = chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
        if !first_ok || !rest_ok {
            return Err(format!(
                "{what} `{}` may hold only letters, digits, `.`, `_` and `-`, and must start with a letter or digit",
                text.escape_debug()
            ));
        }
        Ok(Name(text.to_ascii_lowercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What a deploy touches. No service means the team's whole surface, so every
/// service-scoped window of the team applies to it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Target {
    pub team: Name,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<Name>,
    pub environment: Name,
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.service {
            Some(s) => write!(f, "{}/{} in {}", self.team, s, self.environment),
            None => write!(f, "{} in {}", self.team, self.environment),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_accept_plain_words_and_refuse_the_rest() {
        for ok in ["payments", "eu-prod", "svc_1", "a.b", "X9"] {
            assert!(Name::parse("team", ok).is_ok(), "{ok}");
        }
        assert_eq!(Name::parse("team", "Checkout-API").expect("name").as_str(), "checkout-api");
        for bad in ["", "-lead", "pay ments", "a/b", "prod;rm", "é", &"x".repeat(65), &"é".repeat(40)] {
            assert!(Name::parse("team", bad).is_err(), "{bad}");
        }
    }
}
