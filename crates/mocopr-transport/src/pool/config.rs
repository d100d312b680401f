//! [`PoolConfig`]: the knobs of a [`ConnectionPool`](super::ConnectionPool).

use std::time::Duration;

/// How a [`ConnectionPool`](super::ConnectionPool) sizes, waits, ages and checks its connections.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct PoolConfig {
    /// Most connections open at once, busy and idle together.
    pub max_connections: usize,
    /// Idle connections the pool keeps open (it opens them ahead of demand, and the idle
    /// timeout never closes below this many).
    pub min_idle: usize,
    /// Longest a caller waits for a connection: for a free slot and for the connect itself.
    pub connection_timeout: Duration,
    /// An idle connection unused this long is closed.
    pub idle_timeout: Duration,
    /// How often idle connections are checked; a broken one is closed.
    pub health_check_interval: Duration,
}

impl Default for PoolConfig {
    fn default() -> Self {
        PoolConfig {
            max_connections: 32,
            min_idle: 0,
            connection_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(90),
            health_check_interval: Duration::from_secs(30),
        }
    }
}

impl PoolConfig {
    /// Starts from the defaults: 32 connections, none kept idle, 30 s to get one, 90 s idle
    /// timeout, a health check every 30 s.
    ///
    /// ```
    /// use std::time::Duration;
    /// use mocopr_transport::PoolConfig;
    ///
    /// let pool = PoolConfig::builder()
    ///     .with_max_connections(100)
    ///     .with_min_idle_connections(10)
    ///     .with_connection_timeout(Duration::from_secs(30))
    ///     .with_idle_timeout(Duration::from_secs(300))
    ///     .with_health_check_interval(Duration::from_secs(60))
    ///     .build();
    /// assert_eq!(pool.min_idle, 10);
    /// ```
    pub fn builder() -> PoolConfigBuilder {
        PoolConfigBuilder { config: PoolConfig::default() }
    }
}

/// Builds a [`PoolConfig`].
#[derive(Debug, Clone)]
pub struct PoolConfigBuilder {
    config: PoolConfig,
}

impl PoolConfigBuilder {
    /// Sets the most connections open at once (default 32; at least 1).
    pub fn with_max_connections(mut self, max: usize) -> Self {
        self.config.max_connections = max.max(1);
        self
    }

    /// Sets the idle connections kept open ahead of demand (default 0; at most `max_connections`).
    pub fn with_min_idle_connections(mut self, min: usize) -> Self {
        self.config.min_idle = min;
        self
    }

    /// Sets the longest wait for a connection (default 30 s).
    pub fn with_connection_timeout(mut self, timeout: Duration) -> Self {
        self.config.connection_timeout = timeout;
        self
    }

    /// Sets the idle time after which a connection is closed (default 90 s).
    pub fn with_idle_timeout(mut self, timeout: Duration) -> Self {
        self.config.idle_timeout = timeout;
        self
    }

    /// Sets the time between health checks of idle connections (default 30 s).
    pub fn with_health_check_interval(mut self, interval: Duration) -> Self {
        self.config.health_check_interval = interval;
        self
    }

    /// The configuration.
    pub fn build(self) -> PoolConfig {
        let mut config = self.config;
        config.min_idle = config.min_idle.min(config.max_connections);
        config
    }
}
