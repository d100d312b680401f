//! The graceful shutdown of `serve_http`: what it waits for, what it ends at once, and what it
//! cuts when the grace is over.

use std::future::IntoFuture;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mocopr_server::{EndpointConfig, ListenerConfig, McpServer, serve_http};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// Serves `server` with `grace`; the sender stops it.
async fn start(
    server: McpServer,
    grace: Duration,
) -> (SocketAddr, oneshot::Sender<()>, JoinHandle<Result<(), mocopr_transport::TransportError>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (stop_tx, stop_rx) = oneshot::channel::<()>();
    let serving = tokio::spawn(
        serve_http(listener, server.into_http(EndpointConfig::default()))
            .with_config(ListenerConfig::builder().with_shutdown_grace(grace).build())
            .with_graceful_shutdown(async {
                let _ = stop_rx.await;
            })
            .into_future(),
    );
    (addr, stop_tx, serving)
}

/// A POST of `body` (a modern request for `method` / `name`, or a legacy one in `session`).
fn post(body: &str, method: &str, name: Option<&str>, session: Option<&str>) -> String {
    let headers = match session {
        Some(id) => format!("Mcp-Session-Id: {id}\r\nMCP-Protocol-Version: 2025-06-18\r\n"),
        None if method == "initialize" => String::new(),
        None => {
            let name = name.map(|n| format!("Mcp-Name: {n}\r\n")).unwrap_or_default();
            format!("MCP-Protocol-Version: 2026-07-28\r\nMcp-Method: {method}\r\n{name}")
        }
    };
    format!(
        "POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\n{headers}Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

const META: &str = r#""_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}"#;

fn call(name: &str) -> String {
    post(
        &format!(r#"{{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{{"name":"{name}",{META}}}}}"#),
        "tools/call",
        Some(name),
        None,
    )
}

/// Reads until `needle` has arrived (or the peer closed); what was read.
async fn read_until(stream: &mut TcpStream, needle: &str) -> String {
    let mut seen = Vec::new();
    let mut buffer = vec![0; 4096];
    while !String::from_utf8_lossy(&seen).contains(needle) {
        let read = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buffer))
            .await
            .expect("in time")
            .expect("read");
        if read == 0 {
            break;
        }
        seen.extend_from_slice(&buffer[..read]);
    }
    String::from_utf8_lossy(&seen).into_owned()
}

/// Reads whatever is left until the peer closes; panics if it does not within 5 s.
async fn read_to_close(stream: &mut TcpStream) {
    let mut rest = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut rest))
        .await
        .expect("closed in time")
        .expect("read");
}

/// A tool that says when it started, then takes `duration`.
fn slow_server(duration: Duration) -> (McpServer, oneshot::Receiver<()>) {
    let (started_tx, started_rx) = oneshot::channel::<()>();
    let started_tx = Arc::new(Mutex::new(Some(started_tx)));
    let server = McpServer::builder()
        .tool("hello", || async { "hello" })
        .tool("slow", move || {
            let started = started_tx.lock().expect("lock").take();
            async move {
                if let Some(started) = started {
                    let _ = started.send(());
                }
                tokio::time::sleep(duration).await;
                "finished"
            }
        })
        .build()
        .expect("server");
    (server, started_rx)
}

#[tokio::test]
async fn a_graceful_shutdown_answers_the_requests_in_progress_then_returns() {
    let (server, started) = slow_server(Duration::from_millis(400));
    let (addr, stop, serving) = start(server, Duration::from_secs(10)).await;

    // A connection that never sent a request, one kept alive after an answered request, and
    // one with a request in progress when the signal comes.
    let mut fresh = TcpStream::connect(addr).await.expect("connect");
    let mut kept = TcpStream::connect(addr).await.expect("connect");
    kept.write_all(call("hello").as_bytes()).await.expect("write");
    assert!(read_until(&mut kept, "\"hello\"").await.starts_with("HTTP/1.1 200"));
    let mut busy = TcpStream::connect(addr).await.expect("connect");
    busy.write_all(call("slow").as_bytes()).await.expect("write");
    started.await.expect("the handler started");
    stop.send(()).expect("signal");

    read_to_close(&mut fresh).await;
    read_to_close(&mut kept).await;
    assert!(!serving.is_finished(), "the listener waits for the request in progress");
    let answer = read_until(&mut busy, "finished").await;
    assert!(answer.starts_with("HTTP/1.1 200") && answer.contains("finished"), "{answer}");
    tokio::time::timeout(Duration::from_secs(5), serving).await.expect("returned").expect("task").expect("served");
    assert!(TcpStream::connect(addr).await.is_err(), "the listener is closed");
}

#[tokio::test]
async fn what_outlasts_the_grace_is_cut_and_its_connection_closed() {
    let (server, started) = slow_server(Duration::from_secs(3600));
    let (addr, stop, serving) = start(server, Duration::from_millis(300)).await;
    let mut busy = TcpStream::connect(addr).await.expect("connect");
    busy.write_all(call("slow").as_bytes()).await.expect("write");
    started.await.expect("the handler started");
    stop.send(()).expect("signal");
    tokio::time::timeout(Duration::from_secs(5), serving).await.expect("returned").expect("task").expect("served");
    read_to_close(&mut busy).await;
}

#[tokio::test]
async fn streams_that_never_end_by_themselves_end_at_shutdown() {
    let server = McpServer::builder().tool("hello", || async { "hello" }).build().expect("server");
    // A grace far longer than the test may take: the streams must not wait for it.
    let (addr, stop, serving) = start(server, Duration::from_secs(3600)).await;

    // A 2026-07-28 listen stream.
    let mut listen = TcpStream::connect(addr).await.expect("connect");
    let body = format!(
        r#"{{"jsonrpc":"2.0","id":7,"method":"subscriptions/listen","params":{{"notifications":{{"toolsListChanged":true}},{META}}}}}"#
    );
    listen.write_all(post(&body, "subscriptions/listen", None, None).as_bytes()).await.expect("write");
    assert!(read_until(&mut listen, "acknowledged").await.starts_with("HTTP/1.1 200"));

    // A legacy session's standalone GET stream.
    let mut init = TcpStream::connect(addr).await.expect("connect");
    let body = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#;
    init.write_all(post(body, "initialize", None, None).as_bytes()).await.expect("write");
    let answer = read_until(&mut init, "serverInfo").await;
    let session = answer
        .lines()
        .find_map(|line| line.to_ascii_lowercase().starts_with("mcp-session-id:").then(|| line[15..].trim().to_owned()))
        .expect("a session id");
    let initialized = r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#;
    init.write_all(post(initialized, "", None, Some(&session)).as_bytes()).await.expect("write");
    assert!(read_until(&mut init, "\r\n\r\n").await.starts_with("HTTP/1.1 202"));
    let mut get = TcpStream::connect(addr).await.expect("connect");
    let request = format!(
        "GET /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\nMcp-Session-Id: {session}\r\nMCP-Protocol-Version: 2025-06-18\r\n\r\n"
    );
    get.write_all(request.as_bytes()).await.expect("write");
    assert!(read_until(&mut get, "text/event-stream").await.starts_with("HTTP/1.1 200"));

    stop.send(()).expect("signal");
    read_to_close(&mut listen).await;
    read_to_close(&mut get).await;
    tokio::time::timeout(Duration::from_secs(5), serving).await.expect("returned").expect("task").expect("served");
}
