//! A small MCP server with one of each primitive, served dual-era; the fixture many of the
//! project's tests and benchmarks start.
//!
//! Run with:
//!
//! ```text
//! cargo run --release -p mocopr-examples --example echo-server -- stdio
//! cargo run --release -p mocopr-examples --example echo-server -- http --bind 127.0.0.1:8080
//! ```
//!
//! Over HTTP the endpoint is `http://127.0.0.1:8080/mcp` (the server prints
//! `echo-server: listening on http://ADDRESS/mcp` on stderr). `ECHO_SERVER_VERSIONS` (a
//! comma-separated list such as `2025-11-25,2025-06-18`) limits the revisions served, e.g. to try
//! a client against a legacy-only or modern-only server. `ECHO_SERVER_REDIS` (a URL such as
//! `redis://127.0.0.1:6379/`) keeps legacy sessions and their resumable streams in Redis, so
//! several `echo-server http` processes serve one endpoint: any of them serves any session,
//! resumes its stream, and hears the others' changes. Several URLs, comma-separated, name the
//! nodes of a Redis Cluster.
//!
//! Tools: `echo {text}` returns `text`; `add {a, b}` returns `{sum}` as structured content plus
//! text; `touch {uri}` announces that the resource at `uri` changed (subscribers get
//! `notifications/resources/updated`); `countdown {count, interval_ms}` sends a progress
//! notification (to the request's `progressToken`) every `interval_ms`, `count` times, then
//! returns `done N` (over legacy HTTP its stream is resumable, from another process too with
//! Redis). Resource `mem://hello` reads `hello`. Prompt
//! `greet {name}` greets `name`. Modern (2026-07-28) clients send `_meta` on each request;
//! legacy clients `initialize` first.

use std::sync::Arc;
use std::time::Duration;

use mocopr::prelude::*;
use mocopr::server::{serve_stdio_until, shutdown_signal};
use mocopr::transport::http::{RedisEventStore, RedisSessionStore};
use serde::{Deserialize, Serialize};

#[derive(Deserialize, schemars::JsonSchema)]
struct EchoParams {
    /// The text to return.
    text: String,
}

/// Returns its input text.
#[tool]
async fn echo(Args(p): Args<EchoParams>) -> String {
    p.text
}

#[derive(Deserialize, schemars::JsonSchema)]
struct AddParams {
    a: f64,
    b: f64,
}

#[derive(Serialize, schemars::JsonSchema)]
struct Sum {
    sum: f64,
}

/// Adds two numbers.
#[tool]
async fn add(Args(p): Args<AddParams>) -> Structured<Sum> {
    Structured(Sum { sum: p.a + p.b })
}

#[derive(Deserialize, schemars::JsonSchema)]
struct TouchParams {
    /// The resource that changed.
    uri: String,
}

/// Announces that the resource at `uri` changed.
#[tool]
async fn touch(Args(p): Args<TouchParams>, ctx: RequestCtx) -> String {
    ctx.changes().resource_updated(p.uri.clone());
    format!("touched {}", p.uri)
}

#[derive(Deserialize, schemars::JsonSchema)]
struct CountdownParams {
    /// How many steps (at most 10,000).
    count: u32,
    /// The wait before each step, in milliseconds (at most 60,000).
    interval_ms: u64,
}

/// Counts down: a progress notification every `interval_ms`, `count` times, then `done N`.
#[tool]
async fn countdown(Args(p): Args<CountdownParams>, ctx: RequestCtx) -> Result<String, HandlerError> {
    if p.count > 10_000 || p.interval_ms > 60_000 {
        return Err(HandlerError::invalid_params("count is at most 10000 and interval_ms at most 60000"));
    }
    for step in 1..=p.count {
        tokio::time::sleep(Duration::from_millis(p.interval_ms)).await;
        let left = p.count - step;
        ctx.progress(f64::from(step), Some(f64::from(p.count)), Some(format!("{left} left"))).await;
    }
    Ok(format!("done {}", p.count))
}

/// Says hello.
#[resource(uri = "mem://hello", name = "hello", mime_type = "text/plain")]
async fn hello() -> &'static str {
    "hello"
}

#[derive(Deserialize, schemars::JsonSchema)]
struct GreetArgs {
    /// Who to greet.
    name: String,
}

/// Greets someone.
#[prompt]
async fn greet(Args(a): Args<GreetArgs>) -> String {
    format!("Hello, {}! How are you today?", a.name)
}

fn build(versions: &[ProtocolVersion]) -> Result<McpServer, ServerError> {
    McpServer::builder()
        .with_name("echo-server")
        .with_version(env!("CARGO_PKG_VERSION"))
        .with_protocol_versions(versions)
        .register(echo_tool())
        .register(add_tool())
        .register(touch_tool())
        .register(countdown_tool())
        .register(hello_resource())
        .register(greet_prompt())
        .build()
}

/// The revisions to serve: all, unless `ECHO_SERVER_VERSIONS` names some.
fn versions() -> Result<Vec<ProtocolVersion>, String> {
    let Ok(list) = std::env::var("ECHO_SERVER_VERSIONS") else { return Ok(ProtocolVersion::ALL.to_vec()) };
    list.split(',')
        .map(|v| ProtocolVersion::parse(v.trim()).ok_or_else(|| format!("unknown protocol version {v:?}")))
        .collect()
}

/// Serves HTTP on `bind`, with legacy sessions in Redis when `ECHO_SERVER_REDIS` names one.
async fn serve_on_http(server: McpServer, bind: &str) -> Result<(), Box<dyn std::error::Error>> {
    let listener = tokio::net::TcpListener::bind(bind).await?;
    eprintln!("echo-server: listening on http://{}/mcp", listener.local_addr()?);
    let endpoint = match std::env::var("ECHO_SERVER_REDIS") {
        Ok(url) => {
            // Commands that take longer than this fail over to what the process can do alone;
            // Redis on the same network answers in microseconds.
            let timeout = Duration::from_millis(500);
            let (sessions, events) = if url.contains(',') {
                let nodes: Vec<&str> = url.split(',').map(str::trim).collect();
                (RedisSessionStore::cluster(nodes.clone(), timeout)?, RedisEventStore::cluster(nodes, timeout)?)
            } else {
                (RedisSessionStore::new(&url, timeout)?, RedisEventStore::new(&url, timeout)?)
            };
            let (sessions, events) = (Arc::new(sessions), Arc::new(events));
            server.into_http_with_stores(EndpointConfig::default(), sessions, events)
        }
        Err(_) => server.into_http(EndpointConfig::default()),
    };
    // SIGTERM or Ctrl-C: stop accepting, finish what is in flight, end the streams, return.
    serve_http(listener, endpoint).with_path("/mcp").with_graceful_shutdown(shutdown_signal()).await?;
    Ok(())
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = || -> ! {
        eprintln!("usage: echo-server stdio | echo-server http --bind HOST:PORT");
        std::process::exit(2)
    };
    let fail = |e: &dyn std::fmt::Display| -> ! {
        eprintln!("echo-server: {e}");
        std::process::exit(1)
    };
    let server = versions().and_then(|v| build(&v).map_err(|e| e.to_string())).unwrap_or_else(|e| fail(&e));
    // One thread: a stdio server has one connection, and it keeps memory small; the HTTP
    // listener is I/O-bound and fast enough on one thread too.
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap_or_else(|e| fail(&e));
    let result: Result<(), Box<dyn std::error::Error>> = match args.first().map(String::as_str) {
        Some("stdio") => {
            runtime.block_on(serve_stdio_until(server, Default::default(), shutdown_signal())).map_err(Into::into)
        }
        Some("http") if args.get(1).map(String::as_str) == Some("--bind") => {
            let bind = args.get(2).cloned().unwrap_or_else(|| usage());
            runtime.block_on(serve_on_http(server, &bind))
        }
        _ => usage(),
    };
    if let Err(e) = result {
        fail(&e);
    }
}
