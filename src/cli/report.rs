//! `deploy-gate report`: tell the gate a deployment started and how it ended.

use std::process::ExitCode;
use std::time::Duration;

use sha2::Digest;

use super::ci::{Pipeline, detect};
use crate::client::{GateClient, Reply};
use crate::wire::{Deployment, DeploymentReport};

#[derive(Debug, clap::Args)]
pub struct Report {
    #[command(flatten)]
    pub deploy: super::DeployArgs,
    /// started, succeeded, failed or rolled_back.
    #[arg(long, value_parser = ["started", "succeeded", "failed", "rolled_back"])]
    pub status: String,
    /// The deployment's id. Default: one made from the CI run, the team,
    /// service and environment, so the start and the end of a deployment in
    /// one pipeline run match without passing it along.
    #[arg(long)]
    pub id: Option<String>,
    /// The decision that let the deployment go (`check` prints it, and in
    /// GitHub Actions hands it to later steps as DEPLOY_GATE_DECISION_ID).
    #[arg(long, env = "DEPLOY_GATE_DECISION_ID")]
    pub decision_id: Option<String>,
    /// The version deployed.
    #[arg(long)]
    pub version: Option<String>,
    /// Print the deployment as JSON.
    #[arg(long)]
    pub json: bool,
}

/// The same id for every report of one target from one pipeline run.
pub fn pipeline_id(pipeline: &Pipeline, d: &super::DeployArgs) -> Option<String> {
    let url = pipeline.pipeline_url.as_deref()?;
    let mut h = sha2::Sha256::new();
    for part in [url, &d.team, d.service.as_deref().unwrap_or(""), &d.environment] {
        h.update(part.as_bytes());
        h.update([0]);
    }
    Some(format!("dep-{}", &crate::config::hex(&h.finalize())[..24]))
}

/// Exit 0 when recorded, 1 when the gate refused the report, 2 when it could not be asked.
pub fn run(r: Report) -> ExitCode {
    let d = &r.deploy;
    if d.token.as_deref().is_none_or(str::is_empty) {
        eprintln!("deploy-gate: set DEPLOY_GATE_TOKEN to a token with the deploy (or admin) role");
        return ExitCode::from(2);
    }
    let pipeline = detect(|k| std::env::var(k).ok().filter(|v| !v.is_empty()));
    let body = DeploymentReport {
        id: r.id.clone().or_else(|| pipeline_id(&pipeline, d)),
        team: Some(d.team.clone()),
        service: d.service.clone(),
        environment: Some(d.environment.clone()),
        status: Some(r.status.clone()),
        decision_id: r.decision_id.clone(),
        version: r.version.clone(),
        commit: pipeline.commit.clone(),
        pipeline_url: pipeline.pipeline_url.clone(),
        started_at: None,
        finished_at: None,
    };
    let runtime = match super::runtime() {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    let answer = runtime.block_on(async {
        let gate = GateClient::new(&d.url, d.token.clone(), Duration::from_secs(5), Duration::from_secs(15))?;
        gate.send::<_, Deployment>(reqwest::Method::POST, "/deployments", Some(&body), &mut super::show_retry).await
    });
    match answer {
        Ok(Reply::Done(dep)) if r.json => {
            println!("{}", serde_json::to_string(&dep).unwrap_or_default());
            ExitCode::SUCCESS
        }
        Ok(Reply::Done(dep)) => {
            println!("deploy-gate: deployment {} of {d}: {}", dep.id, dep.status.as_str());
            ExitCode::SUCCESS
        }
        Ok(Reply::Refused { status, error }) => {
            eprintln!("deploy-gate: the gate refused the report ({status}): {}", error.line());
            ExitCode::from(1)
        }
        Err(e) => {
            eprintln!("deploy-gate: {e}");
            ExitCode::from(2)
        }
    }
}
