//! Embedding and limits: the HTTP endpoint mounted in a user's own axum `Router` beside their
//! routes, and the per-connection bound on requests running at once.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use mocopr_core::types::Tool;
use mocopr_server::{EndpointConfig, HandlerError, McpServer, StdioConfig, serve_connection};
use mocopr_transport::memory::pair;
use mocopr_transport::{FramingConfig, Inbound};

#[tokio::test]
async fn the_endpoint_mounts_in_an_axum_router_beside_other_routes() {
    let server = McpServer::builder()
        .with_name("embedded")
        .tool(Tool::new("hello"), || async { Ok::<_, HandlerError>("hello") })
        .build()
        .expect("server");
    let app = axum::Router::new()
        .route("/health", axum::routing::get(|| async { "ok" }))
        .route_service("/mcp", server.into_http(EndpointConfig::default()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });

    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let body = r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"hello","_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}}}"#;
    let request = format!(
        "POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nMCP-Protocol-Version: 2026-07-28\r\nMcp-Method: tools/call\r\nMcp-Name: hello\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let response = exchange(&mut stream, &request).await;
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.contains("\"text\":\"hello\""), "{response}");

    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let response = exchange(&mut stream, "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").await;
    assert!(response.starts_with("HTTP/1.1 200") && response.ends_with("ok"), "{response}");
}

async fn exchange(stream: &mut tokio::net::TcpStream, request: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut response = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut response))
        .await
        .expect("in time")
        .expect("read");
    String::from_utf8_lossy(&response).into_owned()
}

#[tokio::test]
async fn no_more_than_max_in_flight_requests_run_at_once_on_a_connection() {
    let running = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let (r, p) = (running.clone(), peak.clone());
    let server = McpServer::builder()
        .tool(Tool::new("slow"), move || {
            let (running, peak) = (r.clone(), p.clone());
            async move {
                let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                peak.fetch_max(now, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(20)).await;
                running.fetch_sub(1, Ordering::SeqCst);
                Ok::<_, HandlerError>("done")
            }
        })
        .build()
        .expect("server");
    let config = FramingConfig::default();
    let (mut client, end) = pair(&config);
    tokio::spawn(serve_connection(server, end.reader, end.sink, StdioConfig::builder().with_max_in_flight(3).build()));
    let mut lines = String::new();
    for id in 0..30 {
        lines.push_str(&format!(
            "{{\"jsonrpc\":\"2.0\",\"id\":{id},\"method\":\"tools/call\",\"params\":{{\"name\":\"slow\",\"_meta\":{{\"io.modelcontextprotocol/protocolVersion\":\"2026-07-28\",\"io.modelcontextprotocol/clientCapabilities\":{{}}}}}}}}\n"
        ));
    }
    client.sink.send(Bytes::from(lines)).await.expect("send");
    for _ in 0..30 {
        match tokio::time::timeout(Duration::from_secs(10), client.reader.next()).await {
            Ok(Some(Ok(Inbound::Frame(_)))) => {}
            other => panic!("missing answer: {other:?}"),
        }
    }
    assert_eq!(peak.load(Ordering::SeqCst), 3, "the bound is reached and never exceeded");
}
