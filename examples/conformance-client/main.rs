//! The client the official MCP conformance suite drives in client mode: it connects to the
//! suite's mock server (the URL is the last argument) with `mocopr-client` over Streamable HTTP
//! and does what the scenario named in `MCP_CONFORMANCE_SCENARIO` expects.
//!
//! Run by the suite, through `cargo xtask conformance --client`; by hand:
//!
//! ```text
//! MCP_CONFORMANCE_SCENARIO=tools_call \
//!   cargo run --release -p mocopr-examples --example conformance-client -- http://127.0.0.1:3000/mcp
//! ```

mod auth;

use futures_util::future::BoxFuture;
use mocopr_client::{ClientError, InputHandler, McpClient};
use mocopr_core::ErrorObject;
use mocopr_core::types::{ClientCapabilities, ElicitRequestParams, ElicitResult, PrimitiveSchema};
use serde_json::{Map, Value, json};

/// Accepts every elicitation, filling each field with its schema default.
struct Defaults;

impl InputHandler for Defaults {
    fn capabilities(&self) -> ClientCapabilities {
        mocopr_core::types::ClientCapabilities::default().with_elicitation()
    }

    fn elicit(&self, params: ElicitRequestParams) -> BoxFuture<'_, Result<ElicitResult, ErrorObject>> {
        Box::pin(async move {
            let mut content = Map::new();
            if let ElicitRequestParams::Form(form) = params {
                for (name, field) in form.requested_schema.properties {
                    if let Some(default) = default_of(&field) {
                        content.insert(name, default);
                    }
                }
            }
            Ok(ElicitResult::accept(content))
        })
    }
}

fn default_of(field: &PrimitiveSchema) -> Option<Value> {
    let value = serde_json::to_value(field).ok()?;
    value.get("default").cloned()
}

async fn run(url: &str, scenario: &str) -> Result<(), ClientError> {
    // Some scenarios say which calls to make, or which credentials to use, in
    // `MCP_CONFORMANCE_CONTEXT`.
    let context: Value = std::env::var("MCP_CONFORMANCE_CONTEXT")
        .ok()
        .and_then(|c| serde_json::from_str(&c).ok())
        .unwrap_or(Value::Null);
    let mut builder = McpClient::builder()
        .with_info("mocopr-conformance-client", env!("CARGO_PKG_VERSION"))
        .with_input_handler(Defaults);
    if scenario.starts_with("auth/") {
        builder = builder.with_oauth(auth::config(scenario, &context)?);
    }
    let client = builder.connect_http(url).await?;
    let tools = client.list_tools().await?;
    // Tools this client refused (invalid `x-mcp-header` annotations) are not called.
    for call in context.get("toolCalls").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default() {
        let name = call.get("name").and_then(Value::as_str).unwrap_or_default();
        if tools.iter().any(|t| t.name == name) {
            let arguments = call.get("arguments").cloned().unwrap_or_else(|| json!({}));
            client.call_tool(name, arguments).await?;
        }
    }
    match scenario {
        "tools_call" => {
            client.call_tool("add_numbers", json!({"a": 5, "b": 3})).await?;
        }
        "elicitation-sep1034-client-defaults" => {
            client.call_tool("test_client_elicitation_defaults", json!({})).await?;
        }
        "json-schema-2020-12-preservation" => {
            if let Some(tool) = tools.iter().find(|t| t.name == "json_schema_2020_12_tool") {
                client.call_tool("json_schema_echo", json!({"schema": tool.input_schema})).await?;
            }
        }
        // `sse-retry`: the one tool closes its SSE stream early; the answer comes on the resumed stream.
        "sep-2322-client-request-state" | "sse-retry" => {
            for tool in &tools {
                client.call_tool(&tool.name, json!({})).await?;
            }
        }
        "http-invalid-tool-headers" => {
            // Only the tools that survived validation are listed; each must still be usable.
            for tool in &tools {
                client.call_tool(&tool.name, json!({})).await?;
            }
        }
        "http-standard-headers" => {
            for tool in &tools {
                client.call_tool(&tool.name, json!({})).await?;
            }
            let _ = client.list_resources().await;
            let _ = client.list_prompts().await;
        }
        // An authorized call after the listing: two authenticated requests, as the
        // authorization-server migration needs.
        auth if auth.starts_with("auth/") => {
            if let Some(tool) = tools.first() {
                client.call_tool(&tool.name, json!({})).await?;
            }
        }
        _ => {}
    }
    Ok(())
}

fn main() {
    let url = std::env::args().next_back().unwrap_or_default();
    let scenario = std::env::var("MCP_CONFORMANCE_SCENARIO").unwrap_or_default();
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("conformance-client: {e}");
            std::process::exit(1);
        }
    };
    if let Err(e) = runtime.block_on(run(&url, &scenario)) {
        eprintln!("conformance-client: {scenario}: {e}");
        std::process::exit(1);
    }
}
