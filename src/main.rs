use std::process::ExitCode;

use clap::Parser;

/// jemalloc hands memory back to the system soon after a burst (a config
/// load parses megabytes of TOML), where glibc's allocator keeps it.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> ExitCode {
    deploy_gate::cli::run(deploy_gate::cli::Cli::parse())
}
