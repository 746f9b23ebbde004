use reqwest::Method;

use crate::can_deploy::CONFIG;
use crate::helpers::{error_code, spawn_app};

/// (method, path, body, status, code, field)
type Case<'a> = (Method, String, &'a str, u16, &'a str, Option<&'a str>);

/// Every route given bad input answers a 4xx in the contract's error shape,
/// with the field to blame where there is one.
#[tokio::test]
async fn bad_input_gets_a_4xx_in_the_error_shape_never_a_5xx() {
    let app = spawn_app(CONFIG).await;
    let long = "x".repeat(65);
    let big = format!("{{\"team\": \"{}\"}}", "x".repeat(70_000));
    let cases: Vec<Case> = vec![
        (Method::GET, "/can-deploy".into(), "", 400, "missing_parameter", Some("team")),
        (Method::GET, "/can-deploy?environment=production".into(), "", 400, "missing_parameter", Some("team")),
        (Method::GET, "/can-deploy?team=payments".into(), "", 400, "missing_parameter", Some("environment")),
        (
            Method::GET,
            "/can-deploy?team=payments&environment=prod%20uction".into(),
            "",
            400,
            "invalid_parameter",
            Some("environment"),
        ),
        (
            Method::GET,
            "/can-deploy?team=payments&environment=prod%2Fuction".into(),
            "",
            400,
            "invalid_parameter",
            Some("environment"),
        ),
        (
            Method::GET,
            "/can-deploy?team=pay;ments&environment=production".into(),
            "",
            400,
            "invalid_parameter",
            Some("team"),
        ),
        (
            Method::GET,
            format!("/can-deploy?team={long}&environment=production"),
            "",
            400,
            "invalid_parameter",
            Some("team"),
        ),
        (
            Method::GET,
            "/can-deploy?team=payments&service=a%20b&environment=production".into(),
            "",
            400,
            "invalid_parameter",
            Some("service"),
        ),
        (
            Method::GET,
            "/can-deploy?team=payments&environment=production&at=yesterday".into(),
            "",
            400,
            "invalid_parameter",
            Some("at"),
        ),
        (
            Method::GET,
            "/can-deploy?team=payments&environment=production&at=2026-11-27T18:00:00".into(),
            "",
            400,
            "invalid_parameter",
            Some("at"),
        ),
        (
            Method::GET,
            "/can-deploy?team=payments&environment=production&expected_duration=forever".into(),
            "",
            400,
            "invalid_parameter",
            Some("expected_duration"),
        ),
        (
            Method::GET,
            "/can-deploy?team=payments&environment=production&expected_duration=30d".into(),
            "",
            400,
            "invalid_parameter",
            Some("expected_duration"),
        ),
        (
            Method::GET,
            "/can-deploy?team=payments&environment=production&expected_duration=0s".into(),
            "",
            400,
            "invalid_parameter",
            Some("expected_duration"),
        ),
        (Method::GET, "/can-deploy?team=%FF&environment=production".into(), "", 400, "invalid_parameter", Some("team")),
        (Method::POST, "/can-deploy".into(), "{\"team\":", 400, "invalid_json", Some("body")),
        (Method::POST, "/can-deploy".into(), "[1, 2]", 400, "invalid_json", Some("body")),
        (
            Method::POST,
            "/can-deploy".into(),
            "{\"team\": 5, \"environment\": \"production\"}",
            400,
            "invalid_json",
            Some("body"),
        ),
        (Method::POST, "/can-deploy".into(), "{}", 400, "missing_parameter", Some("team")),
        (
            Method::POST,
            "/can-deploy".into(),
            "{\"team\": \"payments\", \"environment\": \"production\", \"at\": \"soon\"}",
            400,
            "invalid_parameter",
            Some("at"),
        ),
        (Method::POST, "/can-deploy".into(), &big, 413, "payload_too_large", None),
        (Method::DELETE, "/can-deploy".into(), "", 405, "method_not_allowed", None),
        (Method::GET, "/windows?at=noon".into(), "", 400, "invalid_parameter", Some("at")),
        (Method::GET, "/windows/no-such-window".into(), "", 404, "window_not_found", None),
        (
            Method::GET,
            "/windows/friday-evening?at=2026-13-01T00:00:00Z".into(),
            "",
            400,
            "invalid_parameter",
            Some("at"),
        ),
        (Method::GET, "/calendar?from=last-week".into(), "", 400, "invalid_parameter", Some("from")),
        (
            Method::GET,
            "/calendar?from=2026-12-01T00:00:00Z&to=2026-11-01T00:00:00Z".into(),
            "",
            400,
            "invalid_parameter",
            Some("to"),
        ),
        (
            Method::GET,
            "/calendar?from=2026-01-01T00:00:00Z&to=2028-01-01T00:00:00Z".into(),
            "",
            400,
            "invalid_parameter",
            Some("to"),
        ),
        (Method::GET, "/calendar?environment=a%20b".into(), "", 400, "invalid_parameter", Some("environment")),
        (Method::GET, "/teams/nobody".into(), "", 404, "team_not_found", None),
        (Method::POST, "/teams".into(), "{}", 405, "method_not_allowed", None),
        (Method::GET, "/no/such/route".into(), "", 404, "route_not_found", None),
        // A typo is refused, not dropped while a decision is made without it.
        (
            Method::GET,
            "/can-deploy?team=payments&environment=production&expected_duraton=2h".into(),
            "",
            400,
            "unknown_parameter",
            Some("expected_duraton"),
        ),
        (
            Method::POST,
            "/can-deploy".into(),
            "{\"team\": \"payments\", \"enviroment\": \"production\"}",
            400,
            "unknown_parameter",
            Some("enviroment"),
        ),
        (Method::GET, "/calendar?form=2026-12-01".into(), "", 400, "unknown_parameter", Some("form")),
        (
            Method::GET,
            "/windows?at=2026-12-01T00:00:00Z&at=2026-12-02T00:00:00Z".into(),
            "",
            400,
            "invalid_parameter",
            Some("at"),
        ),
    ];
    for (method, path, body, want_status, want_code, want_field) in cases {
        let (status, json) = app.send_raw(method.clone(), &path, body).await;
        let shown = format!("{method} {}", &path[..path.len().min(80)]);
        assert_eq!(status, want_status, "{shown}: {json}");
        assert_eq!(error_code(&json), want_code, "{shown}: {json}");
        assert_eq!(json["error"]["field"].as_str(), want_field, "{shown}: {json}");
    }
}

#[tokio::test]
async fn extreme_but_valid_input_gets_an_answer_not_a_crash() {
    let app = spawn_app(CONFIG).await;
    let long_multibyte = "%C3%A9".repeat(40);
    let (status, e) = app.get_json(&format!("/can-deploy?team={long_multibyte}&environment=production")).await;
    assert_eq!((status, error_code(&e).as_str()), (400, "invalid_parameter"));
    for at in ["0001-01-01T00:00:00Z", "1969-12-31T23:59:59Z", "2099-12-31T23:00:00Z", "9999-12-31T23:59:59Z"] {
        for path in [
            format!("/can-deploy?team=search&environment=production&expected_duration=7d&at={at}"),
            format!("/windows/friday-evening?at={at}"),
            format!("/windows?at={at}"),
            format!("/calendar?from={at}"),
        ] {
            let (status, body) = app.get_json(&path).await;
            assert!(status < 500, "{path}: {status} {body}");
        }
    }
}

/// An unknown parameter records no decision.
#[tokio::test]
async fn a_misspelt_parameter_is_named_and_records_nothing() {
    let app = spawn_app(CONFIG).await;
    let (status, e) = app.get_json("/can-deploy?team=payments&environment=production&expected_duraton=2h").await;
    assert_eq!(status, 400);
    assert!(e["error"]["message"].as_str().expect("message").contains("did you mean `expected_duration`?"), "{e}");
    let metrics = app.get("/metrics").await.text().await.expect("metrics");
    assert!(!metrics.contains("deploy_gate_decisions_total{"), "no decision was made: {metrics}");
}

#[tokio::test]
async fn messages_say_what_to_fix() {
    let app = spawn_app(CONFIG).await;
    let (_, json) = app.get_json("/can-deploy?environment=production").await;
    assert!(json["error"]["message"].as_str().expect("message").contains("team=payments"), "{json}");
    let (_, json) = app.get_json("/can-deploy?team=payments&environment=production&at=tomorrow").await;
    assert!(json["error"]["message"].as_str().expect("message").contains("RFC 3339"), "{json}");
}
