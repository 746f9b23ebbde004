//! The decision rules, one test per rule, at fixed instants.

use chrono::{DateTime, Duration, Utc};
use deploy_gate::config::load_texts;
use deploy_gate::policy::{Decision, Name, Override, Rules, Target, decide};

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).expect("test instant").with_timezone(&Utc)
}

fn rules(text: &str) -> Rules {
    load_texts(&[("test.toml", text)], &[])
        .unwrap_or_else(|p| panic!("config: {}", p.iter().map(|p| p.to_string()).collect::<Vec<_>>().join("\n")))
        .rules()
}

fn target(team: &str, service: Option<&str>, env: &str) -> Target {
    Target {
        team: Name::parse("team", team).expect("team"),
        service: service.map(|s| Name::parse("service", s).expect("service")),
        environment: Name::parse("environment", env).expect("env"),
    }
}

fn ask(rules: &Rules, team: &str, env: &str, t: &str) -> Decision {
    decide(rules, &target(team, None, env), at(t), None, &[])
}

fn codes(rs: &[deploy_gate::policy::Reason]) -> Vec<&'static str> {
    rs.iter().map(|r| r.code.as_str()).collect()
}

const FRIDAY: &str = r#"
[[windows]]
id = "friday-evening"
reason = "No deploys over the weekend"
timezone = "Europe/Berlin"
cron = "0 17 * * FRI"
duration = "63h"
environments = ["production"]

[[teams]]
name = "payments"
status = "green"
"#;

#[test]
fn allow_when_no_rule_gives_a_reason() {
    let d = ask(&rules(FRIDAY), "payments", "production", "2026-11-26T10:00:00Z");
    assert!(d.allowed);
    assert_eq!(d.decision, deploy_gate::policy::Verdict::Allow);
    assert!(d.reasons.is_empty() && d.warnings.is_empty());
    assert_eq!(d.next_allowed_at, Some(at("2026-11-26T10:00:00Z")));
}

#[test]
fn rule_1_an_active_freeze_gives_window_active_until_its_end() {
    let d = ask(&rules(FRIDAY), "payments", "production", "2026-11-27T18:00:00Z");
    assert!(!d.allowed);
    assert_eq!(codes(&d.reasons), ["window_active"]);
    let r = &d.reasons[0];
    assert_eq!(r.window_id.as_deref(), Some("friday-evening"));
    assert_eq!(r.until, Some(at("2026-11-30T07:00:00Z")));
    assert_eq!(
        r.message,
        "Deploy freeze 'friday-evening' (No deploys over the weekend) is active until Mon 2026-11-30 08:00 CET"
    );
    assert_eq!(d.next_allowed_at, Some(at("2026-11-30T07:00:00Z")));
    // Half-open: allowed exactly at the end, denied exactly at the start.
    assert!(ask(&rules(FRIDAY), "payments", "production", "2026-11-30T07:00:00Z").allowed);
    assert!(!ask(&rules(FRIDAY), "payments", "production", "2026-11-27T16:00:00Z").allowed);
    // Another environment is not frozen.
    assert!(ask(&rules(FRIDAY), "payments", "staging", "2026-11-27T18:00:00Z").allowed);
}

#[test]
fn rule_1_lists_every_active_freeze_not_the_first() {
    let text = format!(
        "{FRIDAY}\n{}",
        r#"
[[windows]]
id = "holiday"
start = "2026-11-27T00:00:00Z"
end = "2026-12-02T00:00:00Z"
"#
    );
    let d = ask(&rules(&text), "payments", "production", "2026-11-28T12:00:00Z");
    assert_eq!(codes(&d.reasons), ["window_active", "window_active"]);
    let ids: Vec<_> = d.reasons.iter().filter_map(|r| r.window_id.as_deref()).collect();
    assert_eq!(ids, ["friday-evening", "holiday"]);
    // The answer is the end of the later of the two.
    assert_eq!(d.next_allowed_at, Some(at("2026-12-02T00:00:00Z")));
    assert!(d.reason.contains("friday-evening") && d.reason.contains("holiday"));
}

const QUIET: &str = r#"
[[windows]]
id = "quiet-hours"
kind = "allow"
timezone = "America/New_York"
cron = "0 22 * * MON-THU"
duration = "8h"
teams = ["search"]
environments = ["production"]

[[teams]]
name = "search"
status = "green"
"#;

#[test]
fn rule_2_outside_every_allow_window_is_a_reason_and_inside_is_not() {
    let rules = rules(QUIET);
    // Thursday 2026-11-26 12:00 EST: outside; the window opens 22:00 EST = 03:00Z.
    let d = ask(&rules, "search", "production", "2026-11-26T17:00:00Z");
    assert_eq!(codes(&d.reasons), ["outside_allow_windows"]);
    assert_eq!(d.reasons[0].until, Some(at("2026-11-27T03:00:00Z")));
    assert_eq!(d.next_allowed_at, Some(at("2026-11-27T03:00:00Z")));
    // Thursday 23:00 EST: inside.
    assert!(ask(&rules, "search", "production", "2026-11-27T04:00:00Z").allowed);
    // Friday night has no window: the next is Monday 22:00 EST.
    let d = ask(&rules, "search", "production", "2026-11-28T04:00:00Z");
    assert_eq!(d.next_allowed_at, Some(at("2026-12-01T03:00:00Z")));
    // Allow windows only bind the targets they select.
    assert!(ask(&rules, "search", "staging", "2026-11-26T17:00:00Z").allowed);
}

const RISK: &str = r#"
[policy.environments.production]
red = "deny"
yellow = "deny"
unknown_team = "deny"

[policy.environments.staging]
red = "warn"
yellow = "warn"
unknown_team = "warn"

[[teams]]
name = "identity"
status = "red"

[[teams]]
name = "payments"
status = "yellow"
plan = "https://tracker.example/PAY-12"
plan_due = "2026-12-31"
timezone = "Europe/Berlin"
"#;

#[test]
fn rule_3_risk_status_under_a_deny_policy_is_a_reason() {
    let rules = rules(RISK);
    let d = ask(&rules, "identity", "production", "2026-11-26T10:00:00Z");
    assert_eq!(codes(&d.reasons), ["team_red"]);
    assert_eq!(d.next_allowed_at, None, "risk status does not end with time");
    let d = ask(&rules, "payments", "production", "2026-11-26T10:00:00Z");
    assert_eq!(codes(&d.reasons), ["team_yellow"]);
    assert!(d.reasons[0].message.contains("https://tracker.example/PAY-12"));
}

#[test]
fn rule_3_risk_status_under_a_warn_policy_is_a_warning() {
    let rules = rules(RISK);
    let d = ask(&rules, "identity", "staging", "2026-11-26T10:00:00Z");
    assert!(d.allowed);
    assert_eq!(codes(&d.warnings), ["team_red"]);
    // Environments not listed: red warns, yellow is allowed silently (and
    // an environment nothing names is warned about, below).
    let d = ask(&rules, "identity", "dev", "2026-11-26T10:00:00Z");
    assert!(d.allowed);
    assert_eq!(codes(&d.warnings), ["team_red", "unknown_environment"]);
    let d = ask(&rules, "payments", "dev", "2026-11-26T10:00:00Z");
    assert!(d.allowed);
    assert_eq!(codes(&d.warnings), ["unknown_environment"]);
}

#[test]
fn rule_3_a_yellow_plan_past_due_counts_as_red_from_the_end_of_its_day() {
    let rules = rules(RISK);
    // Due 2026-12-31 in Berlin: overdue from 2027-01-01 00:00 CET = 2026-12-31T23:00Z.
    let before = ask(&rules, "payments", "production", "2026-12-31T22:59:59Z");
    assert_eq!(codes(&before.reasons), ["team_yellow"]);
    let after = ask(&rules, "payments", "production", "2026-12-31T23:00:00Z");
    assert_eq!(codes(&after.reasons), ["plan_overdue"]);
    // Under a policy that only warns for red, overdue is a warning.
    let staging = ask(&rules, "payments", "staging", "2027-01-02T00:00:00Z");
    assert!(staging.allowed);
    assert_eq!(codes(&staging.warnings), ["plan_overdue"]);
}

#[test]
fn rule_4_an_unknown_team_is_a_reason_or_a_warning_by_policy() {
    let rules = rules(RISK);
    assert_eq!(codes(&ask(&rules, "nobody", "production", "2026-11-26T10:00:00Z").reasons), ["unknown_team"]);
    let d = ask(&rules, "nobody", "staging", "2026-11-26T10:00:00Z");
    assert!(d.allowed);
    assert_eq!(codes(&d.warnings), ["unknown_team"]);
    assert!(ask(&rules, "nobody", "dev", "2026-11-26T10:00:00Z").allowed);
}

#[test]
fn several_reasons_at_once_are_all_listed() {
    let text = format!("{RISK}\n{}", FRIDAY.replace("[[teams]]\nname = \"payments\"\nstatus = \"green\"", ""));
    let d = ask(&rules(&text), "identity", "production", "2026-11-27T18:00:00Z");
    assert_eq!(codes(&d.reasons), ["window_active", "team_red"]);
    assert_eq!(d.next_allowed_at, None);
    assert!(d.reason.contains("friday-evening") && d.reason.contains("red"));
}

fn override_for(team: &str, service: Option<&str>, env: &str, from: &str, until: &str) -> Override {
    Override {
        id: "ovr-1".into(),
        team: Name::parse("team", team).expect("team"),
        service: service.map(|s| Name::parse("service", s).expect("service")),
        environment: Name::parse("environment", env).expect("env"),
        reason: "Hotfix for checkout outage INC-42".into(),
        ticket: Some("INC-42".into()),
        created_by: "oncall".into(),
        created_at: at(from),
        expires_at: at(until),
        revoked_at: None,
        revoked_by: None,
    }
}

const LOCKED: &str = r#"
[[windows]]
id = "friday-evening"
cron = "0 17 * * FRI"
duration = "63h"

[[windows]]
id = "holiday"
start = "2026-11-28T00:00:00Z"
end = "2026-11-29T00:00:00Z"
overridable = false

[policy.environments.production]
red = "deny"

[[teams]]
name = "identity"
status = "red"
"#;

#[test]
fn rule_5_an_override_lifts_every_reason_but_non_overridable_windows() {
    let rules = rules(LOCKED);
    let t = target("identity", None, "production");
    let ovr = [override_for("identity", None, "production", "2026-11-27T17:30:00Z", "2026-11-27T21:30:00Z")];
    let d = decide(&rules, &t, at("2026-11-27T18:00:00Z"), None, &ovr);
    assert!(d.allowed, "{}", d.reason);
    assert_eq!(codes(&d.overridden), ["window_active", "team_red"]);
    assert_eq!(d.override_.as_ref().map(|o| o.id.as_str()), Some("ovr-1"));

    // Saturday: the holiday is not overridable and stays in force.
    let ovr = [override_for("identity", None, "production", "2026-11-28T11:00:00Z", "2026-11-28T15:00:00Z")];
    let d = decide(&rules, &t, at("2026-11-28T12:00:00Z"), None, &ovr);
    assert!(!d.allowed);
    assert_eq!(codes(&d.reasons), ["window_active"]);
    assert_eq!(d.reasons[0].window_id.as_deref(), Some("holiday"));
    assert_eq!(codes(&d.overridden), ["window_active", "team_red"]);
}

#[test]
fn rule_5_an_override_ends_exactly_at_expires_at_and_only_covers_its_scope() {
    let rules = rules(LOCKED);
    let t = target("identity", None, "production");
    let ovr = [override_for("identity", None, "production", "2026-11-27T17:30:00Z", "2026-11-27T19:00:00Z")];
    assert!(decide(&rules, &t, at("2026-11-27T18:59:59Z"), None, &ovr).allowed);
    assert!(!decide(&rules, &t, at("2026-11-27T19:00:00Z"), None, &ovr).allowed);
    // Revoked early.
    let mut revoked = ovr.clone();
    revoked[0].revoked_at = Some(at("2026-11-27T18:00:00Z"));
    assert!(!decide(&rules, &t, at("2026-11-27T18:30:00Z"), None, &revoked).allowed);
    // Another team, another environment: not covered.
    let other_team = [override_for("payments", None, "production", "2026-11-27T17:30:00Z", "2026-11-27T19:00:00Z")];
    assert!(!decide(&rules, &t, at("2026-11-27T18:00:00Z"), None, &other_team).allowed);
    let other_env = [override_for("identity", None, "staging", "2026-11-27T17:30:00Z", "2026-11-27T19:00:00Z")];
    assert!(!decide(&rules, &t, at("2026-11-27T18:00:00Z"), None, &other_env).allowed);
    // A service override covers that service only, not the whole surface.
    let api_only =
        [override_for("identity", Some("api"), "production", "2026-11-27T17:30:00Z", "2026-11-27T19:00:00Z")];
    assert!(
        decide(&rules, &target("identity", Some("api"), "production"), at("2026-11-27T18:00:00Z"), None, &api_only)
            .allowed
    );
    assert!(
        !decide(&rules, &target("identity", Some("web"), "production"), at("2026-11-27T18:00:00Z"), None, &api_only)
            .allowed
    );
    assert!(!decide(&rules, &t, at("2026-11-27T18:00:00Z"), None, &api_only).allowed);
}

#[test]
fn rule_6_a_freeze_opening_within_the_expected_duration_is_a_reason() {
    let rules = rules(FRIDAY);
    let t = target("payments", None, "production");
    // Friday 15:30 CET; the freeze opens 17:00 CET = 16:00Z.
    let d = decide(&rules, &t, at("2026-11-27T14:30:00Z"), Some(Duration::minutes(45)), &[]);
    assert!(d.allowed, "45m ends before the freeze: {}", d.reason);
    let d = decide(&rules, &t, at("2026-11-27T14:30:00Z"), Some(Duration::hours(2)), &[]);
    assert_eq!(codes(&d.reasons), ["window_starts_soon"]);
    assert_eq!(d.reasons[0].starts_at, Some(at("2026-11-27T16:00:00Z")));
    // The next time a 2h deploy fits: Monday 08:00 CET.
    assert_eq!(d.next_allowed_at, Some(at("2026-11-30T07:00:00Z")));
}

#[test]
fn rule_6_an_allow_window_closing_within_the_expected_duration_is_a_reason() {
    let rules = rules(QUIET);
    let t = target("search", None, "production");
    // Friday 05:00 EST; Thursday's window closes 06:00 EST = 11:00Z.
    let d = decide(&rules, &t, at("2026-11-27T10:00:00Z"), Some(Duration::hours(2)), &[]);
    assert_eq!(codes(&d.reasons), ["window_starts_soon"]);
    assert_eq!(d.reasons[0].starts_at, Some(at("2026-11-27T11:00:00Z")));
    assert_eq!(d.next_allowed_at, Some(at("2026-12-01T03:00:00Z")));
    assert!(decide(&rules, &t, at("2026-11-27T10:00:00Z"), Some(Duration::minutes(30)), &[]).allowed);
}

#[test]
fn next_allowed_at_skips_gaps_too_short_for_the_expected_duration() {
    let text = r#"
[[windows]]
id = "a"
start = "2026-11-26T10:00:00Z"
end = "2026-11-26T11:00:00Z"

[[windows]]
id = "b"
start = "2026-11-26T11:30:00Z"
end = "2026-11-26T12:00:00Z"
"#;
    let rules = rules(text);
    let t = target("x", None, "dev");
    let d = decide(&rules, &t, at("2026-11-26T10:30:00Z"), None, &[]);
    assert_eq!(d.next_allowed_at, Some(at("2026-11-26T11:00:00Z")));
    let d = decide(&rules, &t, at("2026-11-26T10:30:00Z"), Some(Duration::hours(1)), &[]);
    assert_eq!(d.next_allowed_at, Some(at("2026-11-26T12:00:00Z")));
}

#[test]
fn next_allowed_at_is_null_when_no_allowed_time_comes_within_a_year() {
    let text = r#"
[[windows]]
id = "forever"
start = "2026-01-01T00:00:00Z"
end = "2030-01-01T00:00:00Z"
"#;
    let d = ask(&rules(text), "x", "dev", "2026-11-26T10:00:00Z");
    assert!(!d.allowed);
    assert_eq!(d.next_allowed_at, None);
    assert_eq!(d.reasons[0].until, None);
    assert!(d.reasons[0].message.contains("no end within a year"));
}

#[test]
fn selectors_and_across_dimensions_or_within_lists_and_no_service_means_all() {
    let text = r#"
[[windows]]
id = "web-freeze"
start = "2026-11-26T00:00:00Z"
end = "2026-11-27T00:00:00Z"
environments = ["prod-*", "production"]
teams = ["pay*"]
services = ["web-?"]
"#;
    let rules = rules(text);
    let t = at("2026-11-26T10:00:00Z");
    let denied = |team, service, env| !decide(&rules, &target(team, service, env), t, None, &[]).allowed;
    assert!(denied("payments", Some("web-1"), "prod-eu"));
    assert!(denied("payments", Some("web-1"), "production"));
    assert!(!denied("payments", Some("web-12"), "production"));
    assert!(!denied("search", Some("web-1"), "production"));
    assert!(!denied("payments", Some("web-1"), "staging"));
    // No service: the team's whole surface, which includes web-1.
    assert!(denied("payments", None, "production"));
}

/// A freeze over the next opening of the deploy window: the reason names
/// the opening `next_allowed_at` names, not the frozen one.
#[test]
fn the_outside_reason_agrees_with_next_allowed_at_when_a_freeze_covers_the_next_opening() {
    let r = rules(
        r#"
[[windows]]
id = "nightly"
kind = "allow"
cron = "0 22 * * *"
duration = "2h"

[[windows]]
id = "board-meeting"
start = "2026-11-26T21:00:00Z"
end = "2026-11-27T01:00:00Z"
"#,
    );
    let d = ask(&r, "payments", "production", "2026-11-26T12:00:00Z");
    assert_eq!(d.next_allowed_at, Some(at("2026-11-27T22:00:00Z")));
    let outside = d.reasons.iter().find(|r| r.code.as_str() == "outside_allow_windows").expect("outside");
    assert!(outside.message.contains("Fri 2026-11-27 22:00"), "{}", outside.message);
    assert_eq!(outside.until, d.next_allowed_at);
}

/// A deploy longer than every deploy window: the reason says exactly that.
#[test]
fn a_deploy_longer_than_every_deploy_window_is_told_so() {
    let r = rules("[[windows]]\nid = \"nightly\"\nkind = \"allow\"\ncron = \"0 22 * * *\"\nduration = \"2h\"\n");
    let d =
        decide(&r, &target("payments", None, "production"), at("2026-11-26T12:00:00Z"), Some(Duration::hours(3)), &[]);
    assert_eq!(d.next_allowed_at, None);
    assert!(d.reason.contains("none of them is open long enough for this deploy's expected 3h"), "{}", d.reason);
}

/// A window scoped to services applies to a deploy that names none (the
/// team's whole surface), and the reason says why.
#[test]
fn a_service_window_applying_to_a_deploy_without_service_says_why() {
    let r = rules(
        "[[windows]]\nid = \"web-freeze\"\nstart = \"2026-11-26T00:00:00Z\"\nend = \"2026-11-28T00:00:00Z\"\nservices = [\"web-*\"]\n",
    );
    let d = ask(&r, "payments", "production", "2026-11-26T12:00:00Z");
    assert!(d.reason.contains("it covers services web-*; no service was given"), "{}", d.reason);
    let d = decide(&r, &target("payments", Some("web-shop"), "production"), at("2026-11-26T12:00:00Z"), None, &[]);
    assert!(!d.reason.contains("no service was given"), "{}", d.reason);
}

/// An override in force does not lift a window with `overridable = false`,
/// and the reason says that is why the deploy is still denied.
#[test]
fn a_window_no_override_lifts_says_so_while_an_override_is_in_force() {
    let r = rules(
        "[[windows]]\nid = \"holiday\"\nstart = \"2026-11-26T00:00:00Z\"\nend = \"2026-11-28T00:00:00Z\"\noverridable = false\n",
    );
    let t = at("2026-11-26T12:00:00Z");
    let o = Override {
        id: "ovr-1".into(),
        team: Name::parse("team", "payments").expect("team"),
        service: None,
        environment: Name::parse("environment", "production").expect("env"),
        reason: "Hotfix for an outage".into(),
        ticket: None,
        created_by: "oncall".into(),
        created_at: t - Duration::minutes(1),
        expires_at: t + Duration::hours(1),
        revoked_at: None,
        revoked_by: None,
    };
    let d = decide(&r, &target("payments", None, "production"), t, None, &[o]);
    assert!(!d.allowed);
    assert!(d.reason.contains("no override lifts this (overridable = false)"), "{}", d.reason);
}

/// A permanent freeze written as one-minute occurrences every minute is one
/// freeze with no end, answered at once; a deploy never fits.
#[test]
fn a_permanent_freeze_of_back_to_back_minutes_is_one_freeze_with_no_end() {
    let r = rules("[[windows]]\nid = \"always\"\ncron = \"* * * * *\"\nduration = \"1m\"\n");
    let d = decide(
        &r,
        &target("payments", None, "production"),
        at("2026-11-26T12:00:30Z"),
        Some(Duration::minutes(30)),
        &[],
    );
    assert_eq!(codes(&d.reasons), ["window_active"]);
    assert!(d.reason.contains("with no end within a year"), "{}", d.reason);
    assert_eq!(d.next_allowed_at, None);
    // Overlapping hour-long occurrences every minute: the same.
    let r = rules("[[windows]]\nid = \"always\"\ncron = \"* * * * *\"\nduration = \"1h\"\n");
    let d = ask(&r, "payments", "production", "2026-11-26T12:00:30Z");
    assert_eq!(d.reasons[0].until, None);
}

/// A bare number is seconds, in durations as on the command line.
#[test]
fn a_bare_number_is_seconds() {
    assert_eq!(deploy_gate::config::parse_duration_text("1800"), Ok(Duration::minutes(30)));
    assert_eq!(deploy_gate::config::parse_duration_text("30m"), Ok(Duration::minutes(30)));
    assert!(deploy_gate::config::parse_duration_text("0").is_err());
}

/// Names are case-insensitive: `Production`, `PROD` and `Checkout-API` meet
/// the freeze written for `production`, `prod*` and `checkout-*`.
#[test]
fn names_match_whatever_their_case() {
    let r = rules(
        "[[windows]]\nid = \"freeze\"\nstart = \"2026-11-26T00:00:00Z\"\nend = \"2026-11-28T00:00:00Z\"\nenvironments = [\"production\", \"PROD*\"]\nservices = [\"checkout-*\"]\n",
    );
    for (env, service) in [("Production", "Checkout-API"), ("PROD", "checkout-web"), ("prod-eu", "CHECKOUT-X")] {
        let d = decide(&r, &target("Payments", Some(service), env), at("2026-11-26T12:00:00Z"), None, &[]);
        assert_eq!(codes(&d.reasons), ["window_active"], "{env} {service}");
    }
}

/// An environment nothing names is likely a typo: a warning by default, a
/// reason when the policy says so.
#[test]
fn an_environment_nothing_names_is_warned_about_or_denied() {
    let r = rules(FRIDAY);
    let d = ask(&r, "payments", "prodution", "2026-11-26T10:00:00Z");
    assert!(d.allowed);
    assert_eq!(codes(&d.warnings), ["unknown_environment"]);
    assert!(d.warnings[0].message.contains("'prodution'"), "{}", d.warnings[0].message);
    let d = ask(&r, "payments", "production", "2026-11-26T10:00:00Z");
    assert!(d.warnings.is_empty());
    let strict = rules(&format!("{FRIDAY}\n[policy]\nunknown_environment = \"deny\"\n"));
    let d = ask(&strict, "payments", "prodution", "2026-11-26T10:00:00Z");
    assert_eq!(codes(&d.reasons), ["unknown_environment"]);
    assert_eq!(d.next_allowed_at, None);
}

/// Busy hours by the service's week profile: a warning by default, a reason
/// under `peak_traffic = "deny"`, with `until` when a deploy of that length
/// would start clear of it; an override lifts it like any other reason.
#[test]
fn busy_and_peak_traffic_follow_the_policy_and_an_override_lifts_them() {
    use deploy_gate::policy::decide_with_traffic;
    use deploy_gate::traffic::{Profile, Sample};
    let start = at("2026-11-02T00:00:00Z");
    let samples: Vec<Sample> = (0..4 * 7 * 24)
        .map(|h| {
            let t = start + Duration::hours(h);
            let requests = match (h / 24 % 7, h % 24) {
                (4, 12) => 1000.0,
                (0..=4, 10..=16) => 100.0,
                _ => 10.0,
            };
            Sample { at: t, requests, errors: None, latency_p95: None }
        })
        .collect();
    let profile = Profile::build("api", "test", deploy_gate::schedule::Zone::utc(), &samples).expect("profile");
    let rules = |peak: &str| {
        rules(&format!(
            "[policy.environments.production]\npeak_traffic = \"{peak}\"\n\n[[teams]]\nname = \"payments\"\nstatus = \"green\"\n"
        ))
    };
    let api = target("payments", Some("api"), "production");
    let friday = at("2026-12-04T11:45:00Z");
    let d = decide_with_traffic(&rules("warn"), &api, friday, None, &[], Some(&profile));
    assert!(d.allowed);
    assert_eq!(codes(&d.warnings), ["peak_traffic"]);
    let strict = rules("deny");
    let d = decide_with_traffic(&strict, &api, friday, None, &[], Some(&profile));
    assert_eq!(codes(&d.reasons), ["peak_traffic"]);
    assert_eq!(d.reasons[0].until, Some(at("2026-12-04T13:00:00Z")));
    assert_eq!(d.next_allowed_at, None, "next_allowed_at is about windows; the reason says until when");
    let o = override_for("payments", None, "production", "2026-12-04T11:00:00Z", "2026-12-04T12:30:00Z");
    let d = decide_with_traffic(&strict, &api, friday, None, &[o], Some(&profile));
    assert!(d.allowed, "{}", d.reason);
    assert_eq!(codes(&d.overridden), ["peak_traffic"]);
    let night = decide_with_traffic(&strict, &api, at("2026-12-05T03:00:00Z"), None, &[], Some(&profile));
    assert!(night.allowed && night.warnings.is_empty());
}
