//! Section 4 of the contract: every reason at once, overrides, and the next
//! instant a deploy would be allowed.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::team::{Action, Status};
use super::window::{Kind, Window};
use super::{Override, Rules, Target};
use crate::schedule::Cursor;

/// How far ahead `next_allowed_at` looks before answering null.
pub const HORIZON: Duration = Duration::days(365);
/// A bound on search steps, so a pathological config cannot stall a request.
const MAX_STEPS: usize = 20_000;

/// Why a deploy is denied (or warned about).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Code {
    WindowActive,
    OutsideAllowWindows,
    WindowStartsSoon,
    TeamRed,
    TeamYellow,
    PlanOverdue,
    UnknownTeam,
    /// A code this build does not know (a newer gate sent it).
    #[serde(other)]
    Unknown,
}

impl Code {
    pub fn as_str(self) -> &'static str {
        match self {
            Code::WindowActive => "window_active",
            Code::OutsideAllowWindows => "outside_allow_windows",
            Code::WindowStartsSoon => "window_starts_soon",
            Code::TeamRed => "team_red",
            Code::TeamYellow => "team_yellow",
            Code::PlanOverdue => "plan_overdue",
            Code::UnknownTeam => "unknown_team",
            Code::Unknown => "unknown",
        }
    }
}

/// One reason (or warning) with what a person needs to act on it.
#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Reason {
    pub code: Code,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window_id: Option<String>,
    /// When this reason stops applying, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<DateTime<Utc>>,
    /// For `window_starts_soon`: when the freeze opens or the deploy window closes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub starts_at: Option<DateTime<Utc>>,
    /// False for reasons of windows with `overridable = false`.
    #[serde(skip)]
    pub overridable: bool,
    /// True when the reason ends with time (a window), false for risk status.
    #[serde(skip)]
    pub timed: bool,
}

impl Reason {
    fn of_window(code: Code, w: &Window, message: String) -> Reason {
        Reason {
            code,
            message,
            window_id: Some(w.id().to_string()),
            until: None,
            starts_at: None,
            overridable: w.overridable(),
            timed: true,
        }
    }

    fn of_team(code: Code, message: String) -> Reason {
        Reason { code, message, window_id: None, until: None, starts_at: None, overridable: true, timed: false }
    }
}

/// The override that applied to a decision.
#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct OverrideRef {
    pub id: String,
    pub reason: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticket: Option<String>,
    pub created_by: String,
    pub expires_at: DateTime<Utc>,
}

/// Allow or deny.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Allow,
    Deny,
}

#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Decision {
    pub allowed: bool,
    pub decision: Verdict,
    /// Every reason (or the allow) in one human line.
    pub reason: String,
    pub reasons: Vec<Reason>,
    pub warnings: Vec<Reason>,
    pub overridden: Vec<Reason>,
    #[serde(rename = "override")]
    pub override_: Option<OverrideRef>,
    pub next_allowed_at: Option<DateTime<Utc>>,
    pub evaluated_at: DateTime<Utc>,
}

impl Decision {
    /// Every reason code, for logs and audit records.
    pub fn codes(&self) -> Vec<&'static str> {
        self.reasons.iter().map(|r| r.code.as_str()).collect()
    }
}

/// A window with a cursor over its occurrences, for one decision.
#[derive(Clone)]
struct Tracked<'w> {
    window: &'w Window,
    cursor: Cursor<'w>,
}

/// Decide whether `target` may deploy at `t`, for a deploy expected to take
/// `expected` (if given), with the overrides in force.
pub fn decide(
    rules: &Rules,
    target: &Target,
    t: DateTime<Utc>,
    expected: Option<Duration>,
    overrides: &[Override],
) -> Decision {
    let horizon = t + HORIZON;
    let expected = expected.filter(|d| *d > Duration::zero());
    // Starts are looked for a little past the horizon, so that a deploy of
    // the expected duration near the horizon still sees what it overlaps.
    let limit = horizon + expected.unwrap_or_default() + Duration::days(1);
    let (mut deny, mut allow): (Vec<Tracked>, Vec<Tracked>) = rules
        .windows_for(target)
        .into_iter()
        .map(|window| Tracked { window, cursor: Cursor::new(&window.schedule, Some(&window.memo), limit) })
        .partition(|w| w.window.kind == Kind::Deny);
    let mut reasons = Vec::new();
    let mut warnings = Vec::new();

    // Rule 1: every active freeze.
    let mut active = Vec::new();
    for (i, tracked) in deny.iter_mut().enumerate() {
        let w = tracked.window;
        if tracked.cursor.containing(t).is_none() {
            continue;
        }
        // A copy walks the chain, so the cursor stays at `t` for the rules below.
        if let Some(until) = tracked.cursor.clone().active_until(t) {
            let until = until.filter(|u| *u <= horizon);
            let when = match until {
                Some(u) => format!("until {}", w.local_time(u)),
                None => "with no end within a year".to_string(),
            };
            let mut r = Reason::of_window(Code::WindowActive, w, format!("{} is active {when}", w.title()));
            r.until = until;
            reasons.push(r);
            active.push(i);
        }
    }

    // Rule 2: outside every deploy window that applies.
    let need = t + expected.unwrap_or_default();
    let cover = if allow.is_empty() { None } else { cover_end(&mut allow, t, need) };
    if !allow.is_empty() && cover.is_none() {
        let ids: Vec<&str> = allow.iter().map(|w| w.window.id()).collect();
        let next = next_start(&mut allow, t).filter(|(s, _)| *s <= horizon);
        let when = match next {
            Some((s, w)) => format!("the next, '{}', opens {}", w.id(), w.local_time(s)),
            None => "none opens within a year".to_string(),
        };
        reasons.push(Reason {
            code: Code::OutsideAllowWindows,
            message: format!("Outside every deploy window for {target} ({}); {when}", ids.join(", ")),
            window_id: next.map(|(_, w)| w.id().to_string()),
            until: next.map(|(s, _)| s),
            starts_at: None,
            overridable: allow.iter().all(|w| w.window.overridable()),
            timed: true,
        });
    }

    // Rule 6: look ahead over the deploy's expected duration.
    if let Some(d) = expected {
        let end = t + d;
        let took = humantime::format_duration(d.to_std().unwrap_or_default());
        for (i, tracked) in deny.iter_mut().enumerate() {
            if active.contains(&i) {
                continue;
            }
            let w = tracked.window;
            if let Some(o) = tracked.cursor.next_after(t).filter(|o| o.start < end) {
                let mut r = Reason::of_window(
                    Code::WindowStartsSoon,
                    w,
                    format!("{} starts {}, within this deploy's expected {took}", w.title(), w.local_time(o.start)),
                );
                r.starts_at = Some(o.start);
                reasons.push(r);
            }
        }
        if let Some((closes, w)) = cover.filter(|(e, _)| *e < end) {
            let mut r = Reason::of_window(
                Code::WindowStartsSoon,
                w,
                format!("{} closes {}, within this deploy's expected {took}", w.title(), w.local_time(closes)),
            );
            r.starts_at = Some(closes);
            reasons.push(r);
        }
    }

    // Rules 3 and 4: risk status under the environment's policy.
    if let Some((action, code, message)) = risk(rules, target, t) {
        let env = &target.environment;
        let what = match code {
            Code::TeamYellow => "yellow teams",
            Code::UnknownTeam => "unknown teams",
            _ => "red teams",
        };
        match action {
            Action::Deny => reasons.push(Reason::of_team(code, format!("{message}; {env} denies {what}"))),
            Action::Warn => warnings.push(Reason::of_team(code, format!("{message}; {env} only warns for {what}"))),
            Action::Allow => {}
        }
    }

    // Rule 5: an override lifts every reason but those of non-overridable windows.
    let applied = overrides.iter().filter(|o| o.active_at(t) && o.covers(target)).max_by_key(|o| o.ends_at());
    let mut overridden = Vec::new();
    if applied.is_some() {
        let (keep, lifted): (Vec<Reason>, Vec<Reason>) = reasons.into_iter().partition(|r| !r.overridable);
        reasons = keep;
        overridden = lifted;
    }

    let next_allowed_at = if reasons.is_empty() {
        Some(t)
    } else if reasons.iter().any(|r| !r.timed) {
        None
    } else {
        // Under an override, only non-overridable windows bind until it ends.
        let under_override = applied.and_then(|o| {
            let mut deny_kept: Vec<Tracked> = deny.iter().filter(|w| !w.window.overridable()).cloned().collect();
            let mut allow_kept: Vec<Tracked> =
                if allow.iter().all(|w| w.window.overridable()) { Vec::new() } else { allow.clone() };
            earliest_free(&mut deny_kept, &mut allow_kept, t, expected, horizon).filter(|x| *x < o.ends_at())
        });
        under_override.or_else(|| earliest_free(&mut deny, &mut allow, t, expected, horizon))
    };

    let allowed = reasons.is_empty();
    let override_ = applied.map(|o| OverrideRef {
        id: o.id.clone(),
        reason: o.reason.clone(),
        ticket: o.ticket.clone(),
        created_by: o.created_by.clone(),
        expires_at: o.expires_at,
    });
    let reason = summary(target, allowed, &reasons, &warnings, &overridden, override_.as_ref());
    Decision {
        allowed,
        decision: if allowed { Verdict::Allow } else { Verdict::Deny },
        reason,
        reasons,
        warnings,
        overridden,
        override_,
        next_allowed_at,
        evaluated_at: t,
    }
}

/// The team's risk under the environment's policy: what to do, the code and
/// the message; `None` for a green team.
fn risk(rules: &Rules, target: &Target, t: DateTime<Utc>) -> Option<(Action, Code, String)> {
    let policy = rules.policy(target.environment.as_str());
    let Some(team) = rules.team(target.team.as_str()) else {
        let message = format!("Team '{}' is not known to deploy-gate", target.team);
        return Some((policy.unknown_team, Code::UnknownTeam, message));
    };
    let plan = team.spec.plan.as_deref().unwrap_or("no plan link");
    let due = team.spec.plan_due.map(|d| d.to_string()).unwrap_or_default();
    match team.effective_status(t) {
        Status::Green => None,
        Status::Yellow => {
            Some((policy.yellow, Code::TeamYellow, format!("Team '{}' is yellow (plan {plan}, due {due})", team.name)))
        }
        Status::Red if team.overdue(t) => Some((
            policy.red,
            Code::PlanOverdue,
            format!(
                "Team '{}' is yellow but its plan ({plan}) was due {due} and is overdue, so it counts as red",
                team.name
            ),
        )),
        Status::Red => {
            Some((policy.red, Code::TeamRed, format!("Team '{}' is red (non-compliant, no plan)", team.name)))
        }
    }
}

fn summary(
    target: &Target,
    allowed: bool,
    reasons: &[Reason],
    warnings: &[Reason],
    overridden: &[Reason],
    applied: Option<&OverrideRef>,
) -> String {
    let join = |rs: &[Reason]| rs.iter().map(|r| r.message.as_str()).collect::<Vec<_>>().join("; ");
    if !allowed {
        return join(reasons);
    }
    let mut line = match applied {
        Some(o) if !overridden.is_empty() => format!(
            "Allowed by override {} ({}) until {}, lifting: {}",
            o.id,
            o.reason,
            o.expires_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            join(overridden)
        ),
        _ => format!("Allowed: no freeze, deploy window or risk rule blocks {target}"),
    };
    if !warnings.is_empty() {
        line.push_str("; warning: ");
        line.push_str(&join(warnings));
    }
    line
}

/// The end of the deploy-window cover through `x` (the union of the allow
/// windows' occurrences, chained), looked at no further than `need`, with the
/// window that gives that end. `None` when no allow window is open at `x`.
fn cover_end<'w>(
    allow: &mut [Tracked<'w>],
    x: DateTime<Utc>,
    need: DateTime<Utc>,
) -> Option<(DateTime<Utc>, &'w Window)> {
    let mut latest_end = |at: DateTime<Utc>| {
        allow.iter_mut().filter_map(|w| w.cursor.containing(at).map(|o| (o.end, w.window))).max_by_key(|(end, _)| *end)
    };
    let mut cover = latest_end(x)?;
    for _ in 0..MAX_STEPS {
        if cover.0 >= need {
            break;
        }
        match latest_end(cover.0) {
            Some(next) if next.0 > cover.0 => cover = next,
            _ => break,
        }
    }
    Some(cover)
}

/// The first occurrence start strictly after `t` among `windows`.
fn next_start<'w>(windows: &mut [Tracked<'w>], t: DateTime<Utc>) -> Option<(DateTime<Utc>, &'w Window)> {
    windows.iter_mut().filter_map(|w| w.cursor.next_after(t).map(|o| (o.start, w.window))).min_by_key(|(s, _)| *s)
}

/// The earliest `x >= t` at which rules 1, 2 and 6 give no reason: no freeze
/// meets `[x, x + expected)`, and, when deploy windows apply, they cover it.
fn earliest_free(
    deny: &mut [Tracked],
    allow: &mut [Tracked],
    t: DateTime<Utc>,
    expected: Option<Duration>,
    horizon: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let d = expected.unwrap_or_default();
    let mut x = t;
    for _ in 0..MAX_STEPS {
        if x > horizon {
            return None;
        }
        let blocked_until = deny
            .iter_mut()
            .filter_map(|w| match w.cursor.containing(x) {
                Some(o) => Some(o.end),
                None => w.cursor.next_after(x).filter(|o| o.start < x + d).map(|o| o.end),
            })
            .max();
        if let Some(end) = blocked_until {
            x = end;
            continue;
        }
        if !allow.is_empty() {
            match cover_end(allow, x, x + d) {
                None => {
                    x = next_start(allow, x)?.0;
                    continue;
                }
                Some((end, _)) if end < x + d => {
                    x = next_start(allow, end)?.0;
                    continue;
                }
                Some(_) => {}
            }
        }
        return Some(x);
    }
    None
}
