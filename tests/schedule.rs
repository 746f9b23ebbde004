//! The cron dialect and wall-time rules of docs/config.md ("Cron dialect", "Time rules"), as tables.

use chrono::{DateTime, Utc};
use deploy_gate::config::window_from_table;
use deploy_gate::policy::{Source, Window};
use deploy_gate::schedule::{CronExpr, Zone, first_start_after, last_start_at_or_before};

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).expect("test instant").with_timezone(&Utc)
}

fn fmt(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// The next `n` instants of `expr` in `zone` strictly after `from`.
fn next_n(expr: &str, zone: &str, from: &str, n: usize) -> Vec<String> {
    let cron = CronExpr::parse(expr).unwrap_or_else(|e| panic!("{expr}: {e}"));
    let zone = Zone::parse(zone).expect("zone");
    let mut t = at(from);
    let mut out = Vec::new();
    for _ in 0..n {
        match first_start_after(&cron, &zone, t, t + chrono::Duration::days(3000)) {
            Some(next) => {
                out.push(fmt(next));
                t = next;
            }
            None => break,
        }
    }
    out
}

#[test]
fn cron_dialect_fields_lists_ranges_steps_names_and_macros() {
    // (expression, from, the next instants in UTC)
    let cases: &[(&str, &str, &[&str])] = &[
        ("0 17 * * FRI", "2026-11-26T00:00:00Z", &["2026-11-27T17:00:00Z", "2026-12-04T17:00:00Z"]),
        ("30 0 17 * * FRI", "2026-11-26T00:00:00Z", &["2026-11-27T17:00:30Z"]),
        ("0 9,17 * * *", "2026-11-26T10:00:00Z", &["2026-11-26T17:00:00Z", "2026-11-27T09:00:00Z"]),
        (
            "0 9-11 * * *",
            "2026-11-26T09:30:00Z",
            &["2026-11-26T10:00:00Z", "2026-11-26T11:00:00Z", "2026-11-27T09:00:00Z"],
        ),
        ("*/15 * * * *", "2026-11-26T10:01:00Z", &["2026-11-26T10:15:00Z", "2026-11-26T10:30:00Z"]),
        (
            "0 1-5/2 * * *",
            "2026-11-26T00:00:00Z",
            &["2026-11-26T01:00:00Z", "2026-11-26T03:00:00Z", "2026-11-26T05:00:00Z", "2026-11-27T01:00:00Z"],
        ),
        (
            "5/20 * * * *",
            "2026-11-26T10:00:00Z",
            &["2026-11-26T10:05:00Z", "2026-11-26T10:25:00Z", "2026-11-26T10:45:00Z"],
        ),
        ("0 0 1 JAN,jul *", "2026-11-26T00:00:00Z", &["2027-01-01T00:00:00Z", "2027-07-01T00:00:00Z"]),
        ("0 0 * * mon", "2026-11-26T00:00:00Z", &["2026-11-30T00:00:00Z"]),
        (
            "0 0 * * Mon-Wed",
            "2026-11-26T00:00:00Z",
            &["2026-11-30T00:00:00Z", "2026-12-01T00:00:00Z", "2026-12-02T00:00:00Z", "2026-12-07T00:00:00Z"],
        ),
        // 0 and 7 are both Sunday; 5-7 is Friday to Sunday.
        ("0 0 * * 0", "2026-11-26T00:00:00Z", &["2026-11-29T00:00:00Z"]),
        ("0 0 * * 7", "2026-11-26T00:00:00Z", &["2026-11-29T00:00:00Z"]),
        (
            "0 0 * * 5-7",
            "2026-11-26T00:00:00Z",
            &["2026-11-27T00:00:00Z", "2026-11-28T00:00:00Z", "2026-11-29T00:00:00Z", "2026-12-04T00:00:00Z"],
        ),
        ("0 0 * * 1-5", "2026-11-27T12:00:00Z", &["2026-11-30T00:00:00Z"]),
        // Vixie: both day fields restricted means either matches
        // (the 13th, or any Friday).
        (
            "0 0 13 * FRI",
            "2026-11-26T00:00:00Z",
            &[
                "2026-11-27T00:00:00Z",
                "2026-12-04T00:00:00Z",
                "2026-12-11T00:00:00Z",
                "2026-12-13T00:00:00Z",
                "2026-12-18T00:00:00Z",
            ],
        ),
        // ... but a day-of-month starting with * still ANDs (as in Vixie cron).
        (
            "0 0 */10 * MON",
            "2026-11-26T00:00:00Z",
            &["2026-12-21T00:00:00Z", "2027-01-11T00:00:00Z", "2027-02-01T00:00:00Z"],
        ),
        ("0 0 29 FEB *", "2026-11-26T00:00:00Z", &["2028-02-29T00:00:00Z"]),
        ("@yearly", "2026-11-26T00:00:00Z", &["2027-01-01T00:00:00Z"]),
        ("@annually", "2026-11-26T00:00:00Z", &["2027-01-01T00:00:00Z"]),
        ("@monthly", "2026-11-26T00:00:00Z", &["2026-12-01T00:00:00Z"]),
        ("@weekly", "2026-11-26T00:00:00Z", &["2026-11-29T00:00:00Z"]),
        ("@daily", "2026-11-26T10:00:00Z", &["2026-11-27T00:00:00Z"]),
        ("@midnight", "2026-11-26T10:00:00Z", &["2026-11-27T00:00:00Z"]),
        ("@hourly", "2026-11-26T10:00:00Z", &["2026-11-26T11:00:00Z"]),
        // A step past the range takes the first value only (and must not overflow).
        ("1-5/4294967295 * * * *", "2026-11-26T10:00:00Z", &["2026-11-26T10:01:00Z", "2026-11-26T11:01:00Z"]),
        ("@HOURLY", "2026-11-26T10:00:00Z", &["2026-11-26T11:00:00Z"]),
    ];
    for (expr, from, want) in cases {
        let got = next_n(expr, "UTC", from, want.len());
        assert_eq!(&got, want, "`{expr}` after {from}");
    }
}

/// The calendar repeats every 400 years: windows go on past 2100 (where the
/// cron crate stops) with the right weekdays.
#[test]
fn cron_times_go_on_past_2100() {
    assert_eq!(
        next_n("0 17 * * FRI", "Europe/Berlin", "2099-12-30T00:00:00Z", 3),
        ["2100-01-01T16:00:00Z", "2100-01-08T16:00:00Z", "2100-01-15T16:00:00Z"]
    );
    assert_eq!(
        next_n("0 0 29 FEB *", "UTC", "2399-01-01T00:00:00Z", 2),
        ["2400-02-29T00:00:00Z", "2404-02-29T00:00:00Z"]
    );
}

#[test]
fn cron_dialect_refuses_what_cannot_work_and_says_why() {
    let cases: &[(&str, &str)] = &[
        ("0 0 30 FEB *", "never fires"),
        ("0 0 31 APR,JUN,SEP,NOV *", "never fires"),
        ("61 * * * *", "minute: `61` is out of range 0-59"),
        ("0 24 * * *", "hour: `24` is out of range 0-23"),
        ("0 0 0 * *", "day-of-month: `0` is out of range 1-31"),
        ("0 0 * 13 *", "month: `13` is out of range 1-12"),
        ("0 0 * * 8", "day-of-week: `8` is out of range 0-7"),
        ("0 0 * * FRX", "day-of-week: `FRX`"),
        ("* * *", "has 3 fields"),
        ("0 0 0 0 0 0 0", "has 7 fields"),
        ("5-1 * * * *", "runs backwards"),
        ("*/0 * * * *", "step in `*/0` must be at least 1"),
        ("*/x * * * *", "step `x`"),
        ("1,,2 * * * *", "empty list item"),
        ("@reboot", "not a known shorthand"),
        ("", "is empty"),
        // More than once a minute: a window opens at most once a minute.
        ("* * * * * *", "fires more than once a minute"),
        ("*/10 * * * * *", "fires more than once a minute"),
        ("0,30 * * * * *", "fires more than once a minute"),
    ];
    for (expr, want) in cases {
        match CronExpr::parse(expr) {
            Ok(_) => panic!("`{expr}` was accepted"),
            Err(e) => assert!(e.to_string().contains(want), "`{expr}`: got `{e}`, want `{want}`"),
        }
    }
}

fn window(toml_text: &str) -> Window {
    let table: toml::Table = toml_text.parse().expect("toml");
    window_from_table(&table, None, 0, Source::Config).unwrap_or_else(|p| panic!("{p:?}"))
}

/// Occurrences of a window overlapping `[from, to)`, as "start/end" in UTC.
fn occurrences(w: &Window, from: &str, to: &str) -> Vec<String> {
    w.schedule.occurrences(at(from), at(to), 100).iter().map(|o| format!("{}/{}", fmt(o.start), fmt(o.end))).collect()
}

struct DstCase {
    what: &'static str,
    window: &'static str,
    from: &'static str,
    to: &'static str,
    want: &'static [&'static str],
}

/// For each zone: a spring-forward gap and a repeated fall-back hour, for
/// the three schedule forms.
const DST_NIGHTS: &[DstCase] = &[
    // America/New_York: 2026-03-08 02:00 EST -> 03:00 EDT; 2026-11-01 02:00 EDT -> 01:00 EST.
    DstCase {
        what: "New York gap: 02:30 is read as EST, i.e. 03:30 EDT, not skipped",
        window: r#"id = "w"
timezone = "America/New_York"
cron = "30 2 * * *"
duration = "1h""#,
        from: "2026-03-07T00:00:00Z",
        to: "2026-03-10T00:00:00Z",
        want: &[
            "2026-03-07T07:30:00Z/2026-03-07T08:30:00Z",
            "2026-03-08T07:30:00Z/2026-03-08T08:30:00Z",
            "2026-03-09T06:30:00Z/2026-03-09T07:30:00Z",
        ],
    },
    DstCase {
        what: "New York repeated hour: 01:30 is the first (EDT) one, once",
        window: r#"id = "w"
timezone = "America/New_York"
cron = "30 1 * * *"
duration = "30m""#,
        from: "2026-10-31T00:00:00Z",
        to: "2026-11-03T00:00:00Z",
        want: &[
            "2026-10-31T05:30:00Z/2026-10-31T06:00:00Z",
            "2026-11-01T05:30:00Z/2026-11-01T06:00:00Z",
            "2026-11-02T06:30:00Z/2026-11-02T07:00:00Z",
        ],
    },
    DstCase {
        what: "New York duration is elapsed time across the gap",
        window: r#"id = "w"
timezone = "America/New_York"
cron = "0 1 8 3 *"
duration = "2h""#,
        from: "2026-03-01T00:00:00Z",
        to: "2026-03-10T00:00:00Z",
        want: &["2026-03-08T06:00:00Z/2026-03-08T08:00:00Z"],
    },
    DstCase {
        what: "New York end_cron inside the gap ends at the gap time read as EST",
        window: r#"id = "w"
timezone = "America/New_York"
cron = "0 1 8 3 *"
end_cron = "30 2 * * *""#,
        from: "2026-03-01T00:00:00Z",
        to: "2026-03-10T00:00:00Z",
        want: &["2026-03-08T06:00:00Z/2026-03-08T07:30:00Z"],
    },
    DstCase {
        what: "New York one-off from the first 01:30 to 02:30 EST is two hours",
        window: r#"id = "w"
timezone = "America/New_York"
start = "2026-11-01T01:30:00"
end = "2026-11-01T02:30:00""#,
        from: "2026-10-31T00:00:00Z",
        to: "2026-11-03T00:00:00Z",
        want: &["2026-11-01T05:30:00Z/2026-11-01T07:30:00Z"],
    },
    // Europe/London: 2026-03-29 01:00 GMT -> 02:00 BST; 2026-10-25 02:00 BST -> 01:00 GMT.
    DstCase {
        what: "London gap: 01:30 on 29 March is 01:30 GMT",
        window: r#"id = "w"
timezone = "Europe/London"
cron = "30 1 * * *"
duration = "15m""#,
        from: "2026-03-28T00:00:00Z",
        to: "2026-03-31T00:00:00Z",
        want: &[
            "2026-03-28T01:30:00Z/2026-03-28T01:45:00Z",
            "2026-03-29T01:30:00Z/2026-03-29T01:45:00Z",
            "2026-03-30T00:30:00Z/2026-03-30T00:45:00Z",
        ],
    },
    DstCase {
        what: "London repeated hour with end_cron: 01:00 BST to the first 01:45 (BST)",
        window: r#"id = "w"
timezone = "Europe/London"
cron = "0 1 25 10 *"
end_cron = "45 1 * * *""#,
        from: "2026-10-24T00:00:00Z",
        to: "2026-10-27T00:00:00Z",
        want: &["2026-10-25T00:00:00Z/2026-10-25T00:45:00Z"],
    },
    DstCase {
        what: "London one-off across the gap",
        window: r#"id = "w"
timezone = "Europe/London"
start = "2026-03-29T00:30:00"
end = "2026-03-29T01:30:00""#,
        from: "2026-03-28T00:00:00Z",
        to: "2026-03-31T00:00:00Z",
        want: &["2026-03-29T00:30:00Z/2026-03-29T01:30:00Z"],
    },
    // Australia/Sydney: 2026-04-05 03:00 AEDT -> 02:00 AEST; 2026-10-04 02:00 AEST -> 03:00 AEDT.
    DstCase {
        what: "Sydney gap: 02:30 on 4 October is read as AEST",
        window: r#"id = "w"
timezone = "Australia/Sydney"
cron = "30 2 * * *"
duration = "1h""#,
        from: "2026-10-02T00:00:00Z",
        to: "2026-10-05T00:00:00Z",
        want: &[
            "2026-10-02T16:30:00Z/2026-10-02T17:30:00Z",
            "2026-10-03T16:30:00Z/2026-10-03T17:30:00Z",
            "2026-10-04T15:30:00Z/2026-10-04T16:30:00Z",
        ],
    },
    DstCase {
        what: "Sydney repeated hour: 02:30 on 5 April is the AEDT one",
        window: r#"id = "w"
timezone = "Australia/Sydney"
cron = "30 2 5 4 *"
end_cron = "0 4 * * *""#,
        from: "2026-04-03T00:00:00Z",
        to: "2026-04-06T00:00:00Z",
        want: &["2026-04-04T15:30:00Z/2026-04-04T18:00:00Z"],
    },
    DstCase {
        what: "Sydney one-off over the repeated hour",
        window: r#"id = "w"
timezone = "Australia/Sydney"
start = "2026-04-05T02:00:00"
end = "2026-04-05T03:00:00""#,
        from: "2026-04-03T00:00:00Z",
        to: "2026-04-06T00:00:00Z",
        want: &["2026-04-04T15:00:00Z/2026-04-04T17:00:00Z"],
    },
    // Australia/Lord_Howe: half-hour shifts. 2026-04-05 02:00 +11 -> 01:30 +10:30;
    // 2026-10-04 02:00 +10:30 -> 02:30 +11.
    DstCase {
        what: "Lord Howe half-hour gap: 02:15 is read as +10:30",
        window: r#"id = "w"
timezone = "Australia/Lord_Howe"
cron = "15 2 * * *"
duration = "10m""#,
        from: "2026-10-02T00:00:00Z",
        to: "2026-10-05T00:00:00Z",
        want: &[
            "2026-10-02T15:45:00Z/2026-10-02T15:55:00Z",
            "2026-10-03T15:45:00Z/2026-10-03T15:55:00Z",
            "2026-10-04T15:15:00Z/2026-10-04T15:25:00Z",
        ],
    },
    DstCase {
        what: "Lord Howe repeated half hour: 01:45 is the +11 one",
        window: r#"id = "w"
timezone = "Australia/Lord_Howe"
cron = "45 1 * * *"
end_cron = "15 2 * * *""#,
        from: "2026-04-03T00:00:00Z",
        to: "2026-04-06T00:00:00Z",
        want: &[
            "2026-04-03T14:45:00Z/2026-04-03T15:15:00Z",
            "2026-04-04T14:45:00Z/2026-04-04T15:45:00Z",
            "2026-04-05T15:15:00Z/2026-04-05T15:45:00Z",
        ],
    },
    DstCase {
        what: "Lord Howe one-off starting in the gap",
        window: r#"id = "w"
timezone = "Australia/Lord_Howe"
start = "2026-10-04T02:15:00"
end = "2026-10-04T03:00:00""#,
        from: "2026-10-02T00:00:00Z",
        to: "2026-10-05T00:00:00Z",
        want: &["2026-10-03T15:45:00Z/2026-10-03T16:00:00Z"],
    },
    // America/Santiago: midnight changes. 2026-04-05 00:00 -03 -> 2026-04-04 23:00 -04;
    // 2026-09-06 00:00 -04 -> 01:00 -03.
    DstCase {
        what: "Santiago: a midnight freeze on the night midnight does not exist still happens",
        window: r#"id = "w"
timezone = "America/Santiago"
cron = "0 0 * * *"
duration = "2h""#,
        from: "2026-09-05T00:00:00Z",
        to: "2026-09-08T00:00:00Z",
        want: &[
            "2026-09-05T04:00:00Z/2026-09-05T06:00:00Z",
            "2026-09-06T04:00:00Z/2026-09-06T06:00:00Z",
            "2026-09-07T03:00:00Z/2026-09-07T05:00:00Z",
        ],
    },
    DstCase {
        what: "Santiago repeated hour: 23:30 on 4 April is the -03 one",
        window: r#"id = "w"
timezone = "America/Santiago"
cron = "30 23 4 4 *"
end_cron = "30 23 * * *""#,
        from: "2026-04-03T00:00:00Z",
        to: "2026-04-07T00:00:00Z",
        want: &["2026-04-05T02:30:00Z/2026-04-06T03:30:00Z"],
    },
    DstCase {
        what: "Santiago one-off from the gap to after it",
        window: r#"id = "w"
timezone = "America/Santiago"
start = "2026-09-06T00:30:00"
end = "2026-09-06T02:00:00""#,
        from: "2026-09-05T00:00:00Z",
        to: "2026-09-08T00:00:00Z",
        want: &["2026-09-06T04:30:00Z/2026-09-06T05:00:00Z"],
    },
];

#[test]
fn occurrences_across_dst_nights_in_five_zones_for_all_three_forms() {
    for case in DST_NIGHTS {
        let w = window(case.window);
        assert_eq!(occurrences(&w, case.from, case.to), case.want, "{}", case.what);
    }
}

#[test]
fn containing_and_next_agree_with_the_listed_occurrences_through_dst_nights() {
    // Every listed occurrence contains its start and the instant before its
    // end, and next_after(start - 1s) finds it.
    for case in DST_NIGHTS {
        let w = window(case.window);
        for o in w.schedule.occurrences(at(case.from), at(case.to), 100) {
            let second = chrono::Duration::seconds(1);
            assert!(w.schedule.containing(o.start).is_some(), "{}: start contained", case.what);
            assert!(w.schedule.containing(o.end - second).is_some(), "{}: end - 1s contained", case.what);
            let next = w.schedule.next_after(o.start - second, o.start + second);
            assert_eq!(next.map(|n| n.start), Some(o.start), "{}: next_after finds it", case.what);
        }
    }
}

#[test]
fn end_cron_ends_at_the_first_instant_strictly_after_the_start() {
    // Both fire at 09:00: an occurrence never ends where it starts, it runs
    // to the next day's 09:00.
    let w = window("id = \"w\"\ncron = \"0 9 * * *\"\nend_cron = \"0 9 * * *\"");
    assert_eq!(
        occurrences(&w, "2026-11-26T10:00:00Z", "2026-11-27T10:00:00Z"),
        ["2026-11-26T09:00:00Z/2026-11-27T09:00:00Z", "2026-11-27T09:00:00Z/2026-11-28T09:00:00Z"]
    );
}

#[test]
fn repeated_hour_never_answers_a_time_before_now() {
    // 06:15Z is 01:15 EST, the second pass of 01:xx on 2026-11-01 in New York.
    let cron = CronExpr::parse("30 1 * * *").expect("cron");
    let zone = Zone::parse("America/New_York").expect("zone");
    let t = at("2026-11-01T06:15:00Z");
    let next = first_start_after(&cron, &zone, t, t + chrono::Duration::days(10));
    assert_eq!(next.map(fmt).as_deref(), Some("2026-11-02T06:30:00Z"));
    let last = last_start_at_or_before(&cron, &zone, t, t - chrono::Duration::days(10));
    assert_eq!(last.map(fmt).as_deref(), Some("2026-11-01T05:30:00Z"));
}

#[test]
fn wall_times_in_a_gap_keep_their_order_with_the_next_wall_times() {
    // Every 15 minutes in New York through the gap: 02:00-02:45 read as EST
    // land on 03:00-03:45 EDT, the same instants as the real 03:xx wall times.
    // Each instant is answered once and in order.
    let got = next_n("*/15 * * * *", "America/New_York", "2026-03-08T06:40:00Z", 6);
    assert_eq!(
        got,
        [
            "2026-03-08T06:45:00Z",
            "2026-03-08T07:00:00Z",
            "2026-03-08T07:15:00Z",
            "2026-03-08T07:30:00Z",
            "2026-03-08T07:45:00Z",
            "2026-03-08T08:00:00Z"
        ]
    );
}

#[test]
fn unknown_time_zones_are_named_with_close_suggestions() {
    let cases: &[(&str, &str)] = &[
        ("Europe/Berln", "Europe/Berlin"),
        ("europe/berlin", "Europe/Berlin"),
        ("America/New York", "America/New_York"),
        ("Sydney", "Australia/Sydney"),
    ];
    for (name, suggestion) in cases {
        let e = Zone::parse(name).expect_err(name);
        let text = e.to_string();
        assert!(text.contains(&format!("`{name}`")), "{text}");
        assert!(e.suggestions.contains(suggestion), "{name}: {:?}", e.suggestions);
    }
}
