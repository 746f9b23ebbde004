//! The decision: every reason at once (freezes, deploy windows, the team's
//! risk), what an override lifts, and the next instant a deploy would be
//! allowed. Windows are read as spans, so back-to-back occurrences count as
//! one freeze and one step.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::scorecard::Blame;
use super::team::{Action, Status};
use super::window::{Kind, Window};
use super::{Override, Rules, Target};
use crate::schedule::Cursor;
use chrono::Timelike;

use crate::traffic::{Level, Profile};

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
    UnknownEnvironment,
    BusyTraffic,
    PeakTraffic,
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
            Code::UnknownEnvironment => "unknown_environment",
            Code::BusyTraffic => "busy_traffic",
            Code::PeakTraffic => "peak_traffic",
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
    /// For the team's risk: the scorecard items to blame, worst first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub items: Vec<Blame>,
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
            items: Vec::new(),
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
            items: Vec::new(),
            overridable: true,
            timed: false,
        }
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

impl<'w> Tracked<'w> {
    /// When the span through `x` ends, if the window is open at `x`; the
    /// cursor's limit when it does not end before it.
    fn open_until(&mut self, x: DateTime<Utc>, limit: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.cursor.active_until(x).map(|end| end.unwrap_or(limit))
    }
}

/// The windows that apply to one target, by kind, over one decision.
struct Windows<'w> {
    deny: Vec<Tracked<'w>>,
    allow: Vec<Tracked<'w>>,
    /// Starts are looked for up to here.
    limit: DateTime<Utc>,
}

impl<'w> Windows<'w> {
    fn of(rules: &'w Rules, target: &Target, limit: DateTime<Utc>) -> Windows<'w> {
        let (deny, allow) = rules
            .windows_for(target)
            .into_iter()
            .map(|window| Tracked { window, cursor: Cursor::new(&window.schedule, Some(&window.memo), limit) })
            .partition(|w| w.window.kind == Kind::Deny);
        Windows { deny, allow, limit }
    }

    /// Only the windows no override lifts, for the time under an override.
    fn not_overridable(&self) -> Windows<'w> {
        let keep = |ws: &[Tracked<'w>]| ws.iter().filter(|w| !w.window.overridable()).cloned().collect();
        // Deploy windows bind as a whole: if any of them cannot be lifted, all of them count.
        let allow = if self.allow.iter().all(|w| w.window.overridable()) { Vec::new() } else { self.allow.clone() };
        Windows { deny: keep(&self.deny), allow, limit: self.limit }
    }

    /// The end of the deploy-window cover through `x` (the allow windows'
    /// spans, chained), looked at no further than `need`, with the window
    /// that gives that end. `None` when no allow window is open at `x`.
    fn cover_end(&mut self, x: DateTime<Utc>, need: DateTime<Utc>) -> Option<(DateTime<Utc>, &'w Window)> {
        let limit = self.limit;
        let mut latest_end = |at: DateTime<Utc>| {
            self.allow
                .iter_mut()
                .filter_map(|w| w.open_until(at, limit).map(|end| (end, w.window)))
                .max_by_key(|(end, _)| *end)
        };
        let mut cover = latest_end(x)?;
        for _ in 0..MAX_STEPS {
            if cover.0 >= need || cover.0 >= limit {
                break;
            }
            match latest_end(cover.0) {
                Some(next) if next.0 > cover.0 => cover = next,
                _ => break,
            }
        }
        Some(cover)
    }

    /// The first allow-window start strictly after `t`.
    fn next_allow_start(&mut self, t: DateTime<Utc>) -> Option<(DateTime<Utc>, &'w Window)> {
        self.allow
            .iter_mut()
            .filter_map(|w| w.cursor.next_after(t).map(|o| (o.start, w.window)))
            .min_by_key(|(s, _)| *s)
    }

    /// Until when a freeze blocks a deploy of `d` starting at `x`: the end
    /// of the latest span that is open at `x` or opens before `x + d`.
    fn blocked_until(&mut self, x: DateTime<Utc>, d: Duration) -> Option<DateTime<Utc>> {
        let limit = self.limit;
        self.deny
            .iter_mut()
            .filter_map(|w| match w.open_until(x, limit) {
                Some(end) => Some(end),
                None => {
                    let next = w.cursor.next_after(x).filter(|o| o.start < x + d)?;
                    Some(w.open_until(next.start, limit).unwrap_or(next.end))
                }
            })
            .max()
    }

    /// The earliest `x >= t` at which no freeze meets `[x, x + d)` and, when
    /// deploy windows apply, they cover it; `None` past `horizon`.
    fn earliest_free(&mut self, t: DateTime<Utc>, d: Duration, horizon: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let mut x = t;
        for _ in 0..MAX_STEPS {
            if x > horizon {
                return None;
            }
            if let Some(end) = self.blocked_until(x, d) {
                x = end;
                continue;
            }
            if !self.allow.is_empty() {
                match self.cover_end(x, x + d) {
                    None => {
                        x = self.next_allow_start(x)?.0;
                        continue;
                    }
                    Some((end, _)) if end < x + d => {
                        x = self.next_allow_start(end)?.0;
                        continue;
                    }
                    Some(_) => {}
                }
            }
            return Some(x);
        }
        None
    }
}

/// The question, for the parts of the decision.
struct Ask<'a> {
    target: &'a Target,
    t: DateTime<Utc>,
    expected: Option<Duration>,
    horizon: DateTime<Utc>,
}

impl Ask<'_> {
    fn expected_text(&self) -> String {
        humantime::format_duration(self.expected.unwrap_or_default().to_std().unwrap_or_default()).to_string()
    }

    /// For a window scoped to services, when the deploy names none.
    fn whole_surface_note(&self, w: &Window) -> String {
        match (&self.target.service, w.spec.services.text()) {
            (None, Some(services)) => format!(
                " (it covers services {services}; no service was given, so this deploy counts as all of {}'s services)",
                self.target.team
            ),
            _ => String::new(),
        }
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
    decide_with_traffic(rules, target, t, expected, overrides, None)
}

/// How long a deploy is taken to run through traffic when it does not say.
pub const TRAFFIC_DEFAULT_DURATION: Duration = Duration::minutes(30);

/// [`decide`], with the week profile of the target's service: a deploy that
/// would run through a busy or peak hour gets `busy_traffic` or
/// `peak_traffic`, a warning or a reason by the environment's policy.
pub fn decide_with_traffic(
    rules: &Rules,
    target: &Target,
    t: DateTime<Utc>,
    expected: Option<Duration>,
    overrides: &[Override],
    traffic: Option<&Profile>,
) -> Decision {
    let expected = expected.filter(|d| *d > Duration::zero());
    let ask = Ask { target, t, expected, horizon: t + HORIZON };
    // Starts are looked for a little past the horizon, so that a deploy of
    // the expected duration near the horizon still sees what it overlaps.
    let mut windows = Windows::of(rules, target, ask.horizon + expected.unwrap_or_default() + Duration::days(1));

    let mut reasons = active_freezes(&ask, &mut windows);
    let cover = (!windows.allow.is_empty()).then(|| windows.cover_end(t, t + expected.unwrap_or_default()));
    let outside = matches!(cover, Some(None));
    if let Some(d) = expected {
        reasons.extend(starts_soon(&ask, &mut windows, d, cover.flatten()));
    }
    let mut warnings = Vec::new();
    if let Some(r) = risk_reason(rules, target, t, &mut warnings) {
        reasons.push(r);
    }
    if let Some(r) = unknown_environment(rules, target, &mut warnings) {
        reasons.push(r);
    }
    if let Some(r) = traffic.and_then(|p| busy(rules, target, p, t, expected, &mut warnings)) {
        reasons.push(r);
    }
    if outside {
        // Its message waits for next_allowed_at, so the two agree.
        reasons.push(Reason {
            code: Code::OutsideAllowWindows,
            message: String::new(),
            window_id: None,
            until: None,
            starts_at: None,
            items: Vec::new(),
            overridable: windows.allow.iter().all(|w| w.window.overridable()),
            timed: true,
        });
    }

    let applied = overrides.iter().filter(|o| o.active_at(t) && o.covers(target)).max_by_key(|o| o.ends_at());
    let (mut reasons, overridden) = lift(reasons, applied);
    let next_allowed_at = next_allowed(&ask, &mut windows, &reasons, applied);
    if let Some(r) = reasons.iter_mut().find(|r| r.code == Code::OutsideAllowWindows) {
        explain_outside(&ask, &mut windows, r, next_allowed_at);
    }

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

/// Rule 1: every freeze open at `t`, until the end of its span.
fn active_freezes(ask: &Ask, windows: &mut Windows) -> Vec<Reason> {
    let mut reasons = Vec::new();
    for tracked in &mut windows.deny {
        let w = tracked.window;
        let Some(until) = tracked.cursor.active_until(ask.t) else { continue };
        let until = until.filter(|u| *u <= ask.horizon);
        let when = match until {
            Some(u) => format!("until {}", w.local_time(u)),
            None => "with no end within a year".to_string(),
        };
        let message = format!("{} is active {when}{}", w.title(), ask.whole_surface_note(w));
        let mut r = Reason::of_window(Code::WindowActive, w, message);
        r.until = until;
        reasons.push(r);
    }
    reasons
}

/// Rule 6: a freeze opening, or the deploy window closing, before a deploy
/// of `d` would finish.
fn starts_soon(ask: &Ask, windows: &mut Windows, d: Duration, cover: Option<(DateTime<Utc>, &Window)>) -> Vec<Reason> {
    let (t, end, took) = (ask.t, ask.t + d, ask.expected_text());
    let mut reasons = Vec::new();
    for tracked in &mut windows.deny {
        if tracked.cursor.active_until(t).is_some() {
            continue;
        }
        let w = tracked.window;
        if let Some(o) = tracked.cursor.next_after(t).filter(|o| o.start < end) {
            let message = format!(
                "{} starts {}, within this deploy's expected {took}{}",
                w.title(),
                w.local_time(o.start),
                ask.whole_surface_note(w)
            );
            let mut r = Reason::of_window(Code::WindowStartsSoon, w, message);
            r.starts_at = Some(o.start);
            reasons.push(r);
        }
    }
    if let Some((closes, w)) = cover.filter(|(e, _)| *e < end) {
        let message = format!("{} closes {}, within this deploy's expected {took}", w.title(), w.local_time(closes));
        let mut r = Reason::of_window(Code::WindowStartsSoon, w, message);
        r.starts_at = Some(closes);
        reasons.push(r);
    }
    reasons
}

/// Rules 3 and 4: the team's risk under the environment's policy, as a
/// reason (deny) or a warning (warn).
fn risk_reason(rules: &Rules, target: &Target, t: DateTime<Utc>, warnings: &mut Vec<Reason>) -> Option<Reason> {
    let Risk { action, code, message, items } = risk(rules, target, t)?;
    let env = &target.environment;
    let what = match code {
        Code::TeamYellow => "yellow teams",
        Code::UnknownTeam => "unknown teams",
        _ => "red teams",
    };
    let reason = |text: String| {
        let mut r = Reason::of_team(code, text);
        r.items = items.clone();
        r
    };
    match action {
        Action::Deny => Some(reason(format!("{message}; {env} denies {what}"))),
        Action::Warn => {
            warnings.push(reason(format!("{message}; {env} only warns for {what}")));
            None
        }
        Action::Allow => None,
    }
}

/// An environment no window or policy names is likely a typo (`prodution`):
/// a warning, or a reason under `[policy] unknown_environment = "deny"`.
fn unknown_environment(rules: &Rules, target: &Target, warnings: &mut Vec<Reason>) -> Option<Reason> {
    let env = &target.environment;
    if rules.knows_environment(env.as_str()) {
        return None;
    }
    let message = format!("No window or policy names environment '{env}'; is it spelt as in the config?");
    match rules.unknown_environment() {
        Action::Deny => {
            Some(Reason::of_team(Code::UnknownEnvironment, format!("{message} (unknown environments are denied)")))
        }
        Action::Warn => {
            warnings.push(Reason::of_team(Code::UnknownEnvironment, message));
            None
        }
        Action::Allow => None,
    }
}

/// A deploy running through a busy or peak hour of its service's week.
fn busy(
    rules: &Rules,
    target: &Target,
    profile: &Profile,
    t: DateTime<Utc>,
    expected: Option<Duration>,
    warnings: &mut Vec<Reason>,
) -> Option<Reason> {
    let duration = expected.unwrap_or(TRAFFIC_DEFAULT_DURATION);
    let slot = profile.busiest(t, duration);
    let policy = rules.policy(target.environment.as_str());
    let (code, action, level) = match Level::of(slot.percentile) {
        Level::Peak => (Code::PeakTraffic, policy.peak_traffic, "a peak"),
        Level::Busy => (Code::BusyTraffic, policy.busy_traffic, "a busy"),
        Level::Quiet | Level::Normal => return None,
    };
    let message = format!(
        "A deploy of {} from {} would run through {level} hour of its week ({} {:02}:00 {}, busier than {:.0}% of the week's hours, about {:.0} requests a minute)",
        profile.service,
        profile.zone.local(t).format("%a %H:%M"),
        slot.day,
        slot.hour,
        profile.timezone,
        slot.percentile,
        slot.requests
    );
    let mut r = Reason::of_team(code, message);
    // When a deploy of this length would start clear of it: the reason's
    // `until`. Not in next_allowed_at, which is about windows.
    let level = Level::of(slot.percentile);
    let next_hour = t + Duration::minutes(60 - profile.zone.local(t).minute() as i64);
    r.until = (0..crate::traffic::SLOTS as i64)
        .map(|h| next_hour + Duration::hours(h))
        .map(|s| s - Duration::seconds(profile.zone.local(s).second() as i64))
        .find(|s| Level::of(profile.busiest(*s, duration).percentile) < level);
    match action {
        Action::Deny => Some(r),
        Action::Warn => {
            warnings.push(r);
            None
        }
        Action::Allow => None,
    }
}

/// Rule 5: an override lifts every reason but those of windows with
/// `overridable = false`, which say so.
fn lift(reasons: Vec<Reason>, applied: Option<&Override>) -> (Vec<Reason>, Vec<Reason>) {
    let Some(o) = applied else { return (reasons, Vec::new()) };
    let (mut keep, lifted): (Vec<Reason>, Vec<Reason>) = reasons.into_iter().partition(|r| !r.overridable);
    for r in &mut keep {
        r.message
            .push_str(&format!("; override {} is in force, but no override lifts this (overridable = false)", o.id));
    }
    (keep, lifted)
}

/// The earliest instant from `t` at which rules 1, 2 and 6 give no reason,
/// or `None` when a reason time does not lift blocks.
fn next_allowed(
    ask: &Ask,
    windows: &mut Windows,
    reasons: &[Reason],
    applied: Option<&Override>,
) -> Option<DateTime<Utc>> {
    if reasons.is_empty() {
        return Some(ask.t);
    }
    if reasons.iter().any(|r| !r.timed) {
        return None;
    }
    let d = ask.expected.unwrap_or_default();
    // Under an override, only the windows it cannot lift bind, until it ends.
    let under_override = applied
        .and_then(|o| windows.not_overridable().earliest_free(ask.t, d, ask.horizon).filter(|x| *x < o.ends_at()));
    under_override.or_else(|| windows.earliest_free(ask.t, d, ask.horizon))
}

/// Rule 2's message, agreeing with `next_allowed_at`: the deploy window a
/// deploy can next start in, not merely the next one to open.
fn explain_outside(ask: &Ask, windows: &mut Windows, r: &mut Reason, next: Option<DateTime<Utc>>) {
    let ids: Vec<&str> = windows.allow.iter().map(|w| w.window.id()).collect();
    let head = format!("Outside every deploy window for {} ({})", ask.target, ids.join(", "));
    let opening = next.and_then(|x| windows.cover_end(x, x).map(|(_, w)| (x, w)));
    r.message = match opening {
        Some((x, w)) => {
            r.window_id = Some(w.id().to_string());
            r.until = Some(x);
            format!("{head}; the next time a deploy can start is {}, in '{}'", w.local_time(x), w.id())
        }
        None if ask.expected.is_some() && windows.earliest_free(ask.t, Duration::zero(), ask.horizon).is_some() => {
            format!(
                "{head}; none of them is open long enough for this deploy's expected {} within a year",
                ask.expected_text()
            )
        }
        None => match windows.next_allow_start(ask.t).filter(|(s, _)| *s <= ask.horizon) {
            Some((s, w)) => format!("{head}; the next, '{}', opens {}", w.id(), w.local_time(s)),
            None => format!("{head}; none opens within a year"),
        },
    };
}

/// The team's risk under the environment's policy.
struct Risk {
    action: Action,
    code: Code,
    message: String,
    items: Vec<Blame>,
}

/// The team's risk under the environment's policy: what to do, the code,
/// the message and the items to blame; `None` for a green team.
fn risk(rules: &Rules, target: &Target, t: DateTime<Utc>) -> Option<Risk> {
    let policy = rules.policy(target.environment.as_str());
    let Some(team) = rules.team(target.team.as_str()) else {
        let message = format!("Team '{}' is not known to deploy-gate", target.team);
        return Some(Risk { action: policy.unknown_team, code: Code::UnknownTeam, message, items: Vec::new() });
    };
    let (worst, blamed) = rules.team_status(team, target.environment.as_str(), t);
    if worst == Status::Green {
        return None;
    }
    let manual = manual_risk(team, t);
    let code = if worst == Status::Yellow {
        Code::TeamYellow
    } else if manual.as_ref().is_some_and(|(c, _)| *c == Code::TeamRed)
        || blamed.iter().any(|b| b.blame.is_red() && !b.blame.overdue)
    {
        Code::TeamRed
    } else {
        Code::PlanOverdue
    };
    let action = if worst == Status::Yellow { policy.yellow } else { policy.red };
    let message = match (manual, blamed.is_empty()) {
        (Some((_, text)), true) => text,
        (manual, _) => {
            // The items' words were written when the rules were compiled.
            let mut text = String::with_capacity(64 + blamed.iter().map(|b| b.text.len() + 2).sum::<usize>());
            text.push_str("Team '");
            text.push_str(team.name.as_str());
            text.push_str("' is ");
            text.push_str(worst.as_str());
            text.push_str(" in ");
            text.push_str(target.environment.as_str());
            text.push_str(": ");
            for (i, b) in blamed.iter().enumerate() {
                if i > 0 {
                    text.push_str("; ");
                }
                text.push_str(&b.text);
            }
            if let Some((_, m)) = manual {
                text.push_str("; and ");
                text.push_str(&m.replacen("Team ", "team ", 1));
            }
            text
        }
    };
    let items = blamed.into_iter().map(|b| b.blame).collect();
    Some(Risk { action, code, message, items })
}

/// The manual colour's code and message; `None` when green or not set.
fn manual_risk(team: &super::Team, t: DateTime<Utc>) -> Option<(Code, String)> {
    let plan = team.spec.plan.as_deref().unwrap_or("no plan link");
    let due = team.spec.plan_due.map(|d| d.to_string()).unwrap_or_default();
    match team.effective_status(t) {
        Status::Green => None,
        Status::Yellow => Some((Code::TeamYellow, format!("Team '{}' is yellow (plan {plan}, due {due})", team.name))),
        Status::Red if team.overdue(t) => Some((
            Code::PlanOverdue,
            format!(
                "Team '{}' is yellow but its plan ({plan}) was due {due} and is overdue, so it counts as red",
                team.name
            ),
        )),
        Status::Red => Some((Code::TeamRed, format!("Team '{}' is red (non-compliant, no plan)", team.name))),
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
