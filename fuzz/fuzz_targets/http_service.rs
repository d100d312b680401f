//! The Streamable HTTP endpoint fed arbitrary requests (method, path, headers, body) in
//! process: every one is answered, never with a server error, and nothing panics. A response
//! that streams (a legacy GET stream) is read for a moment and dropped.
#![no_main]

use std::time::Duration;

use arbitrary::Arbitrary;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use libfuzzer_sys::fuzz_target;
use mocopr_fuzz::{runtime, server};
use mocopr_transport::http::EndpointConfig;
use tower::ServiceExt;

#[derive(Debug, Arbitrary)]
struct Input<'a> {
    method: u8,
    path: &'a str,
    headers: Vec<(u8, &'a str)>,
    body: &'a [u8],
}

const METHODS: &[&str] = &["POST", "GET", "DELETE", "OPTIONS", "PUT", "HEAD"];
const HEADERS: &[&str] = &[
    "content-type",
    "accept",
    "mcp-protocol-version",
    "mcp-session-id",
    "mcp-method",
    "mcp-name",
    "mcp-param-text",
    "last-event-id",
    "origin",
    "host",
    "content-length",
    "authorization",
];

fuzz_target!(|input: Input<'_>| {
    let mut request = http::Request::builder()
        .method(METHODS[usize::from(input.method) % METHODS.len()])
        .uri(format!("/{}", input.path.trim_start_matches('/')));
    request = request.header("host", "127.0.0.1");
    for (name, value) in &input.headers {
        request = request.header(HEADERS[usize::from(*name) % HEADERS.len()], *value);
    }
    let Ok(request) = request.body(Full::new(Bytes::copy_from_slice(input.body))) else { return };
    runtime().block_on(async {
        let endpoint = server().into_http(EndpointConfig::default());
        let answered = tokio::time::timeout(Duration::from_secs(30), endpoint.oneshot(request)).await;
        let response = answered.expect("every request is answered").expect("infallible");
        assert!(!response.status().is_server_error() || response.status() == 503, "{}", response.status());
        let _ = tokio::time::timeout(Duration::from_millis(20), response.into_body().collect()).await;
    });
});
