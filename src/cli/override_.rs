//! `deploy-gate override`: lift the gate in an emergency, with a reason.

use std::process::ExitCode;
use std::time::Duration;

use crate::client::{GateClient, Reply};
use crate::wire::OverrideRequest;

#[derive(Debug, clap::Args)]
pub struct Request {
    #[command(flatten)]
    pub deploy: super::DeployArgs,
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
    let d = &r.deploy;
    if d.token.as_deref().is_none_or(str::is_empty) {
        eprintln!("deploy-gate: set DEPLOY_GATE_TOKEN to a token with the override (or admin) role");
        return ExitCode::from(2);
    }
    let body = OverrideRequest {
        team: Some(d.team.clone()),
        service: d.service.clone(),
        environment: Some(d.environment.clone()),
        reason: Some(r.reason.clone()),
        ticket: r.ticket.clone(),
        ttl: r.ttl.clone(),
    };
    let runtime = match super::runtime() {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    let answer = runtime.block_on(async {
        let gate = GateClient::new(&d.url, d.token.clone(), Duration::from_secs(5), Duration::from_secs(15))?;
        gate.create_override(&body, &mut super::show_retry).await
    });
    match answer {
        Ok(Reply::Done(created)) => {
            let o = &created.created;
            println!(
                "Override {} is in force for {} in {} until {} (created by {}).",
                o.id,
                o.team,
                o.environment,
                o.expires_at.format("%Y-%m-%d %H:%M:%S UTC"),
                o.created_by,
            );
            for w in &created.warnings {
                println!("WARNING: it does not lift {}: {}", w.code.as_str(), w.message);
            }
            println!(
                "Revoke it early with: curl -X DELETE -H 'Authorization: Bearer ...' {}/overrides/{}",
                d.url.trim_end_matches('/'),
                o.id
            );
            ExitCode::SUCCESS
        }
        Ok(Reply::Refused { status, error }) => {
            eprintln!("deploy-gate: the gate refused the override ({status}): {}", error.line());
            for p in &error.error.problems {
                eprintln!("  {}: {}", p.field, p.message);
            }
            ExitCode::from(1)
        }
        Err(e) => {
            eprintln!("deploy-gate: {e}");
            ExitCode::from(2)
        }
    }
}
