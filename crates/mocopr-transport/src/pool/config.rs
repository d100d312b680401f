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
    /// Most connections open at once (at least 1).
    pub fn max_connections(mut self, max: usize) -> Self {
        self.config.max_connections = max.max(1);
        self
    }

    /// Idle connections kept open ahead of demand (at most `max_connections`).
    pub fn min_idle(mut self, min: usize) -> Self {
        self.config.min_idle = min;
        self
    }

    /// Longest wait for a connection.
    pub fn connection_timeout(mut self, timeout: Duration) -> Self {
        self.config.connection_timeout = timeout;
        self
    }

    /// Idle time after which a connection is closed.
    pub fn idle_timeout(mut self, timeout: Duration) -> Self {
        self.config.idle_timeout = timeout;
        self
    }

    /// Time between health checks of idle connections.
    pub fn health_check_interval(mut self, interval: Duration) -> Self {
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
