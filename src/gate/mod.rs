//! The application core: what the gate knows (the catalog of windows and
//! teams, the overrides in force), the rules for changing it, and the
//! decision record. Routes parse a request, call the core, and render its
//! answer; the decision itself stays pure in `policy`.

mod calendar;
mod catalog;
mod decisions;
mod definitions;
mod deployments;
mod idempotency;
mod overrides;
mod scorecard;
mod traffic;

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;

use arc_swap::ArcSwap;
use chrono::{DateTime, Utc};
use tokio::sync::Mutex;

pub use calendar::{Calendar, CalendarQuery, Entry, calendar};
pub use catalog::{Catalog, Live, ReloadStatus, Reloaded};
pub use decisions::{DecisionRecord, Question};
pub use definitions::{team_not_found, window_not_found};
pub use deployments::{DeliveryStats, DeploymentImpact, ImpactReport, Report};
pub use idempotency::Made;
pub use overrides::{DEFAULT_TTL, MAX_ACTIVE_OVERRIDES, override_not_found};
pub use scorecard::{
    CellChange, CellView, Counts, DUE_SOON, DayCounts, HISTORY_DAYS_MAX, History, HistoryQuery, ScorecardView, TeamRow,
    item_not_found, scorecard,
};
pub use traffic::{SourceStatus, Traffic};

use crate::config::{Config, Role, TokenSpec, team_from_json, window_from_json};
use crate::error::Error;
use crate::policy::{ApiCells, Cell, CellSpec, Override, Selector, Source, Team, Window};
use crate::store::{
    Audit, AuditFilter, AuditRecord, AuditWriter, ChangeFeed, Changes, DefinitionKind, Definitions, Overrides, Store,
};

/// Who is acting, by the token they presented. Never holds the token.
#[derive(Clone, Debug)]
pub struct Caller {
    pub name: String,
    pub role: Role,
    pub teams: Selector,
    pub environments: Selector,
}

impl Caller {
    pub fn of(token: &TokenSpec) -> Caller {
        Caller {
            name: token.name.clone(),
            role: token.role,
            teams: token.teams.clone(),
            environments: token.environments.clone(),
        }
    }

    /// Whether this caller may act on a team in an environment: admins
    /// anywhere, others within their token's scope.
    pub fn in_scope(&self, team: &str, environment: &str) -> bool {
        self.role == Role::Admin || (self.teams.matches(team) && self.environments.matches(environment))
    }
}

/// The overrides in force (or not yet known to have ended), by team.
#[derive(Debug, Default)]
pub struct ActiveOverrides {
    by_team: HashMap<String, Vec<Override>>,
}

impl ActiveOverrides {
    fn new(list: impl IntoIterator<Item = Override>) -> ActiveOverrides {
        let mut by_team: HashMap<String, Vec<Override>> = HashMap::new();
        for o in list {
            by_team.entry(o.team.to_string()).or_default().push(o);
        }
        ActiveOverrides { by_team }
    }

    pub fn for_team(&self, team: &str) -> &[Override] {
        self.by_team.get(team).map(Vec::as_slice).unwrap_or_default()
    }

    /// Those in force at `t`, newest first.
    pub fn active_at(&self, t: DateTime<Utc>) -> Vec<&Override> {
        let mut list: Vec<&Override> = self.by_team.values().flatten().filter(|o| o.active_at(t)).collect();
        list.sort_by(|a, b| b.created_at.cmp(&a.created_at).then_with(|| a.id.cmp(&b.id)));
        list
    }

    fn all(&self) -> impl Iterator<Item = &Override> {
        self.by_team.values().flatten()
    }
}

pub struct Gate {
    catalog: Catalog,
    overrides: ArcSwap<ActiveOverrides>,
    store: Store,
    audit: AuditWriter,
    traffic: Traffic,
    /// How far the change feed has been applied; the lock makes syncs take turns.
    revision: Mutex<i64>,
}

impl Gate {
    /// Build the core from a valid config and what the store holds.
    pub async fn start(
        config: Config,
        config_path: PathBuf,
        env: Vec<(String, String)>,
        store: Store,
        now: DateTime<Utc>,
    ) -> anyhow::Result<Gate> {
        // The position first: what is written after it is read again by the next sync.
        let revision = match store.changes_since(0).await? {
            Changes::Since { latest, .. } | Changes::Everything { latest } => latest,
        };
        let (windows, teams, cells) = load_definitions(&store).await?;
        let overrides = store.active_overrides(now).await?;
        let catalog = Catalog::new(config, windows, teams, cells, config_path, env, now);
        let audit = AuditWriter::start(store.clone());
        Ok(Gate {
            catalog,
            overrides: ArcSwap::from_pointee(ActiveOverrides::new(overrides)),
            store,
            audit,
            traffic: Traffic::new()?,
            revision: Mutex::new(revision),
        })
    }

    pub fn live(&self) -> Arc<Live> {
        self.catalog.live()
    }

    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn traffic(&self) -> &Traffic {
        &self.traffic
    }

    pub fn overrides(&self) -> Arc<ActiveOverrides> {
        self.overrides.load_full()
    }

    /// Apply what was written to the store since the last sync, by this
    /// replica or another: the hook that keeps replicas in step.
    pub async fn sync(&self, now: DateTime<Utc>) -> anyhow::Result<()> {
        let mut revision = self.revision.lock().await;
        match self.store.changes_since(*revision).await? {
            Changes::Since { latest, changes } if !changes.is_empty() => {
                let mut seen = HashSet::new();
                for c in changes.iter().rev().filter(|c| seen.insert((c.kind.as_str(), c.key.as_str()))) {
                    self.apply_change(&c.kind, &c.key, now).await?;
                }
                *revision = latest;
            }
            Changes::Since { latest, .. } => *revision = latest,
            Changes::Everything { latest } => {
                let (windows, teams, cells) = load_definitions(&self.store).await?;
                self.catalog.set_api_definitions(windows, teams, cells, now);
                let fresh = self.store.active_overrides(now).await?;
                self.overrides.store(Arc::new(ActiveOverrides::new(fresh)));
                *revision = latest;
            }
        }
        Ok(())
    }

    /// Re-read one changed thing from the store.
    async fn apply_change(&self, kind: &str, key: &str, now: DateTime<Utc>) -> anyhow::Result<()> {
        match kind {
            "window" => {
                let stored = self.store.definition(DefinitionKind::Window, key).await?;
                let window = stored.and_then(|s| valid_window(&s.key, &s.spec));
                self.catalog.set_api_window(key, window, now);
            }
            "team" => {
                let stored = self.store.definition(DefinitionKind::Team, key).await?;
                let team = stored.and_then(|s| valid_team(&s.key, &s.spec));
                self.catalog.set_api_team(key, team, now);
            }
            "cell" => {
                let stored = self.store.definition(DefinitionKind::Cell, key).await?;
                let cell = stored.and_then(|s| valid_cell(&s.key, &s.spec));
                if let Some((team, item)) = key.split_once('/') {
                    self.catalog.set_api_cell(team, item, cell, now);
                }
            }
            overrides::CHANGE_KIND => {
                let fresh = self.store.override_by_id(key).await?;
                self.replace_override(key, fresh.filter(|o| o.ends_at() > now));
            }
            other => tracing::warn!(kind = other, key, "the change feed names a kind this build does not know"),
        }
        Ok(())
    }

    fn replace_override(&self, id: &str, fresh: Option<Override>) {
        let current = self.overrides.load();
        let kept = current.all().filter(|o| o.id != id).cloned();
        self.overrides.store(Arc::new(ActiveOverrides::new(kept.chain(fresh))));
    }

    /// Record the expiry of overrides that ran out (once, whichever replica
    /// gets there first) and drop every ended one from memory.
    pub async fn record_expiries(&self, now: DateTime<Utc>) -> anyhow::Result<Vec<Override>> {
        let expired = self.store.record_expired(now).await?;
        let current = self.overrides.load();
        if current.all().any(|o| o.ends_at() <= now) {
            let kept = current.all().filter(|o| o.ends_at() > now).cloned();
            self.overrides.store(Arc::new(ActiveOverrides::new(kept)));
        }
        Ok(expired)
    }

    /// After a write: bring memory up to date with the store at once, so the
    /// writer's next request sees its write. Should the read fail, the
    /// periodic sync catches up.
    async fn after_write(&self, now: DateTime<Utc>) {
        if let Err(e) = self.sync(now).await {
            tracing::error!(error = %format!("{e:#}"), "cannot read back a write; the next sync will");
        }
    }
}

impl Gate {
    /// Audit records, newest first.
    pub async fn audit_records(&self, filter: &AuditFilter) -> Result<Vec<AuditRecord>, Error> {
        self.store.audit(filter).await.map_err(|e| Error::store(e, "read the audit log"))
    }

    /// The last `n` real decisions, newest first, with when they were made.
    pub async fn recent_decisions(&self, n: i64) -> Result<Vec<(DateTime<Utc>, DecisionRecord)>, Error> {
        let filter = AuditFilter { kind: Some("decision".into()), limit: n, ..AuditFilter::default() };
        let records = self.audit_records(&filter).await?;
        Ok(records
            .into_iter()
            .filter_map(|r| DecisionRecord::from_details(&r.entry.details).map(|d| (r.entry.at, d)))
            .collect())
    }
}

fn valid_window(key: &str, spec: &serde_json::Value) -> Option<Window> {
    window_from_json(spec)
        .map_err(
            |p| tracing::error!(window = %key, problems = ?p, "a stored window no longer validates; it is ignored"),
        )
        .ok()
}

fn valid_team(key: &str, spec: &serde_json::Value) -> Option<Team> {
    team_from_json(spec)
        .map_err(|p| tracing::error!(team = %key, problems = ?p, "a stored team no longer validates; it is ignored"))
        .ok()
}

fn valid_cell(key: &str, spec: &serde_json::Value) -> Option<Cell> {
    serde_json::from_value::<CellSpec>(spec.clone())
        .map(|spec| Cell { spec, source: Source::Api })
        .map_err(|e| tracing::error!(cell = %key, error = %e, "a stored scorecard cell cannot be read; it is ignored"))
        .ok()
}

async fn load_definitions(store: &Store) -> anyhow::Result<(Vec<Window>, Vec<Team>, ApiCells)> {
    let windows = store.definitions(DefinitionKind::Window).await?;
    let teams = store.definitions(DefinitionKind::Team).await?;
    let cells = store.definitions(DefinitionKind::Cell).await?;
    Ok((
        windows.iter().filter_map(|s| valid_window(&s.key, &s.spec)).collect(),
        teams.iter().filter_map(|s| valid_team(&s.key, &s.spec)).collect(),
        cells
            .iter()
            .filter_map(|s| {
                let (team, item) = s.key.split_once('/')?;
                let cell = valid_cell(&s.key, &s.spec)?;
                Some(((team.to_string(), item.to_string()), Arc::new(cell)))
            })
            .collect(),
    ))
}
