use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    deploy_gate::cli::run(deploy_gate::cli::Cli::parse())
}
