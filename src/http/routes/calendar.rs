//! `/calendar` and `/calendar.ics`: every occurrence of every window in a
//! time range, as JSON or as an iCalendar feed.

use actix_web::{HttpResponse, web};
use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;

use crate::error::Error;
use crate::gate::{Calendar, Entry, Gate, calendar};
use crate::http::params;
use crate::http::strict::{Known, Query};
use crate::policy::{Kind, Rules, Window};

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CalendarParams {
    /// RFC 3339; default now.
    pub from: Option<String>,
    /// RFC 3339; default 14 days after `from` (8 weeks for the feed).
    pub to: Option<String>,
    pub team: Option<String>,
    pub service: Option<String>,
    pub environment: Option<String>,
}

impl Known for CalendarParams {
    const FIELDS: &'static [&'static str] = &["from", "to", "team", "service", "environment"];
}

/// Every occurrence in `[from, to)`, sorted by start.
#[utoipa::path(get, path = "/calendar", tag = "windows", params(CalendarParams), responses((status = 200, body = Vec<Entry>)))]
pub async fn get(gate: web::Data<Gate>, query: Query<CalendarParams>) -> Result<HttpResponse, Error> {
    let q = params::calendar(&query, Utc::now(), params::CALENDAR_SPAN)?;
    let found = calendar(&gate.live().rules, &q)?;
    Ok(HttpResponse::Ok().json(found.entries))
}

/// How far ahead the iCalendar feed looks when `to` is not given.
const FEED_SPAN: Duration = Duration::weeks(8);

/// The same occurrences as an RFC 5545 feed to subscribe to from Google
/// Calendar or Outlook. Times are UTC instants, so every client shows them
/// right in its own zone, DST included.
#[utoipa::path(get, path = "/calendar.ics", tag = "windows", params(CalendarParams),
    responses((status = 200, description = "text/calendar", content_type = "text/calendar", body = String)))]
pub async fn ics(gate: web::Data<Gate>, query: Query<CalendarParams>) -> Result<HttpResponse, Error> {
    let now = Utc::now();
    let q = params::calendar(&query, now, FEED_SPAN)?;
    let live = gate.live();
    let found = calendar(&live.rules, &q)?;
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

fn description(e: &Entry, w: &Window) -> String {
    let mut text = String::new();
    if let Some(r) = &e.reason {
        text.push_str(r);
        text.push('\n');
    }
    text.push_str(&format!("applies to {}", w.scope()));
    text.push_str(&format!("\nwindow {} ({}), times in {}", e.window_id, w.kind.as_str(), w.zone.name()));
    if !w.overridable() {
        text.push_str("\nno emergency override lifts it");
    }
    text
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
        for line in [
            "BEGIN:VEVENT".to_string(),
            format!("UID:{}-{}@deploy-gate", e.window_id, ics_time(e.start)),
            format!("DTSTAMP:{stamp}"),
            format!("DTSTART:{}", ics_time(e.start)),
            format!("DTEND:{}", ics_time(e.end)),
            format!("SUMMARY:{}", ics_text(&format!("{what}: {}", e.reason.as_deref().unwrap_or(&e.window_id)))),
            format!("DESCRIPTION:{}", ics_text(&description(e, w))),
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
