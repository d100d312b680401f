//! The server over a real framed byte stream (the in-memory pair, same framing as stdio): both
//! eras on one connection, errors, 1,000 concurrent requests, cancellation, partial reads.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use mocopr_core::types::{ContentBlock, Tool};
use mocopr_server::{Args, HandlerError, McpServer, RequestCtx, StdioConfig, serve_connection};
use mocopr_transport::memory::{MemoryEnd, pair};
use mocopr_transport::{FrameReader, FramingConfig, Inbound, spawn_writer};
use serde_json::{Value, json};
use tokio::io::AsyncWriteExt;

const META: &str = r#""_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}"#;

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct Text {
    text: String,
}

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct Delay {
    ms: u64,
}

fn object(v: Value) -> serde_json::Map<String, Value> {
    v.as_object().cloned().unwrap_or_default()
}

fn server(cancelled: Arc<AtomicBool>, started: Arc<AtomicUsize>) -> McpServer {
    let text = object(json!({"type":"object","properties":{"text":{"type":"string"}},"required":["text"]}));
    let delay = object(json!({"type":"object","properties":{"ms":{"type":"integer"}},"required":["ms"]}));
    McpServer::builder()
        .with_name("test")
        .tool(
            Tool::new("echo").with_input_schema(text),
            |Args(p): Args<Text>| async move { Ok::<_, HandlerError>(p.text) },
        )
        .tool(Tool::new("sleep").with_input_schema(delay.clone()), |Args(p): Args<Delay>| async move {
            tokio::time::sleep(Duration::from_millis(p.ms)).await;
            Ok::<_, HandlerError>(vec![ContentBlock::text(p.ms.to_string())])
        })
        .tool(Tool::new("touch"), |ctx: RequestCtx| async move {
            ctx.changes().tools_changed();
            Ok::<_, HandlerError>("touched".to_string())
        })
        .tool(Tool::new("wait_for_cancel"), move |ctx: RequestCtx| {
            let stopped = StopFlag(cancelled.clone());
            let started = started.clone();
            async move {
                let _stopped = stopped;
                started.fetch_add(1, Ordering::SeqCst);
                ctx.cancelled().await;
                Ok::<_, HandlerError>("cancelled".to_string())
            }
        })
        .build()
        .expect("valid server")
}

/// Sets its flag when dropped: the handler's future ended (finished or was dropped).
struct StopFlag(Arc<AtomicBool>);

impl Drop for StopFlag {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

struct Client {
    end: MemoryEnd,
}

impl Client {
    fn start(server: McpServer) -> Client {
        let config = FramingConfig::default();
        let (client, server_end) = pair(&config);
        tokio::spawn(serve_connection(server, server_end.reader, server_end.sink, StdioConfig::default()));
        Client { end: client }
    }

    async fn send(&self, line: &str) {
        self.end.sink.send(Bytes::from(format!("{line}\n"))).await.expect("send");
    }

    async fn recv(&mut self) -> Value {
        match tokio::time::timeout(Duration::from_secs(10), self.end.reader.next()).await {
            Ok(Some(Ok(Inbound::Frame(frame)))) => serde_json::from_slice(&frame).expect("server sends JSON"),
            other => panic!("expected a frame, got {other:?}"),
        }
    }

    async fn call(&mut self, line: &str) -> Value {
        self.send(line).await;
        self.recv().await
    }
}

fn plain_server() -> McpServer {
    server(Arc::default(), Arc::default())
}

#[tokio::test]
async fn modern_requests_are_served_statelessly() {
    let mut c = Client::start(plain_server());
    let discover =
        c.call(&format!(r#"{{"jsonrpc":"2.0","id":1,"method":"server/discover","params":{{{META}}}}}"#)).await;
    assert_eq!(discover["result"]["resultType"], "complete");
    assert_eq!(discover["result"]["supportedVersions"][0], "2026-07-28");
    assert!(discover["result"]["ttlMs"].is_u64());

    let list = c.call(&format!(r#"{{"jsonrpc":"2.0","id":2,"method":"tools/list","params":{{{META}}}}}"#)).await;
    let names: Vec<_> =
        list["result"]["tools"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["echo", "sleep", "touch", "wait_for_cancel"]);
    assert_eq!(list["result"]["cacheScope"], "public");

    let echo = c
        .call(&format!(r#"{{"jsonrpc":"2.0","id":"e","method":"tools/call","params":{{"name":"echo","arguments":{{"text":"hi"}},{META}}}}}"#))
        .await;
    assert_eq!(echo["id"], "e");
    assert_eq!(echo["result"]["content"][0]["text"], "hi");
    assert_eq!(echo["result"]["resultType"], "complete");
    assert_eq!(echo["result"]["_meta"]["io.modelcontextprotocol/serverInfo"]["name"], "test");
}

#[tokio::test]
async fn legacy_sessions_start_with_initialize_and_both_eras_share_the_connection() {
    let mut c = Client::start(plain_server());
    let before = c.call(r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#).await;
    assert_eq!(before["error"]["code"], -32602, "no session and no _meta: {before}");

    let init = c
        .call(r#"{"jsonrpc":"2.0","id":2,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"c","version":"1"}}}"#)
        .await;
    assert_eq!(init["result"]["protocolVersion"], "2025-06-18");
    c.send(r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#).await;

    let legacy = c.call(r#"{"jsonrpc":"2.0","id":3,"method":"tools/list"}"#).await;
    assert!(legacy["result"]["tools"].is_array());
    assert!(legacy["result"].get("resultType").is_none(), "legacy results have no resultType");

    let modern = c.call(&format!(r#"{{"jsonrpc":"2.0","id":4,"method":"tools/list","params":{{{META}}}}}"#)).await;
    assert_eq!(modern["result"]["resultType"], "complete");

    let again = c
        .call(r#"{"jsonrpc":"2.0","id":5,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"c","version":"1"}}}"#)
        .await;
    assert_eq!(again["error"]["code"], -32600);

    let discover_in_legacy = c.call(r#"{"jsonrpc":"2.0","id":6,"method":"server/discover"}"#).await;
    assert_eq!(discover_in_legacy["error"]["code"], -32601);
}

#[tokio::test]
async fn a_legacy_stdio_session_hears_about_list_changes() {
    let mut c = Client::start(plain_server());
    let init = c
        .call(r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"c","version":"1"}}}"#)
        .await;
    assert_eq!(init["result"]["capabilities"]["tools"]["listChanged"], true);
    c.send(r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#).await;
    c.send(r#"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"touch"}}"#).await;
    let mut got = vec![c.recv().await, c.recv().await];
    got.sort_by_key(|m| m.get("id").is_some());
    assert_eq!(got[0]["method"], "notifications/tools/list_changed", "{got:?}");
    assert_eq!(got[1]["result"]["content"][0]["text"], "touched");
}

#[tokio::test]
async fn errors_name_the_request_and_the_connection_keeps_serving() {
    let mut c = Client::start(plain_server());
    let cases = [
        (r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"nope",META}}"#, -32602),
        (r#"{"jsonrpc":"2.0","id":1,"method":"no/such",META_PARAMS}"#, -32601),
        (
            r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2026-07-28","capabilities":{},"clientInfo":{"name":"c","version":"1"},META}}"#,
            -32601,
        ),
        (r#"{"jsonrpc":"2.0","id":1,"method":"ping",META_PARAMS}"#, -32601),
        (r#"{"jsonrpc":"2.0","id":1,"method":"logging/setLevel",META_PARAMS}"#, -32601),
        (r#"{"jsonrpc":"2.0","id":1,"method":"resources/subscribe",META_PARAMS}"#, -32601),
        (r#"{"jsonrpc":"2.0","id":1,"method":"initialize",META_PARAMS}"#, -32601),
        (
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2031-01-01","io.modelcontextprotocol/clientCapabilities":{}}}}"#,
            -32022,
        ),
        (
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}}}"#,
            -32602,
        ),
        (r#"{"jsonrpc":"2.0","id":null,"method":"tools/list"}"#, -32600),
        (r#"{"jsonrpc":"2.0","id":1,"method":"tools/list""#, -32700),
        (r#"[{"jsonrpc":"2.0","id":1,"method":"ping"}]"#, -32600),
    ];
    for (line, code) in cases {
        let line = line.replace("META_PARAMS", &format!(r#""params":{{{META}}}"#)).replace("META", META);
        let response = c.call(&line).await;
        assert_eq!(response["error"]["code"], code, "{line} -> {response}");
    }
    let bad_args = c
        .call(&format!(r#"{{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{{"name":"echo","arguments":{{"text":5}},{META}}}}}"#))
        .await;
    assert_eq!(bad_args["result"]["isError"], true, "invalid arguments are a tool error: {bad_args}");
    let fine = c
        .call(&format!(r#"{{"jsonrpc":"2.0","id":10,"method":"tools/call","params":{{"name":"echo","arguments":{{"text":"ok"}},{META}}}}}"#))
        .await;
    assert_eq!(fine["result"]["content"][0]["text"], "ok");
}

#[tokio::test]
async fn notifications_are_never_answered_whatever_they_carry() {
    let mut c = Client::start(plain_server());
    for line in [
        r#"{"jsonrpc":"2.0","method":"notifications/cancelled","params":[1,2]}"#,
        r#"{"jsonrpc":"2.0","method":"notifications/cancelled","params":"text"}"#,
        r#"{"jsonrpc":"2.0","method":""}"#,
        r#"{"jsonrpc":"2.0","method":"rpc.anything"}"#,
        r#"{"jsonrpc":"2.0","method":7}"#,
        r#"{"jsonrpc":"1.0","method":"notifications/initialized"}"#,
        r#"{"jsonrpc":"2.0","method":"no/such/notification","params":{}}"#,
    ] {
        c.send(line).await;
    }
    // The first line back answers the request sent after them: nothing answered the rest.
    let response = c.call(&format!(r#"{{"jsonrpc":"2.0","id":3,"method":"tools/list","params":{{{META}}}}}"#)).await;
    assert_eq!(response["id"], 3, "{response}");
    assert!(response["result"]["tools"].is_array(), "{response}");
    // A name no method has, in a request, is a method not found.
    let response = c.call(&format!(r#"{{"jsonrpc":"2.0","id":4,"method":"rpc.discover","params":{{{META}}}}}"#)).await;
    assert_eq!((response["id"].clone(), response["error"]["code"].clone()), (json!(4), json!(-32601)));
}

#[tokio::test]
async fn a_thousand_concurrent_requests_on_one_stream_are_all_answered_correctly() {
    let mut c = Client::start(plain_server());
    let mut batch = String::new();
    for i in 0..1000_usize {
        // Half finish inline, half sleep and finish out of order.
        let line = if i.is_multiple_of(2) {
            format!(
                r#"{{"jsonrpc":"2.0","id":{i},"method":"tools/call","params":{{"name":"echo","arguments":{{"text":"m{i}"}},{META}}}}}"#
            )
        } else {
            format!(
                r#"{{"jsonrpc":"2.0","id":{i},"method":"tools/call","params":{{"name":"sleep","arguments":{{"ms":{}}},{META}}}}}"#,
                (i * 7) % 50
            )
        };
        batch.push_str(&line);
        batch.push('\n');
    }
    c.end.sink.send(Bytes::from(batch)).await.unwrap();
    let mut seen = vec![false; 1000];
    for _ in 0..1000 {
        let response = c.recv().await;
        let id = response["id"].as_u64().expect("numeric id") as usize;
        let text = response["result"]["content"][0]["text"].as_str().expect("text result");
        let expected = if id.is_multiple_of(2) { format!("m{id}") } else { ((id * 7) % 50).to_string() };
        assert_eq!(text, expected);
        assert!(!std::mem::replace(&mut seen[id], true), "id {id} answered twice");
    }
    assert!(seen.iter().all(|s| *s));
}

#[tokio::test]
async fn cancellation_stops_the_handler_and_suppresses_the_response() {
    let stopped = Arc::new(AtomicBool::new(false));
    let started = Arc::new(AtomicUsize::new(0));
    let mut c = Client::start(server(stopped.clone(), started.clone()));
    c.send(&format!(
        r#"{{"jsonrpc":"2.0","id":"slow","method":"tools/call","params":{{"name":"wait_for_cancel",{META}}}}}"#
    ))
    .await;
    while started.load(Ordering::SeqCst) == 0 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert!(!stopped.load(Ordering::SeqCst), "the handler waits until cancelled");
    c.send(r#"{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":"slow","reason":"test"}}"#)
        .await;
    // The next answer is for the next request: nothing was sent for the cancelled one.
    let next = c.call(&format!(r#"{{"jsonrpc":"2.0","id":"after","method":"tools/list","params":{{{META}}}}}"#)).await;
    assert_eq!(next["id"], "after");
    for _ in 0..200 {
        if stopped.load(Ordering::SeqCst) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert!(stopped.load(Ordering::SeqCst), "cancellation stopped the handler");
}

#[tokio::test]
async fn frames_split_into_single_bytes_are_read_whole() {
    let config = FramingConfig::default();
    let (client_io, server_io) = tokio::io::duplex(1);
    let (server_read, server_write) = tokio::io::split(server_io);
    let (sink, _writer) = spawn_writer(server_write, &config);
    tokio::spawn(serve_connection(
        plain_server(),
        FrameReader::new(server_read, &config),
        sink,
        StdioConfig::default(),
    ));
    let (client_read, mut client_write) = tokio::io::split(client_io);
    let line = format!(
        "{{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"tools/call\",\"params\":{{\"name\":\"echo\",\"arguments\":{{\"text\":\"byte by byte\"}},{META}}}}}\n"
    );
    tokio::spawn(async move {
        for byte in line.as_bytes() {
            client_write.write_all(std::slice::from_ref(byte)).await.unwrap();
        }
        client_write.flush().await.unwrap();
        // Keep the write half open until the answer has been read.
        tokio::time::sleep(Duration::from_secs(5)).await;
    });
    let mut reader = FrameReader::new(client_read, &config);
    let Some(Ok(Inbound::Frame(frame))) = reader.next().await else { panic!("no answer") };
    let response: Value = serde_json::from_slice(&frame).unwrap();
    assert_eq!(response["result"]["content"][0]["text"], "byte by byte");
}

/// Found by the `dispatcher` fuzz target: a legacy session's change forwarding kept the
/// connection's writer (and a task) alive after the connection ended, for as long as the
/// server lived, one per connection it ever served.
#[tokio::test]
async fn a_server_keeps_nothing_of_a_legacy_connection_once_it_ends() {
    let server = McpServer::builder().tool("hello", || async { "Hello!" }).build().expect("valid server");
    for _ in 0..3 {
        let framing = FramingConfig::default();
        let input: &[u8] = b"{\"jsonrpc\":\"2.0\",\"id\":0,\"method\":\"initialize\",\"params\":{\"protocolVersion\":\"2025-11-25\",\"capabilities\":{},\"clientInfo\":{\"name\":\"t\",\"version\":\"1\"}}}\n{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}\n";
        let reader = mocopr_transport::FrameReader::new(input, &framing);
        let (sink, writer) = mocopr_transport::spawn_writer(tokio::io::sink(), &framing);
        serve_connection(server.clone(), reader, sink, StdioConfig::default()).await.expect("served");
        // The writer ends when the last sender is gone: nothing of the connection is kept.
        let ended = tokio::time::timeout(Duration::from_secs(5), writer).await;
        assert!(ended.is_ok(), "the connection's writer outlived it");
    }
}

/// A 2026-07-28 listen stream never ends by itself; once the input is over, nobody can cancel
/// it, so it ends with the input rather than holding the connection open for the whole drain
/// timeout (found by the dispatcher fuzz target, where every listen input took 10 s).
#[tokio::test]
async fn a_listen_stream_ends_with_its_connections_input() {
    let server = McpServer::builder().tool("hello", || async { "Hello!" }).build().expect("valid server");
    let framing = FramingConfig::default();
    let input: &[u8] = b"{\"jsonrpc\":\"2.0\",\"id\":\"l\",\"method\":\"subscriptions/listen\",\"params\":{\"_meta\":{\"io.modelcontextprotocol/protocolVersion\":\"2026-07-28\",\"io.modelcontextprotocol/clientCapabilities\":{},\"io.modelcontextprotocol/clientInfo\":{\"name\":\"t\",\"version\":\"1\"}},\"notifications\":{\"toolsListChanged\":true}}}\n";
    let reader = mocopr_transport::FrameReader::new(input, &framing);
    let (sink, writer) = mocopr_transport::spawn_writer(tokio::io::sink(), &framing);
    // A drain long enough that only the listen stream's own end lets the connection finish.
    let config = StdioConfig::builder().with_drain_timeout(Duration::from_secs(600)).build();
    let served = tokio::time::timeout(Duration::from_secs(10), serve_connection(server, reader, sink, config)).await;
    assert!(served.is_ok(), "the listen stream held the connection open after its input ended");
    let ended = tokio::time::timeout(Duration::from_secs(10), writer).await;
    assert!(ended.is_ok(), "the connection's writer outlived it");
}
