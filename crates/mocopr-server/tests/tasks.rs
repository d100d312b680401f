//! The tasks extension: calls that become tasks, polling, input through `tasks/update`,
//! cancellation, and the capability rules.

use std::time::Duration;

use bytes::Bytes;
use mocopr_core::types::{ElicitRequestParams, Tool};
use mocopr_server::{
    HandlerError, McpServer, Principal, RequestCtx, ServerLimits, StdioConfig, TaskSupport, serve_connection,
};
use mocopr_transport::memory::{MemoryEnd, pair};
use mocopr_transport::{FramingConfig, Inbound};
use serde_json::{Value, json};

fn server() -> McpServer {
    McpServer::builder()
        .task_tool(
            Tool::new("slow"),
            |_ctx: RequestCtx| async move {
                tokio::time::sleep(Duration::from_millis(100)).await;
                Ok::<_, HandlerError>("slow done".to_string())
            },
            TaskSupport::Optional,
        )
        .task_tool(
            Tool::new("forever"),
            |ctx: RequestCtx| async move {
                ctx.cancelled().await;
                Ok::<_, HandlerError>("stopped".to_string())
            },
            TaskSupport::Required,
        )
        .task_tool(
            Tool::new("confirm"),
            |ctx: RequestCtx| async move {
                let params: ElicitRequestParams = serde_json::from_value(json!({
                    "message": "Sure?",
                    "requestedSchema": {"type": "object", "properties": {"confirm": {"type": "boolean"}}}
                }))?;
                let answer = ctx.elicit("confirm", params).await?;
                Ok::<_, HandlerError>(format!("confirmed: {}", answer.content.map(Value::Object).unwrap_or_default()))
            },
            TaskSupport::Optional,
        )
        .task_tool(
            Tool::new("broken"),
            |_ctx: RequestCtx| async move {
                tokio::time::sleep(Duration::from_millis(20)).await;
                Err::<String, _>(HandlerError::internal("it broke"))
            },
            TaskSupport::Optional,
        )
        .build()
        .expect("server")
}

struct Client(MemoryEnd, u64);

impl Client {
    fn start() -> Client {
        let config = FramingConfig::default();
        let (client, end) = pair(&config);
        tokio::spawn(serve_connection(server(), end.reader, end.sink, StdioConfig::default()));
        Client(client, 0)
    }

    /// A connection to `server` whose every request comes from `subject` (as an authorization
    /// layer in front would say).
    fn start_as(server: &McpServer, subject: &str) -> Client {
        let (client, end) = pair(&FramingConfig::default());
        let principal = Principal::new(subject);
        let server = server.clone();
        let service = tower::service_fn(move |mut request: mocopr_core::service::McpRequest| {
            request.extensions.insert(principal.clone());
            tower::ServiceExt::oneshot(server.clone(), request)
        });
        tokio::spawn(serve_connection(service, end.reader, end.sink, StdioConfig::default()));
        Client(client, 0)
    }

    async fn request(&mut self, method: &str, params: Value, tasks: bool) -> Value {
        self.1 += 1;
        let caps = if tasks {
            json!({"extensions": {"io.modelcontextprotocol/tasks": {}}, "elicitation": {}})
        } else {
            json!({})
        };
        let mut params = params;
        params["_meta"] = json!({
            "io.modelcontextprotocol/protocolVersion": "2026-07-28",
            "io.modelcontextprotocol/clientCapabilities": caps,
        });
        let message = json!({"jsonrpc": "2.0", "id": self.1, "method": method, "params": params});
        self.0.sink.send(Bytes::from(format!("{message}\n"))).await.expect("send");
        match tokio::time::timeout(Duration::from_secs(10), self.0.reader.next()).await {
            Ok(Some(Ok(Inbound::Frame(frame)))) => serde_json::from_slice(&frame).expect("JSON"),
            other => panic!("no answer: {other:?}"),
        }
    }

    async fn wait_for(&mut self, task: &str, status: &str) -> Value {
        for _ in 0..200 {
            let got = self.request("tasks/get", json!({"taskId": task}), true).await;
            if got["result"]["status"] == status {
                return got["result"].clone();
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("task {task} never reached {status}");
    }
}

#[tokio::test]
async fn a_waiting_call_becomes_a_task_that_completes() {
    let mut c = Client::start();
    let created = c.request("tools/call", json!({"name": "slow"}), true).await["result"].clone();
    assert_eq!(created["resultType"], "task", "{created}");
    assert_eq!(created["status"], "working");
    assert!(created["ttlMs"].as_u64().is_some() && created["pollIntervalMs"].as_u64().is_some());
    assert!(created.get("task").is_none() && created.get("result").is_none());
    let task = created["taskId"].as_str().unwrap().to_owned();
    let done = c.wait_for(&task, "completed").await;
    assert_eq!(done["resultType"], "complete");
    assert_eq!(done["result"]["content"][0]["text"], "slow done");

    let sync = c.request("tools/call", json!({"name": "slow"}), false).await["result"].clone();
    assert_eq!(sync["resultType"], "complete", "without the extension the call runs synchronously");
    assert!(sync.get("taskId").is_none());
}

#[tokio::test]
async fn a_task_asks_for_input_and_continues_after_update() {
    let mut c = Client::start();
    let created = c.request("tools/call", json!({"name": "confirm"}), true).await["result"].clone();
    let task = created["taskId"].as_str().expect("a task").to_owned();
    let parked = c.wait_for(&task, "input_required").await;
    assert_eq!(parked["inputRequests"]["confirm"]["method"], "elicitation/create");
    let ack = c
        .request(
            "tasks/update",
            json!({"taskId": task, "inputResponses": {
            "unknown": {"ignored": true},
            "confirm": {"action": "accept", "content": {"confirm": true}}}}),
            true,
        )
        .await;
    assert_eq!(ack["result"], json!({"resultType": "complete"}));
    let done = c.wait_for(&task, "completed").await;
    assert!(done["result"]["content"][0]["text"].as_str().unwrap().contains("true"));
}

#[tokio::test]
async fn tasks_can_be_cancelled_and_failures_are_reported() {
    let mut c = Client::start();
    let task = c.request("tools/call", json!({"name": "forever"}), true).await["result"]["taskId"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        c.request("tasks/cancel", json!({"taskId": task}), true).await["result"],
        json!({"resultType": "complete"})
    );
    c.wait_for(&task, "cancelled").await;
    // Cancelling an ended task is still acknowledged.
    assert_eq!(c.request("tasks/cancel", json!({"taskId": task}), true).await["result"]["resultType"], "complete");

    let task =
        c.request("tools/call", json!({"name": "broken"}), true).await["result"]["taskId"].as_str().unwrap().to_owned();
    let failed = c.wait_for(&task, "failed").await;
    assert_eq!(failed["error"]["code"], -32603);
    assert!(failed.get("result").is_none());
}

#[tokio::test]
async fn the_extension_must_be_declared() {
    let mut c = Client::start();
    let refused = c.request("tools/call", json!({"name": "forever"}), false).await;
    assert_eq!(refused["error"]["code"], -32021);
    assert_eq!(
        refused["error"]["data"]["requiredCapabilities"]["extensions"]["io.modelcontextprotocol/tasks"],
        json!({})
    );
    assert_eq!(c.request("tasks/get", json!({"taskId": "x"}), false).await["error"]["code"], -32021);
    assert_eq!(c.request("tasks/get", json!({"taskId": "x"}), true).await["error"]["code"], -32602);
    assert_eq!(c.request("tasks/list", json!({}), true).await["error"]["code"], -32601);
    let discover = c.request("server/discover", json!({}), false).await;
    assert!(discover["result"]["capabilities"]["extensions"]["io.modelcontextprotocol/tasks"].is_object());
}

/// Counts handlers that have stopped (dropped), finished or not.
struct Stopped(std::sync::Arc<std::sync::atomic::AtomicUsize>);

impl Drop for Stopped {
    fn drop(&mut self) {
        self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }
}

#[tokio::test]
async fn tasks_belong_to_their_caller_are_bounded_and_end_with_their_ttl() {
    let stopped = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = stopped.clone();
    let limits = ServerLimits::builder()
        .with_max_tasks(3)
        .with_max_tasks_per_caller(2)
        .with_task_ttl(Duration::from_millis(400))
        .build();
    let server = McpServer::builder()
        .with_limits(limits)
        .task_tool(
            Tool::new("forever"),
            move |_ctx: RequestCtx| {
                let guard = Stopped(counter.clone());
                async move {
                    let _guard = guard;
                    // Waits for input nobody gives (or forever): only the TTL ends it.
                    std::future::pending::<()>().await;
                    Ok::<_, HandlerError>("never".to_string())
                }
            },
            TaskSupport::Required,
        )
        .build()
        .expect("server");
    let mut alice = Client::start_as(&server, "alice");
    let mut bob = Client::start_as(&server, "bob");
    let call = json!({"name": "forever", "arguments": {}});

    let first = alice.request("tools/call", call.clone(), true).await;
    let task = first["result"]["taskId"].as_str().expect("a task").to_owned();
    assert_eq!(alice.request("tools/call", call.clone(), true).await["result"]["status"], "working");
    let third = alice.request("tools/call", call.clone(), true).await;
    assert_eq!(third["error"]["code"], -32603, "alice is at her bound: {third}");

    // Bob cannot see, update or cancel alice's task.
    for method in ["tasks/get", "tasks/cancel"] {
        let answer = bob.request(method, json!({"taskId": task}), true).await;
        assert_eq!(answer["error"]["code"], -32602, "{method}: {answer}");
    }
    assert_eq!(alice.request("tasks/get", json!({"taskId": task}), true).await["result"]["status"], "working");

    // Bob may have one; then the whole store is full.
    assert_eq!(bob.request("tools/call", call.clone(), true).await["result"]["status"], "working");
    assert_eq!(bob.request("tools/call", call.clone(), true).await["error"]["code"], -32603);

    // The two refused calls' handlers were dropped at once; the three tasks' still run.
    assert_eq!(stopped.load(std::sync::atomic::Ordering::SeqCst), 2);
    // Past the TTL the tasks are gone and their handlers stopped; there is room again.
    tokio::time::sleep(Duration::from_millis(1000)).await;
    assert_eq!(stopped.load(std::sync::atomic::Ordering::SeqCst), 5, "every runner was stopped");
    assert_eq!(alice.request("tasks/get", json!({"taskId": task}), true).await["error"]["code"], -32602);
    assert_eq!(alice.request("tools/call", call, true).await["result"]["status"], "working");
}
