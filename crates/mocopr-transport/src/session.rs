//! Legacy session state: what `initialize` established for one stdio process or one HTTP
//! session. Modern requests never read it.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex, PoisonError};

use mocopr_core::ProtocolVersion;
use mocopr_core::types::{ClientCapabilities, Implementation, LoggingLevel};

/// One legacy session. Shared by the connection and every request it carries.
#[derive(Debug, Default)]
pub struct Session {
    state: Mutex<Option<SessionState>>,
}

/// What the legacy handshake negotiated.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct SessionState {
    /// The revision agreed on.
    pub version: ProtocolVersion,
    /// The client's capabilities.
    pub capabilities: Arc<ClientCapabilities>,
    /// The client.
    pub client_info: Implementation,
    /// The level set by `logging/setLevel`.
    pub log_level: Option<LoggingLevel>,
    /// Whether `notifications/initialized` arrived.
    pub initialized: bool,
    /// URIs subscribed with `resources/subscribe`.
    pub subscriptions: BTreeSet<String>,
}

impl SessionState {
    /// The state right after a successful `initialize`.
    pub fn new(version: ProtocolVersion, capabilities: Arc<ClientCapabilities>, client_info: Implementation) -> Self {
        SessionState {
            version,
            capabilities,
            client_info,
            log_level: None,
            initialized: false,
            subscriptions: BTreeSet::new(),
        }
    }
}

impl Session {
    /// A session before `initialize`.
    pub fn new() -> Self {
        Session::default()
    }

    /// The negotiated state, once `initialize` succeeded.
    pub fn state(&self) -> Option<SessionState> {
        self.lock().clone()
    }

    /// Records the handshake; `false` when the session was already initialized.
    pub fn begin(&self, state: SessionState) -> bool {
        let mut guard = self.lock();
        if guard.is_some() {
            return false;
        }
        *guard = Some(state);
        true
    }

    /// Applies `change` to the state, when there is one.
    pub fn update(&self, change: impl FnOnce(&mut SessionState)) {
        if let Some(state) = self.lock().as_mut() {
            change(state);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<SessionState>> {
        // The state is plain data: a panic elsewhere cannot leave it half-written.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
