//! Invariants of the decision engine over random windows and instants.

use chrono::{DateTime, Duration, Utc};
use deploy_gate::config::load_texts;
use deploy_gate::policy::{Name, Rules, Target, decide};
use proptest::prelude::*;

const ZONES: &[&str] =
    &["UTC", "America/New_York", "Europe/London", "Australia/Sydney", "Australia/Lord_Howe", "America/Santiago"];

#[derive(Debug, Clone)]
enum Form {
    Duration { cron: String, minutes: i64 },
    EndCron { cron: String, end_cron: String },
    Once { start_offset_minutes: i64, minutes: i64 },
}

#[derive(Debug, Clone)]
struct Def {
    allow: bool,
    zone: &'static str,
    form: Form,
}

fn cron() -> impl Strategy<Value = String> {
    let minute = prop::sample::select(vec!["0", "15", "30", "45", "*/20"]);
    let hour = prop::sample::select(vec!["*", "0", "1", "2", "3", "9", "17", "22", "*/6", "1-5"]);
    let dom = prop::sample::select(vec!["*", "*", "*", "1", "15", "1-7"]);
    let dow = prop::sample::select(vec!["*", "*", "MON-FRI", "FRI", "0", "6,0", "2-4"]);
    (minute, hour, dom, dow).prop_map(|(m, h, d, w)| format!("{m} {h} {d} * {w}"))
}

fn def() -> impl Strategy<Value = Def> {
    let form = prop_oneof![
        (cron(), 10i64..4000).prop_map(|(cron, minutes)| Form::Duration { cron, minutes }),
        (cron(), cron()).prop_map(|(cron, end_cron)| Form::EndCron { cron, end_cron }),
        (-3000i64..6000, 10i64..5000).prop_map(|(s, m)| Form::Once { start_offset_minutes: s, minutes: m }),
    ];
    (prop::bool::weighted(0.25), prop::sample::select(ZONES), form).prop_map(|(allow, zone, form)| Def {
        allow,
        zone,
        form,
    })
}

fn config(defs: &[Def], t: DateTime<Utc>) -> String {
    let mut out = String::new();
    for (i, d) in defs.iter().enumerate() {
        out.push_str(&format!(
            "[[windows]]\nid = \"w{i}\"\nkind = \"{}\"\ntimezone = \"{}\"\n",
            if d.allow { "allow" } else { "deny" },
            d.zone
        ));
        match &d.form {
            Form::Duration { cron, minutes } => {
                out.push_str(&format!("cron = \"{cron}\"\nduration = \"{minutes}m\"\n"))
            }
            Form::EndCron { cron, end_cron } => {
                out.push_str(&format!("cron = \"{cron}\"\nend_cron = \"{end_cron}\"\n"))
            }
            Form::Once { start_offset_minutes, minutes } => {
                let s = t + Duration::minutes(*start_offset_minutes);
                let e = s + Duration::minutes(*minutes);
                out.push_str(&format!("start = \"{}\"\nend = \"{}\"\n", s.to_rfc3339(), e.to_rfc3339()));
            }
        }
    }
    out.push_str("[[teams]]\nname = \"payments\"\nstatus = \"green\"\n");
    out
}

fn target() -> Target {
    Target {
        team: Name::parse("team", "payments").expect("team"),
        service: None,
        environment: Name::parse("environment", "production").expect("environment"),
    }
}

/// The same rules compiled again, with nothing remembered.
fn rules_again(defs: &[Def], t: DateTime<Utc>) -> Rules {
    rules(defs, t)
}

fn rules(defs: &[Def], t: DateTime<Utc>) -> Rules {
    load_texts(&[("prop.toml", &config(defs, t))], &[]).expect("generated config is valid").rules()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// When `next_allowed_at` is given, the decision there is allow, and no
    /// sampled instant before it is.
    #[test]
    fn the_decision_at_next_allowed_at_is_allow_and_none_before_it_is(
        defs in prop::collection::vec(def(), 1..6),
        // Instants spread over 2026, DST nights included.
        offset_minutes in 0i64..(365 * 24 * 60),
        expected_minutes in prop::option::of(1i64..360),
        samples in prop::collection::vec(0.0f64..1.0, 12),
    ) {
        let t = DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z").expect("t").with_timezone(&Utc)
            + Duration::minutes(offset_minutes);
        let rules = rules(&defs, t);
        let expected = expected_minutes.map(Duration::minutes);
        let d = decide(&rules, &target(), t, expected, &[]);
        if d.allowed {
            prop_assert_eq!(d.next_allowed_at, Some(t));
        }
        if let Some(next) = d.next_allowed_at {
            prop_assert!(next >= t);
            let there = decide(&rules, &target(), next, expected, &[]);
            prop_assert!(there.allowed, "denied at next_allowed_at {}: {}", next, there.reason);
            let span = (next - t).num_seconds();
            for s in &samples {
                let between = t + Duration::seconds((span as f64 * s) as i64);
                if between < next {
                    let d = decide(&rules, &target(), between, expected, &[]);
                    prop_assert!(!d.allowed, "allowed at {} before next_allowed_at {}", between, next);
                    // Occurrence searches remembered from the decisions above
                    // give the same answer as a fresh start.
                    let fresh = decide(&rules_again(&defs, t), &target(), between, expected, &[]);
                    prop_assert_eq!(d.next_allowed_at, fresh.next_allowed_at);
                    prop_assert_eq!(d.reason, fresh.reason);
                }
            }
        }
    }

    /// A denial by windows alone always lists a reason, and every
    /// `window_active` reason's window does contain the instant.
    #[test]
    fn every_window_active_reason_names_a_window_open_at_that_instant(
        defs in prop::collection::vec(def(), 1..6),
        offset_minutes in 0i64..(365 * 24 * 60),
    ) {
        let t = DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z").expect("t").with_timezone(&Utc)
            + Duration::minutes(offset_minutes);
        let rules = rules(&defs, t);
        let d = decide(&rules, &target(), t, None, &[]);
        prop_assert_eq!(d.allowed, d.reasons.is_empty());
        for r in d.reasons.iter().filter(|r| r.code.as_str() == "window_active") {
            let id = r.window_id.as_deref().expect("window id");
            let w = rules.window(id).expect("window exists");
            prop_assert!(w.containing(t).is_some(), "{} not open at {}", id, t);
            if let Some(until) = r.until {
                prop_assert!(until > t);
                prop_assert!(w.containing(until).is_none(), "{} still open at its until {}", id, until);
            }
        }
    }
}
