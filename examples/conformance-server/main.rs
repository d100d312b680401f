//! The server the official MCP conformance suite tests: every fixture its server scenarios
//! expect, served dual-era over Streamable HTTP.
//!
//! Run with:
//!
//! ```text
//! cargo run --release -p mocopr-examples --example conformance-server -- --port 3001
//! ```
//!
//! The MCP endpoint is then `http://127.0.0.1:3001/mcp`. One URL answers both wires: legacy
//! clients (2025-11-25 and older) `initialize` a session and send `Mcp-Session-Id`; 2026-07-28
//! clients send every request stateless with its `_meta`. `cargo xtask conformance` builds this
//! example, starts it on a free port and runs the suites against it (see `conformance/README.md`).
//!
//! The fixtures, by module: `tools` (content, logging, progress, errors, JSON Schema 2020-12),
//! `client_input` (sampling and elicitation), `mrtr` (SEP-2322 input-required results),
//! `diagnostics` (the 2026-07-28 stateless probes), `tasks` (the tasks extension), `resources`,
//! `prompts` (and completion).
//! Images and audio are built by hand in `media`.

mod client_input;
mod diagnostics;
mod media;
mod mrtr;
mod prompts;
mod resources;
mod tasks;
mod tools;

use std::error::Error;

use mocopr_server::{EndpointConfig, McpServer, serve_http};

/// Every fixture, registered on one server.
fn build() -> Result<McpServer, Box<dyn Error>> {
    let builder = McpServer::builder()
        .with_name("mocopr-conformance-server")
        .with_title("MoCoPr conformance server")
        .with_version(env!("CARGO_PKG_VERSION"))
        .with_instructions("Test fixtures for the MCP conformance suite; nothing here is useful to a model.");
    let builder = tools::register(builder);
    let builder = client_input::register(builder);
    let builder = diagnostics::register(builder);
    let builder = mrtr::register(builder);
    let builder = prompts::register(builder);
    let builder = tasks::register(builder);
    let builder = resources::register(builder);
    Ok(builder.build()?)
}

/// The port of `--port PORT`.
fn parse_port(args: &[String]) -> Option<u16> {
    match args {
        [flag, port] if flag == "--port" => port.parse().ok(),
        _ => None,
    }
}

async fn serve(server: McpServer, port: u16) -> Result<(), Box<dyn Error>> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    eprintln!("conformance-server: listening on http://{}/mcp", listener.local_addr()?);
    // The default Host/Origin allow-list is loopback only: DNS rebinding is refused.
    let endpoint = server.into_http(EndpointConfig::default());
    serve_http(listener, endpoint).with_path("/mcp").await?;
    Ok(())
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(port) = parse_port(&args) else {
        eprintln!("usage: conformance-server --port PORT");
        std::process::exit(2);
    };
    let result = build().and_then(|server| {
        // One thread is plenty: the suites run one scenario at a time.
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        runtime.block_on(serve(server, port))
    });
    if let Err(e) = result {
        eprintln!("conformance-server: {e}");
        std::process::exit(1);
    }
}
