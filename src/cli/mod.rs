//! The command line: one file per subcommand.

mod check;
mod ci;
mod health;
mod override_;
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
    Override {
        /// The gate's base URL.
        #[arg(long, env = "DEPLOY_GATE_URL")]
        url: String,
        /// A token (better given as DEPLOY_GATE_TOKEN than on the command line).
        #[arg(long, env = "DEPLOY_GATE_TOKEN", hide_env_values = true)]
        token: Option<String>,
        #[arg(long)]
        team: String,
        /// Only this service (default: every service of the team).
        #[arg(long)]
        service: Option<String>,
        #[arg(long)]
        environment: String,
        /// Why, in words others can act on later (e.g. "Hotfix for outage INC-4211").
        #[arg(long)]
        reason: String,
        /// An incident or change ticket.
        #[arg(long)]
        ticket: Option<String>,
        /// How long, e.g. 30m or 2h (default 1h, at most [auth] max_override_ttl).
        #[arg(long)]
        ttl: Option<String>,
    },
    /// Ask the gate before a deploy: exit 0 allowed, 1 denied, 2 could not ask.
    Check {
        /// The gate's base URL.
        #[arg(long, env = "DEPLOY_GATE_URL")]
        url: String,
        /// A token (better given as DEPLOY_GATE_TOKEN than on the command line).
        #[arg(long, env = "DEPLOY_GATE_TOKEN", hide_env_values = true)]
        token: Option<String>,
        #[arg(long)]
        team: String,
        #[arg(long)]
        service: Option<String>,
        #[arg(long)]
        environment: String,
        /// How long the deploy takes, e.g. 20m: also denied if a freeze starts meanwhile.
        #[arg(long)]
        expected_duration: Option<String>,
        /// While denied, wait up to this long (e.g. 30m) for the next allowed time, then ask again.
        #[arg(long, value_parser = parse_wait)]
        wait: Option<std::time::Duration>,
        /// What to do when the gate cannot be asked: deny (exit 2) or allow (exit 0, with a warning).
        #[arg(long, value_parser = ["deny", "allow"], default_value = "deny")]
        on_error: String,
        /// Print the decision as JSON.
        #[arg(long)]
        json: bool,
        /// Give up on one request after this long.
        #[arg(long, value_parser = parse_wait, default_value = "10s")]
        timeout: std::time::Duration,
        /// Who deploys (default: from the CI system's variables).
        #[arg(long)]
        actor: Option<String>,
        /// The pipeline's URL (default: from the CI system's variables).
        #[arg(long)]
        pipeline_url: Option<String>,
        /// The commit deployed (default: from the CI system's variables).
        #[arg(long)]
        commit: Option<String>,
    },
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
        /// admin, override or read.
        #[arg(long, value_parser = ["admin", "override", "read"])]
        role: String,
        /// Teams an override token may act for (comma-separated globs; default all).
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
        Command::Override { url, token, team, service, environment, reason, ticket, ttl } => {
            override_::run(override_::Request { url, token, team, service, environment, reason, ticket, ttl })
        }
        Command::Check {
            url,
            token,
            team,
            service,
            environment,
            expected_duration,
            wait,
            on_error,
            json,
            timeout,
            actor,
            pipeline_url,
            commit,
        } => check::run(check::Check {
            url,
            token,
            team,
            service,
            environment,
            expected_duration,
            wait,
            on_error: if on_error == "allow" { check::OnError::Allow } else { check::OnError::Deny },
            json,
            timeout,
            actor,
            pipeline_url,
            commit,
        }),
        Command::Health { url } => health::run(url),
        Command::Token { command: TokenCommand::New { name, role, teams, environments } } => {
            let role = crate::config::Role::parse(&role).unwrap_or(crate::config::Role::Read);
            token::new(&name, role, &teams, &environments)
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

/// The process environment, as the config loader reads it.
fn environment() -> Vec<(String, String)> {
    std::env::vars().collect()
}
