//! The Tokio runtime a server runs on, configured by one [`RuntimeConfig`](crate::runtime::RuntimeConfig) (worker threads,
//! blocking threads, stack size, how long idle blocking threads are kept).

use std::future::Future;
use std::time::Duration;

/// How the Tokio runtime is built. Made with [`RuntimeConfig::builder`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RuntimeConfig {
    /// Threads that run async tasks; `None` is one per core.
    pub worker_threads: Option<usize>,
    /// Most threads for blocking work (`spawn_blocking`, file I/O).
    pub max_blocking_threads: usize,
    /// Stack size of every runtime thread, in bytes; `None` is Tokio's (2 MiB).
    pub thread_stack_size: Option<usize>,
    /// How long an idle blocking thread is kept before it exits.
    pub thread_keep_alive: Duration,
    /// The name of the runtime's threads (seen in profiles and debuggers).
    pub thread_name: String,
}

impl Default for RuntimeConfig {
    fn default() -> Self {
        RuntimeConfig {
            worker_threads: None,
            max_blocking_threads: 512,
            thread_stack_size: None,
            thread_keep_alive: Duration::from_secs(10),
            thread_name: "mocopr-worker".into(),
        }
    }
}

/// A runtime setting that cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RuntimeConfigError {
    /// A count or size of zero.
    #[error("runtime setting `{setting}` must be greater than zero")]
    Zero {
        /// The setting.
        setting: &'static str,
    },
}

impl RuntimeConfig {
    /// Starts from the defaults: one worker per core, up to 512 blocking threads kept 10 s when
    /// idle, Tokio's stack size.
    ///
    /// ```
    /// use std::time::Duration;
    /// use mocopr::runtime::RuntimeConfig;
    ///
    /// let config = RuntimeConfig::builder()
    ///     .with_worker_threads(2)
    ///     .with_max_blocking_threads(64)
    ///     .with_thread_stack_size(2 * 1024 * 1024)
    ///     .with_thread_keep_alive(Duration::from_secs(10))
    ///     .build()
    ///     .unwrap();
    /// let answer = config.block_on(async { 6 * 7 }).unwrap();
    /// assert_eq!(answer, 42);
    /// ```
    pub fn builder() -> RuntimeConfigBuilder {
        RuntimeConfigBuilder { config: RuntimeConfig::default() }
    }

    /// The multi-threaded Tokio runtime this configuration describes (I/O and timers enabled).
    pub fn build_runtime(&self) -> std::io::Result<tokio::runtime::Runtime> {
        let mut builder = tokio::runtime::Builder::new_multi_thread();
        if let Some(threads) = self.worker_threads {
            builder.worker_threads(threads);
        }
        if let Some(bytes) = self.thread_stack_size {
            builder.thread_stack_size(bytes);
        }
        builder
            .max_blocking_threads(self.max_blocking_threads)
            .thread_keep_alive(self.thread_keep_alive)
            .thread_name(self.thread_name.clone())
            .enable_all()
            .build()
    }

    /// Builds the runtime and runs `future` on it to completion (what `#[tokio::main]` does,
    /// with these settings).
    pub fn block_on<F: Future>(&self, future: F) -> std::io::Result<F::Output> {
        Ok(self.build_runtime()?.block_on(future))
    }
}

/// Builds a [`RuntimeConfig`].
#[derive(Debug, Clone)]
pub struct RuntimeConfigBuilder {
    config: RuntimeConfig,
}

impl RuntimeConfigBuilder {
    /// Sets the threads that run async tasks (default: one per core).
    pub fn with_worker_threads(mut self, threads: usize) -> Self {
        self.config.worker_threads = Some(threads);
        self
    }

    /// Sets the most threads for blocking work (default 512).
    pub fn with_max_blocking_threads(mut self, threads: usize) -> Self {
        self.config.max_blocking_threads = threads;
        self
    }

    /// Sets the stack size of every runtime thread, in bytes (default: Tokio's, 2 MiB).
    pub fn with_thread_stack_size(mut self, bytes: usize) -> Self {
        self.config.thread_stack_size = Some(bytes);
        self
    }

    /// Sets how long an idle blocking thread is kept (default 10 s).
    pub fn with_thread_keep_alive(mut self, keep_alive: Duration) -> Self {
        self.config.thread_keep_alive = keep_alive;
        self
    }

    /// Sets the name of the runtime's threads (default `mocopr-worker`).
    pub fn with_thread_name(mut self, name: impl Into<String>) -> Self {
        self.config.thread_name = name.into();
        self
    }

    /// The configuration, or which setting is zero.
    pub fn build(self) -> Result<RuntimeConfig, RuntimeConfigError> {
        let config = self.config;
        if config.worker_threads == Some(0) {
            return Err(RuntimeConfigError::Zero { setting: "worker_threads" });
        }
        if config.max_blocking_threads == 0 {
            return Err(RuntimeConfigError::Zero { setting: "max_blocking_threads" });
        }
        if config.thread_stack_size == Some(0) {
            return Err(RuntimeConfigError::Zero { setting: "thread_stack_size" });
        }
        Ok(config)
    }
}
