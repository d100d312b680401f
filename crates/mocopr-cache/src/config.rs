//! [`CacheConfig`]: sizes, lifetimes, compression and the optional Redis L2.

use std::time::Duration;

/// How a [`MultiLevelCache`](crate::MultiLevelCache) is set up. Build with [`CacheConfig::builder`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct CacheConfig {
    /// Most entries kept in process (L1).
    pub l1_max_entries: u64,
    /// Most bytes kept in process (L1): keys and values, plus a per-entry overhead.
    pub l1_max_bytes: u64,
    /// Lifetime of an entry when the caller gives none.
    pub default_ttl: Duration,
    /// Values at least this large are stored LZ4-compressed (when that makes them smaller).
    pub compression_threshold: usize,
    /// Values larger than this are not cached at all.
    pub max_value_size: usize,
    /// The first part of every key (`{namespace}:{method}:{hash}`).
    pub namespace: String,
    /// The L2, when there is one.
    pub redis: Option<RedisConfig>,
}

/// Where and how the Redis L2 is reached.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RedisConfig {
    /// `redis://host:port/db` (or, with the `cluster` feature and [`RedisConfig::cluster`],
    /// the cluster's nodes).
    pub urls: Vec<String>,
    /// Whether `urls` are the nodes of a Redis Cluster.
    pub cluster: bool,
    /// Longest wait for a connection.
    pub connection_timeout: Duration,
    /// Longest wait for one command; past it the cache answers from L1 alone.
    pub response_timeout: Duration,
    /// After an L2 failure, how long L2 is left alone before it is tried again.
    pub retry_interval: Duration,
}

impl RedisConfig {
    /// A single Redis server at `url`, with 250 ms connection and command timeouts and a
    /// 1 s pause after a failure.
    pub fn new(url: impl Into<String>) -> Self {
        RedisConfig {
            urls: vec![url.into()],
            cluster: false,
            connection_timeout: Duration::from_millis(250),
            response_timeout: Duration::from_millis(250),
            retry_interval: Duration::from_secs(1),
        }
    }

    /// The nodes of a Redis Cluster (needs the `cluster` feature).
    pub fn cluster(urls: impl IntoIterator<Item = impl Into<String>>) -> Self {
        let mut config = RedisConfig::new("");
        config.urls = urls.into_iter().map(Into::into).collect();
        config.cluster = true;
        config
    }

    /// Longest wait for a connection.
    pub fn with_connection_timeout(mut self, timeout: Duration) -> Self {
        self.connection_timeout = timeout;
        self
    }

    /// Longest wait for one command.
    pub fn with_response_timeout(mut self, timeout: Duration) -> Self {
        self.response_timeout = timeout;
        self
    }

    /// Pause after a failure before L2 is tried again.
    pub fn with_retry_interval(mut self, interval: Duration) -> Self {
        self.retry_interval = interval;
        self
    }
}

impl Default for CacheConfig {
    fn default() -> Self {
        CacheConfig {
            l1_max_entries: 10_000,
            l1_max_bytes: 64 * 1024 * 1024,
            default_ttl: Duration::from_secs(60),
            compression_threshold: 1024,
            max_value_size: 1024 * 1024,
            namespace: "mcp".into(),
            redis: None,
        }
    }
}

impl CacheConfig {
    /// Starts from the defaults: 10,000 L1 entries and 64 MiB, 60 s TTL, compression from 1 KiB, values
    /// up to 1 MiB, namespace `mcp`, no L2.
    ///
    /// ```
    /// use std::time::Duration;
    /// use mocopr_cache::{CacheConfig, RedisConfig};
    ///
    /// let config = CacheConfig::builder()
    ///     .with_l1_max_entries(50_000)
    ///     .with_default_ttl(Duration::from_secs(300))
    ///     .with_l2_cache(RedisConfig::new("redis://127.0.0.1:6379"))
    ///     .build();
    /// assert_eq!(config.default_ttl, Duration::from_secs(300));
    /// ```
    pub fn builder() -> CacheConfigBuilder {
        CacheConfigBuilder { config: CacheConfig::default() }
    }
}

/// Builds a [`CacheConfig`].
#[derive(Debug, Clone)]
pub struct CacheConfigBuilder {
    config: CacheConfig,
}

impl CacheConfigBuilder {
    /// Most entries kept in process (default 10,000; 0 keeps none).
    pub fn with_l1_max_entries(mut self, entries: u64) -> Self {
        self.config.l1_max_entries = entries;
        self
    }

    /// Most bytes kept in process, keys and values counted (default 64 MiB); whichever of
    /// this and [`with_l1_max_entries`](Self::with_l1_max_entries) is reached first bounds L1.
    ///
    /// ```
    /// let config = mocopr_cache::CacheConfig::builder().with_l1_max_bytes(16 * 1024 * 1024).build();
    /// assert_eq!(config.l1_max_bytes, 16 * 1024 * 1024);
    /// ```
    pub fn with_l1_max_bytes(mut self, bytes: u64) -> Self {
        self.config.l1_max_bytes = bytes;
        self
    }

    /// Lifetime of an entry when the caller gives none.
    pub fn with_default_ttl(mut self, ttl: Duration) -> Self {
        self.config.default_ttl = ttl;
        self
    }

    /// Size from which values are stored compressed.
    pub fn with_compression_threshold(mut self, bytes: usize) -> Self {
        self.config.compression_threshold = bytes;
        self
    }

    /// Largest value cached.
    pub fn with_max_value_size(mut self, bytes: usize) -> Self {
        self.config.max_value_size = bytes;
        self
    }

    /// The key namespace.
    pub fn with_namespace(mut self, namespace: impl Into<String>) -> Self {
        self.config.namespace = namespace.into();
        self
    }

    /// Adds the Redis L2.
    pub fn with_l2_cache(mut self, redis: RedisConfig) -> Self {
        self.config.redis = Some(redis);
        self
    }

    /// The configuration.
    pub fn build(self) -> CacheConfig {
        self.config
    }
}
