//! The command line: one file per subcommand.

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
    /// The token comes from DEPLOY_GATE_TOKEN.
    Override {
        /// The gate's base URL.
        #[arg(long, env = "DEPLOY_GATE_URL")]
        url: String,
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
        Command::Override {
            url,
            team,
            service,
            environment,
            reason,
            ticket,
            ttl,
        } => override_::run(override_::Request {
            url,
            token: std::env::var("DEPLOY_GATE_TOKEN").ok(),
            team,
            service,
            environment,
            reason,
            ticket,
            ttl,
        }),
        Command::Token {
            command:
                TokenCommand::New {
                    name,
                    role,
                    teams,
                    environments,
                },
        } => {
            let role = crate::config::Role::parse(&role).unwrap_or(crate::config::Role::Read);
            token::new(&name, role, &teams, &environments)
        }
    }
}

/// The process environment, as the config loader reads it.
fn environment() -> Vec<(String, String)> {
    std::env::vars().collect()
}
