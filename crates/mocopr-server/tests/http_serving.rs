//! The server over real HTTP on loopback: both eras on one endpoint, header validation, SSE for
//! notifications, legacy sessions, limits, DNS-rebinding protection, isolation of bad requests,
//! and cancellation by closing the stream.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http::{Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use mocopr_core::types::Tool;
use mocopr_server::{EndpointConfig, HandlerError, McpServer, RequestCtx, serve_http};
use serde_json::{Value, json};
use tokio::io::AsyncWriteExt;

const META: &str = r#""_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{},"progressToken":"p1"}"#;

struct Stop(Arc<AtomicBool>);
impl Drop for Stop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

async fn start(stopped: Arc<AtomicBool>) -> String {
    let object = |v: Value| v.as_object().cloned().unwrap_or_default();
    let server = McpServer::builder()
        .with_name("http-test")
        .tool(Tool::new("progress"), |ctx: RequestCtx| async move {
            for step in 1..=3 {
                ctx.progress(step as f64, Some(3.0), None).await;
            }
            Ok::<_, HandlerError>("done".to_string())
        })
        .tool(Tool::new("hang"), move |ctx: RequestCtx| {
            let guard = Stop(stopped.clone());
            async move {
                let _guard = guard;
                ctx.progress(0.0, None, None).await;
                ctx.cancelled().await;
                Ok::<_, HandlerError>("cancelled".to_string())
            }
        })
        .tool(Tool::new("touch"), |ctx: RequestCtx| async move {
            ctx.changes().tools_changed();
            Ok::<_, HandlerError>("touched".to_string())
        })
        .tool(
            Tool::new("echo").with_input_schema(object(
                json!({"type":"object","properties":{"text":{"type":"string","x-mcp-header":"Text"}}}),
            )),
            |ctx: RequestCtx| async move { Ok::<_, HandlerError>(format!("{}", ctx.protocol_version())) },
        )
        .build()
        .expect("server");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}/mcp", listener.local_addr().expect("addr"));
    let endpoint = server.into_http(EndpointConfig::builder().with_max_body_size(64 * 1024).build());
    tokio::spawn(serve_http(listener, endpoint).with_path("/mcp").into_future());
    url
}

fn client() -> Client<HttpConnector, Full<Bytes>> {
    Client::builder(TokioExecutor::new()).build_http()
}

async fn post(url: &str, headers: &[(&str, &str)], body: String) -> (StatusCode, http::HeaderMap, Vec<u8>) {
    let mut request = Request::post(url)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream");
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    let response = client().request(request.body(Full::new(Bytes::from(body))).unwrap()).await.expect("response");
    let (parts, body) = response.into_parts();
    let bytes = body.collect().await.expect("body").to_bytes().to_vec();
    (parts.status, parts.headers, bytes)
}

fn modern_headers<'a>(method: &'a str, name: Option<&'a str>) -> Vec<(&'a str, &'a str)> {
    let mut h = vec![("mcp-protocol-version", "2026-07-28"), ("mcp-method", method)];
    if let Some(name) = name {
        h.push(("mcp-name", name));
    }
    h
}

fn call(id: u32, tool: &str, args: &str) -> String {
    format!(
        r#"{{"jsonrpc":"2.0","id":{id},"method":"tools/call","params":{{"name":"{tool}","arguments":{args},{META}}}}}"#
    )
}

/// Headers, body, expected HTTP status, expected JSON-RPC code.
type Case<'a> = (Vec<(&'a str, &'a str)>, String, u16, i64);

#[tokio::test]
async fn modern_requests_get_json_and_header_errors_get_their_status() {
    let url = start(Arc::default()).await;
    let (status, headers, body) = post(&url, &modern_headers("tools/call", Some("echo")), call(1, "echo", "{}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["content-type"], "application/json");
    let v: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["result"]["content"][0]["text"], "2026-07-28");

    let cases: Vec<Case<'_>> = vec![
        (modern_headers("tools/call", Some("other")), call(2, "echo", "{}"), 400, -32020),
        (modern_headers("tools/call", None), call(3, "echo", "{}"), 400, -32020),
        (modern_headers("tools/list", Some("echo")), call(4, "echo", "{}"), 400, -32020),
        (vec![("mcp-method", "tools/call"), ("mcp-name", "echo")], call(5, "echo", "{}"), 400, -32020),
        (modern_headers("tools/call", Some("echo")), call(6, "echo", r#"{"text":"a"}"#), 400, -32020),
        (modern_headers("no/such", None), format!(r#"{{"jsonrpc":"2.0","id":7,"method":"no/such","params":{{{META}}}}}"#), 404, -32601),
        (modern_headers("ping", None), format!(r#"{{"jsonrpc":"2.0","id":8,"method":"ping","params":{{{META}}}}}"#), 404, -32601),
        (modern_headers("tools/list", None), r#"{"jsonrpc":"2.0","id":9,"method":"tools/list","params":{}}"#.into(), 400, -32602),
        (
            vec![("mcp-protocol-version", "2099-01-01"), ("mcp-method", "tools/list")],
            r#"{"jsonrpc":"2.0","id":10,"method":"tools/list","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2099-01-01","io.modelcontextprotocol/clientCapabilities":{}}}}"#.into(),
            400,
            -32022,
        ),
    ];
    for (headers, body, status, code) in cases {
        let (got, _, bytes) = post(&url, &headers, body.clone()).await;
        let v: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        assert_eq!((got.as_u16(), v["error"]["code"].as_i64()), (status, Some(code)), "{headers:?} {body} -> {v}");
    }
    // With the header that mirrors `text`, the call goes through.
    let mut headers = modern_headers("tools/call", Some("echo"));
    headers.push(("mcp-param-text", "a"));
    let (status, _, _) = post(&url, &headers, call(11, "echo", r#"{"text":"a"}"#)).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn notifications_switch_the_response_to_sse_before_the_result() {
    let url = start(Arc::default()).await;
    let (status, headers, body) =
        post(&url, &modern_headers("tools/call", Some("progress")), call(1, "progress", "{}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["content-type"], "text/event-stream");
    let text = String::from_utf8(body).unwrap();
    let messages: Vec<Value> =
        text.lines().filter_map(|l| l.strip_prefix("data: ")).map(|d| serde_json::from_str(d).unwrap()).collect();
    assert_eq!(messages.len(), 4, "{text}");
    for (i, m) in messages[..3].iter().enumerate() {
        assert_eq!(m["method"], "notifications/progress");
        assert_eq!(m["params"]["progressToken"], "p1");
        assert_eq!(m["params"]["progress"], (i + 1) as f64);
    }
    assert_eq!(messages[3]["result"]["content"][0]["text"], "done");
}

#[tokio::test]
async fn legacy_sessions_live_in_the_session_header_until_deleted() {
    let url = start(Arc::default()).await;
    let init = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"c","version":"1"}}}"#;
    let (status, headers, body) = post(&url, &[], init.into()).await;
    assert_eq!(status, StatusCode::OK);
    let v: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["result"]["protocolVersion"], "2025-11-25");
    let session = headers["mcp-session-id"].to_str().unwrap().to_owned();
    let with = [("mcp-session-id", session.as_str()), ("mcp-protocol-version", "2025-11-25")];

    let (status, _, _) = post(&url, &with, r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#.into()).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let (status, _, body) = post(&url, &with, r#"{"jsonrpc":"2.0","id":2,"method":"tools/list"}"#.into()).await;
    assert_eq!(status, StatusCode::OK);
    let v: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["result"]["tools"].as_array().unwrap().len(), 4);
    assert!(v["result"].get("resultType").is_none());

    let request = Request::delete(&url).header("mcp-session-id", &session).body(Full::new(Bytes::new())).unwrap();
    assert_eq!(client().request(request).await.unwrap().status(), StatusCode::OK);
    let (status, _, _) = post(&url, &with, r#"{"jsonrpc":"2.0","id":3,"method":"tools/list"}"#.into()).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "a deleted session is gone");
}

#[tokio::test]
async fn limits_and_origin_checks_answer_with_their_status() {
    let url = start(Arc::default()).await;
    let big =
        format!(r#"{{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{{"pad":"{}"}}}}"#, "x".repeat(100 * 1024));
    let (status, _, _) = post(&url, &[], big).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);

    let (status, _, _) = post(&url, &[("origin", "http://evil.example.com")], call(1, "echo", "{}")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let (status, _, body) = post(&url, &[], "{not json".into()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let v: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["error"]["code"], -32700);

    let get = Request::get(&url).body(Full::new(Bytes::new())).unwrap();
    assert_eq!(client().request(get).await.unwrap().status(), StatusCode::BAD_REQUEST, "GET needs a session");
    let get = Request::get(&url).header("mcp-session-id", "nope").body(Full::new(Bytes::new())).unwrap();
    assert_eq!(client().request(get).await.unwrap().status(), StatusCode::NOT_FOUND);
    let put = Request::put(&url).body(Full::new(Bytes::new())).unwrap();
    assert_eq!(client().request(put).await.unwrap().status(), StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test]
async fn a_malformed_request_on_one_connection_does_not_disturb_others() {
    let url = start(Arc::default()).await;
    let authority = url.trim_start_matches("http://").trim_end_matches("/mcp").to_owned();
    // A connection that sends a broken request line and then garbage.
    let mut raw = tokio::net::TcpStream::connect(&authority).await.unwrap();
    raw.write_all(
        b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 99999999999999999999\r\n\r\n\x00\x01garbage",
    )
    .await
    .unwrap();
    // A connection that opens and never finishes its headers.
    let mut slow = tokio::net::TcpStream::connect(&authority).await.unwrap();
    slow.write_all(b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\n").await.unwrap();
    // Everyone else is served.
    let calls = (0..20).map(|i| {
        let url = url.clone();
        async move { post(&url, &modern_headers("tools/call", Some("echo")), call(i, "echo", "{}")).await.0 }
    });
    for status in futures_util::future::join_all(calls).await {
        assert_eq!(status, StatusCode::OK);
    }
}

#[tokio::test]
async fn closing_the_stream_cancels_the_request() {
    let stopped = Arc::new(AtomicBool::new(false));
    let url = start(stopped.clone()).await;
    let request = Request::post(&url)
        .header("mcp-protocol-version", "2026-07-28")
        .header("mcp-method", "tools/call")
        .header("mcp-name", "hang")
        .body(Full::new(Bytes::from(call(1, "hang", "{}"))))
        .unwrap();
    let response = client().request(request).await.unwrap();
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let mut body = response.into_body();
    let first = body.frame().await.unwrap().unwrap().into_data().unwrap();
    assert!(String::from_utf8_lossy(&first).contains("notifications/progress"));
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(!stopped.load(Ordering::SeqCst));
    drop(body);
    for _ in 0..200 {
        if stopped.load(Ordering::SeqCst) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(stopped.load(Ordering::SeqCst), "closing the stream stopped the handler");
}

/// Reads server-sent events until one carries `method`; returns its `id:` and data.
async fn next_event(body: &mut hyper::body::Incoming, method: &str) -> (String, Value) {
    let mut text = String::new();
    loop {
        let frame = tokio::time::timeout(Duration::from_secs(5), body.frame()).await.expect("an event in time");
        let data = frame.expect("open stream").expect("frame").into_data().unwrap_or_default();
        text.push_str(&String::from_utf8_lossy(&data));
        while let Some(end) = text.find("\n\n") {
            let event: String = text.drain(..end + 2).collect();
            let id = event.lines().find_map(|l| l.strip_prefix("id: ")).unwrap_or_default().to_owned();
            if let Some(data) = event.lines().find_map(|l| l.strip_prefix("data: ")) {
                let message: Value = serde_json::from_str(data).expect("JSON event");
                if message["method"] == method {
                    return (id, message);
                }
            }
        }
    }
}

#[tokio::test]
async fn a_legacy_standalone_stream_resumes_after_its_last_event_id() {
    let url = start(Arc::default()).await;
    let init = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"c","version":"1"}}}"#;
    let (_, headers, body) = post(&url, &[], init.into()).await;
    let v: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["result"]["capabilities"]["tools"]["listChanged"], true);
    let session = headers["mcp-session-id"].to_str().unwrap().to_owned();
    let with = [("mcp-session-id", session.as_str()), ("mcp-protocol-version", "2025-11-25")];
    post(&url, &with, r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#.into()).await;
    let touch = r#"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"touch"}}"#;

    let get = Request::get(&url).header("mcp-session-id", &session).header("accept", "text/event-stream");
    let response = client().request(get.body(Full::new(Bytes::new())).unwrap()).await.unwrap();
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let mut stream = response.into_body();
    post(&url, &with, touch.into()).await;
    let (first_id, first) = next_event(&mut stream, "notifications/tools/list_changed").await;
    assert!(!first_id.is_empty(), "events carry ids: {first}");
    drop(stream);

    // Missed while disconnected, delivered on reconnect.
    post(&url, &with, touch.replace("\"id\":2", "\"id\":3")).await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    let get = Request::get(&url).header("mcp-session-id", &session).header("last-event-id", &first_id);
    let mut resumed = client().request(get.body(Full::new(Bytes::new())).unwrap()).await.unwrap().into_body();
    let (second_id, _) = next_event(&mut resumed, "notifications/tools/list_changed").await;
    assert_ne!(first_id, second_id, "only what came after the last event is replayed");
    drop(resumed);

    // An id the log never gave (ahead of it, or garbage) replays nothing and mutes nothing.
    for unknown in ["18446744073709551615", "1700000000000-0", "garbage"] {
        let get = Request::get(&url).header("mcp-session-id", &session).header("last-event-id", unknown);
        let mut stream = client().request(get.body(Full::new(Bytes::new())).unwrap()).await.unwrap().into_body();
        tokio::time::sleep(Duration::from_millis(20)).await;
        post(&url, &with, touch.replace("\"id\":2", "\"id\":4")).await;
        let (id, _) = next_event(&mut stream, "notifications/tools/list_changed").await;
        assert!(!id.is_empty(), "after Last-Event-ID {unknown}");
    }
}

/// glibc's per-thread cache takes blocks of up to 1,032 bytes. The futures the endpoint boxes for
/// a request are kept under that (in `service.rs`, what needs no waiting is decided outside them,
/// and a POST's answer is boxed apart): a larger block comes from the arena's bins, which may
/// consolidate its fastbins first, and is copied whole into its box. The body type here is
/// `Full`; hyper's `Incoming`, a few bytes larger, gives 904 bytes for a POST in a release build.
#[tokio::test]
async fn a_posts_boxed_future_fits_the_allocators_thread_cache() {
    let server = McpServer::builder().tool(Tool::new("echo"), || async { "hi" }).build().unwrap();
    let mut endpoint = server.into_http(EndpointConfig::default());
    let body = call(1, "echo", "{}");
    let mut request = Request::post("http://localhost/mcp")
        .header("host", "localhost")
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream");
    for (name, value) in modern_headers("tools/call", Some("echo")) {
        request = request.header(name, value);
    }
    for method in [http::Method::GET, http::Method::DELETE] {
        let request = Request::builder()
            .method(method.clone())
            .uri("http://localhost/mcp")
            .header("host", "localhost")
            .header("mcp-session-id", "none")
            .body(Full::new(Bytes::new()))
            .unwrap();
        let boxed = tower_service::Service::call(&mut endpoint, request);
        let size = std::mem::size_of_val(&*boxed);
        assert!(size <= 1032, "the boxed {method} future is {size} bytes");
    }
    let boxed = tower_service::Service::call(&mut endpoint, request.body(Full::new(Bytes::from(body))).unwrap());
    let size = std::mem::size_of_val(&*boxed);
    assert!(size <= 1032, "the boxed POST future is {size} bytes");
    // The POST's own future, not a refusal's: the call is answered.
    let Ok(response) = boxed.await;
    assert_eq!(response.status(), StatusCode::OK);
    let body = response.into_body().collect().await.expect("body").to_bytes();
    let v: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["result"]["content"][0]["text"], "hi", "{v}");
}
