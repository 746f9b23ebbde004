//! The `[scorecard]` table (its items, how unassessed cells count) and the
//! cells a team sets, in a config file or an API body.

use std::collections::HashSet;
use std::sync::Arc;

use toml::{Table, Value};

use super::fields::{Fields, Problem, did_you_mean};
use super::team::date;
use super::window::check_id;
use crate::error::ErrorCode;
use crate::policy::{CellSpec, Item, Pattern, Scorecard, Status, Unassessed};

const SCORECARD_KEYS: &[&str] = &["unassessed", "items"];
const ITEM_KEYS: &[&str] = &["id", "title", "why", "gates"];
pub const CELL_KEYS: &[&str] = &["status", "plan", "plan_due", "note"];

/// The longest free text a cell or item holds.
const MAX_TEXT: usize = 1000;

/// The `[scorecard]` table of one file.
pub fn scorecard_from_table(table: &Table, file: &str) -> (Scorecard, Vec<Problem>) {
    let mut f = Fields::new(table, Some(file), "scorecard".into(), SCORECARD_KEYS);
    let unassessed = match f.string("unassessed") {
        None => Unassessed::Ignore,
        Some(s) => Unassessed::parse(s).unwrap_or_else(|| {
            f.problem("unassessed", ErrorCode::InvalidValue, format!("`{s}` is not a choice; use ignore or red"));
            Unassessed::Ignore
        }),
    };
    let mut items = Vec::new();
    let mut problems = Vec::new();
    match table.get("items") {
        None => {}
        Some(Value::Array(list)) => {
            let mut seen = HashSet::new();
            for (i, value) in list.iter().enumerate() {
                let Some(t) = value.as_table() else {
                    f.problem("items", ErrorCode::InvalidType, "must be [[scorecard.items]] tables");
                    continue;
                };
                // Ids as written, valid or not, so a repeat is named either way.
                if let Some(id) = t.get("id").and_then(Value::as_str)
                    && !seen.insert(id.to_string())
                {
                    problems.push(Problem::new(
                        Some(file),
                        &format!("scorecard.items[{id}]"),
                        "id",
                        ErrorCode::DuplicateId,
                        "is already used by another item; item ids must be unique",
                    ));
                    continue;
                }
                match item_from_table(t, file, i) {
                    Ok(item) => items.push(Arc::new(item)),
                    Err(mut p) => problems.append(&mut p),
                }
            }
        }
        Some(_) => f.problem("items", ErrorCode::InvalidType, "must be [[scorecard.items]] tables"),
    }
    let mut all = f.finish();
    all.append(&mut problems);
    (Scorecard { items, unassessed }, all)
}

fn item_from_table(table: &Table, file: &str, index: usize) -> Result<Item, Vec<Problem>> {
    let scope = match table.get("id").and_then(Value::as_str) {
        Some(id) if !id.is_empty() => format!("scorecard.items[{id}]"),
        _ => format!("scorecard.items[{index}]"),
    };
    let mut f = Fields::new(table, Some(file), scope, ITEM_KEYS);
    let id = f.required_string("id", "\"rollback\"").filter(|id| match check_id("an item id", id) {
        Ok(()) => true,
        Err(message) => {
            f.problem("id", ErrorCode::InvalidId, message);
            false
        }
    });
    let title = f.required_string("title", "\"Rollback in one step\"").map(str::to_string);
    let why = text(&mut f, "why");
    // Absent: every environment; []: shown only, gates nowhere.
    let gates = if f.has("gates") { f.patterns("gates").map(Some) } else { Some(None) };
    let problems = f.finish();
    match (id, title, gates) {
        (Some(id), Some(title), Some(gates)) if problems.is_empty() => Ok(Item {
            id: id.to_string(),
            title,
            why,
            gates: gates.map(|list| list.iter().map(|p| Pattern::new(p)).collect()),
        }),
        _ => Err(problems),
    }
}

/// Free text of at most `MAX_TEXT` characters.
fn text(f: &mut Fields, key: &str) -> Option<String> {
    let s = f.string(key)?;
    if s.chars().count() > MAX_TEXT {
        f.problem(key, ErrorCode::InvalidValue, format!("is longer than {MAX_TEXT} characters"));
        return None;
    }
    Some(s.to_string())
}

/// One cell: `[teams.scorecard.rollback]` in a file (scope
/// `teams[payments].scorecard.rollback`), or an API body (scope empty).
pub fn cell_from_table(table: &Table, file: Option<&str>, scope: String) -> Result<CellSpec, Vec<Problem>> {
    let mut f = Fields::new(table, file, scope, CELL_KEYS);
    let status = f.required_string("status", "\"yellow\"").and_then(|s| match Status::parse(s) {
        Some(status) => Some(status),
        None => {
            f.problem("status", ErrorCode::InvalidValue, format!("`{s}` is not a status; use green, yellow or red"));
            None
        }
    });
    let plan = text(&mut f, "plan").filter(|p| !p.trim().is_empty());
    let plan_due = date(&mut f, "plan_due");
    let note = text(&mut f, "note");
    if status == Some(Status::Yellow) {
        require_plan(&mut f, plan.is_some(), "a yellow cell");
    }
    let problems = f.finish();
    match (status, plan_due) {
        (Some(status), Some(plan_due)) if problems.is_empty() => {
            Ok(CellSpec { status, plan, plan_due, note, updated_at: None, updated_by: None })
        }
        _ => Err(problems),
    }
}

/// Yellow means a plan in progress: its link and due date are required.
pub fn require_plan(f: &mut Fields, has_plan: bool, what: &str) {
    if !has_plan {
        f.problem(
            "plan",
            ErrorCode::MissingField,
            format!("is required for {what}: a link to the plan, e.g. plan = \"https://tracker.example/PAY-12\""),
        );
    }
    if !f.has("plan_due") {
        f.problem(
            "plan_due",
            ErrorCode::MissingField,
            format!("is required for {what}: the plan's due date, e.g. plan_due = \"2026-12-31\""),
        );
    }
}

/// A team's `[teams.scorecard.*]` tables, checked for shape only (the items
/// may stand in another file: `unknown_items` checks them once all are read).
pub fn cells_of_team(value: &Value, file: Option<&str>, scope: &str) -> Result<Vec<(String, CellSpec)>, Vec<Problem>> {
    let Value::Table(cells) = value else {
        return Err(vec![Problem::new(
            file,
            scope,
            "scorecard",
            ErrorCode::InvalidType,
            "must be tables such as [teams.scorecard.rollback]",
        )]);
    };
    let mut out = Vec::new();
    let mut problems = Vec::new();
    for (item, cell) in cells {
        let cell_scope = format!("{scope}.scorecard.{item}");
        match cell.as_table() {
            Some(t) => match cell_from_table(t, file, cell_scope) {
                Ok(spec) => out.push((item.clone(), spec)),
                Err(mut p) => problems.append(&mut p),
            },
            None => problems.push(Problem::new(
                file,
                &format!("{scope}.scorecard"),
                item,
                ErrorCode::InvalidType,
                format!("must be a table: [teams.scorecard.{item}] with status, plan, plan_due, note"),
            )),
        }
    }
    if problems.is_empty() { Ok(out) } else { Err(problems) }
}

/// A cell for an item no `[[scorecard.items]]` defines: each (file, team,
/// item) written.
pub fn unknown_items(cells: &[(String, String, String)], scorecard: Option<&Table>) -> Vec<Problem> {
    // Every id written, valid or not: an invalid item has its own problem.
    let known: Vec<&str> = match scorecard.and_then(|t| t.get("items")) {
        Some(Value::Array(items)) => items.iter().filter_map(|i| i.get("id")?.as_str()).collect(),
        _ => Vec::new(),
    };
    let mut problems = Vec::new();
    for (file, team, item) in cells.iter().filter(|(_, _, item)| !known.contains(&item.as_str())) {
        let message = match did_you_mean(item, &known) {
            Some(k) => format!("no risk item `{item}`; did you mean `{k}`?"),
            None if known.is_empty() => format!("no risk item `{item}`: no [[scorecard.items]] table defines any"),
            None => format!("no risk item `{item}`; the items are {}", known.join(", ")),
        };
        let scope = format!("teams[{team}].scorecard");
        problems.push(Problem::new(Some(file), &scope, item, ErrorCode::UnknownField, message));
    }
    problems
}
