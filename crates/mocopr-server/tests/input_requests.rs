//! Asking the client for input: MRTR in the modern era (inputResponses, signed requestState,
//! capability checks) and real server-to-client requests in a legacy session, through the
//! same handler code.

use std::time::Duration;

use bytes::Bytes;
use mocopr_core::types::{ElicitAction, ElicitRequestParams, InputCall, MetaOnlyParams, Tool};
use mocopr_server::{HandlerError, McpServer, RequestCtx, StdioConfig, serve_connection};
use mocopr_transport::memory::{MemoryEnd, pair};
use mocopr_transport::{FramingConfig, Inbound};
use serde_json::{Value, json};

fn elicitation() -> ElicitRequestParams {
    serde_json::from_value(json!({
        "message": "What is your name?",
        "requestedSchema": {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}
    }))
    .expect("valid params")
}

fn server() -> McpServer {
    McpServer::builder()
        .tool(Tool::new("greet"), |ctx: RequestCtx| async move {
            let answer = ctx.elicit("user_name", elicitation()).await?;
            let name = answer.content.as_ref().and_then(|c| c.get("name")).and_then(Value::as_str).unwrap_or("nobody");
            match answer.action {
                ElicitAction::Accept => Ok::<_, HandlerError>(format!("Hello, {name}!")),
                _ => Ok("declined".to_string()),
            }
        })
        .tool(Tool::new("rounds"), |ctx: RequestCtx| async move {
            // Round one asks for a name, round two for a color, each with its own state.
            match ctx.request_state() {
                None => {
                    Err(ctx
                        .input_required(vec![("step1".into(), InputCall::Elicit(elicitation()))], Some("one".into())))
                }
                Some("one") => {
                    Err(ctx
                        .input_required(vec![("step2".into(), InputCall::Elicit(elicitation()))], Some("two".into())))
                }
                Some(other) => Ok::<_, HandlerError>(format!("finished after {other}")),
            }
        })
        .tool(Tool::new("many"), |ctx: RequestCtx| async move {
            let answers = ctx
                .inputs(vec![
                    ("a".into(), InputCall::Elicit(elicitation())),
                    ("b".into(), InputCall::ListRoots(MetaOnlyParams::default())),
                ])
                .await?;
            Ok::<_, HandlerError>(format!("{} answers", answers.len()))
        })
        .tool(Tool::new("summarize"), |ctx: RequestCtx| async move {
            // Asks for this server's context: only a client offering `sampling.context` may be asked.
            let params = serde_json::from_value(json!({
                "messages": [{"role": "user", "content": {"type": "text", "text": "summarize"}}],
                "maxTokens": 10,
                "includeContext": "thisServer"
            }))
            .expect("valid params");
            let result = ctx.sample("summary", params).await?;
            Ok::<_, HandlerError>(result.model)
        })
        .prompt("p", || async { "a prompt" })
        // Only tools, prompts and resources may answer with input requests.
        .completion(|ctx: RequestCtx| async move {
            let _ = ctx.elicit("which", elicitation()).await?;
            Ok::<_, HandlerError>(vec!["never".to_string()])
        })
        .build()
        .expect("server")
}

struct Client(MemoryEnd);

impl Client {
    fn start() -> Client {
        let config = FramingConfig::default();
        let (client, end) = pair(&config);
        tokio::spawn(serve_connection(server(), end.reader, end.sink, StdioConfig::default()));
        Client(client)
    }

    async fn send(&self, message: Value) {
        self.0.sink.send(Bytes::from(format!("{message}\n"))).await.expect("send");
    }

    /// The 2025-06-18 handshake with these client capabilities.
    async fn initialize_legacy(&mut self, capabilities: Value) {
        self.send(json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-06-18", "capabilities": capabilities, "clientInfo": {"name": "t", "version": "1"}}}))
        .await;
        assert_eq!(self.recv().await["result"]["protocolVersion"], "2025-06-18");
        self.send(json!({"jsonrpc": "2.0", "method": "notifications/initialized"})).await;
    }

    async fn recv(&mut self) -> Value {
        match tokio::time::timeout(Duration::from_secs(10), self.0.reader.next()).await {
            Ok(Some(Ok(Inbound::Frame(frame)))) => serde_json::from_slice(&frame).expect("JSON"),
            other => panic!("no message: {other:?}"),
        }
    }
}

fn modern_call(id: u64, tool: &str, caps: Value, extra: Value) -> Value {
    let mut params = json!({
        "name": tool,
        "_meta": {
            "io.modelcontextprotocol/protocolVersion": "2026-07-28",
            "io.modelcontextprotocol/clientCapabilities": caps,
        }
    });
    if let (Some(params), Some(extra)) = (params.as_object_mut(), extra.as_object()) {
        params.extend(extra.clone());
    }
    json!({"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": params})
}

#[tokio::test]
async fn modern_requests_ask_with_input_required_and_finish_on_retry() {
    let mut c = Client::start();
    let caps = json!({"elicitation": {}});
    c.send(modern_call(1, "greet", caps.clone(), json!({}))).await;
    let first = c.recv().await;
    let result = &first["result"];
    assert_eq!(result["resultType"], "input_required", "{first}");
    assert_eq!(result["inputRequests"]["user_name"]["method"], "elicitation/create");
    let state = result["requestState"].as_str().expect("a signed state").to_owned();

    let answer = json!({"user_name": {"action": "accept", "content": {"name": "Alice"}}});
    c.send(modern_call(2, "greet", caps.clone(), json!({"inputResponses": answer, "requestState": state}))).await;
    let done = c.recv().await;
    assert_eq!(done["result"]["resultType"], "complete");
    assert_eq!(done["result"]["content"][0]["text"], "Hello, Alice!");

    // A wrong-shaped answer is asked for again rather than used.
    c.send(modern_call(3, "greet", caps.clone(), json!({"inputResponses": {"user_name": 12345}}))).await;
    assert_eq!(c.recv().await["result"]["resultType"], "input_required");

    // The state belongs to the call it was issued for: other arguments are another call.
    let other = json!({"inputResponses": answer, "requestState": state, "arguments": {"extra": 1}});
    c.send(modern_call(6, "greet", caps.clone(), other)).await;
    let refused = c.recv().await;
    assert_eq!(refused["error"]["code"], -32602, "{refused}");
    assert!(refused["error"]["message"].as_str().is_some_and(|m| m.contains("different request")), "{refused}");

    // Tampering with the state is refused before the handler runs.
    let tampered = format!("{state}-TAMPERED");
    c.send(modern_call(4, "greet", caps, json!({"inputResponses": answer, "requestState": tampered}))).await;
    assert_eq!(c.recv().await["error"]["code"], -32602);

    // Without the elicitation capability the server may not ask.
    c.send(modern_call(5, "greet", json!({}), json!({}))).await;
    let refused = c.recv().await;
    assert_eq!(refused["error"]["code"], -32021, "{refused}");
    assert_eq!(refused["error"]["data"]["requiredCapabilities"], json!({"elicitation": {}}));
    // Nor through `input_required` built by hand.
    c.send(modern_call(7, "rounds", json!({}), json!({}))).await;
    let refused = c.recv().await;
    assert_eq!(refused["error"]["code"], -32021, "{refused}");
    // Sampling with a server's context needs `sampling.context`, not only `sampling`.
    c.send(modern_call(8, "summarize", json!({"sampling": {}}), json!({}))).await;
    let refused = c.recv().await;
    assert_eq!(refused["error"]["code"], -32021, "{refused}");
    assert_eq!(refused["error"]["data"]["requiredCapabilities"], json!({"sampling": {"context": {}}}));
    c.send(modern_call(9, "summarize", json!({"sampling": {"context": {}}}), json!({}))).await;
    assert_eq!(c.recv().await["result"]["resultType"], "input_required");
}

#[tokio::test]
async fn each_round_carries_its_own_state_and_several_inputs_are_asked_at_once() {
    let mut c = Client::start();
    let caps = json!({"elicitation": {}, "roots": {}});
    c.send(modern_call(1, "rounds", caps.clone(), json!({}))).await;
    let one = c.recv().await["result"].clone();
    let s1 = one["requestState"].as_str().unwrap().to_owned();
    c.send(modern_call(2, "rounds", caps.clone(), json!({"requestState": s1}))).await;
    let two = c.recv().await["result"].clone();
    assert_eq!(two["resultType"], "input_required");
    assert!(two["inputRequests"].get("step2").is_some());
    let s2 = two["requestState"].as_str().unwrap().to_owned();
    assert_ne!(s1, s2);
    c.send(modern_call(3, "rounds", caps.clone(), json!({"requestState": s2}))).await;
    assert_eq!(c.recv().await["result"]["content"][0]["text"], "finished after two");

    c.send(modern_call(4, "many", caps.clone(), json!({}))).await;
    let asked = c.recv().await["result"].clone();
    assert_eq!(asked["inputRequests"].as_object().unwrap().len(), 2);
    let answers =
        json!({"a": {"action": "accept", "content": {"name": "x"}}, "b": {"roots": []}, "extra": {"ignored": true}});
    c.send(modern_call(5, "many", caps, json!({"inputResponses": answers}))).await;
    assert_eq!(c.recv().await["result"]["content"][0]["text"], "2 answers");
}

#[tokio::test]
async fn legacy_sessions_get_a_real_server_to_client_request() {
    let mut c = Client::start();
    c.initialize_legacy(json!({"elicitation": {}})).await;
    c.send(json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "greet"}})).await;

    let request = c.recv().await;
    assert_eq!(request["method"], "elicitation/create", "{request}");
    assert_eq!(request["params"]["message"], "What is your name?");
    c.send(json!({"jsonrpc": "2.0", "id": request["id"], "result": {"action": "accept", "content": {"name": "Bob"}}}))
        .await;
    let done = c.recv().await;
    assert_eq!(done["id"], 2);
    assert_eq!(done["result"]["content"][0]["text"], "Hello, Bob!");
}

#[tokio::test]
async fn a_client_before_2025_11_25_is_asked_for_context_with_sampling_alone() {
    // `sampling.context` did not exist before 2025-11-25: such a client cannot declare it.
    let mut c = Client::start();
    c.initialize_legacy(json!({"sampling": {}})).await;
    c.send(json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "summarize"}})).await;
    let request = c.recv().await;
    assert_eq!(request["method"], "sampling/createMessage", "{request}");
    assert_eq!(request["params"]["includeContext"], "thisServer");
}

#[tokio::test]
async fn a_completion_that_asks_for_input_is_a_server_error() {
    let mut c = Client::start();
    let params = json!({
        "ref": {"type": "ref/prompt", "name": "p"},
        "argument": {"name": "a", "value": "x"},
        "_meta": {
            "io.modelcontextprotocol/protocolVersion": "2026-07-28",
            "io.modelcontextprotocol/clientCapabilities": {"elicitation": {}},
        }
    });
    c.send(json!({"jsonrpc": "2.0", "id": 1, "method": "completion/complete", "params": params})).await;
    let answer = c.recv().await;
    assert_eq!(answer["error"]["code"], -32603, "{answer}");
    assert!(answer.get("result").is_none(), "no input requests on a completion: {answer}");
}

#[tokio::test]
async fn a_completion_of_something_the_server_does_not_have_is_invalid() {
    let mut c = Client::start();
    let meta = json!({"io.modelcontextprotocol/protocolVersion": "2026-07-28", "io.modelcontextprotocol/clientCapabilities": {}});
    for (id, reference) in [
        (1, json!({"type": "ref/prompt", "name": "nope"})),
        (2, json!({"type": "ref/resource", "uri": "mem://nothing/{x}"})),
    ] {
        let params = json!({"ref": reference, "argument": {"name": "a", "value": "x"}, "_meta": meta});
        c.send(json!({"jsonrpc": "2.0", "id": id, "method": "completion/complete", "params": params})).await;
        let answer = c.recv().await;
        assert_eq!(answer["error"]["code"], -32602, "{answer}");
    }
}
