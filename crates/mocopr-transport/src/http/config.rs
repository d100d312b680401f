//! [`HttpConfig`] (what the MCP endpoint accepts) and [`ServerConfig`] (how the listener
//! treats connections).

use std::time::Duration;

/// Default largest request body: 4 MiB.
pub const DEFAULT_MAX_BODY_SIZE: usize = 4 * 1024 * 1024;
/// Default interval of SSE keep-alive comments on long streams.
pub const DEFAULT_SSE_KEEP_ALIVE: Duration = Duration::from_secs(15);
/// Default bound on messages queued for one response stream.
pub const DEFAULT_STREAM_QUEUE: usize = 256;
/// Default most concurrent legacy sessions.
pub const DEFAULT_MAX_SESSIONS: usize = 10_000;
/// Default most concurrent connections.
pub const DEFAULT_MAX_CONNECTIONS: usize = 4_096;
/// Default time allowed to receive a request's headers.
pub const DEFAULT_HEADER_TIMEOUT: Duration = Duration::from_secs(30);
/// Default TCP keepalive probe interval.
pub const DEFAULT_TCP_KEEPALIVE: Duration = Duration::from_secs(60);

/// Host names accepted by default: the loopback ones, so a page on another site cannot reach a
/// local server through DNS rebinding.
pub const LOOPBACK_HOSTS: [&str; 3] = ["localhost", "127.0.0.1", "[::1]"];

/// What the Streamable HTTP endpoint accepts.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct HttpConfig {
    /// Largest request body; larger ones get `413`.
    pub max_body_size: usize,
    /// Accepted `Host` (and `Origin`) host names; `None` accepts any (only behind a proxy that
    /// checks them). Default: [`LOOPBACK_HOSTS`].
    pub allowed_hosts: Option<Vec<String>>,
    /// Interval of SSE keep-alive comments.
    pub sse_keep_alive: Duration,
    /// Messages queued per response stream before the handler waits.
    pub stream_queue: usize,
    /// Most concurrent legacy sessions; `initialize` beyond it gets `503` (after sessions idle
    /// for longer than `session_idle_timeout` are dropped to make room).
    pub max_sessions: usize,
    /// How long a legacy session may stay unused before it may be dropped to make room.
    pub session_idle_timeout: Duration,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            max_body_size: DEFAULT_MAX_BODY_SIZE,
            allowed_hosts: Some(LOOPBACK_HOSTS.iter().map(|h| (*h).to_owned()).collect()),
            sse_keep_alive: DEFAULT_SSE_KEEP_ALIVE,
            stream_queue: DEFAULT_STREAM_QUEUE,
            max_sessions: DEFAULT_MAX_SESSIONS,
            session_idle_timeout: super::sessions::DEFAULT_SESSION_IDLE_TIMEOUT,
        }
    }
}

impl HttpConfig {
    /// Sets the body limit.
    pub fn with_max_body_size(mut self, bytes: usize) -> Self {
        self.max_body_size = bytes;
        self
    }

    /// Accepts these host names (plus nothing else).
    pub fn with_allowed_hosts<I: IntoIterator<Item = S>, S: Into<String>>(mut self, hosts: I) -> Self {
        self.allowed_hosts = Some(hosts.into_iter().map(Into::into).collect());
        self
    }

    /// Accepts any `Host` and `Origin`. Only for servers behind a proxy that validates them.
    pub fn allow_any_host(mut self) -> Self {
        self.allowed_hosts = None;
        self
    }

    /// Sets the session bound.
    pub fn with_max_sessions(mut self, sessions: usize) -> Self {
        self.max_sessions = sessions;
        self
    }
}

/// How the listener treats connections.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ServerConfig {
    /// Most concurrent connections; further ones wait in the accept queue.
    pub max_connections: usize,
    /// Time allowed to receive a request's headers before the connection is closed.
    pub header_timeout: Duration,
    /// HTTP/1.1 keep-alive.
    pub keep_alive: bool,
    /// Disable Nagle's algorithm (lower latency for small responses).
    pub tcp_nodelay: bool,
    /// TCP keepalive probes; `None` disables them.
    pub tcp_keepalive: Option<Duration>,
    /// How many connections are open (kept by the listener; clones share it).
    open_connections: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            max_connections: DEFAULT_MAX_CONNECTIONS,
            header_timeout: DEFAULT_HEADER_TIMEOUT,
            keep_alive: true,
            tcp_nodelay: true,
            tcp_keepalive: Some(DEFAULT_TCP_KEEPALIVE),
            open_connections: std::sync::Arc::default(),
        }
    }
}

impl ServerConfig {
    /// Sets the connection bound.
    pub fn with_max_connections(mut self, connections: usize) -> Self {
        self.max_connections = connections;
        self
    }

    /// Sets the header timeout.
    pub fn with_header_timeout(mut self, timeout: Duration) -> Self {
        self.header_timeout = timeout;
        self
    }

    /// Enables or disables keep-alive.
    pub fn with_keep_alive(mut self, keep_alive: bool) -> Self {
        self.keep_alive = keep_alive;
        self
    }

    /// Enables or disables `TCP_NODELAY`.
    pub fn with_tcp_nodelay(mut self, nodelay: bool) -> Self {
        self.tcp_nodelay = nodelay;
        self
    }

    /// Sets TCP keepalive.
    pub fn with_tcp_keepalive(mut self, interval: Option<Duration>) -> Self {
        self.tcp_keepalive = interval;
        self
    }

    /// A handle on the number of connections the listener serving with this configuration has
    /// open (e.g. for a metrics gauge).
    pub fn open_connections(&self) -> std::sync::Arc<std::sync::atomic::AtomicUsize> {
        self.open_connections.clone()
    }
}
