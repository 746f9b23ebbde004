//! A `[[windows]]` table (or an API body) into a compiled `Window`.

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, Utc};
use toml::Table;

use super::fields::{Fields, Problem, did_you_mean};
use crate::error::ErrorCode;
use crate::policy::{Kind, Selector, Source, Window, WindowSpec};
use crate::schedule::{CronExpr, End, Memo, Occurrence, Schedule, Zone};

const WINDOW_KEYS: &[&str] = &[
    "id",
    "kind",
    "reason",
    "timezone",
    "cron",
    "duration",
    "end_cron",
    "start",
    "end",
    "environments",
    "teams",
    "services",
    "overridable",
];

/// The longest `duration` a recurring window may have.
const MAX_DURATION: Duration = Duration::days(366);

/// Compile one window definition; `index` names it when it has no usable id.
pub fn window_from_table(
    table: &Table,
    file: Option<&str>,
    index: usize,
    source: Source,
) -> Result<Window, Vec<Problem>> {
    let scope = match table.get("id").and_then(|v| v.as_str()) {
        Some(id) if !id.is_empty() => format!("windows[{id}]"),
        _ => format!("windows[{index}]"),
    };
    let mut f = Fields::new(table, file, scope, WINDOW_KEYS);
    let id = f.required_string("id", "\"friday-evening\"").filter(|id| match check_id("a window id", id) {
        Ok(()) => true,
        Err(message) => {
            f.problem("id", ErrorCode::InvalidId, message);
            false
        }
    });
    let kind = kind(&mut f);
    let reason = f.string("reason").map(str::to_string);
    let zone = f.zone();
    let written = Written::read(&mut f);
    let schedule = written.as_ref().and_then(|w| w.schedule(&mut f, zone));
    let environments = selector(&mut f, "environments");
    let teams = selector(&mut f, "teams");
    let services = selector(&mut f, "services");
    let overridable = f.boolean("overridable").unwrap_or(true);

    let problems = f.finish();
    match (id, kind, zone, written, schedule, environments, teams, services) {
        (
            Some(id),
            Some(kind),
            Some(zone),
            Some(w),
            Some(schedule),
            Some(environments),
            Some(teams),
            Some(services),
        ) if problems.is_empty() => {
            let spec = WindowSpec {
                id: id.to_string(),
                kind,
                reason,
                timezone: zone,
                cron: w.cron,
                duration: w.duration,
                end_cron: w.end_cron,
                start: w.start,
                end: w.end,
                environments,
                teams,
                services,
                overridable,
            };
            Ok(Window {
                title: Window::title_of(&spec),
                spec,
                kind,
                zone,
                schedule,
                source,
                file: file.map(str::to_string),
                memo: Memo::default(),
            })
        }
        _ => Err(problems),
    }
}

fn kind(f: &mut Fields) -> Option<Kind> {
    match f.string("kind") {
        None | Some("deny") => Some(Kind::Deny),
        Some("allow") => Some(Kind::Allow),
        Some(other) => {
            f.problem(
                "kind",
                ErrorCode::InvalidValue,
                format!("`{other}` is not a kind; use \"deny\" (a freeze) or \"allow\" (a deploy window)"),
            );
            None
        }
    }
}

/// The schedule keys as written.
struct Written {
    cron: Option<String>,
    duration: Option<String>,
    end_cron: Option<String>,
    start: Option<String>,
    end: Option<String>,
}

const SCHEDULE_KEYS: [&str; 5] = ["cron", "duration", "end_cron", "start", "end"];

impl Written {
    /// `None` when a schedule key cannot be read, or looks misspelt: that is
    /// reported already, and judging the form without it would only add a
    /// misleading second line ("needs duration" after "durration").
    fn read(f: &mut Fields) -> Option<Written> {
        let w = Written {
            cron: f.string("cron").map(str::to_string),
            duration: f.string("duration").map(str::to_string),
            end_cron: f.string("end_cron").map(str::to_string),
            start: f.time_text("start"),
            end: f.time_text("end"),
        };
        let given = [&w.cron, &w.duration, &w.end_cron, &w.start, &w.end];
        let unreadable = SCHEDULE_KEYS.iter().zip(given).any(|(k, v)| f.has(k) && v.is_none());
        let misspelt = f.unknown_keys().iter().any(|k| did_you_mean(k, &SCHEDULE_KEYS).is_some());
        (!unreadable && !misspelt).then_some(w)
    }

    fn schedule(&self, f: &mut Fields, zone: Option<Zone>) -> Option<Schedule> {
        schedule(
            f,
            zone,
            self.cron.as_deref(),
            self.duration.as_deref(),
            self.end_cron.as_deref(),
            self.start.as_deref(),
            self.end.as_deref(),
        )
    }
}

/// `[a-z0-9][a-z0-9-]*`, at most 64 characters.
pub fn check_id(what: &str, id: &str) -> Result<(), String> {
    let ok = id.len() <= 64
        && id.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`{}` is not {what}; use lowercase letters, digits and `-`, starting with a letter or digit, at most 64 characters",
            id.escape_debug()
        ))
    }
}

fn schedule(
    f: &mut Fields,
    zone: Option<Zone>,
    cron: Option<&str>,
    duration: Option<&str>,
    end_cron: Option<&str>,
    start: Option<&str>,
    end: Option<&str>,
) -> Option<Schedule> {
    const FORMS: &str = "cron + duration, cron + end_cron, or start + end";
    let recurring = cron.is_some() || duration.is_some() || end_cron.is_some();
    let once = start.is_some() || end.is_some();
    if recurring && once {
        let key = if cron.is_some() {
            "cron"
        } else if duration.is_some() {
            "duration"
        } else {
            "end_cron"
        };
        let other = if start.is_some() { "start" } else { "end" };
        f.problem(
            key,
            ErrorCode::InvalidSchedule,
            format!("{key} and {other} are two schedule forms; keep one of {FORMS}"),
        );
        return None;
    }
    if !recurring && !once {
        f.problem("", ErrorCode::InvalidSchedule, format!("has no schedule; give {FORMS}"));
        return None;
    }
    if once {
        return once_schedule(f, zone, start, end);
    }
    let start_cron = match cron {
        Some(text) => parse_cron(f, "cron", text),
        None => {
            f.problem(
                "cron",
                ErrorCode::InvalidSchedule,
                "is required with duration and end_cron: when does the window open?",
            );
            None
        }
    };
    let end = match (duration, end_cron) {
        (Some(_), Some(_)) => {
            f.problem("end_cron", ErrorCode::InvalidSchedule, "duration and end_cron both end the window; keep one");
            None
        }
        (Some(text), None) => parse_duration(f, "duration", text).map(End::After),
        (None, Some(text)) => parse_cron(f, "end_cron", text).map(End::Cron),
        (None, None) => {
            f.problem("cron", ErrorCode::InvalidSchedule, "needs duration or end_cron to say when the window closes");
            None
        }
    };
    Some(Schedule::recurring(start_cron?, end?, zone?))
}

fn once_schedule(f: &mut Fields, zone: Option<Zone>, start: Option<&str>, end: Option<&str>) -> Option<Schedule> {
    let (Some(start), Some(end)) = (start, end) else {
        let missing = if start.is_none() { "start" } else { "end" };
        f.problem(missing, ErrorCode::InvalidSchedule, "is required: a one-off window needs both start and end");
        return None;
    };
    let zone = zone?;
    let start_at = parse_time(f, "start", start, zone);
    let end_at = parse_time(f, "end", end, zone);
    let (start_at, end_at) = (start_at?, end_at?);
    if end_at <= start_at {
        f.problem("end", ErrorCode::InvalidSchedule, format!("{end} is not after start {start}"));
        return None;
    }
    Some(Schedule::Once(Occurrence { start: start_at, end: end_at }))
}

fn parse_cron(f: &mut Fields, key: &str, text: &str) -> Option<CronExpr> {
    match CronExpr::parse(text) {
        Ok(c) => Some(c),
        Err(e) => {
            f.problem(key, ErrorCode::InvalidCron, format!("`{text}` {e}"));
            None
        }
    }
}

/// A humantime duration such as `90m`, `2h` or `1d 12h`; a bare number is
/// seconds, as everywhere in deploy-gate.
pub fn parse_duration_text(text: &str) -> Result<Duration, String> {
    if let Ok(seconds) = text.trim().parse::<i64>() {
        if seconds <= 0 {
            return Err(format!("`{text}` must be longer than zero"));
        }
        return Duration::try_seconds(seconds).ok_or_else(|| format!("`{text}` is too long"));
    }
    let std = humantime::parse_duration(text)
        .map_err(|e| format!("`{text}` is not a duration ({e}); write e.g. 90m, 2h or 1d 12h"))?;
    let d = Duration::from_std(std).map_err(|_| format!("`{text}` is too long"))?;
    if d <= Duration::zero() {
        return Err(format!("`{text}` must be longer than zero"));
    }
    Ok(d)
}

fn parse_duration(f: &mut Fields, key: &str, text: &str) -> Option<Duration> {
    match parse_duration_text(text) {
        Ok(d) if d > MAX_DURATION => {
            f.problem(
                key,
                ErrorCode::InvalidDuration,
                format!("`{text}` is longer than a year; use start + end for one long freeze"),
            );
            None
        }
        Ok(d) => Some(d),
        Err(message) => {
            f.problem(key, ErrorCode::InvalidDuration, message);
            None
        }
    }
}

/// RFC 3339 with an offset, or a local date-time (or date) in `zone`.
pub fn parse_time_text(text: &str, zone: Zone) -> Result<DateTime<Utc>, String> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok(t.with_timezone(&Utc));
    }
    for format in ["%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M"] {
        if let Ok(local) = NaiveDateTime::parse_from_str(text, format) {
            return Ok(zone.resolve(local));
        }
    }
    if let Ok(day) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Ok(zone.resolve(day.and_time(chrono::NaiveTime::MIN)));
    }
    Err(format!(
        "`{text}` is not a time; write a local time such as 2026-12-21T00:00:00 or RFC 3339 with an offset such as 2026-12-21T00:00:00+01:00"
    ))
}

fn parse_time(f: &mut Fields, key: &str, text: &str, zone: Zone) -> Option<DateTime<Utc>> {
    use chrono::Datelike;
    match parse_time_text(text, zone) {
        // Calendars and feeds write four-digit years; a gate has no use for others.
        Ok(t) if !(1970..=9999).contains(&t.year()) => {
            f.problem(key, ErrorCode::InvalidTime, format!("`{text}` is outside the years 1970 to 9999"));
            None
        }
        Ok(t) => Some(t),
        Err(message) => {
            f.problem(key, ErrorCode::InvalidTime, message);
            None
        }
    }
}

/// A selector (key absent: matches all).
fn selector(f: &mut Fields, key: &str) -> Option<Selector> {
    if !f.has(key) {
        return Some(Selector::any());
    }
    let list = f.patterns(key)?;
    if list.is_empty() {
        f.problem(
            key,
            ErrorCode::InvalidPattern,
            "is an empty list, which matches nothing; remove the key to match everything",
        );
        return None;
    }
    Some(Selector::of(&list))
}
