//! [`ServerLimits`]: what one client may make the server keep or work through, whatever the
//! transport. Each is checked before anything is stored.

/// Bounds on what a client's requests may make the server store or process. Made with
/// [`ServerLimits::builder`] and given to
/// [`McpServerBuilder::with_limits`](crate::McpServerBuilder::with_limits); the defaults are those
/// the builder's setters name, chosen for a public endpoint.
///
/// What a legacy session can hold is then at most `max_handshake_size` plus
/// `max_subscriptions × max_uri_length` (144 KiB by default).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ServerLimits {
    /// Largest `initialize` params (the client's capabilities and info, kept for the session's
    /// life), in bytes; larger ones get -32602.
    pub max_handshake_size: usize,
    /// Most URIs one legacy session may subscribe to; one more gets -32602.
    pub max_subscriptions: usize,
    /// Longest resource URI a request may name (`resources/read`, `resources/subscribe`,
    /// `resources/unsubscribe`), in bytes; longer ones get -32602.
    pub max_uri_length: usize,
    /// Most tasks kept at once (finished ones included); when full, the oldest finished task
    /// makes room, else a new one gets -32603.
    pub max_tasks: usize,
    /// Most tasks one caller (a principal's subject; anonymous callers share one count) may
    /// have at once, under the same rule.
    pub max_tasks_per_caller: usize,
    /// How long a task is kept after it is made (its `ttl`); one still running then is
    /// cancelled and its handler stopped.
    pub task_ttl: std::time::Duration,
}

impl Default for ServerLimits {
    fn default() -> Self {
        ServerLimits {
            max_handshake_size: 16 * 1024,
            max_subscriptions: 64,
            max_uri_length: 2048,
            max_tasks: 1000,
            max_tasks_per_caller: 100,
            task_ttl: std::time::Duration::from_secs(30 * 60),
        }
    }
}

impl ServerLimits {
    /// Starts from the defaults.
    ///
    /// ```
    /// use mocopr_server::{McpServer, ServerLimits};
    ///
    /// let limits = ServerLimits::builder().with_max_subscriptions(16).with_max_uri_length(1024).build();
    /// let server = McpServer::builder().with_limits(limits).build().expect("server");
    /// # let _ = server;
    /// ```
    pub fn builder() -> ServerLimitsBuilder {
        ServerLimitsBuilder { limits: ServerLimits::default() }
    }
}

/// Builds [`ServerLimits`].
#[derive(Debug, Clone)]
pub struct ServerLimitsBuilder {
    limits: ServerLimits,
}

impl ServerLimitsBuilder {
    /// Sets the largest `initialize` params, in bytes (default 16 KiB).
    pub fn with_max_handshake_size(mut self, bytes: usize) -> Self {
        self.limits.max_handshake_size = bytes;
        self
    }

    /// Sets how many URIs one legacy session may subscribe to (default 64).
    pub fn with_max_subscriptions(mut self, subscriptions: usize) -> Self {
        self.limits.max_subscriptions = subscriptions;
        self
    }

    /// Sets the longest resource URI a request may name, in bytes (default 2 KiB).
    pub fn with_max_uri_length(mut self, bytes: usize) -> Self {
        self.limits.max_uri_length = bytes;
        self
    }

    /// Sets the most tasks kept at once (default 1,000).
    pub fn with_max_tasks(mut self, tasks: usize) -> Self {
        self.limits.max_tasks = tasks;
        self
    }

    /// Sets the most tasks one caller may have at once (default 100).
    pub fn with_max_tasks_per_caller(mut self, tasks: usize) -> Self {
        self.limits.max_tasks_per_caller = tasks;
        self
    }

    /// Sets how long a task is kept after it is made (default 30 minutes).
    pub fn with_task_ttl(mut self, ttl: std::time::Duration) -> Self {
        self.limits.task_ttl = ttl;
        self
    }

    /// The limits.
    pub fn build(self) -> ServerLimits {
        self.limits
    }
}
