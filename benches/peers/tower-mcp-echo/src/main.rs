//! The benchmark's echo server written against `tower-mcp`.
//!
//! ```text
//! tower-mcp-echo stdio
//! tower-mcp-echo http --bind 127.0.0.1:8080
//! ```
//!
//! One tool, `echo {text}`, returns `text` as one text content block, as MoCoPr's
//! `examples/echo-server.rs` does. Over HTTP the endpoint is `http://ADDR/mcp`, with
//! tower-mcp's defaults: stateful sessions, answers as plain JSON (`application/json`).

use std::process::ExitCode;

use serde::Deserialize;
use tower_mcp::{CallToolResult, HttpTransport, McpRouter, StdioTransport, Tool, ToolBuilder};

#[derive(Debug, Deserialize, schemars::JsonSchema)]
struct EchoInput {
    /// The text to return.
    text: String,
}

fn echo_tool() -> Tool {
    ToolBuilder::new("echo")
        .description("Returns its input text.")
        .handler(|input: EchoInput| async move { Ok(CallToolResult::text(input.text)) })
        .build()
}

fn router() -> McpRouter {
    McpRouter::new().server_info("tower-mcp-echo", env!("CARGO_PKG_VERSION")).tool(echo_tool())
}

fn usage() -> ExitCode {
    eprintln!("usage: tower-mcp-echo stdio | tower-mcp-echo http --bind HOST:PORT");
    ExitCode::from(2)
}

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["stdio"] => serve_stdio().await,
        ["http", "--bind", bind] => serve_http(bind).await,
        _ => return usage(),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tower-mcp-echo: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn serve_stdio() -> Result<(), tower_mcp::BoxError> {
    StdioTransport::new(router()).run().await?;
    Ok(())
}

async fn serve_http(bind: &str) -> Result<(), tower_mcp::BoxError> {
    let listener = tokio::net::TcpListener::bind(bind).await?;
    let addr = listener.local_addr()?;
    let app = HttpTransport::new(router()).into_router_at("/mcp");
    eprintln!("listening on http://{addr}/mcp");
    axum::serve(listener, app).with_graceful_shutdown(shutdown()).await?;
    Ok(())
}

async fn shutdown() {
    let _ = tokio::signal::ctrl_c().await;
}
