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
//! L2, `--redis-cluster NODE,NODE,…` a Redis Cluster as L2), Prometheus metrics (`--no-metrics`), the profiler (CPU profiles on demand, allocation
//! counting, request tracing with a slow-request log; `--no-tracing`), the dashboard over HTTP
//! (`/dashboard`, `/metrics`, `/health`, `/debug/pprof/profile`) on an admin listener of its own
//! (`--admin-bind`, loopback by default; `--admin-token` adds a bearer token), or beside the MCP
//! endpoint with `--dashboard-beside-mcp`, which requires `--admin-token`, a
//! per-request timeout, bounded requests in flight per stdio connection, and HTTP limits
//! (connections, body size, sessions, header timeout). `cargo xtask loadtest` starts it and
//! sends it the realistic mix (list_tools 10%, call_tool 70%, read_resource 20%).
//!
//! `--cpu-profile-to FILE` writes a flamegraph of `--cpu-profile-seconds` of CPU, taken
//! `--cpu-profile-delay-ms` after start. The first CPU profile of a process (this, or
//! `/debug/pprof/profile`) makes the sampler's table, about 180 MB resident from then on.
//!
//! Over HTTP only loopback `Host` / `Origin` values are accepted unless `--allowed-host NAME`
//! (repeatable) or `--allow-any-host` says otherwise (behind a load balancer, name the hosts
//! clients use).
//!
//! Tools: `echo {text}`, `add {a, b}`, `weather {city}` (a 5 ms backend lookup; read-only and
//! idempotent, so cacheable), `search {query, limit?}` (scans the city table). Resources:
//! `data://cities` (JSON) and `data://report` (about 4 KB of text).

mod tools;

use std::time::Duration;

use clap::{Parser, ValueEnum};
use mocopr::cache::MultiLevelCache;
use mocopr::cache::{CacheConfig, RedisConfig};
use mocopr::dashboard::{DashboardExt, PerformanceDashboard};
use mocopr::layers::ServerCache;
use mocopr::prelude::*;
use mocopr::profiling::CountingAllocator;
use mocopr::runtime::RuntimeConfig;
use mocopr::server::layer::TimeoutLayer;
use mocopr::server::{EndpointConfig, ListenerConfig, serve_http, serve_stdio_until, shutdown_signal};

/// Counts allocations for the profiler's memory figures (a few atomic adds per allocation).
#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator::system();

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
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    worker_threads: Option<u64>,
    /// Most runtime threads for blocking work.
    #[arg(long, default_value_t = 512, value_parser = clap::value_parser!(u64).range(1..))]
    max_blocking_threads: u64,
    /// Stack size of each runtime thread, in KiB (default: Tokio's, 2048).
    #[arg(long, value_parser = clap::value_parser!(u64).range(64..))]
    thread_stack_kib: Option<u64>,
    /// How long an idle blocking thread is kept, in milliseconds.
    #[arg(long, default_value_t = 10_000)]
    thread_keep_alive_ms: u64,
    /// Longest a request may run before it is answered with a timeout error, in milliseconds.
    #[arg(long, default_value_t = 30_000, value_parser = clap::value_parser!(u64).range(1..))]
    request_timeout_ms: u64,
    /// A `Host` (and `Origin` host) accepted besides loopback; repeatable.
    #[arg(long = "allowed-host")]
    allowed_hosts: Vec<String>,
    /// Accept any `Host` / `Origin` (only behind something that checks them).
    #[arg(long)]
    allow_any_host: bool,
    /// Where the dashboard listens (its own listener; loopback by default, port 0 picks one).
    #[arg(long, default_value = "127.0.0.1:0")]
    admin_bind: String,
    /// A bearer token the dashboard's data routes require (`Authorization: Bearer TOKEN`).
    #[arg(long)]
    admin_token: Option<String>,
    /// Serve the dashboard on the MCP endpoint's listener instead (needs `--admin-token`).
    #[arg(long)]
    dashboard_beside_mcp: bool,
    /// Requests in flight per stdio connection (reading pauses at the bound).
    #[arg(long, default_value_t = 256)]
    max_in_flight: usize,
    /// HTTP connections open at once.
    #[arg(long, default_value_t = 1024)]
    max_connections: usize,
    /// HTTP connections from one IP address (default: `--max-connections`; lower it when
    /// clients connect directly rather than through a proxy or a load tester).
    #[arg(long)]
    max_connections_per_peer: Option<usize>,
    /// Largest HTTP request body, in bytes.
    #[arg(long, default_value_t = 4 * 1024 * 1024)]
    max_body_bytes: usize,
    /// Legacy HTTP sessions open at once.
    #[arg(long, default_value_t = 10_000)]
    max_sessions: usize,
    /// Longest a client may take to send its request headers, in milliseconds.
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..))]
    header_timeout_ms: u64,
    /// Longest a client may take to send a request's body once its headers arrived (`408`
    /// after), in milliseconds.
    #[arg(long, default_value_t = 30_000, value_parser = clap::value_parser!(u64).range(1..))]
    body_timeout_ms: u64,
    /// A connection with no request in progress for this long is closed, in milliseconds.
    #[arg(long, default_value_t = 120_000, value_parser = clap::value_parser!(u64).range(1..))]
    idle_timeout_ms: u64,
    /// A connection whose client takes no bytes of its answer for this long is closed, in
    /// milliseconds.
    #[arg(long, default_value_t = 30_000, value_parser = clap::value_parser!(u64).range(1..))]
    write_timeout_ms: u64,
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
    #[arg(long, conflicts_with = "redis_cluster")]
    redis: Option<String>,
    /// Nodes of a Redis Cluster for the cache's L2, comma-separated (e.g.
    /// redis://10.0.0.1:7000,redis://10.0.0.2:7000); the client finds the others.
    #[arg(long, value_delimiter = ',')]
    redis_cluster: Vec<String>,
    /// Serve without recording metrics.
    #[arg(long)]
    no_metrics: bool,
    /// Serve without request tracing.
    #[arg(long)]
    no_tracing: bool,
    /// Log level of what goes to stderr (`error`, `warn`, `info`, `debug`, `trace`); at `info`
    /// and below every request's span is recorded too.
    #[arg(long, default_value = "warn")]
    log_level: tracing::Level,
    /// Requests slower than this are logged as warnings, in milliseconds.
    #[arg(long, default_value_t = 1000)]
    slow_request_ms: u64,
    /// Write a CPU flamegraph (SVG) here, of `--cpu-profile-seconds` taken
    /// `--cpu-profile-delay-ms` after start.
    #[arg(long)]
    cpu_profile_to: Option<std::path::PathBuf>,
    /// When the CPU profile starts, in milliseconds after start.
    #[arg(long, default_value_t = 2000)]
    cpu_profile_delay_ms: u64,
    /// How long the CPU profile samples, in seconds.
    #[arg(long, default_value_t = 5)]
    cpu_profile_seconds: u64,
}

fn main() {
    let options = Options::parse();
    // Logs (slow-request warnings among them) go to stderr; stdout may be the MCP stream.
    tracing_subscriber::fmt().with_max_level(options.log_level).with_writer(std::io::stderr).with_ansi(false).init();
    let mut runtime = RuntimeConfig::builder()
        .with_max_blocking_threads(options.max_blocking_threads as usize)
        .with_thread_keep_alive(Duration::from_millis(options.thread_keep_alive_ms))
        .with_thread_name("production-server");
    if let Some(threads) = options.worker_threads {
        runtime = runtime.with_worker_threads(threads as usize);
    }
    if let Some(kib) = options.thread_stack_kib {
        runtime = runtime.with_thread_stack_size(kib as usize * 1024);
    }
    let runtime = runtime.build().unwrap_or_else(|e| fail(e));
    match runtime.block_on(serve(options)) {
        Ok(Ok(())) => {}
        Ok(Err(e)) => fail(e),
        Err(e) => fail(format!("cannot start the runtime: {e}")),
    }
}

fn fail(message: impl std::fmt::Display) -> ! {
    eprintln!("production-server: {message}");
    std::process::exit(1);
}

async fn serve(options: Options) -> Result<(), String> {
    let metrics = MetricsCollector::builder().build().map_err(|e| e.to_string())?;
    let mut profiler = Profiler::builder().with_cpu_profiling(99).with_memory_profiling();
    if !options.no_tracing {
        profiler = profiler.with_request_tracing(Duration::from_millis(options.slow_request_ms));
    }
    let profiler = profiler.build();
    let mut builder =
        tools::register(McpServer::builder().with_name("production-server").with_version(env!("CARGO_PKG_VERSION")));
    // Layers wrap in the order added: cache, then metrics (hits counted), then tracing, then
    // the timeout, which sees every request first.
    if !options.no_cache {
        let mut cache = CacheConfig::builder()
            .with_l1_max_entries(options.cache_entries)
            .with_default_ttl(Duration::from_secs(options.cache_ttl_secs));
        if let Some(url) = &options.redis {
            cache = cache.with_l2_cache(RedisConfig::new(url.clone()));
        } else if !options.redis_cluster.is_empty() {
            cache = cache.with_l2_cache(RedisConfig::cluster(options.redis_cluster.clone()));
        }
        // `weather` answers depend on the city alone: shared between callers (the cache keeps
        // other tools' results per caller only).
        builder = builder.layer(ServerCache::new(cache.build()).with_cached_tool("weather"));
    }
    if !options.no_metrics {
        builder = builder.with_metrics(metrics.clone());
    }
    let server = builder
        .with_profiler(profiler.clone())
        .layer(TimeoutLayer::new(Duration::from_millis(options.request_timeout_ms)))
        .build()
        .map_err(|e| e.to_string())?;
    if let Some(path) = options.cpu_profile_to.clone() {
        let (profiler, delay, seconds) = (profiler.clone(), options.cpu_profile_delay_ms, options.cpu_profile_seconds);
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(delay)).await;
            let written = match profiler.cpu_profile(Duration::from_secs(seconds)).await {
                Ok(profile) => profile
                    .flamegraph_svg("production-server")
                    .map_err(|e| e.to_string())
                    .and_then(|svg| std::fs::write(&path, svg).map_err(|e| format!("{}: {e}", path.display()))),
                Err(e) => Err(e.to_string()),
            };
            match written {
                Ok(()) => eprintln!("production-server: flamegraph written to {}", path.display()),
                Err(e) => eprintln!("production-server: no flamegraph: {e}"),
            }
        });
    }
    let cache = server.extension::<MultiLevelCache>().cloned();
    match options.transport {
        Transport::Stdio => {
            let config = StdioConfig::builder().with_max_in_flight(options.max_in_flight).build();
            serve_stdio_until(server, config, shutdown_signal()).await.map_err(|e| e.to_string())
        }
        Transport::Http => {
            // The dashboard reads everything and starts profiles: on a non-loopback address, or
            // beside `/mcp`, only behind a token worth the name.
            if options.admin_token.as_ref().is_some_and(|t| t.trim().len() < 16) {
                return Err("--admin-token must be at least 16 characters".into());
            }
            let admin = if options.dashboard_beside_mcp {
                if options.admin_token.is_none() {
                    return Err("--dashboard-beside-mcp needs --admin-token: the MCP listener is public".into());
                }
                None
            } else {
                let admin = tokio::net::TcpListener::bind(&options.admin_bind).await.map_err(|e| e.to_string())?;
                let admin_address = admin.local_addr().map_err(|e| e.to_string())?;
                if !admin_address.ip().is_loopback() && options.admin_token.is_none() {
                    return Err("--admin-bind on a non-loopback address needs --admin-token".into());
                }
                Some((admin, admin_address))
            };
            let listener = tokio::net::TcpListener::bind(&options.bind).await.map_err(|e| e.to_string())?;
            let address = listener.local_addr().map_err(|e| e.to_string())?;
            let mut http = EndpointConfig::builder()
                .with_max_body_size(options.max_body_bytes)
                .with_body_timeout(Duration::from_millis(options.body_timeout_ms))
                .with_max_sessions(options.max_sessions);
            if options.allow_any_host {
                http = http.with_any_host();
            } else if !options.allowed_hosts.is_empty() {
                let hosts = mocopr::transport::http::LOOPBACK_HOSTS.iter().map(|h| h.to_string());
                http = http.with_allowed_hosts(hosts.chain(options.allowed_hosts.iter().cloned()));
            }
            let endpoint = server.into_http(http.build());
            let config = ListenerConfig::builder()
                .with_max_connections(options.max_connections)
                .with_max_connections_per_peer(options.max_connections_per_peer.unwrap_or(options.max_connections))
                .with_header_timeout(Duration::from_millis(options.header_timeout_ms))
                .with_connection_timeout(Some(Duration::from_millis(options.idle_timeout_ms)))
                .with_write_timeout(Some(Duration::from_millis(options.write_timeout_ms)))
                .build();
            let open = config.open_connections();
            metrics.track_connections(move || open.load(std::sync::atomic::Ordering::Relaxed));
            let sessions = endpoint.sessions().clone();
            metrics.track_sessions(move || sessions.open_sessions().unwrap_or(0));
            let dashboard_hosts = (!options.allow_any_host).then(|| {
                let loopback = mocopr::transport::http::LOOPBACK_HOSTS.iter().map(|h| h.to_string());
                loopback.chain(options.allowed_hosts.iter().cloned()).collect()
            });
            let mut dashboard =
                PerformanceDashboard::builder().with_profiler(profiler).with_allowed_hosts(dashboard_hosts);
            if !options.no_metrics {
                dashboard = dashboard.with_metrics(metrics);
            }
            if let Some(cache) = cache.filter(|_| options.redis.is_some() || !options.redis_cluster.is_empty()) {
                dashboard = dashboard.with_health_check("cache-redis", move || {
                    let cache = cache.clone();
                    async move {
                        match cache.l2_healthy().await {
                            Some(false) => Err("Redis does not answer; the cache serves from L1".to_owned()),
                            _ => Ok(()),
                        }
                    }
                });
            }
            if let Some(token) = &options.admin_token {
                dashboard = dashboard.with_bearer_token(token);
            }
            let dashboard = dashboard.build();
            eprintln!("production-server: listening on http://{address}/mcp");
            let app = match admin {
                None => {
                    eprintln!("production-server: dashboard on http://{address}/dashboard");
                    endpoint.with_dashboard(dashboard)
                }
                Some((admin, admin_address)) => {
                    eprintln!("production-server: dashboard on http://{admin_address}/dashboard");
                    tokio::spawn(async move {
                        if let Err(error) = serve_http(admin, dashboard.into_router()).await {
                            eprintln!("production-server: the dashboard stopped: {error}");
                        }
                    });
                    axum::Router::new().route_service("/mcp", endpoint)
                }
            };
            serve_http(listener, app)
                .with_config(config)
                .with_graceful_shutdown(shutdown_signal())
                .await
                .map_err(|e| e.to_string())
        }
    }
}
