//! [`EndpointConfig`] (what the Streamable HTTP endpoint accepts) and [`ListenerConfig`] (how
//! the HTTP listener treats connections), each made by its builder.

use std::time::Duration;

/// Host names accepted by default: the loopback ones, so a page on another site cannot reach a
/// local server through DNS rebinding.
pub const LOOPBACK_HOSTS: [&str; 3] = ["localhost", "127.0.0.1", "[::1]"];

/// Which `Origin` a request may carry (a request without one, from a non-browser client, is
/// not checked). The spec requires the check; only [`AllowedOrigins::Any`] switches it off.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AllowedOrigins {
    /// Pages served from one of the endpoint's allowed `Host` names (the [`LOOPBACK_HOSTS`]
    /// by default, and those alone when any `Host` is accepted), `http` or `https`, on any
    /// port: a web app on the server's own host may call it, a page from another site may not.
    AllowedHosts,
    /// Exactly these origins (`https://app.example.com`, `http://localhost:5173`), matched as
    /// RFC 6454 origins: scheme, host and port (the scheme's default when none is written).
    Exactly(Vec<String>),
    /// Any origin: only behind a proxy that checks it.
    Any,
}

/// What the Streamable HTTP endpoint accepts. Made with [`EndpointConfig::builder`]; the
/// defaults are those the builder's setters name.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct EndpointConfig {
    /// Largest request body; larger ones get `413`.
    pub max_body_size: usize,
    /// Most 2026-07-28 `subscriptions/listen` streams open at once; one more gets `503`. (A
    /// legacy session has at most one standalone GET stream: a newer one replaces it.)
    pub max_listen_streams: usize,
    /// Time allowed to receive a request's whole body once its headers arrived; a slower one
    /// gets `408` and its connection is closed.
    pub body_timeout: Duration,
    /// Accepted `Host` host names; `None` accepts any (only behind a proxy that checks them).
    pub allowed_hosts: Option<Vec<String>>,
    /// Accepted `Origin`s, a separate check from `Host`.
    pub allowed_origins: AllowedOrigins,
    /// Interval of SSE keep-alive comments.
    pub sse_keep_alive: Duration,
    /// The `retry` delay a resumable stream tells the client to wait before it reconnects.
    pub sse_retry: Duration,
    /// How long a 2025-11-25 session's POST stream may hold its connection before the server
    /// ends it, the request going on, for the client to poll (`None`: as long as it takes).
    pub sse_poll_after: Option<Duration>,
    /// Messages queued per response stream before the handler waits.
    pub stream_queue: usize,
    /// Most concurrent legacy sessions; `initialize` beyond it gets `503` (after sessions idle
    /// for longer than `session_idle_timeout` are dropped to make room).
    pub max_sessions: usize,
    /// Bytes all in-memory legacy sessions may hold together (handshakes as sent and
    /// subscriptions); an `initialize` that does not fit gets `503`, a subscription an error.
    pub max_session_bytes: usize,
    /// How long a legacy session may stay unused before it may be dropped to make room.
    pub session_idle_timeout: Duration,
}

impl Default for EndpointConfig {
    fn default() -> Self {
        EndpointConfig {
            max_body_size: 4 * 1024 * 1024,
            body_timeout: Duration::from_secs(30),
            max_listen_streams: 1024,
            allowed_hosts: Some(LOOPBACK_HOSTS.iter().map(|h| (*h).to_owned()).collect()),
            allowed_origins: AllowedOrigins::AllowedHosts,
            sse_keep_alive: Duration::from_secs(15),
            sse_retry: Duration::from_secs(1),
            sse_poll_after: None,
            stream_queue: 256,
            max_sessions: 10_000,
            max_session_bytes: super::sessions::DEFAULT_SESSION_MEMORY,
            session_idle_timeout: super::sessions::DEFAULT_SESSION_IDLE_TIMEOUT,
        }
    }
}

impl EndpointConfig {
    /// Starts from the defaults.
    ///
    /// ```
    /// use mocopr_transport::http::EndpointConfig;
    ///
    /// let config = EndpointConfig::builder()
    ///     .with_max_body_size(1024 * 1024)
    ///     .with_allowed_hosts(["localhost", "mcp.example.com"])
    ///     .build();
    /// assert_eq!(config.max_body_size, 1024 * 1024);
    /// ```
    pub fn builder() -> EndpointConfigBuilder {
        EndpointConfigBuilder { config: EndpointConfig::default() }
    }
}

/// Builds an [`EndpointConfig`].
#[derive(Debug, Clone)]
pub struct EndpointConfigBuilder {
    config: EndpointConfig,
}

impl EndpointConfigBuilder {
    /// Sets the largest request body (default 4 MiB).
    pub fn with_max_body_size(mut self, bytes: usize) -> Self {
        self.config.max_body_size = bytes;
        self
    }

    /// Sets the most `subscriptions/listen` streams open at once (default 1,024).
    pub fn with_max_listen_streams(mut self, streams: usize) -> Self {
        self.config.max_listen_streams = streams;
        self
    }

    /// Sets the time allowed to receive a request's whole body (default 30 s).
    pub fn with_body_timeout(mut self, timeout: Duration) -> Self {
        self.config.body_timeout = timeout;
        self
    }

    /// Accepts these `Host` names and no others (default: the [`LOOPBACK_HOSTS`]). The
    /// `Origin` check is separate: see [`with_allowed_origins`](Self::with_allowed_origins).
    pub fn with_allowed_hosts<I: IntoIterator<Item = S>, S: Into<String>>(mut self, hosts: I) -> Self {
        self.config.allowed_hosts = Some(hosts.into_iter().map(Into::into).collect());
        self
    }

    /// Accepts any `Host`. Only for servers behind a proxy that validates it; the `Origin`
    /// check stays on.
    pub fn with_any_host(mut self) -> Self {
        self.config.allowed_hosts = None;
        self
    }

    /// Accepts requests from pages of exactly these origins, each written
    /// `scheme://host[:port]` (default: pages served from an allowed host,
    /// [`AllowedOrigins::AllowedHosts`]); a request with any other `Origin` gets `403`. An
    /// entry that is not such an origin (a trailing `/`, no scheme) matches nothing and is
    /// logged when the endpoint is made.
    ///
    /// ```
    /// use mocopr_transport::http::{AllowedOrigins, EndpointConfig};
    ///
    /// let config = EndpointConfig::builder().with_allowed_origins(["https://app.example.com"]).build();
    /// assert_eq!(config.allowed_origins, AllowedOrigins::Exactly(vec!["https://app.example.com".into()]));
    /// ```
    pub fn with_allowed_origins<I: IntoIterator<Item = S>, S: Into<String>>(mut self, origins: I) -> Self {
        self.config.allowed_origins = AllowedOrigins::Exactly(origins.into_iter().map(Into::into).collect());
        self
    }

    /// Accepts any `Origin`: switches off the DNS-rebinding check the spec requires. Only
    /// behind a proxy that checks `Origin` itself.
    pub fn with_any_origin(mut self) -> Self {
        self.config.allowed_origins = AllowedOrigins::Any;
        self
    }

    /// Sets the interval of SSE keep-alive comments on long streams (default 15 s).
    pub fn with_sse_keep_alive(mut self, interval: Duration) -> Self {
        self.config.sse_keep_alive = interval;
        self
    }

    /// Sets the `retry` delay resumable streams tell the client to wait before it reconnects
    /// (default 1 s).
    pub fn with_sse_retry(mut self, retry: Duration) -> Self {
        self.config.sse_retry = retry;
        self
    }

    /// Sets how long a 2025-11-25 session's POST stream may hold its connection before the
    /// server ends it (sending `retry`), the request going on and its events recorded, for the
    /// client to resume with `GET` + `Last-Event-ID` (SSE polling; default `None`, never).
    pub fn with_sse_poll_after(mut self, after: Option<Duration>) -> Self {
        self.config.sse_poll_after = after;
        self
    }

    /// Sets how many messages are queued per response stream before the handler waits
    /// (default 256).
    pub fn with_stream_queue(mut self, messages: usize) -> Self {
        self.config.stream_queue = messages;
        self
    }

    /// Sets the most concurrent legacy sessions (default 10,000).
    pub fn with_max_sessions(mut self, sessions: usize) -> Self {
        self.config.max_sessions = sessions;
        self
    }

    /// Sets the bytes all in-memory legacy sessions may hold together (default 64 MiB).
    pub fn with_max_session_bytes(mut self, bytes: usize) -> Self {
        self.config.max_session_bytes = bytes;
        self
    }

    /// Sets how long a legacy session may stay unused before it may be dropped to make room
    /// (default 30 minutes).
    pub fn with_session_idle_timeout(mut self, timeout: Duration) -> Self {
        self.config.session_idle_timeout = timeout;
        self
    }

    /// The configuration.
    pub fn build(self) -> EndpointConfig {
        self.config
    }
}

/// How the HTTP listener treats connections. Made with [`ListenerConfig::builder`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ListenerConfig {
    /// Most concurrent connections; one more is answered `503` and closed.
    pub max_connections: usize,
    /// Most concurrent connections from one IP address; one more is answered `503` and closed.
    pub max_connections_per_peer: usize,
    /// A connection whose peer takes no bytes of its answer for this long is closed (a client
    /// that stops reading cannot hold it); `None` waits forever.
    pub write_timeout: Option<Duration>,
    /// Time allowed to receive a request's headers before the connection is closed.
    pub header_timeout: Duration,
    /// A connection with no request in progress for this long is closed; `None` keeps idle
    /// connections open.
    pub connection_timeout: Option<Duration>,
    /// HTTP/1.1 keep-alive.
    pub keep_alive: bool,
    /// Most requests in progress at once on one HTTP/2 connection (HTTPS clients that chose
    /// HTTP/2); a client waits for a stream before sending more.
    pub max_concurrent_streams: u32,
    /// Disable Nagle's algorithm (lower latency for small responses).
    pub tcp_nodelay: bool,
    /// TCP keepalive probes; `None` disables them.
    pub tcp_keepalive: Option<Duration>,
    /// Responses larger than this many bytes are compressed (gzip, br or zstd, as the client's
    /// `Accept-Encoding` allows; never server-sent event streams or images); `None` never.
    pub compression_threshold: Option<u16>,
    /// After the shutdown signal, how long open connections may take to finish the requests
    /// and streams they have in progress before the listener returns anyway.
    pub shutdown_grace: Duration,
    /// How many connections are open (kept by the listener; clones share it).
    open_connections: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl Default for ListenerConfig {
    fn default() -> Self {
        ListenerConfig {
            max_connections: 4_096,
            max_connections_per_peer: 256,
            write_timeout: Some(Duration::from_secs(30)),
            header_timeout: Duration::from_secs(30),
            connection_timeout: Some(Duration::from_secs(120)),
            keep_alive: true,
            max_concurrent_streams: 128,
            tcp_nodelay: true,
            tcp_keepalive: Some(Duration::from_secs(60)),
            compression_threshold: Some(1024),
            shutdown_grace: Duration::from_secs(30),
            open_connections: std::sync::Arc::default(),
        }
    }
}

impl ListenerConfig {
    /// Starts from the defaults.
    ///
    /// ```
    /// use std::time::Duration;
    /// use mocopr_transport::http::ListenerConfig;
    ///
    /// let config = ListenerConfig::builder()
    ///     .with_max_connections(10_000)
    ///     .with_connection_timeout(Some(Duration::from_secs(30)))
    ///     .with_tcp_nodelay(true)
    ///     .build();
    /// assert_eq!(config.max_connections, 10_000);
    /// ```
    pub fn builder() -> ListenerConfigBuilder {
        ListenerConfigBuilder { config: ListenerConfig::default() }
    }

    /// A handle on the number of connections the listener serving with this configuration has
    /// open (e.g. for a metrics gauge).
    pub fn open_connections(&self) -> std::sync::Arc<std::sync::atomic::AtomicUsize> {
        self.open_connections.clone()
    }
}

/// Builds a [`ListenerConfig`].
#[derive(Debug, Clone)]
pub struct ListenerConfigBuilder {
    config: ListenerConfig,
}

impl ListenerConfigBuilder {
    /// Sets the most concurrent connections (default 4,096; at least 1).
    pub fn with_max_connections(mut self, connections: usize) -> Self {
        self.config.max_connections = connections.max(1);
        self
    }

    /// Sets the most concurrent connections from one IP address (default 256; at least 1).
    /// Behind a proxy every connection comes from the proxy: raise it to `max_connections`.
    pub fn with_max_connections_per_peer(mut self, connections: usize) -> Self {
        self.config.max_connections_per_peer = connections.max(1);
        self
    }

    /// Sets how long a connection may wait for its peer to take bytes of an answer before it
    /// is closed (default 30 s; `None` waits forever).
    pub fn with_write_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.config.write_timeout = timeout;
        self
    }

    /// Sets the time allowed to receive a request's headers (default 30 s).
    pub fn with_header_timeout(mut self, timeout: Duration) -> Self {
        self.config.header_timeout = timeout;
        self
    }

    /// Sets how long a connection may stay open with no request in progress (default 120 s;
    /// `None` keeps idle connections open). A request in progress, or a response still being
    /// sent (an SSE stream), keeps its connection open.
    pub fn with_connection_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.config.connection_timeout = timeout;
        self
    }

    /// Enables or disables HTTP/1.1 keep-alive (default on).
    pub fn with_keep_alive(mut self, keep_alive: bool) -> Self {
        self.config.keep_alive = keep_alive;
        self
    }

    /// Sets the most requests in progress at once on one HTTP/2 connection (default 128; at
    /// least 1).
    pub fn with_max_concurrent_streams(mut self, streams: u32) -> Self {
        self.config.max_concurrent_streams = streams.max(1);
        self
    }

    /// Enables or disables `TCP_NODELAY` (default on).
    pub fn with_tcp_nodelay(mut self, nodelay: bool) -> Self {
        self.config.tcp_nodelay = nodelay;
        self
    }

    /// Sets the TCP keepalive probe interval (default 60 s; `None` disables probes).
    pub fn with_tcp_keepalive(mut self, interval: Option<Duration>) -> Self {
        self.config.tcp_keepalive = interval;
        self
    }

    /// Sets the size above which responses are compressed when the client accepts it (gzip,
    /// br or zstd by `Accept-Encoding`; default 1 KiB; `None` never compresses). Server-sent
    /// event streams are never compressed, so their events are not held back.
    pub fn with_compression_threshold(mut self, bytes: Option<u16>) -> Self {
        self.config.compression_threshold = bytes;
        self
    }

    /// Sets how long, after the shutdown signal, connections may take to finish what they have
    /// in progress (default 30 s). Idle connections close at once, and so do the endpoint's
    /// never-ending streams (legacy GET streams, `subscriptions/listen`); whatever is still in
    /// progress when the grace is over is cut and its connection closed before the listener
    /// returns.
    pub fn with_shutdown_grace(mut self, grace: Duration) -> Self {
        self.config.shutdown_grace = grace;
        self
    }

    /// The configuration.
    pub fn build(self) -> ListenerConfig {
        self.config
    }
}
