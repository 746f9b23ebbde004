//! `/calendar` and `/calendar.ics`: every occurrence of every window in a
//! time range, as JSON or as an iCalendar feed.

use actix_web::{HttpResponse, web};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::http::error::ApiError;
use crate::http::openapi::ErrorBody;
use crate::http::params;
use crate::http::state::AppState;
use crate::policy::{Kind, Rules};

/// The default range, from `from`.
pub const DEFAULT_SPAN: Duration = Duration::days(14);
const MAX_SPAN: Duration = Duration::days(366);
const MAX_OCCURRENCES: usize = 10_000;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CalendarQuery {
    /// RFC 3339; default now.
    pub from: Option<String>,
    /// RFC 3339; default 14 days after `from` (8 weeks for the feed).
    pub to: Option<String>,
    pub team: Option<String>,
    pub service: Option<String>,
    pub environment: Option<String>,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Entry {
    pub window_id: String,
    pub kind: Kind,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub reason: Option<String>,
    #[serde(skip)]
    pub timezone: &'static str,
}

/// The occurrences in a range, sorted by start then window id.
pub struct Calendar {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub entries: Vec<Entry>,
}

/// The calendar a query asks for.
pub fn calendar(rules: &Rules, q: &CalendarQuery, now: DateTime<Utc>) -> Result<Calendar, ApiError> {
    let from = params::instant("from", q.from.as_deref())?.unwrap_or(now);
    let to = params::instant("to", q.to.as_deref())?.unwrap_or(from + DEFAULT_SPAN);
    if to <= from {
        return Err(ApiError::bad("invalid_parameter", "to", "to must be after from"));
    }
    if to - from > MAX_SPAN {
        return Err(ApiError::bad(
            "invalid_parameter",
            "to",
            "the range is longer than 366 days; ask for a shorter one",
        ));
    }
    let team = params::optional_name("team", q.team.as_deref())?;
    let service = params::optional_name("service", q.service.as_deref())?;
    let environment = params::optional_name("environment", q.environment.as_deref())?;
    let mut out = Vec::new();
    for w in rules.windows() {
        if !w.may_apply(
            team.as_ref().map(|n| n.as_str()),
            service.as_ref().map(|n| n.as_str()),
            environment.as_ref().map(|n| n.as_str()),
        ) {
            continue;
        }
        let room = MAX_OCCURRENCES + 1 - out.len();
        for o in w.schedule.between(from, to, room) {
            out.push(Entry {
                window_id: w.id().to_string(),
                kind: w.kind,
                start: o.start,
                end: o.end,
                reason: w.spec.reason.clone(),
                timezone: w.zone.name(),
            });
        }
        if out.len() > MAX_OCCURRENCES {
            return Err(ApiError::bad(
                "too_many_occurrences",
                "to",
                format!(
                    "more than {MAX_OCCURRENCES} occurrences in the range; ask for a shorter range or filter by team or environment"
                ),
            ));
        }
    }
    out.sort_by(|a, b| a.start.cmp(&b.start).then_with(|| a.window_id.cmp(&b.window_id)));
    Ok(Calendar { from, to, entries: out })
}

/// Every occurrence in `[from, to)`, sorted by start.
#[utoipa::path(get, path = "/calendar", tag = "windows", params(CalendarQuery),
    responses((status = 200, body = Vec<Entry>), (status = 400, description = "A parameter is missing or malformed", body = ErrorBody)))]
pub async fn get(state: web::Data<AppState>, query: web::Query<CalendarQuery>) -> Result<HttpResponse, ApiError> {
    let live = state.live();
    let found = calendar(&live.rules, &query, Utc::now())?;
    Ok(HttpResponse::Ok().json(found.entries))
}

/// How far ahead the iCalendar feed looks when `to` is not given.
const FEED_SPAN: Duration = Duration::weeks(8);

/// `GET /calendar.ics`: the same occurrences as an RFC 5545 feed to
/// subscribe to from Google Calendar or Outlook. Times are UTC instants, so
/// every client shows them right in its own zone, DST included.
/// The same occurrences as an RFC 5545 iCalendar feed to subscribe to.
#[utoipa::path(get, path = "/calendar.ics", tag = "windows", params(CalendarQuery),
    responses((status = 200, description = "text/calendar", content_type = "text/calendar", body = String), (status = 400, description = "A parameter is missing or malformed", body = ErrorBody)))]
pub async fn ics(state: web::Data<AppState>, query: web::Query<CalendarQuery>) -> Result<HttpResponse, ApiError> {
    let live = state.live();
    let now = Utc::now();
    let mut q = query.into_inner();
    if q.to.is_none() {
        let from = params::instant("from", q.from.as_deref())?.unwrap_or(now);
        q.to = Some((from + FEED_SPAN).to_rfc3339());
    }
    let found = calendar(&live.rules, &q, now)?;
    let body = render_ics(&live.rules, &found, now);
    Ok(HttpResponse::Ok().content_type("text/calendar; charset=utf-8").body(body))
}

fn ics_time(t: DateTime<Utc>) -> String {
    t.format("%Y%m%dT%H%M%SZ").to_string()
}

/// RFC 5545 TEXT escaping.
fn ics_text(s: &str) -> String {
    s.replace('\\', "\\\\").replace(';', "\\;").replace(',', "\\,").replace('\n', "\\n")
}

/// Fold a content line at 75 octets, never inside a UTF-8 character.
fn fold(line: &str, out: &mut String) {
    let mut width = 0;
    for c in line.chars() {
        if width + c.len_utf8() > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width += c.len_utf8();
    }
    out.push_str("\r\n");
}

fn scope(w: &crate::policy::Window) -> String {
    let list = |name: &str, v: &Option<Vec<String>>| v.as_ref().map(|l| format!("{name}: {}", l.join(" ")));
    let parts: Vec<String> =
        [list("environments", &w.spec.environments), list("teams", &w.spec.teams), list("services", &w.spec.services)]
            .into_iter()
            .flatten()
            .collect();
    if parts.is_empty() { "applies to every deploy".into() } else { format!("applies to {}", parts.join("; ")) }
}

pub fn render_ics(rules: &Rules, found: &Calendar, now: DateTime<Utc>) -> String {
    let mut out = String::new();
    for line in [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//deploy-gate//deploy windows//EN",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        "X-WR-CALNAME:deploy-gate: deploy freezes and windows",
        "REFRESH-INTERVAL;VALUE=DURATION:PT1H",
        "X-PUBLISHED-TTL:PT1H",
    ] {
        fold(line, &mut out);
    }
    let stamp = ics_time(now);
    for e in &found.entries {
        let Some(w) = rules.window(&e.window_id) else { continue };
        let (what, category) = match e.kind {
            Kind::Deny => ("Deploy freeze", "deploy-freeze"),
            Kind::Allow => ("Deploy window", "deploy-window"),
        };
        let mut description = String::new();
        if let Some(r) = &e.reason {
            description.push_str(r);
            description.push('\n');
        }
        description.push_str(&scope(w));
        description.push_str(&format!("\nwindow {} ({}), times in {}", e.window_id, w.spec.kind, w.zone.name()));
        if !w.overridable() {
            description.push_str("\nno emergency override lifts it");
        }
        for line in [
            "BEGIN:VEVENT".to_string(),
            format!("UID:{}-{}@deploy-gate", e.window_id, ics_time(e.start)),
            format!("DTSTAMP:{stamp}"),
            format!("DTSTART:{}", ics_time(e.start)),
            format!("DTEND:{}", ics_time(e.end)),
            format!("SUMMARY:{}", ics_text(&format!("{what}: {}", e.reason.as_deref().unwrap_or(&e.window_id)))),
            format!("DESCRIPTION:{}", ics_text(&description)),
            format!("CATEGORIES:{category}"),
            "TRANSP:TRANSPARENT".to_string(),
            "END:VEVENT".to_string(),
        ] {
            fold(&line, &mut out);
        }
    }
    fold("END:VCALENDAR", &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_lines_fold_at_75_octets_without_splitting_characters() {
        let mut out = String::new();
        let line = format!("DESCRIPTION:{}", "é".repeat(60));
        fold(&line, &mut out);
        for l in out.split("\r\n").filter(|l| !l.is_empty()) {
            assert!(l.len() <= 75, "{} octets: {l}", l.len());
        }
        assert_eq!(out.replace("\r\n ", "").trim_end(), line);
    }

    #[test]
    fn text_is_escaped() {
        assert_eq!(ics_text("a;b,c\\d\ne"), "a\\;b\\,c\\\\d\\ne");
    }
}
