//! `/scorecard.html`: the matrix teams x items for people. Each cell is
//! coloured and labelled in text (never colour alone), with its plan link,
//! due date, and "overdue" or "due soon"; sortable by team; and a small SVG
//! chart of the red, yellow and green counts over time.

use std::fmt::Write as _;

use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::dashboard::{as_of, esc, page_start};
use crate::error::Error;
use crate::gate::{CellView, DayCounts, Gate, HistoryQuery, ScorecardView, TeamRow, scorecard};
use crate::http::strict::{Known, Query};
use crate::policy::{CellStatus, Item, Status, plan_label};

/// Teams on one page of the matrix.
const TEAMS_PER_PAGE: usize = 50;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// `team` (A to Z, the default), `-team` (Z to A) or `risk` (worst first).
    sort: Option<String>,
    /// The page of teams, from 1.
    page: Option<String>,
}

impl Known for PageParams {
    const FIELDS: &'static [&'static str] = &["sort", "page"];
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sort {
    /// By team name, A to Z.
    Team,
    /// By team name, Z to A.
    TeamDescending,
    /// Worst first.
    Risk,
}

impl Sort {
    pub fn parse(text: Option<&str>) -> Result<Sort, Error> {
        match text.unwrap_or("team") {
            "" | "team" => Ok(Sort::Team),
            "-team" => Ok(Sort::TeamDescending),
            "risk" => Ok(Sort::Risk),
            other => Err(Error::invalid_parameter(
                "sort",
                format!("sort `{}` is not known; use team, -team or risk", other.escape_debug()),
            )),
        }
    }
}

/// The scorecard page (HTML).
#[utoipa::path(get, path = "/scorecard.html", tag = "teams", params(PageParams),
    responses((status = 200, content_type = "text/html", body = String)))]
pub async fn page(gate: web::Data<Gate>, query: Query<PageParams>) -> Result<HttpResponse, Error> {
    let sort = Sort::parse(query.sort.as_deref())?;
    let page = match query.page.as_deref().filter(|p| !p.is_empty()) {
        None => 1,
        Some(p) => p
            .parse::<usize>()
            .ok()
            .filter(|n| *n >= 1)
            .ok_or_else(|| Error::invalid_parameter("page", "page must be a whole number from 1"))?,
    };
    let now = Utc::now();
    let view = scorecard(&gate.live(), now);
    let history = gate.scorecard_history(&HistoryQuery::default(), now).await?;
    let html = render(&view, &history.days, sort, page, now);
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header(("cache-control", "no-store"))
        .body(html))
}

/// The whole page.
pub fn render(view: &ScorecardView, days: &[DayCounts], sort: Sort, page: usize, now: DateTime<Utc>) -> String {
    let mut h = String::with_capacity(64 * 1024);
    let links = format!(
        "{} <a href=\"/\">Dashboard</a> · <a href=\"/scorecard\">JSON</a> · <a href=\"/scorecard/history\">history</a>",
        as_of(now)
    );
    page_start(&mut h, "team scorecard", EXTRA, "Team scorecard", &links);
    if view.items.is_empty() {
        h.push_str("<section id=\"matrix\"><h2>No risk items yet</h2><p>Add <code>[[scorecard.items]]</code> tables to the config; each team then gets a cell per item.</p></section>\n</main>\n</body>\n</html>\n");
        return h;
    }
    summary(&mut h, view);
    trend(&mut h, days);
    items(&mut h, &view.items);
    matrix(&mut h, view, sort, page);
    h.push_str("</main>\n</body>\n</html>\n");
    h
}

const EXTRA: &str = r#"
table.matrix td.cell { min-width: 7em; font-size: 13px; border-left: 1px solid var(--line); }
td.cell.red { background: #fef3f2; } td.cell.yellow { background: #fffaeb; } td.cell.green { background: #ecfdf3; } td.cell.unassessed { background: #f2f4f7; }
.flag { display: inline-block; font-size: 11px; font-weight: 700; padding: 0 4px; border-radius: 3px; margin-left: 2px; }
.flag.overdue { background: var(--red); color: #fff; } .flag.soon { background: #fdb022; color: #3a2700; }
.badge.unassessed { background: #98a2b3; }
svg.trend { display: block; margin: 4px 0; } svg.trend text { font-size: 11px; fill: var(--muted); }
svg.trend polyline { fill: none; stroke-width: 2; } svg.trend .red { stroke: var(--red); } svg.trend .yellow { stroke: #dc9500; } svg.trend .green { stroke: var(--green); } svg.trend .unassessed { stroke: #98a2b3; stroke-dasharray: 4 3; }
svg.trend line.axis { stroke: var(--line); }
.swatch.red { background: var(--red); } .swatch.yellow { background: #dc9500; } .swatch.green { background: var(--green); } .swatch.unassessed { background: #98a2b3; }
nav.pages a, nav.pages span { margin-right: 8px; }
"#;

fn label(s: CellStatus) -> &'static str {
    match s {
        CellStatus::Red => "RED",
        CellStatus::Yellow => "YELLOW",
        CellStatus::Green => "GREEN",
        CellStatus::Unassessed => "NOT ASSESSED",
    }
}

fn summary(h: &mut String, view: &ScorecardView) {
    let c = view.counts;
    let _ = writeln!(
        h,
        "<section id=\"summary\"><h2>{} teams × {} items</h2><p data-counts><span class=\"badge red\">RED</span> {} · <span class=\"badge yellow\">YELLOW</span> {} · <span class=\"badge green\">GREEN</span> {} · <span class=\"badge unassessed\">NOT ASSESSED</span> {}</p><p class=\"muted\">A yellow cell past its plan's due date counts as red. Unassessed cells {}.</p></section>",
        view.teams.len(),
        view.items.len(),
        c.red,
        c.yellow,
        c.green,
        c.unassessed,
        match view.unassessed {
            crate::policy::Unassessed::Red => "count as red where their item gates",
            crate::policy::Unassessed::Ignore => "are shown, never counted",
        }
    );
}

/// The red, yellow, green and unassessed counts per day, as lines.
fn trend(h: &mut String, days: &[DayCounts]) {
    h.push_str("<section id=\"trend\"><h2>Risk over time</h2>");
    if days.len() < 2 {
        h.push_str("<p class=\"muted\">Not enough history yet.</p></section>\n");
        return;
    }
    let (width, height, left, top, bottom) = (900.0_f64, 180.0_f64, 36.0_f64, 8.0_f64, 22.0_f64);
    let max = days.iter().map(|d| d.counts.red.max(d.counts.yellow).max(d.counts.green).max(d.counts.unassessed)).max();
    let max = max.unwrap_or(0).max(1) as f64;
    let x = |i: usize| left + (width - left - 8.0) * i as f64 / (days.len() - 1) as f64;
    let y = |n: usize| top + (height - top - bottom) * (1.0 - n as f64 / max);
    let first = &days[0];
    let last = &days[days.len() - 1];
    let _ = write!(
        h,
        "<svg class=\"trend\" role=\"img\" viewBox=\"0 0 {width} {height}\" width=\"100%\" aria-labelledby=\"trend-title\"><title id=\"trend-title\">Cells by colour per day, {} to {}: red {} to {}, yellow {} to {}, green {} to {}</title>",
        first.date,
        last.date,
        first.counts.red,
        last.counts.red,
        first.counts.yellow,
        last.counts.yellow,
        first.counts.green,
        last.counts.green
    );
    let _ = write!(
        h,
        "<line class=\"axis\" x1=\"{left}\" y1=\"{b:.1}\" x2=\"{width}\" y2=\"{b:.1}\"/><text x=\"2\" y=\"{t:.1}\">{max}</text><text x=\"2\" y=\"{b:.1}\">0</text><text x=\"{left}\" y=\"{height}\">{}</text><text x=\"{r:.1}\" y=\"{height}\" text-anchor=\"end\">{}</text>",
        first.date,
        last.date,
        b = height - bottom,
        t = top + 8.0,
        r = width - 8.0,
    );
    type Pick = fn(&DayCounts) -> usize;
    let lines: [(&str, Pick); 4] = [
        ("unassessed", |d| d.counts.unassessed),
        ("green", |d| d.counts.green),
        ("yellow", |d| d.counts.yellow),
        ("red", |d| d.counts.red),
    ];
    for (class, pick) in lines {
        let points: Vec<String> =
            days.iter().enumerate().map(|(i, d)| format!("{:.1},{:.1}", x(i), y(pick(d)))).collect();
        let _ = write!(
            h,
            "<polyline class=\"{class}\" data-series=\"{class}\" data-last=\"{}\" points=\"{}\"><title>{class}: {} now</title></polyline>",
            pick(last),
            points.join(" "),
            pick(last)
        );
    }
    h.push_str("</svg><p class=\"legend muted\">");
    for class in ["red", "yellow", "green", "unassessed"] {
        let _ = write!(h, "<span class=\"swatch {class}\"></span>{class} ");
    }
    h.push_str("(cells per day, by what they count as at the end of the day)</p></section>\n");
}

fn gates_text(item: &Item) -> String {
    match &item.gates {
        None => "gates every environment".into(),
        Some(list) if list.is_empty() => "shown only; gates no deploy".into(),
        Some(list) => {
            format!("gates {}", list.iter().map(|p| esc(p.as_str())).collect::<Vec<_>>().join(", "))
        }
    }
}

fn items(h: &mut String, items: &[Item]) {
    h.push_str("<section id=\"items\"><h2>Risk items</h2><table><thead><tr><th>item</th><th>why</th><th>gates</th></tr></thead><tbody>");
    for item in items {
        let _ = write!(
            h,
            "<tr data-item=\"{id}\"><td><strong>{title}</strong> <code>{id}</code></td><td>{why}</td><td>{gates}</td></tr>",
            id = esc(&item.id),
            title = esc(&item.title),
            why = esc(item.why.as_deref().unwrap_or("")),
            gates = gates_text(item),
        );
    }
    h.push_str("</tbody></table></section>\n");
}

fn rank(s: Status) -> u8 {
    match s {
        Status::Red => 0,
        Status::Yellow => 1,
        Status::Green => 2,
    }
}

fn matrix(h: &mut String, view: &ScorecardView, sort: Sort, page: usize) {
    let mut rows: Vec<&TeamRow> = view.teams.iter().collect();
    match sort {
        Sort::Team => rows.sort_by(|a, b| a.name.cmp(&b.name)),
        Sort::TeamDescending => rows.sort_by(|a, b| b.name.cmp(&a.name)),
        Sort::Risk => rows.sort_by(|a, b| {
            let reds = |r: &TeamRow| r.cells.values().filter(|c| c.effective == CellStatus::Red).count();
            (rank(a.status), std::cmp::Reverse(reds(a)), &a.name).cmp(&(
                rank(b.status),
                std::cmp::Reverse(reds(b)),
                &b.name,
            ))
        }),
    }
    let pages = rows.len().div_ceil(TEAMS_PER_PAGE).max(1);
    let page = page.min(pages);
    let shown = &rows[(page - 1) * TEAMS_PER_PAGE..(page * TEAMS_PER_PAGE).min(rows.len())];
    let (team_link, arrow) = match sort {
        Sort::Team => ("-team", " ▲"),
        Sort::TeamDescending => ("team", " ▼"),
        Sort::Risk => ("team", ""),
    };
    let _ = write!(
        h,
        "<section id=\"matrix\"><h2>Teams × items</h2><p class=\"muted\">Sort: <a id=\"sort-team\" href=\"?sort={team_link}\">by team{arrow}</a> · <a id=\"sort-risk\" href=\"?sort=risk\">worst first</a></p><div style=\"overflow-x:auto\"><table class=\"matrix\"><thead><tr><th scope=\"col\"><a href=\"?sort={team_link}\">team{arrow}</a></th><th scope=\"col\">status</th>"
    );
    for item in &view.items {
        let _ = write!(h, "<th scope=\"col\" title=\"{}\">{}</th>", esc(&item.title), esc(&item.id));
    }
    h.push_str("</tr></thead><tbody>");
    for row in shown {
        let status = row.status.as_str();
        let _ = write!(
            h,
            "<tr data-team=\"{name}\"><th scope=\"row\">{name}</th><td><span class=\"badge {status}\">{label}</span></td>",
            name = esc(&row.name),
            label = status.to_uppercase(),
        );
        for item in &view.items {
            if let Some(cell) = row.cells.get(&item.id) {
                cell_html(h, &item.id, cell);
            }
        }
        h.push_str("</tr>");
    }
    h.push_str("</tbody></table></div>");
    if pages > 1 {
        let sort_text = match sort {
            Sort::Team => "team",
            Sort::TeamDescending => "-team",
            Sort::Risk => "risk",
        };
        h.push_str("<nav class=\"pages\">Page: ");
        for p in 1..=pages {
            if p == page {
                let _ = write!(h, "<span>{p}</span>");
            } else {
                let _ = write!(h, "<a href=\"?sort={sort_text}&amp;page={p}\">{p}</a>");
            }
        }
        h.push_str("</nav>");
    }
    h.push_str("</section>\n");
}

fn cell_html(h: &mut String, item: &str, cell: &CellView) {
    let effective = cell.effective.as_str();
    let _ = write!(
        h,
        "<td class=\"cell {effective}\" data-item=\"{item}\" data-status=\"{status}\" data-effective=\"{effective}\"{note}>{label}",
        item = esc(item),
        status = cell.status.as_str(),
        label = label(cell.status),
        note = cell.note.as_deref().map(|n| format!(" title=\"{}\"", esc(n))).unwrap_or_default(),
    );
    if cell.overdue {
        h.push_str(" <span class=\"flag overdue\">OVERDUE</span>");
    } else if cell.due_soon {
        h.push_str(" <span class=\"flag soon\">DUE SOON</span>");
    }
    if let Some(plan) = &cell.plan {
        let text = esc(&plan_label(plan));
        let link = if plan.starts_with("https://") || plan.starts_with("http://") {
            format!("<a href=\"{}\">{text}</a>", esc(plan))
        } else {
            text
        };
        let _ = write!(h, "<br>plan {link}");
    }
    if let Some(due) = cell.plan_due {
        let _ = write!(h, "<br>due <time datetime=\"{due}\">{due}</time>");
    }
    h.push_str("</td>");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_sorts_are_refused_with_the_choices() {
        assert_eq!(Sort::parse(None).expect("default"), Sort::Team);
        assert_eq!(Sort::parse(Some("-team")).expect("desc"), Sort::TeamDescending);
        let e = Sort::parse(Some("teams")).expect_err("unknown");
        assert!(e.message.contains("team, -team or risk"), "{}", e.message);
    }
}
