//! The client against MoCoPr servers over the in-memory pair: era detection (modern, and a
//! legacy-only server), listing, calls, the MRTR loop and legacy server-to-client requests
//! answered by the same handler, and timeouts.

use std::time::Duration;

use futures_util::future::BoxFuture;
use mocopr_client::{ClientError, InputHandler, McpClient};
use mocopr_core::types::{ClientCapabilities, ElicitAction, ElicitRequestParams, ElicitResult, Tool};
use mocopr_core::{ErrorObject, ProtocolVersion};
use mocopr_server::{HandlerError, McpServer, RequestCtx, StdioConfig, serve_connection};
use mocopr_transport::FramingConfig;
use mocopr_transport::memory::pair;
use serde_json::{Value, json};

/// Answers every elicitation with the name "Alice".
struct Alice;

impl InputHandler for Alice {
    fn capabilities(&self) -> ClientCapabilities {
        mocopr_core::types::ClientCapabilities::default().with_elicitation()
    }

    fn elicit(&self, _params: ElicitRequestParams) -> BoxFuture<'_, Result<ElicitResult, ErrorObject>> {
        Box::pin(async { Ok(ElicitResult::accept(json!({"name": "Alice"}).as_object().cloned().unwrap_or_default())) })
    }
}

fn server(versions: &[ProtocolVersion]) -> McpServer {
    let object = |v: Value| v.as_object().cloned().unwrap_or_default();
    let mut builder = McpServer::builder().with_name("target").with_page_size(2).with_protocol_versions(versions);
    for name in ["a", "b", "c", "d", "e"] {
        builder = builder.tool(Tool::new(name), || async { Ok::<_, HandlerError>("x") });
    }
    builder
        .tool(Tool::new("greet"), |ctx: RequestCtx| async move {
            let params: ElicitRequestParams = serde_json::from_value(json!({
                "message": "Name?", "requestedSchema": {"type": "object", "properties": {"name": {"type": "string"}}}
            }))?;
            let answer = ctx.elicit("user_name", params).await?;
            let name = answer.content.and_then(|c| c.get("name").and_then(Value::as_str).map(str::to_owned));
            match answer.action {
                ElicitAction::Accept => {
                    Ok::<_, HandlerError>(format!("Hello, {}! ({})", name.unwrap_or_default(), ctx.protocol_version()))
                }
                _ => Ok("declined".to_string()),
            }
        })
        .tool(
            Tool::new("regional").with_input_schema(object(
                json!({"type": "object", "properties": {"region": {"type": "string", "x-mcp-header": "Region"}}}),
            )),
            || async { Ok::<_, HandlerError>("in region") },
        )
        .tool(Tool::new("reserved"), || async {
            let value = json!({"a": {"$serde_json::private::RawValue": "{}"}});
            Ok::<_, HandlerError>(mocopr_core::types::CallToolResult::structured(value))
        })
        .tool(Tool::new("slow"), || async {
            tokio::time::sleep(Duration::from_secs(5)).await;
            Ok::<_, HandlerError>("late")
        })
        .build()
        .expect("server")
}

async fn connect(server: McpServer, timeout: Duration) -> McpClient {
    let config = FramingConfig::default();
    let (client_end, server_end) = pair(&config);
    tokio::spawn(serve_connection(server, server_end.reader, server_end.sink, StdioConfig::default()));
    McpClient::builder()
        .with_info("test-client", "1.0")
        .with_input_handler(Alice)
        .with_timeout(timeout)
        .with_probe_timeout(Duration::from_secs(2))
        .connect(client_end.reader, client_end.sink)
        .await
        .expect("connect")
}

#[tokio::test]
async fn a_modern_server_is_detected_and_served_with_mrtr() {
    let client = connect(server(&ProtocolVersion::ALL), Duration::from_secs(5)).await;
    let facts = client.server().expect("facts");
    assert_eq!(facts.version, ProtocolVersion::V2026_07_28);
    assert_eq!(facts.info.as_ref().map(|i| i.name.as_str()), Some("target"));
    let tools = client.list_tools().await.expect("tools");
    assert_eq!(tools.len(), 9, "all pages collected");
    let result = client.call_tool("greet", json!({})).await.expect("call");
    assert_eq!(result.content[0].as_text(), Some("Hello, Alice! (2026-07-28)"), "answered through MRTR");
}

#[tokio::test]
async fn a_legacy_only_server_gets_initialize_and_real_server_requests() {
    let client = connect(server(&[ProtocolVersion::V2025_11_25]), Duration::from_secs(5)).await;
    assert_eq!(client.server().expect("facts").version, ProtocolVersion::V2025_11_25);
    assert_eq!(client.list_tools().await.expect("tools").len(), 9);
    let result = client.call_tool("greet", json!({})).await.expect("call");
    assert_eq!(result.content[0].as_text(), Some("Hello, Alice! (2025-11-25)"), "answered a server-to-client request");
}

#[tokio::test]
async fn calls_time_out_and_server_errors_come_back_typed() {
    let client = connect(server(&ProtocolVersion::ALL), Duration::from_millis(100)).await;
    assert!(matches!(client.call_tool("slow", json!({})).await, Err(ClientError::Timeout(_))));
    match client.call_tool("missing", json!({})).await {
        Err(ClientError::Server(error)) => assert_eq!(error.code.0, -32602),
        other => panic!("expected a server error, got {other:?}"),
    }
}

/// An answer the decoder refuses (serde_json's raw-value member name in it) fails its call at
/// once with the refusal, not at the call's timeout.
#[tokio::test]
async fn a_refused_answer_fails_its_call_at_once() {
    let client = connect(server(&ProtocolVersion::ALL), Duration::from_secs(30)).await;
    let started = std::time::Instant::now();
    match client.call_tool("reserved", json!({})).await {
        Err(ClientError::Server(error)) => assert_eq!(error.code.0, -32600, "{error:?}"),
        other => panic!("expected the refusal, got {other:?}"),
    }
    assert!(started.elapsed() < Duration::from_secs(10), "failed only at the timeout");
    assert!(client.call_tool("a", json!({})).await.is_ok(), "the client goes on");
}

async fn http_url(server: McpServer) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}/mcp", listener.local_addr().expect("addr"));
    let endpoint = server.into_http(mocopr_server::EndpointConfig::default());
    tokio::spawn(mocopr_server::serve_http(listener, endpoint).with_path("/mcp").into_future());
    url
}

#[tokio::test]
async fn over_http_both_eras_work_with_the_same_calls() {
    for (versions, expected) in [
        (&ProtocolVersion::ALL[..], ProtocolVersion::V2026_07_28),
        (&[ProtocolVersion::V2025_11_25][..], ProtocolVersion::V2025_11_25),
    ] {
        let url = http_url(server(versions)).await;
        let client = McpClient::builder()
            .with_input_handler(Alice)
            .with_probe_timeout(Duration::from_secs(2))
            .connect_http(&url)
            .await
            .expect("connect");
        assert_eq!(client.server().expect("facts").version, expected);
        assert_eq!(client.list_tools().await.expect("tools").len(), 9);
        let result = client.call_tool("greet", json!({})).await.expect("call");
        assert_eq!(result.content[0].as_text(), Some(format!("Hello, Alice! ({expected})").as_str()));
        // The server checks `Mcp-Param-Region` against the argument (modern requests only).
        let regional = client.call_tool("regional", json!({"region": "eu-west 1é"})).await.expect("call");
        assert_eq!(regional.content[0].as_text(), Some("in region"));
    }
}
