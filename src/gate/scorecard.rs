//! The team scorecard: the matrix teams x items as the API and the page show
//! it, a cell changed through the API (validated, refused where a config
//! file sets it, stored with its audit record), and its history.

use std::collections::HashMap;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::Serialize;
use serde_json::Value;

use super::{Caller, Gate, Live, team_not_found};
use crate::config::{Role, cell_from_table, table_from_json};
use crate::error::{Error, ErrorCode};
use crate::policy::{Cell, CellSpec, CellStatus, Item, Placed, Source, Status, Unassessed, due_instant};
use crate::schedule::Zone;
use crate::store::{AuditFilter, DefinitionKind, Definitions};

/// A yellow cell whose plan falls due within this is flagged "due soon".
pub const DUE_SOON: Duration = Duration::days(7);
/// How far back `GET /scorecard/history` reaches at most.
pub const HISTORY_DAYS_MAX: i64 = 366;
/// How far back it reaches when `since` is not given.
pub const HISTORY_DAYS_DEFAULT: i64 = 90;
/// Changes read for one history, at most.
const HISTORY_CHANGES_MAX: i64 = 100_000;

pub fn item_not_found(id: &str) -> Error {
    Error::new(
        ErrorCode::ItemNotFound,
        format!("no scorecard item has id `{}`; GET /scorecard lists them", id.escape_debug()),
    )
}

/// One cell as shown.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct CellView {
    /// As written; `unassessed` when never set.
    pub status: CellStatus,
    /// What it counts as now: an overdue yellow is `red`; an unassessed cell
    /// is `red` under `[scorecard] unassessed = "red"`.
    pub effective: CellStatus,
    pub overdue: bool,
    /// A yellow cell whose plan falls due within 7 days.
    pub due_soon: bool,
    pub plan: Option<String>,
    pub plan_due: Option<NaiveDate>,
    pub note: Option<String>,
    pub updated_at: Option<DateTime<Utc>>,
    pub updated_by: Option<String>,
    /// `config` or `api`; `null` when never set.
    pub source: Option<Source>,
}

impl CellView {
    pub fn of(placed: Option<&Placed>, unassessed: Unassessed, t: DateTime<Utc>) -> CellView {
        let Some(p) = placed else {
            let effective = match unassessed {
                Unassessed::Red => CellStatus::Red,
                Unassessed::Ignore => CellStatus::Unassessed,
            };
            return CellView {
                status: CellStatus::Unassessed,
                effective,
                overdue: false,
                due_soon: false,
                plan: None,
                plan_due: None,
                note: None,
                updated_at: None,
                updated_by: None,
                source: None,
            };
        };
        let spec = &p.cell.spec;
        CellView {
            status: spec.status.into(),
            effective: p.effective(t).into(),
            overdue: p.overdue(t),
            due_soon: p.due_soon(t, DUE_SOON),
            plan: spec.plan.clone(),
            plan_due: spec.plan_due,
            note: spec.note.clone(),
            updated_at: spec.updated_at,
            updated_by: spec.updated_by.clone(),
            source: Some(p.cell.source),
        }
    }
}

/// One team's row.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct TeamRow {
    pub name: String,
    /// The worst the team counts as in any environment: its manual colour
    /// and every item that gates somewhere.
    pub status: Status,
    /// The colour set on the team itself, if any.
    pub manual_status: Option<Status>,
    /// By item id.
    #[schema(value_type = Object)]
    pub cells: std::collections::BTreeMap<String, CellView>,
}

/// How many cells show each colour.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Counts {
    pub green: usize,
    pub yellow: usize,
    pub red: usize,
    pub unassessed: usize,
}

impl Counts {
    fn add(&mut self, s: CellStatus) {
        match s {
            CellStatus::Green => self.green += 1,
            CellStatus::Yellow => self.yellow += 1,
            CellStatus::Red => self.red += 1,
            CellStatus::Unassessed => self.unassessed += 1,
        }
    }
}

/// `GET /scorecard`.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct ScorecardView {
    pub items: Vec<Item>,
    pub unassessed: Unassessed,
    pub teams: Vec<TeamRow>,
    /// Every cell by its effective colour.
    pub counts: Counts,
    pub evaluated_at: DateTime<Utc>,
}

/// The matrix at `t`, teams sorted by name.
pub fn scorecard(live: &Live, t: DateTime<Utc>) -> ScorecardView {
    let board = live.rules.board();
    let items = board.items();
    let unassessed = board.scorecard().unassessed;
    let mut counts = Counts::default();
    let teams = live
        .rules
        .teams()
        .map(|team| {
            let name = team.name.as_str();
            let cells: std::collections::BTreeMap<String, CellView> = items
                .iter()
                .enumerate()
                .map(|(i, item)| (item.id.clone(), CellView::of(board.cell(name, i), unassessed, t)))
                .collect();
            cells.values().for_each(|c| counts.add(c.effective));
            TeamRow {
                name: name.to_string(),
                status: live.rules.team_status_anywhere(team, t).0,
                manual_status: team.status(),
                cells,
            }
        })
        .collect();
    ScorecardView { items: items.iter().map(|i| (**i).clone()).collect(), unassessed, teams, counts, evaluated_at: t }
}

/// A change to one cell, as `/scorecard/history` lists it.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct CellChange {
    pub at: DateTime<Utc>,
    pub by: Option<String>,
    pub team: String,
    pub item: String,
    #[schema(value_type = Option<Object>)]
    pub old: Option<Value>,
    #[schema(value_type = Option<Object>)]
    pub new: Option<Value>,
}

/// The cells' effective colours at the end of one UTC day (now, for today).
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct DayCounts {
    pub date: NaiveDate,
    #[serde(flatten)]
    pub counts: Counts,
}

/// `GET /scorecard/history`.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct History {
    pub since: DateTime<Utc>,
    /// Oldest first.
    pub changes: Vec<CellChange>,
    /// Oldest first, one per day from `since` to today.
    pub days: Vec<DayCounts>,
}

/// What `/scorecard/history` is asked.
#[derive(Clone, Debug, Default)]
pub struct HistoryQuery {
    pub team: Option<String>,
    pub item: Option<String>,
    pub since: Option<DateTime<Utc>>,
}

/// One cell of the replay: what it holds at the instant being counted.
struct Slot {
    spec: Option<CellSpec>,
    zone: Zone,
    /// A config file sets it: changes through the API do not apply.
    fixed: bool,
}

impl Slot {
    fn effective(&self, t: DateTime<Utc>, unassessed: Unassessed) -> CellStatus {
        match &self.spec {
            None if unassessed == Unassessed::Red => CellStatus::Red,
            None => CellStatus::Unassessed,
            Some(s) => {
                let due = s.plan_due.and_then(|d| due_instant(d, &self.zone));
                if s.status == Status::Yellow && due.is_some_and(|due| t >= due) {
                    CellStatus::Red
                } else {
                    s.status.into()
                }
            }
        }
    }
}

impl Gate {
    /// `PUT /teams/{name}/scorecard/{item}`: set one cell; answers the cell
    /// and whether it was never set through the API before.
    pub async fn put_cell(
        &self,
        team: &str,
        item: &str,
        body: Value,
        by: &Caller,
        now: DateTime<Utc>,
    ) -> Result<(CellView, bool), Error> {
        if by.role != Role::Admin && !by.teams.matches(team) {
            return Err(Error::new(
                ErrorCode::Forbidden,
                format!("token '{}' may not edit team {team}'s scorecard; its scope is its configured teams", by.name),
            ));
        }
        let live = self.live();
        let known = live.rules.team(team).ok_or_else(|| team_not_found(team))?;
        let zone = known.zone;
        let unassessed = live.rules.board().scorecard().unassessed;
        if live.rules.board().scorecard().item(item).is_none() {
            return Err(item_not_found(item));
        }
        if self.catalog.config_defines_cell(team, item) {
            return Err(Error::new(
                ErrorCode::DefinedInConfig,
                format!(
                    "team {team}'s `{item}` cell comes from a config file ([teams.scorecard.{item}]); change it there (in git), not through the API"
                ),
            ));
        }
        let table = table_from_json(&body).map_err(|m| Error::field(ErrorCode::InvalidJson, "body", m))?;
        let mut spec = cell_from_table(&table, None, String::new()).map_err(Error::invalid)?;
        spec.updated_at = Some(now);
        spec.updated_by = Some(by.name.clone());
        let json = serde_json::to_value(&spec).map_err(|e| Error::internal(e.into()))?;
        let before = self
            .store
            .put_definition(DefinitionKind::Cell, &format!("{team}/{item}"), &json, &by.name, now)
            .await
            .map_err(|e| Error::store(e, "save the scorecard cell"))?;
        let cell = Cell { spec: spec.clone(), source: Source::Api };
        self.catalog.set_api_cell(team, item, Some(cell.clone()), now);
        self.after_write(now).await;
        tracing::info!(team, item, status = spec.status.as_str(), by = %by.name, "scorecard cell set");
        let placed =
            Placed { due_at: spec.plan_due.and_then(|d| due_instant(d, &zone)), cell: std::sync::Arc::new(cell) };
        Ok((CellView::of(Some(&placed), unassessed, now), before.is_none()))
    }

    /// `GET /scorecard/history`: the cell changes since `since`, oldest first,
    /// and per day the count of cells by effective colour, found by playing
    /// the changes back from today's cells.
    pub async fn scorecard_history(&self, q: &HistoryQuery, now: DateTime<Utc>) -> Result<History, Error> {
        let live = self.live();
        let board = live.rules.board();
        if let Some(team) = &q.team
            && live.rules.team(team).is_none()
        {
            return Err(team_not_found(team));
        }
        if let Some(item) = &q.item
            && board.scorecard().item(item).is_none()
        {
            return Err(item_not_found(item));
        }
        let since = q.since.unwrap_or(now - Duration::days(HISTORY_DAYS_DEFAULT));
        let filter = AuditFilter {
            kind: Some("scorecard.changed".into()),
            team: q.team.clone(),
            since: Some(since),
            before: None,
            limit: HISTORY_CHANGES_MAX,
        };
        let mut records = self.audit_records(&filter).await?;
        records.reverse();
        let changes: Vec<CellChange> = records
            .into_iter()
            .filter_map(|r| {
                let d = &r.entry.details;
                let item = d.get("item")?.as_str()?.to_string();
                if q.item.as_ref().is_some_and(|want| *want != item) {
                    return None;
                }
                Some(CellChange {
                    at: r.entry.at,
                    by: r.entry.actor,
                    team: d.get("team")?.as_str()?.to_string(),
                    item,
                    old: d.get("old").filter(|v| !v.is_null()).cloned(),
                    new: d.get("new").filter(|v| !v.is_null()).cloned(),
                })
            })
            .collect();
        let days = replay(&live, q, &changes, since, now);
        Ok(History { since, changes, days })
    }
}

/// Count the cells at the end of every day from `since` to today, undoing
/// the changes newest first.
fn replay(
    live: &Live,
    q: &HistoryQuery,
    changes: &[CellChange],
    since: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Vec<DayCounts> {
    let board = live.rules.board();
    let unassessed = board.scorecard().unassessed;
    let mut slots: Vec<Slot> = Vec::new();
    let mut index: HashMap<(String, String), usize> = HashMap::new();
    for team in live.rules.teams().filter(|t| q.team.as_ref().is_none_or(|n| n == t.name.as_str())) {
        for (i, item) in board.items().iter().enumerate() {
            if q.item.as_ref().is_some_and(|want| *want != item.id) {
                continue;
            }
            let placed = board.cell(team.name.as_str(), i);
            index.insert((team.name.to_string(), item.id.clone()), slots.len());
            slots.push(Slot {
                spec: placed.map(|p| p.cell.spec.clone()),
                zone: team.zone,
                fixed: placed.is_some_and(|p| p.cell.source == Source::Config),
            });
        }
    }
    let mut days = Vec::new();
    let mut pending = changes.len();
    let mut day = now.date_naive();
    let first = since.date_naive();
    while day >= first {
        let end = day.succ_opt().and_then(|d| d.and_hms_opt(0, 0, 0)).map_or(now, |e| e.and_utc()).min(now);
        while pending > 0 && changes[pending - 1].at >= end {
            pending -= 1;
            let c = &changes[pending];
            if let Some(&i) = index.get(&(c.team.clone(), c.item.clone()))
                && !slots[i].fixed
            {
                slots[i].spec = c.old.as_ref().and_then(|v| serde_json::from_value(v.clone()).ok());
            }
        }
        let mut counts = Counts::default();
        for s in &slots {
            counts.add(s.effective(end, unassessed));
        }
        days.push(DayCounts { date: day, counts });
        match day.pred_opt() {
            Some(d) => day = d,
            None => break,
        }
    }
    days.reverse();
    days
}
