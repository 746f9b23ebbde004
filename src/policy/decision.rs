//! Section 4 of the contract: every reason at once, overrides, and the next
//! instant a deploy would be allowed.

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use super::team::{Action, Status};
use super::window::{Kind, Window};
use super::{Override, Rules, Target};

/// How far ahead `next_allowed_at` looks before answering null.
pub const HORIZON: Duration = Duration::days(365);
/// A bound on search steps, so a pathological config cannot stall a request.
const MAX_STEPS: usize = 20_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Code {
    WindowActive,
    OutsideAllowWindows,
    WindowStartsSoon,
    TeamRed,
    TeamYellow,
    PlanOverdue,
    UnknownTeam,
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
        }
    }
}

/// One reason (or warning) with what a person needs to act on it.
#[derive(Clone, Debug, Serialize)]
pub struct Reason {
    pub code: Code,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub window_id: Option<String>,
    /// When this reason stops applying, if known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub until: Option<DateTime<Utc>>,
    /// For `window_starts_soon`: when the freeze opens or the deploy window closes.
    #[serde(skip_serializing_if = "Option::is_none")]
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
        Reason {
            code,
            message,
            window_id: None,
            until: None,
            starts_at: None,
            overridable: true,
            timed: false,
        }
    }
}

/// The override that applied to a decision.
#[derive(Clone, Debug, Serialize)]
pub struct OverrideRef {
    pub id: String,
    pub reason: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ticket: Option<String>,
    pub created_by: String,
    pub expires_at: DateTime<Utc>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Decision {
    pub allowed: bool,
    /// "allow" or "deny".
    pub decision: &'static str,
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

/// Decide whether `target` may deploy at `t`, for a deploy expected to take
/// `expected` (if given), with the overrides in force.
pub fn decide(
    rules: &Rules,
    target: &Target,
    t: DateTime<Utc>,
    expected: Option<Duration>,
    overrides: &[Override],
) -> Decision {
    let windows = rules.windows_for(target);
    let (deny, allow): (Vec<&Window>, Vec<&Window>) =
        windows.iter().partition(|w| w.kind == Kind::Deny);
    let horizon = t + HORIZON;
    let expected = expected.filter(|d| *d > Duration::zero());
    let mut reasons = Vec::new();
    let mut warnings = Vec::new();

    // Rule 1: every active freeze.
    let mut active = Vec::new();
    for w in &deny {
        if let Some(until) = w.schedule.active_until(t, horizon) {
            let when = match until {
                Some(u) => format!("until {}", w.local_time(u)),
                None => "with no end within a year".to_string(),
            };
            let mut r = Reason::of_window(
                Code::WindowActive,
                w,
                format!("{} is active {when}", w.title()),
            );
            r.until = until;
            reasons.push(r);
            active.push(w.id());
        }
    }

    // Rule 2: outside every deploy window that applies.
    let need = t + expected.unwrap_or_default();
    let cover = if allow.is_empty() {
        None
    } else {
        cover_end(&allow, t, need)
    };
    if !allow.is_empty() && cover.is_none() {
        let ids: Vec<&str> = allow.iter().map(|w| w.id()).collect();
        let next = next_start(&allow, t, horizon);
        let when = match next {
            Some((s, w)) => format!("the next, '{}', opens {}", w.id(), w.local_time(s)),
            None => "none opens within a year".to_string(),
        };
        reasons.push(Reason {
            code: Code::OutsideAllowWindows,
            message: format!(
                "Outside every deploy window for {target} ({}); {when}",
                ids.join(", ")
            ),
            window_id: next.map(|(_, w)| w.id().to_string()),
            until: next.map(|(s, _)| s),
            starts_at: None,
            overridable: allow.iter().all(|w| w.overridable()),
            timed: true,
        });
    }

    // Rule 6: look ahead over the deploy's expected duration.
    if let Some(d) = expected {
        let end = t + d;
        let took = humantime::format_duration(d.to_std().unwrap_or_default());
        for w in deny.iter().filter(|w| !active.contains(&w.id())) {
            if let Some(o) = w.schedule.next_after(t, end).filter(|o| o.start < end) {
                let mut r = Reason::of_window(
                    Code::WindowStartsSoon,
                    w,
                    format!(
                        "{} starts {}, within this deploy's expected {took}",
                        w.title(),
                        w.local_time(o.start)
                    ),
                );
                r.starts_at = Some(o.start);
                reasons.push(r);
            }
        }
        if let Some((closes, w)) = cover.filter(|(e, _)| *e < end) {
            let mut r = Reason::of_window(
                Code::WindowStartsSoon,
                w,
                format!(
                    "{} closes {}, within this deploy's expected {took}",
                    w.title(),
                    w.local_time(closes)
                ),
            );
            r.starts_at = Some(closes);
            reasons.push(r);
        }
    }

    // Rules 3 and 4: risk status under the environment's policy.
    let policy = rules.policy(target.environment.as_str());
    let env = &target.environment;
    let risk = match rules.team(target.team.as_str()) {
        Some(team) => match team.effective_status(t) {
            Status::Green => None,
            Status::Yellow => {
                let plan = team.spec.plan.as_deref().unwrap_or("no plan link");
                let due = team
                    .spec
                    .plan_due
                    .map(|d| format!(", due {d}"))
                    .unwrap_or_default();
                Some((
                    policy.yellow,
                    Code::TeamYellow,
                    format!("Team '{}' is yellow (plan {plan}{due})", team.name),
                ))
            }
            Status::Red if team.overdue(t) => Some((
                policy.red,
                Code::PlanOverdue,
                format!(
                    "Team '{}' is yellow but its plan ({}) was due {} and is overdue, so it counts as red",
                    team.name,
                    team.spec.plan.as_deref().unwrap_or("no plan link"),
                    team.spec
                        .plan_due
                        .map(|d| d.to_string())
                        .unwrap_or_default(),
                ),
            )),
            Status::Red => Some((
                policy.red,
                Code::TeamRed,
                format!("Team '{}' is red (non-compliant, no plan)", team.name),
            )),
        },
        None => Some((
            policy.unknown_team,
            Code::UnknownTeam,
            format!("Team '{}' is not known to deploy-gate", target.team),
        )),
    };
    if let Some((action, code, message)) = risk {
        let what = match code {
            Code::TeamYellow => "yellow teams",
            Code::UnknownTeam => "unknown teams",
            _ => "red teams",
        };
        match action {
            Action::Deny => reasons.push(Reason::of_team(
                code,
                format!("{message}; {env} denies {what}"),
            )),
            Action::Warn => warnings.push(Reason::of_team(
                code,
                format!("{message}; {env} only warns for {what}"),
            )),
            Action::Allow => {}
        }
    }

    // Rule 5: an override lifts every reason but those of non-overridable windows.
    let applied = overrides
        .iter()
        .filter(|o| o.active_at(t) && o.covers(target))
        .max_by_key(|o| o.ends_at());
    let mut overridden = Vec::new();
    if applied.is_some() {
        let (keep, lifted): (Vec<Reason>, Vec<Reason>) =
            reasons.into_iter().partition(|r| !r.overridable);
        reasons = keep;
        overridden = lifted;
    }

    let next_allowed_at = if reasons.is_empty() {
        Some(t)
    } else if reasons.iter().any(|r| !r.timed) {
        None
    } else {
        let everything = || earliest_free(&deny, &allow, t, expected, horizon);
        match applied {
            Some(o) => {
                let deny_kept: Vec<&Window> =
                    deny.iter().copied().filter(|w| !w.overridable()).collect();
                let allow_kept: Vec<&Window> = if allow.iter().all(|w| w.overridable()) {
                    Vec::new()
                } else {
                    allow.clone()
                };
                match earliest_free(&deny_kept, &allow_kept, t, expected, horizon) {
                    Some(x) if x < o.ends_at() => Some(x),
                    _ => everything(),
                }
            }
            None => everything(),
        }
    };

    let allowed = reasons.is_empty();
    let override_ = applied.map(|o| OverrideRef {
        id: o.id.clone(),
        reason: o.reason.clone(),
        ticket: o.ticket.clone(),
        created_by: o.created_by.clone(),
        expires_at: o.expires_at,
    });
    let reason = summary(
        target,
        allowed,
        &reasons,
        &warnings,
        &overridden,
        override_.as_ref(),
    );
    Decision {
        allowed,
        decision: if allowed { "allow" } else { "deny" },
        reason,
        reasons,
        warnings,
        overridden,
        override_,
        next_allowed_at,
        evaluated_at: t,
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
    let join = |rs: &[Reason]| {
        rs.iter()
            .map(|r| r.message.as_str())
            .collect::<Vec<_>>()
            .join("; ")
    };
    if !allowed {
        return join(reasons);
    }
    let mut line = match applied {
        Some(o) if !overridden.is_empty() => format!(
            "Allowed by override {} ({}) until {}, lifting: {}",
            o.id,
            o.reason,
            o.expires_at
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
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
    allow: &[&'w Window],
    x: DateTime<Utc>,
    need: DateTime<Utc>,
) -> Option<(DateTime<Utc>, &'w Window)> {
    let latest_end = |at: DateTime<Utc>| {
        allow
            .iter()
            .filter_map(|w| w.containing(at).map(|o| (o.end, *w)))
            .max_by_key(|(end, _)| *end)
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
fn next_start<'w>(
    windows: &[&'w Window],
    t: DateTime<Utc>,
    limit: DateTime<Utc>,
) -> Option<(DateTime<Utc>, &'w Window)> {
    windows
        .iter()
        .filter_map(|w| w.schedule.next_after(t, limit).map(|o| (o.start, *w)))
        .min_by_key(|(s, _)| *s)
}

/// The earliest `x >= t` at which rules 1, 2 and 6 give no reason: no freeze
/// meets `[x, x + expected)`, and, when deploy windows apply, they cover it.
fn earliest_free(
    deny: &[&Window],
    allow: &[&Window],
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
            .iter()
            .filter_map(|w| {
                w.containing(x)
                    .or_else(|| {
                        (d > Duration::zero())
                            .then(|| w.schedule.next_after(x, x + d))
                            .flatten()
                    })
                    .filter(|o| o.start < x + d || o.contains(x))
                    .map(|o| o.end)
            })
            .max();
        if let Some(end) = blocked_until {
            x = end;
            continue;
        }
        if !allow.is_empty() {
            match cover_end(allow, x, x + d) {
                None => {
                    x = next_start(allow, x, horizon)?.0;
                    continue;
                }
                Some((end, _)) if end < x + d => {
                    x = next_start(allow, end, horizon)?.0;
                    continue;
                }
                Some(_) => {}
            }
        }
        return Some(x);
    }
    None
}
