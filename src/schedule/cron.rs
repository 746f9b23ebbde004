//! The cron dialect users write (Vixie / GitLab / Argo CD), translated onto the
//! `cron` crate, which only iterates. We parse every field ourselves so that the
//! errors say what to fix and the crate's own numbering and AND rule never leak.

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;
use std::sync::{Arc, Mutex, OnceLock, Weak};

use chrono::{NaiveDate, NaiveDateTime};

/// A parsed cron expression in the user's dialect.
#[derive(Clone, Debug)]
pub struct CronExpr {
    source: String,
    /// The crate ANDs the two day fields; a day matches if any of these
    /// matches. One schedule normally; two for the Vixie rule (both day
    /// fields restricted: day-of-month OR day-of-week). Shared: see [`interned`].
    any_of: Vec<Arc<cron::Schedule>>,
}

/// The crate keeps every field as a set of all its values (a few KB per
/// schedule), while configs repeat the same few expressions across
/// thousands of windows: one copy per distinct expression serves them all.
fn interned(text: &str) -> Result<Arc<cron::Schedule>, CronError> {
    static SEEN: OnceLock<Mutex<HashMap<String, Weak<cron::Schedule>>>> = OnceLock::new();
    let mut seen = SEEN.get_or_init(Default::default).lock().unwrap_or_else(|e| e.into_inner());
    if let Some(s) = seen.get(text).and_then(Weak::upgrade) {
        return Ok(s);
    }
    let schedule = Arc::new(
        cron::Schedule::from_str(text)
            .map_err(|e| CronError(format!("could not be scheduled ({e}); please report this expression")))?,
    );
    if seen.len() >= 1024 {
        // Forget expressions no window uses any more (after reloads).
        seen.retain(|_, s| s.strong_count() > 0);
    }
    seen.insert(text.to_string(), Arc::downgrade(&schedule));
    Ok(schedule)
}

/// Why an expression was refused, in words a person can act on.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct CronError(String);

struct FieldSpec {
    name: &'static str,
    min: u32,
    max: u32,
    names: &'static [&'static str],
    /// The value the first entry of `names` stands for.
    names_start: u32,
}

const SECOND: FieldSpec = FieldSpec { name: "second", min: 0, max: 59, names: &[], names_start: 0 };
const MINUTE: FieldSpec = FieldSpec { name: "minute", min: 0, max: 59, names: &[], names_start: 0 };
const HOUR: FieldSpec = FieldSpec { name: "hour", min: 0, max: 23, names: &[], names_start: 0 };
const DAY_OF_MONTH: FieldSpec = FieldSpec { name: "day-of-month", min: 1, max: 31, names: &[], names_start: 0 };
const MONTH: FieldSpec = FieldSpec {
    name: "month",
    min: 1,
    max: 12,
    names: &["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"],
    names_start: 1,
};
const DAY_OF_WEEK: FieldSpec = FieldSpec {
    name: "day-of-week",
    min: 0,
    max: 7,
    names: &["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"],
    names_start: 0,
};

/// One field as a set of values (bit n set = value n), and whether it was
/// written starting with `*` (Vixie counts `*/2` as unrestricted for the day rule).
struct Field {
    bits: u64,
    star: bool,
}

impl CronExpr {
    /// The expression as the user wrote it.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The first local wall time strictly after `after` (both naive local times).
    pub fn next_after(&self, after: NaiveDateTime) -> Option<NaiveDateTime> {
        let carrier = after.and_utc();
        self.any_of.iter().filter_map(|s| s.after(&carrier).next()).map(|d| d.naive_utc()).min()
    }

    /// The last local wall time strictly before `before`.
    pub fn prev_before(&self, before: NaiveDateTime) -> Option<NaiveDateTime> {
        let carrier = before.and_utc();
        self.any_of.iter().filter_map(|s| s.after(&carrier).next_back()).map(|d| d.naive_utc()).max()
    }
}

impl fmt::Display for CronExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

impl FromStr for CronExpr {
    type Err = CronError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        CronExpr::parse(s)
    }
}

impl CronExpr {
    /// Parse the dialect of CONTRACT.md section 3.
    pub fn parse(source: &str) -> Result<Self, CronError> {
        let trimmed = source.trim();
        if trimmed.is_empty() {
            return Err(CronError("is empty; write 5 fields, e.g. \"0 17 * * FRI\"".into()));
        }
        let expanded = expand_macro(trimmed)?;
        let parts: Vec<&str> = expanded.split_whitespace().collect();
        let (second, rest) = match parts.len() {
            5 => (Field { bits: 1, star: false }, &parts[..]),
            6 => (parse_field(parts[0], &SECOND)?, &parts[1..]),
            n => {
                return Err(CronError(format!(
                    "has {n} fields; write 5 (minute hour day-of-month month day-of-week), \
                     or 6 with a leading seconds field"
                )));
            }
        };
        let minute = parse_field(rest[0], &MINUTE)?;
        let hour = parse_field(rest[1], &HOUR)?;
        let dom = parse_field(rest[2], &DAY_OF_MONTH)?;
        let month = parse_field(rest[3], &MONTH)?;
        let mut dow = parse_field(rest[4], &DAY_OF_WEEK)?;
        // 7 is another name for Sunday.
        if dow.bits & (1 << 7) != 0 {
            dow.bits = (dow.bits & !(1 << 7)) | 1;
        }

        let vixie_either = !dom.star && !dow.star;
        if !vixie_either {
            check_can_fire(dom.bits, month.bits)?;
        }

        let head =
            format!("{} {} {}", render(second.bits, &SECOND), render(minute.bits, &MINUTE), render(hour.bits, &HOUR));
        let months = render(month.bits, &MONTH);
        let doms = render(dom.bits, &DAY_OF_MONTH);
        let dows = render_dow(dow.bits);
        let build = |dom: &str, dow: &str| interned(&format!("{head} {dom} {months} {dow}"));
        let any_of =
            if vixie_either { vec![build(&doms, "*")?, build("*", &dows)?] } else { vec![build(&doms, &dows)?] };
        let expr = CronExpr { source: source.trim().to_string(), any_of };
        // A last guard for anything the field check above does not foresee.
        let probe = NaiveDate::from_ymd_opt(2000, 1, 1).and_then(|d| d.and_hms_opt(0, 0, 0));
        if let Some(probe) = probe
            && expr.next_after(probe).is_none()
        {
            return Err(CronError("never fires".into()));
        }
        Ok(expr)
    }
}

fn expand_macro(text: &str) -> Result<String, CronError> {
    if !text.starts_with('@') {
        return Ok(text.to_string());
    }
    let expanded = match text.to_ascii_lowercase().as_str() {
        "@yearly" | "@annually" => "0 0 1 1 *",
        "@monthly" => "0 0 1 * *",
        "@weekly" => "0 0 * * 0",
        "@daily" | "@midnight" => "0 0 * * *",
        "@hourly" => "0 * * * *",
        _ => {
            return Err(CronError(format!(
                "`{text}` is not a known shorthand; use @yearly, @annually, @monthly, \
                 @weekly, @daily, @midnight or @hourly"
            )));
        }
    };
    Ok(expanded.to_string())
}

fn parse_field(text: &str, spec: &FieldSpec) -> Result<Field, CronError> {
    let mut bits = 0u64;
    for item in text.split(',') {
        if item.is_empty() {
            return Err(CronError(format!("{}: `{text}` has an empty list item", spec.name)));
        }
        bits |= parse_item(item, spec)?;
    }
    Ok(Field { bits, star: text.starts_with('*') })
}

fn parse_item(item: &str, spec: &FieldSpec) -> Result<u64, CronError> {
    let name = spec.name;
    let (range, step) = match item.split_once('/') {
        Some((range, step)) => {
            let step: u32 = step
                .parse()
                .map_err(|_| CronError(format!("{name}: step `{step}` in `{item}` is not a positive number")))?;
            if step == 0 {
                return Err(CronError(format!("{name}: step in `{item}` must be at least 1")));
            }
            (range, step)
        }
        None => (item, 1),
    };
    let (low, high) = if range == "*" {
        (spec.min, spec.max)
    } else if let Some((a, b)) = range.split_once('-') {
        let (a, b) = (parse_value(a, spec, item)?, parse_value(b, spec, item)?);
        if a > b {
            return Err(CronError(format!("{name}: range `{range}` runs backwards; write the smaller value first")));
        }
        (a, b)
    } else {
        let a = parse_value(range, spec, item)?;
        // `5/15` means "from 5 to the end, every 15" as in most crons.
        if item.contains('/') { (a, spec.max) } else { (a, a) }
    };
    let mut bits = 0u64;
    let mut v = low;
    while v <= high {
        bits |= 1 << v;
        v = v.saturating_add(step);
    }
    Ok(bits)
}

fn parse_value(text: &str, spec: &FieldSpec, item: &str) -> Result<u32, CronError> {
    let name = spec.name;
    if let Ok(v) = text.parse::<u32>() {
        if v < spec.min || v > spec.max {
            return Err(CronError(format!("{name}: `{v}` is out of range {}-{}", spec.min, spec.max)));
        }
        return Ok(v);
    }
    let upper = text.to_ascii_uppercase();
    if let Some(i) = spec.names.iter().position(|n| *n == upper) {
        return Ok(spec.names_start + i as u32);
    }
    let hint = if spec.names.is_empty() {
        format!("a number {}-{}", spec.min, spec.max)
    } else {
        format!("a number {}-{} or a name {}", spec.min, spec.max, spec.names.join(" "))
    };
    Err(CronError(format!("{name}: `{text}` in `{item}` is not {hint}")))
}

fn render(bits: u64, spec: &FieldSpec) -> String {
    let all = (spec.min..=spec.max).fold(0u64, |acc, v| acc | 1 << v);
    if bits & all == all {
        return "*".into();
    }
    (spec.min..=spec.max).filter(|v| bits & (1 << v) != 0).map(|v| v.to_string()).collect::<Vec<_>>().join(",")
}

/// The crate numbers weekdays 1-7 from Sunday; ours are 0-6 from Sunday.
fn render_dow(bits: u64) -> String {
    if bits & 0x7f == 0x7f {
        return "*".into();
    }
    (0..7u32).filter(|v| bits & (1 << v) != 0).map(|v| (v + 1).to_string()).collect::<Vec<_>>().join(",")
}

const MONTH_NAMES: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

fn check_can_fire(dom_bits: u64, month_bits: u64) -> Result<(), CronError> {
    // Longest each month can be (February 29 in leap years).
    const LONGEST: [u32; 12] = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    let possible = (1..=12u32)
        .any(|m| month_bits & (1 << m) != 0 && (1..=LONGEST[m as usize - 1]).any(|d| dom_bits & (1 << d) != 0));
    if possible {
        return Ok(());
    }
    let days: Vec<String> = (1..=31u32).filter(|d| dom_bits & (1 << d) != 0).map(|d| d.to_string()).collect();
    let months: Vec<&str> = (1..=12usize).filter(|m| month_bits & (1 << m) != 0).map(|m| MONTH_NAMES[m - 1]).collect();
    Err(CronError(format!("never fires: day {} does not occur in {}", days.join(","), months.join(", "))))
}
