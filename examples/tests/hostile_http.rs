//! The real `echo-server` and `production-server` binaries over loopback HTTP against hostile
//! input (slow and idle connections: `hostile_connections.rs`): floods of oversized
//! handshakes, subscriptions and array bodies, forged and doubled headers, notification shapes
//! and method names. Each gets its exact answer, a normal client is served in between, and the
//! server's memory (read from `/proc`) stays bounded.

use std::time::Duration;

use bytes::Bytes;
use http::{Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use mocopr_testing::{ListeningServer, example_path, peak_rss_bytes, rss_bytes};
use serde_json::{Value, json};
use tokio::process::Command;

const META: &str = r#""_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}"#;

async fn echo_server() -> ListeningServer {
    let mut command = Command::new(example_path("echo-server"));
    command.args(["http", "--bind", "127.0.0.1:0"]);
    ListeningServer::start(command).await.expect("echo-server says where it listens")
}

type HttpClient = Client<HttpConnector, Full<Bytes>>;

async fn post(client: &HttpClient, url: &str, headers: &[(&str, &str)], body: String) -> (StatusCode, Vec<u8>) {
    let mut request = Request::post(url)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream");
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response =
        tokio::time::timeout(Duration::from_secs(30), client.request(request.body(Full::new(body.into())).unwrap()))
            .await
            .expect("in time")
            .expect("response");
    let status = response.status();
    (status, response.into_body().collect().await.expect("body").to_bytes().to_vec())
}

fn code(body: &[u8]) -> i64 {
    let value: Value =
        serde_json::from_slice(body).unwrap_or_else(|_| panic!("JSON: {}", String::from_utf8_lossy(body)));
    value["error"]["code"].as_i64().unwrap_or_else(|| panic!("an error: {value}"))
}

/// A normal 2026-07-28 call is answered.
async fn still_served(client: &HttpClient, url: &str) {
    let body = format!(
        r#"{{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{{"name":"echo","arguments":{{"text":"ok"}},{META}}}}}"#
    );
    let headers = [("mcp-protocol-version", "2026-07-28"), ("mcp-method", "tools/call"), ("mcp-name", "echo")];
    let (status, answer) = post(client, url, &headers, body).await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&answer));
    assert!(String::from_utf8_lossy(&answer).contains("\"ok\""));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_floods_are_refused_and_leave_the_echo_server_bounded() {
    memory_floods(echo_server().await, "echo-server").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_floods_are_refused_and_leave_the_production_server_bounded() {
    let mut command = Command::new(example_path("production-server"));
    command.args(["--transport", "http", "--bind", "127.0.0.1:0"]);
    let server = ListeningServer::start(command).await.expect("production-server says where it listens");
    memory_floods(server, "production-server").await;
}

/// 300 handshakes of 1 MiB, 2,000 subscriptions of 8 KiB URIs in one session and a 4 MB array
/// body: each refused, a normal call served in between, and the server's memory bounded.
async fn memory_floods(server: ListeningServer, name: &str) {
    let pid = server.id().expect("a pid");
    let url = server.url().to_owned();
    let client: HttpClient = Client::builder(TokioExecutor::new()).build_http();
    still_served(&client, &url).await;
    let before = rss_bytes(pid).expect("RSS");

    // 300 legacy handshakes of ~1 MiB of capabilities each: refused, no session kept.
    let padding = "x".repeat(1024 * 1024);
    let init = format!(
        r#"{{"jsonrpc":"2.0","id":1,"method":"initialize","params":{{"protocolVersion":"2025-06-18","capabilities":{{"experimental":{{"pad":{{"v":"{padding}"}}}}}},"clientInfo":{{"name":"t","version":"1"}}}}}}"#
    );
    for n in 0..300 {
        let (status, answer) = post(&client, &url, &[], init.clone()).await;
        assert_eq!((status, code(&answer)), (StatusCode::BAD_REQUEST, -32602));
        assert!(answer.len() < 1024, "the answer does not echo the input");
        if n % 100 == 0 {
            still_served(&client, &url).await;
        }
    }

    // 2,000 subscriptions of 8 KiB URIs in one session: each refused.
    let init = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#;
    let response = client
        .request(
            Request::post(&url)
                .header("content-type", "application/json")
                .header("accept", "application/json, text/event-stream")
                .body(Full::new(Bytes::from_static(init.as_bytes())))
                .unwrap(),
        )
        .await
        .expect("initialize");
    let session = response.headers()["mcp-session-id"].to_str().unwrap().to_owned();
    let _ = response.into_body().collect().await;
    let in_session = [("mcp-session-id", session.as_str()), ("mcp-protocol-version", "2025-06-18")];
    for n in 0..2000 {
        let uri = format!("mem://{n}/{}", "u".repeat(8 * 1024));
        let body = format!(r#"{{"jsonrpc":"2.0","id":{n},"method":"resources/subscribe","params":{{"uri":"{uri}"}}}}"#);
        let (status, answer) = post(&client, &url, &in_session, body).await;
        assert_eq!((status, code(&answer)), (StatusCode::OK, -32602), "{n}");
    }
    still_served(&client, &url).await;

    // A 4 MB JSON array where no batch is allowed: refused before it is parsed.
    let array = format!("[{}0]", "0,".repeat(2 * 1000 * 1000 - 1));
    let headers = [("mcp-protocol-version", "2026-07-28"), ("mcp-method", "tools/list")];
    let (status, answer) = post(&client, &url, &headers, array).await;
    assert_eq!((status, code(&answer)), (StatusCode::BAD_REQUEST, -32600));
    still_served(&client, &url).await;

    let (after, peak) = (rss_bytes(pid).expect("RSS"), peak_rss_bytes(pid).expect("peak RSS"));
    eprintln!("{name} RSS: {} KiB before, {} KiB after, peak {} KiB", before / 1024, after / 1024, peak / 1024);
    // The floods sent ~300 MiB and 16 MiB of URIs; what the server keeps is a few MiB of
    // buffers at most.
    assert!(after < before + 16 * 1024 * 1024, "RSS grew from {before} to {after}");
    assert!(peak < 64 * 1024 * 1024, "peak RSS {peak}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_headers_notifications_and_method_names_get_their_exact_answers() {
    let server = echo_server().await;
    let url = server.url().to_owned();
    let client: HttpClient = Client::builder(TokioExecutor::new()).build_http();
    let call = format!(
        r#"{{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{{"name":"echo","arguments":{{"text":"x"}},{META}}}}}"#
    );
    let modern = [("mcp-protocol-version", "2026-07-28"), ("mcp-method", "tools/call"), ("mcp-name", "echo")];
    let cases: Vec<(Vec<(&str, &str)>, StatusCode)> = vec![
        ([&modern[..], &[("mcp-name", "other")]].concat(), StatusCode::BAD_REQUEST),
        ([&modern[..], &[("mcp-protocol-version", "2025-06-18")]].concat(), StatusCode::BAD_REQUEST),
        ([&modern[..], &[("origin", "http://evil.example")]].concat(), StatusCode::FORBIDDEN),
        ([&modern[..], &[("origin", "http://localhost@evil.example")]].concat(), StatusCode::FORBIDDEN),
        (
            [&modern[..], &[("origin", "http://localhost"), ("origin", "http://127.0.0.1")]].concat(),
            StatusCode::FORBIDDEN,
        ),
        ([&modern[..], &[("host", "evil.example")]].concat(), StatusCode::FORBIDDEN),
    ];
    for (headers, status) in cases {
        assert_eq!(post(&client, &url, &headers, call.clone()).await.0, status, "{headers:?}");
        still_served(&client, &url).await;
    }
    let version = [("mcp-protocol-version", "2026-07-28")];
    for notification in [
        r#"{"jsonrpc":"2.0","method":"notifications/cancelled","params":[1]}"#,
        r#"{"jsonrpc":"2.0","method":""}"#,
        r#"{"jsonrpc":"2.0","method":"rpc.x","params":"s"}"#,
    ] {
        let (status, answer) = post(&client, &url, &version, notification.to_owned()).await;
        assert_eq!((status, answer.len()), (StatusCode::BAD_REQUEST, 0), "{notification} is never answered");
    }
    for method in ["", "rpc.discover", "tools/\\u0007list"] {
        let body = json!({"jsonrpc": "2.0", "id": 3, "method": serde_json::from_str::<String>(&format!("\"{method}\"")).unwrap(), "params": serde_json::from_str::<Value>(&format!("{{{META}}}")).unwrap()});
        let (status, answer) = post(&client, &url, &version, body.to_string()).await;
        assert_eq!((status, code(&answer)), (StatusCode::NOT_FOUND, -32601), "{method:?}");
    }
    // Deep and oversized inputs.
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let deep = format!(
        r#"{{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{{"name":"echo","arguments":{{"text":{deep}}},{META}}}}}"#
    );
    let (status, _) = post(&client, &url, &modern, deep).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // A body over the limit is refused from its declared length, before it is read.
    let authority = url.trim_start_matches("http://").split('/').next().expect("host:port").to_owned();
    let mut stream = tokio::net::TcpStream::connect(&authority).await.expect("connect");
    let head = format!(
        "POST /mcp HTTP/1.1\r\nHost: {authority}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        5 * 1024 * 1024
    );
    tokio::io::AsyncWriteExt::write_all(&mut stream, head.as_bytes()).await.expect("write");
    let mut answer = vec![0; 256];
    let read = tokio::time::timeout(Duration::from_secs(5), tokio::io::AsyncReadExt::read(&mut stream, &mut answer))
        .await
        .expect("in time")
        .expect("read");
    assert!(String::from_utf8_lossy(&answer[..read]).starts_with("HTTP/1.1 413"));
    still_served(&client, &url).await;
}
