//! A `[[teams]]` table (or an API body) into a `Team`.

use chrono::NaiveDate;
use toml::Table;

use super::fields::{Fields, Problem};
use crate::error::ErrorCode;
use std::sync::Arc;

use super::scorecard::{cells_of_team, require_plan};
use crate::policy::{Cell, Name, Source, Status, Team, TeamSpec};

const TEAM_KEYS: &[&str] = &["name", "status", "plan", "plan_due", "timezone", "scorecard", "process"];

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
    // Optional: a team may leave its colour to the scorecard.
    let status = match f.string("status") {
        None => Some(None),
        Some(s) => match Status::parse(s) {
            Some(status) => Some(Some(status)),
            None => {
                f.problem(
                    "status",
                    ErrorCode::InvalidValue,
                    format!("`{s}` is not a status; use green, yellow or red"),
                );
                None
            }
        },
    };
    let plan = f.string("plan").map(str::to_string).filter(|p| !p.trim().is_empty());
    let plan_due = date(&mut f, "plan_due");
    let zone = f.zone();
    if status == Some(Some(Status::Yellow)) {
        require_plan(&mut f, plan.is_some(), "a yellow team");
    }
    let cells = match (table.get("scorecard"), source) {
        (None, _) => Some(Vec::new()),
        (Some(_), Source::Api) => {
            f.problem(
                "scorecard",
                ErrorCode::UnknownField,
                "scorecard cells are set one at a time, with PUT /teams/{name}/scorecard/{item}",
            );
            None
        }
        (Some(value), Source::Config) => match cells_of_team(value, file, f.scope()) {
            Ok(cells) => Some(cells),
            Err(mut p) => {
                f.append(&mut p);
                None
            }
        },
    };
    // A config team's steps are read with its file (`[[teams.process]]`).
    if table.contains_key("process") && source == Source::Api {
        f.problem(
            "process",
            ErrorCode::UnknownField,
            "process maps are kept in the config files, as [[teams.process]] steps",
        );
    }
    let problems = f.finish();
    match (name, status, zone, plan_due, cells) {
        (Some(name), Some(status), Some(zone), Some(plan_due), Some(cells)) if problems.is_empty() => {
            let spec = TeamSpec { name: name.to_string(), status, plan, plan_due, timezone: zone.name().to_string() };
            let mut team = Team::new(name, spec, zone, source, file.map(str::to_string));
            team.cells = cells
                .into_iter()
                .map(|(item, spec)| (Arc::from(item), Arc::new(Cell { spec, source: Source::Config })))
                .collect();
            Ok(team)
        }
        _ => Err(problems),
    }
}

/// A date such as `2026-12-31`: `Some(None)` when absent, `None` when invalid.
pub fn date(f: &mut Fields, key: &str) -> Option<Option<NaiveDate>> {
    if !f.has(key) {
        return Some(None);
    }
    let text = f.time_text(key)?;
    match NaiveDate::parse_from_str(&text, "%Y-%m-%d") {
        Ok(d) if (1970..=9999).contains(&chrono::Datelike::year(&d)) => Some(Some(d)),
        Ok(_) => {
            f.problem(key, ErrorCode::InvalidTime, format!("`{text}` is out of range; give a date from 1970 to 9999"));
            None
        }
        Err(_) => {
            f.problem(key, ErrorCode::InvalidTime, format!("`{text}` is not a date; write e.g. 2026-12-31"));
            None
        }
    }
}
