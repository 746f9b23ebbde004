//! What the HTTP layer answers itself, before any route: malformed requests
//! and oversized headers get a 4xx in the usual error shape, never a
//! dropped connection.

use std::io::{Read, Write};
use std::time::Duration;

use serde_json::Value;

use crate::helpers::spawn_app;

/// Send raw bytes and read the answer: status and JSON body.
fn raw(address: &str, request: &[u8]) -> (u16, Value) {
    let host = address.trim_start_matches("http://");
    let mut s = std::net::TcpStream::connect(host).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
    // The server may answer before it has read everything: ignore a reset write.
    let _ = s.write_all(request);
    let mut answer = Vec::new();
    let _ = s.read_to_end(&mut answer);
    let text = String::from_utf8_lossy(&answer);
    let status =
        text.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or_else(|| panic!("no answer: {text:.200}"));
    let body = text.split("\r\n\r\n").nth(1).unwrap_or_default();
    (status, serde_json::from_str(body).unwrap_or_else(|_| panic!("not JSON: {text:.300}")))
}

#[tokio::test]
async fn protocol_errors_answer_in_the_error_shape() {
    let app = spawn_app("").await;
    let address = app.address.clone();
    let cases: Vec<(Vec<u8>, u16, &str)> = vec![
        // A 64 KiB header name: the published actix-http panics on it.
        (
            [b"GET /healthz HTTP/1.1\r\nHost: x\r\n".to_vec(), vec![b'a'; 65_536], b": v\r\n\r\n".to_vec()].concat(),
            400,
            "malformed_request",
        ),
        // Headers over 128 KiB in all.
        (
            [b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ".to_vec(), vec![b'v'; 140_000], b"\r\n\r\n".to_vec()]
                .concat(),
            431,
            "header_too_large",
        ),
        (b"G\x01T /healthz HTTP/1.1\r\nHost: x\r\n\r\n".to_vec(), 400, "malformed_request"),
    ];
    for (request, status, code) in cases {
        let address = address.clone();
        let (got, body) = tokio::task::spawn_blocking(move || raw(&address, &request)).await.expect("join");
        assert_eq!((got, body["error"]["code"].as_str()), (status, Some(code)), "{body}");
        assert!(body["error"]["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    // And the server goes on answering.
    let (status, _) = app.get_json("/healthz").await;
    assert_eq!(status, 200);
}
