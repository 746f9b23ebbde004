//! Health checks and process maps in config files, and the rule that keeps
//! health data away from decisions, checked in the source itself.

use std::path::{Path, PathBuf};

use deploy_gate::config::load_texts;
use deploy_gate::process_maps::StepKind;

fn problems(files: &[(&str, &str)]) -> Vec<String> {
    match load_texts(files, &[]) {
        Ok(_) => panic!("the config should be refused"),
        Err(p) => p.iter().map(ToString::to_string).collect(),
    }
}

#[test]
fn without_a_health_table_teams_vote_on_the_ten_classic_topics() {
    let config = load_texts(&[("t.toml", "[[teams]]\nname = \"a\"\n")], &[]).expect("valid");
    assert_eq!(config.health.min_votes, 3);
    assert_eq!(config.health.topics.len(), 10);
    assert!(config.processes.is_empty());
}

#[test]
fn a_classic_topic_needs_only_its_id_and_ones_own_need_their_words() {
    let text = r#"
[health]
min_votes = 5

[[health.topics]]
id = "fun"

[[health.topics]]
id = "on-call"
title = "On-call"
green = "Calm nights"
red = "Burnt out"
"#;
    let config = load_texts(&[("h.toml", text)], &[]).expect("valid");
    assert_eq!(config.health.min_votes, 5);
    assert_eq!(config.health.topic_ids(), ["fun", "on-call"]);
    assert_eq!(config.health.topics[0].title, "Fun");
    assert_eq!(config.health.topics[1].red, "Burnt out");
}

#[test]
fn health_mistakes_are_named_with_file_field_and_line() {
    let text = r#"[health]
min_votes = 0
minvotes = 3

[[health.topics]]
id = "on-call"
title = "On-call"

[[health.topics]]
id = "fun"

[[health.topics]]
id = "fun"

[[health.topics]]
id = "Not An Id"
title = "x"
green = "x"
red = "x"
"#;
    let p = problems(&[("h.toml", text)]);
    let has = |needle: &str| assert!(p.iter().any(|l| l.contains(needle)), "no `{needle}` in {p:#?}");
    has("h.toml: health.min_votes: 0 is out of range; give 1 to 1000 (line 2)");
    has("health.minvotes: unknown field; did you mean `min_votes`? (line 3)");
    has("health.topics[on-call].green: is required");
    has("health.topics[on-call].red: is required");
    has("health.topics[fun].id: is already used by another topic");
    has("health.topics[Not An Id].id:");
    // [health] stands in one file.
    let twice = problems(&[("a.toml", "[health]\nmin_votes = 2\n"), ("b.toml", "[health]\nmin_votes = 3\n")]);
    assert!(twice.iter().any(|l| l.contains("b.toml: health: [health] is also in a.toml")), "{twice:#?}");
}

#[test]
fn process_steps_are_read_in_order_and_their_mistakes_named() {
    let text = r#"
[[teams]]
name = "Checkout"

[[teams.process]]
name = "Code"
kind = "work"
typical = "1d 12h"

[[teams.process]]
name = "Review queue"
kind = "wait"
typical = "2d"
pain = "Reviewers are busy"
"#;
    let config = load_texts(&[("t.toml", text)], &[]).expect("valid");
    let map = &config.processes["checkout"];
    assert_eq!(map.steps.len(), 2);
    assert_eq!((map.steps[0].kind, map.steps[0].typical_seconds), (StepKind::Work, 129_600));
    assert_eq!(map.steps[1].pain.as_deref(), Some("Reviewers are busy"));

    let bad = r#"
[[teams]]
name = "checkout"

[[teams.process]]
name = "Code"
kind = "working"
typical = "1d"

[[teams.process]]
kind = "wait"
typical = "soon"
pian = "typo"
"#;
    let p = problems(&[("t.toml", bad)]);
    let has = |needle: &str| assert!(p.iter().any(|l| l.contains(needle)), "no `{needle}` in {p:#?}");
    has("teams[checkout].process[0].kind: `working` is not a kind of step; use work or wait");
    has("teams[checkout].process[1].name: is required");
    has("teams[checkout].process[1].typical: `soon` is not a duration");
    has("teams[checkout].process[1].pian: unknown field; did you mean `pain`?");
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("source directory") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The decision engine (`src/policy/`, the decision path in `src/gate/`)
/// never names the health check module, so no health data can reach a
/// decision; and the routes that show health data name no risk status,
/// scorecard or decision.
#[test]
fn the_decision_engine_cannot_reach_health_data() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut engine = Vec::new();
    rust_files(&src.join("policy"), &mut engine);
    engine.push(src.join("gate/decisions.rs"));
    engine.push(src.join("gate/overrides.rs"));
    engine.push(src.join("gate/scorecard.rs"));
    assert!(engine.len() > 5);
    for file in &engine {
        let text = std::fs::read_to_string(file).expect("source");
        for needle in ["health_checks", "HealthSettings", "Session", "process_maps"] {
            assert!(!text.contains(needle), "{} names `{needle}`", file.display());
        }
    }
    for page in ["http/routes/health_checks.rs", "http/routes/health_map_page.rs"] {
        let text = std::fs::read_to_string(src.join(page)).expect("source");
        for needle in ["scorecard", "decide", "Decision", "team_status", "effective", "blame", "audit_records"] {
            assert!(!text.contains(needle), "{page} names `{needle}`: health data shown beside risk or decisions");
        }
    }
    // Only those two route modules touch health data.
    let mut routes = Vec::new();
    rust_files(&src.join("http"), &mut routes);
    for file in routes {
        let text = std::fs::read_to_string(&file).expect("source");
        let name = file.strip_prefix(&src).expect("under src").to_string_lossy().replace('\\', "/");
        if text.contains("health_checks::")
            && !name.ends_with("routes/health_checks.rs")
            && !name.ends_with("health_map_page.rs")
        {
            assert!(
                ["http/startup.rs", "http/openapi.rs"].contains(&name.as_str()),
                "{name} reads health data; only the health check routes may"
            );
        }
    }
}

/// A capped read keeps the newest sessions (the ones the map and trends
/// need), handed back oldest first.
#[tokio::test]
async fn a_capped_read_keeps_the_newest_sessions() {
    use deploy_gate::store::{AuditEntry, HealthCheckRow, HealthChecks, Store};
    let dir = tempfile::tempdir().expect("dir");
    let store = Store::open(&format!("sqlite://{}", dir.path().join("g.db").display())).await.expect("store");
    for date in ["2026-03-01", "2026-01-01", "2026-02-01"] {
        let row = HealthCheckRow { id: format!("a-{date}"), team: "a".into(), date: date.into(), record: "{}".into() };
        let entry = AuditEntry {
            kind: "health_check.recorded".into(),
            at: chrono::Utc::now(),
            actor: None,
            team: Some("a".into()),
            environment: None,
            details: serde_json::json!({}),
        };
        assert!(store.add_health_check(&row, &entry).await.expect("add"));
    }
    for team in [Some("a"), None] {
        let dates: Vec<String> =
            store.health_checks(team, 2).await.expect("read").into_iter().map(|r| r.date).collect();
        assert_eq!(dates, ["2026-02-01", "2026-03-01"]);
    }
}
