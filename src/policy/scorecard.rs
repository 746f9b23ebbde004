//! The team scorecard: risk items, each team's cell per item, and which
//! items gate which environments. Compiled whole whenever the config or a
//! cell changes; a decision then reads only the cells of one team that are
//! not green, and checks which of them gate its environment.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::selector::Pattern;
use super::team::{Status, Team};
use super::window::Source;
use crate::schedule::Zone;

/// How a cell never set counts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Unassessed {
    /// Shown, never counted.
    #[default]
    Ignore,
    /// Counted as red wherever its item gates.
    Red,
}

impl Unassessed {
    pub fn parse(text: &str) -> Option<Unassessed> {
        match text {
            "ignore" => Some(Unassessed::Ignore),
            "red" => Some(Unassessed::Red),
            _ => None,
        }
    }
}

/// One risk item, a column of the scorecard.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Item {
    pub id: String,
    pub title: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub why: Option<String>,
    /// Environment patterns where the item counts toward a team's status;
    /// `null`: every environment; `[]`: shown only.
    #[schema(value_type = Option<Vec<String>>)]
    pub gates: Option<Vec<Pattern>>,
}

impl Item {
    pub fn gates(&self, environment: &str) -> bool {
        match &self.gates {
            None => true,
            Some(list) => list.iter().any(|p| p.matches(environment)),
        }
    }
}

/// The `[scorecard]` table: its items and how unassessed cells count.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Scorecard {
    pub items: Vec<Arc<Item>>,
    pub unassessed: Unassessed,
}

impl Scorecard {
    pub fn item(&self, id: &str) -> Option<&Arc<Item>> {
        self.items.iter().find(|i| i.id == id)
    }
}

/// One cell as written: in a config file, an API body, or the store.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CellSpec {
    pub status: Status,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan_due: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Set by the service when a cell is changed through the API.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_by: Option<String>,
}

/// A cell and where it was written. Equal cells are shared (most cells of a
/// large scorecard are the same green), so compare them by value.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Cell {
    pub spec: CellSpec,
    pub source: Source,
}

/// The instant a plan falls due: the end of its date in the team's zone.
pub fn due_instant(date: NaiveDate, zone: &Zone) -> Option<DateTime<Utc>> {
    date.succ_opt().and_then(|d| d.and_hms_opt(0, 0, 0)).map(|midnight| zone.resolve(midnight))
}

/// What a cell shows: its colour, or that it was never assessed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum CellStatus {
    Green,
    Unassessed,
    Yellow,
    Red,
}

impl CellStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CellStatus::Green => "green",
            CellStatus::Yellow => "yellow",
            CellStatus::Red => "red",
            CellStatus::Unassessed => "unassessed",
        }
    }
}

impl From<Status> for CellStatus {
    fn from(s: Status) -> CellStatus {
        match s {
            Status::Green => CellStatus::Green,
            Status::Yellow => CellStatus::Yellow,
            Status::Red => CellStatus::Red,
        }
    }
}

/// A team's cell for one item, placed in its zone.
#[derive(Clone, Debug)]
pub struct Placed {
    pub cell: Arc<Cell>,
    pub due_at: Option<DateTime<Utc>>,
}

impl Placed {
    /// A yellow cell past its due date.
    pub fn overdue(&self, t: DateTime<Utc>) -> bool {
        self.cell.spec.status == Status::Yellow && self.due_at.is_some_and(|due| t >= due)
    }

    /// Its colour at `t`: an overdue yellow counts as red.
    pub fn effective(&self, t: DateTime<Utc>) -> Status {
        if self.overdue(t) { Status::Red } else { self.cell.spec.status }
    }

    /// Not yellow yet, but due within `soon`.
    pub fn due_soon(&self, t: DateTime<Utc>, soon: chrono::Duration) -> bool {
        self.cell.spec.status == Status::Yellow && self.due_at.is_some_and(|due| t < due && due - t <= soon)
    }
}

/// One item a team's status is blamed on, as decisions show it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Blame {
    #[schema(value_type = String)]
    pub id: Arc<str>,
    /// The effective colour: an overdue yellow is `red`.
    pub status: CellStatus,
    pub overdue: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub plan: Option<Arc<str>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan_due: Option<NaiveDate>,
}

impl Blame {
    /// "rollback: plan PAY-40 overdue since 2027-01-31".
    pub fn text(&self) -> String {
        let plan = self.plan.as_deref().map(plan_label).unwrap_or_else(|| "without a link".into());
        let due = self.plan_due.map(|d| d.to_string()).unwrap_or_default();
        match self.status {
            _ if self.overdue => format!("{}: plan {plan} overdue since {due}", self.id),
            CellStatus::Yellow => format!("{}: yellow, plan {plan} due {due}", self.id),
            CellStatus::Unassessed => format!("{}: not assessed, which counts as red", self.id),
            _ => format!("{}: red, no plan", self.id),
        }
    }

    /// Whether this counts as red (an overdue plan, no plan, or unassessed).
    pub fn is_red(&self) -> bool {
        matches!(self.status, CellStatus::Red | CellStatus::Unassessed)
    }

    /// Worst first: red with no plan, an overdue plan, unassessed, yellow.
    fn rank(&self) -> u8 {
        match (self.status, self.overdue) {
            (_, true) => 1,
            (CellStatus::Red, _) => 0,
            (CellStatus::Unassessed, _) => 2,
            _ => 3,
        }
    }
}

/// A plan link as people say it: the last part of a URL ("PAY-40").
pub fn plan_label(plan: &str) -> String {
    let trimmed = plan.trim().trim_end_matches('/');
    match trimmed.split_once("://") {
        Some((_, rest)) => {
            let last = rest.rsplit('/').next().unwrap_or(rest);
            let last = last.split(['?', '#']).next().unwrap_or(last);
            if last.is_empty() { trimmed.to_string() } else { last.to_string() }
        }
        None => trimmed.to_string(),
    }
}

/// A cell that may count against its team: what a decision says of it
/// before and after its plan falls due, worked out once and shared by every
/// team with the same cell for the item.
#[derive(Debug)]
struct Concern {
    item: usize,
    due_at: Option<DateTime<Utc>>,
    words: Arc<Words>,
}

#[derive(Debug)]
struct Words {
    /// Until `due_at` (or for good, without one).
    before: Blamed,
    /// From `due_at` on: an overdue plan.
    after: Blamed,
}

/// An item to blame and the words for it.
#[derive(Clone, Debug)]
pub struct Blamed {
    pub blame: Blame,
    /// "rollback: plan PAY-40 overdue since 2027-01-31".
    pub text: Arc<str>,
}

impl Blamed {
    fn new(blame: Blame) -> Blamed {
        let text = blame.text().into();
        Blamed { blame, text }
    }
}

impl Words {
    fn new(id: &str, cell: Option<&Cell>) -> Words {
        let id: Arc<str> = id.into();
        let Some(cell) = cell else {
            let b =
                Blamed::new(Blame { id, status: CellStatus::Unassessed, overdue: false, plan: None, plan_due: None });
            return Words { before: b.clone(), after: b };
        };
        let spec = &cell.spec;
        let plan: Option<Arc<str>> = spec.plan.as_deref().map(Arc::from);
        let blame = |status: CellStatus, overdue: bool| {
            Blamed::new(Blame { id: id.clone(), status, overdue, plan: plan.clone(), plan_due: spec.plan_due })
        };
        Words { before: blame(spec.status.into(), false), after: blame(CellStatus::Red, true) }
    }
}

impl Concern {
    fn at(&self, t: DateTime<Utc>) -> &Blamed {
        match self.due_at {
            Some(due) if t >= due => &self.words.after,
            _ => &self.words.before,
        }
    }
}

/// One team's row, compiled.
#[derive(Debug, Default)]
struct Card {
    /// By item index; `None`: never assessed.
    cells: Vec<Option<Placed>>,
    /// The cells that may count against the team, worst first: not green,
    /// and unassessed ones when they count as red.
    concerns: Vec<Concern>,
}

/// The scorecard compiled for decisions.
#[derive(Debug, Default)]
pub struct Board {
    scorecard: Arc<Scorecard>,
    cards: HashMap<String, Card>,
    /// For environments the config names: which items gate there.
    gating: HashMap<String, Box<[bool]>>,
    /// API cells a config file now sets too ("team/item").
    pub shadowed: Vec<String>,
}

/// An API cell, by team and item.
pub type ApiCells = HashMap<(String, String), Arc<Cell>>;

impl Board {
    pub fn new<'e>(
        scorecard: Arc<Scorecard>,
        teams: &[Arc<Team>],
        api_cells: &ApiCells,
        environments: impl Iterator<Item = &'e str>,
    ) -> Board {
        let mut board = Board { scorecard, ..Board::default() };
        let items = &board.scorecard.items;
        // The words for each (item, distinct cell), shared by the teams that have it.
        let mut words: HashMap<(usize, Option<*const Cell>), Arc<Words>> = HashMap::new();
        board.gating = environments.map(|e| (e.to_string(), items.iter().map(|i| i.gates(e)).collect())).collect();
        if items.is_empty() {
            return board;
        }
        for team in teams {
            let name = team.name.as_str();
            let mut card = Card { cells: Vec::with_capacity(items.len()), concerns: Vec::new() };
            for (i, item) in items.iter().enumerate() {
                let from_config = team.cells.get(item.id.as_str());
                let from_api = api_cells.get(&(name.to_string(), item.id.clone()));
                if from_config.is_some() && from_api.is_some() {
                    board.shadowed.push(format!("{name}/{}", item.id));
                }
                let placed = from_config.or(from_api).map(|cell| Placed {
                    cell: cell.clone(),
                    due_at: cell.spec.plan_due.and_then(|d| due_instant(d, &team.zone)),
                });
                let concern = match &placed {
                    Some(p) => p.cell.spec.status != Status::Green,
                    None => board.scorecard.unassessed == Unassessed::Red,
                };
                if let (true, cell) = (concern, placed.as_ref().map(|p| &p.cell)) {
                    let key = (i, cell.map(Arc::as_ptr));
                    let words =
                        words.entry(key).or_insert_with(|| Arc::new(Words::new(&item.id, cell.map(|c| &**c)))).clone();
                    let due_at =
                        placed.as_ref().filter(|p| p.cell.spec.status == Status::Yellow).and_then(|p| p.due_at);
                    card.concerns.push(Concern { item: i, due_at, words });
                }
                card.cells.push(placed);
            }
            // Worst first, as decisions list them (an overdue plan is
            // re-ranked at decision time, rarely).
            card.concerns.sort_by_key(|c| c.words.before.blame.rank());
            board.cards.insert(name.to_string(), card);
        }
        board
    }

    pub fn scorecard(&self) -> &Scorecard {
        &self.scorecard
    }

    pub fn items(&self) -> &[Arc<Item>] {
        &self.scorecard.items
    }

    /// A team's cell for an item (by index in `items()`).
    pub fn cell(&self, team: &str, item: usize) -> Option<&Placed> {
        self.cards.get(team)?.cells.get(item)?.as_ref()
    }

    /// The items that count against `team` in `environment` at `t`, worst first.
    pub fn blame(&self, team: &str, environment: &str, t: DateTime<Utc>) -> Vec<Blamed> {
        let items = &self.scorecard.items;
        let gating = self.gating.get(environment);
        self.blame_where(team, t, |i| gating.map_or_else(|| items[i].gates(environment), |g| g[i]))
    }

    /// The items that count against `team` in some environment at `t`, worst first.
    pub fn blame_anywhere(&self, team: &str, t: DateTime<Utc>) -> Vec<Blamed> {
        let items = &self.scorecard.items;
        self.blame_where(team, t, |i| items[i].gates.as_ref().is_none_or(|g| !g.is_empty()))
    }

    fn blame_where(&self, team: &str, t: DateTime<Utc>, gates: impl Fn(usize) -> bool) -> Vec<Blamed> {
        let Some(card) = self.cards.get(team) else { return Vec::new() };
        let mut out: Vec<Blamed> = card.concerns.iter().filter(|c| gates(c.item)).map(|c| c.at(t).clone()).collect();
        if out.iter().any(|b| b.blame.overdue) {
            out.sort_by_key(|b| b.blame.rank());
        }
        out
    }

    /// The worst colour among blamed items.
    pub fn worst(blame: &[Blamed]) -> Option<Status> {
        blame.iter().map(|b| if b.blame.is_red() { Status::Red } else { Status::Yellow }).max()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plan_labels_are_the_last_part_of_a_link() {
        assert_eq!(plan_label("https://tracker.example/PAY-40"), "PAY-40");
        assert_eq!(plan_label("https://tracker.example/browse/PAY-40/"), "PAY-40");
        assert_eq!(plan_label("https://tracker.example/issues?id=3"), "issues");
        assert_eq!(plan_label("https://tracker.example"), "tracker.example");
        assert_eq!(plan_label("PAY-40"), "PAY-40");
    }

    #[test]
    fn blame_lines_name_the_plan_and_whether_it_is_overdue() {
        let b = |status, overdue| Blame {
            id: "rollback".into(),
            status,
            overdue,
            plan: Some(Arc::from("https://tracker.example/PAY-40")),
            plan_due: NaiveDate::from_ymd_opt(2027, 1, 31),
        };
        assert_eq!(b(CellStatus::Red, true).text(), "rollback: plan PAY-40 overdue since 2027-01-31");
        assert_eq!(b(CellStatus::Yellow, false).text(), "rollback: yellow, plan PAY-40 due 2027-01-31");
        assert_eq!(b(CellStatus::Red, false).text(), "rollback: red, no plan");
    }
}
