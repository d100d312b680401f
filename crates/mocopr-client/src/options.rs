//! [`CallOptions`]: per-call settings (a timeout of its own, a progress callback).

use std::sync::Arc;
use std::time::Duration;

use mocopr_core::types::ProgressNotificationParams;

use crate::routes::ProgressFn;

/// Settings for one call; the defaults are the client's.
#[derive(Clone, Default)]
#[non_exhaustive]
pub struct CallOptions {
    pub(crate) timeout: Option<Duration>,
    pub(crate) progress: Option<ProgressFn>,
}

impl std::fmt::Debug for CallOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallOptions")
            .field("timeout", &self.timeout)
            .field("progress", &self.progress.is_some())
            .finish()
    }
}

impl CallOptions {
    /// The client's defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// How long this call waits for its answer (each round of an MRTR exchange separately).
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Called with each `notifications/progress` the server sends for this call (the call
    /// carries a `progressToken` of its own).
    pub fn with_progress(mut self, callback: impl Fn(ProgressNotificationParams) + Send + Sync + 'static) -> Self {
        self.progress = Some(Arc::new(callback));
        self
    }
}
