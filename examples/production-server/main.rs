//! A production-shaped MCP server: what a service behind a load balancer runs, with every knob
//! of the runtime, the transport and the server on the command line, and embedded defaults (no
//! services needed).
//!
//! ```text
//! cargo run --release -p mocopr-examples --example production-server -- --transport http --bind 127.0.0.1:8080
//! cargo run --release -p mocopr-examples --example production-server -- --transport stdio
//! ```
//!
//! On by default: the L1 cache in front of the server (lists, resource reads and the read-only
//! `weather` tool are answered from memory; `--no-cache` turns it off, `--redis URL` adds a Redis
//! L2), a per-request timeout, bounded requests in flight per stdio connection, and HTTP limits
//! (connections, body size, sessions, header timeout). `cargo xtask loadtest` starts it and
//! sends it the realistic mix (list_tools 10%, call_tool 70%, read_resource 20%).
//!
//! Tools: `echo {text}`, `add {a, b}`, `weather {city}` (a 5 ms backend lookup; read-only and
//! idempotent, so cacheable), `search {query, limit?}` (scans the city table). Resources:
//! `data://cities` (JSON) and `data://report` (about 4 KB of text).

mod tools;

use std::time::Duration;

use clap::{Parser, ValueEnum};
use mocopr::cache::{CacheConfig, RedisConfig};
use mocopr::prelude::*;
use mocopr::server::layer::{ErrorResponseLayer, TimeoutLayer};
use mocopr::server::{HttpConfig, ServerConfig, serve_http, serve_stdio};
use tower::ServiceBuilder;
use tower::util::Either;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Transport {
    Stdio,
    Http,
}

/// A production-shaped MCP server with embedded defaults.
#[derive(Debug, Parser)]
#[command(name = "production-server", version)]
struct Options {
    /// How clients reach the server.
    #[arg(long, value_enum, default_value = "http")]
    transport: Transport,
    /// Where the HTTP endpoint listens (`/mcp`); port 0 picks a free one.
    #[arg(long, default_value = "127.0.0.1:8080")]
    bind: String,
    /// Runtime worker threads (default: one per core).
    #[arg(long)]
    worker_threads: Option<usize>,
    /// Longest a request may run before it is answered with a timeout error, in milliseconds.
    #[arg(long, default_value_t = 30_000)]
    request_timeout_ms: u64,
    /// Requests in flight per stdio connection (reading pauses at the bound).
    #[arg(long, default_value_t = 256)]
    max_in_flight: usize,
    /// HTTP connections open at once.
    #[arg(long, default_value_t = 1024)]
    max_connections: usize,
    /// Largest HTTP request body, in bytes.
    #[arg(long, default_value_t = 4 * 1024 * 1024)]
    max_body_bytes: usize,
    /// Legacy HTTP sessions open at once.
    #[arg(long, default_value_t = 10_000)]
    max_sessions: usize,
    /// Longest a client may take to send its request headers, in milliseconds.
    #[arg(long, default_value_t = 10_000)]
    header_timeout_ms: u64,
    /// Serve without the cache.
    #[arg(long)]
    no_cache: bool,
    /// L1 cache entries.
    #[arg(long, default_value_t = 10_000)]
    cache_entries: u64,
    /// How long cached results are kept when the result does not say, in seconds.
    #[arg(long, default_value_t = 60)]
    cache_ttl_secs: u64,
    /// A Redis URL for the cache's L2 (e.g. redis://127.0.0.1:6379/); none by default.
    #[arg(long)]
    redis: Option<String>,
}

fn main() {
    let options = Options::parse();
    let mut runtime = tokio::runtime::Builder::new_multi_thread();
    if let Some(threads) = options.worker_threads {
        runtime.worker_threads(threads.max(1));
    }
    let runtime = match runtime.enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => fail(format!("cannot start the runtime: {e}")),
    };
    if let Err(e) = runtime.block_on(serve(options)) {
        fail(e);
    }
}

fn fail(message: impl std::fmt::Display) -> ! {
    eprintln!("production-server: {message}");
    std::process::exit(1);
}

async fn serve(options: Options) -> Result<(), String> {
    let builder = tools::register(McpServer::builder().name("production-server").version(env!("CARGO_PKG_VERSION")));
    let server = if options.no_cache {
        Either::Right(builder.build().map_err(|e| e.to_string())?)
    } else {
        let mut cache = CacheConfig::builder()
            .l1_max_entries(options.cache_entries)
            .default_ttl(Duration::from_secs(options.cache_ttl_secs));
        if let Some(url) = &options.redis {
            cache = cache.redis(RedisConfig::new(url.clone()));
        }
        Either::Left(builder.with_cache(cache.build()).build().map_err(|e| e.to_string())?)
    };
    let service = ServiceBuilder::new()
        .layer(ErrorResponseLayer)
        .layer(TimeoutLayer::new(Duration::from_millis(options.request_timeout_ms)))
        .service(server);
    match options.transport {
        Transport::Stdio => {
            let config = ConnectionConfig::default().with_max_in_flight(options.max_in_flight);
            serve_stdio(service, config).await.map_err(|e| e.to_string())
        }
        Transport::Http => {
            let listener = tokio::net::TcpListener::bind(&options.bind).await.map_err(|e| e.to_string())?;
            let address = listener.local_addr().map_err(|e| e.to_string())?;
            eprintln!("production-server: listening on http://{address}/mcp");
            let http = HttpConfig::default()
                .with_max_body_size(options.max_body_bytes)
                .with_max_sessions(options.max_sessions);
            let endpoint = mocopr::server::StreamableHttpService::new(service, http);
            let config = ServerConfig::default()
                .with_max_connections(options.max_connections)
                .with_header_timeout(Duration::from_millis(options.header_timeout_ms));
            let shutdown = async {
                let _ = tokio::signal::ctrl_c().await;
            };
            serve_http(listener, endpoint, "/mcp", config, shutdown).await.map_err(|e| e.to_string())
        }
    }
}
