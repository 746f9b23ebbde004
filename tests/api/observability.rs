//! The signals operators expect: OpenAPI, metrics, request ids, the
//! calendar feed.

use chrono::{DateTime, Utc};
use deploy_gate::http::ROUTES;
use reqwest::Method;

use crate::helpers::spawn_app;

const CONFIG: &str = r#"
[[windows]]
id = "friday-evening"
reason = "No deploys over the weekend"
timezone = "Europe/Berlin"
cron = "0 17 * * FRI"
duration = "63h"
environments = ["production"]
"#;

#[tokio::test]
async fn openapi_lists_every_route_the_server_has_and_nothing_else() {
    let app = spawn_app(CONFIG).await;
    let (status, doc) = app.get_json("/openapi.json").await;
    assert_eq!(status, 200);
    let mut documented: Vec<(String, String)> = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in item.as_object().expect("path item").keys() {
            documented.push((method.to_ascii_uppercase(), path.clone()));
        }
    }
    let mut served: Vec<(String, String)> = ROUTES.iter().map(|r| (r.method.to_string(), r.path.to_string())).collect();
    documented.sort();
    served.sort();
    assert_eq!(documented, served);

    // Each one is really served: no route_not_found, no method_not_allowed.
    for route in ROUTES {
        let (method, path) = (route.method, route.path);
        let concrete = path.replace("{id}", "some-id").replace("{name}", "some-team");
        let method = Method::from_bytes(method.as_bytes()).expect("method");
        let r = app.client.request(method.clone(), format!("{}{concrete}", app.address)).send().await.expect("request");
        let status = r.status().as_u16();
        let body = r.text().await.unwrap_or_default();
        assert!(
            !body.contains("route_not_found") && status != 405,
            "{method} {path} is documented but not served: {status} {body:.200}"
        );
    }
}

/// Each route's error answers in the OpenAPI document are the catalogue's
/// codes the route table declares, with their status and documentation.
#[tokio::test]
async fn openapi_error_answers_come_from_the_catalogue() {
    let app = spawn_app(CONFIG).await;
    let (_, doc) = app.get_json("/openapi.json").await;
    for route in ROUTES {
        let op = &doc["paths"][route.path][route.method.to_ascii_lowercase()];
        for code in route.all_errors() {
            let response = &op["responses"][code.status().to_string()];
            let text = response["description"].as_str().unwrap_or_default();
            assert!(
                text.contains(&format!("`{}`: {}", code.as_str(), code.doc())),
                "{} {}: {} missing under {}: {text}",
                route.method,
                route.path,
                code.as_str(),
                code.status()
            );
            assert_eq!(response["content"]["application/json"]["schema"]["$ref"], "#/components/schemas/ErrorBody");
        }
    }
}

#[tokio::test]
async fn swagger_ui_is_served_from_the_binary() {
    let app = spawn_app(CONFIG).await;
    let r = app.get("/docs/").await;
    assert_eq!(r.status(), 200);
    let page = r.text().await.expect("html");
    assert!(page.contains("swagger-ui-bundle.js"), "{page:.300}");
    let r = app.get("/docs/swagger-ui-bundle.js").await;
    assert_eq!(r.status(), 200);
    assert!(r.bytes().await.expect("js").len() > 100_000, "the bundle is vendored, not fetched");
}

fn metric(text: &str, series: &str) -> f64 {
    text.lines().find_map(|l| l.strip_prefix(series).and_then(|v| v.trim().parse().ok())).unwrap_or(0.0)
}

#[tokio::test]
async fn metrics_count_decisions_by_result_environment_and_reason() {
    let app = spawn_app(CONFIG).await;
    let text = app.get("/metrics").await.text().await.expect("metrics");
    let deny = "deploy_gate_decisions_total{result=\"deny\",environment=\"production\"}";
    assert_eq!(metric(&text, deny), 0.0);
    // Real decisions count; simulations do not.
    let at = "2026-11-27T18:00:00Z";
    app.get_json(&format!("/can-deploy?team=payments&environment=production&at={at}")).await;
    app.get_json("/can-deploy?team=payments&environment=staging").await;
    let text = app.get("/metrics").await.text().await.expect("metrics");
    assert_eq!(metric(&text, deny), 0.0, "a simulation is not counted");
    assert_eq!(metric(&text, "deploy_gate_decisions_total{result=\"allow\",environment=\"staging\"}"), 1.0, "{text}");
    assert!(
        metric(&text, "deploy_gate_http_request_duration_seconds_count{route=\"/can-deploy\",method=\"GET\"}") >= 2.0
    );
    assert!(text.contains("# TYPE deploy_gate_http_request_duration_seconds histogram"));
    for series in [
        "deploy_gate_active_windows{kind=\"deny\"}",
        "deploy_gate_active_overrides",
        "deploy_gate_config_reloads_total",
        "deploy_gate_config_reload_errors_total",
    ] {
        assert!(text.lines().any(|l| l.starts_with(series)), "{series} missing:\n{text}");
    }
}

#[tokio::test]
async fn every_response_carries_a_request_id_and_echoes_the_callers() {
    let app = spawn_app(CONFIG).await;
    let r = app.get("/healthz").await;
    let id = r.headers()["x-request-id"].to_str().expect("ascii").to_string();
    assert!(id.len() >= 16);
    let r = app.get("/no/such/route").await;
    assert!(r.headers().contains_key("x-request-id"), "errors carry it too");
    let r = app
        .client
        .get(format!("{}/healthz", app.address))
        .header("x-request-id", "ci-run-42.step-3")
        .send()
        .await
        .expect("get");
    assert_eq!(r.headers()["x-request-id"], "ci-run-42.step-3");
    let r = app
        .client
        .get(format!("{}/healthz", app.address))
        .header("x-request-id", "bad id with spaces")
        .send()
        .await
        .expect("get");
    assert_ne!(r.headers()["x-request-id"], "bad id with spaces");
}

#[tokio::test]
async fn the_calendar_feed_parses_and_keeps_local_times_across_a_dst_change() {
    let app = spawn_app(CONFIG).await;
    // Berlin leaves summer time on 2026-10-25: Friday 17:00 is 15:00Z before,
    // 16:00Z after; 63 h are elapsed time, so the freeze that spans the change
    // ends at 07:00 CET (06:00Z), the next at 08:00 CET (07:00Z).
    let r = app.get("/calendar.ics?from=2026-10-19T00:00:00Z&to=2026-11-02T00:00:00Z&environment=production").await;
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"].to_str().expect("ascii").starts_with("text/calendar"));
    let text = r.text().await.expect("ics");
    assert!(text.contains("\r\n"), "RFC 5545 lines end in CRLF");
    let unfolded = icalendar::parser::unfold(&text);
    let calendar = icalendar::parser::read_calendar(&unfolded).expect("an iCalendar parser reads it");
    let events: Vec<_> = calendar.components.iter().filter(|c| c.name == "VEVENT").collect();
    let value = |c: &icalendar::parser::Component, name: &str| {
        c.properties.iter().find(|p| p.name == name).map(|p| p.val.to_string()).unwrap_or_default()
    };
    let instant = |s: String| {
        DateTime::parse_from_str(&format!("{s}+0000"), "%Y%m%dT%H%M%SZ%z").expect("UTC time").with_timezone(&Utc)
    };
    let got: Vec<(DateTime<Utc>, DateTime<Utc>)> =
        events.iter().map(|e| (instant(value(e, "DTSTART")), instant(value(e, "DTEND")))).collect();
    let t = |s: &str| s.parse::<DateTime<Utc>>().expect("t");
    assert_eq!(
        got,
        [
            // Started before `from`, still open at it.
            (t("2026-10-16T15:00:00Z"), t("2026-10-19T06:00:00Z")),
            (t("2026-10-23T15:00:00Z"), t("2026-10-26T06:00:00Z")),
            (t("2026-10-30T16:00:00Z"), t("2026-11-02T07:00:00Z")),
        ]
    );
    assert!(value(events[0], "SUMMARY").contains("No deploys over the weekend"));
    assert!(value(events[0], "UID").contains("friday-evening"));
    // Filters as /calendar: nothing for staging.
    let text = app
        .get("/calendar.ics?from=2026-10-19T00:00:00Z&to=2026-11-02T00:00:00Z&environment=staging")
        .await
        .text()
        .await
        .expect("ics");
    assert!(!text.contains("BEGIN:VEVENT"));
    let (status, _) = app.call(Method::GET, "/calendar.ics?from=nope", None, None).await;
    assert_eq!(status, 400);
}
