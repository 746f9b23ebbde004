//! `/`: the dashboard. Server-rendered HTML with its styles inline and no
//! script: which teams are red, what is frozen now, the next seven days,
//! overrides in force and the last decisions. It reloads itself.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use std::sync::{Arc, Mutex, Weak};

use actix_web::{HttpResponse, web};
use chrono::{DateTime, Duration, Utc};

use crate::error::Error;
use crate::gate::{DecisionRecord, Gate, Live};
use crate::policy::{Kind, Override, Rules, Status, Team, Window};
use crate::schedule::Occurrence;

const REFRESH_SECONDS: u32 = 30;
// The page stays small (well under 300 KB) however much the gate holds: each
// section shows what fits a screen and says where the rest is.
/// Environments shown in "frozen now" and on the timeline.
const ENVIRONMENTS_SHOWN: usize = 12;
/// Active freezes listed per environment.
const FREEZES_SHOWN: usize = 10;
/// Timeline lanes per environment.
const LANES_SHOWN: usize = 25;
/// Bars on the whole timeline; lanes beyond it are summarised.
const BARS_SHOWN: usize = 500;
/// Teams that are not green, listed one by one.
const TEAMS_SHOWN: usize = 100;
/// Green teams, listed by name.
const GREEN_NAMES_SHOWN: usize = 200;
/// Overrides in force, listed.
const OVERRIDES_SHOWN: usize = 50;
/// The last decisions.
const DECISIONS_SHOWN: i64 = 20;

/// HTML-escape text for element content and attribute values.
pub(super) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

pub(super) fn when(t: DateTime<Utc>) -> String {
    t.format("%a %Y-%m-%d %H:%M UTC").to_string()
}

/// A window's instant in its own zone, then in UTC: "Mon 2026-11-30 08:00 CET (07:00 UTC)".
fn both(w: &Window, t: DateTime<Utc>) -> String {
    if w.zone.name() == "UTC" {
        return when(t);
    }
    format!("{} ({})", w.local_time(t), t.format("%H:%M UTC"))
}

/// The dashboard (HTML).
#[utoipa::path(get, path = "/", tag = "operations", responses((status = 200, content_type = "text/html", body = String)))]
pub async fn page(gate: web::Data<Gate>, cache: web::Data<SectionCache>) -> Result<HttpResponse, Error> {
    let now = Utc::now();
    let live = gate.live();
    let active = gate.overrides();
    let overrides = active.active_at(now);
    let decisions = gate.recent_decisions(DECISIONS_SHOWN).await?;
    let sections = cache.get(&live, now);
    let refused = gate.catalog().reload_status().last_error.unwrap_or_default();
    let mut html = render_with(&sections, &refused, &live.rules, &overrides, &decisions, now);
    let services = gate.traffic().services();
    if !services.is_empty() {
        // Before the closing tags: the services with traffic data, to their heat maps.
        let at = html.rfind("</main>").unwrap_or(html.len());
        html.insert_str(at, &traffic_section(&services));
    }
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header(("cache-control", "no-store"))
        .body(html))
}

/// Services shown by name in the traffic section, at most.
const SERVICES_SHOWN: usize = 100;

/// The services with traffic data, each to its week's heat map.
fn traffic_section(services: &[String]) -> String {
    let mut h = String::from(
        "<section id=\"traffic\"><h2>Traffic</h2><p class=\"muted\">Each service's week, busy and quiet hours, with its freezes and deploy windows: </p><p>",
    );
    let links: Vec<String> = services
        .iter()
        .take(SERVICES_SHOWN)
        .map(|s| format!("<a href=\"/impact/profile.svg?service={0}\">{0}</a>", esc(s)))
        .collect();
    h.push_str(&links.join(" · "));
    if services.len() > SERVICES_SHOWN {
        let _ =
            write!(h, " and {} more (<code>/impact/profile.svg?service=NAME</code>)", services.len() - SERVICES_SHOWN);
    }
    h.push_str("</p></section>\n");
    h
}

/// The environments worth a row: those the policy names and those windows
/// name literally; "production" when there are none.
fn environments(rules: &Rules) -> Vec<String> {
    let mut set: BTreeSet<String> = rules.environments().keys().cloned().collect();
    for w in rules.windows() {
        for p in w.spec.environments.patterns().unwrap_or_default() {
            if let Some(name) = p.literal() {
                set.insert(name.to_string());
            }
        }
    }
    if set.is_empty() {
        set.insert("production".into());
    }
    set.into_iter().collect()
}

/// The environments shown, and a line on those left out.
fn shown_environments(rules: &Rules) -> (Vec<String>, String) {
    let mut all = environments(rules);
    if all.len() <= ENVIRONMENTS_SHOWN {
        return (all, String::new());
    }
    let rest = all.split_off(ENVIRONMENTS_SHOWN);
    let more = format!(
        "<p class=\"muted\">{} more environments ({}…): ask <a href=\"/calendar\">/calendar?environment=NAME</a>.</p>",
        rest.len(),
        esc(&rest.iter().take(5).cloned().collect::<Vec<_>>().join(", "))
    );
    (all, more)
}

/// The window sections (frozen now, the timeline), kept a few seconds per
/// generation of rules: at thousands of windows they take tens of
/// milliseconds, and every open dashboard reloads every 30 s.
#[derive(Default)]
pub struct SectionCache(Mutex<Option<Sections>>);

/// Sections rendered for one generation of rules, at one instant.
struct Sections {
    rules: Weak<Live>,
    at: DateTime<Utc>,
    html: Arc<str>,
}

const SECTIONS_KEPT: Duration = Duration::seconds(5);

impl SectionCache {
    fn get(&self, live: &Arc<Live>, now: DateTime<Utc>) -> Arc<str> {
        let mut kept = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(s) = kept.as_ref()
            && s.rules.upgrade().is_some_and(|r| Arc::ptr_eq(&r, live))
            && now >= s.at
            && now - s.at < SECTIONS_KEPT
        {
            return s.html.clone();
        }
        let html: Arc<str> = window_sections(&live.rules, now).into();
        *kept = Some(Sections { rules: Arc::downgrade(live), at: now, html: html.clone() });
        html
    }
}

/// Frozen now and the timeline.
pub fn window_sections(rules: &Rules, now: DateTime<Utc>) -> String {
    let mut h = String::with_capacity(32 * 1024);
    let (envs, more_envs) = shown_environments(rules);
    let facts = Facts::of(rules, &envs, now);
    frozen_now(&mut h, &facts, &envs, &more_envs);
    timeline(&mut h, &facts, &envs, &more_envs, now);
    h
}

/// The whole page.
pub fn render(
    rules: &Rules,
    overrides: &[&Override],
    decisions: &[(DateTime<Utc>, DecisionRecord)],
    now: DateTime<Utc>,
) -> String {
    render_with(&window_sections(rules, now), &[], rules, overrides, decisions, now)
}

fn render_with(
    window_sections: &str,
    refused_edit: &[String],
    rules: &Rules,
    overrides: &[&Override],
    decisions: &[(DateTime<Utc>, DecisionRecord)],
    now: DateTime<Utc>,
) -> String {
    let mut h = String::with_capacity(64 * 1024);
    let _ = write!(
        h,
        r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="refresh" content="{REFRESH_SECONDS}">
<title>deploy-gate</title>
<style>{STYLE}</style>
</head>
<body>
<header><h1>deploy-gate</h1>
<p>As of <time datetime="{now_iso}">{now_text}</time>; this page reloads every {REFRESH_SECONDS} s.
<a href="/scorecard.html">Team scorecard</a> · <a href="/health-map.html">Health checks</a> · <a href="/calendar.ics">Subscribe to the calendar</a> · <a href="/docs">API</a> · <a href="/metrics">metrics</a></p></header>
<main>
"#,
        now_iso = now.to_rfc3339(),
        now_text = when(now),
    );
    refused(&mut h, refused_edit);
    h.push_str(window_sections);
    teams(&mut h, rules, now);
    overrides_table(&mut h, overrides);
    decisions_table(&mut h, decisions);
    h.push_str("</main>\n</body>\n</html>\n");
    h
}

/// A config edit the gate refused: the last good config is in force, and
/// whoever made the edit should know.
fn refused(h: &mut String, problems: &[String]) {
    if problems.is_empty() {
        return;
    }
    let _ = write!(
        h,
        "<section id=\"refused-edit\" class=\"alert\"><h2>A config edit was refused</h2><p>The last good config stays in force. {} in the edit (all of them at <a href=\"/readyz\">/readyz</a>):</p><ul>",
        if problems.len() == 1 { "1 problem".to_string() } else { format!("{} problems", problems.len()) }
    );
    for p in problems.iter().take(5) {
        let _ = write!(h, "<li><code>{}</code></li>", esc(p));
    }
    h.push_str("</ul></section>\n");
}

/// What the page shows of each window that may apply to a shown
/// environment, worked out once for all of them.
struct Facts<'r> {
    window: &'r Window,
    /// For a freeze open now: until when (`None`: not within a year).
    frozen_until: Option<Option<DateTime<Utc>>>,
    /// Its spans on the timeline.
    spans: Vec<Occurrence>,
}

/// The timeline's range: from half a day ago to a week ahead.
fn timeline_range(now: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
    (now - Duration::hours(12), now + Duration::days(7))
}

impl<'r> Facts<'r> {
    fn of(rules: &'r Rules, envs: &[String], now: DateTime<Utc>) -> Vec<Facts<'r>> {
        let (from, to) = timeline_range(now);
        let horizon = now + Duration::days(366);
        rules
            .windows()
            .iter()
            .filter(|w| envs.iter().any(|e| w.may_apply(None, None, Some(e))))
            .map(|w| Facts {
                window: w,
                frozen_until: if w.kind == Kind::Deny { w.schedule.active_until(now, horizon) } else { None },
                spans: w.schedule.spans(from, to, 200),
            })
            .collect()
    }

    fn applies_in(&self, env: &str) -> bool {
        self.window.may_apply(None, None, Some(env))
    }
}

fn frozen_now(h: &mut String, facts: &[Facts], envs: &[String], more_envs: &str) {
    h.push_str("<section id=\"frozen\"><h2>Frozen now</h2>\n<div class=\"envs\">\n");
    for env in envs {
        let _ = write!(h, "<div class=\"env\" data-environment=\"{}\"><h3>{}</h3>", esc(env), esc(env));
        let active: Vec<(&Window, Option<DateTime<Utc>>)> = facts
            .iter()
            .filter(|f| f.applies_in(env))
            .filter_map(|f| f.frozen_until.map(|until| (f.window, until)))
            .collect();
        if active.is_empty() {
            h.push_str("<p class=\"clear\"><span class=\"badge green\">OPEN</span> no freeze is active</p>");
        } else {
            h.push_str("<ul>");
            let hidden = active.len().saturating_sub(FREEZES_SHOWN);
            for (w, until) in active.into_iter().take(FREEZES_SHOWN) {
                let until = until.map_or("no end within a year".to_string(), |u| format!("until {}", both(w, u)));
                let _ = write!(
                    h,
                    "<li class=\"freeze\" data-window=\"{id}\"><span class=\"badge red\">FROZEN</span> <strong>{id}</strong>{reason} <span class=\"muted\">{until}; {scope}{locked}</span></li>",
                    id = esc(w.id()),
                    reason = w.spec.reason.as_deref().map(|r| format!(": {}", esc(r))).unwrap_or_default(),
                    until = esc(&until),
                    scope = esc(&w.scope()),
                    locked = if w.overridable() { "" } else { "; no override lifts it" },
                );
            }
            if hidden > 0 {
                let _ = write!(
                    h,
                    "<li class=\"muted\">and {hidden} more: <a href=\"/windows\">/windows</a> lists them all</li>"
                );
            }
            h.push_str("</ul>");
        }
        h.push_str("</div>\n");
    }
    h.push_str("</div>");
    h.push_str(more_envs);
    h.push_str("</section>\n");
}

fn timeline(h: &mut String, facts: &[Facts], envs: &[String], more_envs: &str, now: DateTime<Utc>) {
    let (from, to) = timeline_range(now);
    h.push_str("<section id=\"timeline\"><h2>The next 7 days</h2>\n");
    h.push_str("<p class=\"legend\"><span class=\"swatch deny\"></span> freeze <span class=\"swatch allow\"></span> deploy window <span class=\"swatch now\"></span> now (times in UTC)</p>\n");
    let mut bars_left = BARS_SHOWN;
    for env in envs {
        let mut lanes: Vec<(&Window, Vec<Occurrence>)> = facts
            .iter()
            .filter(|f| f.applies_in(env) && !f.spans.is_empty())
            .map(|f| (f.window, f.spans.clone()))
            .collect();
        lanes.sort_by_key(|(w, occ)| (w.kind != Kind::Deny, occ.first().map(|o| o.start)));
        let _ = write!(h, "<div class=\"lane-group\" data-environment=\"{}\"><h3>{}</h3>", esc(env), esc(env));
        if lanes.is_empty() {
            h.push_str("<p class=\"muted\">No window in these days.</p></div>\n");
            continue;
        }
        let mut fits = 0;
        for (_, occurrences) in lanes.iter().take(LANES_SHOWN) {
            if occurrences.len() > bars_left {
                break;
            }
            bars_left -= occurrences.len();
            fits += 1;
        }
        let (shown, rest) = lanes.split_at(fits);
        if !shown.is_empty() {
            svg(h, shown, from, to, now);
        }
        if !rest.is_empty() {
            let _ = write!(
                h,
                "<p class=\"muted more\">{} more windows in these days: <a href=\"/calendar?environment={env}\">/calendar?environment={env}</a> lists every occurrence.</p>",
                rest.len(),
                env = esc(env),
            );
        }
        h.push_str("</div>\n");
    }
    h.push_str(more_envs);
    h.push_str("</section>\n");
}

fn svg(
    h: &mut String,
    lanes: &[(&Window, Vec<Occurrence>)],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    now: DateTime<Utc>,
) {
    const LABEL: f64 = 190.0;
    const WIDTH: f64 = 1000.0;
    const LANE: f64 = 20.0;
    const TOP: f64 = 18.0;
    let span = (to - from).num_seconds() as f64;
    let x = |t: DateTime<Utc>| LABEL + (WIDTH - LABEL) * ((t - from).num_seconds() as f64 / span).clamp(0.0, 1.0);
    let height = TOP + LANE * lanes.len() as f64 + 4.0;
    let _ = write!(
        h,
        "<svg class=\"timeline\" viewBox=\"0 0 {WIDTH} {height}\" width=\"100%\" role=\"img\" aria-label=\"Windows over the next 7 days\">"
    );
    // Day lines, labelled at midnight UTC.
    let mut day = (from + Duration::days(1)).date_naive().and_hms_opt(0, 0, 0).map(|d| d.and_utc());
    while let Some(d) = day.filter(|d| *d < to) {
        let _ = write!(
            h,
            "<line class=\"day\" x1=\"{x:.1}\" y1=\"{TOP}\" x2=\"{x:.1}\" y2=\"{height}\"/><text class=\"day\" x=\"{x:.1}\" y=\"12\">{label}</text>",
            x = x(d),
            label = d.format("%a %d %b"),
        );
        day = Some(d + Duration::days(1));
    }
    for (i, (w, occurrences)) in lanes.iter().enumerate() {
        let y = TOP + LANE * i as f64;
        let kind = if w.kind == Kind::Deny { "deny" } else { "allow" };
        let _ = write!(
            h,
            "<g class=\"lane\" data-window=\"{id}\"><text class=\"label\" x=\"4\" y=\"{ty:.1}\">{id}</text>",
            id = esc(w.id()),
            ty = y + 14.0
        );
        for o in occurrences {
            let (x1, x2) = (x(o.start), x(o.end));
            let _ = write!(
                h,
                "<rect class=\"{kind}\" x=\"{x1:.1}\" y=\"{ry:.1}\" width=\"{w:.1}\" height=\"{hh}\"><title>{id}: {start} to {end}; {scope}</title></rect>",
                ry = y + 3.0,
                w = (x2 - x1).max(1.5),
                hh = LANE - 6.0,
                id = esc(w.id()),
                start = esc(&both(w, o.start)),
                end = esc(&both(w, o.end)),
                scope = esc(&w.scope()),
            );
        }
        h.push_str("</g>");
    }
    let nx = x(now);
    let _ = write!(
        h,
        "<line class=\"now\" x1=\"{nx:.1}\" y1=\"4\" x2=\"{nx:.1}\" y2=\"{height}\"><title>now</title></line><text class=\"now\" x=\"{tx:.1}\" y=\"12\">now</text></svg>",
        tx = nx + 3.0
    );
}

fn status_label(s: Status) -> &'static str {
    match s {
        Status::Red => "RED",
        Status::Yellow => "YELLOW",
        Status::Green => "GREEN",
    }
}

fn teams(h: &mut String, rules: &Rules, now: DateTime<Utc>) {
    let mut list: Vec<(&Team, Status)> = rules.teams().map(|t| (&**t, rules.team_status_anywhere(t, now).0)).collect();
    let rank = |s: Status| match s {
        Status::Red => 0,
        Status::Yellow => 1,
        Status::Green => 2,
    };
    list.sort_by_key(|(t, s)| (rank(*s), t.name.to_string()));
    let count = |s: Status| list.iter().filter(|(_, e)| *e == s).count();
    let _ = write!(
        h,
        "<section id=\"teams\"><h2>Teams</h2><p>{} red · {} yellow · {} green (the worst of a team's own colour and its scorecard items that gate deploys; a plan past its due date counts as red). <a href=\"/scorecard.html\">The scorecard</a> shows every item.</p><ul class=\"teams\">",
        count(Status::Red),
        count(Status::Yellow),
        count(Status::Green)
    );
    let (not_green, green): (Vec<_>, Vec<_>) = list.iter().partition(|(_, s)| *s != Status::Green);
    // Green teams get a card only while the page has room for them.
    let cards = not_green.len().min(TEAMS_SHOWN);
    let green_cards = TEAMS_SHOWN.saturating_sub(cards).min(green.len());
    for (t, effective) in not_green.iter().take(cards).chain(green.iter().take(green_cards)) {
        team_card(h, rules, t, *effective, now);
    }
    h.push_str("</ul>");
    if not_green.len() > cards {
        let _ = write!(
            h,
            "<p class=\"muted\">and {} more red or yellow teams: <a href=\"/teams\">/teams</a> lists them all.</p>",
            not_green.len() - cards
        );
    }
    let rest: Vec<&str> = green.iter().skip(green_cards).map(|(t, _)| t.name.as_str()).collect();
    if !rest.is_empty() {
        let names: Vec<String> = rest.iter().take(GREEN_NAMES_SHOWN).map(|n| esc(n)).collect();
        let more = rest.len().saturating_sub(GREEN_NAMES_SHOWN);
        let _ = write!(
            h,
            "<details class=\"green-teams\"><summary>{} more green teams</summary><p>{}{}</p></details>",
            rest.len(),
            names.join(", "),
            if more > 0 { format!(" and {more} more (<a href=\"/teams\">/teams</a>)") } else { String::new() }
        );
    }
    h.push_str("</section>\n");
}

fn team_card(h: &mut String, rules: &Rules, t: &Team, effective: Status, now: DateTime<Utc>) {
    let class = effective.as_str();
    let _ = write!(
        h,
        "<li class=\"team {class}\" data-team=\"{name}\" data-status=\"{class}\"><span class=\"badge {class}\">{label}</span> <strong>{name}</strong>",
        name = esc(t.name.as_str()),
        label = status_label(effective),
    );
    if t.overdue(now) {
        h.push_str(" <span class=\"muted\">(yellow, plan overdue)</span>");
    }
    if let Some(plan) = &t.spec.plan {
        let link = if plan.starts_with("https://") || plan.starts_with("http://") {
            format!("<a href=\"{}\">plan</a>", esc(plan))
        } else {
            format!("plan {}", esc(plan))
        };
        let _ = write!(h, "<br><span class=\"muted\">{link}");
        if let Some(due) = t.spec.plan_due {
            let _ = write!(h, ", due {due}");
        }
        h.push_str("</span>");
    }
    let _ = write!(
        h,
        "<br><a class=\"muted\" href=\"/impact/report?team={0}\">release impact</a> · <a class=\"muted\" href=\"/teams/{0}/process.svg\">process map</a>",
        esc(t.name.as_str())
    );
    let blamed = rules.board().blame_anywhere(t.name.as_str(), now);
    if !blamed.is_empty() {
        let lines: Vec<String> = blamed.iter().take(3).map(|b| esc(&b.text)).collect();
        let more = if blamed.len() > 3 { format!("; {} more", blamed.len() - 3) } else { String::new() };
        let _ = write!(h, "<br><span class=\"muted items\">{}{more}</span>", lines.join("; "));
    }
    h.push_str("</li>");
}

fn overrides_table(h: &mut String, overrides: &[&Override]) {
    h.push_str("<section id=\"overrides\"><h2>Overrides in force</h2>");
    if overrides.is_empty() {
        h.push_str("<p class=\"muted\">None.</p></section>\n");
        return;
    }
    h.push_str("<table><thead><tr><th>target</th><th>reason</th><th>by</th><th>until</th></tr></thead><tbody>");
    for o in overrides.iter().take(OVERRIDES_SHOWN) {
        let target = match &o.service {
            Some(s) => format!("{}/{s} in {}", o.team, o.environment),
            None => format!("{} in {}", o.team, o.environment),
        };
        let _ = write!(
            h,
            "<tr data-override=\"{id}\"><td>{target}</td><td>{reason}{ticket}</td><td>{by}</td><td>{until}</td></tr>",
            id = esc(&o.id),
            target = esc(&target),
            reason = esc(&o.reason),
            ticket = o.ticket.as_deref().map(|t| format!(" ({})", esc(t))).unwrap_or_default(),
            by = esc(&o.created_by),
            until = when(o.expires_at),
        );
    }
    h.push_str("</tbody></table>");
    if overrides.len() > OVERRIDES_SHOWN {
        let _ = write!(
            h,
            "<p class=\"muted\">and {} more: <code>GET /overrides?active=true</code> lists them all.</p>",
            overrides.len() - OVERRIDES_SHOWN
        );
    }
    h.push_str("</section>\n");
}

fn decisions_table(h: &mut String, decisions: &[(DateTime<Utc>, DecisionRecord)]) {
    h.push_str("<section id=\"decisions\"><h2>Last decisions</h2>");
    if decisions.is_empty() {
        h.push_str("<p class=\"muted\">None yet.</p></section>\n");
        return;
    }
    h.push_str("<table><thead><tr><th>when</th><th>target</th><th>result</th><th>reasons</th><th>asked by</th></tr></thead><tbody>");
    for (at, d) in decisions {
        let reasons: Vec<&str> = d.reasons.iter().map(|c| c.as_str()).collect();
        let _ = write!(
            h,
            "<tr><td>{when}</td><td>{target}</td><td><span class=\"badge {class}\">{result}</span></td><td>{reasons}</td><td>{actor}</td></tr>",
            when = when(*at),
            target = esc(&d.target.to_string()),
            class = match (d.allowed, &d.override_id) {
                (true, Some(_)) => "override",
                (true, None) => "green",
                (false, _) => "red",
            },
            result = match (d.allowed, &d.override_id) {
                (true, Some(id)) => format!("ALLOWED BY OVERRIDE {}", esc(id)),
                (true, None) => "ALLOWED".to_string(),
                (false, _) => "DENIED".to_string(),
            },
            reasons = esc(&reasons.join(", ")),
            actor = esc(d.actor.as_deref().or(d.token.as_deref()).unwrap_or("")),
        );
    }
    h.push_str("</tbody></table></section>\n");
}

/// The start of a page other than the dashboard, up to `<main>`: its title,
/// the house style plus `extra_style`, a heading, and a line of links
/// (`links` is HTML; `title` and `heading` are text).
pub(super) fn page_start(h: &mut String, title: &str, extra_style: &str, heading: &str, links: &str) {
    let _ = write!(
        h,
        r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>deploy-gate: {title}</title>
<style>{STYLE}{extra_style}</style>
</head>
<body>
<header><h1>{heading}</h1>
<p>{links}</p></header>
<main>
"#,
        title = esc(title),
        heading = esc(heading),
    );
}

/// "As of <time>": when a page was made.
pub(super) fn as_of(now: DateTime<Utc>) -> String {
    format!("As of <time datetime=\"{}\">{}</time>.", now.to_rfc3339(), when(now))
}

pub(super) const STYLE: &str = r#"
:root { --red: #b42318; --yellow: #8a6100; --green: #067647; --ink: #1d2939; --muted: #667085; --line: #eaecf0; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); background: #f9fafb; }
header, main { max-width: 1200px; margin: 0 auto; padding: 0 16px; }
header h1 { margin: 16px 0 0; font-size: 24px; }
header p { margin: 4px 0 8px; color: var(--muted); }
section.alert { border-color: var(--red); border-left: 6px solid var(--red); }
section { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 12px 16px; margin: 12px 0; }
h2 { font-size: 18px; margin: 0 0 8px; }
h3 { font-size: 15px; margin: 8px 0 4px; }
a { color: #175cd3; }
.muted { color: var(--muted); }
.badge { display: inline-block; min-width: 4.5em; text-align: center; padding: 0 6px; border-radius: 4px; font-size: 12px; font-weight: 700; letter-spacing: .04em; color: #fff; }
.badge.red { background: var(--red); } .badge.override { background: #7a2e0e; } .badge.yellow { background: #fdb022; color: #3a2700; } .badge.green { background: var(--green); }
.envs { display: grid; grid-template-columns: repeat(auto-fill, minmax(320px, 1fr)); gap: 8px 16px; }
.env ul { margin: 0; padding-left: 0; list-style: none; } .env li { margin: 4px 0; }
ul.teams { display: grid; grid-template-columns: repeat(auto-fill, minmax(210px, 1fr)); gap: 6px; padding: 0; margin: 0; list-style: none; }
li.team { border: 1px solid var(--line); border-left: 6px solid; border-radius: 6px; padding: 4px 8px; font-size: 14px; overflow-wrap: anywhere; }
li.team.red { border-left-color: var(--red); } li.team.yellow { border-left-color: #fdb022; } li.team.green { border-left-color: var(--green); }
table { border-collapse: collapse; width: 100%; font-size: 14px; }
th, td { text-align: left; padding: 4px 6px; border-bottom: 1px solid var(--line); vertical-align: top; }
svg.timeline { display: block; margin: 4px 0 8px; }
svg.timeline text { font-size: 11px; fill: var(--ink); }
svg.timeline text.day { fill: var(--muted); }
svg.timeline line.day { stroke: var(--line); }
svg.timeline rect.deny { fill: var(--red); opacity: .85; }
svg.timeline rect.allow { fill: var(--green); opacity: .7; }
svg.timeline line.now { stroke: #175cd3; stroke-width: 2; }
svg.timeline text.now { fill: #175cd3; font-weight: 700; }
.legend .swatch { display: inline-block; width: 14px; height: 10px; margin: 0 2px 0 10px; vertical-align: middle; }
.swatch.deny { background: var(--red); } .swatch.allow { background: var(--green); } .swatch.now { background: #175cd3; width: 3px; }
details summary { cursor: pointer; color: #175cd3; }
"#;
