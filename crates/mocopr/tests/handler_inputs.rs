//! Inputs a handler may be called without, and a handler that sends many notifications, through
//! the in-process `TestClient`.

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
