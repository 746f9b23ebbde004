//! The week profile, pure: per-minute traffic samples in, 168 hour-of-week
//! slots out (Monday 00:00 first, in the source's zone), each the median
//! over the weeks of that hour's mean; and what a deploy at a given time
//! runs through, and which spans of the week are quietest.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Duration, NaiveDate, Timelike, Utc};
use serde::Serialize;

use crate::schedule::Zone;

pub const SLOTS: usize = 168;
pub const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

/// One observation: per-minute rates at an instant.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sample {
    pub at: DateTime<Utc>,
    /// Requests per minute.
    pub requests: f64,
    /// Failed requests per minute.
    pub errors: Option<f64>,
    /// Seconds.
    pub latency_p95: Option<f64>,
}

/// One hour of the week.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Slot {
    pub day: &'static str,
    pub hour: u32,
    /// Median over the weeks of the hour's mean requests per minute.
    pub requests: f64,
    pub errors: Option<f64>,
    pub latency_p95: Option<f64>,
    /// 100 x (slots with fewer requests) / 168.
    pub percentile: f64,
}

/// A service's week.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Profile {
    pub service: String,
    pub timezone: String,
    /// Weeks with data behind it.
    pub weeks: usize,
    /// The source it came from.
    pub source: String,
    #[schema(value_type = Vec<Slot>)]
    pub slots: Vec<Slot>,
    #[serde(skip)]
    pub zone: Zone,
}

/// How busy a span is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Quiet,
    Normal,
    Busy,
    Peak,
}

impl Level {
    pub fn of(percentile: f64) -> Level {
        if percentile >= 95.0 {
            Level::Peak
        } else if percentile >= 75.0 {
            Level::Busy
        } else if percentile < 25.0 {
            Level::Quiet
        } else {
            Level::Normal
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Level::Quiet => "quiet",
            Level::Normal => "normal",
            Level::Busy => "busy",
            Level::Peak => "peak",
        }
    }
}

/// What a deploy over `[at, at + duration)` runs through.
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct WhatIf {
    pub service: String,
    pub at: DateTime<Utc>,
    pub duration_minutes: i64,
    /// Requests expected in the span, from the profile.
    pub expected_requests: f64,
    /// The busiest slot's percentile.
    pub percentile: f64,
    pub level: Level,
    /// The busiest slot, in the profile's zone.
    pub busiest: String,
}

/// A quiet span of the week.
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Suggestion {
    pub day: &'static str,
    /// "02:00", in the profile's zone.
    pub start: String,
    pub end: String,
    /// Its share of the week's requests, 0 to 1.
    pub share: f64,
    /// A deploy window for the config, ready to paste.
    pub toml: String,
}

fn median(mut xs: Vec<f64>) -> Option<f64> {
    if xs.is_empty() {
        return None;
    }
    xs.sort_by(f64::total_cmp);
    let n = xs.len();
    Some(if n % 2 == 1 { xs[n / 2] } else { (xs[n / 2 - 1] + xs[n / 2]) / 2.0 })
}

/// The slot of a local time: Monday 00:00 is 0.
fn slot_of(local: chrono::NaiveDateTime) -> usize {
    local.weekday().num_days_from_monday() as usize * 24 + local.hour() as usize
}

#[derive(Default)]
struct Mean {
    sum: f64,
    n: u32,
}

impl Mean {
    fn add(&mut self, x: f64) {
        self.sum += x;
        self.n += 1;
    }
    fn get(&self) -> Option<f64> {
        (self.n > 0).then(|| self.sum / self.n as f64)
    }
}

#[derive(Default)]
struct HourMeans {
    requests: Mean,
    errors: Mean,
    latency: Mean,
}

/// A service's traffic by hour of each week: what the profile is made of,
/// kept small (an entry per hour) so any number of recent weeks can be asked.
#[derive(Clone, Debug)]
pub struct Weekly {
    pub service: String,
    pub source: String,
    pub zone: Zone,
    /// (the week's Monday, slot) -> mean requests, errors, latency.
    hours: BTreeMap<(NaiveDate, usize), [Option<f64>; 3]>,
}

impl Weekly {
    /// `samples` (any order) by hour of week in `zone`; `None` without samples.
    pub fn from_samples(service: &str, source: &str, zone: Zone, samples: &[Sample]) -> Option<Weekly> {
        let mut acc: BTreeMap<(NaiveDate, usize), HourMeans> = BTreeMap::new();
        for s in samples.iter().filter(|s| s.requests.is_finite() && s.requests >= 0.0) {
            let local = zone.local(s.at);
            let monday = local.date() - Duration::days(local.weekday().num_days_from_monday() as i64);
            let h = acc.entry((monday, slot_of(local))).or_default();
            h.requests.add(s.requests);
            if let Some(e) = s.errors.filter(|e| e.is_finite() && *e >= 0.0) {
                h.errors.add(e);
            }
            if let Some(l) = s.latency_p95.filter(|l| l.is_finite() && *l >= 0.0) {
                h.latency.add(l);
            }
        }
        if acc.is_empty() {
            return None;
        }
        let hours = acc.into_iter().map(|(k, h)| (k, [h.requests.get(), h.errors.get(), h.latency.get()])).collect();
        Some(Weekly { service: service.to_string(), source: source.to_string(), zone, hours })
    }

    /// The profile over the last `weeks` weeks with data.
    pub fn profile(&self, weeks: usize) -> Profile {
        let mondays: std::collections::BTreeSet<NaiveDate> = self.hours.keys().map(|(w, _)| *w).collect();
        let kept: std::collections::BTreeSet<NaiveDate> = mondays.iter().rev().take(weeks.max(1)).copied().collect();
        let mut per_slot: Vec<(Vec<f64>, Vec<f64>, Vec<f64>)> = vec![Default::default(); SLOTS];
        for ((_, slot), [r, e, l]) in self.hours.iter().filter(|((m, _), _)| kept.contains(m)) {
            let (rs, es, ls) = &mut per_slot[*slot];
            rs.extend(*r);
            es.extend(*e);
            ls.extend(*l);
        }
        let mut slots: Vec<Slot> = per_slot
            .into_iter()
            .enumerate()
            .map(|(i, (r, e, l))| Slot {
                day: DAYS[i / 24],
                hour: (i % 24) as u32,
                requests: median(r).unwrap_or(0.0),
                errors: median(e),
                latency_p95: median(l),
                percentile: 0.0,
            })
            .collect();
        let requests: Vec<f64> = slots.iter().map(|s| s.requests).collect();
        for s in &mut slots {
            let fewer = requests.iter().filter(|r| **r < s.requests).count();
            s.percentile = 100.0 * fewer as f64 / SLOTS as f64;
        }
        Profile {
            service: self.service.clone(),
            timezone: self.zone.name().to_string(),
            weeks: kept.len(),
            source: self.source.clone(),
            slots,
            zone: self.zone,
        }
    }
}

impl Profile {
    /// The profile of `samples` (any order) in `zone` over every week they
    /// cover; `None` without samples.
    pub fn build(service: &str, source: &str, zone: Zone, samples: &[Sample]) -> Option<Profile> {
        Weekly::from_samples(service, source, zone, samples).map(|w| w.profile(usize::MAX))
    }

    /// The slots `[at, at + duration)` runs through, with the minutes in each.
    fn through(&self, at: DateTime<Utc>, duration: Duration) -> Vec<(usize, f64)> {
        let end = at + duration.max(Duration::minutes(1));
        let mut out = Vec::new();
        let mut t = at;
        // At most a week of slots: a longer span covers every slot anyway.
        while t < end && out.len() <= SLOTS {
            let local = self.zone.local(t);
            let next_hour =
                t + Duration::minutes(60 - local.minute() as i64) - Duration::seconds(local.second() as i64);
            let until = next_hour.min(end);
            out.push((slot_of(local), (until - t).num_seconds() as f64 / 60.0));
            t = until;
        }
        out
    }

    /// The busiest slot a deploy over `[t, t + duration)` runs through.
    pub fn busiest(&self, t: DateTime<Utc>, duration: Duration) -> &Slot {
        let through = self.through(t, duration);
        let i = through
            .iter()
            .map(|(i, _)| *i)
            .max_by(|a, b| self.slots[*a].percentile.total_cmp(&self.slots[*b].percentile));
        &self.slots[i.unwrap_or(0)]
    }

    /// `GET /impact`: what a deploy at `at` for `duration` runs through.
    pub fn what_if(&self, at: DateTime<Utc>, duration: Duration) -> WhatIf {
        let through = self.through(at, duration);
        let expected: f64 = through.iter().map(|(i, minutes)| self.slots[*i].requests * minutes).sum();
        let busiest = self.busiest(at, duration);
        WhatIf {
            service: self.service.clone(),
            at,
            duration_minutes: duration.num_minutes(),
            expected_requests: expected.round(),
            percentile: busiest.percentile,
            level: Level::of(busiest.percentile),
            busiest: format!("{} {:02}:00 {}", busiest.day, busiest.hour, self.timezone),
        }
    }

    /// `GET /impact/suggest`: the `count` quietest non-overlapping spans of
    /// `hours` whole hours, quietest first.
    pub fn suggest(&self, hours: usize, count: usize) -> Vec<Suggestion> {
        let hours = hours.clamp(1, SLOTS);
        let total: f64 = self.slots.iter().map(|s| s.requests).sum();
        let sum_from = |start: usize| (0..hours).map(|k| self.slots[(start + k) % SLOTS].requests).sum::<f64>();
        let mut starts: Vec<(usize, f64)> = (0..SLOTS).map(|s| (s, sum_from(s))).collect();
        starts.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
        let mut taken = [false; SLOTS];
        let mut out = Vec::new();
        for (start, sum) in starts {
            if out.len() >= count {
                break;
            }
            if (0..hours).any(|k| taken[(start + k) % SLOTS]) {
                continue;
            }
            (0..hours).for_each(|k| taken[(start + k) % SLOTS] = true);
            let end = (start + hours) % SLOTS;
            let day = DAYS[start / 24];
            let cron_day = ["MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"][start / 24];
            let id = format!("quiet-{}-{}-{:02}h", self.service, day.to_ascii_lowercase(), start % 24);
            let toml = format!(
                "[[windows]]\nid = \"{id}\"\nkind = \"allow\"\nreason = \"Quietest {hours}h of {service}'s week ({share:.1}% of its requests)\"\ntimezone = \"{tz}\"\ncron = \"0 {h} * * {cron_day}\"\nduration = \"{hours}h\"\nservices = [\"{service}\"]\n",
                service = self.service,
                share = if total > 0.0 { 100.0 * sum / total } else { 0.0 },
                tz = self.timezone,
                h = start % 24,
            );
            out.push(Suggestion {
                day,
                start: format!("{:02}:00", start % 24),
                end: format!("{} {:02}:00", DAYS[end / 24], end % 24),
                share: if total > 0.0 { sum / total } else { 0.0 },
                toml,
            });
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Four weeks from Monday 2026-11-02 (UTC): 100/min 10:00-17:00 on
    /// weekdays, 10/min otherwise, 500/min on Fridays 12:00-13:00.
    fn samples() -> Vec<Sample> {
        let start: DateTime<Utc> = "2026-11-02T00:00:00Z".parse().expect("t");
        (0..4 * 7 * 24 * 12)
            .map(|i| {
                let at = start + Duration::minutes(5 * i);
                let (d, h) = (at.weekday().num_days_from_monday(), at.hour());
                let requests = match (d, h) {
                    (4, 12) => 500.0,
                    (0..=4, 10..=16) => 100.0,
                    _ => 10.0,
                };
                Sample { at, requests, errors: Some(requests / 100.0), latency_p95: Some(0.2) }
            })
            .collect()
    }

    #[test]
    fn slots_are_hour_of_week_medians_with_percentiles() {
        let p = Profile::build("checkout", "csv", Zone::utc(), &samples()).expect("profile");
        assert_eq!((p.slots.len(), p.weeks), (SLOTS, 4));
        let fri_noon = &p.slots[4 * 24 + 12];
        assert_eq!((fri_noon.day, fri_noon.hour, fri_noon.requests), ("Fri", 12, 500.0));
        assert_eq!(fri_noon.percentile, 100.0 * 167.0 / 168.0);
        assert_eq!(p.slots[3].requests, 10.0);
        assert_eq!(p.slots[3].percentile, 0.0);
        assert_eq!(Level::of(fri_noon.percentile), Level::Peak);
        assert_eq!(Level::of(p.slots[10].percentile), Level::Busy, "weekday office hours");
    }

    #[test]
    fn a_what_if_sums_the_minutes_and_names_the_busiest_slot() {
        let p = Profile::build("checkout", "csv", Zone::utc(), &samples()).expect("profile");
        let w = p.what_if("2026-12-04T11:30:00Z".parse().expect("t"), Duration::hours(1));
        assert_eq!(w.expected_requests, 30.0 * 100.0 + 30.0 * 500.0);
        assert_eq!((w.level, w.busiest.as_str()), (Level::Peak, "Fri 12:00 UTC"));
        let night = p.what_if("2026-12-05T02:00:00Z".parse().expect("t"), Duration::minutes(30));
        assert_eq!(night.level, Level::Quiet);
    }

    #[test]
    fn suggestions_are_the_quietest_spans_and_do_not_overlap() {
        let p = Profile::build("checkout", "csv", Zone::utc(), &samples()).expect("profile");
        let s = p.suggest(2, 3);
        assert_eq!(s.len(), 3);
        // Every 10/min span of 2h is as quiet as any other: the earliest win.
        assert_eq!((s[0].day, s[0].start.as_str()), ("Mon", "00:00"));
        assert_eq!((s[1].day, s[1].start.as_str()), ("Mon", "02:00"));
        assert!(s[0].toml.contains("kind = \"allow\"") && s[0].toml.contains("cron = \"0 0 * * MON\""));
        let parsed: toml::Table = s[0].toml.parse().expect("the suggestion is TOML");
        assert!(parsed.contains_key("windows"));
    }
}
