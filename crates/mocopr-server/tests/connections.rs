//! What one client can hold of the HTTP listener, over real TCP on loopback: connections past
//! the bounds (in all and per peer) are answered `503` at once, a slow body gets `408`, a peer
//! that stops reading loses its connection, listen streams are bounded; everyone else is served
//! meanwhile.

use std::future::IntoFuture;
use std::net::SocketAddr;
use std::time::Duration;

use mocopr_server::{EndpointConfig, ListenerConfig, McpServer, serve_http};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

const META: &str = r#""_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}"#;

async fn start(endpoint: EndpointConfig, listener_config: ListenerConfig) -> SocketAddr {
    let server = McpServer::builder()
        .tool("hello", || async { "hello" })
        .tool("big", || async { "x".repeat(8 * 1024 * 1024) })
        .build()
        .expect("server");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(serve_http(listener, server.into_http(endpoint)).with_config(listener_config).into_future());
    addr
}

fn request(method: &str, name: &str, id: u32) -> String {
    let body = format!(r#"{{"jsonrpc":"2.0","id":{id},"method":"{method}","params":{{"name":"{name}",{META}}}}}"#);
    format!(
        "POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\nMCP-Protocol-Version: 2026-07-28\r\nMcp-Method: {method}\r\nMcp-Name: {name}\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

/// Reads until the peer closes (or 5 s pass): what arrived.
async fn read_all(stream: &mut TcpStream) -> String {
    let mut seen = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut seen)).await;
    String::from_utf8_lossy(&seen).into_owned()
}

/// A normal call on a fresh connection gets its answer.
async fn served(addr: SocketAddr) {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    stream.write_all(request("tools/call", "hello", 1).as_bytes()).await.expect("write");
    let mut buffer = vec![0; 4096];
    let mut seen = String::new();
    while !seen.contains("\"hello\"") {
        let read = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buffer))
            .await
            .expect("in time")
            .expect("read");
        assert!(read > 0, "closed before the answer: {seen}");
        seen.push_str(&String::from_utf8_lossy(&buffer[..read]));
    }
    assert!(seen.starts_with("HTTP/1.1 200"), "{seen}");
}

#[tokio::test]
async fn connections_past_the_bounds_are_refused_at_once() {
    let config = ListenerConfig::builder().with_max_connections(3).with_max_connections_per_peer(2).build();
    let open = config.open_connections();
    let addr = start(EndpointConfig::default(), config).await;
    let first = TcpStream::connect(addr).await.expect("connect");
    let second = TcpStream::connect(addr).await.expect("connect");
    // A third from the same address is over the per-peer bound.
    let mut third = TcpStream::connect(addr).await.expect("connect");
    assert!(read_all(&mut third).await.starts_with("HTTP/1.1 503"));
    // Another address may still connect, once; then the listener is full for everyone.
    let from = |ip: &str| {
        let socket = TcpSocket::new_v4().expect("socket");
        socket.bind(format!("{ip}:0").parse().expect("address")).expect("bind");
        socket
    };
    let other = from("127.0.0.2").connect(addr).await.expect("connect");
    let mut full = from("127.0.0.3").connect(addr).await.expect("connect");
    assert!(read_all(&mut full).await.starts_with("HTTP/1.1 503"), "the listener is full");
    // A client that sends its request at once still reads the 503 (no reset).
    let mut eager = from("127.0.0.4").connect(addr).await.expect("connect");
    eager.write_all(request("tools/call", "hello", 1).as_bytes()).await.expect("write");
    assert!(read_all(&mut eager).await.starts_with("HTTP/1.1 503"));
    assert_eq!(open.load(std::sync::atomic::Ordering::SeqCst), 3);
    drop((first, other));
    tokio::time::sleep(Duration::from_millis(100)).await;
    served(addr).await;
    drop(second);
}

#[tokio::test]
async fn a_body_that_arrives_too_slowly_gets_408_and_others_are_served() {
    let endpoint = EndpointConfig::builder().with_body_timeout(Duration::from_millis(300)).build();
    let addr = start(endpoint, ListenerConfig::default()).await;
    let mut slow = TcpStream::connect(addr).await.expect("connect");
    let whole = request("tools/call", "hello", 1);
    let (head, body) = whole.split_once("\r\n\r\n").expect("a head");
    slow.write_all(format!("{head}\r\n\r\n{}", &body[..10]).as_bytes()).await.expect("write");
    served(addr).await;
    let answer = read_all(&mut slow).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
}

#[tokio::test]
async fn a_peer_that_stops_reading_loses_its_connection() {
    let config = ListenerConfig::builder().with_write_timeout(Some(Duration::from_millis(300))).build();
    let open = config.open_connections();
    let addr = start(EndpointConfig::default(), config).await;
    // Asks for 8 MiB and never reads: the socket buffers fill, the server's write waits.
    let mut stalled = TcpStream::connect(addr).await.expect("connect");
    stalled.write_all(request("tools/call", "big", 1).as_bytes()).await.expect("write");
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(open.load(std::sync::atomic::Ordering::SeqCst), 1);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while open.load(std::sync::atomic::Ordering::SeqCst) > 0 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(open.load(std::sync::atomic::Ordering::SeqCst), 0, "the server closed the stalled connection");
    served(addr).await;
}

#[tokio::test]
async fn listen_streams_are_bounded() {
    let endpoint = EndpointConfig::builder().with_max_listen_streams(1).build();
    let addr = start(endpoint, ListenerConfig::default()).await;
    let listen = |id: u32| {
        let body = format!(
            r#"{{"jsonrpc":"2.0","id":{id},"method":"subscriptions/listen","params":{{"notifications":{{"toolsListChanged":true}},{META}}}}}"#
        );
        format!(
            "POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\nMCP-Protocol-Version: 2026-07-28\r\nMcp-Method: subscriptions/listen\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
    };
    let mut first = TcpStream::connect(addr).await.expect("connect");
    first.write_all(listen(1).as_bytes()).await.expect("write");
    let mut buffer = vec![0; 4096];
    let read =
        tokio::time::timeout(Duration::from_secs(5), first.read(&mut buffer)).await.expect("in time").expect("read");
    assert!(String::from_utf8_lossy(&buffer[..read]).starts_with("HTTP/1.1 200"));
    let mut second = TcpStream::connect(addr).await.expect("connect");
    second.write_all(listen(2).as_bytes()).await.expect("write");
    let read =
        tokio::time::timeout(Duration::from_secs(5), second.read(&mut buffer)).await.expect("in time").expect("read");
    assert!(
        String::from_utf8_lossy(&buffer[..read]).starts_with("HTTP/1.1 503"),
        "{}",
        String::from_utf8_lossy(&buffer[..read])
    );
    served(addr).await;
    // When the first ends, its place is free again.
    drop(first);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut third = TcpStream::connect(addr).await.expect("connect");
    third.write_all(listen(3).as_bytes()).await.expect("write");
    let read =
        tokio::time::timeout(Duration::from_secs(5), third.read(&mut buffer)).await.expect("in time").expect("read");
    assert!(String::from_utf8_lossy(&buffer[..read]).starts_with("HTTP/1.1 200"));
}
