//! Which targets a window applies to: glob patterns (`*` and `?`) per
//! dimension, AND across dimensions, OR within a list.

use serde::Serialize;

/// One glob pattern, compiled once.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pattern {
    text: String,
    literal: bool,
}

impl Pattern {
    /// Names are case-insensitive, so patterns are kept in lower case.
    pub fn new(text: &str) -> Pattern {
        Pattern { text: text.to_ascii_lowercase(), literal: !text.contains(['*', '?']) }
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// A literal name, not a pattern.
    pub fn literal(&self) -> Option<&str> {
        self.literal.then_some(self.text.as_str())
    }

    pub fn matches(&self, name: &str) -> bool {
        if self.literal {
            return self.text == name;
        }
        glob_match(self.text.as_bytes(), name.as_bytes())
    }
}

impl Serialize for Pattern {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

/// Iterative wildcard match with single backtracking point: linear enough
/// for names of at most 64 characters.
fn glob_match(pattern: &[u8], name: &[u8]) -> bool {
    let (mut p, mut n) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while n < name.len() {
        match pattern.get(p) {
            Some(b'*') => {
                star = Some((p, n));
                p += 1;
            }
            Some(b'?') => {
                p += 1;
                n += 1;
            }
            Some(c) if *c == name[n] => {
                p += 1;
                n += 1;
            }
            _ => match star {
                Some((sp, sn)) => {
                    p = sp + 1;
                    n = sn + 1;
                    star = Some((sp, sn + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|c| *c == b'*')
}

/// A list of patterns; `None` (absent in config) matches everything.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Selector(Option<Vec<Pattern>>);

impl Selector {
    pub fn any() -> Selector {
        Selector(None)
    }

    pub fn of(patterns: &[String]) -> Selector {
        Selector(Some(patterns.iter().map(|p| Pattern::new(p)).collect()))
    }

    pub fn matches(&self, name: &str) -> bool {
        match &self.0 {
            None => true,
            Some(list) => list.iter().any(|p| p.matches(name)),
        }
    }

    /// The literal names, when the selector has only literals.
    pub fn literals(&self) -> Option<Vec<&str>> {
        self.0.as_ref()?.iter().map(Pattern::literal).collect()
    }

    pub fn patterns(&self) -> Option<&[Pattern]> {
        self.0.as_deref()
    }

    /// Absent: matches everything.
    pub fn is_any(&self) -> bool {
        self.0.is_none()
    }

    /// The patterns as written, joined for people: "web-*, checkout".
    pub fn text(&self) -> Option<String> {
        self.0.as_ref().map(|l| l.iter().map(Pattern::as_str).collect::<Vec<_>>().join(", "))
    }
}

impl Serialize for Selector {
    /// The list of patterns as written; absent is `null`.
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match &self.0 {
            None => s.serialize_none(),
            Some(list) => s.collect_seq(list),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn star_and_question_mark() {
        let cases = [
            ("*", "anything", true),
            ("pay*", "payments", true),
            ("pay*", "search", false),
            ("*-prod", "eu-prod", true),
            ("*-prod", "eu-prod-2", false),
            ("prod-?", "prod-1", true),
            ("prod-?", "prod-12", false),
            ("a*b*c", "aXbYc", true),
            ("a*b*c", "aXbY", false),
            ("**", "", true),
            ("?", "", false),
        ];
        for (pattern, name, want) in cases {
            assert_eq!(Pattern::new(pattern).matches(name), want, "{pattern} vs {name}");
        }
    }

    #[test]
    fn absent_selector_matches_all_and_lists_or() {
        assert!(Selector::any().matches("x"));
        let s = Selector::of(&["api".into(), "web-*".into()]);
        assert!(s.matches("api") && s.matches("web-eu") && !s.matches("worker"));
        assert_eq!(s.literals(), None);
        assert_eq!(Selector::of(&["a".into()]).literals(), Some(vec!["a"]));
    }
}
