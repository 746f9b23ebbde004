//! The dashboard stays small however much the gate holds.

use chrono::{Duration, TimeZone, Utc};
use deploy_gate::config::load_texts;
use deploy_gate::gate::DecisionRecord;
use deploy_gate::http::routes::dashboard::render;
use deploy_gate::policy::{Name, Override, Target, Verdict};

/// 10,000 windows over 40 environments, 1,000 teams (half red), 1,000 overrides.
#[test]
fn the_dashboard_stays_under_300_kb_with_10000_windows_1000_teams_and_1000_overrides() {
    let mut text = String::new();
    for i in 0..10_000 {
        text.push_str(&format!(
            "[[windows]]\nid = \"w{i}\"\ncron = \"{} {} * * *\"\nduration = \"{}h\"\nenvironments = [\"env-{}\"]\nteams = [\"team-{}\"]\nreason = \"A long enough reason for window {i}\"\n",
            i % 60,
            i % 24,
            1 + i % 20,
            i % 40,
            i % 1000
        ));
    }
    for t in 0..1000 {
        text.push_str(&format!("[[teams]]\nname = \"team-{t}\"\nstatus = \"{}\"\n", ["green", "red"][t % 2]));
    }
    let rules = load_texts(&[("big.toml", &text)], &[]).expect("valid").rules();
    let now = Utc.with_ymd_and_hms(2026, 11, 27, 12, 0, 0).single().expect("now");
    let name = |s: &str| Name::parse("name", s).expect("name");
    let overrides: Vec<Override> = (0..1000)
        .map(|i| Override {
            id: format!("ovr-{i}"),
            team: name(&format!("team-{i}")),
            service: None,
            environment: name("env-1"),
            reason: "Hotfix for an outage with a ticket".into(),
            ticket: Some(format!("INC-{i}")),
            created_by: "oncall".into(),
            created_at: now - Duration::minutes(5),
            expires_at: now + Duration::hours(1),
            revoked_at: None,
            revoked_by: None,
        })
        .collect();
    let refs: Vec<&Override> = overrides.iter().collect();
    let decisions: Vec<_> = (0..20)
        .map(|i| {
            let record = DecisionRecord {
                decision_id: format!("d{i}"),
                target: Target { team: name("team-1"), service: None, environment: name("env-1") },
                allowed: false,
                decision: Verdict::Deny,
                reasons: vec![],
                warnings: vec![],
                overridden: vec![],
                override_id: None,
                next_allowed_at: None,
                actor: Some("ci".into()),
                token: None,
                pipeline_url: None,
                commit: None,
            };
            (now, record)
        })
        .collect();
    let html = render(&rules, &refs, &decisions, now);
    for id in ["frozen", "timeline", "teams", "overrides", "decisions"] {
        let start = html.find(&format!("<section id=\"{id}\"")).expect("section");
        let end = start + html[start..].find("</section>").expect("end");
        eprintln!("{id}: {} bytes", end - start);
    }
    assert!(html.len() < 300_000, "{} bytes", html.len());
    assert!(html.contains("more environments"), "the environments beyond the first dozen are summarised");
    assert!(html.contains("950 more"), "overrides beyond the first 50 are counted, not listed");
}
