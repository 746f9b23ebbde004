//! `deploy-gate override`: lift the gate in an emergency, with a reason.

use std::process::ExitCode;
use std::time::Duration;

use serde_json::json;

use crate::client::{Gate, error_message};

#[derive(Debug, clap::Args)]
pub struct Request {
    #[command(flatten)]
    pub target: super::Target,
    /// Why, in words others can act on later (e.g. "Hotfix for outage INC-4211").
    #[arg(long)]
    pub reason: String,
    /// An incident or change ticket.
    #[arg(long)]
    pub ticket: Option<String>,
    /// How long, e.g. 30m or 2h (default 1h, at most [auth] max_override_ttl).
    #[arg(long)]
    pub ttl: Option<String>,
}

/// Exit 0 when the override is in force, 1 when the gate refused it, 2 when
/// the gate could not be asked.
pub fn run(r: Request) -> ExitCode {
    let t = &r.target;
    if t.token.as_deref().is_none_or(str::is_empty) {
        eprintln!("deploy-gate: set DEPLOY_GATE_TOKEN to a token with the override (or admin) role");
        return ExitCode::from(2);
    }
    let body = json!({
        "team": t.team, "service": t.service, "environment": t.environment,
        "reason": r.reason, "ticket": r.ticket, "ttl": r.ttl,
    });
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("deploy-gate: cannot start: {e}");
            return ExitCode::from(2);
        }
    };
    let answer = runtime.block_on(async {
        let gate = Gate::new(&t.url, t.token.clone(), Duration::from_secs(5), Duration::from_secs(15))?;
        gate.send(reqwest::Method::POST, "/overrides", Some(&body)).await
    });
    match answer {
        Ok((201, o)) => {
            println!(
                "Override {} is in force for {} in {} until {} (created by {}).",
                o["id"].as_str().unwrap_or("?"),
                o["team"].as_str().unwrap_or("?"),
                o["environment"].as_str().unwrap_or("?"),
                o["expires_at"].as_str().unwrap_or("?"),
                o["created_by"].as_str().unwrap_or("?"),
            );
            println!(
                "Revoke it early with: curl -X DELETE -H 'Authorization: Bearer ...' {}/overrides/{}",
                t.url.trim_end_matches('/'),
                o["id"].as_str().unwrap_or("?")
            );
            ExitCode::SUCCESS
        }
        Ok((status, body)) => {
            eprintln!("deploy-gate: the gate refused the override ({status}): {}", error_message(&body));
            ExitCode::from(1)
        }
        Err(e) => {
            eprintln!("deploy-gate: {e}");
            ExitCode::from(2)
        }
    }
}
