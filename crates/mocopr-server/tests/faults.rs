//! Handlers that fail badly, over both transports: one that panics gets its request an
//! internal error that says nothing of the panic, and the server goes on serving (a task's
//! panic fails the task); one that never returns is answered by the timeout layer and
//! stopped. Each case counts the requests that failed around it: none.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http::Request;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use mocopr_core::types::Tool;
use mocopr_server::layer::TimeoutLayer;
use mocopr_server::{EndpointConfig, HandlerError, McpServer, StdioConfig, TaskSupport, serve_connection, serve_http};
use mocopr_transport::{FramingConfig, Inbound, memory::pair};
use serde_json::{Value, json};

/// Sets its flag when dropped: the handler's future ended (finished or was dropped).
struct StopFlag(Arc<AtomicBool>);

impl Drop for StopFlag {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// A server whose `panic` tool panics, `panic_task` panics as a task, `hang` never returns
/// (setting `stopped` once its future is dropped), behind a 300 ms timeout.
fn server(stopped: Arc<AtomicBool>) -> McpServer {
    McpServer::builder()
        .tool("echo", |mocopr_server::Args(v): mocopr_server::Args<Value>| async move { v["text"].to_string() })
        .tool(Tool::new("panic"), || async {
            let fail = true;
            if fail {
                panic!("a secret the client must not see");
            }
            Ok::<_, HandlerError>("never".to_owned())
        })
        .task_tool(
            Tool::new("panic_task"),
            || async {
                tokio::time::sleep(Duration::from_millis(20)).await;
                let fail = true;
                if fail {
                    panic!("a secret of a task");
                }
                Ok::<_, HandlerError>("never".to_owned())
            },
            TaskSupport::Optional,
        )
        .tool(Tool::new("hang"), move || {
            let flag = StopFlag(stopped.clone());
            async move {
                let _flag = flag;
                std::future::pending::<()>().await;
                Ok::<_, HandlerError>("never".to_owned())
            }
        })
        .layer(TimeoutLayer::new(Duration::from_millis(300)))
        .build()
        .expect("server")
}

/// A 2026-07-28 request.
fn request(id: u64, method: &str, params: Value, tasks: bool) -> Value {
    let mut params = params;
    let caps = if tasks { json!({"extensions": {"io.modelcontextprotocol/tasks": {}}}) } else { json!({}) };
    params["_meta"] = json!({
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": caps,
    });
    json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params})
}

fn call(id: u64, tool: &str) -> Value {
    let arguments = if tool == "echo" { json!({"text": "still here"}) } else { json!({}) };
    request(id, "tools/call", json!({"name": tool, "arguments": arguments}), tool == "panic_task")
}

/// Checks the answers of the fault cases; the number of ordinary requests around them that
/// failed.
fn failed_around(answers: &[(String, Value)]) -> usize {
    let mut failed = 0;
    for (tool, answer) in answers {
        match tool.as_str() {
            "panic" => {
                assert_eq!(answer["error"]["code"], -32603, "{answer}");
                assert!(!answer.to_string().contains("secret"), "the panic stays inside: {answer}");
            }
            "hang" => assert!(answer["error"]["message"].as_str().is_some_and(|m| m.contains("time")), "{answer}"),
            _ => failed += usize::from(answer["result"]["content"][0]["text"] != "\"still here\""),
        }
    }
    failed
}

async fn wait_for(flag: &AtomicBool) -> bool {
    for _ in 0..200 {
        if flag.load(Ordering::SeqCst) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    false
}

#[tokio::test]
async fn over_stdio_a_panic_and_a_hang_get_errors_and_nothing_else_fails() {
    let stopped = Arc::new(AtomicBool::new(false));
    let (mut client, end) = pair(&FramingConfig::default());
    tokio::spawn(serve_connection(server(stopped.clone()), end.reader, end.sink, StdioConfig::default()));
    let mut ask = async |message: Value| {
        client.sink.send(Bytes::from(format!("{message}\n"))).await.expect("send");
        match tokio::time::timeout(Duration::from_secs(10), client.reader.next()).await {
            Ok(Some(Ok(Inbound::Frame(frame)))) => serde_json::from_slice::<Value>(&frame).expect("JSON"),
            other => panic!("no answer: {other:?}"),
        }
    };
    let mut answers = Vec::new();
    for (id, tool) in ["echo", "panic", "echo", "hang", "echo", "panic", "echo"].into_iter().enumerate() {
        answers.push((tool.to_owned(), ask(call(id as u64, tool)).await));
    }
    assert_eq!(failed_around(&answers), 0);
    assert!(wait_for(&stopped).await, "the hanging handler was stopped");

    // A task whose handler panics fails; the server answers on.
    let created = ask(call(100, "panic_task")).await;
    let task = created["result"]["taskId"].as_str().expect("a task").to_owned();
    let mut status = Value::Null;
    for n in 0..100 {
        status = ask(request(101 + n, "tasks/get", json!({"taskId": task}), true)).await;
        if status["result"]["status"] == "failed" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(status["result"]["status"], "failed", "{status}");
    assert_eq!(status["result"]["error"]["code"], -32603, "{status}");
    assert!(!status.to_string().contains("secret"), "{status}");
    assert_eq!(failed_around(&[("echo".to_owned(), ask(call(300, "echo")).await)]), 0);
}

#[tokio::test]
async fn over_http_a_panic_and_a_hang_get_errors_and_nothing_else_fails() {
    let stopped = Arc::new(AtomicBool::new(false));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}/mcp", listener.local_addr().expect("addr"));
    let endpoint = server(stopped.clone()).into_http(EndpointConfig::default());
    tokio::spawn(serve_http(listener, endpoint).with_path("/mcp").into_future());
    let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let ask = async |message: Value| {
        let tool = message["params"]["name"].as_str().unwrap_or_default().to_owned();
        let request = Request::post(&url)
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .header("mcp-protocol-version", "2026-07-28")
            .header("mcp-method", "tools/call")
            .header("mcp-name", tool)
            .body(Full::new(Bytes::from(message.to_string())))
            .expect("request");
        let response = client.request(request).await.expect("answered");
        let body = response.into_body().collect().await.expect("body").to_bytes();
        serde_json::from_slice::<Value>(&body).expect("JSON")
    };
    let mut answers = Vec::new();
    for (id, tool) in ["echo", "panic", "echo", "hang", "echo", "panic", "echo"].into_iter().enumerate() {
        answers.push((tool.to_owned(), ask(call(id as u64, tool)).await));
    }
    assert_eq!(failed_around(&answers), 0);
    assert!(wait_for(&stopped).await, "the hanging handler was stopped");
}
