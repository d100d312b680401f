//! Hello, MCP: a server with one typed tool, over stdio (the first program of the README).
//!
//! Run with `cargo run -p mocopr-examples --example hello-stdio`, or let a client start it:
//! `cargo run -p mocopr-examples --example hello-client -- target/debug/examples/hello-stdio`.
//! It serves until its stdin closes.

use mocopr::prelude::*;

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct Greet {
    /// Who to greet.
    name: String,
}

/// Says hello.
#[tool(read_only, idempotent)]
async fn greet(Args(args): Args<Greet>) -> String {
    format!("Hello, {}!", args.name)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let server = McpServer::builder().register(greet_tool()).build()?;
    serve_stdio(server, StdioConfig::default()).await?;
    Ok(())
}
