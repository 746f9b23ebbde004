use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{ADMIN, PAYMENTS_ONCALL, READER, auth_config, error_code, spawn_app};

/// Every mutating route, and the read routes that need a role, refuse
/// callers without the right token: 401 (with WWW-Authenticate: Bearer) when
/// there is no usable token, 403 when the token lacks the role or scope.
#[tokio::test]
async fn every_protected_route_refuses_the_wrong_callers() {
    let window = json!({"id": "x", "start": "2030-01-01T00:00:00Z", "end": "2030-01-02T00:00:00Z"});
    let override_search =
        json!({"team": "search", "environment": "production", "reason": "Hotfix for search outage INC-1"});
    let routes: Vec<(Method, &str, Option<Value>)> = vec![
        (Method::POST, "/windows", Some(window.clone())),
        (Method::PUT, "/windows/x", Some(window.clone())),
        (Method::DELETE, "/windows/x", None),
        (Method::PUT, "/teams/search", Some(json!({"status": "red"}))),
        (Method::POST, "/overrides", Some(override_search)),
        (Method::DELETE, "/overrides/ovr-1", None),
        (Method::GET, "/overrides", None),
        (Method::GET, "/audit", None),
    ];
    for (method, path, body) in &routes {
        // A gate per route: more bad tokens from one address than this would be throttled.
        let app = spawn_app(&auth_config()).await;
        // (header, expected status)
        let mut callers: Vec<(Option<String>, u16)> = vec![
            (None, 401),
            (Some(format!("Basic {ADMIN}")), 401),
            (Some("Bearer not-a-known-token-at-all".into()), 401),
            (Some("Bearer ".into()), 401),
        ];
        // The read token may read the audit log; the override token may list overrides.
        if *path != "/audit" {
            callers.push((Some(format!("Bearer {READER}")), 403));
        }
        if *path != "/overrides" || *method != Method::GET {
            callers.push((Some(format!("Bearer {PAYMENTS_ONCALL}")), 403));
        }
        for (header, want) in callers {
            let mut r = app.client.request(method.clone(), format!("{}{path}", app.address));
            if let Some(h) = &header {
                r = r.header("authorization", h);
            }
            if let Some(b) = body {
                r = r.json(b);
            }
            let response = r.send().await.expect("request");
            let status = response.status().as_u16();
            let www = response.headers().get("www-authenticate").map(|v| v.to_str().unwrap_or("").to_string());
            let json: Value = response.json().await.expect("json");
            let shown =
                format!("{method} {path} with {:?}", header.as_deref().map(|h| h.split(' ').next().unwrap_or("")));
            assert_eq!(status, want, "{shown}: {json}");
            let code = error_code(&json);
            if want == 401 {
                assert_eq!(code, "unauthorized", "{shown}");
                assert_eq!(www.as_deref(), Some("Bearer"), "{shown}");
            } else {
                assert_eq!(code, "forbidden", "{shown}");
            }
        }
    }
}

#[tokio::test]
async fn the_right_roles_get_through() {
    let app = spawn_app(&auth_config()).await;
    let (status, _) = app.call(Method::GET, "/audit", Some(READER), None).await;
    assert_eq!(status, 200);
    let (status, _) = app.call(Method::GET, "/audit", Some(ADMIN), None).await;
    assert_eq!(status, 200);
    let (status, _) = app.call(Method::GET, "/overrides?active=true", Some(PAYMENTS_ONCALL), None).await;
    assert_eq!(status, 200);
    // Decisions need no token by default, and a token may still be sent.
    let (status, _) = app.call(Method::GET, "/can-deploy?team=payments&environment=production", None, None).await;
    assert_eq!(status, 200);
    let (status, _) =
        app.call(Method::GET, "/can-deploy?team=payments&environment=production", Some(READER), None).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn decisions_need_a_token_when_configured() {
    const DEPLOYER: &str = "deploy-token-0123456789abcdef";
    const TEAM: &str = "team-token-0123456789abcdef";
    let config = format!(
        "{}{}{}",
        auth_config().replace("[auth]\n", "[auth]\ndecisions_need_token = true\n"),
        crate::helpers::token_lines("ci", DEPLOYER, "deploy", ""),
        crate::helpers::token_lines("payments-team", TEAM, "team", ""),
    );
    let app = spawn_app(&config).await;
    let ask = "/can-deploy?team=payments&environment=production";
    let (status, body) = app.call(Method::GET, ask, None, None).await;
    assert_eq!(status, 401, "{body}");
    // A pipeline's deploy token asks as well as it reports; a team token edits its scorecard only.
    for (token, want) in [(READER, 200), (DEPLOYER, 200), (TEAM, 403)] {
        let (status, body) = app.call(Method::GET, ask, Some(token), None).await;
        assert_eq!(status, want, "{body}");
    }
}

/// A client that keeps presenting bad tokens is counted and answered 429
/// with Retry-After, while a good token from the same address still gets through.
#[tokio::test]
async fn bad_tokens_are_counted_and_throttled_without_slowing_good_ones() {
    let app = spawn_app(&auth_config()).await;
    let mut statuses = Vec::new();
    for i in 0..40 {
        let r = app
            .client
            .get(format!("{}/audit", app.address))
            .bearer_auth(format!("wrong-token-{i}"))
            .send()
            .await
            .expect("request");
        if r.status() == 429 {
            let wait: u64 = r.headers()["retry-after"].to_str().expect("ascii").parse().expect("seconds");
            assert!(wait >= 1, "Retry-After {wait}");
        }
        statuses.push(r.status().as_u16());
    }
    assert!(statuses[..10].iter().all(|s| *s == 401), "the first failures are plain 401s: {statuses:?}");
    assert!(statuses[10..].iter().all(|s| *s == 429), "then 429: {statuses:?}");
    // The good token is not held up.
    let (status, _) = app.call(reqwest::Method::GET, "/audit", Some(READER), None).await;
    assert_eq!(status, 200);
    let metrics = app.get("/metrics").await.text().await.expect("metrics");
    assert!(metrics.contains("deploy_gate_auth_failures_total{reason=\"unknown_token\"} 40"), "{metrics}");
    assert!(metrics.contains("deploy_gate_auth_failures_total{reason=\"throttled\"} 30"), "{metrics}");
}

/// `[auth] reads_need_token = true`: every read route (the dashboard too)
/// needs a read or admin token; health checks and decisions stay open; a
/// browser may give the token as the password of its login prompt.
#[tokio::test]
async fn reads_can_be_put_behind_a_read_token() {
    let config = auth_config().replace("[auth]\n", "[auth]\nreads_need_token = true\n");
    let app = spawn_app(&config).await;
    for path in ["/", "/windows", "/calendar", "/teams", "/metrics", "/openapi.json"] {
        let r = app.client.get(format!("{}{path}", app.address)).send().await.expect("get");
        assert_eq!(r.status(), 401, "{path}");
        let challenges: Vec<&str> =
            r.headers().get_all("www-authenticate").iter().filter_map(|v| v.to_str().ok()).collect();
        assert!(challenges.contains(&"Bearer"), "{path}: {challenges:?}");
        if path == "/" {
            assert!(challenges.iter().any(|c| c.starts_with("Basic realm=")), "the dashboard offers a login prompt");
        }
        let (status, _) = app.call(Method::GET, path, Some(READER), None).await;
        assert_eq!(status, 200, "{path} with the read token");
    }
    // The override token is no read token.
    let (status, _) = app.call(Method::GET, "/windows", Some(PAYMENTS_ONCALL), None).await;
    assert_eq!(status, 403);
    for path in ["/healthz", "/readyz", "/can-deploy?team=payments&environment=production"] {
        let (status, _) = app.call(Method::GET, path, None, None).await;
        assert_eq!(status, 200, "{path} stays open");
    }
    // A browser's login: any user, the token as the password.
    use base64::Engine;
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("me:{READER}"));
    let r = app
        .client
        .get(format!("{}/", app.address))
        .header("authorization", format!("Basic {basic}"))
        .send()
        .await
        .expect("get");
    assert_eq!(r.status(), 200);
}
