//! What a server may make the client do: a scripted server over the in-memory pair sends
//! requests of its own. A legacy server's are answered a bounded number at a time; a
//! 2026-07-28 server's are refused without reaching the input handler.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use futures_util::future::BoxFuture;
use mocopr_client::{InputHandler, McpClient};
use mocopr_core::ErrorObject;
use mocopr_core::types::{ClientCapabilities, ElicitRequestParams, ElicitResult};
use mocopr_transport::memory::{MemoryEnd, pair};
use mocopr_transport::{FramingConfig, Inbound};
use serde_json::{Value, json};

/// Counts the elicitations it is asked for and never finishes one.
struct Stuck(Arc<AtomicUsize>);

impl InputHandler for Stuck {
    fn capabilities(&self) -> ClientCapabilities {
        ClientCapabilities::default().with_elicitation()
    }

    fn elicit(&self, _params: ElicitRequestParams) -> BoxFuture<'_, Result<ElicitResult, ErrorObject>> {
        self.0.fetch_add(1, Ordering::SeqCst);
        Box::pin(std::future::pending())
    }
}

async fn next(end: &mut MemoryEnd) -> Value {
    match tokio::time::timeout(Duration::from_secs(5), end.reader.next()).await.expect("in time") {
        Some(Ok(Inbound::Frame(frame))) => serde_json::from_slice(&frame).expect("JSON"),
        Some(Ok(Inbound::Invalid(error))) => panic!("invalid frame: {error}"),
        Some(Err(error)) => panic!("read: {error}"),
        None => panic!("the client closed"),
    }
}

async fn send(end: &MemoryEnd, message: Value) {
    end.sink.send(Bytes::from(format!("{message}\n"))).await.expect("send");
}

/// Plays the server's side of era detection: `modern` answers the probe, else it is refused
/// and `initialize` answered for 2025-06-18.
async fn handshake(server: &mut MemoryEnd, modern: bool) {
    let probe = next(server).await;
    assert_eq!(probe["method"], "server/discover");
    if modern {
        let result = json!({"supportedVersions": ["2026-07-28"], "capabilities": {}, "resultType": "complete"});
        send(server, json!({"jsonrpc": "2.0", "id": probe["id"], "result": result})).await;
        return;
    }
    let error = json!({"code": -32601, "message": "no such method"});
    send(server, json!({"jsonrpc": "2.0", "id": probe["id"], "error": error})).await;
    let init = next(server).await;
    assert_eq!(init["method"], "initialize");
    let result =
        json!({"protocolVersion": "2025-06-18", "capabilities": {}, "serverInfo": {"name": "s", "version": "1"}});
    send(server, json!({"jsonrpc": "2.0", "id": init["id"], "result": result})).await;
    assert_eq!(next(server).await["method"], "notifications/initialized");
}

async fn connect(modern: bool, max: Option<usize>) -> (McpClient, MemoryEnd, Arc<AtomicUsize>) {
    let (client_end, mut server) = pair(&FramingConfig::default());
    let asked = Arc::new(AtomicUsize::new(0));
    let mut builder = McpClient::builder().with_input_handler(Stuck(asked.clone()));
    if let Some(max) = max {
        builder = builder.with_max_server_requests(max);
    }
    let connecting = tokio::spawn(builder.connect(client_end.reader, client_end.sink));
    handshake(&mut server, modern).await;
    let client = connecting.await.expect("task").expect("connect");
    (client, server, asked)
}

fn elicit(id: u32) -> Value {
    let params = json!({"message": "Name?", "requestedSchema": {"type": "object", "properties": {}}});
    json!({"jsonrpc": "2.0", "id": format!("s{id}"), "method": "elicitation/create", "params": params})
}

#[tokio::test]
async fn a_legacy_servers_requests_are_answered_a_bounded_number_at_a_time() {
    let (client, mut server, asked) = connect(false, Some(4)).await;
    for id in 0..10 {
        send(&server, elicit(id)).await;
    }
    // Four reach the handler; the six beyond the bound are refused at once.
    let mut refused = Vec::new();
    for _ in 0..6 {
        let answer = next(&mut server).await;
        assert_eq!(answer["error"]["code"], -32603, "{answer}");
        refused.push(answer["id"].as_str().expect("an id").to_owned());
    }
    refused.sort();
    assert_eq!(refused, ["s4", "s5", "s6", "s7", "s8", "s9"]);
    // A ping is answered even with every permit taken, and the client's own calls go through.
    send(&server, json!({"jsonrpc": "2.0", "id": "p", "method": "ping"})).await;
    assert_eq!(next(&mut server).await, json!({"jsonrpc": "2.0", "id": "p", "result": {}}));
    let listing = tokio::spawn({
        let client = client.clone();
        async move { client.list_tools().await }
    });
    let request = next(&mut server).await;
    assert_eq!(request["method"], "tools/list", "{request}");
    send(&server, json!({"jsonrpc": "2.0", "id": request["id"], "result": {"tools": []}})).await;
    assert!(listing.await.expect("task").expect("listed").is_empty());
    assert_eq!(asked.load(Ordering::SeqCst), 4, "only as many handlers as permits");
}

#[tokio::test]
async fn a_modern_servers_requests_are_dropped_without_asking_the_handler() {
    let (client, mut server, asked) = connect(true, None).await;
    send(&server, elicit(1)).await;
    // The next message the server gets is the client's own request: no response was written.
    let listing = tokio::spawn(async move { client.list_tools().await });
    let request = next(&mut server).await;
    assert_eq!(request["method"], "tools/list", "{request}");
    let result = json!({"tools": [], "resultType": "complete"});
    send(&server, json!({"jsonrpc": "2.0", "id": request["id"], "result": result})).await;
    assert!(listing.await.expect("task").expect("listed").is_empty());
    assert_eq!(asked.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn a_result_type_the_client_does_not_know_makes_the_result_invalid() {
    let (client, mut server, _) = connect(true, None).await;
    for (kind, accepted) in [("complete", true), ("task", false), ("something-new", false)] {
        let call = {
            let client = client.clone();
            tokio::spawn(async move { client.request("tools/list", json!({})).await })
        };
        let request = next(&mut server).await;
        let result = json!({"tools": [], "resultType": kind, "ttlMs": 0, "cacheScope": "public"});
        send(&server, json!({"jsonrpc": "2.0", "id": request["id"], "result": result})).await;
        let answer = call.await.expect("task");
        match (accepted, answer) {
            (true, Ok(result)) => assert_eq!(result["resultType"], "complete"),
            (false, Err(mocopr_client::ClientError::UnsupportedResultType(seen))) => assert_eq!(seen, kind),
            (_, other) => panic!("{kind}: {other:?}"),
        }
    }
}

#[tokio::test]
async fn a_modern_server_that_cancels_a_request_of_ours_ends_it() {
    let (client, mut server, _) = connect(true, None).await;
    let call = {
        let client = client.clone();
        tokio::spawn(async move { client.request("subscriptions/listen", json!({"notifications": {}})).await })
    };
    let request = next(&mut server).await;
    let cancelled = json!({"requestId": request["id"], "reason": "shutting down"});
    send(&server, json!({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": cancelled})).await;
    let answer = tokio::time::timeout(Duration::from_secs(5), call).await.expect("ended at once").expect("task");
    match answer {
        Err(mocopr_client::ClientError::Server(error)) => assert!(error.message.contains("shutting down"), "{error:?}"),
        other => panic!("{other:?}"),
    }
    // The client goes on.
    let ping = {
        let client = client.clone();
        tokio::spawn(async move { client.request("ping", json!({})).await })
    };
    let request = next(&mut server).await;
    send(&server, json!({"jsonrpc": "2.0", "id": request["id"], "result": {"resultType": "complete"}})).await;
    assert!(ping.await.expect("task").is_ok());
}
