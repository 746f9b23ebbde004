//! The command line: one file per subcommand.

mod check;
mod ci;
mod health;
mod override_;
mod report;
mod serve;
mod token;
mod validate;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "deploy-gate",
    version,
    about = "Answers CI's \"may I deploy now?\" from deploy windows and team risk"
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the service.
    Serve {
        /// A TOML file, or a directory whose *.toml files are merged.
        #[arg(long)]
        config: PathBuf,
        /// ADDRESS:PORT to listen on, instead of [server] listen.
        #[arg(long)]
        listen: Option<std::net::SocketAddr>,
    },
    /// Check a config and print every problem, one a line; exit 1 if any.
    Validate {
        #[arg(long)]
        config: PathBuf,
    },
    /// Lift the gate in an emergency: a time-limited, audited override.
    Override(override_::Request),
    /// Ask the gate before a deploy: exit 0 allowed, 1 denied, 2 could not ask.
    Check(check::Check),
    /// Report a deployment's start or outcome (token with the deploy role).
    Report(report::Report),
    /// Exit 0 when the gate at URL is ready (for container health checks).
    Health {
        /// Default: 127.0.0.1 on the port of DEPLOY_GATE_SERVER__LISTEN, else 8080.
        #[arg(long)]
        url: Option<String>,
    },
    /// Manage API tokens.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
}

#[derive(Debug, Subcommand)]
enum TokenCommand {
    /// Make a random token; print it once, with the config lines to paste.
    New {
        /// A name for the token, shown in the audit log.
        #[arg(long)]
        name: String,
        /// admin, override, read, team (edits its teams' scorecard) or deploy.
        #[arg(long, value_parser = ["admin", "override", "read", "team", "deploy"])]
        role: String,
        /// Teams an override or team token may act for (comma-separated globs; default all).
        #[arg(long, value_delimiter = ',')]
        teams: Vec<String>,
        /// Environments an override token may act in (comma-separated globs; default all).
        #[arg(long, value_delimiter = ',')]
        environments: Vec<String>,
    },
}

/// Run the parsed command line and say how the process should exit.
pub fn run(cli: Cli) -> ExitCode {
    match cli.command {
        Command::Serve { config, listen } => serve::run(&config, listen),
        Command::Validate { config } => validate::run(&config),
        Command::Override(request) => override_::run(request),
        Command::Check(check) => check::run(check),
        Command::Report(report) => report::run(report),
        Command::Health { url } => health::run(url),
        Command::Token { command: TokenCommand::New { name, role, teams, environments } } => {
            let role = crate::config::Role::parse(&role).unwrap_or(crate::config::Role::Read);
            token::new(&name, role, &teams, &environments)
        }
    }
}

/// Which gate to ask, with what token, about which deploy.
#[derive(Debug, clap::Args)]
pub struct DeployArgs {
    /// The gate's base URL.
    #[arg(long, env = "DEPLOY_GATE_URL")]
    pub url: String,
    /// A token (better given as DEPLOY_GATE_TOKEN than on the command line).
    #[arg(long, env = "DEPLOY_GATE_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    #[arg(long)]
    pub team: String,
    /// The service (default: the team's whole surface).
    #[arg(long)]
    pub service: Option<String>,
    #[arg(long)]
    pub environment: String,
}

impl std::fmt::Display for DeployArgs {
    /// "payments/api in production".
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.service {
            Some(s) => write!(f, "{}/{s} in {}", self.team, self.environment),
            None => write!(f, "{} in {}", self.team, self.environment),
        }
    }
}

/// A duration such as 90s, 10m or 1h; a bare number is seconds.
fn parse_wait(text: &str) -> Result<std::time::Duration, String> {
    if let Ok(seconds) = text.parse::<u64>() {
        return Ok(std::time::Duration::from_secs(seconds));
    }
    humantime::parse_duration(text).map_err(|e| format!("`{text}` is not a duration ({e}); write e.g. 90s, 10m or 1h"))
}

/// A runtime for one command's requests; when there is none, the exit code
/// (2, after saying why).
fn runtime() -> Result<tokio::runtime::Runtime, ExitCode> {
    tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| {
        eprintln!("deploy-gate: cannot start: {e}");
        ExitCode::from(2)
    })
}

/// Say that the client retries a connection.
fn show_retry(event: crate::client::Event) {
    let crate::client::Event::Retrying { url, attempt, of, delay } = event;
    eprintln!("deploy-gate: cannot connect to {url} (attempt {attempt} of {of}); retrying in {delay:?}");
}

/// The process environment, as the config loader reads it.
fn environment() -> Vec<(String, String)> {
    std::env::vars().collect()
}
