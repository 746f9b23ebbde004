//! `/health-map.html`: the colour map of every team's latest health check
//! (teams x topics, sorted by team name), each cell coloured, labelled in
//! text and marked with its trend; and, across the organisation, how many
//! teams felt green, yellow or red about each topic per quarter. No score,
//! total or ranking of teams: the page is for conversations, not judgement.

use std::fmt::Write as _;

use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};

use super::dashboard::{as_of, esc, page_start};
use super::health_checks::{NoParams, map_of};
use crate::error::Error;
use crate::gate::Gate;
use crate::health_checks::{self, Colour, HealthMap, MapCell, Quarters, SessionStatus};
use crate::http::strict::Query;

/// Quarters shown in the organisation-wide view.
const QUARTERS_SHOWN: usize = 8;

/// The health map page (HTML).
#[utoipa::path(get, path = "/health-map.html", tag = "health checks", params(NoParams),
    responses((status = 200, content_type = "text/html", body = String)))]
pub async fn page(gate: web::Data<Gate>, _query: Query<NoParams>) -> Result<HttpResponse, Error> {
    let sessions = health_checks::sessions(gate.store(), None).await?;
    let map = map_of(&gate, &sessions);
    let quarters = health_checks::quarters(&gate.live().health, &sessions);
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header(("cache-control", "no-store"))
        .body(render(&map, &quarters, Utc::now())))
}

const EXTRA: &str = r#"
table.health th.topic { font-size: 12px; writing-mode: horizontal-tb; min-width: 6.5em; }
table.health td.cell { font-size: 13px; border-left: 1px solid var(--line); white-space: nowrap; }
td.cell.red { background: #fef3f2; color: var(--red); } td.cell.yellow { background: #fffaeb; color: var(--yellow); } td.cell.green { background: #ecfdf3; color: var(--green); }
td.cell.none { color: var(--muted); }
td.cell .arrow { font-weight: 700; margin-left: 4px; }
.principle { border-left: 6px solid #175cd3; }
dl.topics dt { font-weight: 700; margin-top: 6px; } dl.topics dd { margin: 0 0 0 12px; font-size: 14px; }
.charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(240px, 1fr)); gap: 4px 16px; }
svg.quarters text { font-size: 11px; fill: var(--ink); }
svg.quarters rect.green { fill: var(--green); } svg.quarters rect.yellow { fill: #fdb022; } svg.quarters rect.red { fill: var(--red); }
.swatch { display: inline-block; width: 14px; height: 10px; margin: 0 2px 0 10px; vertical-align: middle; }
.swatch.green { background: var(--green); } .swatch.yellow { background: #fdb022; } .swatch.red { background: var(--red); }
"#;

fn colour_word(c: Colour) -> &'static str {
    match c {
        Colour::Green => "GREEN",
        Colour::Yellow => "YELLOW",
        Colour::Red => "RED",
    }
}

/// The whole page.
pub fn render(map: &HealthMap, quarters: &Quarters, now: DateTime<Utc>) -> String {
    let mut h = String::with_capacity(32 * 1024);
    let links = format!(
        "{} <a href=\"/\">Dashboard</a> · <a href=\"/health-map\">JSON</a> · <a href=\"/health-map/quarters\">quarters (JSON)</a>",
        as_of(now)
    );
    page_start(&mut h, "health checks", EXTRA, "Team health checks", &links);
    let _ = write!(
        h,
        r#"<section class="principle"><p>Each team's own "I feel that..." votes, from its latest health check: a start for conversations about what would help.
They are <strong>never</strong> used to judge, compare or rank teams or people, and never gate a deploy. Teams are listed by name.
Each colour is the team's median vote; the arrow compares it with the team's previous session (↑ better, ↓ worse, → same).
A session with fewer than {min} voters shows no colours.</p></section>
"#,
        min = map.min_votes,
    );
    matrix(&mut h, map);
    organisation(&mut h, quarters);
    h.push_str("<section id=\"topics\"><h2>Topics</h2><dl class=\"topics\">\n");
    for t in &map.topics {
        let _ = writeln!(
            h,
            "<dt id=\"topic-{id}\">{title}</dt><dd>Green: {green}</dd><dd>Red: {red}</dd>",
            id = esc(&t.id),
            title = esc(&t.title),
            green = esc(&t.green),
            red = esc(&t.red)
        );
    }
    h.push_str("</dl></section>\n</main>\n</body>\n</html>\n");
    h
}

fn matrix(h: &mut String, map: &HealthMap) {
    h.push_str("<section id=\"map\"><h2>Latest health check of each team</h2>\n");
    if map.teams.is_empty() {
        h.push_str("<p>No teams yet.</p></section>\n");
        return;
    }
    h.push_str("<div style=\"overflow-x:auto\"><table class=\"health\"><thead><tr><th>Team</th><th>Session</th>");
    for t in &map.topics {
        let _ = write!(
            h,
            "<th class=\"topic\" scope=\"col\" title=\"Green: {green} Red: {red}\">{title}</th>",
            green = esc(&t.green),
            red = esc(&t.red),
            title = esc(&t.title)
        );
    }
    h.push_str("</tr></thead><tbody>\n");
    for row in &map.teams {
        let _ = write!(h, "<tr data-team=\"{t}\"><th scope=\"row\">{t}</th>", t = esc(&row.team));
        match (row.date, row.status) {
            (Some(date), Some(SessionStatus::Ok)) => {
                let _ = write!(h, "<td><a href=\"/health-checks?team={t}\">{date}</a></td>", t = esc(&row.team));
                for cell in &row.cells {
                    cell_html(h, cell);
                }
            }
            (Some(date), _) => {
                let _ = write!(
                    h,
                    "<td><a href=\"/health-checks?team={t}\">{date}</a></td><td class=\"cell none too-few\" colspan=\"{n}\">Too few votes to show colours (fewer than {min} voters)</td>",
                    t = esc(&row.team),
                    n = row.cells.len(),
                    min = map.min_votes
                );
            }
            (None, _) => {
                let _ = write!(
                    h,
                    "<td class=\"muted\">none yet</td><td class=\"cell none\" colspan=\"{n}\">No health check yet</td>",
                    n = row.cells.len()
                );
            }
        }
        h.push_str("</tr>\n");
    }
    h.push_str("</tbody></table></div></section>\n");
}

fn cell_html(h: &mut String, cell: &MapCell) {
    let Some(colour) = cell.colour else {
        let _ = write!(h, "<td class=\"cell none\" data-topic=\"{}\">not voted</td>", esc(&cell.topic));
        return;
    };
    let (arrow, trend_text) = match cell.trend {
        Some(t) => (t.arrow(), t.as_str()),
        None => ("", "first session"),
    };
    let _ = write!(
        h,
        "<td class=\"cell {c}\" data-topic=\"{topic}\" data-colour=\"{c}\" data-trend=\"{trend}\" title=\"{c}, {trend_text}\">{word}<span class=\"arrow\" aria-label=\"{trend_text}\">{arrow}</span></td>",
        c = colour.as_str(),
        topic = esc(&cell.topic),
        trend = cell.trend.map_or("", |t| t.as_str()),
        word = colour_word(colour),
    );
}

/// Per topic, a small stacked bar per quarter: how many teams felt green,
/// yellow and red (counts of teams, with no team named).
fn organisation(h: &mut String, q: &Quarters) {
    h.push_str("<section id=\"organisation\"><h2>Across the organisation, per quarter</h2>\n");
    if q.quarters.is_empty() {
        h.push_str("<p>No health checks yet.</p></section>\n");
        return;
    }
    h.push_str("<p class=\"legend muted\">How many teams' latest session of the quarter was <span class=\"swatch green\"></span>green, <span class=\"swatch yellow\"></span>yellow or <span class=\"swatch red\"></span>red on each topic.</p>\n");
    let skip = q.quarters.len().saturating_sub(QUARTERS_SHOWN);
    let shown = &q.quarters[skip..];
    const COL: usize = 72;
    const BAR_H: f64 = 60.0;
    let width = 40 + shown.len() * COL;
    h.push_str("<div class=\"charts\">\n");
    for topic in &q.topics {
        let counts = &topic.quarters[skip..];
        let most = counts.iter().map(|c| c.green + c.yellow + c.red).max().unwrap_or(0).max(1) as f64;
        let _ = write!(
            h,
            "<div class=\"chart\"><h3>{title}</h3>\n<svg class=\"quarters\" data-topic=\"{id}\" width=\"{width}\" height=\"96\" role=\"img\" aria-label=\"{title}: teams green, yellow and red per quarter\">\n",
            title = esc(&topic.title),
            id = esc(&topic.topic),
        );
        for (i, c) in counts.iter().enumerate() {
            let x = 20 + i * COL;
            let mut y = 8.0 + BAR_H;
            for (class, n) in [("red", c.red), ("yellow", c.yellow), ("green", c.green)] {
                if n == 0 {
                    continue;
                }
                let bar = BAR_H * f64::from(n) / most;
                y -= bar;
                let _ = write!(
                    h,
                    "<rect class=\"{class}\" x=\"{x}\" y=\"{y:.1}\" width=\"40\" height=\"{bar:.1}\"><title>{q}: {n} {class}</title></rect>",
                    q = esc(&c.quarter)
                );
            }
            let _ = writeln!(
                h,
                "<text x=\"{x}\" y=\"82\">{q}</text><text x=\"{x}\" y=\"94\" class=\"counts\">{g}/{yl}/{r}</text>",
                q = esc(&c.quarter),
                g = c.green,
                yl = c.yellow,
                r = c.red
            );
        }
        h.push_str("</svg></div>\n");
    }
    h.push_str("</div></section>\n");
}
