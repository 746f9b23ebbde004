//! What every request reads: the live rules (swapped whole on reload or on a
//! change through the API), the overrides in force, the store.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use arc_swap::ArcSwap;
use chrono::{DateTime, Utc};
use serde_json::Value;

use super::metrics::Metrics;
use crate::config::{self, Config, Problem, Settings, team_from_table, window_from_table};
use crate::policy::{Override, Rules, Source, Team, Window};
use crate::store::{AuditLog, Store};

/// One consistent generation of rules: requests never see half a reload.
pub struct Live {
    pub rules: Rules,
    pub settings: Settings,
    pub loaded_at: DateTime<Utc>,
    /// API windows or teams hidden because a config file now defines the same id.
    pub shadowed: Vec<String>,
}

/// Where the rules come from: the last good config and what the API added.
struct Sources {
    config: Config,
    api_windows: Vec<Arc<Window>>,
    api_teams: Vec<Arc<Team>>,
}

/// How the last config reload went, for `/readyz` and `/metrics`.
#[derive(Clone, Debug, Default)]
pub struct ReloadStatus {
    pub reloads: u64,
    pub failures: u64,
    pub last_attempt: Option<DateTime<Utc>>,
    /// Every problem of the last failed reload; cleared by a good one.
    pub last_error: Option<Vec<String>>,
}

pub struct AppState {
    live: ArcSwap<Live>,
    overrides: ArcSwap<Vec<Override>>,
    sources: Mutex<Sources>,
    reload: Mutex<ReloadStatus>,
    pub store: Store,
    pub audit: AuditLog,
    pub metrics: Metrics,
    pub config_path: PathBuf,
    pub env: Vec<(String, String)>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// JSON (from the API or the store) into the TOML table the config reader
/// takes, so API bodies are validated exactly like config files. `null`
/// means absent.
pub fn json_to_table(value: &Value) -> Result<toml::Table, String> {
    fn convert(v: &Value) -> Result<Option<toml::Value>, String> {
        Ok(Some(match v {
            Value::Null => return Ok(None),
            Value::Bool(b) => toml::Value::Boolean(*b),
            Value::Number(n) => match n.as_i64() {
                Some(i) => toml::Value::Integer(i),
                None => toml::Value::Float(n.as_f64().unwrap_or_default()),
            },
            Value::String(s) => toml::Value::String(s.clone()),
            Value::Array(items) => {
                let mut out = Vec::new();
                for item in items {
                    out.push(convert(item)?.ok_or("lists may not hold null")?);
                }
                toml::Value::Array(out)
            }
            Value::Object(map) => {
                let mut table = toml::Table::new();
                for (k, v) in map {
                    if let Some(v) = convert(v)? {
                        table.insert(k.clone(), v);
                    }
                }
                toml::Value::Table(table)
            }
        }))
    }
    match convert(value)? {
        Some(toml::Value::Table(t)) => Ok(t),
        _ => Err("the body must be a JSON object".into()),
    }
}

/// A window from its JSON definition, validated like a config file.
pub fn window_from_json(spec: &Value) -> Result<Window, Vec<Problem>> {
    let table = json_to_table(spec).map_err(|m| vec![Problem::new(None, "", "", "invalid_type", m)])?;
    window_from_table(&table, None, 0, Source::Api)
}

/// A team from its JSON definition, validated like a config file.
pub fn team_from_json(spec: &Value) -> Result<Team, Vec<Problem>> {
    let table = json_to_table(spec).map_err(|m| vec![Problem::new(None, "", "", "invalid_type", m)])?;
    team_from_table(&table, None, 0, Source::Api)
}

impl AppState {
    /// Build the state from a valid config and what the store holds.
    pub async fn load(
        config: Config,
        config_path: PathBuf,
        env: Vec<(String, String)>,
        store: Store,
        now: DateTime<Utc>,
    ) -> anyhow::Result<AppState> {
        let mut api_windows = Vec::new();
        for stored in store.windows().await? {
            match window_from_json(&stored.spec) {
                Ok(w) => api_windows.push(Arc::new(w)),
                Err(p) => {
                    tracing::error!(window = %stored.key, problems = ?p, "a stored window no longer validates; it is ignored")
                }
            }
        }
        let mut api_teams = Vec::new();
        for stored in store.teams().await? {
            match team_from_json(&stored.spec) {
                Ok(t) => api_teams.push(Arc::new(t)),
                Err(p) => {
                    tracing::error!(team = %stored.key, problems = ?p, "a stored team no longer validates; it is ignored")
                }
            }
        }
        let overrides = store.active_overrides(now).await?;
        let audit = AuditLog::start(store.clone());
        let sources = Sources { config, api_windows, api_teams };
        let live = build_live(&sources, now);
        Ok(AppState {
            live: ArcSwap::from_pointee(live),
            overrides: ArcSwap::from_pointee(overrides),
            sources: Mutex::new(sources),
            reload: Mutex::new(ReloadStatus::default()),
            store,
            audit,
            metrics: Metrics::default(),
            config_path,
            env,
        })
    }

    pub fn live(&self) -> Arc<Live> {
        self.live.load_full()
    }

    /// Overrides not revoked and not known to be expired; a decision still
    /// checks each against its own instant.
    pub fn overrides(&self) -> Arc<Vec<Override>> {
        self.overrides.load_full()
    }

    pub fn reload_status(&self) -> ReloadStatus {
        lock(&self.reload).clone()
    }

    /// Whether `id` is defined by a config file.
    pub fn config_defines_window(&self, id: &str) -> bool {
        lock(&self.sources).config.windows.iter().any(|w| w.id() == id)
    }

    pub fn config_defines_team(&self, name: &str) -> bool {
        lock(&self.sources).config.teams.iter().any(|t| t.name.as_str() == name)
    }

    /// Replace (or add, or with `None` remove) an API window and rebuild.
    pub fn set_api_window(&self, id: &str, window: Option<Window>, now: DateTime<Utc>) {
        let mut sources = lock(&self.sources);
        sources.api_windows.retain(|w| w.id() != id);
        if let Some(w) = window {
            sources.api_windows.push(Arc::new(w));
            sources.api_windows.sort_by(|a, b| a.id().cmp(b.id()));
        }
        self.live.store(Arc::new(build_live(&sources, now)));
    }

    /// Replace (or add) an API team and rebuild.
    pub fn set_api_team(&self, team: Team, now: DateTime<Utc>) {
        let mut sources = lock(&self.sources);
        sources.api_teams.retain(|t| t.name != team.name);
        sources.api_teams.push(Arc::new(team));
        self.live.store(Arc::new(build_live(&sources, now)));
    }

    /// Read the overrides in force from the store again.
    pub async fn refresh_overrides(&self, now: DateTime<Utc>) -> anyhow::Result<()> {
        let fresh = self.store.active_overrides(now).await?;
        self.overrides.store(Arc::new(fresh));
        Ok(())
    }

    /// Load the config files again. A bad edit keeps the last good config
    /// and is reported in full; answers whether the new config went live.
    pub async fn reload_config(&self, now: DateTime<Utc>) -> bool {
        let (path, env) = (self.config_path.clone(), self.env.clone());
        let loaded = tokio::task::spawn_blocking(move || config::load(&path, &env)).await;
        let mut status = lock(&self.reload);
        status.last_attempt = Some(now);
        match loaded {
            Ok(Ok(config)) => {
                let mut sources = lock(&self.sources);
                let old = &sources.config.settings;
                if old.listen != config.settings.listen || old.store_url != config.settings.store_url {
                    tracing::warn!("[server] listen and [store] url take effect at the next restart");
                }
                sources.config = config;
                self.live.store(Arc::new(build_live(&sources, now)));
                status.reloads += 1;
                status.last_error = None;
                tracing::info!(windows = self.live().rules.windows().len(), "config reloaded");
                true
            }
            Ok(Err(problems)) => {
                status.failures += 1;
                for p in &problems {
                    tracing::error!(problem = %p, "config edit refused; the last good config stays in force");
                }
                status.last_error = Some(problems.iter().map(ToString::to_string).collect());
                false
            }
            Err(e) => {
                status.failures += 1;
                status.last_error = Some(vec![format!("reload failed: {e}")]);
                false
            }
        }
    }
}

fn build_live(sources: &Sources, now: DateTime<Utc>) -> Live {
    let config = &sources.config;
    let mut shadowed = Vec::new();
    let mut windows = config.windows.clone();
    for w in &sources.api_windows {
        if config.windows.iter().any(|c| c.id() == w.id()) {
            shadowed.push(format!("window {}", w.id()));
        } else {
            windows.push(w.clone());
        }
    }
    let mut teams = config.teams.clone();
    for t in &sources.api_teams {
        if config.teams.iter().any(|c| c.name == t.name) {
            shadowed.push(format!("team {}", t.name));
        } else {
            teams.push(t.clone());
        }
    }
    if !shadowed.is_empty() {
        tracing::warn!(?shadowed, "config files now define what the API had added; the config wins");
    }
    Live {
        rules: Rules::new(windows, teams, config.settings.environments.clone()),
        settings: config.settings.clone(),
        loaded_at: now,
        shadowed,
    }
}
