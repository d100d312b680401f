//! The macros end to end: definitions derived from types and doc comments, and the generated
//! registrations serving real calls.

use bytes::Bytes;
use mocopr_core::RequestId;
use mocopr_core::service::{McpRequest, Method, RawJson};
use mocopr_core::types::{GetPromptResult, ResourceContents};
use mocopr_macros::{prompt, resource, tool};
use mocopr_server::{Args, HandlerError, McpServer, RequestCtx, ResourceUri, State, Structured};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

#[derive(Deserialize, JsonSchema)]
struct AddParams {
    /// The first number.
    a: f64,
    /// The second number.
    b: f64,
}

#[derive(Serialize, JsonSchema)]
struct Sum {
    sum: f64,
}

/// Adds two numbers.
#[tool(read_only, idempotent)]
async fn add(Args(p): Args<AddParams>) -> Result<Structured<Sum>, HandlerError> {
    Ok(Structured(Sum { sum: p.a + p.b }))
}

#[tool(name = "whoami", description = "Says which revision it was called with.")]
async fn revision(ctx: RequestCtx) -> Result<String, HandlerError> {
    Ok(ctx.protocol_version().to_string())
}

#[derive(Deserialize, JsonSchema)]
struct GreetArgs {
    /// Who to greet.
    name: String,
    style: Option<String>,
}

/// A greeting.
#[prompt]
async fn greet(Args(a): Args<GreetArgs>) -> Result<GetPromptResult, HandlerError> {
    let text = format!("Hello, {}{}", a.name, a.style.map(|s| format!(" ({s})")).unwrap_or_default());
    Ok(GetPromptResult::new().user(text))
}

#[derive(Deserialize, JsonSchema)]
struct NotesOf {
    user: String,
}

/// Per-user notes.
#[resource(uri = "notes://{user}", mime_type = "text/plain")]
async fn notes(ResourceUri(uri): ResourceUri, Args(v): Args<NotesOf>) -> Result<ResourceContents, HandlerError> {
    Ok(ResourceContents::text(uri, format!("notes of {}", v.user)))
}

/// The application's greeting, from its state.
#[derive(Clone)]
struct Motd(&'static str);

/// The message of the day.
#[tool(read_only)]
async fn motd(State(motd): State<Motd>) -> String {
    motd.0.to_owned()
}

fn server() -> McpServer {
    McpServer::builder()
        .register(add_tool())
        .register(revision_tool())
        .register(greet_prompt())
        .register(notes_resource())
        .register(motd_tool())
        .with_state(Motd("be kind"))
        .build()
        .expect("valid server")
}

async fn call(server: &McpServer, method: &str, params: Value) -> Value {
    let mut params = params;
    params["_meta"] = json!({
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": {},
    });
    let raw = RawJson::from_bytes(Bytes::from(params.to_string()));
    let response = server.handle(McpRequest::new(RequestId::Number(1), Method::new(method), Some(raw))).await;
    match (&response.outcome, response.result_json()) {
        (Err(error), _) => json!({ "error": error }),
        (Ok(_), Some(result)) => serde_json::from_slice(result.as_bytes()).expect("JSON result"),
        (Ok(_), None) => panic!("a streamed result"),
    }
}

#[tokio::test]
async fn tool_definitions_come_from_the_types_and_docs() {
    let s = server();
    let list = call(&s, "tools/list", json!({})).await;
    let add = list["tools"].as_array().unwrap().iter().find(|t| t["name"] == "add").cloned().unwrap();
    assert_eq!(add["description"], "Adds two numbers.");
    assert_eq!(add["inputSchema"]["type"], "object");
    assert_eq!(add["inputSchema"]["properties"]["a"]["type"], "number");
    assert_eq!(add["inputSchema"]["properties"]["a"]["description"], "The first number.");
    assert_eq!(add["inputSchema"]["required"], json!(["a", "b"]));
    assert_eq!(add["outputSchema"]["properties"]["sum"]["type"], "number");
    assert_eq!(add["annotations"], json!({"readOnlyHint": true, "idempotentHint": true}));
    let whoami = list["tools"].as_array().unwrap().iter().find(|t| t["name"] == "whoami").cloned().unwrap();
    assert_eq!(whoami["inputSchema"], json!({"type": "object", "additionalProperties": false}));
}

#[tokio::test]
async fn generated_registrations_serve_calls() {
    let s = server();
    let sum = call(&s, "tools/call", json!({"name": "add", "arguments": {"a": 2, "b": 0.5}})).await;
    assert_eq!(sum["structuredContent"], json!({"sum": 2.5}));
    let invalid = call(&s, "tools/call", json!({"name": "add", "arguments": {"a": "two"}})).await;
    assert_eq!(invalid["isError"], true, "schema validation from the derived schema: {invalid}");
    assert_eq!(call(&s, "tools/call", json!({"name": "whoami"})).await["content"][0]["text"], "2026-07-28");
    assert_eq!(call(&s, "tools/call", json!({"name": "motd"})).await["content"][0]["text"], "be kind");

    let prompts = call(&s, "prompts/list", json!({})).await;
    let arguments = &prompts["prompts"][0]["arguments"];
    assert_eq!(arguments.as_array().unwrap().len(), 2);
    assert!(arguments.as_array().unwrap().iter().any(|a| a["name"] == "name" && a["required"] == true));
    assert!(arguments.as_array().unwrap().iter().any(|a| a["name"] == "style" && a["required"] == false));
    let greeting =
        call(&s, "prompts/get", json!({"name": "greet", "arguments": {"name": "Ada", "style": "warm"}})).await;
    assert_eq!(greeting["messages"][0]["content"]["text"], "Hello, Ada (warm)");
    let missing = call(&s, "prompts/get", json!({"name": "greet", "arguments": {}})).await;
    assert_eq!(missing["error"]["code"], -32602);

    let templates = call(&s, "resources/templates/list", json!({})).await;
    assert_eq!(templates["resourceTemplates"][0]["uriTemplate"], "notes://{user}");
    assert_eq!(templates["resourceTemplates"][0]["description"], "Per-user notes.");
    let read = call(&s, "resources/read", json!({"uri": "notes://ann"})).await;
    assert_eq!(read["contents"][0]["text"], "notes of ann");
}

#[test]
fn a_macro_tool_without_its_state_fails_the_build() {
    let error = McpServer::builder().register(motd_tool()).build().expect_err("the state is missing");
    assert!(error.to_string().contains("State<"), "{error}");
}
