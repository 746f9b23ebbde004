//! Time zones and RFC 5545 wall-time resolution: a local time that occurs twice
//! means the earlier instant; one inside a DST gap is read with the offset in
//! force before the gap, so a freeze is never silently skipped.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Mutex, OnceLock};

use chrono::offset::LocalResult;
use chrono::{DateTime, Duration, NaiveDateTime, Offset, TimeZone, Utc};
use chrono_tz::{TZ_VARIANTS, Tz};

/// An IANA time zone with its offset changes tabulated once, so the hot
/// paths (offset at an instant, "is a transition near?", resolving a wall
/// time) are binary searches over a few hundred entries.
#[derive(Clone, Copy)]
pub struct Zone {
    tz: Tz,
    table: &'static Transitions,
}

/// Every offset change of a zone between 1970 and 2100.
struct Transitions {
    /// The largest offset jump at one transition: the margin wall-time
    /// searches need around a transition.
    max_shift: Duration,
    /// Unix seconds at which the offset changes, ascending.
    at: Vec<i64>,
    /// `offsets[i]` is in force before `at[i]`; the last one after them all.
    offsets: Vec<i32>,
}

/// The span the table covers (1970-01-01 to 2100-01-01); outside it, chrono-tz answers.
const SPAN: (i64, i64) = (0, 4_102_444_800);

impl fmt::Debug for Zone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Zone").field(&self.tz.name()).finish()
    }
}

impl PartialEq for Zone {
    fn eq(&self, other: &Zone) -> bool {
        self.tz == other.tz
    }
}

impl Eq for Zone {}

/// An unknown time zone name, with the closest known names.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown time zone `{name}`{}", suggestion_text(.suggestions))]
pub struct UnknownZone {
    pub name: String,
    pub suggestions: Vec<&'static str>,
}

fn suggestion_text(suggestions: &[&str]) -> String {
    if suggestions.is_empty() {
        "; use an IANA name such as Europe/Berlin or America/New_York".into()
    } else {
        format!("; did you mean {}?", suggestions.join(", "))
    }
}

impl Zone {
    /// An exact IANA name such as `Europe/Berlin`.
    pub fn parse(name: &str) -> Result<Zone, UnknownZone> {
        match name.parse::<Tz>() {
            Ok(tz) => Ok(Zone { tz, table: transitions(tz) }),
            Err(_) => Err(UnknownZone { name: name.to_string(), suggestions: closest(name) }),
        }
    }

    pub fn utc() -> Zone {
        Zone { tz: Tz::UTC, table: transitions(Tz::UTC) }
    }

    pub fn name(&self) -> &'static str {
        self.tz.name()
    }

    pub fn tz(&self) -> Tz {
        self.tz
    }

    /// The largest offset change this zone makes at one transition.
    pub fn max_shift(&self) -> Duration {
        self.table.max_shift
    }

    /// The UTC offset in force at `t`.
    pub fn offset_at(&self, t: DateTime<Utc>) -> Duration {
        let secs = t.timestamp();
        if !(SPAN.0..SPAN.1).contains(&secs) {
            let fixed = self.tz.offset_from_utc_datetime(&t.naive_utc()).fix().local_minus_utc();
            return Duration::seconds(i64::from(fixed));
        }
        let i = self.table.at.partition_point(|&x| x <= secs);
        Duration::seconds(i64::from(self.table.offsets[i]))
    }

    /// The wall time at `t`.
    pub fn local(&self, t: DateTime<Utc>) -> NaiveDateTime {
        t.naive_utc() + self.offset_at(t)
    }

    /// The instant a wall time means, by the RFC 5545 rule.
    pub fn resolve(&self, local: NaiveDateTime) -> DateTime<Utc> {
        // Away from transitions a wall time has exactly one instant, found
        // from any nearby offset.
        let approx = local.and_utc() - self.offset_at(local.and_utc());
        if self.steady_near(approx) {
            return (local - self.offset_at(approx)).and_utc();
        }
        match self.tz.from_local_datetime(&local) {
            LocalResult::Single(t) => t.with_timezone(&Utc),
            LocalResult::Ambiguous(earlier, _) => earlier.with_timezone(&Utc),
            LocalResult::None => {
                // In a gap. Two guesses of the offset straddle the transition;
                // gaps come from offsets growing, so the smaller one is "before".
                let guess = self.offset_at(local.and_utc());
                let other = self.offset_at((local - guess).and_utc());
                (local - guess.min(other)).and_utc()
            }
        }
    }

    /// The first offset change strictly after `t`; `None` when there is none
    /// before 2100. Beyond the tabulated span, `t` itself: a change may be
    /// anywhere, so callers take the careful path.
    pub fn next_transition_after(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.next_change_after(t, |_, _| true)
    }

    /// The first change strictly after `t` that sets clocks back (the offset
    /// shrinks), as on autumn nights; the same rules as [`Zone::next_transition_after`].
    pub fn next_fall_back_after(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.next_change_after(t, |before, after| after < before)
    }

    fn next_change_after(&self, t: DateTime<Utc>, wanted: impl Fn(i32, i32) -> bool) -> Option<DateTime<Utc>> {
        let secs = t.timestamp();
        if !(SPAN.0..SPAN.1).contains(&secs) {
            return if self.table.at.is_empty() { None } else { Some(t) };
        }
        let first = self.table.at.partition_point(|&x| x <= secs);
        (first..self.table.at.len())
            .find(|&i| wanted(self.table.offsets[i], self.table.offsets[i + 1]))
            .and_then(|i| DateTime::from_timestamp(self.table.at[i], 0))
    }

    /// The last offset change at or before `t`; `None` when there is none
    /// since 1970. Beyond the tabulated span, `t` itself.
    pub fn prev_transition_at_or_before(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.prev_change_at_or_before(t, |_, _| true)
    }

    /// The last change at or before `t` that set clocks back.
    pub fn prev_fall_back_at_or_before(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.prev_change_at_or_before(t, |before, after| after < before)
    }

    fn prev_change_at_or_before(&self, t: DateTime<Utc>, wanted: impl Fn(i32, i32) -> bool) -> Option<DateTime<Utc>> {
        let secs = t.timestamp();
        if !(SPAN.0..SPAN.1).contains(&secs) {
            return if self.table.at.is_empty() { None } else { Some(t) };
        }
        let end = self.table.at.partition_point(|&x| x <= secs);
        (0..end)
            .rev()
            .find(|&i| wanted(self.table.offsets[i], self.table.offsets[i + 1]))
            .and_then(|i| DateTime::from_timestamp(self.table.at[i], 0))
    }

    /// True when no transition lies within `2 * max_shift` of `t`, so wall
    /// times near `t` map to instants one to one and in order.
    pub fn steady_near(&self, t: DateTime<Utc>) -> bool {
        let margin = (self.table.max_shift * 2).num_seconds();
        if margin == 0 {
            return true;
        }
        let (lo, hi) = (t.timestamp() - margin, t.timestamp() + margin);
        if lo < SPAN.0 || hi >= SPAN.1 {
            return self.offset_at(t - self.table.max_shift * 2) == self.offset_at(t + self.table.max_shift * 2);
        }
        let i = self.table.at.partition_point(|&x| x <= lo);
        self.table.at.get(i).is_none_or(|&next| next > hi)
    }
}

impl serde::Serialize for Zone {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl fmt::Display for Zone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Default for Zone {
    fn default() -> Self {
        Zone::utc()
    }
}

/// Tabulate a zone's transitions: scan in 6-hour steps, then find each
/// change to the second. Built once per zone and kept for the process's life
/// (there are fewer than 600 zones).
fn transitions(tz: Tz) -> &'static Transitions {
    static CACHE: OnceLock<Mutex<HashMap<Tz, &'static Transitions>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    let mut cache = cache.lock().unwrap_or_else(|e| e.into_inner());
    cache.entry(tz).or_insert_with(|| {
        let offset = |secs: i64| {
            let at = DateTime::from_timestamp(secs, 0).unwrap_or_default();
            tz.offset_from_utc_datetime(&at.naive_utc()).fix().local_minus_utc()
        };
        const STEP: i64 = 6 * 3600;
        let mut table = Transitions { max_shift: Duration::zero(), at: Vec::new(), offsets: vec![offset(SPAN.0)] };
        let mut t = SPAN.0;
        while t < SPAN.1 {
            let (before, after) = (offset(t), offset(t + STEP));
            if before != after {
                // The first second in (t, t + STEP] with the new offset.
                let (mut lo, mut hi) = (t, t + STEP);
                while hi - lo > 1 {
                    let mid = lo + (hi - lo) / 2;
                    if offset(mid) == before { lo = mid } else { hi = mid }
                }
                table.at.push(hi);
                table.offsets.push(after);
                let shift = Duration::seconds(i64::from((after - before).abs()));
                table.max_shift = table.max_shift.max(shift);
            }
            t += STEP;
        }
        Box::leak(Box::new(table))
    })
}

/// Up to three known names closest to `name`: same name ignoring case first,
/// then the best edit-distance matches on the whole name or its last part.
fn closest(name: &str) -> Vec<&'static str> {
    let wanted = name.trim().to_ascii_lowercase().replace(' ', "_");
    if wanted.is_empty() {
        return Vec::new();
    }
    let mut scored: Vec<(f64, &'static str)> = TZ_VARIANTS
        .iter()
        .map(|tz| {
            let known = tz.name();
            let lower = known.to_ascii_lowercase();
            let city = lower.rsplit('/').next().unwrap_or(&lower);
            let score = if lower == wanted {
                2.0
            } else {
                strsim::jaro_winkler(&wanted, &lower).max(strsim::jaro_winkler(&wanted, city))
            };
            (score, known)
        })
        .filter(|(score, _)| *score >= 0.8)
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(b.1)));
    scored.into_iter().take(3).map(|(_, n)| n).collect()
}
