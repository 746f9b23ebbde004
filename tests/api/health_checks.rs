//! Health checks and process maps over HTTP: sessions recorded as counts
//! only, colours and trends, the map by team name, the organisation's
//! quarters, bad input named by field; process maps with lead time, flow
//! efficiency and the gate's own wait; and decisions untouched by any of it.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{ADMIN, READER, error_code, spawn_app, token_lines};

const CHECKOUT_TEAM: &str = "checkout-team-token-0123456789";

fn config(extra: &str) -> String {
    format!(
        r#"
[policy.environments.production]
red = "deny"

[auth]
{tokens}

[[windows]]
id = "weekend"
reason = "No deploys over the weekend"
cron = "0 17 * * FRI"
duration = "63h"
environments = ["production"]

[[teams]]
name = "checkout"

[[teams.process]]
name = "Code and review"
kind = "work"
typical = "2d"

[[teams.process]]
name = "Wait for QA sign-off"
kind = "wait"
typical = "3d"
pain = "One QA engineer for four teams"

[[teams.process]]
name = "Deploy"
kind = "work"
typical = "1h"

[[teams]]
name = "payments"
status = "red"

[[teams]]
name = "search"
{extra}
"#,
        tokens = [
            token_lines("ops-admin", ADMIN, "admin", ""),
            token_lines("auditor", READER, "read", ""),
            token_lines("checkout-team", CHECKOUT_TEAM, "team", "teams = [\"checkout\"]"),
        ]
        .join("\n"),
    )
}

fn session(team: &str, date: &str, votes: Value) -> Value {
    json!({"team": team, "date": date, "votes": votes})
}

fn topic<'a>(s: &'a Value, id: &str) -> &'a Value {
    s["topics"].as_array().expect("topics").iter().find(|t| t["topic"] == id).unwrap_or(&Value::Null)
}

#[tokio::test]
async fn a_session_shows_median_colours_and_the_trend_against_the_previous_one() {
    let app = spawn_app(&config("")).await;
    let first = json!({"team": "checkout", "date": "2026-06-15",
        "votes": {"easy-to-release": {"green": 1, "yellow": 2, "red": 3}, "fun": {"green": 5, "yellow": 1}}});
    let (status, s) = app.call(Method::POST, "/health-checks", Some(CHECKOUT_TEAM), Some(&first)).await;
    assert_eq!(status, 201, "{s}");
    assert_eq!(s["id"], "checkout-2026-06-15");
    assert_eq!((s["status"].as_str(), s["voters"].as_u64()), (Some("ok"), Some(6)));
    // red red red yellow yellow green: the lower middle is red.
    assert_eq!(topic(&s, "easy-to-release")["colour"], "red");
    assert_eq!(topic(&s, "easy-to-release")["trend"], Value::Null, "the first session has no trend");
    assert_eq!(topic(&s, "fun")["colour"], "green");

    let second = json!({"team": "checkout", "date": "2026-09-15",
        "votes": {"easy-to-release": {"green": 4, "yellow": 2}, "fun": {"green": 1, "yellow": 4, "red": 1}},
        "notes": {"easy-to-release": "automated the release notes"}});
    let (status, s) = app.call(Method::POST, "/health-checks", Some(ADMIN), Some(&second)).await;
    assert_eq!(status, 201, "{s}");
    assert_eq!(
        (topic(&s, "easy-to-release")["colour"].as_str(), topic(&s, "easy-to-release")["trend"].as_str()),
        (Some("green"), Some("up"))
    );
    assert_eq!(
        (topic(&s, "fun")["colour"].as_str(), topic(&s, "fun")["trend"].as_str()),
        (Some("yellow"), Some("down"))
    );
    assert_eq!(topic(&s, "easy-to-release")["note"], "automated the release notes");
    assert_eq!(topic(&s, "easy-to-release")["votes"], json!({"green": 4, "yellow": 2, "red": 0}));

    let (status, list) = app.get_json("/health-checks?team=checkout").await;
    assert_eq!(status, 200);
    let dates: Vec<&str> = list.as_array().expect("list").iter().map(|s| s["date"].as_str().expect("date")).collect();
    assert_eq!(dates, ["2026-09-15", "2026-06-15"], "newest first");

    // Audited: which session, never the votes.
    let (_, audit) = app.call(Method::GET, "/audit?kind=health_check", Some(READER), None).await;
    let records = audit["records"].as_array().expect("records");
    assert_eq!(records.len(), 2, "{audit}");
    let (_, exact) = app.call(Method::GET, "/audit?kind=health_check.recorded", Some(READER), None).await;
    assert_eq!(exact["records"].as_array().map(Vec::len), Some(2), "a kind with an underscore: {exact}");
    assert_eq!(records[0]["details"]["id"], "checkout-2026-09-15");
    assert_eq!(records[0]["actor"], "ops-admin");
    assert!(records[0]["details"].get("votes").is_none(), "{}", records[0]);

    // One session a day per team.
    let (status, e) = app.call(Method::POST, "/health-checks", Some(ADMIN), Some(&second)).await;
    assert_eq!((status, error_code(&e).as_str()), (409, "health_check_exists"), "{e}");
}

#[tokio::test]
async fn a_session_with_too_few_voters_shows_no_colours_and_no_counts() {
    let app = spawn_app(&config("")).await;
    let body = session("search", "2026-10-01", json!({"fun": {"green": 1, "red": 1}, "speed": {"red": 2}}));
    let (status, s) = app.call(Method::POST, "/health-checks", Some(ADMIN), Some(&body)).await;
    assert_eq!(status, 201, "{s}");
    assert_eq!((s["status"].as_str(), s["voters"].as_u64()), (Some("too_few_votes"), Some(2)));
    for t in s["topics"].as_array().expect("topics") {
        assert_eq!((&t["colour"], &t["votes"], &t["trend"]), (&Value::Null, &Value::Null, &Value::Null), "{t}");
    }
    let (_, map) = app.get_json("/health-map").await;
    let row = map["teams"].as_array().expect("teams").iter().find(|r| r["team"] == "search").expect("search");
    assert_eq!(row["status"], "too_few_votes");
    assert!(row["cells"].as_array().expect("cells").iter().all(|c| c["colour"].is_null()));
}

#[tokio::test]
async fn bad_input_is_refused_naming_the_field_and_nothing_is_kept() {
    let app = spawn_app(&config("")).await;
    let ok = |votes: Value| session("checkout", "2026-10-01", votes);
    let cases: Vec<(Value, u16, &str, &str)> = vec![
        (ok(json!({"fun": {"green": -1}})), 400, "invalid_parameter", "votes.fun.green"),
        (ok(json!({"fun": {"green": 2.5}})), 400, "invalid_parameter", "votes.fun.green"),
        (ok(json!({"fun": {"green": "3"}})), 400, "invalid_parameter", "votes.fun.green"),
        (ok(json!({"funn": {"green": 3}})), 400, "unknown_parameter", "votes.funn"),
        (ok(json!({"fun": {"alice": "green"}})), 400, "unknown_parameter", "votes.fun.alice"),
        (ok(json!({"fun": ["green", "red", "green"]})), 400, "invalid_parameter", "votes.fun"),
        (ok(json!({})), 400, "invalid_parameter", "votes"),
        (
            json!({"team": "checkout", "date": "15/10/2026", "votes": {"fun": {"green": 3}}}),
            400,
            "invalid_parameter",
            "date",
        ),
        (
            json!({"team": "checkout", "date": "2026-02-30", "votes": {"fun": {"green": 3}}}),
            400,
            "invalid_parameter",
            "date",
        ),
        (json!({"team": "checkout", "votes": {"fun": {"green": 3}}}), 400, "missing_parameter", "date"),
        (
            json!({"team": "checkout", "date": "2026-10-01", "votes": {"fun": {"green": 3}}, "name": "alice"}),
            400,
            "unknown_parameter",
            "name",
        ),
        (
            json!({"team": "checkout", "date": "2026-10-01", "votes": {"fun": {"green": 3}}, "notes": {"fun": 3}}),
            400,
            "invalid_parameter",
            "notes.fun",
        ),
        (
            json!({"team": "nobody", "date": "2026-10-01", "votes": {"fun": {"green": 3}}}),
            404,
            "team_not_found",
            "team",
        ),
        (
            json!({"team": "Not a name!", "date": "2026-10-01", "votes": {"fun": {"green": 3}}}),
            400,
            "invalid_parameter",
            "team",
        ),
    ];
    for (body, status, code, field) in cases {
        let (got, e) = app.call(Method::POST, "/health-checks", Some(ADMIN), Some(&body)).await;
        assert_eq!(
            (got, error_code(&e).as_str(), e["error"]["field"].as_str()),
            (status, code, Some(field)),
            "{body} -> {e}"
        );
        assert!(!e["error"]["message"].as_str().unwrap_or("").is_empty());
    }
    let (status, list) = app.get_json("/health-checks").await;
    assert_eq!((status, list), (200, json!([])), "nothing was kept");
    let (status, e) = app.get_json("/health-checks?team=nobody").await;
    assert_eq!((status, error_code(&e).as_str()), (404, "team_not_found"));
}

#[tokio::test]
async fn only_an_admin_or_the_teams_own_token_records_a_session() {
    let app = spawn_app(&config("")).await;
    let body = session("payments", "2026-10-01", json!({"fun": {"green": 3}}));
    let (status, _) = app.call(Method::POST, "/health-checks", None, Some(&body)).await;
    assert_eq!(status, 401);
    let (status, e) = app.call(Method::POST, "/health-checks", Some(READER), Some(&body)).await;
    assert_eq!((status, error_code(&e).as_str()), (403, "forbidden"));
    assert!(e["error"]["message"].as_str().expect("message").contains("recording a team's health check"), "{e}");
    let (status, e) = app.call(Method::POST, "/health-checks", Some(CHECKOUT_TEAM), Some(&body)).await;
    assert_eq!((status, error_code(&e).as_str()), (403, "forbidden"), "another team's session");
    let (status, _) = app.call(Method::POST, "/health-checks", Some(ADMIN), Some(&body)).await;
    assert_eq!(status, 201);
}

#[tokio::test]
async fn the_map_lists_every_team_by_name_with_no_score_or_rank() {
    let app = spawn_app(&config("")).await;
    for (team, date, colour) in [("search", "2026-07-01", "red"), ("checkout", "2026-07-02", "green")] {
        let body = session(team, date, json!({"fun": {colour: 4}, "speed": {"yellow": 3, colour: 1}}));
        let (status, s) = app.call(Method::POST, "/health-checks", Some(ADMIN), Some(&body)).await;
        assert_eq!(status, 201, "{s}");
    }
    let (status, map) = app.get_json("/health-map").await;
    assert_eq!(status, 200);
    let rows = map["teams"].as_array().expect("teams");
    let names: Vec<&str> = rows.iter().map(|r| r["team"].as_str().expect("team")).collect();
    assert_eq!(names, ["checkout", "payments", "search"], "by name, not by how they feel");
    // Nothing but the team, its session and its cells: no score, total or rank.
    for row in rows {
        let mut keys: Vec<&str> = row.as_object().expect("row").keys().map(String::as_str).collect();
        keys.sort();
        assert_eq!(keys, ["cells", "date", "session", "status", "team"]);
        assert_eq!(row["cells"].as_array().expect("cells").len(), 10, "one per classic topic");
    }
    assert_eq!(rows[1]["session"], Value::Null, "payments has no session yet");
    let fun = |row: &Value| row["cells"].as_array().expect("cells").iter().find(|c| c["topic"] == "fun").cloned();
    assert_eq!(fun(&rows[0]).expect("fun")["colour"], "green");
    assert_eq!(fun(&rows[2]).expect("fun")["colour"], "red");
    assert_eq!(map["topics"][0]["id"], "easy-to-release");
    assert!(map["topics"][0]["green"].as_str().expect("green").contains("Releasing"));
}

#[tokio::test]
async fn the_organisation_view_counts_teams_per_colour_per_quarter() {
    let app = spawn_app(&config("")).await;
    let sessions = [
        ("checkout", "2026-01-20", "red"),
        ("checkout", "2026-03-20", "green"),
        ("search", "2026-02-10", "yellow"),
        ("search", "2026-07-10", "red"),
    ];
    for (team, date, colour) in sessions {
        let body = session(team, date, json!({"fun": {colour: 3}}));
        let (status, s) = app.call(Method::POST, "/health-checks", Some(ADMIN), Some(&body)).await;
        assert_eq!(status, 201, "{s}");
    }
    let (status, q) = app.get_json("/health-map/quarters").await;
    assert_eq!(status, 200);
    assert_eq!(q["quarters"], json!(["2026-Q1", "2026-Q2", "2026-Q3"]));
    let fun = q["topics"].as_array().expect("topics").iter().find(|t| t["topic"] == "fun").expect("fun");
    assert_eq!(
        fun["quarters"],
        json!([
            {"quarter": "2026-Q1", "green": 1, "yellow": 1, "red": 0},
            {"quarter": "2026-Q2", "green": 0, "yellow": 0, "red": 0},
            {"quarter": "2026-Q3", "green": 0, "yellow": 0, "red": 1},
        ])
    );
    let (status, e) = app.get_json("/health-map/quarters?team=search").await;
    assert_eq!((status, error_code(&e).as_str()), (400, "unknown_parameter"), "never one team's row");
}

#[tokio::test]
async fn topics_of_ones_own_replace_the_classic_ones() {
    let extra = r#"
[health]
min_votes = 1

[[health.topics]]
id = "easy-to-release"

[[health.topics]]
id = "on-call"
title = "On-call"
green = "Calm nights"
red = "On-call burns us out"
"#;
    let app = spawn_app(&config(extra)).await;
    let (_, map) = app.get_json("/health-map").await;
    let ids: Vec<&str> =
        map["topics"].as_array().expect("topics").iter().map(|t| t["id"].as_str().expect("id")).collect();
    assert_eq!(ids, ["easy-to-release", "on-call"]);
    assert_eq!(map["topics"][0]["title"], "Easy to release");
    assert_eq!(map["min_votes"], 1);
    let (status, s) = app
        .call(
            Method::POST,
            "/health-checks",
            Some(ADMIN),
            Some(&session("search", "2026-10-01", json!({"on-call": {"red": 1}}))),
        )
        .await;
    assert_eq!((status, s["status"].as_str(), topic(&s, "on-call")["colour"].as_str()), (201, Some("ok"), Some("red")));
    let (status, e) = app
        .call(
            Method::POST,
            "/health-checks",
            Some(ADMIN),
            Some(&session("search", "2026-10-02", json!({"fun": {"red": 1}}))),
        )
        .await;
    assert_eq!((status, e["error"]["field"].as_str()), (400, Some("votes.fun")), "not a topic here");
}

#[tokio::test]
async fn a_process_map_has_lead_time_flow_efficiency_and_the_gate_wait_beside_it() {
    let app = spawn_app(&config("")).await;
    // A pipeline held by the gate, then let through: its wait counts.
    let pipeline = "https://ci.example/checkout/pipelines/7";
    let ask = format!("/can-deploy?team=checkout&environment=production&pipeline_url={pipeline}");
    let (_, denied) = app.get_json(&format!("{ask}&expected_duration=7d")).await;
    assert_eq!(denied["allowed"], false, "a week-long deploy always meets the weekend freeze: {denied}");
    let (_, allowed) = app.get_json(&ask).await;
    let weekend_now = allowed["allowed"] == false;
    if weekend_now {
        // During the weekend freeze itself, lift it for this team.
        let body = json!({"team": "checkout", "environment": "production", "reason": "test", "ttl": "10m"});
        let (status, _) = app.call(Method::POST, "/overrides", Some(ADMIN), Some(&body)).await;
        assert_eq!(status, 201);
        let (_, allowed) = app.get_json(&ask).await;
        assert_eq!(allowed["allowed"], true, "{allowed}");
    }

    let (status, p) = app.get_json("/teams/checkout/process").await;
    assert_eq!(status, 200, "{p}");
    let names: Vec<&str> =
        p["steps"].as_array().expect("steps").iter().map(|s| s["name"].as_str().expect("name")).collect();
    assert_eq!(names, ["Code and review", "Wait for QA sign-off", "Deploy"]);
    assert_eq!(p["steps"][1]["kind"], "wait");
    assert_eq!(p["steps"][1]["pain"], "One QA engineer for four teams");
    assert_eq!(p["lead_time_seconds"], 5 * 86_400 + 3600);
    assert_eq!(p["lead_time"], "5d 1h");
    assert_eq!((p["work_seconds"].as_u64(), p["wait_seconds"].as_u64()), (Some(2 * 86_400 + 3600), Some(3 * 86_400)));
    assert_eq!(p["flow_efficiency"], 0.405, "(2d 1h) / (5d 1h), to three places");
    assert_eq!(p["gate_wait"]["pipelines"], 1, "{p}");
    assert!(p["gate_wait"]["median_seconds"].as_f64().expect("median") >= 0.0);

    let r = app.get("/teams/checkout/process.svg").await;
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(r.headers()["content-type"], "image/svg+xml");
    let svg = r.text().await.expect("svg");
    assert_eq!(svg.matches("class=\"step work\"").count(), 2);
    assert_eq!(svg.matches("class=\"step wait\"").count(), 1);
    assert_eq!(svg.matches("class=\"pain\"").count(), 1);
    assert!(svg.contains("One QA engineer for four teams") && svg.contains("Lead time 5d 1h"), "{svg}");
    assert!(svg.contains("1 pipeline held"), "{svg}");

    // A team with no steps, and one the gate does not know.
    let (status, p) = app.get_json("/teams/search/process").await;
    assert_eq!((status, p["steps"].clone(), p["lead_time"].clone()), (200, json!([]), Value::Null));
    let (status, e) = app.get_json("/teams/nobody/process").await;
    assert_eq!((status, error_code(&e).as_str()), (404, "team_not_found"));
}

/// Health data never reaches a decision: the same questions, at the same
/// fixed instants, get the same answers from a gate with sessions full of
/// red votes as from one with none.
#[tokio::test]
async fn every_decision_is_the_same_with_and_without_health_data() {
    let with = spawn_app(&config("[health]\nmin_votes = 1\n")).await;
    let without = spawn_app(&config("")).await;
    for team in ["checkout", "payments", "search"] {
        for (date, colour) in [("2026-01-10", "red"), ("2026-04-10", "green"), ("2026-10-10", "red")] {
            let votes = json!({"easy-to-release": {colour: 7}, "tech-quality": {colour: 7}, "speed": {colour: 7}});
            let (status, _) =
                with.call(Method::POST, "/health-checks", Some(ADMIN), Some(&session(team, date, votes))).await;
            assert_eq!(status, 201);
        }
    }
    let mut compared = 0;
    for team in ["checkout", "payments", "search", "unknown"] {
        for environment in ["production", "staging"] {
            // A Friday evening (frozen), a Tuesday morning, a Sunday.
            for at in ["2026-11-27T18:00:00Z", "2026-12-01T09:00:00Z", "2026-11-29T12:00:00Z"] {
                let q = format!("/can-deploy?team={team}&environment={environment}&at={at}&expected_duration=2h");
                let strip = |mut d: Value| {
                    d.as_object_mut().expect("decision").remove("decision_id");
                    d
                };
                let (a, b) = (strip(with.get_json(&q).await.1), strip(without.get_json(&q).await.1));
                assert_eq!(a, b, "{q}");
                compared += 1;
            }
        }
    }
    assert_eq!(compared, 24);
}

#[tokio::test]
async fn process_maps_are_kept_in_the_config_files() {
    let app = spawn_app(&config("")).await;
    let body = json!({"process": [{"name": "Code", "kind": "work", "typical": "1d"}]});
    let (status, e) = app.call(Method::PUT, "/teams/platform", Some(ADMIN), Some(&body)).await;
    assert_eq!(
        (status, error_code(&e).as_str(), e["error"]["field"].as_str()),
        (422, "unknown_field", Some("process")),
        "{e}"
    );
    assert!(e["error"]["message"].as_str().expect("message").contains("[[teams.process]]"), "{e}");
}
