//! `[health]` (the topics teams vote on and how many voters a session needs)
//! and a team's `[[teams.process]]` steps.

use std::collections::HashSet;

use toml::{Table, Value};

use super::fields::{Fields, Problem};
use super::window::{check_id, parse_duration_text};
use crate::error::ErrorCode;
use crate::health_checks::{Classic, DEFAULT_MIN_VOTES, HealthSettings, Topic};
use crate::process_maps::{ProcessMap, Step, StepKind};

const HEALTH_KEYS: &[&str] = &["min_votes", "topics"];
const TOPIC_KEYS: &[&str] = &["id", "title", "green", "red"];
const STEP_KEYS: &[&str] = &["name", "kind", "typical", "pain"];
/// The longest title, description or pain point.
const MAX_TEXT: usize = 300;
const MAX_TOPICS: usize = 50;
const MAX_STEPS: usize = 50;

/// The `[health]` table of one file.
pub fn health_from_table(table: &Table, file: &str) -> (HealthSettings, Vec<Problem>) {
    let mut f = Fields::new(table, Some(file), "health".into(), HEALTH_KEYS);
    let min_votes = match table.get("min_votes") {
        None => DEFAULT_MIN_VOTES,
        Some(Value::Integer(n)) if (1..=1000).contains(n) => *n as u32,
        Some(Value::Integer(n)) => {
            f.problem("min_votes", ErrorCode::InvalidValue, format!("{n} is out of range; give 1 to 1000"));
            DEFAULT_MIN_VOTES
        }
        Some(other) => {
            f.problem("min_votes", ErrorCode::InvalidType, format!("must be a whole number, not {}", other.type_str()));
            DEFAULT_MIN_VOTES
        }
    };
    let mut problems = Vec::new();
    let topics = match table.get("topics") {
        None => HealthSettings::default().topics,
        Some(Value::Array(list)) => {
            let mut seen = HashSet::new();
            let mut topics = Vec::new();
            if list.is_empty() || list.len() > MAX_TOPICS {
                f.problem(
                    "topics",
                    ErrorCode::InvalidValue,
                    format!("give 1 to {MAX_TOPICS} topics, or none for the ten classic ones"),
                );
            }
            for (i, value) in list.iter().enumerate() {
                let Some(t) = value.as_table() else {
                    f.problem("topics", ErrorCode::InvalidType, "must be [[health.topics]] tables");
                    continue;
                };
                if let Some(id) = t.get("id").and_then(Value::as_str)
                    && !seen.insert(id.to_string())
                {
                    problems.push(Problem::new(
                        Some(file),
                        &format!("health.topics[{id}]"),
                        "id",
                        ErrorCode::DuplicateId,
                        "is already used by another topic; topic ids must be unique",
                    ));
                    continue;
                }
                match topic_from_table(t, file, i) {
                    Ok(topic) => topics.push(topic),
                    Err(mut p) => problems.append(&mut p),
                }
            }
            topics
        }
        Some(_) => {
            f.problem("topics", ErrorCode::InvalidType, "must be [[health.topics]] tables");
            Vec::new()
        }
    };
    let mut all = f.finish();
    all.append(&mut problems);
    (HealthSettings { min_votes, topics }, all)
}

/// One topic; a classic topic's id alone brings its title and descriptions.
fn topic_from_table(table: &Table, file: &str, index: usize) -> Result<Topic, Vec<Problem>> {
    let scope = match table.get("id").and_then(Value::as_str) {
        Some(id) if !id.is_empty() => format!("health.topics[{id}]"),
        _ => format!("health.topics[{index}]"),
    };
    let mut f = Fields::new(table, Some(file), scope, TOPIC_KEYS);
    let id = f.required_string("id", "\"on-call\"").filter(|id| match check_id("a topic id", id) {
        Ok(()) => true,
        Err(message) => {
            f.problem("id", ErrorCode::InvalidId, message);
            false
        }
    });
    let classic = id.and_then(Classic::find);
    let text = |f: &mut Fields, key: &str, example: &str, default: Option<&str>| -> Option<String> {
        let s = match default {
            Some(d) if !f.has(key) => return Some(d.to_string()),
            _ => f.required_string(key, example)?,
        };
        if s.chars().count() > MAX_TEXT {
            f.problem(key, ErrorCode::InvalidValue, format!("is longer than {MAX_TEXT} characters"));
            return None;
        }
        Some(s.to_string())
    };
    let title = text(&mut f, "title", "\"On-call\"", classic.map(|c| c.title));
    let green = text(&mut f, "green", "\"Being on call is calm and well supported\"", classic.map(|c| c.green));
    let red = text(&mut f, "red", "\"On-call burns us out\"", classic.map(|c| c.red));
    let problems = f.finish();
    match (id, title, green, red) {
        (Some(id), Some(title), Some(green), Some(red)) if problems.is_empty() => {
            Ok(Topic { id: id.to_string(), title, green, red })
        }
        _ => Err(problems),
    }
}

/// A team's `[[teams.process]]` steps, in order; `scope` is the team's
/// (`teams[payments]`).
pub fn process_from_value(value: &Value, file: Option<&str>, scope: &str) -> Result<ProcessMap, Vec<Problem>> {
    let wrong = || {
        vec![Problem::new(
            file,
            scope,
            "process",
            ErrorCode::InvalidType,
            "must be [[teams.process]] tables, one per step",
        )]
    };
    let Value::Array(list) = value else {
        return Err(wrong());
    };
    if list.len() > MAX_STEPS {
        return Err(vec![Problem::new(
            file,
            scope,
            "process",
            ErrorCode::InvalidValue,
            format!("has {} steps; a map takes at most {MAX_STEPS}", list.len()),
        )]);
    }
    let mut steps = Vec::new();
    let mut problems = Vec::new();
    for (i, value) in list.iter().enumerate() {
        let Some(table) = value.as_table() else {
            return Err(wrong());
        };
        let mut f = Fields::new(table, file, format!("{scope}.process[{i}]"), STEP_KEYS);
        let name = f.required_string("name", "\"code review\"").and_then(|n| {
            if n.chars().count() > 80 {
                f.problem("name", ErrorCode::InvalidValue, "is longer than 80 characters");
                return None;
            }
            Some(n.to_string())
        });
        let kind = f.required_string("kind", "\"wait\"").and_then(|k| match StepKind::parse(k) {
            Some(kind) => Some(kind),
            None => {
                f.problem("kind", ErrorCode::InvalidValue, format!("`{k}` is not a kind of step; use work or wait"));
                None
            }
        });
        let typical = f.required_string("typical", "\"2d\"").and_then(|t| match parse_duration_text(t) {
            Ok(d) if d.num_seconds() > 0 && d <= chrono::Duration::days(366) => {
                Some((t.to_string(), d.num_seconds() as u64))
            }
            Ok(_) => {
                f.problem(
                    "typical",
                    ErrorCode::InvalidDuration,
                    format!("`{t}` must be more than a second and at most a year"),
                );
                None
            }
            Err(message) => {
                f.problem("typical", ErrorCode::InvalidDuration, message);
                None
            }
        });
        let pain = match f.string("pain") {
            Some(p) if p.chars().count() > MAX_TEXT => {
                f.problem("pain", ErrorCode::InvalidValue, format!("is longer than {MAX_TEXT} characters"));
                None
            }
            Some(p) if !p.trim().is_empty() => Some(p.to_string()),
            _ => None,
        };
        let mut p = f.finish();
        match (name, kind, typical) {
            (Some(name), Some(kind), Some((typical, typical_seconds))) if p.is_empty() => {
                steps.push(Step { name, kind, typical, typical_seconds, pain })
            }
            _ => problems.append(&mut p),
        }
    }
    if problems.is_empty() { Ok(ProcessMap { steps }) } else { Err(problems) }
}
