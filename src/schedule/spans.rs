//! Spans: the occurrences of one window that overlap or touch, merged into
//! one interval. A freeze written as `* * * * *` with `duration = "1m"` is
//! one span that never ends, found without walking its half a million
//! occurrences a year.
//!
//! Away from DST changes, wall-clock differences are elapsed time, and a
//! schedule fires on a set of days at the same times of day: the model below
//! reads the chain's end off those sets, a day (or a month) at a time. Near
//! a DST change it steps occurrence by occurrence with the exact wall-time
//! rules, and every answer the model gives is checked there once.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, Weak};

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, Timelike, Utc};

use super::cron::{CronExpr, DaySet, DayTimes, MINUTES_PER_DAY};
use super::occurrence::{first_start_after, last_start_at_or_before};
use super::zone::Zone;

/// A bound on the steps of any one merge, so no schedule can stall a request.
const MAX_STEPS: usize = 20_000;

/// What the model knows of a recurring schedule, computed once per distinct
/// (start cron, end) pair and shared.
#[derive(Debug)]
pub struct Merge {
    rule: Rule,
}

// One per distinct schedule, behind an Arc: the size of a variant costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
enum Rule {
    /// `cron` + `duration`: starts at most `gap` minutes apart chain.
    After {
        /// The minutes after which the next start of the same day is more than `gap` away.
        breaks: DayTimes,
        /// The minutes before which the previous start of the same day is more than `gap` away.
        restarts: DayTimes,
        first: u32,
        last: u32,
        /// The most days from one fire day's last start to the next fire day's first start that still chain.
        day_step: i64,
    },
    /// `cron` + `end_cron`: an occurrence ends at the next end time; the next
    /// one touches it only when that end time is also a start time.
    Until {
        /// End times of the day that are not start times.
        stops: DayTimes,
    },
}

/// What the model found.
enum Found {
    /// The chain ends here (a last start, or an end time).
    Ended(NaiveDateTime),
    /// The chain goes on past the cap.
    Reached,
}

impl Merge {
    /// The shared model of a schedule: `start` with a fixed duration, or `start` until `end_cron`.
    pub fn of(start: &CronExpr, duration: Option<Duration>, end_cron: Option<&CronExpr>) -> Arc<Merge> {
        static SEEN: OnceLock<Mutex<HashMap<String, Weak<Merge>>>> = OnceLock::new();
        let key = match (duration, end_cron) {
            (Some(d), _) => format!("{} | {}s", start.key(), d.num_seconds()),
            (None, Some(e)) => format!("{} | until {}", start.key(), e.key()),
            (None, None) => start.key().to_string(),
        };
        let mut seen = SEEN.get_or_init(Default::default).lock().unwrap_or_else(|e| e.into_inner());
        if let Some(m) = seen.get(&key).and_then(Weak::upgrade) {
            return m;
        }
        let rule = match (duration, end_cron) {
            (_, Some(e)) if duration.is_none() => {
                let (s, e) = (start.times(), e.times());
                Rule::Until { stops: if s.second == e.second { e.without(s) } else { *e } }
            }
            _ => {
                let t = start.times();
                let gap = (duration.unwrap_or_default().num_seconds().max(0) / 60) as u32;
                let (first, last) = (t.first().unwrap_or(0), t.last().unwrap_or(0));
                Rule::After {
                    breaks: t.breaks(gap),
                    restarts: restarts(t, gap),
                    first,
                    last,
                    day_step: i64::from((gap + last - first) / MINUTES_PER_DAY),
                }
            }
        };
        let merge = Arc::new(Merge { rule });
        if seen.len() >= 4096 {
            seen.retain(|_, m| m.strong_count() > 0);
        }
        seen.insert(key, Arc::downgrade(&merge));
        merge
    }
}

/// The minutes whose previous start of the same day is more than `gap` before.
fn restarts(t: &DayTimes, gap: u32) -> DayTimes {
    let mut out = DayTimes::empty(t.second);
    let mut at = t.first().and_then(|m| t.next_at_or_after(m + 1));
    while let Some(m) = at {
        if t.prev_at_or_before(m - 1).is_some_and(|p| m - p > gap) {
            out.insert(m);
        }
        at = t.next_at_or_after(m + 1);
    }
    out
}

fn minute_of(t: NaiveDateTime) -> u32 {
    t.hour() * 60 + t.minute()
}

fn wall(day: NaiveDate, minute: u32, second: u32) -> NaiveDateTime {
    day.and_time(NaiveTime::from_num_seconds_from_midnight_opt(minute * 60 + second, 0).unwrap_or(NaiveTime::MIN))
}

/// The next day after `day`, at most `max` days on, that fires; months with
/// no fire day are skipped whole.
fn next_day(days: &DaySet, day: NaiveDate, max: i64) -> Option<NaiveDate> {
    let last = day.checked_add_signed(Duration::days(max))?;
    let mut d = day.succ_opt()?;
    while d <= last {
        if days.no_day_in_month(d) {
            d = first_of_next_month(d)?;
            continue;
        }
        if days.matches(d) {
            return Some(d);
        }
        d = d.succ_opt()?;
    }
    None
}

/// The previous day before `day`, at most `max` days back, that fires.
fn prev_day(days: &DaySet, day: NaiveDate, max: i64) -> Option<NaiveDate> {
    let first = day.checked_sub_signed(Duration::days(max))?;
    let mut d = day.pred_opt()?;
    while d >= first {
        if days.no_day_in_month(d) {
            d = d.with_day(1)?.pred_opt()?;
            continue;
        }
        if days.matches(d) {
            return Some(d);
        }
        d = d.pred_opt()?;
    }
    None
}

fn first_of_next_month(d: NaiveDate) -> Option<NaiveDate> {
    let (y, m) = if d.month() == 12 { (d.year() + 1, 1) } else { (d.year(), d.month() + 1) };
    NaiveDate::from_ymd_opt(y, m, 1)
}

impl Merge {
    /// From a start `from` (wall time) of a `cron + duration` schedule, the
    /// last start of its chain, if the chain ends before `cap`.
    fn after_forward(&self, start: &CronExpr, from: NaiveDateTime, cap: NaiveDateTime) -> Found {
        let Rule::After { breaks, last, first, day_step, .. } = &self.rule else { return Found::Reached };
        let (days, second) = (start.days(), start.times().second);
        let (mut day, mut minute) = (from.date(), minute_of(from));
        for _ in 0..MAX_STEPS {
            if let Some(b) = breaks.next_at_or_after(minute) {
                let t = wall(day, b, second);
                return if t <= cap { Found::Ended(t) } else { Found::Reached };
            }
            let day_last = wall(day, *last, second);
            if day_last > cap {
                return Found::Reached;
            }
            match next_day(days, day, *day_step) {
                None => return Found::Ended(day_last),
                Some(next) if wall(next, *first, second) > cap => return Found::Reached,
                Some(next) => (day, minute) = (next, *first),
            }
        }
        Found::Reached
    }

    /// From a start `from` of a `cron + duration` schedule, the first start
    /// of its chain, if the chain starts after `floor`.
    fn after_backward(&self, start: &CronExpr, from: NaiveDateTime, floor: NaiveDateTime) -> Found {
        let Rule::After { restarts, last, first, day_step, .. } = &self.rule else { return Found::Reached };
        let (days, second) = (start.days(), start.times().second);
        let (mut day, mut minute) = (from.date(), minute_of(from));
        for _ in 0..MAX_STEPS {
            if let Some(r) = restarts.prev_at_or_before(minute) {
                let t = wall(day, r, second);
                return if t >= floor { Found::Ended(t) } else { Found::Reached };
            }
            let day_first = wall(day, *first, second);
            if day_first < floor {
                return Found::Reached;
            }
            match prev_day(days, day, *day_step) {
                None => return Found::Ended(day_first),
                Some(prev) if wall(prev, *last, second) < floor => return Found::Reached,
                Some(prev) => (day, minute) = (prev, *last),
            }
        }
        Found::Reached
    }

    /// From an end time `from` (inclusive) of a `cron + end_cron` schedule,
    /// the first end time that is not also a start time, before `cap`.
    fn until_forward(&self, start: &CronExpr, end: &CronExpr, from: NaiveDateTime, cap: NaiveDateTime) -> Found {
        let Rule::Until { stops } = &self.rule else { return Found::Reached };
        let second = end.times().second;
        let (mut day, mut minute) = (from.date(), minute_of(from));
        for _ in 0..MAX_STEPS {
            if day > cap.date() {
                return Found::Reached;
            }
            if end.days().no_day_in_month(day) {
                (day, minute) = (first_of_next_month(day).unwrap_or(NaiveDate::MAX), 0);
                continue;
            }
            if end.days().matches(day) {
                let times = if start.days().matches(day) { stops } else { end.times() };
                if let Some(m) = times.next_at_or_after(minute) {
                    let t = wall(day, m, second);
                    return if t <= cap { Found::Ended(t) } else { Found::Reached };
                }
            }
            match day.succ_opt() {
                Some(next) => (day, minute) = (next, 0),
                None => return Found::Reached,
            }
        }
        Found::Reached
    }
}

/// A recurring schedule, as the merging reads it.
pub struct Recurring<'s> {
    pub start: &'s CronExpr,
    pub duration: Option<Duration>,
    pub end_cron: Option<&'s CronExpr>,
    pub zone: &'s Zone,
    pub merge: &'s Merge,
}

impl Recurring<'_> {
    fn end_of(&self, start: DateTime<Utc>, limit: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match (self.duration, self.end_cron) {
            (Some(d), _) => start.checked_add_signed(d),
            (None, Some(e)) => first_start_after(e, self.zone, start, limit.max(start) + Duration::days(400)),
            (None, None) => None,
        }
    }

    /// How far from `t` the model holds: until a little before the next
    /// offset change that could break a chain the wall times say goes on.
    /// Clocks going forward only bring starts closer in elapsed time, so a
    /// `duration` chain runs on through them; an `end_cron` chain compares
    /// start and end times, whose order holds except in the skipped hour.
    fn steady_until(&self, t: DateTime<Utc>, limit: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let margin = self.zone.max_shift() * 2;
        let change = match self.duration {
            Some(_) => self.zone.next_fall_back_after(t),
            None => self.zone.next_transition_after(t),
        };
        let until = change.map_or(limit, |tr| (tr - margin).min(limit));
        (until > t && self.zone.steady_near(t)).then_some(until)
    }

    /// The end of the span through the occurrence `[start, end)`; `None`
    /// when it does not end by `limit`.
    pub fn span_end(&self, start: DateTime<Utc>, end: DateTime<Utc>, limit: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let end = match self.duration {
            Some(d) => self.after_end(start, end, d, limit),
            None => self.until_end(end, limit),
        };
        end.filter(|e| *e <= limit)
    }

    /// The wall time at which clocks go back at the fall-back `at`: walls
    /// before it are read with the old offset (the repeated hour's first
    /// instant), walls from it with the new one, `shift` later than the
    /// wall-clock difference says.
    fn fall_back(&self, at: DateTime<Utc>) -> (NaiveDateTime, Duration) {
        let before = self.zone.offset_at(at - Duration::seconds(1));
        let after = self.zone.offset_at(at);
        (at.naive_utc() + before, before - after)
    }

    /// Whether a start's wall time reads back to it: true but for instants
    /// no wall time names (the repeated hour's second pass).
    fn named(&self, t: DateTime<Utc>) -> bool {
        self.zone.resolve(self.zone.local(t)) == t
    }

    fn after_end(
        &self,
        mut last: DateTime<Utc>,
        mut end: DateTime<Utc>,
        d: Duration,
        limit: DateTime<Utc>,
    ) -> Option<DateTime<Utc>> {
        let zone = self.zone;
        let second = Duration::seconds(1);
        for _ in 0..MAX_STEPS {
            if end > limit {
                return None;
            }
            // The model, up to the next fall-back (clocks going forward never
            // break a chain), then across it with the hour it adds.
            if self.named(last) {
                let fall_back = zone.next_fall_back_after(last).filter(|f| *f <= limit).map(|f| self.fall_back(f));
                let cap = fall_back.map_or(zone.local(limit), |(b, _)| b - second);
                match self.merge.after_forward(self.start, zone.local(last), cap) {
                    Found::Ended(w) => {
                        let s = zone.resolve(w);
                        // Checked exactly: a start touching or overlapping carries it on.
                        if first_start_after(self.start, zone, s, s + d).is_none() {
                            return Some(s + d);
                        }
                        end = end.max(s + d);
                    }
                    Found::Reached => {
                        if let Some(a) = self.start.prev_before(cap + second).map(|w| zone.resolve(w)) {
                            end = end.max(a + d);
                        }
                        if let Some((b, _)) = fall_back {
                            match self.start.next_after(b - second).map(|w| zone.resolve(w)) {
                                Some(next) if next <= end => (last, end) = (next, next + d),
                                _ => return Some(end),
                            }
                            continue;
                        }
                    }
                }
            }
            // One exact step: the latest start at or before the end extends it, or nothing does.
            match last_start_at_or_before(self.start, zone, end, end - d) {
                Some(s) if s + d > end => (last, end) = (s, s + d),
                _ => return Some(end),
            }
        }
        None
    }

    fn until_end(&self, mut end: DateTime<Utc>, limit: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let (zone, Some(end_cron)) = (self.zone, self.end_cron) else { return Some(end) };
        for _ in 0..MAX_STEPS {
            if end > limit {
                return None;
            }
            if let Some(until) = self.steady_until(end, limit) {
                match self.merge.until_forward(self.start, end_cron, zone.local(end), zone.local(until)) {
                    Found::Ended(w) => end = zone.resolve(w),
                    Found::Reached => {
                        if let Some(f) = end_cron.prev_before(zone.local(until) + Duration::seconds(1)) {
                            end = zone.resolve(f).max(end);
                        }
                    }
                }
            }
            // Exact: the chain goes on only if a new occurrence starts right at the end.
            if last_start_at_or_before(self.start, zone, end, end) != Some(end) {
                return Some(end);
            }
            end = self.end_of(end, limit)?;
        }
        None
    }

    /// The start of the span through the occurrence starting at `start`,
    /// looking back no further than `floor` (then the earliest start found).
    pub fn span_start(&self, start: DateTime<Utc>, floor: DateTime<Utc>) -> DateTime<Utc> {
        match self.duration {
            Some(d) => self.after_start(start, d, floor),
            None => self.until_start(start, floor),
        }
    }

    fn after_start(&self, mut first: DateTime<Utc>, d: Duration, floor: DateTime<Utc>) -> DateTime<Utc> {
        let zone = self.zone;
        let second = Duration::seconds(1);
        for _ in 0..MAX_STEPS {
            if first < floor {
                return first;
            }
            if self.named(first) {
                let fall_back =
                    zone.prev_fall_back_at_or_before(first).filter(|f| *f >= floor).map(|f| self.fall_back(f));
                let stop = fall_back.map_or(zone.local(floor), |(b, _)| b);
                match self.merge.after_backward(self.start, zone.local(first), stop) {
                    Found::Ended(w) => first = zone.resolve(w).min(first),
                    Found::Reached => {
                        if let Some(b) = self.start.next_after(stop - second).map(|w| zone.resolve(w)) {
                            first = first.min(b);
                        }
                        let Some((b, _)) = fall_back else { return first };
                        match self.start.prev_before(b).map(|w| zone.resolve(w)) {
                            Some(prev) if prev + d >= first => first = prev,
                            _ => return first,
                        }
                        continue;
                    }
                }
            }
            // One exact step back: a start shortly before whose occurrence reaches this one.
            match last_start_at_or_before(self.start, zone, first - second, first - d - second) {
                Some(s) if s + d >= first && s >= floor => first = s,
                _ => return first,
            }
        }
        first
    }

    /// Back a block at a time. The occurrences ending at one end time form a
    /// block that starts at the first start at or after the end time before
    /// it; the block before that touches it only if that first start falls
    /// exactly on that end time.
    fn until_start(&self, mut first: DateTime<Utc>, floor: DateTime<Utc>) -> DateTime<Utc> {
        let (zone, Some(end_cron)) = (self.zone, self.end_cron) else { return first };
        let second = Duration::seconds(1);
        // End times are looked for a year before the floor: a block may start
        // after the floor though its end time before it lies before.
        let reach = floor - Duration::days(366);
        for _ in 0..MAX_STEPS {
            if first < floor {
                return first;
            }
            let Some(p) = last_start_at_or_before(end_cron, zone, first, reach) else { return first };
            if let Some(s) = first_start_after(self.start, zone, p - second, first) {
                first = s;
            }
            if first != p {
                return first;
            }
            let Some(before) = last_start_at_or_before(end_cron, zone, p - second, reach) else { return first };
            match first_start_after(self.start, zone, before - second, p - second) {
                Some(s) => first = s,
                None => return first,
            }
        }
        first
    }
}

impl DayTimes {
    pub(super) fn empty(second: u32) -> DayTimes {
        DayTimes::of(0, 0, second)
    }
}
