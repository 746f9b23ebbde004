//! `deploy-gate validate --config PATH`

use std::path::Path;
use std::process::ExitCode;

use crate::config;

pub fn run(path: &Path) -> ExitCode {
    match config::load(path, &super::environment()) {
        Ok(c) => {
            println!(
                "{}: valid ({} windows, {} teams, {} files)",
                path.display(),
                c.windows.len(),
                c.teams.len(),
                c.files.len()
            );
            ExitCode::SUCCESS
        }
        Err(problems) => {
            for p in &problems {
                println!("{p}");
            }
            eprintln!("{} problem{} found", problems.len(), if problems.len() == 1 { "" } else { "s" });
            ExitCode::from(1)
        }
    }
}
