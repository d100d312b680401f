//! Handlers at the edges, through the in-process `TestClient`: inputs a request may leave out, a
//! handler that sends many notifications, structured output that is not an object, and output
//! schemas that describe what a type serializes to.

use mocopr::prelude::*;
use mocopr_core::types::LoggingLevel;
use mocopr_testing::TestClient;
use serde_json::json;

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct Topic {
    /// What to write about.
    topic: String,
}

#[tokio::test]
async fn a_prompt_asked_for_without_arguments_gets_invalid_params_for_a_missing_required_one() {
    let server = McpServer::builder()
        .prompt("write", |Args(t): Args<Topic>| async move {
            GetPromptResult::new().user(format!("Write about {}.", t.topic))
        })
        .prompt("hello", || async { GetPromptResult::new().user("Say hello.") })
        .build()
        .expect("server");
    let client = TestClient::new(server);

    let error = client.request("prompts/get", json!({ "name": "write" })).await.expect_err("refused");
    let rpc = error.rpc().expect("a JSON-RPC error");
    assert_eq!(rpc.code, ErrorCode::INVALID_PARAMS, "{rpc:?}");
    assert!(rpc.message.contains("topic"), "the message names the missing argument: {}", rpc.message);

    // A prompt without arguments is served when the request has none.
    let result = client.request("prompts/get", json!({ "name": "hello" })).await.expect("served");
    assert_eq!(result["messages"][0]["content"]["text"], "Say hello.");
}

#[tokio::test]
async fn a_handler_sending_more_notifications_than_the_channel_holds_finishes() {
    const LOGS: usize = 3000;
    let server = McpServer::builder()
        .tool("chatty", |ctx: RequestCtx| async move {
            for n in 0..LOGS {
                ctx.log(LoggingLevel::Info, None, json!(n)).await;
            }
            "done"
        })
        .build()
        .expect("server");
    let client = TestClient::new(server);
    let params = json!({
        "name": "chatty",
        "_meta": { "io.modelcontextprotocol/logLevel": "info" },
    });
    let result = tokio::time::timeout(std::time::Duration::from_secs(20), client.request("tools/call", params))
        .await
        .expect("the call finishes")
        .expect("served");
    assert_eq!(result["content"][0]["text"], "done");
    assert_eq!(client.take_notifications().await.len(), LOGS);
}

#[derive(serde::Serialize, schemars::JsonSchema)]
struct User {
    id: u32,
    name: String,
}

#[tokio::test]
async fn structured_output_that_is_not_an_object_reaches_legacy_clients_as_text_only() {
    let server = McpServer::builder()
        .tool("users", || async {
            Structured(vec![User { id: 1, name: "Ada".into() }, User { id: 2, name: "Grace".into() }])
        })
        .build()
        .expect("server");

    // 2026-07-28: any JSON Schema, any JSON value.
    let modern = TestClient::new(server.clone());
    let tools = modern.list_tools().await.expect("tools");
    assert_eq!(tools[0].output_schema.as_ref().expect("schema")["type"], "array");
    let result = modern.call_tool("users", json!({})).await.expect("called");
    assert_eq!(result.structured_content.expect("structured")[1]["name"], "Grace");

    // Before it, `outputSchema` and `structuredContent` are objects: the tool is listed without
    // a schema and its result is the text that carries the same JSON.
    for version in [ProtocolVersion::V2025_06_18, ProtocolVersion::V2025_11_25] {
        let legacy = TestClient::legacy(server.clone(), version).await.expect("initialized");
        let tools = legacy.list_tools().await.expect("tools");
        assert!(tools[0].output_schema.is_none(), "{version:?}: {:?}", tools[0].output_schema);
        let result = legacy.call_tool("users", json!({})).await.expect("called");
        assert!(result.structured_content.is_none(), "{version:?}");
        let text: serde_json::Value = serde_json::from_str(&result.text_content()).expect("JSON text");
        assert_eq!(text[0]["id"], 1);
    }
}

#[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
struct Count {
    /// Always written, though a reader may leave it out.
    #[serde(default)]
    total: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    note: Option<String>,
}

#[tokio::test]
async fn an_output_schema_describes_what_the_type_serializes_to() {
    let server = McpServer::builder()
        .tool("count", || async { Structured(Count { total: 3, note: None }) })
        .build()
        .expect("server");
    let tool = server.tools().next().expect("tool").clone();
    let schema = tool.output_schema.expect("schema");
    // Deserializing, `total` may be missing (`default`); serialized, it is always there.
    assert_eq!(schema["required"], json!(["total"]), "{schema:?}");
    let result = TestClient::new(server).call_tool("count", json!({})).await.expect("called");
    assert_eq!(result.structured_content, Some(json!({ "total": 3 })));
}

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct Other {
    #[allow(dead_code, reason = "decoded only to be refused at build()")]
    topic: Option<String>,
}

#[test]
fn a_handler_taking_its_inputs_twice_does_not_build() {
    let error = McpServer::builder()
        .tool("twice", |Args(_): Args<Topic>, Args(_): Args<Other>| async { "never" })
        .build()
        .expect_err("refused");
    assert!(
        matches!(error, ServerError::InputsTakenTwice { kind: "tool", ref name, .. } if name == "twice"),
        "{error}"
    );
    let error = McpServer::builder()
        .prompt("twice", |Args(_): Args<Topic>, Args(_): Args<Other>| async { "never" })
        .build()
        .expect_err("refused");
    assert!(error.to_string().contains("prompt `twice` takes its inputs twice"), "{error}");
}

#[tokio::test]
async fn a_uri_with_an_expression_is_a_template_however_it_is_registered() {
    let resource = Resource::new("notes://{id}", "note");
    let server = McpServer::builder()
        .resource(mocopr::server::ResourceDefinition::Resource(resource), |ResourceUri(uri): ResourceUri| async move {
            ResourceContents::text(uri, "a note")
        })
        .build()
        .expect("server");
    let client = TestClient::new(server);
    assert!(client.list_resources().await.expect("resources").is_empty());
    assert_eq!(client.list_resource_templates().await.expect("templates")[0].uri_template, "notes://{id}");
    let read = client.read_resource("notes://7").await.expect("read");
    assert_eq!(serde_json::to_value(&read.contents[0]).expect("JSON")["uri"], "notes://7");
}
