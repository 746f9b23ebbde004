//! `deploy-gate validate --config PATH`

use std::path::Path;
use std::process::ExitCode;

use crate::config;

pub fn run(path: &Path) -> ExitCode {
    match config::load(path, &super::environment()) {
        Ok(c) => {
            let items = match c.scorecard.items.len() {
                0 => String::new(),
                n => format!(", {}", counted(n, "scorecard item")),
            };
            let maps = match c.processes.len() {
                0 => String::new(),
                n => format!(", {}", counted(n, "process map")),
            };
            println!(
                "{}: valid ({}, {}{items}{maps}, {})",
                path.display(),
                counted(c.windows.len(), "window"),
                counted(c.teams.len(), "team"),
                counted(c.files.len(), "file")
            );
            ExitCode::SUCCESS
        }
        Err(problems) => {
            for p in &problems {
                println!("{p}");
            }
            eprintln!("{} found", counted(problems.len(), "problem"));
            ExitCode::from(1)
        }
    }
}

/// "1 window", "2 windows".
pub fn counted(n: usize, what: &str) -> String {
    if n == 1 { format!("1 {what}") } else { format!("{n} {what}s") }
}
