//! The catalog: what decisions read, built from the last good config and
//! the definitions the API added, swapped whole so a request never sees
//! half a change.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use arc_swap::ArcSwap;
use chrono::{DateTime, Utc};

use crate::config::{self, Config, Problem, Settings};
use crate::policy::{ApiCells, Cell, Inputs, Rules, Team, Window};

/// One consistent generation of rules.
pub struct Live {
    pub rules: Rules,
    pub settings: Settings,
    /// Where traffic data comes from.
    pub traffic: Arc<crate::config::TrafficSettings>,
    /// Health check topics and process maps: shown, never read by decisions.
    pub health: Arc<crate::health_checks::HealthSettings>,
    pub processes: Arc<crate::config::Processes>,
    pub loaded_at: DateTime<Utc>,
    /// API windows or teams hidden because a config file now defines the same id.
    pub shadowed: Vec<String>,
}

/// How config reloads went, for `/readyz` and `/metrics`.
#[derive(Clone, Debug, Default)]
pub struct ReloadStatus {
    pub reloads: u64,
    pub failures: u64,
    pub last_attempt: Option<DateTime<Utc>>,
    /// Every problem of the last refused edit; cleared by a good one.
    pub last_error: Option<Vec<String>>,
}

/// Where the rules come from.
struct Sources {
    config: Config,
    api_windows: HashMap<String, Arc<Window>>,
    api_teams: HashMap<String, Arc<Team>>,
    api_cells: ApiCells,
}

pub struct Catalog {
    live: ArcSwap<Live>,
    sources: Mutex<Sources>,
    reload: Mutex<ReloadStatus>,
    config_path: PathBuf,
    env: Vec<(String, String)>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// What a config reload came to.
pub enum Reloaded {
    /// Live now; the counts before and after.
    Live {
        windows_before: usize,
        windows_after: usize,
    },
    Refused(Vec<Problem>),
}

impl Catalog {
    pub fn new(
        config: Config,
        api_windows: Vec<Window>,
        api_teams: Vec<Team>,
        api_cells: ApiCells,
        config_path: PathBuf,
        env: Vec<(String, String)>,
        now: DateTime<Utc>,
    ) -> Catalog {
        let sources = Sources {
            config,
            api_windows: api_windows.into_iter().map(|w| (w.id().to_string(), Arc::new(w))).collect(),
            api_teams: api_teams.into_iter().map(|t| (t.name.to_string(), Arc::new(t))).collect(),
            api_cells,
        };
        let live = build(&sources, now);
        Catalog {
            live: ArcSwap::from_pointee(live),
            sources: Mutex::new(sources),
            reload: Mutex::new(ReloadStatus::default()),
            config_path,
            env,
        }
    }

    pub fn live(&self) -> Arc<Live> {
        self.live.load_full()
    }

    /// The environment the service was started with (secrets such as API
    /// keys are read from it, never from the config files).
    pub fn env(&self) -> &[(String, String)] {
        &self.env
    }

    pub fn config_path(&self) -> &PathBuf {
        &self.config_path
    }

    pub fn reload_status(&self) -> ReloadStatus {
        lock(&self.reload).clone()
    }

    pub fn config_defines_window(&self, id: &str) -> bool {
        lock(&self.sources).config.windows.iter().any(|w| w.id() == id)
    }

    pub fn config_defines_team(&self, name: &str) -> bool {
        lock(&self.sources).config.teams.iter().any(|t| t.name.as_str() == name)
    }

    /// Whether a config file sets this team's cell for this item.
    pub fn config_defines_cell(&self, team: &str, item: &str) -> bool {
        lock(&self.sources).config.teams.iter().any(|t| t.name.as_str() == team && t.cells.contains_key(item))
    }

    /// Replace (or with `None` remove) a scorecard cell set through the API, and rebuild.
    pub fn set_api_cell(&self, team: &str, item: &str, cell: Option<Cell>, now: DateTime<Utc>) {
        let mut sources = lock(&self.sources);
        let key = (team.to_string(), item.to_string());
        match cell {
            Some(c) => sources.api_cells.insert(key, Arc::new(c)),
            None => sources.api_cells.remove(&key),
        };
        self.live.store(Arc::new(build(&sources, now)));
    }

    /// Replace (or with `None` remove) an API window and rebuild.
    pub fn set_api_window(&self, id: &str, window: Option<Window>, now: DateTime<Utc>) {
        let mut sources = lock(&self.sources);
        match window {
            Some(w) => sources.api_windows.insert(id.to_string(), Arc::new(w)),
            None => sources.api_windows.remove(id),
        };
        self.live.store(Arc::new(build(&sources, now)));
    }

    /// Replace (or with `None` remove) an API team and rebuild.
    pub fn set_api_team(&self, name: &str, team: Option<Team>, now: DateTime<Utc>) {
        let mut sources = lock(&self.sources);
        match team {
            Some(t) => sources.api_teams.insert(name.to_string(), Arc::new(t)),
            None => sources.api_teams.remove(name),
        };
        self.live.store(Arc::new(build(&sources, now)));
    }

    /// Replace every API definition at once and rebuild.
    pub fn set_api_definitions(&self, windows: Vec<Window>, teams: Vec<Team>, cells: ApiCells, now: DateTime<Utc>) {
        let mut sources = lock(&self.sources);
        sources.api_cells = cells;
        sources.api_windows = windows.into_iter().map(|w| (w.id().to_string(), Arc::new(w))).collect();
        sources.api_teams = teams.into_iter().map(|t| (t.name.to_string(), Arc::new(t))).collect();
        self.live.store(Arc::new(build(&sources, now)));
    }

    /// Load the config files again. A bad edit keeps the last good config
    /// and is reported in full.
    pub async fn reload_config(&self, now: DateTime<Utc>) -> Reloaded {
        let (path, env) = (self.config_path.clone(), self.env.clone());
        let loaded = tokio::task::spawn_blocking(move || config::load(&path, &env))
            .await
            .unwrap_or_else(|e| Err(vec![Problem::reload_failed(&e.to_string())]));
        let mut status = lock(&self.reload);
        status.last_attempt = Some(now);
        match loaded {
            Ok(config) => {
                let mut sources = lock(&self.sources);
                let old = &sources.config.settings;
                if old.listen != config.settings.listen || old.store_url != config.settings.store_url {
                    tracing::warn!("[server] listen and [store] url take effect at the next restart");
                }
                let windows_before = sources.config.windows.len();
                let windows_after = config.windows.len();
                sources.config = config;
                self.live.store(Arc::new(build(&sources, now)));
                status.reloads += 1;
                status.last_error = None;
                Reloaded::Live { windows_before, windows_after }
            }
            Err(problems) => {
                status.failures += 1;
                status.last_error = Some(problems.iter().map(ToString::to_string).collect());
                Reloaded::Refused(problems)
            }
        }
    }
}

/// Config first; an API definition with an id the config also defines is
/// shadowed (the config wins).
fn build(sources: &Sources, now: DateTime<Utc>) -> Live {
    let config = &sources.config;
    let mut shadowed = Vec::new();
    let mut windows = config.windows.clone();
    let mut api_windows: Vec<&Arc<Window>> = sources.api_windows.values().collect();
    api_windows.sort_by(|a, b| a.id().cmp(b.id()));
    for w in api_windows {
        if config.windows.iter().any(|c| c.id() == w.id()) {
            shadowed.push(format!("window {}", w.id()));
        } else {
            windows.push(w.clone());
        }
    }
    let mut teams = config.teams.clone();
    for t in sources.api_teams.values() {
        if config.teams.iter().any(|c| c.name == t.name) {
            shadowed.push(format!("team {}", t.name));
        } else {
            teams.push(t.clone());
        }
    }
    let rules = Rules::new(Inputs {
        windows,
        teams,
        policy: config.settings.policy.clone(),
        scorecard: config.scorecard.clone(),
        api_cells: sources.api_cells.clone(),
    });
    shadowed.extend(rules.board().shadowed.iter().map(|c| format!("scorecard cell {c}")));
    shadowed.sort();
    if !shadowed.is_empty() {
        tracing::warn!(?shadowed, "config files now define what the API had added; the config wins");
    }
    Live {
        rules,
        settings: config.settings.clone(),
        traffic: config.traffic.clone(),
        health: config.health.clone(),
        processes: config.processes.clone(),
        loaded_at: now,
        shadowed,
    }
}
