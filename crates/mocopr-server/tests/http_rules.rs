//! The protocol's input rules over real HTTP on loopback, each hostile shape sent and its exact
//! answer checked, with a normal request served on the same endpoint after each: notifications
//! are never answered, names no method has get -32601, conflicting duplicate headers and
//! malformed or foreign `Origin`s are refused, `Host` and `Origin` are separate knobs, and a
//! legacy session's requests speak only legacy revisions; and what a session may make the server
//! keep is bounded (`ServerLimits`).

use bytes::Bytes;
use http::{Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use mocopr_server::{EndpointConfig, McpServer, ServerLimits, serve_http};
use serde_json::Value;

const META: &str = r#""_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}"#;

async fn start(config: EndpointConfig) -> String {
    let server = McpServer::builder().tool("hello", || async { "hello" }).build().expect("server");
    serve(server, config).await
}

async fn serve(server: McpServer, config: EndpointConfig) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}/mcp", listener.local_addr().expect("addr"));
    tokio::spawn(serve_http(listener, server.into_http(config)).into_future());
    url
}

fn client() -> Client<HttpConnector, Full<Bytes>> {
    Client::builder(TokioExecutor::new()).build_http()
}

/// POSTs `body` with `headers` (appended, so a name may repeat): status, headers, body.
async fn post(url: &str, headers: &[(&str, &str)], body: &str) -> (StatusCode, http::HeaderMap, Vec<u8>) {
    let mut request = Request::post(url)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream");
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    let response =
        client().request(request.body(Full::new(Bytes::from(body.to_owned()))).unwrap()).await.expect("response");
    let (parts, body) = response.into_parts();
    (parts.status, parts.headers, body.collect().await.expect("body").to_bytes().to_vec())
}

const MODERN: [(&str, &str); 3] =
    [("mcp-protocol-version", "2026-07-28"), ("mcp-method", "tools/call"), ("mcp-name", "hello")];

fn call(id: u32) -> String {
    format!(r#"{{"jsonrpc":"2.0","id":{id},"method":"tools/call","params":{{"name":"hello",{META}}}}}"#)
}

/// A normal modern call still gets its answer.
async fn still_served(url: &str) {
    let (status, _, body) = post(url, &MODERN, &call(99)).await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    assert!(String::from_utf8_lossy(&body).contains("hello"));
}

fn code(body: &[u8]) -> i64 {
    let value: Value =
        serde_json::from_slice(body).unwrap_or_else(|_| panic!("JSON: {}", String::from_utf8_lossy(body)));
    value["error"]["code"].as_i64().expect("an error code")
}

#[tokio::test]
async fn notifications_are_never_answered_whatever_they_carry() {
    let url = start(EndpointConfig::default()).await;
    let headers = [("mcp-protocol-version", "2026-07-28")];
    for body in [
        r#"{"jsonrpc":"2.0","method":"notifications/cancelled","params":[1,2]}"#,
        r#"{"jsonrpc":"2.0","method":"notifications/cancelled","params":"text"}"#,
        r#"{"jsonrpc":"2.0","method":""}"#,
        r#"{"jsonrpc":"2.0","method":"rpc.anything"}"#,
        r#"{"jsonrpc":"2.0","method":7}"#,
        r#"{"jsonrpc":"1.0","method":"notifications/initialized"}"#,
    ] {
        let (status, _, answer) = post(&url, &headers, body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert!(answer.is_empty(), "{body} was answered: {}", String::from_utf8_lossy(&answer));
        still_served(&url).await;
    }
    // A well-formed one is accepted, with no body either.
    let (status, _, answer) =
        post(&url, &headers, r#"{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":1}}"#).await;
    assert_eq!((status, answer.len()), (StatusCode::ACCEPTED, 0));
}

#[tokio::test]
async fn names_no_method_has_are_not_found() {
    let url = start(EndpointConfig::default()).await;
    for method in ["", "rpc.discover", "tools/\\u0000list", "\\u001b[31m"] {
        let body = format!(r#"{{"jsonrpc":"2.0","id":5,"method":"{method}","params":{{{META}}}}}"#);
        let (status, _, answer) = post(&url, &[("mcp-protocol-version", "2026-07-28")], &body).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{method}");
        assert_eq!(code(&answer), -32601, "{method}");
        let value: Value = serde_json::from_slice(&answer).expect("JSON");
        assert_eq!(value["id"], 5, "answered to its id");
    }
    still_served(&url).await;
}

#[tokio::test]
async fn an_array_body_is_refused_where_no_batch_is_allowed() {
    let url = start(EndpointConfig::default()).await;
    // Malformed after the first byte: refused before it is parsed, so it is not a parse error.
    let (status, _, answer) = post(&url, &MODERN, "[1,2,3 and never closed").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(code(&answer), -32600);
    still_served(&url).await;
}

#[tokio::test]
async fn conflicting_duplicate_headers_are_refused() {
    let url = start(EndpointConfig::default()).await;
    let cases: [&[(&str, &str)]; 4] = [
        &[
            ("mcp-protocol-version", "2026-07-28"),
            ("mcp-protocol-version", "2025-06-18"),
            ("mcp-method", "tools/call"),
            ("mcp-name", "hello"),
        ],
        &[
            ("mcp-protocol-version", "2026-07-28"),
            ("mcp-method", "tools/call"),
            ("mcp-method", "tools/list"),
            ("mcp-name", "hello"),
        ],
        &[
            ("mcp-protocol-version", "2026-07-28"),
            ("mcp-method", "tools/call"),
            ("mcp-name", "hello"),
            ("mcp-name", "other"),
        ],
        &[
            ("mcp-protocol-version", "2026-07-28"),
            ("mcp-method", "tools/call"),
            ("mcp-name", "hello"),
            ("mcp-session-id", "a"),
            ("mcp-session-id", "b"),
        ],
    ];
    for headers in cases {
        let (status, _, answer) = post(&url, headers, &call(1)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{headers:?}");
        assert_eq!(code(&answer), -32600, "{headers:?}");
    }
    // The same value twice is no conflict.
    let mut same = MODERN.to_vec();
    same.push(("mcp-name", "hello"));
    let (status, _, _) = post(&url, &same, &call(2)).await;
    assert_eq!(status, StatusCode::OK);
    // Two Origins are refused even when both are allowed.
    let (status, _, _) = post(
        &url,
        &[MODERN[0], MODERN[1], MODERN[2], ("origin", "http://localhost"), ("origin", "http://127.0.0.1")],
        &call(3),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    still_served(&url).await;
}

#[tokio::test]
async fn origins_are_matched_on_scheme_host_and_port() {
    let url = start(EndpointConfig::default()).await;
    let with_origin = |origin: &'static str| [MODERN[0], MODERN[1], MODERN[2], ("origin", origin)];
    for origin in ["http://localhost:5173", "https://127.0.0.1", "http://[::1]:8080"] {
        let (status, _, _) = post(&url, &with_origin(origin), &call(1)).await;
        assert_eq!(status, StatusCode::OK, "{origin}");
    }
    for origin in [
        "http://localhost:1@evil.example",
        "http://[::1]@evil.example",
        "ftp://localhost",
        "null",
        "http://evil.example",
    ] {
        let (status, _, _) = post(&url, &with_origin(origin), &call(1)).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{origin}");
    }

    // Exactly one origin: another port or scheme of the same host is another origin.
    let url = start(EndpointConfig::builder().with_allowed_origins(["http://localhost:5173"]).build()).await;
    assert_eq!(post(&url, &with_origin("http://localhost:5173"), &call(1)).await.0, StatusCode::OK);
    assert_eq!(post(&url, &with_origin("http://localhost:5174"), &call(1)).await.0, StatusCode::FORBIDDEN);
    assert_eq!(post(&url, &with_origin("https://localhost:5173"), &call(1)).await.0, StatusCode::FORBIDDEN);
    still_served(&url).await;
}

#[tokio::test]
async fn any_host_leaves_the_origin_check_on() {
    let url = start(EndpointConfig::builder().with_any_host().build()).await;
    let request = |origin: Option<&'static str>| {
        let mut headers = vec![MODERN[0], MODERN[1], MODERN[2], ("host", "mcp.example.com")];
        headers.extend(origin.map(|o| ("origin", o)));
        headers
    };
    assert_eq!(post(&url, &request(None), &call(1)).await.0, StatusCode::OK, "any Host");
    assert_eq!(post(&url, &request(Some("http://evil.example")), &call(1)).await.0, StatusCode::FORBIDDEN);

    let url = start(EndpointConfig::builder().with_any_host().with_any_origin().build()).await;
    assert_eq!(post(&url, &request(Some("http://evil.example")), &call(1)).await.0, StatusCode::OK, "both off");
}

/// Opens a legacy session at `version`: its id.
async fn initialize(url: &str, version: &str) -> String {
    let init = format!(
        r#"{{"jsonrpc":"2.0","id":1,"method":"initialize","params":{{"protocolVersion":"{version}","capabilities":{{}},"clientInfo":{{"name":"t","version":"1"}}}}}}"#
    );
    let (status, headers, _) = post(url, &[], &init).await;
    assert_eq!(status, StatusCode::OK);
    headers.get("mcp-session-id").expect("a session").to_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_legacy_session_speaks_only_legacy_revisions() {
    let url = start(EndpointConfig::default()).await;
    let session = initialize(&url, "2025-06-18").await;
    let list = r#"{"jsonrpc":"2.0","id":2,"method":"tools/list"}"#;
    // The negotiated revision, another legacy one (the official suite sends one), or none.
    for version in [Some("2025-06-18"), Some("2025-03-26"), None] {
        let mut headers = vec![("mcp-session-id", session.as_str())];
        headers.extend(version.map(|v| ("mcp-protocol-version", v)));
        let (status, _, answer) = post(&url, &headers, list).await;
        assert_eq!(status, StatusCode::OK, "{version:?}: {}", String::from_utf8_lossy(&answer));
    }
    for version in ["2026-07-28", "1999-01-01", "garbage"] {
        let headers = [("mcp-session-id", session.as_str()), ("mcp-protocol-version", version)];
        let (status, _, answer) = post(&url, &headers, list).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{version}");
        assert_eq!(code(&answer), -32600);
    }
    // A name no method has is -32601 there too, but not a 404 (which would end the session).
    let headers = [("mcp-session-id", session.as_str()), ("mcp-protocol-version", "2025-06-18")];
    let (status, _, answer) = post(&url, &headers, r#"{"jsonrpc":"2.0","id":3,"method":"rpc.x"}"#).await;
    assert_eq!((status, code(&answer)), (StatusCode::BAD_REQUEST, -32601));
    let (status, _, _) = post(&url, &headers, list).await;
    assert_eq!(status, StatusCode::OK, "the session lives on");
    still_served(&url).await;
}

#[tokio::test]
async fn a_batch_of_refused_notifications_is_refused_without_an_answer() {
    let url = start(EndpointConfig::default()).await;
    let session = initialize(&url, "2025-03-26").await;
    let headers = [("mcp-session-id", session.as_str())];
    let batch = r#"[{"jsonrpc":"2.0","method":""},{"jsonrpc":"2.0","method":"notifications/cancelled","params":[1]}]"#;
    let (status, _, answer) = post(&url, &headers, batch).await;
    assert_eq!((status, answer.len()), (StatusCode::BAD_REQUEST, 0), "{}", String::from_utf8_lossy(&answer));
    // With a request in it, the request alone is answered.
    let batch = r#"[{"jsonrpc":"2.0","method":""},{"jsonrpc":"2.0","id":8,"method":"tools/list"}]"#;
    let (status, _, answer) = post(&url, &headers, batch).await;
    assert_eq!(status, StatusCode::OK);
    let answers: Vec<Value> = serde_json::from_slice(&answer).expect("a JSON array");
    assert_eq!(answers.len(), 1, "{answers:?}");
    assert_eq!(answers[0]["id"], 8);
    still_served(&url).await;
}

#[tokio::test]
async fn what_a_session_keeps_is_bounded() {
    let limits = ServerLimits::builder().with_max_subscriptions(3).with_max_uri_length(64).build();
    let server = McpServer::builder()
        .with_limits(limits)
        .tool("hello", || async { "hello" })
        .resource("mem://a", || async { "a" })
        .build()
        .expect("server");
    let url = serve(server, EndpointConfig::default()).await;

    // A handshake of 1 MiB of capabilities is refused, and no session is opened for it.
    let padding = "x".repeat(1024 * 1024);
    let init = format!(
        r#"{{"jsonrpc":"2.0","id":1,"method":"initialize","params":{{"protocolVersion":"2025-06-18","capabilities":{{"experimental":{{"pad":{{"v":"{padding}"}}}}}},"clientInfo":{{"name":"t","version":"1"}}}}}}"#
    );
    let (status, headers, answer) = post(&url, &[], &init).await;
    assert_eq!((status, code(&answer)), (StatusCode::BAD_REQUEST, -32602), "{}", String::from_utf8_lossy(&answer));
    assert!(headers.get("mcp-session-id").is_none(), "no session for a refused handshake");
    assert!(answer.len() < 1024, "the answer does not echo the input");
    // Nor does the error of a handshake that does not decode.
    let quoted = format!(
        r#"{{"jsonrpc":"2.0","id":1,"method":"initialize","params":{{"protocolVersion":"2025-06-18","capabilities":"{padding}","clientInfo":{{"name":"t","version":"1"}}}}}}"#
    );
    let (_, _, answer) = post(&url, &[], &quoted).await;
    assert!(answer.len() < 1024, "{} bytes", answer.len());

    let session = initialize(&url, "2025-06-18").await;
    let headers = [("mcp-session-id", session.as_str()), ("mcp-protocol-version", "2025-06-18")];
    let subscribe = |id: u32, uri: &str| {
        format!(r#"{{"jsonrpc":"2.0","id":{id},"method":"resources/subscribe","params":{{"uri":"{uri}"}}}}"#)
    };
    for n in 0..3 {
        let (status, _, answer) = post(&url, &headers, &subscribe(n, &format!("mem://{n}"))).await;
        assert_eq!(status, StatusCode::OK);
        assert!(serde_json::from_slice::<Value>(&answer).expect("JSON")["result"].is_object());
    }
    // The same URI again is no new subscription; a fourth one is refused.
    let (_, _, answer) = post(&url, &headers, &subscribe(7, "mem://0")).await;
    assert!(serde_json::from_slice::<Value>(&answer).expect("JSON")["result"].is_object());
    let (_, _, answer) = post(&url, &headers, &subscribe(8, "mem://3")).await;
    assert_eq!(code(&answer), -32602);
    let long = format!("mem://{}", "u".repeat(64));
    let (_, _, answer) = post(&url, &headers, &subscribe(9, &long)).await;
    assert_eq!(code(&answer), -32602, "a URI over the limit");
    let read = format!(r#"{{"jsonrpc":"2.0","id":10,"method":"resources/read","params":{{"uri":"{long}"}}}}"#);
    let (_, _, answer) = post(&url, &headers, &read).await;
    assert_eq!(code(&answer), -32602, "reading one too");
    // A 2026-07-28 listen stream is bounded the same way.
    let listen = format!(
        r#"{{"jsonrpc":"2.0","id":11,"method":"subscriptions/listen","params":{{"notifications":{{"resourceSubscriptions":["mem://1","mem://2","mem://3","mem://4"]}},{META}}}}}"#
    );
    let headers = [("mcp-protocol-version", "2026-07-28"), ("mcp-method", "subscriptions/listen")];
    let (_, _, answer) = post(&url, &headers, &listen).await;
    assert_eq!(code(&answer), -32602, "four subscriptions on one listen stream");
    still_served(&url).await;

    // A server without resources offers no subscriptions at all.
    let url = start(EndpointConfig::default()).await;
    let session = initialize(&url, "2025-06-18").await;
    let headers = [("mcp-session-id", session.as_str()), ("mcp-protocol-version", "2025-06-18")];
    let (_, _, answer) = post(&url, &headers, &subscribe(1, "mem://a")).await;
    assert_eq!(code(&answer), -32601);
}

#[tokio::test]
async fn sessions_together_hold_at_most_the_byte_budget() {
    let server = McpServer::builder()
        .tool("hello", || async { "hello" })
        .resource("mem://a", || async { "a" })
        .build()
        .expect("server");
    // Room for two small sessions and a little more.
    let url = serve(server, EndpointConfig::builder().with_max_session_bytes(2048).build()).await;
    let first = initialize(&url, "2025-06-18").await;
    let _second = initialize(&url, "2025-06-18").await;
    let headers = [("mcp-session-id", first.as_str()), ("mcp-protocol-version", "2025-06-18")];
    let subscribe = |id: u32, uri: &str| {
        format!(r#"{{"jsonrpc":"2.0","id":{id},"method":"resources/subscribe","params":{{"uri":"{uri}"}}}}"#)
    };
    let (_, _, answer) = post(&url, &headers, &subscribe(1, &format!("mem://{}", "u".repeat(600)))).await;
    assert!(serde_json::from_slice::<Value>(&answer).expect("JSON")["result"].is_object(), "fits");
    let (_, _, answer) = post(&url, &headers, &subscribe(2, &format!("mem://{}", "v".repeat(1500)))).await;
    assert_eq!(code(&answer), -32602, "over the budget: {}", String::from_utf8_lossy(&answer));
    // A third session does not fit now: 503, and no session id.
    let init = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#;
    let (status, headers_back, answer) = post(&url, &[], init).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{}", String::from_utf8_lossy(&answer));
    assert!(headers_back.get("mcp-session-id").is_none());
    // Ending a session gives its bytes back.
    let (status, _, _) = delete(&url, &first).await;
    assert_eq!(status, StatusCode::OK);
    initialize(&url, "2025-06-18").await;
    still_served(&url).await;
}

async fn delete(url: &str, session: &str) -> (StatusCode, http::HeaderMap, Vec<u8>) {
    let request = Request::delete(url).header("mcp-session-id", session).body(Full::new(Bytes::new())).unwrap();
    let response = client().request(request).await.expect("response");
    let (parts, body) = response.into_parts();
    (parts.status, parts.headers, body.collect().await.expect("body").to_bytes().to_vec())
}

#[tokio::test]
async fn methods_of_capabilities_the_server_does_not_offer_are_not_found() {
    // Tools only: no prompts, resources or completions are advertised, so their methods are
    // not found (404 outside a session), not empty lists or unknown names.
    let url = start(EndpointConfig::default()).await;
    for (method, params) in [
        ("prompts/list", ""),
        ("prompts/get", r#""name":"p","#),
        ("resources/list", ""),
        ("resources/templates/list", ""),
        ("resources/read", r#""uri":"mem://a","#),
        ("completion/complete", r#""ref":{"type":"ref/prompt","name":"p"},"argument":{"name":"a","value":""},"#),
    ] {
        let body = format!(r#"{{"jsonrpc":"2.0","id":1,"method":"{method}","params":{{{params}{META}}}}}"#);
        let mut headers = vec![("mcp-protocol-version", "2026-07-28"), ("mcp-method", method)];
        if let Some(name) = params.split('"').nth(3).filter(|_| !params.starts_with(r#""ref""#)) {
            headers.push(("mcp-name", name));
        }
        let (status, _, answer) = post(&url, &headers, &body).await;
        assert_eq!(
            (status, code(&answer)),
            (StatusCode::NOT_FOUND, -32601),
            "{method}: {}",
            String::from_utf8_lossy(&answer)
        );
    }
    // Inside a legacy session the same error comes with 200 (a 404 would end the session).
    let session = initialize(&url, "2025-06-18").await;
    let headers = [("mcp-session-id", session.as_str()), ("mcp-protocol-version", "2025-06-18")];
    let (status, _, answer) = post(&url, &headers, r#"{"jsonrpc":"2.0","id":2,"method":"prompts/list"}"#).await;
    assert_eq!((status, code(&answer)), (StatusCode::OK, -32601));
    let (status, _, answer) = post(&url, &headers, r#"{"jsonrpc":"2.0","id":3,"method":"tools/list"}"#).await;
    assert_eq!(status, StatusCode::OK);
    assert!(serde_json::from_slice::<Value>(&answer).expect("JSON")["result"]["tools"].is_array(), "tools are offered");
    still_served(&url).await;
}
