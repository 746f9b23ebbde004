//! The settings tables: `[server]`, `[store]`, `[auth]`, `[policy]`.

use std::collections::HashMap;
use std::net::SocketAddr;

use chrono::Duration;
use serde::Serialize;
use toml::{Table, Value};

use super::fields::{Fields, Problem};
use super::window::parse_duration_text;
use crate::error::ErrorCode;
use crate::policy::{Action, EnvironmentPolicy, Name, Policy, Selector};

/// The keys of each settings table.
pub const SERVER_KEYS: &[&str] = &["listen", "log_format"];
pub const STORE_KEYS: &[&str] = &["url"];
pub const AUTH_KEYS: &[&str] = &["decisions_need_token", "reads_need_token", "max_override_ttl", "tokens"];

/// The keys an environment variable may set (a list of tables cannot).
pub fn env_keys(table: &str) -> Option<&'static [&'static str]> {
    match table {
        "server" => Some(SERVER_KEYS),
        "store" => Some(STORE_KEYS),
        "auth" => Some(&AUTH_KEYS[..3]),
        _ => None,
    }
}

/// The built-in settings, documented; files and environment override them.
pub const DEFAULTS: &str = include_str!("../config.default.toml");

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Pretty,
    Json,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Admin,
    Override,
    Read,
    /// Edits its teams' scorecard cells (and later their health checks).
    Team,
    /// Reports deployments.
    Deploy,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Override => "override",
            Role::Read => "read",
            Role::Team => "team",
            Role::Deploy => "deploy",
        }
    }

    pub fn parse(text: &str) -> Option<Role> {
        match text {
            "admin" => Some(Role::Admin),
            "override" => Some(Role::Override),
            "read" => Some(Role::Read),
            "team" => Some(Role::Team),
            "deploy" => Some(Role::Deploy),
            _ => None,
        }
    }
}

/// A configured API token: only the SHA-256 digest of the secret is kept.
#[derive(Clone, Debug)]
pub struct TokenSpec {
    pub name: String,
    pub sha256: [u8; 32],
    pub role: Role,
    pub teams: Selector,
    pub environments: Selector,
}

#[derive(Clone, Debug)]
pub struct Settings {
    pub listen: SocketAddr,
    pub log_format: LogFormat,
    pub store_url: String,
    pub decisions_need_token: bool,
    /// Every read route (the dashboard too) needs a `read` or `admin` token.
    pub reads_need_token: bool,
    pub max_override_ttl: Duration,
    pub tokens: Vec<TokenSpec>,
    pub policy: Policy,
}

/// One settings table, with the file it came from.
pub struct Located<'a> {
    pub table: &'a Table,
    pub file: Option<&'a str>,
}

pub fn server(loc: &Located) -> (Option<SocketAddr>, Option<LogFormat>, Vec<Problem>) {
    let mut f = Fields::new(loc.table, loc.file, "server".into(), SERVER_KEYS);
    let listen = f.string("listen").and_then(|s| match s.parse::<SocketAddr>() {
        Ok(a) => Some(a),
        Err(_) => {
            f.problem(
                "listen",
                ErrorCode::InvalidValue,
                format!("`{s}` is not ADDRESS:PORT, e.g. \"127.0.0.1:8080\" or \"0.0.0.0:8080\""),
            );
            None
        }
    });
    let log_format = f.string("log_format").and_then(|s| match s {
        "pretty" => Some(LogFormat::Pretty),
        "json" => Some(LogFormat::Json),
        other => {
            f.problem(
                "log_format",
                ErrorCode::InvalidValue,
                format!("`{other}` is not a log format; use \"pretty\" or \"json\""),
            );
            None
        }
    });
    (listen, log_format, f.finish())
}

pub fn store(loc: &Located) -> (Option<String>, Vec<Problem>) {
    let mut f = Fields::new(loc.table, loc.file, "store".into(), STORE_KEYS);
    let url = f.string("url").and_then(|u| match crate::store::check_url(u) {
        Ok(()) => Some(u.to_string()),
        Err(message) => {
            f.problem("url", ErrorCode::InvalidValue, message);
            None
        }
    });
    (url, f.finish())
}

pub struct Auth {
    pub decisions_need_token: Option<bool>,
    pub reads_need_token: Option<bool>,
    pub max_override_ttl: Option<Duration>,
    pub tokens: Vec<TokenSpec>,
}

pub fn auth(loc: &Located) -> (Auth, Vec<Problem>) {
    let mut f = Fields::new(loc.table, loc.file, "auth".into(), AUTH_KEYS);
    let decisions_need_token = f.boolean("decisions_need_token");
    let reads_need_token = f.boolean("reads_need_token");
    let max_override_ttl = f.string("max_override_ttl").and_then(|s| match parse_duration_text(s) {
        Ok(d) => Some(d),
        Err(message) => {
            f.problem("max_override_ttl", ErrorCode::InvalidDuration, message);
            None
        }
    });
    let mut problems = Vec::new();
    let mut tokens = Vec::new();
    match loc.table.get("tokens") {
        None => {}
        Some(Value::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                match item.as_table() {
                    Some(t) => match token(t, loc.file, i) {
                        Ok(tok) => tokens.push(tok),
                        Err(mut p) => problems.append(&mut p),
                    },
                    None => f.problem("tokens", ErrorCode::InvalidType, "must be [[auth.tokens]] tables"),
                }
            }
        }
        Some(_) => f.problem("tokens", ErrorCode::InvalidType, "must be [[auth.tokens]] tables"),
    }
    let mut names: HashMap<&str, usize> = HashMap::new();
    for t in &tokens {
        *names.entry(&t.name).or_default() += 1;
    }
    for (name, n) in names {
        if n > 1 {
            problems.push(Problem::new(
                loc.file,
                &format!("auth.tokens[{name}]"),
                "name",
                ErrorCode::DuplicateId,
                "is used by more than one token; names must be unique",
            ));
        }
    }
    let mut all = f.finish();
    all.append(&mut problems);
    (Auth { decisions_need_token, reads_need_token, max_override_ttl, tokens }, all)
}

fn token(table: &Table, file: Option<&str>, index: usize) -> Result<TokenSpec, Vec<Problem>> {
    let scope = match table.get("name").and_then(|v| v.as_str()) {
        Some(n) if !n.is_empty() => format!("auth.tokens[{n}]"),
        _ => format!("auth.tokens[{index}]"),
    };
    let mut f = Fields::new(table, file, scope, &["name", "sha256", "role", "teams", "environments"]);
    let name = f.required_string("name", "\"github-actions\"").map(str::to_string);
    let sha256 = f.required_string("sha256", "\"<64 hex digits>\"").and_then(|h| match hex32(h) {
        Some(d) => Some(d),
        None => {
            f.problem("sha256", ErrorCode::InvalidValue, "must be the 64-hex-digit SHA-256 of the token, e.g. from `deploy-gate token new` or `printf %s TOKEN | sha256sum`");
            None
        }
    });
    let role = f.required_string("role", "\"override\"").and_then(|r| match Role::parse(r) {
        Some(role) => Some(role),
        None => {
            f.problem(
                "role",
                ErrorCode::InvalidValue,
                format!("`{r}` is not a role; use admin, override, read, team or deploy"),
            );
            None
        }
    });
    let teams = f.strings("teams").map_or(Selector::any(), |l| Selector::of(&l));
    let environments = f.strings("environments").map_or(Selector::any(), |l| Selector::of(&l));
    let problems = f.finish();
    match (name, sha256, role) {
        (Some(name), Some(sha256), Some(role)) if problems.is_empty() => {
            Ok(TokenSpec { name, sha256, role, teams, environments })
        }
        _ => Err(problems),
    }
}

/// The SHA-256 digest of a token: the only form in which tokens are kept.
pub fn token_digest(token: &str) -> [u8; 32] {
    use sha2::Digest;
    sha2::Sha256::digest(token.as_bytes()).into()
}

/// Lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The bootstrap admin token from `DEPLOY_GATE_ADMIN_TOKEN`, if set.
pub fn bootstrap_admin(env: &[(String, String)]) -> Result<Option<TokenSpec>, Problem> {
    let Some((_, token)) = env.iter().find(|(k, v)| k == "DEPLOY_GATE_ADMIN_TOKEN" && !v.is_empty()) else {
        return Ok(None);
    };
    if token.trim().len() < 16 {
        return Err(Problem::new(
            Some("environment"),
            "DEPLOY_GATE_ADMIN_TOKEN",
            "",
            ErrorCode::InvalidValue,
            "is shorter than 16 characters; use a long random token, e.g. from `deploy-gate token new`",
        ));
    }
    Ok(Some(TokenSpec {
        name: "bootstrap-admin".into(),
        sha256: token_digest(token.trim()),
        role: Role::Admin,
        teams: Selector::any(),
        environments: Selector::any(),
    }))
}

/// 64 hex digits into 32 bytes.
pub fn hex32(text: &str) -> Option<[u8; 32]> {
    let bytes = text.trim().as_bytes();
    if bytes.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, pair) in bytes.chunks(2).enumerate() {
        let s = std::str::from_utf8(pair).ok()?;
        out[i] = u8::from_str_radix(s, 16).ok()?;
    }
    Some(out)
}

pub fn policy(loc: &Located) -> (Policy, Vec<Problem>) {
    let mut f = Fields::new(loc.table, loc.file, "policy".into(), &["environments", "unknown_environment"]);
    let unknown_environment = match f.string("unknown_environment") {
        None => Action::Warn,
        Some(s) => Action::parse(s).unwrap_or_else(|| {
            f.problem(
                "unknown_environment",
                ErrorCode::InvalidValue,
                format!("`{s}` is not an action; use deny, warn or allow"),
            );
            Action::Warn
        }),
    };
    let mut environments = HashMap::new();
    let mut problems = Vec::new();
    match loc.table.get("environments") {
        None => {}
        Some(Value::Table(envs)) => {
            for (env, value) in envs {
                if let Some((name, p)) = environment_policy(loc.file, env, value, &mut problems)
                    && environments.insert(name.to_string(), p).is_some()
                {
                    problems.push(Problem::new(
                        loc.file,
                        &format!("policy.environments.{name}"),
                        "",
                        ErrorCode::DuplicateId,
                        "names an environment twice (names are case-insensitive)",
                    ));
                }
            }
        }
        Some(_) => {
            f.problem("environments", ErrorCode::InvalidType, "must be tables such as [policy.environments.production]")
        }
    }
    let mut all = f.finish();
    all.append(&mut problems);
    (Policy { environments, unknown_environment }, all)
}

/// One `[policy.environments.NAME]` table.
fn environment_policy(
    file: Option<&str>,
    env: &str,
    value: &Value,
    problems: &mut Vec<Problem>,
) -> Option<(Name, EnvironmentPolicy)> {
    let scope = format!("policy.environments.{env}");
    let name = match Name::parse("environment", env) {
        Ok(name) => name,
        Err(message) => {
            problems.push(Problem::new(file, &scope, "", ErrorCode::InvalidValue, message));
            return None;
        }
    };
    let Some(table) = value.as_table() else {
        let message = "must be a table with red, yellow and unknown_team";
        problems.push(Problem::new(file, &scope, "", ErrorCode::InvalidType, message));
        return None;
    };
    let mut ef = Fields::new(table, file, scope, &["red", "yellow", "unknown_team", "busy_traffic", "peak_traffic"]);
    let defaults = EnvironmentPolicy::default();
    let mut action = |key: &str, default: Action| match ef.string(key) {
        None => default,
        Some(s) => Action::parse(s).unwrap_or_else(|| {
            ef.problem(key, ErrorCode::InvalidValue, format!("`{s}` is not an action; use deny, warn or allow"));
            default
        }),
    };
    let p = EnvironmentPolicy {
        red: action("red", defaults.red),
        yellow: action("yellow", defaults.yellow),
        unknown_team: action("unknown_team", defaults.unknown_team),
        busy_traffic: action("busy_traffic", defaults.busy_traffic),
        peak_traffic: action("peak_traffic", defaults.peak_traffic),
    };
    problems.append(&mut ef.finish());
    Some((name, p))
}
