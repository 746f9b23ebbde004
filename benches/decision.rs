//! One decision, including next_allowed_at, against 10,000 windows and 1,000
//! teams. Target: at most 20 µs median.

use chrono::{DateTime, Duration, Utc};
use std::hint::black_box;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use deploy_gate::config::load_texts;
use deploy_gate::policy::{Name, Rules, Target, decide};

const ZONES: &[&str] = &["UTC", "Europe/Berlin", "America/New_York", "Australia/Sydney", "Asia/Tokyo"];

/// 10,000 windows: 9,980 scoped to one of 1,000 teams, 20 for every team.
pub fn big_config() -> String {
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
    for t in 0..1000 {
        let status = ["green", "green", "yellow", "red"][t % 4];
        let plan =
            if status == "yellow" { "plan = \"https://tracker.example/P-1\"\nplan_due = \"2027-06-30\"\n" } else { "" };
        out.push_str(&format!("[[teams]]\nname = \"team-{t}\"\nstatus = \"{status}\"\n{plan}\n"));
    }
    out.push_str("[policy.environments.production]\nred = \"warn\"\nyellow = \"warn\"\n");
    out
}

fn rules() -> Rules {
    let text = big_config();
    load_texts(&[("bench.toml", &text)], &[]).expect("bench config is valid").rules()
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
        "config of {} windows and {} teams compiled in {:?}",
        rules.windows().len(),
        rules.team_count(),
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
}

criterion_group!(benches, bench);
criterion_main!(benches);
