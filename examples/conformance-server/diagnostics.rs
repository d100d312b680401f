//! The diagnostic tools of the 2026-07-28 `server-stateless` scenario. They probe what the
//! server does around a handler, not the handler itself:
//!
//! - `test_missing_capability` needs sampling: without it the server answers `-32021`
//!   (`requiredCapabilities: {"sampling": {}}`, HTTP 400) before anything is asked.
//! - `test_streaming_elicitation` asks the user something: on the stateless wire that is an
//!   `InputRequiredResult`, never a server-to-client request on the response stream.
//! - `test_logging_tool` logs at `info`: with no `_meta` log level nothing may be sent.
//! - `test_trigger_tool_change` / `test_trigger_prompt_change` announce list changes to open
//!   `subscriptions/listen` streams.
//! - `test_reconnection` (2025-11-25 `server-sse-polling`) ends its stream's connection before it
//!   answers; the client resumes with `GET` + `Last-Event-ID` and gets the answer there.

use mocopr_core::types::LoggingLevel;
use mocopr_server::{HandlerError, McpServerBuilder, RequestCtx};
use serde_json::{Value, json};

use crate::client_input::{describe, form, sampled_text, sampling};
use crate::tools::{definition, no_arguments};

pub(crate) fn register(builder: McpServerBuilder) -> McpServerBuilder {
    let tool = |name: &str, description: &str| definition(name, description, no_arguments());
    builder
        .tool(tool("test_missing_capability", "Needs the client's sampling capability."), missing_capability)
        .tool(tool("test_streaming_elicitation", "Asks the user to confirm, then completes."), streaming_elicitation)
        .tool(tool("test_logging_tool", "Logs at info level, if the client asked for logs."), logging_tool)
        .tool(tool("test_trigger_tool_change", "Announces that the tool list changed."), trigger_tool_change)
        .tool(tool("test_trigger_prompt_change", "Announces that the prompt list changed."), trigger_prompt_change)
        .tool(
            tool("test_reconnection", "Ends its stream's connection, then answers on the resumed stream."),
            reconnection,
        )
}

async fn reconnection(ctx: RequestCtx) -> Result<String, HandlerError> {
    ctx.close_stream();
    // Answer once the client has had the connection end.
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    Ok("Reconnection test completed successfully".to_owned())
}

async fn missing_capability(ctx: RequestCtx) -> Result<String, HandlerError> {
    let answer = ctx.sample("probe", sampling("Reply with OK.", 10)).await?;
    Ok(format!("Success: the client sampled \"{}\"", sampled_text(&answer)))
}

async fn streaming_elicitation(ctx: RequestCtx) -> Result<String, HandlerError> {
    let params = form("Continue the streaming check?", json!({ "ok": { "type": "boolean" } }), &["ok"])?;
    let answer = ctx.elicit("stream_check", params).await?;
    Ok(format!("Streaming complete: {}", describe(&answer)))
}

async fn logging_tool(ctx: RequestCtx) -> Result<String, HandlerError> {
    ctx.log(LoggingLevel::Info, Some("conformance-server"), Value::from("Diagnostic trace logging activated")).await;
    Ok("Logging evaluated".to_owned())
}

async fn trigger_tool_change(ctx: RequestCtx) -> Result<String, HandlerError> {
    ctx.changes().tools_changed();
    Ok("Mutation triggered: tools".to_owned())
}

async fn trigger_prompt_change(ctx: RequestCtx) -> Result<String, HandlerError> {
    ctx.changes().prompts_changed();
    Ok("Mutation triggered: prompts".to_owned())
}
