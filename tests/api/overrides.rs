use std::time::Duration;

use chrono::Utc;
use reqwest::Method;
use serde_json::json;

use crate::helpers::{ADMIN, PAYMENTS_ONCALL, auth_config, codes, error_code, spawn_app};

/// A freeze active now for every team, another that no override lifts, and
/// a red team.
fn config() -> String {
    let now = Utc::now();
    let (from, to) = ((now - chrono::Duration::hours(1)).to_rfc3339(), (now + chrono::Duration::hours(3)).to_rfc3339());
    format!(
        r#"{}
[policy.environments.production]
red = "deny"

[[windows]]
id = "incident-freeze"
start = "{from}"
end = "{to}"

[[windows]]
id = "board-meeting"
start = "{from}"
end = "{to}"
teams = ["checkout"]
overridable = false

[[teams]]
name = "payments"
status = "green"

[[teams]]
name = "checkout"
status = "red"
"#,
        auth_config()
    )
}

const ASK_PAYMENTS: &str = "/can-deploy?team=payments&environment=production";

#[tokio::test]
async fn an_override_lifts_the_freeze_for_its_team_and_environment_only() {
    let app = spawn_app(&config()).await;
    let (_, d) = app.get_json(ASK_PAYMENTS).await;
    assert_eq!(d["allowed"], false);

    let body = json!({"team": "payments", "environment": "production", "reason": "Hotfix for checkout outage INC-4211", "ticket": "INC-4211", "ttl": "30m"});
    let (status, o) = app.call(Method::POST, "/overrides", Some(PAYMENTS_ONCALL), Some(&body)).await;
    assert_eq!(status, 201, "{o}");
    assert_eq!(o["created_by"], "payments-oncall");
    let created: chrono::DateTime<Utc> = o["created_at"].as_str().expect("created_at").parse().expect("time");
    let expires: chrono::DateTime<Utc> = o["expires_at"].as_str().expect("expires_at").parse().expect("time");
    assert_eq!(expires - created, chrono::Duration::minutes(30));

    let (_, d) = app.get_json(ASK_PAYMENTS).await;
    assert_eq!(d["allowed"], true, "{d}");
    assert_eq!(codes(&d, "overridden"), ["window_active"]);
    assert_eq!(d["override"]["id"], o["id"]);
    // Not staging, not another team.
    let (_, d) = app.get_json("/can-deploy?team=payments&environment=staging").await;
    assert_eq!(d["allowed"], false);
    let (_, d) = app.get_json("/can-deploy?team=search&environment=production").await;
    assert_eq!(d["allowed"], false);

    // The payments token cannot lift search's freeze, nor act in staging.
    for (team, env) in [("search", "production"), ("payments", "staging")] {
        let body = json!({"team": team, "environment": env, "reason": "Hotfix for an outage INC-9"});
        let (status, e) = app.call(Method::POST, "/overrides", Some(PAYMENTS_ONCALL), Some(&body)).await;
        assert_eq!(status, 403, "{team} {env}: {e}");
        assert_eq!(error_code(&e), "forbidden");
    }
}

#[tokio::test]
async fn a_non_overridable_window_stays_in_force_and_says_so() {
    let app = spawn_app(&config()).await;
    let body = json!({"team": "checkout", "environment": "production", "reason": "Emergency fix for payments INC-77"});
    let (status, _) = app.call(Method::POST, "/overrides", Some(ADMIN), Some(&body)).await;
    assert_eq!(status, 201);
    let (_, d) = app.get_json("/can-deploy?team=checkout&environment=production").await;
    assert_eq!(d["allowed"], false);
    assert_eq!(codes(&d, "reasons"), ["window_active"]);
    assert_eq!(d["reasons"][0]["window_id"], "board-meeting");
    let mut lifted = codes(&d, "overridden");
    lifted.sort();
    assert_eq!(lifted, ["team_red", "window_active"]);
}

#[tokio::test]
async fn an_override_ends_at_expires_at_and_its_expiry_is_audited() {
    let app = spawn_app(&config()).await;
    let body =
        json!({"team": "payments", "environment": "production", "reason": "Short hotfix window INC-5", "ttl": "2s"});
    let (status, o) = app.call(Method::POST, "/overrides", Some(ADMIN), Some(&body)).await;
    assert_eq!(status, 201);
    let (_, d) = app.get_json(ASK_PAYMENTS).await;
    assert_eq!(d["allowed"], true);
    let expires: chrono::DateTime<Utc> = o["expires_at"].as_str().expect("expires_at").parse().expect("time");
    // Wait for the denial to come back; it must not come before expires_at.
    let (_, d) = app.wait_for(ASK_PAYMENTS, Duration::from_secs(10), |_, d| d["allowed"] == false).await;
    let evaluated: chrono::DateTime<Utc> = d["evaluated_at"].as_str().expect("evaluated_at").parse().expect("time");
    assert!(evaluated >= expires, "denied at {evaluated}, before the override expired at {expires}");
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let record = loop {
        let (_, a) = app.call(Method::GET, "/audit?kind=override.expired", Some(ADMIN), None).await;
        if let Some(r) = a["records"].as_array().and_then(|r| r.first()).cloned() {
            break r;
        }
        assert!(std::time::Instant::now() < deadline, "no override.expired record");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(record["details"]["override"]["id"], o["id"]);
    // Recorded at the expiry itself (the store keeps milliseconds).
    let at: chrono::DateTime<Utc> = record["at"].as_str().expect("at").parse().expect("time");
    assert_eq!(at.timestamp_millis(), expires.timestamp_millis());
}

#[tokio::test]
async fn revoking_early_restores_the_gate_and_is_audited() {
    let app = spawn_app(&config()).await;
    let body =
        json!({"team": "payments", "environment": "production", "reason": "Hotfix for checkout outage INC-4211"});
    let (_, o) = app.call(Method::POST, "/overrides", Some(ADMIN), Some(&body)).await;
    let id = o["id"].as_str().expect("id");
    let (_, d) = app.get_json(ASK_PAYMENTS).await;
    assert_eq!(d["allowed"], true);

    // Only admins revoke.
    let (status, _) = app.call(Method::DELETE, &format!("/overrides/{id}"), Some(PAYMENTS_ONCALL), None).await;
    assert_eq!(status, 403);
    let (status, revoked) = app.call(Method::DELETE, &format!("/overrides/{id}"), Some(ADMIN), None).await;
    assert_eq!(status, 200, "{revoked}");
    assert_eq!(revoked["revoked_by"], "ops-admin");
    let (_, d) = app.get_json(ASK_PAYMENTS).await;
    assert_eq!(d["allowed"], false);
    let (status, e) = app.call(Method::DELETE, &format!("/overrides/{id}"), Some(ADMIN), None).await;
    assert_eq!((status, error_code(&e).as_str()), (409, "override_ended"));
    let (status, e) = app.call(Method::DELETE, "/overrides/ovr-nope", Some(ADMIN), None).await;
    assert_eq!((status, error_code(&e).as_str()), (404, "override_not_found"));

    let (_, active) = app.call(Method::GET, "/overrides?active=true", Some(ADMIN), None).await;
    assert_eq!(active.as_array().map(Vec::len), Some(0));
    let (_, all) = app.call(Method::GET, "/overrides", Some(ADMIN), None).await;
    assert_eq!(all[0]["id"], id);

    let (_, a) = app.call(Method::GET, "/audit?kind=override", Some(ADMIN), None).await;
    let kinds: Vec<&str> =
        a["records"].as_array().expect("records").iter().map(|r| r["kind"].as_str().unwrap_or("")).collect();
    assert_eq!(kinds, ["override.revoked", "override.created"]);
}

#[tokio::test]
async fn an_override_needs_a_real_reason_and_a_bounded_ttl() {
    let app = spawn_app(&config()).await;
    let cases = [
        (json!({"team": "payments", "environment": "production"}), "reason"),
        (json!({"team": "payments", "environment": "production", "reason": ""}), "reason"),
        (json!({"team": "payments", "environment": "production", "reason": "hotfix"}), "reason"),
        (json!({"team": "payments", "environment": "production", "reason": "fix it"}), "reason"),
        (
            json!({"team": "payments", "environment": "production", "reason": "Hotfix for outage INC-1", "ttl": "3h"}),
            "ttl",
        ),
        (
            json!({"team": "payments", "environment": "production", "reason": "Hotfix for outage INC-1", "ttl": "soon"}),
            "ttl",
        ),
        (json!({"environment": "production", "reason": "Hotfix for outage INC-1"}), "team"),
        (json!({"team": "pay ments", "environment": "production", "reason": "Hotfix for outage INC-1"}), "team"),
        // A line break would forge a log line; an escape sequence would colour a terminal.
        (
            json!({"team": "payments", "environment": "production", "reason": "Hotfix for outage\nlevel=INFO msg=forged"}),
            "reason",
        ),
        (
            json!({"team": "payments", "environment": "production", "reason": "Hotfix for outage INC-1", "ticket": "INC-1\u{1b}[2J"}),
            "ticket",
        ),
    ];
    for (body, field) in cases {
        let (status, e) = app.call(Method::POST, "/overrides", Some(ADMIN), Some(&body)).await;
        assert_eq!(status, 422, "{body}: {e}");
        assert_eq!(e["error"]["field"], field, "{body}: {e}");
    }
}

#[tokio::test]
async fn without_a_configured_maximum_an_override_lasts_at_most_4h() {
    let config = config().replace("max_override_ttl = \"2h\"\n", "");
    assert!(!config.contains("max_override_ttl"));
    let app = spawn_app(&config).await;
    let body = |ttl: &str| json!({"team": "payments", "environment": "production", "reason": "Hotfix for outage INC-1", "ttl": ttl});
    let (status, e) = app.call(Method::POST, "/overrides", Some(ADMIN), Some(&body("4h1m"))).await;
    assert_eq!((status, e["error"]["field"].as_str()), (422, Some("ttl")), "{e}");
    let (status, o) = app.call(Method::POST, "/overrides", Some(ADMIN), Some(&body("4h"))).await;
    assert_eq!(status, 201, "{o}");
    // And without a ttl, one hour.
    let (_, o) = app
        .call(
            Method::POST,
            "/overrides",
            Some(ADMIN),
            Some(&json!({"team": "payments", "environment": "production", "reason": "Hotfix for outage INC-2"})),
        )
        .await;
    let created: chrono::DateTime<Utc> = o["created_at"].as_str().expect("created_at").parse().expect("time");
    let expires: chrono::DateTime<Utc> = o["expires_at"].as_str().expect("expires_at").parse().expect("time");
    assert_eq!(expires - created, chrono::Duration::hours(1));
}

/// A client retrying with the same Idempotency-Key gets the first answer
/// back, and only one override exists; a key reused for another request is
/// refused.
#[tokio::test]
async fn retries_with_the_same_idempotency_key_create_one_override() {
    let app = spawn_app(&config()).await;
    let body =
        json!({"team": "payments", "environment": "production", "reason": "Hotfix for checkout outage INC-4211"});
    let post = |key: &'static str, token: &'static str, body: serde_json::Value| {
        let (client, url) = (app.client.clone(), format!("{}/overrides", app.address));
        async move {
            let r = client
                .post(url)
                .bearer_auth(token)
                .header("idempotency-key", key)
                .json(&body)
                .send()
                .await
                .expect("post");
            let replayed = r.headers().contains_key("idempotency-replayed");
            (r.status().as_u16(), replayed, r.json::<serde_json::Value>().await.expect("json"))
        }
    };
    let (status, replayed, first) = post("retry-1", ADMIN, body.clone()).await;
    assert_eq!((status, replayed), (201, false), "{first}");
    let (status, replayed, again) = post("retry-1", ADMIN, body.clone()).await;
    assert_eq!((status, replayed), (201, true), "{again}");
    assert_eq!(again["id"], first["id"]);
    let (_, list) = app.call(Method::GET, "/overrides?active=true", Some(ADMIN), None).await;
    assert_eq!(list.as_array().expect("list").len(), 1, "{list}");
    let (_, audit) = app.call(Method::GET, "/audit?kind=override.created", Some(ADMIN), None).await;
    assert_eq!(audit["records"].as_array().expect("records").len(), 1);

    // The same key with another request: refused, nothing created.
    let mut other = body.clone();
    other["ttl"] = json!("30m");
    let (status, _, e) = post("retry-1", ADMIN, other).await;
    assert_eq!((status, error_code(&e).as_str()), (422, "idempotency_key_reused"), "{e}");
    // Keys are per token: the on-call token's "retry-1" is its own.
    let (status, replayed, theirs) = post("retry-1", PAYMENTS_ONCALL, body.clone()).await;
    assert_eq!((status, replayed), (201, false), "{theirs}");
    assert_ne!(theirs["id"], first["id"]);
    // A key that is not short printable text.
    let (status, _, e) = post("a key with spaces", ADMIN, body).await;
    assert_eq!((status, error_code(&e).as_str()), (400, "invalid_header"), "{e}");
}
