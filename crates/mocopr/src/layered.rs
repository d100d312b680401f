//! `McpServer::builder().with_cache(..).with_metrics(..).with_profiler(..)`: the server behind the
//! layers asked for, in one order that is right for all of them:
//!
//! request tracing → metrics → cache → server
//!
//! Tracing sees everything (its durations are what the client waited for, cache hits included);
//! metrics count every request (hits too); the cache answers before the server runs. The server's
//! change notifications are wired to the cache's invalidation.

use std::convert::Infallible;
use std::task::{Context, Poll};

use mocopr_core::service::{McpRequest, McpResponse};
use mocopr_server::{McpServer, McpServerBuilder, ServerError};
use tower::util::BoxCloneSyncService;
use tower_layer::Layer;
use tower_service::Service;

#[cfg(feature = "cache")]
use mocopr_cache::{CacheConfig, CacheError, CacheLayer, CachePolicy, MultiLevelCache};
#[cfg(feature = "metrics")]
use mocopr_metrics::{MetricsCollector, MetricsLayer};
#[cfg(feature = "profiling")]
use mocopr_profiling::Profiler;

/// Why a layered server could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LayeredBuildError {
    /// The server's own registrations are invalid.
    #[error(transparent)]
    Server(#[from] ServerError),
    /// The cache configuration is unusable.
    #[cfg(feature = "cache")]
    #[error(transparent)]
    Cache(#[from] CacheError),
    /// Building needs a Tokio runtime (for the cache's tasks and its Redis L2).
    #[error("a layered server needs to be built inside a Tokio runtime")]
    NoRuntime,
}

/// Adds `with_cache`, `with_metrics` and `with_profiler` to the server builder.
pub trait LayeredBuilderExt: Sized {
    /// The builder, to add layers to.
    fn layered(self) -> LayeredServerBuilder;

    /// Caches lists, resource reads and the results of tools that declare `readOnlyHint` and
    /// `idempotentHint`, in a [`MultiLevelCache`] configured by `config`.
    #[cfg(feature = "cache")]
    fn with_cache(self, config: CacheConfig) -> LayeredServerBuilder {
        self.layered().with_cache(config)
    }

    /// Records request metrics in `metrics`.
    #[cfg(feature = "metrics")]
    fn with_metrics(self, metrics: MetricsCollector) -> LayeredServerBuilder {
        self.layered().with_metrics(metrics)
    }

    /// Traces requests as `profiler` says (when it has request tracing on), and keeps it for
    /// the dashboard's CPU profiles.
    #[cfg(feature = "profiling")]
    fn with_profiler(self, profiler: Profiler) -> LayeredServerBuilder {
        self.layered().with_profiler(profiler)
    }
}

impl LayeredBuilderExt for McpServerBuilder {
    fn layered(self) -> LayeredServerBuilder {
        LayeredServerBuilder {
            server: self,
            #[cfg(feature = "cache")]
            cache: None,
            #[cfg(feature = "cache")]
            extra_tools: Vec::new(),
            #[cfg(feature = "metrics")]
            metrics: None,
            #[cfg(feature = "profiling")]
            profiler: None,
        }
    }
}

/// Builds a [`LayeredServer`].
#[derive(Debug)]
pub struct LayeredServerBuilder {
    server: McpServerBuilder,
    #[cfg(feature = "cache")]
    cache: Option<CacheConfig>,
    #[cfg(feature = "cache")]
    extra_tools: Vec<String>,
    #[cfg(feature = "metrics")]
    metrics: Option<MetricsCollector>,
    #[cfg(feature = "profiling")]
    profiler: Option<Profiler>,
}

impl LayeredServerBuilder {
    /// See [`LayeredBuilderExt::with_cache`].
    #[cfg(feature = "cache")]
    pub fn with_cache(mut self, config: CacheConfig) -> Self {
        self.cache = Some(config);
        self
    }

    /// Also caches `tool`'s results (the user vouches they depend only on the arguments).
    #[cfg(feature = "cache")]
    pub fn cache_tool(mut self, tool: impl Into<String>) -> Self {
        self.extra_tools.push(tool.into());
        self
    }

    /// See [`LayeredBuilderExt::with_metrics`].
    #[cfg(feature = "metrics")]
    pub fn with_metrics(mut self, metrics: MetricsCollector) -> Self {
        self.metrics = Some(metrics);
        self
    }

    /// See [`LayeredBuilderExt::with_profiler`].
    #[cfg(feature = "profiling")]
    pub fn with_profiler(mut self, profiler: Profiler) -> Self {
        self.profiler = Some(profiler);
        self
    }

    /// Builds the server and its layers (inside a Tokio runtime).
    pub fn build(self) -> Result<LayeredServer, LayeredBuildError> {
        tokio::runtime::Handle::try_current().map_err(|_| LayeredBuildError::NoRuntime)?;
        let server = self.server.build()?;
        let service = BoxCloneSyncService::new(server.clone());
        #[cfg(feature = "cache")]
        let (service, cache) = match self.cache {
            Some(config) => {
                let cache = MultiLevelCache::new(config)?;
                let mut policy = CachePolicy::for_tools(server.tools());
                for tool in self.extra_tools {
                    policy = policy.cache_tool(tool);
                }
                invalidate_on_change(&server, &cache);
                let layered = CacheLayer::new(cache.clone(), policy).layer(service);
                (BoxCloneSyncService::new(layered), Some(cache))
            }
            None => (service, None),
        };
        #[cfg(feature = "metrics")]
        let service = match &self.metrics {
            Some(metrics) => BoxCloneSyncService::new(MetricsLayer::new(metrics.clone()).layer(service)),
            None => service,
        };
        #[cfg(feature = "profiling")]
        let service = match self.profiler.as_ref().and_then(Profiler::request_tracing) {
            Some(tracing) => BoxCloneSyncService::new(tracing.layer(service)),
            None => service,
        };
        Ok(LayeredServer {
            service,
            server,
            #[cfg(feature = "cache")]
            cache,
            #[cfg(feature = "metrics")]
            metrics: self.metrics,
            #[cfg(feature = "profiling")]
            profiler: self.profiler,
        })
    }
}

/// Stale entries go before any client hears of the change (a client that re-fetches on
/// list_changed must not get the old list back).
#[cfg(feature = "cache")]
fn invalidate_on_change(server: &McpServer, cache: &MultiLevelCache) {
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

/// A server behind its layers; serve it like an [`McpServer`] (it is a cheap-to-clone
/// `tower::Service<McpRequest>`).
#[derive(Clone)]
pub struct LayeredServer {
    service: BoxCloneSyncService<McpRequest, McpResponse, Infallible>,
    server: McpServer,
    #[cfg(feature = "cache")]
    cache: Option<MultiLevelCache>,
    #[cfg(feature = "metrics")]
    metrics: Option<MetricsCollector>,
    #[cfg(feature = "profiling")]
    profiler: Option<Profiler>,
}

impl std::fmt::Debug for LayeredServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LayeredServer").field("server", &self.server).finish_non_exhaustive()
    }
}

impl LayeredServer {
    /// The server under the layers (its changes, tools, capabilities).
    pub fn get_ref(&self) -> &McpServer {
        &self.server
    }

    /// The cache, when there is one.
    #[cfg(feature = "cache")]
    pub fn cache(&self) -> Option<&MultiLevelCache> {
        self.cache.as_ref()
    }

    /// The metrics, when recorded.
    #[cfg(feature = "metrics")]
    pub fn metrics(&self) -> Option<&MetricsCollector> {
        self.metrics.as_ref()
    }

    /// The profiler, when there is one.
    #[cfg(feature = "profiling")]
    pub fn profiler(&self) -> Option<&Profiler> {
        self.profiler.as_ref()
    }
}

impl Service<McpRequest> for LayeredServer {
    type Response = McpResponse;
    type Error = Infallible;
    type Future = <BoxCloneSyncService<McpRequest, McpResponse, Infallible> as Service<McpRequest>>::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.service.poll_ready(cx)
    }

    fn call(&mut self, request: McpRequest) -> Self::Future {
        self.service.call(request)
    }
}
