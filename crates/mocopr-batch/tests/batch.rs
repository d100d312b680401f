//! The batch processor against MoCoPr servers over the in-memory pair, with a tap that sees
//! every frame the client sends: results in input order with injected failures, batch arrays
//! only for a 2025-03-26 server, the concurrency limit, and the submit side's grouping.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use mocopr_batch::{BatchProcessor, ToolCall};
use mocopr_client::{ClientError, McpClient};
use mocopr_core::ProtocolVersion;
use mocopr_server::{Args, HandlerError, McpServer, StdioConfig, serve_connection};
use mocopr_transport::memory::pair;
use mocopr_transport::{FramingConfig, Inbound};
use serde_json::{Value, json};

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct Text {
    text: String,
}

/// What the server saw: the size of each batch array, and the most calls running at once.
#[derive(Default)]
struct Seen {
    arrays: Mutex<Vec<usize>>,
    singles: AtomicUsize,
    running: AtomicUsize,
    most_running: AtomicUsize,
}

fn server(version: ProtocolVersion, seen: Arc<Seen>) -> McpServer {
    McpServer::builder()
        .with_protocol_versions(&[version])
        .tool("echo", |Args(t): Args<Text>| async move { Ok::<_, HandlerError>(t.text) })
        .tool("fail", || async { Err::<String, _>(HandlerError::new("injected failure")) })
        .tool("reject", || async { Err::<String, _>(HandlerError::invalid_params("injected protocol error")) })
        .tool("slow", move || {
            let seen = seen.clone();
            async move {
                let now = seen.running.fetch_add(1, Ordering::SeqCst) + 1;
                seen.most_running.fetch_max(now, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(20)).await;
                seen.running.fetch_sub(1, Ordering::SeqCst);
                Ok::<_, HandlerError>("done")
            }
        })
        .build()
        .expect("server")
}

/// A client connected to `server` through a tap that records what the client sends.
async fn connect(version: ProtocolVersion) -> (McpClient, Arc<Seen>) {
    let seen = Arc::new(Seen::default());
    let config = FramingConfig::default();
    let (client_end, tap_client) = pair(&config);
    let (tap_server, server_end) = pair(&config);
    tokio::spawn(serve_connection(
        server(version, seen.clone()),
        server_end.reader,
        server_end.sink,
        StdioConfig::default(),
    ));
    // Client to server, counting batch arrays; server to client, as is.
    let (mut from_client, to_server) = (tap_client.reader, tap_server.sink);
    let recorder = seen.clone();
    tokio::spawn(async move {
        while let Some(Ok(Inbound::Frame(frame))) = from_client.next().await {
            if frame.first() == Some(&b'[') {
                let entries: Vec<Value> = serde_json::from_slice(&frame).unwrap_or_default();
                recorder.arrays.lock().expect("lock").push(entries.len());
            } else {
                recorder.singles.fetch_add(1, Ordering::SeqCst);
            }
            let mut line = frame.to_vec();
            line.push(b'\n');
            if to_server.send(Bytes::from(line)).await.is_err() {
                return;
            }
        }
    });
    let (mut from_server, to_client) = (tap_server.reader, tap_client.sink);
    tokio::spawn(async move {
        while let Some(Ok(Inbound::Frame(frame))) = from_server.next().await {
            let mut line = frame.to_vec();
            line.push(b'\n');
            if to_client.send(Bytes::from(line)).await.is_err() {
                return;
            }
        }
    });
    let client = McpClient::builder()
        .with_probe_timeout(Duration::from_secs(2))
        .connect(client_end.reader, client_end.sink)
        .await
        .expect("connect");
    assert_eq!(client.server().map(|s| s.version), Some(version));
    (client, seen)
}

/// Calls with failures mixed in: every 5th fails as a tool, every 7th is rejected, every
/// 11th names a tool that does not exist.
fn mixed_calls(n: usize) -> Vec<ToolCall> {
    (0..n)
        .map(|i| match i {
            _ if i % 11 == 10 => ToolCall::new("missing", json!({})),
            _ if i % 7 == 6 => ToolCall::new("reject", json!({})),
            _ if i % 5 == 4 => ToolCall::new("fail", json!({})),
            _ => ToolCall::new("echo", json!({ "text": format!("call {i}") })),
        })
        .collect()
}

fn check_in_order(calls: &[ToolCall], results: &[Result<mocopr_core::types::CallToolResult, ClientError>]) {
    assert_eq!(calls.len(), results.len());
    for (i, (call, result)) in calls.iter().zip(results).enumerate() {
        match (call.name.as_str(), result) {
            ("echo", Ok(r)) => assert_eq!(r.content[0].as_text(), Some(format!("call {i}").as_str()), "call {i}"),
            ("fail", Ok(r)) => assert_eq!(r.is_error, Some(true), "call {i} is a tool error"),
            ("reject" | "missing", Err(ClientError::Server(e))) => assert_eq!(e.code.0, -32602, "call {i}"),
            (name, other) => panic!("call {i} ({name}): unexpected {other:?}"),
        }
    }
}

#[tokio::test]
async fn a_modern_server_gets_pipelined_calls_in_order_with_failures_isolated() {
    let (client, seen) = connect(ProtocolVersion::V2026_07_28).await;
    let processor = BatchProcessor::builder().with_max_batch_size(16).with_concurrency_limit(8).build(client);
    let calls = mixed_calls(200);
    let results = processor.execute_batch(&calls).await;
    check_in_order(&calls, &results);
    assert!(seen.arrays.lock().expect("lock").is_empty(), "no batch arrays beyond 2025-03-26");
}

#[tokio::test]
async fn a_2025_06_18_server_gets_no_batch_arrays() {
    let (client, seen) = connect(ProtocolVersion::V2025_06_18).await;
    let processor = BatchProcessor::builder().with_max_batch_size(16).build(client);
    let calls = mixed_calls(50);
    check_in_order(&calls, &processor.execute_batch(&calls).await);
    assert!(seen.arrays.lock().expect("lock").is_empty());
}

#[tokio::test]
async fn a_2025_03_26_server_gets_batch_arrays_in_order_with_failures_isolated() {
    let (client, seen) = connect(ProtocolVersion::V2025_03_26).await;
    let processor = BatchProcessor::builder().with_max_batch_size(16).with_concurrency_limit(64).build(client);
    let calls = mixed_calls(200);
    let results = processor.execute_batch(&calls).await;
    check_in_order(&calls, &results);
    let mut arrays = seen.arrays.lock().expect("lock").clone();
    arrays.sort_unstable();
    assert_eq!(arrays.len(), 13, "200 calls in arrays of at most 16: {arrays:?}");
    assert_eq!(arrays.iter().sum::<usize>(), 200);
    assert!(arrays.iter().all(|&n| n <= 16));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_concurrency_limit_bounds_calls_in_flight() {
    let (client, seen) = connect(ProtocolVersion::V2026_07_28).await;
    let processor = BatchProcessor::builder().with_concurrency_limit(4).build(client);
    let calls: Vec<ToolCall> = (0..40).map(|_| ToolCall::new("slow", json!({}))).collect();
    let results = processor.execute_batch(&calls).await;
    assert!(results.iter().all(Result::is_ok));
    let most = seen.most_running.load(Ordering::SeqCst);
    assert!((2..=4).contains(&most), "at most 4 calls ran at once on the server, and they did overlap: {most}");
}

#[tokio::test]
async fn submitted_calls_are_grouped_by_size_then_by_timeout() {
    let (client, seen) = connect(ProtocolVersion::V2025_03_26).await;
    let processor =
        BatchProcessor::builder().with_max_batch_size(10).with_batch_timeout(Duration::from_millis(50)).build(client);
    let calls = mixed_calls(25);
    let submitted = calls.iter().cloned().map(|call| processor.submit(call));
    let results = tokio::time::timeout(Duration::from_secs(10), futures_util::future::join_all(submitted))
        .await
        .expect("every submitted call is answered");
    check_in_order(&calls, &results);
    assert_eq!(*seen.arrays.lock().expect("lock"), [10, 10, 5], "two full groups, then the rest after the timeout");
}

#[tokio::test]
async fn dropping_the_processor_still_answers_what_was_submitted() {
    let (client, _seen) = connect(ProtocolVersion::V2026_07_28).await;
    let processor = BatchProcessor::builder().with_batch_timeout(Duration::from_millis(20)).build(client);
    let pending = {
        let processor = processor.clone();
        tokio::spawn(async move { processor.submit(ToolCall::new("echo", json!({"text": "last"}))).await })
    };
    drop(processor);
    let result = pending.await.expect("task").expect("answered");
    assert_eq!(result.content[0].as_text(), Some("last"));
}

#[tokio::test]
async fn over_http_a_2025_03_26_server_gets_batch_arrays_too() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}/mcp", listener.local_addr().expect("addr"));
    let server = server(ProtocolVersion::V2025_03_26, Arc::new(Seen::default()));
    let endpoint = server.into_http(mocopr_server::EndpointConfig::default());
    tokio::spawn(mocopr_server::serve_http(listener, endpoint).with_path("/mcp").into_future());
    let client =
        McpClient::builder().with_probe_timeout(Duration::from_secs(2)).connect_http(&url).await.expect("connect");
    assert_eq!(client.server().map(|s| s.version), Some(ProtocolVersion::V2025_03_26));
    let processor = BatchProcessor::builder().with_max_batch_size(16).build(client);
    let calls = mixed_calls(100);
    check_in_order(&calls, &processor.execute_batch(&calls).await);
}
