//! Occurrences of a window's schedule: concrete half-open `[start, end)`
//! intervals, found by walking the cron wall times and resolving each one;
//! and spans, the occurrences that overlap or touch merged into one.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, DurationRound, NaiveDateTime, Utc};
use serde::Serialize;

use super::spans::{Merge, Recurring};
use super::{CronExpr, Zone};

/// One concrete `[start, end)` interval of a window.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, utoipa::ToSchema)]
pub struct Occurrence {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

impl Occurrence {
    pub fn contains(&self, t: DateTime<Utc>) -> bool {
        self.start <= t && t < self.end
    }
}

/// How a recurring occurrence ends.
#[derive(Clone, Debug)]
pub enum End {
    /// Elapsed time after the start.
    After(Duration),
    /// The first instant of this expression strictly after the start.
    Cron(CronExpr),
}

/// A window's schedule in one of the three forms.
#[derive(Clone, Debug)]
pub enum Schedule {
    Recurring { start: CronExpr, end: End, zone: Zone, merge: Arc<Merge> },
    Once(Occurrence),
}

/// How far any search looks: beyond this, "never" is the answer.
pub const SEARCH_LIMIT: Duration = Duration::days(8 * 366);
/// How far a span shown to people is followed before and after a range.
pub const SPAN_REACH: Duration = Duration::days(366);

impl Schedule {
    /// A recurring schedule, with its merge model.
    pub fn recurring(start: CronExpr, end: End, zone: Zone) -> Schedule {
        let merge = match &end {
            End::After(d) => Merge::of(&start, Some(*d), None),
            End::Cron(e) => Merge::of(&start, None, Some(e)),
        };
        Schedule::Recurring { start, end, zone, merge }
    }

    fn merging(&self) -> Option<Recurring<'_>> {
        match self {
            Schedule::Once(_) => None,
            Schedule::Recurring { start, end, zone, merge } => Some(Recurring {
                start,
                duration: match end {
                    End::After(d) => Some(*d),
                    End::Cron(_) => None,
                },
                end_cron: match end {
                    End::Cron(e) => Some(e),
                    End::After(_) => None,
                },
                zone,
                merge,
            }),
        }
    }

    /// The end of the span through occurrence `o`: every occurrence that
    /// overlaps or touches it, merged. `None` when it does not end by `limit`.
    pub fn span_end(&self, o: Occurrence, limit: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match self.merging() {
            None => Some(o.end),
            Some(r) => r.span_end(o.start, o.end, limit),
        }
    }

    /// The start of the span through occurrence `o`, looking back to `floor`
    /// (a span that started earlier shows the earliest start found).
    pub fn span_start(&self, o: Occurrence, floor: DateTime<Utc>) -> DateTime<Utc> {
        match self.merging() {
            None => o.start,
            Some(r) => r.span_start(o.start, floor),
        }
    }

    /// The occurrence containing `t`, if any. When occurrences overlap, the
    /// one that started last (it also ends last).
    pub fn containing(&self, t: DateTime<Utc>) -> Option<Occurrence> {
        match self {
            Schedule::Once(o) => o.contains(t).then_some(*o),
            Schedule::Recurring { start, end, zone, .. } => {
                let floor = match end {
                    End::After(d) => t - *d,
                    End::Cron(_) => t - SEARCH_LIMIT,
                };
                let s = last_start_at_or_before(start, zone, t, floor)?;
                let o = Occurrence { start: s, end: self.end_of(s)? };
                o.contains(t).then_some(o)
            }
        }
    }

    /// The first occurrence that starts strictly after `t` and at most at `limit`.
    pub fn next_after(&self, t: DateTime<Utc>, limit: DateTime<Utc>) -> Option<Occurrence> {
        match self {
            Schedule::Once(o) => (o.start > t && o.start <= limit).then_some(*o),
            Schedule::Recurring { start, zone, .. } => {
                let s = first_start_after(start, zone, t, limit)?;
                Some(Occurrence { start: s, end: self.end_of(s)? })
            }
        }
    }

    /// Every occurrence overlapping `[from, to)`, in start order, at most
    /// `max`, each on its own (not merged).
    pub fn occurrences(&self, from: DateTime<Utc>, to: DateTime<Utc>, max: usize) -> Vec<Occurrence> {
        let mut out = Vec::new();
        let mut cursor = match self.containing(from) {
            Some(o) => {
                out.push(o);
                o.start
            }
            None => from,
        };
        while out.len() < max {
            match self.next_after(cursor, to) {
                Some(o) if o.start < to => {
                    out.push(o);
                    cursor = o.start;
                }
                _ => break,
            }
        }
        out
    }

    /// Every span overlapping `[from, to)`, in start order, at most `max`:
    /// occurrences that overlap or touch are merged. A span reaching past
    /// what is followed ([`SPAN_REACH`] either side) is cut there.
    pub fn spans(&self, from: DateTime<Utc>, to: DateTime<Utc>, max: usize) -> Vec<Occurrence> {
        let (floor, limit) = (from - SPAN_REACH, to + SPAN_REACH);
        let mut out = Vec::new();
        let mut cursor = from;
        if let Some(o) = self.containing(from) {
            let end = self.span_end(o, limit).unwrap_or(limit);
            out.push(Occurrence { start: self.span_start(o, floor), end });
            cursor = end;
        }
        while out.len() < max {
            match self.next_after(cursor, to) {
                Some(o) if o.start < to => {
                    let end = self.span_end(o, limit).unwrap_or(limit);
                    out.push(Occurrence { start: o.start, end });
                    cursor = end;
                }
                _ => break,
            }
        }
        out
    }

    /// When the window stops being active, if it is active at `t`: the end of
    /// the span through `t`. `None` inside means "not before `limit`".
    pub fn active_until(&self, t: DateTime<Utc>, limit: DateTime<Utc>) -> Option<Option<DateTime<Utc>>> {
        let o = self.containing(t)?;
        Some(self.span_end(o, limit))
    }

    fn end_of(&self, start: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match self {
            Schedule::Once(o) => Some(o.end),
            Schedule::Recurring { end: End::After(d), .. } => start.checked_add_signed(*d),
            Schedule::Recurring { end: End::Cron(c), zone, .. } => {
                first_start_after(c, zone, start, start + SEARCH_LIMIT)
            }
        }
    }
}

fn whole_seconds(t: NaiveDateTime) -> NaiveDateTime {
    t.duration_trunc(Duration::seconds(1)).unwrap_or(t)
}

/// The earliest instant a cron expression in `zone` names that is strictly
/// after `t`, and at most `limit`.
///
/// Wall times map to instants in order except in a DST gap, where a wall time
/// read with the earlier offset can land after the next few wall times. Near a
/// transition we therefore search a margin of the zone's largest jump around
/// the answer; elsewhere the first hit is the answer.
pub fn first_start_after(
    cron: &CronExpr,
    zone: &Zone,
    t: DateTime<Utc>,
    limit: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let margin = zone.max_shift();
    let from = whole_seconds(zone.local(t));
    let from = if zone.steady_near(t) { from } else { from - margin };
    let local_limit = zone.local(limit) + margin;
    let mut cursor = from - Duration::seconds(1);
    let mut best: Option<(DateTime<Utc>, NaiveDateTime)> = None;
    while let Some(wall) = cron.next_after(cursor) {
        match best {
            Some((_, best_wall)) if wall > best_wall + margin => break,
            None if wall > local_limit => break,
            _ => {}
        }
        let s = zone.resolve(wall);
        if s > t && best.is_none_or(|(b, _)| s < b) {
            best = Some((s, wall));
            if zone.steady_near(s) {
                break;
            }
        }
        cursor = wall;
    }
    best.map(|(s, _)| s).filter(|s| *s <= limit)
}

/// The latest instant a cron expression in `zone` names that is at or before
/// `t`, and at least `floor`. The mirror image of [`first_start_after`].
pub fn last_start_at_or_before(
    cron: &CronExpr,
    zone: &Zone,
    t: DateTime<Utc>,
    floor: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let margin = zone.max_shift();
    let from = whole_seconds(zone.local(t));
    let from = if zone.steady_near(t) { from } else { from + margin };
    let local_floor = zone.local(floor) - margin;
    let mut cursor = from + Duration::seconds(1);
    let mut best: Option<(DateTime<Utc>, NaiveDateTime)> = None;
    while let Some(wall) = cron.prev_before(cursor) {
        match best {
            Some((_, best_wall)) if wall < best_wall - margin => break,
            None if wall < local_floor => break,
            _ => {}
        }
        let s = zone.resolve(wall);
        if s <= t && best.is_none_or(|(b, _)| s > b) {
            best = Some((s, wall));
            if zone.steady_near(s) {
                break;
            }
        }
        cursor = wall;
    }
    best.map(|(s, _)| s).filter(|s| *s >= floor)
}

/// What a schedule looks like from an instant `at`: the occurrence that
/// contains `at` (if any) and the first start after it. Both answers hold
/// for every instant from `at` up to that next start.
#[derive(Clone, Copy, Debug)]
struct View {
    at: DateTime<Utc>,
    containing: Option<Occurrence>,
    next: Option<Occurrence>,
    /// Starts were looked for up to here.
    limit: DateTime<Utc>,
    /// The end of the span through `containing`, once asked for (`Some(None)`: not by `limit`).
    span_end: Option<Option<DateTime<Utc>>>,
}

impl View {
    fn compute(schedule: &Schedule, at: DateTime<Utc>, limit: DateTime<Utc>) -> View {
        View { at, containing: schedule.containing(at), next: schedule.next_after(at, limit), limit, span_end: None }
    }

    fn holds_at(&self, x: DateTime<Utc>, limit: DateTime<Utc>) -> bool {
        self.at <= x
            && match self.next {
                Some(n) => x < n.start,
                None => x <= self.limit && limit <= self.limit,
            }
    }
}

/// Recently computed views of one schedule, shared by every decision: CI
/// asks about "now", which passes a schedule's starts only now and then, so
/// most decisions need no cron search at all.
#[derive(Default)]
pub struct Memo(Mutex<Ring>);

#[derive(Default)]
struct Ring {
    views: Vec<View>,
    oldest: usize,
}

const MEMO_VIEWS: usize = 8;

impl Memo {
    /// Forget every view (benchmarks measure the cold path with it).
    pub fn clear(&self) {
        let mut ring = self.0.lock().unwrap_or_else(|e| e.into_inner());
        ring.views.clear();
        ring.oldest = 0;
    }

    fn find(&self, x: DateTime<Utc>, limit: DateTime<Utc>) -> Option<View> {
        let ring = self.0.lock().unwrap_or_else(|e| e.into_inner());
        ring.views.iter().find(|v| v.holds_at(x, limit)).copied()
    }

    fn keep(&self, view: View) {
        let mut ring = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(known) = ring.views.iter_mut().find(|v| v.at == view.at) {
            if known.span_end.is_none() {
                known.span_end = view.span_end;
            }
            return;
        }
        if ring.views.len() < MEMO_VIEWS {
            ring.views.push(view);
        } else {
            let i = ring.oldest;
            ring.views[i] = view;
            ring.oldest = (i + 1) % MEMO_VIEWS;
        }
    }
}

impl Clone for Memo {
    /// A copy starts empty: it may belong to a changed schedule.
    fn clone(&self) -> Memo {
        Memo::default()
    }
}

impl std::fmt::Debug for Memo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Memo")
    }
}

/// Answers `containing` and `next_after` for a schedule at instants that
/// mostly move forward, reusing a view while it holds and stepping from
/// occurrence to occurrence when the instant passes a start.
#[derive(Clone, Debug)]
pub struct Cursor<'s> {
    schedule: &'s Schedule,
    memo: Option<&'s Memo>,
    limit: DateTime<Utc>,
    view: Option<View>,
}

impl<'s> Cursor<'s> {
    /// A cursor that looks for starts up to `limit`, sharing `memo` if given.
    pub fn new(schedule: &'s Schedule, memo: Option<&'s Memo>, limit: DateTime<Utc>) -> Cursor<'s> {
        Cursor { schedule, memo, limit, view: None }
    }

    fn view(&mut self, x: DateTime<Utc>) -> View {
        if let Some(v) = self.view.filter(|v| v.holds_at(x, self.limit)) {
            return v;
        }
        let memo = match self.schedule {
            Schedule::Once(_) => None,
            Schedule::Recurring { .. } => self.memo,
        };
        let found = memo.and_then(|m| m.find(x, self.limit));
        let v = match found {
            Some(v) => v,
            None => {
                let v = self.step(x).unwrap_or_else(|| View::compute(self.schedule, x, self.limit));
                if let Some(m) = memo {
                    m.keep(v);
                }
                v
            }
        };
        self.view = Some(v);
        v
    }

    /// Moving forward past the known next start: a search or two from
    /// occurrence to occurrence costs less than searching both ways anew.
    fn step(&self, x: DateTime<Utc>) -> Option<View> {
        let v = self.view.filter(|v| v.at < x)?;
        let mut next = v.next?;
        for _ in 0..3 {
            let after = self.schedule.next_after(next.start, self.limit);
            if after.is_none_or(|a| x < a.start) {
                return Some(View {
                    at: next.start,
                    containing: Some(next),
                    next: after,
                    limit: self.limit,
                    span_end: None,
                });
            }
            next = after?;
        }
        None
    }

    /// As [`Schedule::containing`].
    pub fn containing(&mut self, x: DateTime<Utc>) -> Option<Occurrence> {
        self.view(x).containing.filter(|o| o.contains(x))
    }

    /// As [`Schedule::next_after`] with this cursor's limit.
    pub fn next_after(&mut self, x: DateTime<Utc>) -> Option<Occurrence> {
        let limit = self.limit;
        self.view(x).next.filter(|n| n.start <= limit)
    }

    /// As [`Schedule::active_until`]: the end of the span through `t`,
    /// remembered with the view it belongs to.
    pub fn active_until(&mut self, t: DateTime<Utc>) -> Option<Option<DateTime<Utc>>> {
        let mut v = self.view(t);
        let o = v.containing.filter(|o| o.contains(t))?;
        if let Some(end) = v.span_end {
            return Some(end);
        }
        let end = self.schedule.span_end(o, self.limit);
        v.span_end = Some(end);
        self.view = Some(v);
        if let (Schedule::Recurring { .. }, Some(memo)) = (self.schedule, self.memo) {
            memo.keep(v);
        }
        Some(end)
    }
}
