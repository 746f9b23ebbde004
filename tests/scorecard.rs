//! The team scorecard in decisions and in config files, at fixed instants.

use chrono::{DateTime, Utc};
use deploy_gate::config::load_texts;
use deploy_gate::policy::{CellStatus, Decision, Name, Rules, Status, Target, decide};

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).expect("test instant").with_timezone(&Utc)
}

fn rules(text: &str) -> Rules {
    load_texts(&[("test.toml", text)], &[])
        .unwrap_or_else(|p| panic!("config: {}", p.iter().map(|p| p.to_string()).collect::<Vec<_>>().join("\n")))
        .rules()
}

fn problems(files: &[(&str, &str)]) -> Vec<String> {
    match load_texts(files, &[]) {
        Ok(_) => panic!("the config should be refused"),
        Err(p) => p.iter().map(ToString::to_string).collect(),
    }
}

fn ask(rules: &Rules, team: &str, env: &str, t: &str) -> Decision {
    let target = Target {
        team: Name::parse("team", team).expect("team"),
        service: None,
        environment: Name::parse("environment", env).expect("env"),
    };
    decide(rules, &target, at(t), None, &[])
}

fn codes(rs: &[deploy_gate::policy::Reason]) -> Vec<&'static str> {
    rs.iter().map(|r| r.code.as_str()).collect()
}

const SCORECARD: &str = r#"
[policy.environments.production]
red = "deny"
yellow = "warn"

[policy.environments.staging]
red = "warn"
yellow = "allow"

[[scorecard.items]]
id = "rollback"
title = "Rollback in one step"
gates = ["prod*"]

[[scorecard.items]]
id = "monitoring"
title = "Basic monitoring"

[[scorecard.items]]
id = "release-impact"
title = "Release impact known"
gates = []

[[teams]]
name = "payments"
timezone = "Europe/Berlin"

[teams.scorecard.rollback]
status = "yellow"
plan = "https://tracker.example/PAY-40"
plan_due = "2027-01-31"

[teams.scorecard.monitoring]
status = "green"

[teams.scorecard.release-impact]
status = "red"

[[teams]]
name = "search"
status = "green"

[teams.scorecard.monitoring]
status = "red"
"#;

#[test]
fn a_yellow_item_gating_production_warns_with_its_plan_and_due_date() {
    let d = ask(&rules(SCORECARD), "payments", "production", "2027-01-15T10:00:00Z");
    assert!(d.allowed, "{}", d.reason);
    assert_eq!(codes(&d.warnings), ["team_yellow"]);
    let w = &d.warnings[0];
    assert_eq!(w.items.len(), 1, "only the gating, non-green items: {:?}", w.items);
    assert_eq!(&*w.items[0].id, "rollback");
    assert_eq!(w.items[0].status, CellStatus::Yellow);
    assert!(!w.items[0].overdue);
    assert_eq!(w.items[0].plan.as_deref(), Some("https://tracker.example/PAY-40"));
    assert!(w.message.contains("rollback: yellow, plan PAY-40 due 2027-01-31"), "{}", w.message);
}

#[test]
fn a_yellow_item_past_its_due_date_counts_as_red_and_is_blamed_as_overdue() {
    let rules = rules(SCORECARD);
    // The due date ends at midnight in the team's zone (Berlin, UTC+1 in winter).
    let before = ask(&rules, "payments", "production", "2027-01-31T22:59:59Z");
    assert!(before.allowed, "{}", before.reason);
    let d = ask(&rules, "payments", "production", "2027-01-31T23:00:00Z");
    assert!(!d.allowed);
    assert_eq!(codes(&d.reasons), ["plan_overdue"]);
    let r = &d.reasons[0];
    assert_eq!(r.items[0].status, CellStatus::Red);
    assert!(r.items[0].overdue);
    assert!(r.message.contains("rollback: plan PAY-40 overdue since 2027-01-31"), "{}", r.message);
    assert!(d.reason.contains("rollback: plan PAY-40 overdue since 2027-01-31"), "{}", d.reason);
    // A risk status is not lifted by waiting.
    assert_eq!(d.next_allowed_at, None);
}

#[test]
fn items_count_only_where_they_gate() {
    let rules = rules(SCORECARD);
    // rollback gates prod* only; release-impact ([]) gates nowhere, so staging is clear.
    let d = ask(&rules, "payments", "staging", "2027-03-01T10:00:00Z");
    assert!(d.allowed && d.warnings.is_empty(), "{}", d.reason);
    // monitoring gates everywhere: red in staging is a warning there, a reason in production.
    let d = ask(&rules, "search", "staging", "2027-03-01T10:00:00Z");
    assert!(d.allowed);
    assert_eq!(codes(&d.warnings), ["team_red"]);
    assert_eq!(&*d.warnings[0].items[0].id, "monitoring");
    let d = ask(&rules, "search", "production", "2027-03-01T10:00:00Z");
    assert_eq!(codes(&d.reasons), ["team_red"]);
    assert!(d.reasons[0].message.contains("monitoring: red, no plan"), "{}", d.reasons[0].message);
    // An environment only a pattern names (prod-eu matches prod*; its policy
    // is the default, red = warn): the overdue rollback plan is a warning.
    let d = ask(&rules, "payments", "prod-eu", "2027-03-01T10:00:00Z");
    assert!(d.allowed, "{}", d.reason);
    assert_eq!(codes(&d.warnings), ["plan_overdue"]);
    assert_eq!(&*d.warnings[0].items[0].id, "rollback");
}

#[test]
fn the_effective_status_is_the_worst_of_the_manual_colour_and_the_gating_items() {
    let rules = rules(SCORECARD);
    let search = rules.team("search").expect("search");
    assert_eq!(rules.team_status(search, "production", at("2027-01-01T00:00:00Z")).0, Status::Red);
    let payments = rules.team("payments").expect("payments");
    assert_eq!(rules.team_status(payments, "staging", at("2027-01-01T00:00:00Z")).0, Status::Green);
    assert_eq!(rules.team_status(payments, "production", at("2027-01-01T00:00:00Z")).0, Status::Yellow);
    assert_eq!(rules.team_status(payments, "production", at("2027-02-01T00:00:00Z")).0, Status::Red);
    // Anywhere: the worst over every item that gates somewhere, not the shown-only one.
    assert_eq!(rules.team_status_anywhere(payments, at("2027-01-01T00:00:00Z")).0, Status::Yellow);
}

#[test]
fn a_manual_red_and_a_red_item_are_both_named() {
    let text = SCORECARD.replace("name = \"search\"\nstatus = \"green\"", "name = \"search\"\nstatus = \"red\"");
    let d = ask(&rules(&text), "search", "production", "2027-03-01T10:00:00Z");
    assert_eq!(codes(&d.reasons), ["team_red"]);
    let m = &d.reasons[0].message;
    assert!(m.contains("monitoring: red, no plan") && m.contains("is red (non-compliant, no plan)"), "{m}");
}

#[test]
fn unassessed_cells_are_ignored_by_default_and_red_when_asked() {
    let text = SCORECARD
        .replace("[[teams]]\nname = \"search\"", "[[teams]]\nname = \"fresh\"\n\n[[teams]]\nname = \"search\"");
    let d = ask(&rules(&text), "fresh", "production", "2027-03-01T10:00:00Z");
    assert!(d.allowed && d.warnings.is_empty(), "{}", d.reason);
    let strict = format!("[scorecard]\nunassessed = \"red\"\n{text}");
    let d = ask(&rules(&strict), "fresh", "production", "2027-03-01T10:00:00Z");
    assert_eq!(codes(&d.reasons), ["team_red"]);
    let ids: Vec<&str> = d.reasons[0].items.iter().map(|i| &*i.id).collect();
    assert_eq!(ids, ["rollback", "monitoring"], "the gating items, in config order");
    assert!(d.reasons[0].items.iter().all(|i| i.status == CellStatus::Unassessed));
    assert!(d.reasons[0].message.contains("rollback: not assessed, which counts as red"), "{}", d.reasons[0].message);
}

#[test]
fn an_old_config_with_one_status_per_team_decides_as_before() {
    let old = r#"
[policy.environments.production]
red = "deny"
yellow = "warn"

[[teams]]
name = "payments"
status = "yellow"
plan = "https://tracker.example/PAY-12"
plan_due = "2026-12-31"
"#;
    let rules = rules(old);
    let d = ask(&rules, "payments", "production", "2026-12-01T10:00:00Z");
    assert_eq!(codes(&d.warnings), ["team_yellow"]);
    assert!(d.warnings[0].items.is_empty());
    assert_eq!(
        d.warnings[0].message,
        "Team 'payments' is yellow (plan https://tracker.example/PAY-12, due 2026-12-31); production only warns for yellow teams"
    );
    let d = ask(&rules, "payments", "production", "2027-01-01T10:00:00Z");
    assert_eq!(codes(&d.reasons), ["plan_overdue"]);
}

#[test]
fn validate_names_every_scorecard_mistake_with_its_field() {
    let items = r#"
[scorecard]
unassessed = "sometimes"

[[scorecard.items]]
id = "Roll back"
title = "Rollback"

[[scorecard.items]]
id = "monitoring"
title = "Basic monitoring"

[[scorecard.items]]
id = "monitoring"
title = "Again"

[[scorecard.items]]
id = "tests"
gates = ["prod uction"]
"#;
    let teams = r#"
[[teams]]
name = "payments"

[teams.scorecard.monitoring]
status = "yellow"

[teams.scorecard.rollbak]
status = "green"

[teams.scorecard.tests]
status = "purple"
plan_due = "2027-02-30"
"#;
    let found = problems(&[("scorecard.toml", items), ("teams.toml", teams)]);
    let has = |needle: &str| found.iter().any(|p| p.contains(needle));
    for needle in [
        "scorecard.toml: scorecard.unassessed: `sometimes` is not a choice; use ignore or red",
        "scorecard.toml: scorecard.items[Roll back].id: `Roll back` is not an item id",
        "scorecard.toml: scorecard.items[tests].title: is required",
        "scorecard.toml: scorecard.items[tests].gates: `prod uction` is not a name pattern",
        "scorecard.toml: scorecard.items[monitoring].id: is already used by another item",
        "teams.toml: teams[payments].scorecard.monitoring.plan: is required for a yellow cell",
        "teams.toml: teams[payments].scorecard.monitoring.plan_due: is required for a yellow cell",
        "teams.toml: teams[payments].scorecard.rollbak: no risk item `rollbak`",
        "teams.toml: teams[payments].scorecard.tests.status: `purple` is not a status",
        "teams.toml: teams[payments].scorecard.tests.plan_due: `2027-02-30` is not a date",
    ] {
        assert!(has(needle), "missing `{needle}` in:\n{}", found.join("\n"));
    }
    // Each problem is placed on its line.
    assert!(found.iter().any(|p| p.contains("rollbak") && p.ends_with("(line 8)")), "{}", found.join("\n"));
}

#[test]
fn the_scorecard_table_stands_in_one_file_and_cells_need_items() {
    let a = "[[scorecard.items]]\nid = \"rollback\"\ntitle = \"R\"\n";
    let found = problems(&[("a.toml", a), ("b.toml", a)]);
    assert!(found.iter().any(|p| p.starts_with("b.toml: scorecard: [scorecard] is also in a.toml")), "{found:?}");
    let found = problems(&[("t.toml", "[[teams]]\nname = \"x\"\n[teams.scorecard.rollback]\nstatus = \"green\"\n")]);
    assert!(found.iter().any(|p| p.contains("no [[scorecard.items]] table defines any")), "{found:?}");
}
