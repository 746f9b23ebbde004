//! The command line: one file per subcommand.

mod serve;
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
}

/// Run the parsed command line and say how the process should exit.
pub fn run(cli: Cli) -> ExitCode {
    match cli.command {
        Command::Serve { config, listen } => serve::run(&config, listen),
        Command::Validate { config } => validate::run(&config),
    }
}

/// The process environment, as the config loader reads it.
fn environment() -> Vec<(String, String)> {
    std::env::vars().collect()
}
