//! `deploy-gate check`: the step before a deploy. Exit 0 allowed, 1 denied,
//! 2 the gate could not be asked (unless `--on-error allow`) or refused the
//! question.

use std::fmt::Write as _;
use std::io::Write as _;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use super::ci;
use crate::client::{AskError, Event, GateClient, Reply};
use crate::policy::Code;
use crate::wire::{Answer, DecisionRequest, ErrorBody, Reason};

/// What to do when the gate cannot be asked.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum OnError {
    /// Fail (exit 2).
    Deny,
    /// Go on (exit 0), with a loud warning.
    Allow,
}

#[derive(Debug, clap::Args)]
pub struct Check {
    #[command(flatten)]
    pub deploy: super::DeployArgs,
    /// How long the deploy takes, e.g. 20m: also denied if a freeze starts meanwhile.
    #[arg(long)]
    pub expected_duration: Option<String>,
    /// While denied, wait up to this long (e.g. 30m) for the next allowed time, then ask again.
    #[arg(long, value_parser = super::parse_wait)]
    pub wait: Option<Duration>,
    /// When the gate cannot be asked (unreachable, timeout, 5xx): deny (exit 2) or allow (exit 0, with a warning).
    /// A gate that refuses the question (4xx) always exits 2.
    #[arg(long, value_enum, default_value = "deny")]
    pub on_error: OnError,
    /// Print the decision as JSON.
    #[arg(long)]
    pub json: bool,
    /// Give up on one request after this long.
    #[arg(long, value_parser = super::parse_wait, default_value = "10s")]
    pub timeout: Duration,
    /// Who deploys (default: from the CI system's variables).
    #[arg(long)]
    pub actor: Option<String>,
    /// The pipeline's URL (default: from the CI system's variables).
    #[arg(long)]
    pub pipeline_url: Option<String>,
    /// The commit deployed (default: from the CI system's variables).
    #[arg(long)]
    pub commit: Option<String>,
}

const ALLOWED: u8 = 0;
const DENIED: u8 = 1;
const COULD_NOT_ASK: u8 = 2;
/// Progress lines while waiting, at most this often.
const PROGRESS_EVERY: Duration = Duration::from_secs(15);

pub fn run(c: Check) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => return could_not_ask(&c, &format!("cannot start: {e}")),
    };
    runtime.block_on(check(c))
}

fn could_not_ask(c: &Check, why: &str) -> ExitCode {
    match c.on_error {
        OnError::Deny => {
            eprintln!("deploy-gate: the gate could not be asked: {why}");
            eprintln!("deploy-gate: treating this as a failure (exit 2); --on-error allow would let the deploy go on");
            ExitCode::from(COULD_NOT_ASK)
        }
        OnError::Allow => {
            eprintln!("deploy-gate: WARNING: THE GATE COULD NOT BE ASKED: {why}");
            eprintln!("deploy-gate: WARNING: DEPLOYING WITHOUT A DECISION because of --on-error allow");
            summary(&format!(
                "### deploy-gate: ⚠️ not asked\n\nThe gate could not be asked ({why}); the deploy went on because of `--on-error allow`.\n"
            ));
            ExitCode::from(ALLOWED)
        }
    }
}

/// The gate answered, but refused the question: asking again, or going on
/// without it, would not be right.
fn refused(status: u16, error: &ErrorBody) -> ExitCode {
    eprintln!("deploy-gate: the gate refused the question ({status} {}): {}", error.error.code, error.line());
    eprintln!("deploy-gate: fix the request or the token; exit 2 whatever --on-error says");
    ExitCode::from(COULD_NOT_ASK)
}

fn show(event: Event) {
    match event {
        Event::Retrying { url, attempt, of, delay } => {
            eprintln!("deploy-gate: cannot connect to {url} (attempt {attempt} of {of}); retrying in {delay:?}")
        }
    }
}

async fn check(c: Check) -> ExitCode {
    let who = ci::detect(|k| std::env::var(k).ok());
    let d = &c.deploy;
    let question = DecisionRequest {
        team: Some(d.team.clone()),
        service: d.service.clone(),
        environment: Some(d.environment.clone()),
        expected_duration: c.expected_duration.clone(),
        at: None,
        actor: c.actor.clone().or(who.actor),
        pipeline_url: c.pipeline_url.clone().or(who.pipeline_url),
        commit: c.commit.clone().or(who.commit),
    };
    let gate = match GateClient::new(&d.url, d.token.clone(), Duration::from_secs(5).min(c.timeout), c.timeout) {
        Ok(g) => g,
        Err(e @ AskError::BadUrl { .. }) => {
            eprintln!("deploy-gate: {e}");
            return ExitCode::from(COULD_NOT_ASK);
        }
        Err(e) => return could_not_ask(&c, &e.to_string()),
    };
    let deadline = c.wait.map(|w| Instant::now() + w);
    let mut first = true;
    loop {
        let answer = match gate.ask(&question, &mut show).await {
            Ok(Reply::Done(a)) => a,
            Ok(Reply::Refused { status, error }) => return refused(status, &error),
            Err(e) => return could_not_ask(&c, &e.to_string()),
        };
        let allowed = answer.decision.allowed;
        let next = answer.decision.next_allowed_at;
        // Wait only when the gate names a time within --wait; ask again then.
        let wait_until = match (allowed, deadline, next) {
            (false, Some(deadline), Some(next)) => {
                let until = (next - Utc::now()).to_std().unwrap_or_default();
                (Instant::now() + until <= deadline).then_some((until, next))
            }
            _ => None,
        };
        if wait_until.is_none() || first {
            report(&c, &answer);
        }
        let Some((until, next)) = wait_until else {
            if !allowed && let Some(limit) = c.wait {
                eprintln!("deploy-gate: not waiting: {}", why_not_waiting(&answer, limit, first));
            }
            return ExitCode::from(if allowed { ALLOWED } else { DENIED });
        };
        first = false;
        // A little past the named instant, and never in a tight loop.
        let pause = (until + Duration::from_millis(500)).max(Duration::from_secs(1));
        let pause = deadline.map_or(pause, |d| pause.min(d.saturating_duration_since(Instant::now())));
        wait(pause, next, deadline).await;
        if deadline.is_some_and(|d| Instant::now() >= d) {
            eprintln!("deploy-gate: --wait is over; asking one last time");
        }
    }
}

/// Why `--wait` gives up on a denied answer.
fn why_not_waiting(answer: &Answer, limit: Duration, first: bool) -> String {
    match answer.decision.next_allowed_at {
        Some(next) if first => format!(
            "the next allowed time, {}, is more than --wait {} away",
            both_zones(next),
            humantime::format_duration(limit)
        ),
        Some(_) => "--wait is over".to_string(),
        None => "no time is known when this deploy would be allowed, so there is nothing to wait for".to_string(),
    }
}

/// Sleep, printing where things stand every so often.
async fn wait(pause: Duration, next: DateTime<Utc>, deadline: Option<Instant>) {
    let end = Instant::now() + pause;
    let left = |d: Option<Instant>| {
        d.map(|d| format!(", --wait ends in {}", short(d.saturating_duration_since(Instant::now()))))
            .unwrap_or_default()
    };
    eprintln!("deploy-gate: waiting until {} (in {}){}", both_zones(next), short(pause), left(deadline));
    loop {
        let remaining = end.saturating_duration_since(Instant::now());
        if remaining.is_zero() {
            break;
        }
        tokio::time::sleep(remaining.min(PROGRESS_EVERY)).await;
        let remaining = end.saturating_duration_since(Instant::now());
        if !remaining.is_zero() {
            eprintln!("deploy-gate: still waiting: {} to go{}", short(remaining), left(deadline));
        }
    }
    let _ = std::io::stderr().flush();
}

fn short(d: Duration) -> String {
    let secs = d.as_secs();
    match secs {
        0..60 => format!("{secs}s"),
        60..3600 => format!("{}m{:02}s", secs / 60, secs % 60),
        _ => format!("{}h{:02}m", secs / 3600, (secs % 3600) / 60),
    }
}

/// "2026-11-30 07:00:00 UTC (2026-11-30 08:00:00 CET on this runner)".
fn both_zones(t: DateTime<Utc>) -> String {
    let utc = t.format("%Y-%m-%d %H:%M:%S UTC");
    let local = match std::env::var("TZ").ok().and_then(|z| z.trim_start_matches(':').parse::<chrono_tz::Tz>().ok()) {
        Some(tz) => t.with_timezone(&tz).format("%Y-%m-%d %H:%M:%S %Z").to_string(),
        None => t.with_timezone(&chrono::Local).format("%Y-%m-%d %H:%M:%S %:z").to_string(),
    };
    format!("{utc} ({local} on this runner)")
}

fn report(c: &Check, a: &Answer) {
    if c.json {
        println!("{}", serde_json::to_string(a).unwrap_or_default());
    } else {
        print!("{}", human(&c.deploy.to_string(), a));
    }
    summary(&markdown(&c.deploy.to_string(), a));
    hand_on(&a.decision_id);
}

/// In GitHub Actions, hand the decision's id to the job's later steps as
/// DEPLOY_GATE_DECISION_ID, where `deploy-gate report` picks it up.
fn hand_on(decision_id: &str) {
    append_to("GITHUB_ENV", &format!("DEPLOY_GATE_DECISION_ID={decision_id}\n"), "hand the decision id on");
}

/// Codes that no amount of waiting lifts.
fn timeless(code: Code) -> bool {
    matches!(code, Code::TeamRed | Code::TeamYellow | Code::PlanOverdue | Code::UnknownTeam | Code::UnknownEnvironment)
}

/// The decision for a person reading a CI log.
pub fn human(target: &str, a: &Answer) -> String {
    let d = &a.decision;
    let mut out = String::new();
    let line = |out: &mut String, label: &str, r: &Reason| {
        let _ = writeln!(out, "  {label:<8} {}: {}", r.code.as_str(), r.message);
        // The message names the items; their plans' links follow, to click.
        for item in &r.items {
            if let Some(plan) = item.plan.as_deref().filter(|p| p.contains("://")) {
                let _ = writeln!(out, "           {} plan: {plan}", item.id);
            }
        }
    };
    let _ = writeln!(out, "deploy-gate: {} {target}", if d.allowed { "ALLOWED" } else { "DENIED" });
    for r in &d.reasons {
        line(&mut out, "reason", r);
    }
    for r in &d.warnings {
        line(&mut out, "warning", r);
    }
    if let Some(o) = &d.override_ {
        let _ = writeln!(
            out,
            "  override {} by {} until {}: {}",
            o.id,
            o.created_by,
            o.expires_at.format("%Y-%m-%d %H:%M:%S UTC"),
            o.reason
        );
        for r in &d.overridden {
            line(&mut out, "lifted", r);
        }
        if !d.allowed {
            let _ = writeln!(out, "  the override does not lift the reasons above: no override lifts those windows");
        }
    }
    if !d.allowed {
        let blocking: Vec<&str> = d.reasons.iter().filter(|r| timeless(r.code)).map(|r| r.code.as_str()).collect();
        let _ = match d.next_allowed_at {
            Some(t) => writeln!(out, "  next allowed at {}", both_zones(t)),
            None if !blocking.is_empty() => {
                writeln!(
                    out,
                    "  no time is known when this deploy would be allowed: {} blocks it whatever the time",
                    blocking.join(", ")
                )
            }
            None => writeln!(out, "  no time within a year is free for this deploy; the reasons above say why"),
        };
    }
    let _ = writeln!(out, "  decision {}", a.decision_id);
    out
}

fn markdown(target: &str, a: &Answer) -> String {
    let d = &a.decision;
    let mut out = format!("### deploy-gate: {} {target}\n\n", if d.allowed { "✅ allowed" } else { "⛔ denied" });
    let rows: Vec<(&str, &Reason)> = d
        .reasons
        .iter()
        .map(|r| ("reason", r))
        .chain(d.warnings.iter().map(|r| ("warning", r)))
        .chain(d.overridden.iter().map(|r| ("lifted by override", r)))
        .collect();
    if !rows.is_empty() {
        out.push_str("| | code | message |\n|---|---|---|\n");
        for (kind, r) in rows {
            let _ = writeln!(out, "| {kind} | `{}` | {} |", r.code.as_str(), r.message.replace('|', "\\|"));
        }
        out.push('\n');
    }
    if let Some(t) = d.next_allowed_at.filter(|_| !d.allowed) {
        let _ = writeln!(out, "Next allowed at **{}**.\n", both_zones(t));
    }
    let _ = writeln!(out, "Decision `{}`.", a.decision_id);
    out
}

/// Append to the GitHub Actions job summary, when there is one.
fn summary(markdown: &str) {
    append_to("GITHUB_STEP_SUMMARY", &format!("{markdown}\n"), "write the job summary");
}

/// Append to the file a CI variable names (GitHub Actions' job files), if set.
fn append_to(variable: &str, text: &str, what: &str) {
    let Ok(path) = std::env::var(variable) else { return };
    if path.is_empty() {
        return;
    }
    let written = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .and_then(|mut f| f.write_all(text.as_bytes()));
    if let Err(e) = written {
        eprintln!("deploy-gate: cannot {what} in {path}: {e}");
    }
}
