//! One decision, including next_allowed_at, against 10,000 windows and 1,000
//! teams with a scorecard of 30 items each (target: at most 20 µs median),
//! also with freezes written as
//! back-to-back or overlapping occurrences every minute; and the dashboard
//! and a two-week calendar over the same config.

use chrono::{DateTime, Duration, Utc};
use std::hint::black_box;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use deploy_gate::config::load_texts;
use deploy_gate::policy::{Name, Rules, Target, decide};

const ZONES: &[&str] = &["UTC", "Europe/Berlin", "America/New_York", "Australia/Sydney", "Asia/Tokyo"];

/// 10,000 windows: 9,980 scoped to one of 1,000 teams, 20 for every team.
pub fn big_config() -> String {
    big_config_with(true)
}

/// The big config, with or without its scorecard.
pub fn big_config_with(scorecard: bool) -> String {
    let mut out = String::with_capacity(3_000_000);
    for i in 0..10_000 {
        let zone = ZONES[i % ZONES.len()];
        let teams = if i < 20 { "[\"*\"]".to_string() } else { format!("[\"team-{}\"]", i % 1000) };
        let env = if i % 3 == 0 { "[\"staging\"]" } else { "[\"production\", \"prod-*\"]" };
        let kind = if i % 50 == 7 { "allow" } else { "deny" };
        let schedule = match i % 3 {
            0 => format!(
                "cron = \"0 {} * * {}\"\nduration = \"{}h\"",
                i % 24,
                ["MON-FRI", "FRI", "SAT,SUN", "*"][i % 4],
                1 + i % 12
            ),
            1 => format!("cron = \"30 {} * * FRI\"\nend_cron = \"0 8 * * MON\"", 12 + i % 10),
            _ => {
                let day = 1 + i % 28;
                format!(
                    "start = \"2027-0{}-{day:02}T00:00:00\"\nend = \"2027-0{}-{day:02}T12:00:00\"",
                    1 + i % 9,
                    1 + i % 9
                )
            }
        };
        let duration_kind =
            if kind == "allow" { "cron = \"0 22 * * *\"\nduration = \"10h\"".to_string() } else { schedule };
        out.push_str(&format!(
            "[[windows]]\nid = \"w{i}\"\nkind = \"{kind}\"\ntimezone = \"{zone}\"\n{duration_kind}\nteams = {teams}\nenvironments = {env}\n\n"
        ));
    }
    // 30 scorecard items: most gate production, some every environment, a few none.
    for i in (0..30).filter(|_| scorecard) {
        let gates = match i % 10 {
            9 => "gates = []\n",
            _ if i % 3 == 2 => "",
            _ if i % 3 == 1 => "gates = [\"prod*\"]\n",
            _ => "gates = [\"production\"]\n",
        };
        out.push_str(&format!("[[scorecard.items]]\nid = \"item-{i}\"\ntitle = \"Risk item {i}\"\n{gates}\n"));
    }
    for t in 0..1000 {
        let status = ["green", "green", "yellow", "red"][t % 4];
        let plan =
            if status == "yellow" { "plan = \"https://tracker.example/P-1\"\nplan_due = \"2027-06-30\"\n" } else { "" };
        out.push_str(&format!("[[teams]]\nname = \"team-{t}\"\nstatus = \"{status}\"\n{plan}\n"));
        // A cell per item: about 10% red, 20% yellow (a fifth of them overdue), the rest green.
        for i in (0..30).filter(|_| scorecard) {
            let cell = match (t * 31 + i * 7) % 20 {
                0 | 1 => "status = \"red\"\n".to_string(),
                k @ 2..=5 => format!(
                    "status = \"yellow\"\nplan = \"https://tracker.example/R-{i}\"\nplan_due = \"{}\"\n",
                    if k == 5 { "2026-06-30" } else { "2027-06-30" }
                ),
                _ => "status = \"green\"\n".to_string(),
            };
            out.push_str(&format!("[teams.scorecard.item-{i}]\n{cell}\n"));
        }
    }
    out.push_str("[policy.environments.production]\nred = \"warn\"\nyellow = \"warn\"\n");
    out
}

/// Freezes for team-43 that fire every minute: a permanent freeze as
/// one-minute occurrences (in a zone with DST too), overlapping hour-long
/// ones, and five-minute ones back to back during office hours.
const EVERY_MINUTE: &str = r#"
[[windows]]
id = "always-utc"
cron = "* * * * *"
duration = "1m"
teams = ["team-43"]

[[windows]]
id = "always-berlin"
timezone = "Europe/Berlin"
cron = "* * * * *"
duration = "1m"
teams = ["team-43"]

[[windows]]
id = "overlapping"
timezone = "America/New_York"
cron = "* * * * *"
duration = "1h"
teams = ["team-43"]

[[windows]]
id = "office-hours"
timezone = "Europe/London"
cron = "*/5 9-17 * * MON-FRI"
duration = "5m"
teams = ["team-43"]
"#;

fn rules() -> Rules {
    let text = big_config();
    load_texts(&[("bench.toml", &text), ("every-minute.toml", EVERY_MINUTE)], &[])
        .expect("bench config is valid")
        .rules()
}

fn target(team: &str) -> Target {
    Target {
        team: Name::parse("team", team).expect("team"),
        service: Some(Name::parse("service", "api").expect("service")),
        environment: Name::parse("environment", "production").expect("environment"),
    }
}

fn bench(c: &mut Criterion) {
    let started = std::time::Instant::now();
    let rules = rules();
    println!(
        "config of {} windows, {} teams and {} scorecard items compiled in {:?}",
        rules.windows().len(),
        rules.team_count(),
        rules.board().items().len(),
        started.elapsed()
    );
    let t: DateTime<Utc> = "2026-11-27T18:00:00Z".parse().expect("t");
    let frozen = target("team-42");
    let d = decide(&rules, &frozen, t, Some(Duration::minutes(30)), &[]);
    println!("team-42 at {t}: allowed={} reasons={:?} next_allowed_at={:?}", d.allowed, d.codes(), d.next_allowed_at);
    let relevant = rules.windows_for(&frozen);
    let forget = || relevant.iter().for_each(|w| w.memo.clear());
    let expected = Some(Duration::minutes(30));
    // Cold: no earlier occurrence search to reuse, as right after a reload
    // or for a simulation far from now.
    c.bench_function("decision, cold: denied, with next_allowed_at", |b| {
        b.iter_batched(forget, |()| decide(&rules, &frozen, t, expected, &[]), BatchSize::SmallInput)
    });
    // Warm: CI asking about "now", a millisecond later each time.
    let mut now = t;
    c.bench_function("decision, warm: denied, with next_allowed_at", |b| {
        b.iter(|| {
            now += Duration::milliseconds(1);
            decide(&rules, black_box(&frozen), now, expected, &[])
        })
    });
    let quiet: DateTime<Utc> = "2026-11-25T10:00:00Z".parse().expect("t");
    c.bench_function("decision, cold: allowed", |b| {
        b.iter_batched(forget, |()| decide(&rules, &frozen, quiet, None, &[]), BatchSize::SmallInput)
    });
    let mut now = quiet;
    c.bench_function("decision, warm: allowed", |b| {
        b.iter(|| {
            now += Duration::milliseconds(1);
            decide(&rules, black_box(&frozen), now, None, &[])
        })
    });

    let minutes = target("team-43");
    let d = decide(&rules, &minutes, t, expected, &[]);
    println!("team-43 at {t}: allowed={} reasons={:?} next_allowed_at={:?}", d.allowed, d.codes(), d.next_allowed_at);
    let relevant = rules.windows_for(&minutes);
    let forget = || relevant.iter().for_each(|w| w.memo.clear());
    c.bench_function("decision, cold: freezes every minute", |b| {
        b.iter_batched(forget, |()| decide(&rules, &minutes, t, expected, &[]), BatchSize::SmallInput)
    });
    let mut now = t;
    c.bench_function("decision, warm: freezes every minute", |b| {
        b.iter(|| {
            now += Duration::milliseconds(1);
            decide(&rules, black_box(&minutes), now, expected, &[])
        })
    });

    // A team whose scorecard blames several items in production.
    let risky = target("team-7");
    let d = decide(&rules, &risky, quiet, None, &[]);
    let blamed: Vec<usize> = d.warnings.iter().chain(&d.reasons).map(|r| r.items.len()).collect();
    println!("team-7 at {quiet}: allowed={} items blamed per reason={blamed:?}", d.allowed);
    let mut now = quiet;
    c.bench_function("decision, warm: scorecard blames several items", |b| {
        b.iter(|| {
            now += Duration::milliseconds(1);
            decide(&rules, black_box(&risky), now, None, &[])
        })
    });

    // With the week profile of the deploy's service: Wednesday 10:00 is its peak.
    let start: DateTime<Utc> = "2026-11-02T00:00:00Z".parse().expect("t");
    let samples: Vec<deploy_gate::traffic::Sample> = (0..4 * 7 * 24 * 12)
        .map(|i| {
            let at = start + Duration::minutes(5 * i);
            let (day, hour) = (chrono::Datelike::weekday(&at).num_days_from_monday(), chrono::Timelike::hour(&at));
            let requests = match (day, hour) {
                (2, 10) => 2000.0,
                (0..=4, 9..=17) => 500.0,
                _ => 20.0,
            };
            deploy_gate::traffic::Sample { at, requests, errors: None, latency_p95: None }
        })
        .collect();
    let profile = deploy_gate::traffic::Profile::build("api", "bench", deploy_gate::schedule::Zone::utc(), &samples)
        .expect("profile");
    let d = deploy_gate::policy::decide_with_traffic(&rules, &frozen, quiet, None, &[], Some(&profile));
    println!(
        "team-42/api at {quiet} with traffic: warnings={:?}",
        d.warnings.iter().map(|w| w.code.as_str()).collect::<Vec<_>>()
    );
    let mut now = quiet;
    c.bench_function("decision, warm: a peak-traffic warning", |b| {
        b.iter(|| {
            now += Duration::milliseconds(1);
            deploy_gate::policy::decide_with_traffic(&rules, black_box(&frozen), now, None, &[], Some(&profile))
        })
    });

    // The same decision without any scorecard: what the scorecard costs.
    let plain = load_texts(&[("bench.toml", &big_config_with(false))], &[]).expect("valid").rules();
    let mut now = quiet;
    c.bench_function("decision, warm: allowed, no scorecard", |b| {
        b.iter(|| {
            now += Duration::milliseconds(1);
            decide(&plain, black_box(&frozen), now, None, &[])
        })
    });
    let mut now = t;
    c.bench_function("decision, warm: denied, no scorecard", |b| {
        b.iter(|| {
            now += Duration::milliseconds(1);
            decide(&plain, black_box(&frozen), now, expected, &[])
        })
    });
    drop(plain);

    let mut pages = c.benchmark_group("pages");
    pages.sample_size(10);
    pages.bench_function("dashboard, 10,000 windows", |b| {
        b.iter(|| deploy_gate::http::routes::dashboard::render(&rules, &[], &[], black_box(t)))
    });
    let two_weeks = deploy_gate::gate::CalendarQuery {
        from: t,
        to: t + Duration::days(14),
        team: Some(Name::parse("team", "team-43").expect("team")),
        service: None,
        environment: Some(Name::parse("environment", "production").expect("environment")),
    };
    pages.bench_function("calendar, two weeks, one team", |b| {
        b.iter(|| deploy_gate::gate::calendar(&rules, black_box(&two_weeks)).map(|c| c.entries.len()))
    });
    pages.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
