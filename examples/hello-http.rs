//! Hello, MCP over HTTP: the same server mounted in an axum `Router` beside a `/metrics` route,
//! with the cache and metrics layers (the second program of the README).
//!
//! Run with `cargo run -p mocopr-examples --example hello-http`; the endpoint is
//! `http://127.0.0.1:8080/mcp`. Call it with
//! `cargo run -p mocopr-examples --example hello-client -- http://127.0.0.1:8080/mcp`.

use std::time::Duration;

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
    let metrics = MetricsCollector::builder().build()?;
    let server = McpServer::builder()
        .register(greet_tool())
        .with_cache(CacheConfig::builder().with_default_ttl(Duration::from_secs(60)).build())
        .with_metrics(metrics.clone())
        .build()?;
    let app = axum::Router::new()
        .route_service("/mcp", server.into_http(EndpointConfig::default()))
        .route("/metrics", axum::routing::get(move || async move { metrics.encode() }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
    axum::serve(listener, app).await?;
    Ok(())
}
