//! Reads a TOML table field by field and collects every problem, so that one
//! run of `validate` names all of them instead of stopping at the first.

use std::fmt;

use toml::{Table, Value};

use crate::error::ErrorCode;

/// One thing wrong with a config file or an API body, located precisely.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// The file (or "environment") it came from; none for API bodies.
    pub file: Option<String>,
    /// The table it is in, e.g. `windows[friday-evening]`; empty at top level.
    pub scope: String,
    /// The key to blame, e.g. `cron`; empty when the scope itself is to blame.
    pub key: String,
    /// A stable machine code from the catalogue, e.g. `invalid_cron`.
    pub code: ErrorCode,
    pub message: String,
    /// The line in the file, where the file gives one.
    pub line: Option<usize>,
}

impl Problem {
    pub fn new(file: Option<&str>, scope: &str, key: &str, code: ErrorCode, message: impl Into<String>) -> Problem {
        Problem {
            file: file.map(str::to_string),
            scope: scope.to_string(),
            key: key.to_string(),
            code,
            message: message.into(),
            line: None,
        }
    }

    /// A reload that could not even read the files.
    pub fn reload_failed(cause: &str) -> Problem {
        Problem::new(None, "", "", ErrorCode::Unreadable, format!("the reload failed: {cause}"))
    }

    /// `windows[friday-evening].cron`, `windows[friday-evening]` or `cron`.
    pub fn field(&self) -> String {
        match (self.scope.is_empty(), self.key.is_empty()) {
            (true, _) => self.key.clone(),
            (false, true) => self.scope.clone(),
            (false, false) => format!("{}.{}", self.scope, self.key),
        }
    }

    /// The field as an API body names it: the key in the body (`cron`), not
    /// the config-file path (`windows[x].cron`).
    pub fn api_field(&self) -> String {
        if self.key.is_empty() { self.field() } else { self.key.clone() }
    }
}

impl fmt::Display for Problem {
    /// `file: windows[id].field: message`, as `validate` prints it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(file) = &self.file {
            write!(f, "{file}: ")?;
        }
        let field = self.field();
        if !field.is_empty() {
            write!(f, "{field}: ")?;
        }
        f.write_str(&self.message)?;
        if let Some(line) = self.line {
            write!(f, " (line {line})")?;
        }
        Ok(())
    }
}

/// The closest of `known` to `unknown`, when it is close enough to be a typo.
pub fn did_you_mean<'k>(unknown: &str, known: &[&'k str]) -> Option<&'k str> {
    known
        .iter()
        .map(|k| (strsim::jaro_winkler(unknown, k), *k))
        .filter(|(score, k)| *score >= 0.8 || strsim::levenshtein(unknown, k) <= 2)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, k)| k)
}

pub struct Fields<'a> {
    table: &'a Table,
    file: Option<&'a str>,
    scope: String,
    known: &'static [&'static str],
    problems: Vec<Problem>,
}

impl<'a> Fields<'a> {
    pub fn new(table: &'a Table, file: Option<&'a str>, scope: String, known: &'static [&'static str]) -> Self {
        Fields { table, file, scope, known, problems: Vec::new() }
    }

    pub fn problem(&mut self, key: &str, code: ErrorCode, message: impl Into<String>) {
        self.problems.push(Problem::new(self.file, &self.scope, key, code, message));
    }

    /// The table this reads, e.g. `teams[payments]`.
    pub fn scope(&self) -> &str {
        &self.scope
    }

    /// Problems found elsewhere, in this table's list.
    pub fn append(&mut self, problems: &mut Vec<Problem>) {
        self.problems.append(problems);
    }

    pub fn has(&self, key: &str) -> bool {
        self.table.contains_key(key)
    }

    fn wrong_type(&mut self, key: &str, want: &str, got: &Value) {
        self.problem(key, ErrorCode::InvalidType, format!("must be {want}, not {}", got.type_str()));
    }

    /// A string on one line of printable text: control characters (a line
    /// break, an escape) would forge log lines and garble pages.
    pub fn string(&mut self, key: &str) -> Option<&'a str> {
        match self.table.get(key)? {
            Value::String(s) if s.chars().any(char::is_control) => {
                self.problem(
                    key,
                    ErrorCode::InvalidValue,
                    "must be one line of printable text, with no control characters",
                );
                None
            }
            Value::String(s) => Some(s.as_str()),
            other => {
                self.wrong_type(key, "a string", other);
                None
            }
        }
    }

    pub fn required_string(&mut self, key: &str, example: &str) -> Option<&'a str> {
        if !self.has(key) {
            self.problem(key, ErrorCode::MissingField, format!("is required, e.g. {key} = {example}"));
            return None;
        }
        let s = self.string(key)?;
        if s.trim().is_empty() {
            self.problem(key, ErrorCode::InvalidValue, format!("is empty, e.g. {key} = {example}"));
            return None;
        }
        Some(s)
    }

    pub fn strings(&mut self, key: &str) -> Option<Vec<String>> {
        let value = self.table.get(key)?;
        let Value::Array(items) = value else {
            self.wrong_type(key, "a list of strings, e.g. [\"production\"]", value);
            return None;
        };
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            match item {
                Value::String(s) => out.push(s.clone()),
                other => {
                    self.wrong_type(key, "a list of strings", other);
                    return None;
                }
            }
        }
        Some(out)
    }

    /// A list of name patterns (`prod*`, `eu-?`), each checked.
    pub fn patterns(&mut self, key: &str) -> Option<Vec<String>> {
        let list = self.strings(key)?;
        for p in &list {
            let ok = !p.is_empty()
                && p.len() <= 64
                && p.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '*' | '?'));
            if !ok {
                self.problem(
                    key,
                    ErrorCode::InvalidPattern,
                    format!(
                        "`{}` is not a name pattern; use letters, digits, `.`, `_`, `-`, and `*` or `?` as wildcards",
                        p.escape_debug()
                    ),
                );
                return None;
            }
        }
        Some(list)
    }

    pub fn boolean(&mut self, key: &str) -> Option<bool> {
        match self.table.get(key)? {
            Value::Boolean(b) => Some(*b),
            other => {
                self.wrong_type(key, "true or false", other);
                None
            }
        }
    }

    /// `timezone`: an IANA name, UTC when absent.
    pub fn zone(&mut self) -> Option<crate::schedule::Zone> {
        let name = self.string("timezone").unwrap_or("UTC");
        match crate::schedule::Zone::parse(name) {
            Ok(z) => Some(z),
            Err(e) => {
                self.problem("timezone", ErrorCode::UnknownTimezone, e.to_string());
                None
            }
        }
    }

    /// A string, or a TOML date/time literal given as text.
    pub fn time_text(&mut self, key: &str) -> Option<String> {
        match self.table.get(key)? {
            Value::String(s) => Some(s.clone()),
            Value::Datetime(d) => Some(d.to_string()),
            other => {
                self.wrong_type(key, "a date-time string", other);
                None
            }
        }
    }

    /// The keys this table does not know.
    pub fn unknown_keys(&self) -> Vec<String> {
        self.table.keys().filter(|k| !self.known.contains(&k.as_str())).cloned().collect()
    }

    /// Every problem found, plus one per unknown key (with the likely typo).
    pub fn finish(mut self) -> Vec<Problem> {
        let unknown = self.unknown_keys();
        for key in unknown {
            let message = match did_you_mean(&key, self.known) {
                Some(k) => format!("unknown field; did you mean `{k}`?"),
                None => format!("unknown field; known fields are {}", self.known.join(", ")),
            };
            self.problem(&key, ErrorCode::UnknownField, message);
        }
        self.problems
    }
}
