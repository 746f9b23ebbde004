//! The cron dialect users write (Vixie / GitLab / Argo CD), translated onto the
//! `cron` crate, which only iterates. We parse every field ourselves so that the
//! errors say what to fix and the crate's own numbering and AND rule never leak,
//! and keep the fields as bit sets: which days fire and at which times of day,
//! the shape the merging of back-to-back occurrences reads.

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;
use std::sync::{Arc, Mutex, OnceLock, Weak};

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime};

/// A parsed cron expression in the user's dialect.
#[derive(Clone, Debug)]
pub struct CronExpr {
    source: String,
    /// Shared by every expression with the same fields: see [`compile`].
    compiled: Arc<Compiled>,
}

#[derive(Debug)]
struct Compiled {
    /// The normalized fields: equal for equal schedules.
    key: String,
    /// The crate ANDs the two day fields; a day matches if any of these
    /// matches. One schedule normally; two for the Vixie rule (both day
    /// fields restricted: day-of-month OR day-of-week).
    any_of: Vec<cron::Schedule>,
    days: DaySet,
    times: DayTimes,
}

/// Which days fire.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DaySet {
    /// Bit d: day of month d (1-31).
    dom: u32,
    /// Bit m: month m (1-12).
    months: u16,
    /// Bit w: weekday w, 0 = Sunday.
    dow: u8,
    /// Both day fields restricted: a day matches if either does (Vixie).
    either: bool,
}

impl DaySet {
    pub fn matches(&self, day: NaiveDate) -> bool {
        if self.months & (1 << day.month()) == 0 {
            return false;
        }
        let dom = self.dom & (1 << day.day()) != 0;
        let dow = self.dow & (1 << day.weekday().num_days_from_sunday()) != 0;
        if self.either { dom || dow } else { dom && dow }
    }

    /// Every day of `day`'s month fires.
    pub fn whole_month(&self, day: NaiveDate) -> bool {
        let all_days = self.dom | 1 == u32::MAX;
        let all_weekdays = self.dow == 0x7f;
        self.months & (1 << day.month()) != 0
            && if self.either { all_days || all_weekdays } else { all_days && all_weekdays }
    }

    /// No day of `day`'s month fires.
    pub fn no_day_in_month(&self, day: NaiveDate) -> bool {
        self.months & (1 << day.month()) == 0
    }

    /// Every day fires.
    pub fn every_day(&self) -> bool {
        self.months & 0x1ffe == 0x1ffe && self.whole_month(NaiveDate::MIN)
    }
}

/// The times of day that fire: a set of minutes of the day (0-1439), at one
/// second of the minute.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DayTimes {
    minutes: [u64; 23],
    pub second: u32,
}

pub const MINUTES_PER_DAY: u32 = 1440;

impl DayTimes {
    pub(super) fn of(minutes: u64, hours: u64, second: u32) -> DayTimes {
        let mut t = DayTimes { minutes: [0; 23], second };
        for h in (0..24).filter(|h| hours & (1 << h) != 0) {
            for m in (0..60).filter(|m| minutes & (1 << m) != 0) {
                t.insert(h * 60 + m);
            }
        }
        t
    }

    pub(super) fn insert(&mut self, minute: u32) {
        self.minutes[(minute / 64) as usize] |= 1 << (minute % 64);
    }

    pub fn contains(&self, minute: u32) -> bool {
        minute < MINUTES_PER_DAY && self.minutes[(minute / 64) as usize] & (1 << (minute % 64)) != 0
    }

    /// The first minute at or after `from` that fires, within the day.
    pub fn next_at_or_after(&self, from: u32) -> Option<u32> {
        next_bit(&self.minutes, from)
    }

    /// The last minute at or before `to` that fires, within the day.
    pub fn prev_at_or_before(&self, to: u32) -> Option<u32> {
        prev_bit(&self.minutes, to)
    }

    pub fn first(&self) -> Option<u32> {
        self.next_at_or_after(0)
    }

    pub fn last(&self) -> Option<u32> {
        self.prev_at_or_before(MINUTES_PER_DAY - 1)
    }

    /// The minutes at which the gap to the next minute of the same day
    /// exceeds `gap` minutes.
    pub fn breaks(&self, gap: u32) -> DayTimes {
        let mut out = DayTimes { minutes: [0; 23], second: self.second };
        let mut at = self.first();
        while let Some(m) = at {
            let next = self.next_at_or_after(m + 1);
            if next.is_some_and(|n| n - m > gap) {
                out.insert(m);
            }
            at = next;
        }
        out
    }

    /// The minutes here that `other` does not have.
    pub fn without(&self, other: &DayTimes) -> DayTimes {
        let mut out = *self;
        for (a, b) in out.minutes.iter_mut().zip(other.minutes) {
            *a &= !b;
        }
        out
    }

    pub fn is_empty(&self) -> bool {
        self.minutes.iter().all(|w| *w == 0)
    }
}

fn next_bit(words: &[u64; 23], from: u32) -> Option<u32> {
    if from >= MINUTES_PER_DAY {
        return None;
    }
    let (mut i, bit) = ((from / 64) as usize, from % 64);
    let mut word = words[i] & (u64::MAX << bit);
    loop {
        if word != 0 {
            let m = i as u32 * 64 + word.trailing_zeros();
            return (m < MINUTES_PER_DAY).then_some(m);
        }
        i += 1;
        if i == words.len() {
            return None;
        }
        word = words[i];
    }
}

fn prev_bit(words: &[u64; 23], to: u32) -> Option<u32> {
    let to = to.min(MINUTES_PER_DAY - 1);
    let (mut i, bit) = ((to / 64) as usize, to % 64);
    let mut word = words[i] & (u64::MAX >> (63 - bit));
    loop {
        if word != 0 {
            return Some(i as u32 * 64 + 63 - word.leading_zeros());
        }
        if i == 0 {
            return None;
        }
        i -= 1;
        word = words[i];
    }
}

/// The crate keeps every field as a set of all its values (a few KB per
/// schedule), while configs repeat the same few expressions across
/// thousands of windows: one copy per distinct expression serves them all.
fn compile(key: &str, build: impl FnOnce() -> Result<Compiled, CronError>) -> Result<Arc<Compiled>, CronError> {
    static SEEN: OnceLock<Mutex<HashMap<String, Weak<Compiled>>>> = OnceLock::new();
    let mut seen = SEEN.get_or_init(Default::default).lock().unwrap_or_else(|e| e.into_inner());
    if let Some(c) = seen.get(key).and_then(Weak::upgrade) {
        return Ok(c);
    }
    let compiled = Arc::new(build()?);
    if seen.len() >= 1024 {
        // Forget expressions no window uses any more (after reloads).
        seen.retain(|_, c| c.strong_count() > 0);
    }
    seen.insert(key.to_string(), Arc::downgrade(&compiled));
    Ok(compiled)
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

/// The Gregorian calendar repeats every 400 years, weekdays included, and
/// the crate iterates 1970 to 2099 only: times outside are moved by whole
/// cycles into that range and back.
const CYCLE: Duration = Duration::days(146_097);

fn into_range(t: NaiveDateTime) -> (NaiveDateTime, i32) {
    let mut cycles = 0;
    let mut t = t;
    while t.year() >= 2090 {
        t -= CYCLE;
        cycles += 1;
    }
    while t.year() < 1975 {
        t += CYCLE;
        cycles -= 1;
    }
    (t, cycles)
}

fn out_of_range(t: NaiveDateTime, cycles: i32) -> Option<NaiveDateTime> {
    t.checked_add_signed(CYCLE * cycles)
}

impl CronExpr {
    /// The expression as the user wrote it.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The normalized fields: equal for expressions that fire at the same times.
    pub fn key(&self) -> &str {
        &self.compiled.key
    }

    pub fn days(&self) -> &DaySet {
        &self.compiled.days
    }

    pub fn times(&self) -> &DayTimes {
        &self.compiled.times
    }

    /// The first local wall time strictly after `after` (both naive local times).
    pub fn next_after(&self, after: NaiveDateTime) -> Option<NaiveDateTime> {
        let (shifted, cycles) = into_range(after);
        let carrier = shifted.and_utc();
        let found = self.compiled.any_of.iter().filter_map(|s| s.after(&carrier).next()).map(|d| d.naive_utc()).min();
        // Past the crate's last year: the same times one cycle earlier.
        let found = found.or_else(|| {
            let back = (shifted - CYCLE).and_utc();
            self.compiled.any_of.iter().filter_map(|s| s.after(&back).next()).map(|d| d.naive_utc() + CYCLE).min()
        });
        found.and_then(|t| out_of_range(t, cycles))
    }

    /// The last local wall time strictly before `before`.
    pub fn prev_before(&self, before: NaiveDateTime) -> Option<NaiveDateTime> {
        let (shifted, cycles) = into_range(before);
        let carrier = shifted.and_utc();
        let found =
            self.compiled.any_of.iter().filter_map(|s| s.after(&carrier).next_back()).map(|d| d.naive_utc()).max();
        found.and_then(|t| out_of_range(t, cycles))
    }

    /// Whether the expression fires at this wall time.
    pub fn fires_at(&self, wall: NaiveDateTime) -> bool {
        use chrono::Timelike;
        let time = wall.time();
        time.second() == self.times().second
            && time.nanosecond() == 0
            && self.times().contains(time.hour() * 60 + time.minute())
            && self.days().matches(wall.date())
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
    /// Parse the dialect: 5 fields (or 6 with seconds first), lists, ranges,
    /// steps, names, `@` shorthands, 0 and 7 both Sunday, the Vixie day rule.
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
        if second.bits.count_ones() > 1 {
            return Err(CronError(
                "fires more than once a minute; a deploy window opens at most once a minute, so give the seconds field one value (or write 5 fields)".into(),
            ));
        }
        let minute = parse_field(rest[0], &MINUTE)?;
        let hour = parse_field(rest[1], &HOUR)?;
        let dom = parse_field(rest[2], &DAY_OF_MONTH)?;
        let month = parse_field(rest[3], &MONTH)?;
        let mut dow = parse_field(rest[4], &DAY_OF_WEEK)?;
        // 7 is another name for Sunday.
        if dow.bits & (1 << 7) != 0 {
            dow.bits = (dow.bits & !(1 << 7)) | 1;
        }
        let either = !dom.star && !dow.star;
        if !either {
            check_can_fire(dom.bits, month.bits)?;
        }
        let head =
            format!("{} {} {}", render(second.bits, &SECOND), render(minute.bits, &MINUTE), render(hour.bits, &HOUR));
        let months = render(month.bits, &MONTH);
        let doms = render(dom.bits, &DAY_OF_MONTH);
        let dows = render_dow(dow.bits);
        let key = format!("{head} {doms} {months} {dows} {either}");
        let compiled = compile(&key, || {
            let build = |dom: &str, dow: &str| {
                cron::Schedule::from_str(&format!("{head} {dom} {months} {dow}"))
                    .map_err(|e| CronError(format!("could not be scheduled ({e}); please report this expression")))
            };
            let any_of = if either { vec![build(&doms, "*")?, build("*", &dows)?] } else { vec![build(&doms, &dows)?] };
            Ok(Compiled {
                key: key.clone(),
                any_of,
                days: DaySet { dom: dom.bits as u32, months: month.bits as u16, dow: dow.bits as u8, either },
                times: DayTimes::of(minute.bits, hour.bits, second.bits.trailing_zeros()),
            })
        })?;
        let expr = CronExpr { source: trimmed.to_string(), compiled };
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
