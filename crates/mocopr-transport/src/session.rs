//! Legacy session state: what `initialize` established for one stdio process or one HTTP
//! session. Modern requests never read it.

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use mocopr_core::types::{ClientCapabilities, Implementation, LoggingLevel};
use mocopr_core::{ErrorObject, ProtocolVersion, RequestId};
use serde_json::Value;
use tokio::sync::oneshot;

/// Most server-to-client requests awaiting an answer in one session.
pub const MAX_PENDING_REQUESTS: usize = 1024;

/// The answer a client gives to a server-to-client request.
pub type PeerAnswer = Result<Value, ErrorObject>;

/// One legacy session. Shared by the connection and every request it carries.
#[derive(Debug, Default)]
pub struct Session {
    state: Mutex<Option<SessionState>>,
    pending: Mutex<HashMap<RequestId, oneshot::Sender<PeerAnswer>>>,
    next_id: AtomicU64,
    /// Bumped on every change of `state`, so a store knows when to save it.
    revision: AtomicU64,
}

/// What the legacy handshake negotiated.
#[derive(Debug, Clone, PartialEq)]
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
    /// URIs subscribed with `resources/subscribe`; shared, so reading the state does not copy
    /// them (change it with `Arc::make_mut`).
    pub subscriptions: Arc<BTreeSet<String>>,
}

impl SessionState {
    /// Whether this session's standalone stream carries `message` (a change notification):
    /// list changes once initialized, resource updates for the URIs (or URI prefixes) it
    /// subscribed to.
    pub fn wants(&self, message: &[u8]) -> bool {
        #[derive(serde::Deserialize)]
        struct Notification {
            method: String,
            #[serde(default)]
            params: Option<UpdatedParams>,
        }
        #[derive(serde::Deserialize)]
        struct UpdatedParams {
            uri: Option<String>,
        }
        if !self.initialized {
            return false;
        }
        let Ok(notification) = serde_json::from_slice::<Notification>(message) else { return false };
        match notification.method.as_str() {
            "notifications/resources/updated" => {
                let uri = notification.params.and_then(|p| p.uri).unwrap_or_default();
                self.wants_change(Some(&uri))
            }
            _ => true,
        }
    }

    /// [`wants`](Self::wants) for a change not serialized yet: a list change (`None`) once
    /// initialized, an update of `resource` when it is under a subscribed URI.
    pub fn wants_change(&self, resource: Option<&str>) -> bool {
        self.initialized
            && resource.is_none_or(|uri| self.subscriptions.iter().any(|sub| uri.starts_with(sub.as_str())))
    }

    /// The state right after a successful `initialize`.
    pub fn new(version: ProtocolVersion, capabilities: Arc<ClientCapabilities>, client_info: Implementation) -> Self {
        SessionState {
            version,
            capabilities,
            client_info,
            log_level: None,
            initialized: false,
            subscriptions: Arc::default(),
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
        self.revision.fetch_add(1, Ordering::Release);
        true
    }

    /// Applies `change` to the state, when there is one.
    pub fn update(&self, change: impl FnOnce(&mut SessionState)) {
        if let Some(state) = self.lock().as_mut() {
            change(state);
            self.revision.fetch_add(1, Ordering::Release);
        }
    }

    /// Replaces the state with one saved elsewhere (another process changed the session).
    pub fn replace_state(&self, state: SessionState) {
        *self.lock() = Some(state);
    }

    /// A number that changes whenever [`begin`](Self::begin) or [`update`](Self::update)
    /// changes the state.
    pub fn revision(&self) -> u64 {
        self.revision.load(Ordering::Acquire)
    }

    /// Registers a server-to-client request; returns its id and the receiver of its answer, or
    /// `None` when too many are already waiting.
    pub fn register_request(&self) -> Option<(RequestId, oneshot::Receiver<PeerAnswer>)> {
        let mut pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
        if pending.len() >= MAX_PENDING_REQUESTS {
            return None;
        }
        let id = RequestId::from(format!("mocopr-{}", self.next_id.fetch_add(1, Ordering::Relaxed)));
        let (tx, rx) = oneshot::channel();
        pending.insert(id.clone(), tx);
        Some((id, rx))
    }

    /// Whether a server-to-client request is waiting for its answer.
    pub fn has_pending_requests(&self) -> bool {
        !self.pending.lock().unwrap_or_else(PoisonError::into_inner).is_empty()
    }

    /// Delivers the client's answer to request `id`; `false` when nothing waits for it.
    pub fn complete_request(&self, id: &RequestId, answer: PeerAnswer) -> bool {
        let sender = self.pending.lock().unwrap_or_else(PoisonError::into_inner).remove(id);
        sender.is_some_and(|tx| tx.send(answer).is_ok())
    }

    /// Forgets request `id` (timed out or cancelled).
    pub fn forget_request(&self, id: &RequestId) {
        self.pending.lock().unwrap_or_else(PoisonError::into_inner).remove(id);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<SessionState>> {
        // The state is plain data: a panic elsewhere cannot leave it half-written.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
