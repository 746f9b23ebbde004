//! Settings and the window/team files: load, merge, validate. Every problem
//! is collected, so `validate` and a refused `serve` name all of them.

mod fields;
mod health;
mod json;
mod lines;
mod scorecard;
mod settings;
mod team;
mod traffic;
mod window;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use toml::{Table, Value};

pub use fields::{Problem, did_you_mean};
pub use health::process_from_value;
pub use json::{table_from_json, team_from_json, window_from_json};
pub use scorecard::{CELL_KEYS, cell_from_table};
pub use settings::{DEFAULTS, LogFormat, Role, Settings, TokenSpec, hex, hex32, token_digest};
pub use team::team_from_table;
pub use traffic::{NEW_RELIC_ENDPOINT, TrafficSettings};
pub use window::{check_id, parse_duration_text, parse_time_text, window_from_table};

use crate::error::ErrorCode;
use crate::health_checks::HealthSettings;
use crate::policy::{Cell, Rules, Scorecard, Source, Team, Window};
use settings::Located;

const SETTINGS_TABLES: &[&str] = &["server", "store", "auth", "policy"];
const TOP_LEVEL: &[&str] = &["server", "store", "auth", "policy", "scorecard", "traffic", "health", "windows", "teams"];

/// Process maps by team name.
pub type Processes = BTreeMap<String, Arc<crate::process_maps::ProcessMap>>;

/// A loaded, valid configuration.
#[derive(Clone, Debug)]
pub struct Config {
    pub settings: Settings,
    pub windows: Vec<Arc<Window>>,
    pub teams: Vec<Arc<Team>>,
    /// The risk items and how unassessed cells count.
    pub scorecard: Arc<Scorecard>,
    /// Where traffic data comes from.
    pub traffic: Arc<TrafficSettings>,
    /// The health check topics (never read by the decision engine).
    pub health: Arc<HealthSettings>,
    /// Each team's process map, by team name.
    pub processes: Arc<Processes>,
    /// The files read, in order.
    pub files: Vec<PathBuf>,
}

impl Config {
    /// Compile the decision rules from the config alone.
    pub fn rules(&self) -> Rules {
        Rules::new(crate::policy::Inputs {
            windows: self.windows.clone(),
            teams: self.teams.clone(),
            policy: self.settings.policy.clone(),
            scorecard: self.scorecard.clone(),
            api_cells: Default::default(),
        })
    }
}

/// The `*.toml` files that `path` stands for: the file itself, or every
/// `*.toml` directly in a directory, sorted by name.
pub fn config_files(path: &Path) -> Result<Vec<PathBuf>, Problem> {
    let shown = path.display().to_string();
    let meta = std::fs::metadata(path)
        .map_err(|e| Problem::new(Some(&shown), "", "", ErrorCode::Unreadable, format!("cannot read config: {e}")))?;
    if !meta.is_dir() {
        return Ok(vec![path.to_path_buf()]);
    }
    let entries = std::fs::read_dir(path).map_err(|e| {
        Problem::new(Some(&shown), "", "", ErrorCode::Unreadable, format!("cannot list config directory: {e}"))
    })?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(Problem::new(Some(&shown), "", "", ErrorCode::Unreadable, "holds no *.toml files"));
    }
    Ok(files)
}

/// Load `path` (a file or a directory) with the given environment variables
/// (`DEPLOY_GATE_<TABLE>__<KEY>` override settings).
pub fn load(path: &Path, env: &[(String, String)]) -> Result<Config, Vec<Problem>> {
    let files = config_files(path).map_err(|p| vec![p])?;
    let mut texts = Vec::new();
    let mut problems = Vec::new();
    for file in &files {
        let shown = file.display().to_string();
        match std::fs::read_to_string(file) {
            Ok(text) => texts.push((shown, text)),
            Err(e) => {
                problems.push(Problem::new(Some(&shown), "", "", ErrorCode::Unreadable, format!("cannot read: {e}")))
            }
        }
    }
    let sources: Vec<(&str, &str)> = texts.iter().map(|(f, t)| (f.as_str(), t.as_str())).collect();
    match load_texts(&sources, env) {
        Ok(mut config) if problems.is_empty() => {
            config.files = files;
            Ok(config)
        }
        Ok(_) => Err(problems),
        Err(mut more) => {
            problems.append(&mut more);
            Err(problems)
        }
    }
}

/// Load from (file name, TOML text) pairs.
pub fn load_texts(sources: &[(&str, &str)], env: &[(String, String)]) -> Result<Config, Vec<Problem>> {
    let mut reader = Reader::default();
    let parsed = reader.parse(sources);
    for (file, table) in &parsed {
        for (key, value) in table {
            reader.top_level(file, key, value);
        }
    }
    let Reader {
        mut problems, settings_at, windows, teams, scorecard_at, cells, traffic_at, health_at, processes, ..
    } = reader;
    let health = match health_at {
        Some((file, table)) => {
            let (health, mut p) = health::health_from_table(table, file);
            problems.append(&mut p);
            health
        }
        None => HealthSettings::default(),
    };
    let traffic = match traffic_at {
        Some((file, table)) => {
            let (traffic, mut p) = traffic::traffic_from_table(table, file);
            problems.append(&mut p);
            traffic
        }
        None => TrafficSettings::default(),
    };
    let settings = settings_from(&settings_at, env, &mut problems);
    let scorecard = match &scorecard_at {
        Some((file, table)) => {
            let (scorecard, mut p) = scorecard::scorecard_from_table(table, file);
            problems.append(&mut p);
            scorecard
        }
        None => Scorecard::default(),
    };
    problems.append(&mut scorecard::unknown_items(&cells, scorecard_at.map(|(_, t)| t)));
    for (file, text) in sources {
        let mut here = problems
            .iter_mut()
            .filter(|p| p.file.as_deref() == Some(*file) && p.code != ErrorCode::InvalidToml)
            .peekable();
        if here.peek().is_none() {
            continue;
        }
        let locator = lines::Locator::new(text);
        for p in here {
            // A missing key has no line: its table's line is the next best.
            p.line = locator.locate(&p.scope, &p.key).or_else(|| locator.locate(&p.scope, ""));
        }
    }
    match settings {
        Some(settings) if problems.is_empty() => Ok(Config {
            settings,
            windows,
            teams,
            scorecard: Arc::new(scorecard),
            traffic: Arc::new(traffic),
            health: Arc::new(health),
            processes: Arc::new(processes),
            files: Vec::new(),
        }),
        _ => Err(problems),
    }
}

/// What the files hold so far, and every problem found.
#[derive(Default)]
struct Reader<'a> {
    problems: Vec<Problem>,
    settings_at: HashMap<&'a str, (&'a str, &'a Table)>,
    /// Every `[teams.scorecard.ITEM]` written (file, team, item), valid or not,
    /// checked against the items once every file is read.
    cells: Vec<(String, String, String)>,
    /// `[scorecard]`, which may stand in one file only.
    scorecard_at: Option<(&'a str, &'a Table)>,
    /// Cells and item ids seen so far: equal ones are kept once.
    interned_cells: HashMap<Cell, Arc<Cell>>,
    interned_items: HashMap<String, Arc<str>>,
    /// `[traffic]`, likewise.
    traffic_at: Option<(&'a str, &'a Table)>,
    /// `[health]`, likewise.
    health_at: Option<(&'a str, &'a Table)>,
    processes: Processes,
    windows: Vec<Arc<Window>>,
    window_files: HashMap<String, String>,
    teams: Vec<Arc<Team>>,
    team_files: HashMap<String, String>,
}

impl<'a> Reader<'a> {
    fn problem(&mut self, file: &str, scope: &str, key: &str, code: ErrorCode, message: impl Into<String>) {
        self.problems.push(Problem::new(Some(file), scope, key, code, message));
    }

    /// Each file's TOML; a syntax error is one problem, on one line.
    fn parse(&mut self, sources: &[(&'a str, &str)]) -> Vec<(&'a str, Table)> {
        let mut parsed = Vec::new();
        for (file, text) in sources {
            match text.parse::<Table>() {
                Ok(table) => parsed.push((*file, table)),
                Err(e) => {
                    let at = e.span().map(|s| {
                        let line = lines::line_of(text, s.start);
                        let column = s.start - text[..s.start.min(text.len())].rfind('\n').map_or(0, |i| i + 1) + 1;
                        format!("line {line}, column {column}: ")
                    });
                    let message = e.message().split_whitespace().collect::<Vec<_>>().join(" ");
                    self.problem(file, "", "", ErrorCode::InvalidToml, format!("{}{message}", at.unwrap_or_default()));
                }
            }
        }
        parsed
    }

    fn top_level(&mut self, file: &'a str, key: &'a str, value: &'a Value) {
        match key {
            k if SETTINGS_TABLES.contains(&k) => self.settings_table(file, k, value),
            "scorecard" => self.scorecard_table(file, value),
            "traffic" => self.traffic_table(file, value),
            "health" => self.health_table(file, value),
            "windows" | "teams" => {
                let Value::Array(items) = value else {
                    self.problem(file, key, "", ErrorCode::InvalidType, format!("must be [[{key}]] tables"));
                    return;
                };
                for (i, item) in items.iter().enumerate() {
                    match item.as_table() {
                        Some(t) if key == "windows" => self.window(file, t, i),
                        Some(t) => self.team(file, t, i),
                        None => self.problem(
                            file,
                            &format!("{key}[{i}]"),
                            "",
                            ErrorCode::InvalidType,
                            format!("must be a [[{key}]] table"),
                        ),
                    }
                }
            }
            other => {
                let hint = match did_you_mean(other, TOP_LEVEL) {
                    Some(k) => format!("unknown table; did you mean `{k}`?"),
                    None => format!("unknown table; known ones are {}", TOP_LEVEL.join(", ")),
                };
                self.problem(file, "", other, ErrorCode::UnknownField, hint);
            }
        }
    }

    /// A settings table, which may stand in one file only.
    fn settings_table(&mut self, file: &'a str, name: &'a str, value: &'a Value) {
        let Value::Table(t) = value else {
            self.problem(file, name, "", ErrorCode::InvalidType, format!("must be a table: [{name}]"));
            return;
        };
        if let Some((first, _)) = self.settings_at.get(name) {
            let message = format!("[{name}] is also in {first}; keep each settings table in one file");
            self.problem(file, name, "", ErrorCode::MisplacedSettings, message);
            return;
        }
        self.settings_at.insert(name, (file, t));
    }

    /// `[scorecard]` and its `[[scorecard.items]]`, in one file only.
    fn scorecard_table(&mut self, file: &'a str, value: &'a Value) {
        let Value::Table(t) = value else {
            self.problem(file, "scorecard", "", ErrorCode::InvalidType, "must be a table: [scorecard]");
            return;
        };
        if let Some((first, _)) = self.scorecard_at {
            let message = format!("[scorecard] is also in {first}; keep the scorecard's items in one file");
            self.problem(file, "scorecard", "", ErrorCode::MisplacedSettings, message);
            return;
        }
        self.scorecard_at = Some((file, t));
    }

    /// `[traffic]` and its `[[traffic.sources]]`, in one file only.
    fn traffic_table(&mut self, file: &'a str, value: &'a Value) {
        let Value::Table(t) = value else {
            self.problem(file, "traffic", "", ErrorCode::InvalidType, "must be a table: [traffic]");
            return;
        };
        if let Some((first, _)) = self.traffic_at {
            let message = format!("[traffic] is also in {first}; keep the traffic sources in one file");
            self.problem(file, "traffic", "", ErrorCode::MisplacedSettings, message);
            return;
        }
        self.traffic_at = Some((file, t));
    }

    /// `[health]` and its `[[health.topics]]`, in one file only.
    fn health_table(&mut self, file: &'a str, value: &'a Value) {
        let Value::Table(t) = value else {
            self.problem(file, "health", "", ErrorCode::InvalidType, "must be a table: [health]");
            return;
        };
        if let Some((first, _)) = self.health_at {
            let message = format!("[health] is also in {first}; keep the health check topics in one file");
            self.problem(file, "health", "", ErrorCode::MisplacedSettings, message);
            return;
        }
        self.health_at = Some((file, t));
    }

    fn window(&mut self, file: &str, table: &Table, index: usize) {
        match window_from_table(table, Some(file), index, Source::Config) {
            Ok(w) => match self.window_files.get(w.id()) {
                Some(other) => {
                    let message = format!("is already used by a window in {other}; window ids must be unique");
                    self.problem(file, &format!("windows[{}]", w.id()), "id", ErrorCode::DuplicateId, message);
                }
                None => {
                    self.window_files.insert(w.id().to_string(), file.to_string());
                    self.windows.push(Arc::new(w));
                }
            },
            Err(mut p) => self.problems.append(&mut p),
        }
    }

    fn team(&mut self, file: &str, table: &Table, index: usize) {
        if let (Some(Value::Table(cells)), Some(name)) =
            (table.get("scorecard"), table.get("name").and_then(Value::as_str))
        {
            let name = name.to_ascii_lowercase();
            self.cells.extend(cells.keys().map(|item| (file.to_string(), name.clone(), item.clone())));
        }
        match team_from_table(table, Some(file), index, Source::Config) {
            Ok(mut team) => {
                // Most cells of a large scorecard are alike: keep each once.
                team.cells = std::mem::take(&mut team.cells)
                    .into_iter()
                    .map(|(item, cell)| {
                        let item = self.interned_items.entry(item.to_string()).or_insert(item).clone();
                        let cell = self.interned_cells.entry((*cell).clone()).or_insert(cell).clone();
                        (item, cell)
                    })
                    .collect();
                let name = team.name.to_string();
                match self.team_files.get(&name) {
                    Some(other) => {
                        let message = format!("is already used by a team in {other}; team names must be unique");
                        self.problem(file, &format!("teams[{name}]"), "name", ErrorCode::DuplicateId, message);
                    }
                    None => {
                        if let Some(steps) = table.get("process") {
                            match health::process_from_value(steps, Some(file), &format!("teams[{name}]")) {
                                Ok(map) => {
                                    self.processes.insert(name.clone(), Arc::new(map));
                                }
                                Err(mut p) => self.problems.append(&mut p),
                            }
                        }
                        self.team_files.insert(name, file.to_string());
                        self.teams.push(Arc::new(team));
                    }
                }
            }
            Err(mut p) => self.problems.append(&mut p),
        }
    }
}

/// Defaults, then the config's tables key by key, then the environment.
fn settings_from(
    found: &HashMap<&str, (&str, &Table)>,
    env: &[(String, String)],
    problems: &mut Vec<Problem>,
) -> Option<Settings> {
    let defaults: Table = match DEFAULTS.parse() {
        Ok(t) => t,
        Err(e) => {
            problems.push(Problem::new(Some("built-in defaults"), "", "", ErrorCode::InvalidToml, e.to_string()));
            return None;
        }
    };
    let empty = Table::new();
    let base = |name: &str| defaults.get(name).and_then(Value::as_table).cloned().unwrap_or_default();
    let from_env = settings_from_env(env, problems);

    // Defaults, then the file's table (checked against that file), then the environment.
    let read = |name: &str| -> (Table, Option<String>) {
        let mut merged = base(name);
        let file = found.get(name).map(|(f, t)| {
            merged.extend(t.iter().map(|(k, v)| (k.clone(), v.clone())));
            f.to_string()
        });
        if let Some(t) = from_env.get(name) {
            merged.extend(t.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
        (merged, file)
    };
    let (server_t, server_f) = read("server");
    let (store_t, store_f) = read("store");
    let (auth_t, auth_f) = read("auth");

    let (listen, log_format, mut p) = settings::server(&Located { table: &server_t, file: server_f.as_deref() });
    problems.append(&mut p);
    let (store_url, mut p) = settings::store(&Located { table: &store_t, file: store_f.as_deref() });
    problems.append(&mut p);
    let (mut auth, mut p) = settings::auth(&Located { table: &auth_t, file: auth_f.as_deref() });
    problems.append(&mut p);
    match settings::bootstrap_admin(env) {
        Ok(Some(admin)) => auth.tokens.push(admin),
        Ok(None) => {}
        Err(p) => problems.push(p),
    }
    let (policy_t, policy_f) = found.get("policy").map_or((&empty, None), |(f, t)| (*t, Some(*f)));
    let (policy, mut p) = settings::policy(&Located { table: policy_t, file: policy_f });
    problems.append(&mut p);

    Some(Settings {
        listen: listen?,
        log_format: log_format?,
        store_url: store_url?,
        decisions_need_token: auth.decisions_need_token?,
        reads_need_token: auth.reads_need_token?,
        max_override_ttl: auth.max_override_ttl?,
        tokens: auth.tokens,
        policy,
    })
}

/// `DEPLOY_GATE_<TABLE>__<KEY>` variables, by table; unknown ones are problems.
fn settings_from_env(env: &[(String, String)], problems: &mut Vec<Problem>) -> HashMap<String, Table> {
    let mut from_env: HashMap<String, Table> = HashMap::new();
    for (var, value) in env {
        let Some((table, key)) = var.strip_prefix("DEPLOY_GATE_").and_then(|rest| rest.split_once("__")) else {
            continue;
        };
        let (table, key) = (table.to_ascii_lowercase(), key.to_ascii_lowercase());
        let unknown = |message: String| Problem::new(Some("environment"), var, "", ErrorCode::UnknownField, message);
        let Some(known) = settings::env_keys(&table) else {
            problems.push(unknown("only [server], [store] and [auth] settings can come from the environment".into()));
            continue;
        };
        if !known.contains(&key.as_str()) {
            problems.push(unknown(format!("[{table}] has no setting `{key}`; known ones are {}", known.join(", "))));
            continue;
        }
        let v = match value.as_str() {
            "true" => Value::Boolean(true),
            "false" => Value::Boolean(false),
            _ => Value::String(value.clone()),
        };
        from_env.entry(table).or_default().insert(key, v);
    }
    from_env
}
