//! `deploy-gate check`: the step before a deploy. Exit 0 allowed, 1 denied,
//! 2 the gate could not be asked (unless `--on-error allow`).

use std::fmt::Write as _;
use std::io::Write as _;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::ci;
use crate::client::{AskError, Gate, error_message};

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
    pub target: super::Target,
    /// How long the deploy takes, e.g. 20m: also denied if a freeze starts meanwhile.
    #[arg(long)]
    pub expected_duration: Option<String>,
    /// While denied, wait up to this long (e.g. 30m) for the next allowed time, then ask again.
    #[arg(long, value_parser = super::parse_wait)]
    pub wait: Option<Duration>,
    /// When the gate cannot be asked: deny (exit 2) or allow (exit 0, with a warning).
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

async fn check(c: Check) -> ExitCode {
    let who = ci::detect(|k| std::env::var(k).ok());
    let body = json!({
        "team": c.target.team,
        "service": c.target.service,
        "environment": c.target.environment,
        "expected_duration": c.expected_duration,
        "actor": c.actor.clone().or(who.actor),
        "pipeline_url": c.pipeline_url.clone().or(who.pipeline_url),
        "commit": c.commit.clone().or(who.commit),
    });
    let gate = match Gate::new(&c.target.url, c.target.token.clone(), Duration::from_secs(5).min(c.timeout), c.timeout)
    {
        Ok(g) => g,
        Err(e) => return could_not_ask(&c, &e.to_string()),
    };
    let deadline = c.wait.map(|w| Instant::now() + w);
    let mut first = true;
    loop {
        let decision = match gate.send(reqwest::Method::POST, "/can-deploy", Some(&body)).await {
            Ok((200, d)) if d["allowed"].is_boolean() => d,
            Ok((status, body)) => {
                return could_not_ask(
                    &c,
                    &format!("{} answered {status}: {}", gate.url("/can-deploy"), error_message(&body)),
                );
            }
            Err(e @ (AskError::Unreachable { .. } | AskError::BadAnswer { .. })) => {
                return could_not_ask(&c, &e.to_string());
            }
        };
        let allowed = decision["allowed"] == true;
        let next = decision["next_allowed_at"].as_str().and_then(|s| s.parse::<DateTime<Utc>>().ok());
        // Wait only when the gate names a time within --wait; ask again then.
        let wait_until = match (allowed, deadline, next) {
            (false, Some(deadline), Some(next)) => {
                let until = (next - Utc::now()).to_std().unwrap_or_default();
                (Instant::now() + until <= deadline).then_some((until, next))
            }
            _ => None,
        };
        if wait_until.is_none() || first {
            report(&c, &decision);
        }
        let Some((until, next)) = wait_until else {
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

/// "2026-11-30 07:00:00 UTC (08:00:00 CET on this runner)".
fn both_zones(t: DateTime<Utc>) -> String {
    let utc = t.format("%Y-%m-%d %H:%M:%S UTC");
    let local = match std::env::var("TZ").ok().and_then(|z| z.trim_start_matches(':').parse::<chrono_tz::Tz>().ok()) {
        Some(tz) => t.with_timezone(&tz).format("%Y-%m-%d %H:%M:%S %Z").to_string(),
        None => t.with_timezone(&chrono::Local).format("%Y-%m-%d %H:%M:%S %:z").to_string(),
    };
    format!("{utc} ({local} on this runner)")
}

fn report(c: &Check, d: &Value) {
    if c.json {
        println!("{d}");
    } else {
        print!("{}", human(c, d));
    }
    summary(&markdown(c, d));
}

fn target(c: &Check) -> String {
    let t = &c.target;
    match &t.service {
        Some(s) => format!("{}/{s} in {}", t.team, t.environment),
        None => format!("{} in {}", t.team, t.environment),
    }
}

fn list<'a>(d: &'a Value, key: &str) -> impl Iterator<Item = &'a Value> {
    d[key].as_array().into_iter().flatten()
}

/// The decision for a person reading a CI log.
pub fn human(c: &Check, d: &Value) -> String {
    let mut out = String::new();
    let allowed = d["allowed"] == true;
    let _ = writeln!(out, "deploy-gate: {} {}", if allowed { "ALLOWED" } else { "DENIED" }, target(c));
    for r in list(d, "reasons") {
        let _ =
            writeln!(out, "  reason   {}: {}", r["code"].as_str().unwrap_or("?"), r["message"].as_str().unwrap_or(""));
    }
    for r in list(d, "warnings") {
        let _ =
            writeln!(out, "  warning  {}: {}", r["code"].as_str().unwrap_or("?"), r["message"].as_str().unwrap_or(""));
    }
    if let Some(o) = d["override"].as_object() {
        let _ = writeln!(
            out,
            "  override {} by {} until {}: {}",
            o["id"].as_str().unwrap_or("?"),
            o["created_by"].as_str().unwrap_or("?"),
            o["expires_at"].as_str().unwrap_or("?"),
            o["reason"].as_str().unwrap_or("")
        );
        for r in list(d, "overridden") {
            let _ = writeln!(
                out,
                "  lifted   {}: {}",
                r["code"].as_str().unwrap_or("?"),
                r["message"].as_str().unwrap_or("")
            );
        }
    }
    if !allowed {
        let next = d["next_allowed_at"].as_str().and_then(|s| s.parse::<DateTime<Utc>>().ok());
        let _ = match next {
            Some(t) => writeln!(out, "  next allowed at {}", both_zones(t)),
            None => writeln!(
                out,
                "  no time is known when this deploy would be allowed: a risk rule blocks it, or nothing opens within a year"
            ),
        };
    }
    let _ = writeln!(out, "  decision {}", d["decision_id"].as_str().unwrap_or("?"));
    out
}

fn markdown(c: &Check, d: &Value) -> String {
    let allowed = d["allowed"] == true;
    let mut out = format!("### deploy-gate: {} {}\n\n", if allowed { "✅ allowed" } else { "⛔ denied" }, target(c));
    let rows: Vec<(&str, &Value)> = list(d, "reasons")
        .map(|r| ("reason", r))
        .chain(list(d, "warnings").map(|r| ("warning", r)))
        .chain(list(d, "overridden").map(|r| ("lifted by override", r)))
        .collect();
    if !rows.is_empty() {
        out.push_str("| | code | message |\n|---|---|---|\n");
        for (kind, r) in rows {
            let message = r["message"].as_str().unwrap_or("").replace('|', "\\|");
            let _ = writeln!(out, "| {kind} | `{}` | {message} |", r["code"].as_str().unwrap_or("?"));
        }
        out.push('\n');
    }
    if let Some(t) = d["next_allowed_at"].as_str().and_then(|s| s.parse::<DateTime<Utc>>().ok()).filter(|_| !allowed) {
        let _ = writeln!(out, "Next allowed at **{}**.\n", both_zones(t));
    }
    let _ = writeln!(out, "Decision `{}`.", d["decision_id"].as_str().unwrap_or("?"));
    out
}

/// Append to the GitHub Actions job summary, when there is one.
fn summary(markdown: &str) {
    let Ok(path) = std::env::var("GITHUB_STEP_SUMMARY") else { return };
    if path.is_empty() {
        return;
    }
    let written = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .and_then(|mut f| f.write_all(format!("{markdown}\n").as_bytes()));
    if let Err(e) = written {
        eprintln!("deploy-gate: cannot write the job summary to {path}: {e}");
    }
}
