//! The decision engine, pure: windows, teams, policy and overrides in, a
//! `Decision` out. It takes the instant as an argument and knows nothing of
//! HTTP or storage.

mod decision;
mod override_;
mod scorecard;
mod selector;
mod target;
mod team;
mod window;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use chrono::{DateTime, Utc};

pub use decision::{
    Code, Decision, OverrideRef, Reason, TRAFFIC_DEFAULT_DURATION, Verdict, decide, decide_with_traffic,
};
pub use override_::Override;
pub use scorecard::{
    ApiCells, Blame, Blamed, Board, Cell, CellSpec, CellStatus, Item, Placed, Scorecard, Unassessed, due_instant,
    plan_label,
};
pub use selector::{Pattern, Selector};
pub use target::{Name, Target};
pub use team::{Action, EnvironmentPolicy, Policy, Status, Team, TeamSpec};
pub use window::{Kind, Source, Window, WindowSpec};

/// Everything a decision reads, compiled once per config load.
#[derive(Debug, Default)]
pub struct Rules {
    windows: Vec<Arc<Window>>,
    by_id: HashMap<String, usize>,
    /// Windows whose team selector lists only literal names, by name.
    by_team: HashMap<String, Vec<usize>>,
    /// Windows with a team pattern (or none): checked for every target.
    any_team: Vec<usize>,
    teams: HashMap<String, Arc<Team>>,
    team_order: Vec<String>,
    policy: Policy,
    /// Environments the policy or a window names literally.
    named_environments: HashSet<String>,
    /// Environment patterns windows name (`prod*`), once each.
    environment_patterns: Vec<Pattern>,
    /// The scorecard, compiled.
    board: Board,
}

/// What the rules are compiled from.
#[derive(Debug, Default)]
pub struct Inputs {
    pub windows: Vec<Arc<Window>>,
    pub teams: Vec<Arc<Team>>,
    pub policy: Policy,
    pub scorecard: Arc<Scorecard>,
    pub api_cells: ApiCells,
}

impl Rules {
    /// Windows and teams must already be unique by id and name.
    pub fn new(inputs: Inputs) -> Rules {
        let Inputs { windows, teams, policy, scorecard, api_cells } = inputs;
        let mut rules = Rules { policy, ..Rules::default() };
        rules.named_environments = rules.policy.environments.keys().cloned().collect();
        for w in &windows {
            for p in w.spec.environments.patterns().unwrap_or_default() {
                match p.literal() {
                    Some(name) => {
                        rules.named_environments.insert(name.to_string());
                    }
                    None if !rules.environment_patterns.contains(p) => rules.environment_patterns.push(p.clone()),
                    None => {}
                }
            }
        }
        for (i, w) in windows.iter().enumerate() {
            rules.by_id.insert(w.id().to_string(), i);
            match w.spec.teams.literals() {
                Some(names) => {
                    for name in names {
                        rules.by_team.entry(name.to_string()).or_default().push(i);
                    }
                }
                None => rules.any_team.push(i),
            }
        }
        rules.windows = windows;
        for item in &scorecard.items {
            for p in item.gates.as_deref().unwrap_or_default() {
                match p.literal() {
                    Some(name) => {
                        rules.named_environments.insert(name.to_string());
                    }
                    None if !rules.environment_patterns.contains(p) => rules.environment_patterns.push(p.clone()),
                    None => {}
                }
            }
        }
        rules.board = Board::new(scorecard, &teams, &api_cells, rules.named_environments.iter().map(String::as_str));
        let mut names: Vec<String> = teams.iter().map(|t| t.name.to_string()).collect();
        names.sort();
        rules.team_order = names;
        rules.teams = teams.into_iter().map(|t| (t.name.to_string(), t)).collect();
        rules
    }

    pub fn windows(&self) -> &[Arc<Window>] {
        &self.windows
    }

    pub fn window(&self, id: &str) -> Option<&Arc<Window>> {
        self.by_id.get(id).map(|&i| &self.windows[i])
    }

    /// Windows that apply to `target`, in config order.
    pub fn windows_for(&self, target: &Target) -> Vec<&Window> {
        let literal = self.by_team.get(target.team.as_str()).map(Vec::as_slice).unwrap_or_default();
        let mut picked: Vec<usize> = literal.iter().chain(&self.any_team).copied().collect();
        picked.sort_unstable();
        picked.dedup();
        picked.into_iter().map(|i| &*self.windows[i]).filter(|w| w.applies_to(target)).collect()
    }

    pub fn team(&self, name: &str) -> Option<&Arc<Team>> {
        self.teams.get(name)
    }

    /// Teams sorted by name.
    pub fn teams(&self) -> impl Iterator<Item = &Arc<Team>> {
        self.team_order.iter().filter_map(|n| self.teams.get(n))
    }

    /// The scorecard, compiled.
    pub fn board(&self) -> &Board {
        &self.board
    }

    /// A team's effective status in an environment at `t`: the worst of its
    /// manual colour and of the items that gate there, with what to blame.
    pub fn team_status(&self, team: &Team, environment: &str, t: DateTime<Utc>) -> (Status, Vec<Blamed>) {
        let blame = self.board.blame(team.name.as_str(), environment, t);
        let manual = team.effective_status(t);
        (Board::worst(&blame).map_or(manual, |w| w.max(manual)), blame)
    }

    /// The worst a team counts as in any environment: its manual colour and
    /// every item that gates somewhere, with what to blame.
    pub fn team_status_anywhere(&self, team: &Team, t: DateTime<Utc>) -> (Status, Vec<Blamed>) {
        let blame = self.board.blame_anywhere(team.name.as_str(), t);
        let manual = team.effective_status(t);
        (Board::worst(&blame).map_or(manual, |w| w.max(manual)), blame)
    }

    pub fn team_count(&self) -> usize {
        self.teams.len()
    }

    pub fn policy(&self, environment: &str) -> EnvironmentPolicy {
        self.policy.environments.get(environment).copied().unwrap_or_default()
    }

    pub fn environments(&self) -> &HashMap<String, EnvironmentPolicy> {
        &self.policy.environments
    }

    /// What a deploy to an environment nothing names gets.
    pub fn unknown_environment(&self) -> Action {
        self.policy.unknown_environment
    }

    /// The services windows name literally.
    pub fn service_names(&self) -> HashSet<String> {
        self.windows.iter().flat_map(|w| w.spec.services.literals().unwrap_or_default()).map(str::to_string).collect()
    }

    /// The environments the policy, a window or an item names literally, sorted.
    pub fn environment_names(&self) -> impl Iterator<Item = &str> {
        let mut names: Vec<&str> = self.named_environments.iter().map(String::as_str).collect();
        names.sort_unstable();
        names.into_iter()
    }

    /// Whether the policy or some window names this environment (literally
    /// or by a pattern); a name nothing knows is likely a typo.
    pub fn knows_environment(&self, environment: &str) -> bool {
        self.named_environments.contains(environment)
            || self.environment_patterns.iter().any(|p| p.matches(environment))
    }
}
