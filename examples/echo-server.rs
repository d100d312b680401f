//! A small MCP server with one of each primitive, served dual-era.
//!
//! Run with:
//!
//! ```text
//! cargo run --release -p mocopr-examples --example echo-server -- stdio
//! cargo run --release -p mocopr-examples --example echo-server -- http --bind 127.0.0.1:8080
//! ```
//!
//! Over HTTP the endpoint is `http://127.0.0.1:8080/mcp`. `ECHO_SERVER_VERSIONS` (a comma-separated
//! list such as `2025-11-25,2025-06-18`) limits the revisions served, e.g. to try a client
//! against a legacy-only or modern-only server. `ECHO_SERVER_REDIS` (a URL such as
//! `redis://127.0.0.1:6379/`) keeps legacy sessions and their resumable streams in Redis, so
//! several `echo-server http` processes serve one endpoint: any of them serves any session,
//! resumes its stream, and hears the others' changes.
//!
//! Tools: `echo {text}` returns `text`; `add {a, b}` returns `{sum}` as structured content plus
//! text; `touch {uri}` announces that the resource at `uri` changed (subscribers get
//! `notifications/resources/updated`). Resource `mem://hello` reads `hello`. Prompt
//! `greet {name}` greets `name`. Modern (2026-07-28) clients send `_meta` on each request;
//! legacy clients `initialize` first.

use mocopr_core::ProtocolVersion;
use mocopr_core::types::{
    ContentBlock, GetPromptResult, Prompt, PromptArgument, PromptMessage, Resource, ResourceContents, Role, Tool,
};
use mocopr_server::{
    Args, HttpConfig, McpServer, RequestCtx, ServerConfig, ServerError, Structured, ToolError, serve_http,
};
use mocopr_transport::http::{RedisEventStore, RedisSessionStore};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::sync::Arc;

#[derive(Deserialize)]
struct EchoParams {
    text: String,
}

#[derive(Deserialize)]
struct AddParams {
    a: f64,
    b: f64,
}

#[derive(Serialize)]
struct Sum {
    sum: f64,
}

async fn echo(Args(p): Args<EchoParams>) -> Result<String, ToolError> {
    Ok(p.text)
}

async fn add(Args(p): Args<AddParams>) -> Result<Structured<Sum>, ToolError> {
    Ok(Structured(Sum { sum: p.a + p.b }))
}

#[derive(Deserialize)]
struct TouchParams {
    uri: String,
}

async fn touch(Args(p): Args<TouchParams>, ctx: RequestCtx) -> Result<String, ToolError> {
    ctx.changes().resource_updated(p.uri.clone());
    Ok(format!("touched {}", p.uri))
}

fn schema(value: serde_json::Value) -> serde_json::Map<String, serde_json::Value> {
    value.as_object().cloned().unwrap_or_default()
}

fn build(versions: &[ProtocolVersion]) -> Result<McpServer, ServerError> {
    let mut echo_tool = Tool::new(
        "echo",
        schema(json!({"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]})),
    );
    echo_tool.description = Some("Returns its input text.".into());
    let mut add_tool = Tool::new(
        "add",
        schema(
            json!({"type": "object", "properties": {"a": {"type": "number"}, "b": {"type": "number"}}, "required": ["a", "b"]}),
        ),
    );
    add_tool.description = Some("Adds two numbers.".into());
    add_tool.output_schema =
        Some(schema(json!({"type": "object", "properties": {"sum": {"type": "number"}}, "required": ["sum"]})));
    let mut touch_tool = Tool::new(
        "touch",
        schema(json!({"type": "object", "properties": {"uri": {"type": "string"}}, "required": ["uri"]})),
    );
    touch_tool.description = Some("Announces that the resource at `uri` changed.".into());

    let mut hello = Resource::new("mem://hello", "hello");
    hello.mime_type = Some("text/plain".into());
    let mut greet = Prompt::new("greet");
    let mut name = PromptArgument::new("name");
    name.required = Some(true);
    greet.arguments = Some(vec![name]);

    McpServer::builder()
        .name("echo-server")
        .protocol_versions(versions)
        .version(env!("CARGO_PKG_VERSION"))
        .tool(echo_tool, echo)
        .tool(add_tool, add)
        .tool(touch_tool, touch)
        .resource(hello, |req, _ctx| async move { Ok(vec![ResourceContents::text(req.uri, "hello")]) })
        .prompt(greet, |args, _ctx| async move {
            let name = args.get("name").ok_or_else(|| ToolError::invalid_params("missing argument `name`"))?;
            let message =
                PromptMessage::new(Role::User, ContentBlock::text(format!("Hello, {name}! How are you today?")));
            let mut result: GetPromptResult = serde_json::from_value(json!({ "messages": [] }))?;
            result.messages.push(message);
            Ok(result)
        })
        .build()
}

/// The revisions to serve: all, unless `ECHO_SERVER_VERSIONS` names some.
fn versions() -> Result<Vec<ProtocolVersion>, String> {
    let Ok(list) = std::env::var("ECHO_SERVER_VERSIONS") else { return Ok(ProtocolVersion::ALL.to_vec()) };
    list.split(',')
        .map(|v| ProtocolVersion::parse(v.trim()).ok_or_else(|| format!("unknown protocol version {v:?}")))
        .collect()
}

fn usage() -> ! {
    eprintln!("usage: echo-server stdio | echo-server http --bind HOST:PORT");
    std::process::exit(2);
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let server = match versions().and_then(|versions| build(&versions).map_err(|e| e.to_string())) {
        Ok(server) => server,
        Err(e) => {
            eprintln!("echo-server: {e}");
            std::process::exit(1);
        }
    };
    // One thread: a stdio server has one connection, and it keeps memory small; the HTTP
    // listener is I/O-bound and fast enough on one thread too.
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("echo-server: cannot start the runtime: {e}");
            std::process::exit(1);
        }
    };
    let result = match args.first().map(String::as_str) {
        Some("stdio") => runtime.block_on(mocopr_server::serve_stdio(server, Default::default())),
        Some("http") => {
            let bind = match args.get(1).map(String::as_str) {
                Some("--bind") => args.get(2).cloned().unwrap_or_else(|| usage()),
                _ => usage(),
            };
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::bind(&bind).await?;
                eprintln!("echo-server: listening on http://{}/mcp", listener.local_addr()?);
                let endpoint = match std::env::var("ECHO_SERVER_REDIS") {
                    Ok(url) => {
                        // Commands that take longer than this fail over to what the process
                        // can do alone; Redis on the same network answers in microseconds.
                        let timeout = std::time::Duration::from_millis(500);
                        let sessions = Arc::new(RedisSessionStore::new(&url, timeout).map_err(std::io::Error::other)?);
                        let events = Arc::new(RedisEventStore::new(&url, timeout).map_err(std::io::Error::other)?);
                        server.into_http_with_stores(HttpConfig::default(), sessions, events)
                    }
                    Err(_) => server.into_http(HttpConfig::default()),
                };
                serve_http(listener, endpoint, "/mcp", ServerConfig::default(), std::future::pending()).await
            })
        }
        _ => usage(),
    };
    if let Err(e) = result {
        eprintln!("echo-server: {e}");
        std::process::exit(1);
    }
}
