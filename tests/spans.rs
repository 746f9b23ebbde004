//! Spans against brute force: the span the merging reads off the schedule is
//! the one found by walking every occurrence and merging those that overlap
//! or touch, for random schedules in zones with DST, at random instants
//! (many of them on DST nights).

use chrono::{DateTime, Duration, TimeZone, Utc};
use deploy_gate::config::window_from_table;
use deploy_gate::policy::{Source, Window};
use proptest::prelude::*;

const ZONES: &[&str] = &["UTC", "America/New_York", "Europe/Berlin", "Australia/Lord_Howe", "America/Santiago"];
const CRONS: &[&str] = &[
    "* * * * *",
    "*/5 * * * *",
    "*/7 * * * *",
    "0 * * * *",
    "30 1-3 * * *",
    "0,30 2 * * *",
    "*/15 9-17 * * MON-FRI",
    "0 0 * * *",
    "0 22 * * *",
    "45 23 * * SAT,SUN",
    "0 17 * * FRI",
    "0 0 1 * *",
];

fn window(cron: &str, zone: &str, end: &str) -> Window {
    let text = format!("id = \"w\"\ncron = \"{cron}\"\ntimezone = \"{zone}\"\n{end}\n");
    window_from_table(&text.parse().expect("toml"), None, 0, Source::Config).expect("valid window")
}

/// Walk every occurrence from `from` to `to`, merge, and answer the span
/// containing `t`: `(start, end)`, `end = None` when it reaches past `to`.
fn brute(
    w: &Window,
    from: DateTime<Utc>,
    t: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Option<(DateTime<Utc>, Option<DateTime<Utc>>)> {
    let mut spans: Vec<(DateTime<Utc>, DateTime<Utc>)> = Vec::new();
    // Starts up to `to` itself: one there touches the span and carries it on.
    for o in w.schedule.occurrences(from, to + Duration::seconds(1), 100_000) {
        match spans.last_mut() {
            Some(last) if o.start <= last.1 => last.1 = last.1.max(o.end),
            _ => spans.push((o.start, o.end)),
        }
    }
    let (start, end) = spans.into_iter().find(|(s, e)| *s <= t && t < *e)?;
    Some((start, (end <= to).then_some(end)))
}

fn instants() -> impl Strategy<Value = DateTime<Utc>> {
    // Nights of DST changes in 2026 for the zones above, and ordinary days.
    let nights = [
        "2026-03-08T07:00:00Z", // New York springs forward
        "2026-11-01T06:00:00Z", // New York falls back
        "2026-03-29T01:00:00Z", // Berlin
        "2026-10-25T01:00:00Z",
        "2026-04-04T15:00:00Z", // Lord Howe (half an hour)
        "2026-10-03T16:00:00Z",
        "2026-04-05T03:00:00Z", // Santiago
        "2026-09-06T04:00:00Z",
        "2026-06-17T12:00:00Z",
        "2026-12-31T23:30:00Z",
    ];
    (prop::sample::select(nights.to_vec()), -3000i64..3000)
        .prop_map(|(night, minutes)| night.parse::<DateTime<Utc>>().expect("t") + Duration::minutes(minutes))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 160, ..ProptestConfig::default() })]

    #[test]
    fn the_span_through_an_instant_is_the_merge_of_its_occurrences(
        cron in prop::sample::select(CRONS.to_vec()),
        zone in prop::sample::select(ZONES.to_vec()),
        minutes in prop::sample::select(vec![1i64, 5, 7, 14, 15, 30, 59, 60, 61, 90, 120, 180, 1439, 1440, 2000, 4320]),
        end_cron in prop::option::of(prop::sample::select(CRONS.to_vec())),
        t in instants(),
    ) {
        let end = match end_cron {
            Some(e) => format!("end_cron = \"{e}\""),
            None => format!("duration = \"{minutes}m\""),
        };
        let w = window(cron, zone, &end);
        // Four days either side: enough for every span here that ends.
        let (from, to) = (t - Duration::days(4), t + Duration::days(4));
        let want = brute(&w, from, t, to);
        let got = w.schedule.containing(t).map(|o| (w.schedule.span_start(o, from), w.schedule.span_end(o, to)));
        match (want, got) {
            (None, None) => {}
            (Some((ws, we)), Some((gs, ge))) => {
                prop_assert_eq!(ge, we, "end of the span through {} ({} in {}, {})", t, cron, zone, end);
                // A span starting before `from` shows the earliest start the walk saw.
                if ws > from {
                    prop_assert_eq!(gs, ws, "start of the span through {} ({} in {}, {})", t, cron, zone, end);
                }
            }
            (want, got) => prop_assert!(false, "{} in {} ({}) at {}: brute {:?}, merged {:?}", cron, zone, end, t, want, got),
        }
    }
}

/// The freeze written as `* * * * *` with one minute is always on: one span,
/// with no end within a year where clocks never go back.
#[test]
fn a_permanent_freeze_of_one_minute_occurrences_is_one_span() {
    let t = Utc.with_ymd_and_hms(2026, 11, 27, 18, 0, 0).single().expect("t");
    for zone in ["UTC", "Asia/Tokyo"] {
        let w = window("* * * * *", zone, "duration = \"1m\"");
        assert_eq!(w.schedule.active_until(t, t + Duration::days(366)), Some(None), "{zone}");
        assert_eq!(w.schedule.spans(t, t + Duration::days(7), 100).len(), 1, "{zone}");
    }
}

/// Where clocks go back, the repeated hour's wall times mean their first
/// instant only, so a minute-by-minute freeze has a gap of one hour then:
/// the span ends at New York's fall-back night (01:59 EDT + 1 minute).
#[test]
fn a_minute_by_minute_freeze_breaks_only_in_the_repeated_hour() {
    let w = window("* * * * *", "America/New_York", "duration = \"1m\"");
    let t = Utc.with_ymd_and_hms(2026, 11, 27, 18, 0, 0).single().expect("t");
    let end = Utc.with_ymd_and_hms(2027, 11, 7, 6, 0, 0).single().expect("end");
    assert_eq!(w.schedule.active_until(t, t + Duration::days(366)), Some(Some(end)));
    // And the next span starts at 02:00 EST, an hour later.
    let next = w.schedule.next_after(end, end + Duration::days(1)).expect("next");
    assert_eq!(next.start, Utc.with_ymd_and_hms(2027, 11, 7, 7, 0, 0).single().expect("t"));
}
