//! The real `production-server` binary over loopback TCP against clients that hold
//! connections: a body sent a byte at a time, headers that never end, an idle keep-alive
//! connection, a client that stops reading its answers, and one address opening more
//! connections than it may. Each is cut within its configured timeout (or refused with `503`),
//! and a normal client from another address is served meanwhile. (Linux: another address is
//! 127.0.0.2, which only Linux routes on loopback without setup.)
#![cfg(target_os = "linux")]

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use mocopr_client::McpClient;
use mocopr_testing::{ListeningServer, example_path};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio::process::Command;

const BODY_TIMEOUT: Duration = Duration::from_millis(1000);
const HEADER_TIMEOUT: Duration = Duration::from_millis(2000);
const IDLE_TIMEOUT: Duration = Duration::from_millis(1000);
const WRITE_TIMEOUT: Duration = Duration::from_millis(1000);
const PER_PEER: usize = 8;
/// What a timeout may be late by on a busy 2-core machine.
const SLACK: Duration = Duration::from_secs(3);

async fn production_server() -> (ListeningServer, SocketAddr) {
    let mut command = Command::new(example_path("production-server"));
    let ms = |d: Duration| d.as_millis().to_string();
    command
        .args(["--transport", "http", "--bind", "127.0.0.1:0", "--no-cache"])
        .args(["--body-timeout-ms", &ms(BODY_TIMEOUT), "--header-timeout-ms", &ms(HEADER_TIMEOUT)])
        .args(["--idle-timeout-ms", &ms(IDLE_TIMEOUT), "--write-timeout-ms", &ms(WRITE_TIMEOUT)])
        .args(["--max-connections-per-peer", &PER_PEER.to_string(), "--max-body-bytes", &(16 << 20).to_string()]);
    let server = ListeningServer::start(command).await.expect("production-server says where it listens");
    let authority = server.url().trim_start_matches("http://").trim_end_matches("/mcp").to_owned();
    (server, authority.parse().expect("an address"))
}

/// A connection to `server` from `source` (another loopback address is another peer).
async fn connect_from(source: [u8; 4], server: SocketAddr) -> TcpStream {
    let socket = TcpSocket::new_v4().expect("socket");
    socket.bind(SocketAddr::from((source, 0))).expect("bind a loopback source");
    socket.connect(server).await.expect("connect")
}

/// Reads until the server closes; what it sent, and when it closed (`None`: still open at
/// `deadline`).
async fn read_until_closed(stream: &mut TcpStream, deadline: Duration) -> (Vec<u8>, Option<Instant>) {
    let mut seen = Vec::new();
    let mut buffer = [0u8; 64 * 1024];
    let outcome = tokio::time::timeout(deadline, async {
        loop {
            match stream.read(&mut buffer).await {
                Ok(0) | Err(_) => return Instant::now(),
                Ok(n) => seen.extend_from_slice(&buffer[..n]),
            }
        }
    })
    .await;
    (seen, outcome.ok())
}

fn request_head(server: SocketAddr, content_length: usize) -> String {
    format!(
        "POST /mcp HTTP/1.1\r\nhost: {server}\r\ncontent-type: application/json\r\naccept: application/json, text/event-stream\r\nmcp-protocol-version: 2026-07-28\r\nmcp-method: tools/call\r\nmcp-name: echo\r\ncontent-length: {content_length}\r\n\r\n"
    )
}

fn echo_call(text: &str) -> String {
    json!({
        "jsonrpc": "2.0", "id": 1, "method": "tools/call",
        "params": {"name": "echo", "arguments": {"text": text}, "_meta": {
            "io.modelcontextprotocol/protocolVersion": "2026-07-28",
            "io.modelcontextprotocol/clientCapabilities": {}
        }}
    })
    .to_string()
}

/// A normal client, from its own address, gets its answer.
async fn still_served(server: SocketAddr) {
    let mut stream = connect_from([127, 0, 0, 2], server).await;
    let body = echo_call("still here");
    stream.write_all(format!("{}{body}", request_head(server, body.len())).as_bytes()).await.expect("write");
    let mut answer = vec![0u8; 64 * 1024];
    let n = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut answer))
        .await
        .expect("answered in time")
        .expect("read");
    let answer = String::from_utf8_lossy(&answer[..n]);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains("still here"), "{answer}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_and_idle_connections_are_cut_within_their_timeouts() {
    let (_server, address) = production_server().await;
    still_served(address).await;

    // A body a byte every 200 ms: `408` once the body timeout passes, then closed.
    let mut slow_body = connect_from([127, 0, 0, 1], address).await;
    let body = echo_call("slow");
    let started = Instant::now();
    slow_body.write_all(request_head(address, body.len()).as_bytes()).await.expect("head");
    let trickle = async {
        for byte in body.as_bytes() {
            if slow_body.write_all(&[*byte]).await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
            if started.elapsed() > BODY_TIMEOUT + SLACK {
                break;
            }
        }
    };
    let served_meanwhile = async {
        tokio::time::sleep(BODY_TIMEOUT / 2).await;
        still_served(address).await;
    };
    tokio::join!(trickle, served_meanwhile);
    let (answer, closed) = read_until_closed(&mut slow_body, SLACK).await;
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    let closed = closed.expect("the slow body's connection is closed");
    assert!(closed.duration_since(started) < BODY_TIMEOUT + SLACK, "{:?}", closed.duration_since(started));
    eprintln!("slow body: 408 and closed after {:?}", closed.duration_since(started));

    // Headers that never end: closed once the header timeout passes.
    let mut slow_head = connect_from([127, 0, 0, 1], address).await;
    let started = Instant::now();
    slow_head.write_all(format!("POST /mcp HTTP/1.1\r\nhost: {address}\r\n").as_bytes()).await.expect("write");
    let (_, closed) = read_until_closed(&mut slow_head, HEADER_TIMEOUT + SLACK).await;
    let took = closed.expect("the endless head's connection is closed").duration_since(started);
    assert!(took >= HEADER_TIMEOUT.mul_f32(0.9), "closed before its timeout: {took:?}");
    eprintln!("endless head: closed after {took:?}");
    still_served(address).await;

    // A keep-alive connection left idle after its answer: closed once the idle timeout passes.
    let mut idle = connect_from([127, 0, 0, 1], address).await;
    let body = echo_call("once");
    idle.write_all(format!("{}{body}", request_head(address, body.len())).as_bytes()).await.expect("write");
    let mut answer = vec![0u8; 64 * 1024];
    let n = idle.read(&mut answer).await.expect("answer");
    assert!(answer[..n].starts_with(b"HTTP/1.1 200"));
    let started = Instant::now();
    let (_, closed) = read_until_closed(&mut idle, IDLE_TIMEOUT + SLACK).await;
    let took = closed.expect("the idle connection is closed").duration_since(started);
    assert!(took >= IDLE_TIMEOUT.mul_f32(0.9), "closed before its timeout: {took:?}");
    eprintln!("idle keep-alive: closed after {took:?}");
    still_served(address).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_stops_reading_is_cut_and_one_address_cannot_take_every_connection() {
    let (_server, address) = production_server().await;

    // A call with a 12 MiB answer (more than the kernel's socket buffers hold) from a client
    // that reads none of it: the server's write stalls and the connection is closed after the
    // write timeout, with most of the answer never sent.
    let socket = TcpSocket::new_v4().expect("socket");
    socket.set_recv_buffer_size(4096).expect("a small receive buffer");
    let mut reader = socket.connect(address).await.expect("connect");
    let text = "x".repeat(12 * 1024 * 1024);
    let body = echo_call(&text);
    reader.write_all(format!("{}{body}", request_head(address, body.len())).as_bytes()).await.expect("sent");
    // Long enough for a loaded debug build to answer, stall and give up.
    tokio::time::sleep(WRITE_TIMEOUT + 2 * SLACK).await;
    still_served(address).await;
    let (answer, closed) = read_until_closed(&mut reader, Duration::from_secs(10)).await;
    assert!(closed.is_some(), "the stalled connection was closed");
    eprintln!("a client that stopped reading got {} KiB of its answer before it was cut", answer.len() / 1024);
    assert!(answer.len() < text.len(), "the whole answer got through ({} bytes): nothing stalled", answer.len());
    drop(reader);

    // One address holds at most PER_PEER connections; the next gets `503` at once.
    let mut held = Vec::new();
    for _ in 0..PER_PEER {
        held.push(connect_from([127, 0, 0, 1], address).await);
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut refused = connect_from([127, 0, 0, 1], address).await;
    let started = Instant::now();
    let (answer, closed) = read_until_closed(&mut refused, Duration::from_secs(5)).await;
    assert!(String::from_utf8_lossy(&answer).starts_with("HTTP/1.1 503"), "{}", String::from_utf8_lossy(&answer));
    assert!(closed.is_some_and(|c| c.duration_since(started) < Duration::from_secs(2)), "refused at once");
    // Another address is served while they are held, and an MCP client works.
    still_served(address).await;
    drop(held);
    // The server frees the places as it sees the connections close.
    let started = Instant::now();
    let client = loop {
        match McpClient::builder().connect_http(&format!("http://{address}/mcp")).await {
            Ok(client) => break client,
            Err(error) if started.elapsed() < Duration::from_secs(10) => {
                eprintln!("not yet: {error}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(error) => panic!("the places never came back: {error}"),
        }
    };
    let result = client.call_tool("echo", json!({"text": "back"})).await.expect("echo");
    assert!(format!("{result:?}").contains("back"));
}
