//! `SIGTERM` stops `echo-server` gracefully, as real child processes: over stdio it reads no
//! more, answers the call in flight, and exits 0; over HTTP it stops accepting, lets the call
//! in flight finish its stream, ends a legacy standalone stream cleanly, and exits 0.

use std::process::Stdio;
use std::time::Duration;

use bytes::Bytes;
use http::Request;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use mocopr_testing::{ListeningServer, example_path};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::Command;

const MODERN_META: &str = r#"{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{},"progressToken":"t"}"#;

fn countdown(id: u64) -> String {
    format!(
        r#"{{"jsonrpc":"2.0","id":{id},"method":"tools/call","params":{{"name":"countdown","arguments":{{"count":4,"interval_ms":150}},"_meta":{MODERN_META}}}}}"#
    )
}

async fn terminate(pid: Option<u32>) {
    let pid = pid.expect("a running child").to_string();
    let status = Command::new("kill").args(["-TERM", &pid]).status().await.expect("kill");
    assert!(status.success());
}

#[tokio::test]
async fn over_stdio_sigterm_answers_the_call_in_flight_then_exits() {
    let mut child = Command::new(example_path("echo-server"))
        .arg("stdio")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("echo-server");
    let mut stdin = child.stdin.take().expect("stdin");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    stdin.write_all(format!("{}\n", countdown(1)).as_bytes()).await.expect("write");
    let next = async |lines: &mut tokio::io::Lines<BufReader<tokio::process::ChildStdout>>| {
        let line = tokio::time::timeout(Duration::from_secs(10), lines.next_line()).await.expect("in time");
        line.expect("read").map(|l| serde_json::from_str::<Value>(&l).expect("JSON"))
    };
    let first = next(&mut lines).await.expect("a progress notification");
    assert_eq!(first["method"], "notifications/progress", "{first}");

    terminate(child.id()).await;
    let mut rest = Vec::new();
    while let Some(message) = next(&mut lines).await {
        rest.push(message);
    }
    let answer = rest.last().expect("the answer");
    assert_eq!(answer["result"]["content"][0]["text"], "done 4", "{rest:?}");
    assert_eq!(rest.len(), 4, "the three other steps, then the answer: {rest:?}");
    let status = tokio::time::timeout(Duration::from_secs(10), child.wait()).await.expect("exits").expect("status");
    assert!(status.success(), "{status}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_http_sigterm_finishes_the_stream_in_flight_ends_standalone_streams_and_exits() {
    let mut command = Command::new(example_path("echo-server"));
    command.args(["http", "--bind", "127.0.0.1:0"]);
    let mut server = ListeningServer::start(command).await.expect("echo-server says where it listens");
    let url = server.url().to_owned();
    let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();

    // A legacy session's standalone stream, open.
    let initialize = json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "shutdown", "version": "1"}}});
    let post = |body: String, headers: &[(&str, &str)]| {
        let mut request = Request::post(&url)
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream");
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.body(Full::new(Bytes::from(body))).expect("request")
    };
    let response = client.request(post(initialize.to_string(), &[])).await.expect("initialize");
    let session = response.headers()["mcp-session-id"].to_str().expect("ascii").to_owned();
    let get = Request::get(&url)
        .header("accept", "text/event-stream")
        .header("mcp-session-id", &session)
        .body(Full::new(Bytes::new()))
        .expect("request");
    let standalone = client.request(get).await.expect("the standalone stream");
    assert_eq!(standalone.status(), 200);

    // A 2026-07-28 call in flight, streaming its progress.
    let headers = [("mcp-protocol-version", "2026-07-28"), ("mcp-method", "tools/call"), ("mcp-name", "countdown")];
    let response = client.request(post(countdown(1), &headers)).await.expect("countdown");
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let mut body = response.into_body();
    let first = body.frame().await.expect("an event").expect("a frame");
    assert!(String::from_utf8_lossy(first.data_ref().expect("data")).contains("notifications/progress"));

    terminate(server.child_mut().id()).await;
    let rest = tokio::time::timeout(Duration::from_secs(10), body.collect()).await.expect("in time");
    let rest = String::from_utf8_lossy(&rest.expect("the stream ends cleanly").to_bytes()).into_owned();
    assert!(rest.contains("done 4"), "the call in flight finished: {rest}");
    let ended = tokio::time::timeout(Duration::from_secs(10), standalone.into_body().collect()).await;
    assert!(ended.expect("the standalone stream ends").is_ok(), "ended cleanly, not cut");

    let status = tokio::time::timeout(Duration::from_secs(10), server.child_mut().wait()).await;
    assert!(status.expect("exits").expect("status").success());
    let refused = tokio::net::TcpStream::connect(url.trim_start_matches("http://").trim_end_matches("/mcp")).await;
    assert!(refused.is_err(), "no longer accepting");
}
