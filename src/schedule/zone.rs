//! Time zones and RFC 5545 wall-time resolution: a local time that occurs twice
//! means the earlier instant; one inside a DST gap is read with the offset in
//! force before the gap, so a freeze is never silently skipped.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Mutex, OnceLock};

use chrono::offset::LocalResult;
use chrono::{DateTime, Duration, NaiveDateTime, Offset, TimeZone, Utc};
use chrono_tz::{TZ_VARIANTS, Tz};

/// An IANA time zone, with the largest offset jump it ever makes (the margin
/// that wall-time searches need around a transition).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Zone {
    tz: Tz,
    max_shift: Duration,
}

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
    pub const UTC: Zone = Zone {
        tz: Tz::UTC,
        max_shift: Duration::zero(),
    };

    /// An exact IANA name such as `Europe/Berlin`.
    pub fn parse(name: &str) -> Result<Zone, UnknownZone> {
        match name.parse::<Tz>() {
            Ok(tz) => Ok(Zone {
                tz,
                max_shift: max_shift(tz),
            }),
            Err(_) => Err(UnknownZone {
                name: name.to_string(),
                suggestions: closest(name),
            }),
        }
    }

    pub fn name(&self) -> &'static str {
        self.tz.name()
    }

    pub fn tz(&self) -> Tz {
        self.tz
    }

    /// The largest offset change this zone makes at one transition.
    pub fn max_shift(&self) -> Duration {
        self.max_shift
    }

    /// The UTC offset in force at `t`.
    pub fn offset_at(&self, t: DateTime<Utc>) -> Duration {
        let secs = self
            .tz
            .offset_from_utc_datetime(&t.naive_utc())
            .fix()
            .local_minus_utc();
        Duration::seconds(i64::from(secs))
    }

    /// The wall time at `t`.
    pub fn local(&self, t: DateTime<Utc>) -> NaiveDateTime {
        t.naive_utc() + self.offset_at(t)
    }

    /// The instant a wall time means, by the RFC 5545 rule.
    pub fn resolve(&self, local: NaiveDateTime) -> DateTime<Utc> {
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

    /// True when no transition lies within `2 * max_shift` of `t`, so wall
    /// times near `t` map to instants in order.
    pub fn steady_near(&self, t: DateTime<Utc>) -> bool {
        if self.max_shift.is_zero() {
            return true;
        }
        let m = self.max_shift * 2;
        self.offset_at(t - m) == self.offset_at(t + m)
    }
}

impl fmt::Display for Zone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Default for Zone {
    fn default() -> Self {
        Zone::UTC
    }
}

/// Scan the zone day by day (1970-2100) for its largest offset jump; cached,
/// since config loads ask again for the same zones.
fn max_shift(tz: Tz) -> Duration {
    static CACHE: OnceLock<Mutex<HashMap<Tz, Duration>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(d) = cache.lock().unwrap_or_else(|e| e.into_inner()).get(&tz) {
        return *d;
    }
    let offset = |t: i64| {
        let at = DateTime::from_timestamp(t, 0).unwrap_or_default();
        tz.offset_from_utc_datetime(&at.naive_utc())
            .fix()
            .local_minus_utc()
    };
    const DAY: i64 = 86_400;
    let (from, to) = (0i64, 4_102_444_800i64); // 1970-01-01 .. 2100-01-01
    let mut biggest = 0i64;
    let mut previous = offset(from);
    let mut t = from + DAY;
    while t <= to {
        let now = offset(t);
        biggest = biggest.max(i64::from((now - previous).abs()));
        previous = now;
        t += DAY;
    }
    let shift = Duration::seconds(biggest);
    cache
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(tz, shift);
    shift
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
