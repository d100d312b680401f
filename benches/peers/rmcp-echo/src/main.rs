//! The benchmark's echo server written against `rmcp`, the official Rust MCP SDK.
//!
//! ```text
//! rmcp-echo stdio
//! rmcp-echo http --bind 127.0.0.1:8080
//! ```
//!
//! One tool, `echo {text}`, returns `text` as one text content block, as MoCoPr's
//! `examples/echo-server.rs` does. Over HTTP the endpoint is `http://ADDR/mcp`.
//!
//! rmcp answers a POST with plain JSON only when it serves without sessions
//! (`legacy_session_mode = false`, `json_response = true`); with sessions it always answers
//! with an SSE stream. The default here is the JSON one: `initialize` gives no
//! `Mcp-Session-Id`, and every later POST is served on its own. `RMCP_ECHO_STATEFUL=1` serves
//! rmcp's default instead: stateful sessions, every answer an SSE stream.

use std::process::ExitCode;
use std::sync::Arc;

use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{Implementation, ServerCapabilities, ServerConfig};
use rmcp::transport::streamable_http_server::session::SessionManager;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::session::never::NeverSessionManager;
use rmcp::transport::{StreamableHttpServerConfig, StreamableHttpService};
use rmcp::{ServerHandler, ServiceExt, tool, tool_handler, tool_router};
use serde::Deserialize;

#[derive(Deserialize, schemars::JsonSchema)]
struct EchoParams {
    /// The text to return.
    text: String,
}

/// The server. The HTTP service makes one per session (or, without sessions, one per
/// request), so the router it dispatches through is built once and shared.
#[derive(Clone)]
struct Echo {
    tool_router: Arc<ToolRouter<Echo>>,
}

#[tool_router]
impl Echo {
    fn new() -> Self {
        Self { tool_router: Arc::new(Self::tool_router()) }
    }

    /// Returns its input text.
    #[tool(description = "Returns its input text.")]
    async fn echo(&self, Parameters(p): Parameters<EchoParams>) -> String {
        p.text
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for Echo {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("rmcp-echo", env!("CARGO_PKG_VERSION")))
    }
}

fn usage() -> ExitCode {
    eprintln!("usage: rmcp-echo stdio | rmcp-echo http --bind HOST:PORT");
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
            eprintln!("rmcp-echo: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn serve_stdio() -> Result<(), Box<dyn std::error::Error>> {
    // `stdio_pipes` drives piped standard streams on the reactor rather than the blocking pool
    // (rmcp's documented choice when the client starts the server with pipes) and falls back to
    // plain `stdio` otherwise.
    let service = Echo::new().serve(rmcp::transport::stdio_pipes()).await?;
    service.waiting().await?;
    Ok(())
}

async fn serve_http(bind: &str) -> Result<(), Box<dyn std::error::Error>> {
    let stateful = std::env::var("RMCP_ECHO_STATEFUL").is_ok_and(|v| v == "1");
    let listener = tokio::net::TcpListener::bind(bind).await?;
    let addr = listener.local_addr()?;
    // Host validation stays on (loopback names only); the address we bound is added so a
    // client that sends `Host: 127.0.0.1:PORT` is let in either way.
    let config = StreamableHttpServerConfig::default()
        .with_allowed_hosts(["localhost".to_owned(), "127.0.0.1".to_owned(), "::1".to_owned(), addr.to_string()])
        .with_sse_keep_alive(None);
    let app = if stateful {
        router(Arc::new(LocalSessionManager::default()), config.with_legacy_session_mode(true))
    } else {
        router(
            Arc::new(NeverSessionManager::default()),
            config.with_legacy_session_mode(false).with_json_response(true),
        )
    };
    eprintln!("listening on http://{addr}/mcp");
    axum::serve(listener, app).with_graceful_shutdown(shutdown()).await?;
    Ok(())
}

fn router<M: SessionManager>(sessions: Arc<M>, config: StreamableHttpServerConfig) -> axum::Router {
    let echo = Echo::new();
    let service = StreamableHttpService::new(move || Ok(echo.clone()), sessions, config);
    axum::Router::new().route_service("/mcp", service)
}

async fn shutdown() {
    let _ = tokio::signal::ctrl_c().await;
}
