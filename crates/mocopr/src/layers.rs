//! The built-in layers as one-call builder methods: `McpServer::builder().with_cache(..)
//! .with_metrics(..).with_profiler(..)`. Each is a [`layer`](mocopr_server::McpServerBuilder::layer) like any
//! other, so a server with them is still an [`McpServer`](mocopr_server::McpServer): served over stdio, as `into_http`, or
//! mounted in axum exactly like a bare one, and a user's own tower layers go around or between
//! them with `.layer(..)`.
//!
//! Layers wrap in the order they are added, the last one added outermost. The order that is
//! right for these three is the order of the names below, which is also the reading order of
//! `.with_cache(..).with_metrics(..).with_profiler(..)`:
//!
//! server ← cache ← metrics ← request tracing ← (your layers)
//!
//! so the cache answers before the server runs, metrics count every request (cache hits too),
//! and tracing's durations are what the client waited for.

use mocopr_server::{LayerContext, McpServerBuilder, McpService, ServerError, ServerLayer};

#[cfg(feature = "cache")]
use mocopr_cache::{CacheConfig, CacheLayer, CachePolicy, MultiLevelCache};
#[cfg(feature = "metrics")]
use mocopr_metrics::{MetricsCollector, MetricsLayer};
#[cfg(feature = "profiling")]
use mocopr_profiling::{Profiler, RequestTracingLayer};

/// `with_cache`, `with_metrics`, `with_profiler` and `with_instrumentation` on the server
/// builder.
pub trait ServerBuilderExt: Sized {
    /// Caches lists, resource reads and the results of tools that declare `readOnlyHint` and
    /// `idempotentHint`, in a [`MultiLevelCache`] configured by `config` (made when the server
    /// is built, inside a Tokio runtime; the application reaches it with
    /// `server.extension::<MultiLevelCache>()`). The server's change notifications clear what
    /// they make stale. It fails closed: entries are keyed by the request and the caller's
    /// partition (a [`CachePartition`](crate::cache::CachePartition) a layer of yours put in
    /// the request, else the [`Principal`](crate::server::Principal)'s subject); for anonymous
    /// callers only results marked `cacheScope: "public"` (2026-07-28 lists, by default) are
    /// kept; a tool vouched for with [`ServerCache::with_cached_tool`] has one entry for all.
    ///
    /// ```
    /// use std::time::Duration;
    /// use mocopr::prelude::*;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), ServerError> {
    /// let weather = Tool::new("weather")
    ///     .with_annotations(ToolAnnotations::new().with_read_only_hint(true).with_idempotent_hint(true));
    /// let server = McpServer::builder()
    ///     .tool(weather, || async { "sunny" })
    ///     .with_cache(CacheConfig::builder().with_default_ttl(Duration::from_secs(60)).build())
    ///     .build()?;
    /// assert!(server.extension::<mocopr::cache::MultiLevelCache>().is_some());
    /// # Ok(()) }
    /// ```
    #[cfg(feature = "cache")]
    fn with_cache(self, config: CacheConfig) -> Self;

    /// Records request metrics in `metrics` (see [`MetricsLayer`]).
    ///
    /// ```
    /// use mocopr::prelude::*;
    ///
    /// let metrics = MetricsCollector::builder().build().unwrap();
    /// let server = McpServer::builder().tool("hello", || async { "Hello!" }).with_metrics(metrics.clone()).build();
    /// assert!(server.is_ok());
    /// ```
    #[cfg(feature = "metrics")]
    fn with_metrics(self, metrics: MetricsCollector) -> Self;

    /// Traces requests as `profiler` says, when it has request tracing on (CPU and memory
    /// profiles are taken from the profiler itself, e.g. by the dashboard).
    ///
    /// ```
    /// use std::time::Duration;
    /// use mocopr::prelude::*;
    ///
    /// let profiler = Profiler::builder().with_request_tracing(Duration::from_millis(250)).build();
    /// let server = McpServer::builder().tool("hello", || async { "Hello!" }).with_profiler(profiler).build();
    /// assert!(server.is_ok());
    /// ```
    #[cfg(feature = "profiling")]
    fn with_profiler(self, profiler: Profiler) -> Self;

    /// Switches request instrumentation on: a `tracing` span `mcp.request` per request, named
    /// and attributed after OpenTelemetry's MCP conventions (`RequestTracingLayer`), and a
    /// warning for requests slower than one second. `false` adds nothing.
    ///
    /// ```
    /// use mocopr::prelude::*;
    ///
    /// let server = McpServer::builder().tool("hello", || async { "Hello!" }).with_instrumentation(true).build();
    /// assert!(server.is_ok());
    /// ```
    #[cfg(feature = "profiling")]
    fn with_instrumentation(self, enabled: bool) -> Self;
}

impl ServerBuilderExt for McpServerBuilder {
    #[cfg(feature = "cache")]
    fn with_cache(self, config: CacheConfig) -> Self {
        self.layer(ServerCache::new(config))
    }

    #[cfg(feature = "metrics")]
    fn with_metrics(self, metrics: MetricsCollector) -> Self {
        self.layer(MetricsLayer::new(metrics))
    }

    #[cfg(feature = "profiling")]
    fn with_profiler(self, profiler: Profiler) -> Self {
        match profiler.request_tracing() {
            Some(tracing) => self.layer(tracing),
            None => self,
        }
    }

    #[cfg(feature = "profiling")]
    fn with_instrumentation(self, enabled: bool) -> Self {
        if enabled { self.layer(RequestTracingLayer::new(std::time::Duration::from_secs(1))) } else { self }
    }
}

/// The cache layer of a server: a [`ServerLayer`] that reads the server's tools to decide which
/// results may be kept (plus any named with [`with_cached_tool`](ServerCache::with_cached_tool)) and clears
/// entries when the server announces a change. What `with_cache` adds.
///
/// ```
/// use std::time::Duration;
/// use mocopr::prelude::*;
/// use mocopr::layers::ServerCache;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), ServerError> {
/// let config = CacheConfig::builder().with_default_ttl(Duration::from_secs(10)).build();
/// let server = McpServer::builder()
///     .tool("lookup", || async { "42" })
///     .layer(ServerCache::new(config).with_cached_tool("lookup")) // the user vouches for `lookup`
///     .build()?;
/// # let _ = server; Ok(()) }
/// ```
#[cfg(feature = "cache")]
#[derive(Debug, Clone)]
pub struct ServerCache {
    config: CacheConfig,
    extra_tools: Vec<String>,
}

#[cfg(feature = "cache")]
impl ServerCache {
    /// A cache configured by `config`.
    pub fn new(config: CacheConfig) -> Self {
        ServerCache { config, extra_tools: Vec::new() }
    }

    /// Also caches `tool`'s results (the user vouches they depend only on the arguments).
    pub fn with_cached_tool(mut self, tool: impl Into<String>) -> Self {
        self.extra_tools.push(tool.into());
        self
    }
}

#[cfg(feature = "cache")]
impl ServerLayer for ServerCache {
    fn wrap(self, cx: &mut LayerContext<'_>, inner: McpService) -> Result<McpService, ServerError> {
        use tower_layer::Layer as _;
        if self.config.redis.is_some() && tokio::runtime::Handle::try_current().is_err() {
            return Err(ServerError::Layer { layer: "cache", source: "a Redis L2 needs a Tokio runtime".into() });
        }
        let cache = MultiLevelCache::new(self.config)
            .map_err(|e| ServerError::Layer { layer: "cache", source: Box::new(e) })?;
        let mut policy = CachePolicy::for_tools(cx.server().tools());
        for tool in self.extra_tools {
            policy = policy.with_cached_tool(tool);
        }
        invalidate_on_change(cx.server(), &cache);
        cx.insert_extension(cache.clone());
        Ok(McpService::new(CacheLayer::new(cache, policy).layer(inner)))
    }
}

/// Stale entries go before any client hears of the change (a client that re-fetches on
/// list_changed must not get the old list back).
#[cfg(feature = "cache")]
fn invalidate_on_change(server: &mocopr_server::McpServer, cache: &MultiLevelCache) {
    use mocopr_server::Change;
    let invalidated = cache.clone();
    server.changes().on_change(move |change| {
        let tags: &[&str] = match change {
            Change::Tools => &["tools/list"],
            Change::Prompts => &["prompts/list"],
            Change::Resources => &["resources/list", "resources/templates/list"],
            Change::ResourceUpdated(uri) => {
                invalidated.invalidate_tag_now(&format!("resources/read:{uri}"));
                &[]
            }
            _ => &[],
        };
        for tag in tags {
            invalidated.invalidate_tag_now(tag);
        }
    });
}
