//! A `[[teams]]` table (or an API body) into a `Team`.

use chrono::NaiveDate;
use toml::Table;

use super::fields::{Fields, Problem};
use crate::error::ErrorCode;
use crate::policy::{Name, Source, Status, Team, TeamSpec};

const TEAM_KEYS: &[&str] = &["name", "status", "plan", "plan_due", "timezone"];

pub fn team_from_table(table: &Table, file: Option<&str>, index: usize, source: Source) -> Result<Team, Vec<Problem>> {
    let scope = match table.get("name").and_then(|v| v.as_str()) {
        Some(name) if !name.is_empty() => format!("teams[{name}]"),
        _ => format!("teams[{index}]"),
    };
    let mut f = Fields::new(table, file, scope, TEAM_KEYS);
    let name = f.required_string("name", "\"payments\"").and_then(|n| match Name::parse("team name", n) {
        Ok(name) => Some(name),
        Err(message) => {
            f.problem("name", ErrorCode::InvalidValue, message);
            None
        }
    });
    let status = f.required_string("status", "\"green\"").and_then(|s| match Status::parse(s) {
        Some(status) => Some(status),
        None => {
            f.problem("status", ErrorCode::InvalidValue, format!("`{s}` is not a status; use green, yellow or red"));
            None
        }
    });
    let plan = f.string("plan").map(str::to_string);
    let plan_due = plan_due(&mut f);
    let zone = f.zone();
    if status == Some(Status::Yellow) {
        if plan.as_deref().is_none_or(|p| p.trim().is_empty()) {
            f.problem(
                "plan",
                ErrorCode::MissingField,
                "is required for a yellow team: a link to the plan, e.g. plan = \"https://tracker.example/PAY-12\"",
            );
        }
        if !f.has("plan_due") {
            f.problem(
                "plan_due",
                ErrorCode::MissingField,
                "is required for a yellow team: the plan's due date, e.g. plan_due = \"2026-12-31\"",
            );
        }
    }
    let problems = f.finish();
    match (name, status, zone, plan_due) {
        (Some(name), Some(status), Some(zone), Some(plan_due)) if problems.is_empty() => {
            let spec = TeamSpec { name: name.to_string(), status, plan, plan_due, timezone: zone.name().to_string() };
            Ok(Team::new(name, spec, zone, source, file.map(str::to_string)))
        }
        _ => Err(problems),
    }
}

/// `Some(None)` when absent, `None` when invalid.
fn plan_due(f: &mut Fields) -> Option<Option<NaiveDate>> {
    if !f.has("plan_due") {
        return Some(None);
    }
    let text = f.time_text("plan_due")?;
    match NaiveDate::parse_from_str(&text, "%Y-%m-%d") {
        Ok(d) => Some(Some(d)),
        Err(_) => {
            f.problem("plan_due", ErrorCode::InvalidTime, format!("`{text}` is not a date; write e.g. 2026-12-31"));
            None
        }
    }
}
