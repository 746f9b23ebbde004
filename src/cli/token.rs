//! `deploy-gate token new`: a fresh random token, printed once, and the
//! config lines that let the gate recognise it (by its SHA-256 only).

use std::process::ExitCode;

use crate::config::{Role, hex, token_digest};

pub fn new(name: &str, role: Role, teams: &[String], environments: &[String]) -> ExitCode {
    let mut secret = [0u8; 32];
    if let Err(e) = getrandom::fill(&mut secret) {
        eprintln!("deploy-gate: no randomness available: {e}");
        return ExitCode::from(1);
    }
    let token = format!("dg_{}", hex(&secret));
    let list = |items: &[String]| items.iter().map(|i| format!("\"{i}\"")).collect::<Vec<_>>().join(", ");
    println!("# The token, shown only now. Keep it as a CI secret (e.g. DEPLOY_GATE_TOKEN):");
    println!("{token}");
    println!();
    println!("# Add to the config file that holds [auth]:");
    println!("[[auth.tokens]]");
    println!("name = \"{name}\"");
    println!("sha256 = \"{}\"", hex(&token_digest(&token)));
    println!("role = \"{}\"", role.as_str());
    if !teams.is_empty() {
        println!("teams = [{}]", list(teams));
    }
    if !environments.is_empty() {
        println!("environments = [{}]", list(environments));
    }
    ExitCode::SUCCESS
}
