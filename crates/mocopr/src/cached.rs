//! `McpServer::builder().with_cache(config)`: the server behind the cache layer, with the
//! server's change notifications wired to the cache's invalidation.

use mocopr_cache::{CacheConfig, CacheError, CacheLayer, CachePolicy, CacheService, MultiLevelCache};
use mocopr_server::{Change, McpServer, McpServerBuilder, ServerError};
use tower_layer::Layer;

/// A server answered through the cache layer; serve it like an [`McpServer`].
pub type CachedServer = CacheService<McpServer>;

/// Why a cached server could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CachedBuildError {
    /// The server's own registrations are invalid.
    #[error(transparent)]
    Server(#[from] ServerError),
    /// The cache configuration is unusable.
    #[error(transparent)]
    Cache(#[from] CacheError),
    /// Building needs a Tokio runtime (for the invalidation task and the Redis L2).
    #[error("with_cache needs to be built inside a Tokio runtime")]
    NoRuntime,
}

/// Adds [`with_cache`](CacheBuilderExt::with_cache) to the server builder.
pub trait CacheBuilderExt {
    /// Caches lists, resource reads and the results of tools that declare `readOnlyHint` and
    /// `idempotentHint`, in a [`MultiLevelCache`] configured by `config`.
    fn with_cache(self, config: CacheConfig) -> CachedServerBuilder;
}

impl CacheBuilderExt for McpServerBuilder {
    fn with_cache(self, config: CacheConfig) -> CachedServerBuilder {
        CachedServerBuilder { server: self, config, extra_tools: Vec::new() }
    }
}

/// Builds a [`CachedServer`].
#[derive(Debug)]
pub struct CachedServerBuilder {
    server: McpServerBuilder,
    config: CacheConfig,
    extra_tools: Vec<String>,
}

impl CachedServerBuilder {
    /// Also caches `tool`'s results (the user vouches they depend only on the arguments).
    pub fn cache_tool(mut self, tool: impl Into<String>) -> Self {
        self.extra_tools.push(tool.into());
        self
    }

    /// Builds the server and the cache, and hooks the server's changes to the cache (list
    /// changes drop cached lists, resource updates drop that resource's reads).
    pub fn build(self) -> Result<CachedServer, CachedBuildError> {
        tokio::runtime::Handle::try_current().map_err(|_| CachedBuildError::NoRuntime)?;
        let server = self.server.build()?;
        let cache = MultiLevelCache::new(self.config)?;
        let mut policy = CachePolicy::for_tools(server.tools());
        for tool in self.extra_tools {
            policy = policy.cache_tool(tool);
        }
        // Stale entries go before any client hears of the change (a client that re-fetches on
        // list_changed must not get the old list back).
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
        Ok(CacheLayer::new(cache, policy).layer(server))
    }
}
