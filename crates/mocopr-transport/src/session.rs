//! Legacy session state: what `initialize` established for one stdio process or one HTTP
//! session. Modern requests never read it.

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use mocopr_core::types::{ClientCapabilities, Implementation, LoggingLevel};
use mocopr_core::{ErrorObject, ProtocolVersion, RequestId};
use serde_json::Value;
use tokio::sync::oneshot;

/// Most server-to-client requests awaiting an answer in one session.
pub const MAX_PENDING_REQUESTS: usize = 1024;

/// The answer a client gives to a server-to-client request.
pub type PeerAnswer = Result<Value, ErrorObject>;

/// Bytes a subscription is counted at beyond its URI (the set's node and the string's header).
const SUBSCRIPTION_OVERHEAD: usize = 64;

/// Bytes a session is counted at beyond its handshake and subscriptions.
const SESSION_OVERHEAD: usize = 512;

/// A byte budget shared by the sessions a store keeps in this process's memory: each session
/// counts what it holds (its handshake as sent, its subscriptions, a fixed overhead) for as
/// long as it lives, so many sessions cannot add up past the budget however small each is.
///
/// ```
/// use std::sync::Arc;
/// use mocopr_transport::session::{Session, SessionMemory};
///
/// let memory = SessionMemory::new(64 * 1024 * 1024);
/// let session = Arc::new(Session::new());
/// assert!(session.attach_memory(&memory));
/// assert!(memory.used() > 0);
/// drop(session);
/// assert_eq!(memory.used(), 0);
/// ```
#[derive(Debug)]
pub struct SessionMemory {
    max: usize,
    used: AtomicUsize,
}

impl SessionMemory {
    /// A budget of `max` bytes.
    pub fn new(max: usize) -> Arc<Self> {
        Arc::new(SessionMemory { max, used: AtomicUsize::new(0) })
    }

    /// Bytes the sessions count now.
    pub fn used(&self) -> usize {
        self.used.load(Ordering::Relaxed)
    }

    /// The budget.
    pub fn max(&self) -> usize {
        self.max
    }

    /// Counts `bytes` more if they fit.
    fn try_add(&self, bytes: usize) -> bool {
        self.used
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |used| {
                used.checked_add(bytes).filter(|total| *total <= self.max)
            })
            .is_ok()
    }

    fn fits(&self, bytes: usize) -> bool {
        self.used().saturating_add(bytes) <= self.max
    }
}

/// One legacy session. Shared by the connection and every request it carries.
#[derive(Debug, Default)]
pub struct Session {
    state: Mutex<Option<SessionState>>,
    pending: Mutex<HashMap<RequestId, oneshot::Sender<PeerAnswer>>>,
    next_id: AtomicU64,
    /// Bumped on every change of `state`, so a store knows when to save it.
    revision: AtomicU64,
    /// The budget this session counts against, once a store attached one.
    memory: OnceLock<Arc<SessionMemory>>,
    /// What this session counts now; only changed with `state` locked.
    counted: AtomicUsize,
    /// The subject of the caller that opens the session, given to its state at `initialize`.
    opener: Option<String>,
    /// Cancelled when the session's connection is gone (see [`Session::end`]).
    ended: tokio_util::sync::CancellationToken,
}

impl Drop for Session {
    fn drop(&mut self) {
        if let Some(memory) = self.memory.get() {
            memory.used.fetch_sub(*self.counted.get_mut(), Ordering::AcqRel);
        }
    }
}

/// Bytes `value` takes as JSON (what a client sent is what the session holds).
fn json_size<T: serde::Serialize + ?Sized>(value: &T) -> usize {
    struct Count(usize);
    impl std::io::Write for Count {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 += buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut count = Count(0);
    let _ = serde_json::to_writer(&mut count, value);
    count.0
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
    /// The subject of the [`Principal`](mocopr_core::principal::Principal) that opened the
    /// session (`None`: an anonymous caller). The session serves that subject only.
    pub owner: Option<String>,
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

    /// Bytes this state is counted at in a [`SessionMemory`]: the handshake as JSON, each
    /// subscribed URI with an overhead, and a fixed overhead.
    pub fn memory_size(&self) -> usize {
        let subscriptions: usize = self.subscriptions.iter().map(|uri| uri.len() + SUBSCRIPTION_OVERHEAD).sum();
        SESSION_OVERHEAD
            + json_size(&*self.capabilities)
            + json_size(&self.client_info)
            + self.owner.as_ref().map_or(0, String::len)
            + subscriptions
    }

    /// Whether a request of `principal` (`None`: anonymous) may use this session: only the
    /// caller that opened it may.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use mocopr_core::principal::Principal;
    /// use mocopr_core::types::Implementation;
    /// use mocopr_core::ProtocolVersion;
    /// use mocopr_transport::session::SessionState;
    ///
    /// let mut state = SessionState::new(ProtocolVersion::V2025_11_25, Arc::default(), Implementation::new("c", "1"));
    /// state.owner = Some("alice".into());
    /// assert!(state.serves(Some(&Principal::new("alice"))));
    /// assert!(!state.serves(Some(&Principal::new("mallory"))));
    /// assert!(!state.serves(None));
    /// ```
    pub fn serves(&self, principal: Option<&mocopr_core::principal::Principal>) -> bool {
        self.owner.as_deref() == principal.map(mocopr_core::principal::Principal::subject)
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
            owner: None,
        }
    }
}

impl Session {
    /// A session before `initialize`.
    pub fn new() -> Self {
        Session::default()
    }

    /// Says the session's connection is gone, so that what serves the session for the
    /// connection's life (a byte-stream connection's change forwarding) stops with it.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let session = mocopr_transport::Session::new();
    /// session.end();
    /// session.ended().await; // at once
    /// # }
    /// ```
    pub fn end(&self) {
        self.ended.cancel();
    }

    /// Resolves once [`end`](Session::end) was called.
    pub async fn ended(&self) {
        self.ended.cancelled().await;
    }

    /// The negotiated state, once `initialize` succeeded.
    pub fn state(&self) -> Option<SessionState> {
        self.lock().clone()
    }

    /// Whether a request of `principal` may use this session (see [`SessionState::serves`]); a
    /// session not yet initialized serves the caller that opened it.
    pub fn serves(&self, principal: Option<&mocopr_core::principal::Principal>) -> bool {
        match self.lock().as_ref() {
            Some(state) => state.serves(principal),
            // Before `initialize` completes the session belongs to whoever opened it.
            None => self.opener.as_deref() == principal.map(mocopr_core::principal::Principal::subject),
        }
    }

    /// A session opened by the caller whose principal's subject is `subject` (`None`:
    /// anonymous): its state, once `initialize` records it, names that owner.
    pub fn opened_by(subject: Option<String>) -> Self {
        Session {
            state: Mutex::default(),
            pending: Mutex::default(),
            next_id: AtomicU64::default(),
            revision: AtomicU64::default(),
            memory: OnceLock::new(),
            counted: AtomicUsize::default(),
            opener: subject,
            ended: tokio_util::sync::CancellationToken::new(),
        }
    }

    /// Records the handshake; `false` when the session was already initialized.
    pub fn begin(&self, mut state: SessionState) -> bool {
        let mut guard = self.lock();
        if guard.is_some() {
            return false;
        }
        // The transport knows who opens the session (the HTTP request's principal); the
        // session serves that caller only.
        if state.owner.is_none() {
            state.owner.clone_from(&self.opener);
        }
        self.recount(&state);
        *guard = Some(state);
        self.revision.fetch_add(1, Ordering::Release);
        true
    }

    /// Applies `change` to the state, when there is one.
    pub fn update(&self, change: impl FnOnce(&mut SessionState)) {
        if let Some(state) = self.lock().as_mut() {
            change(state);
            self.recount(state);
            self.revision.fetch_add(1, Ordering::Release);
        }
    }

    /// Replaces the state with one saved elsewhere (another process changed the session).
    pub fn replace_state(&self, state: SessionState) {
        let mut guard = self.lock();
        self.recount(&state);
        *guard = Some(state);
    }

    /// Makes this session count against `memory` from now on, until it is dropped; `false`
    /// (and nothing counted) when what it holds does not fit. A session counts against one
    /// budget: attaching another is refused.
    pub fn attach_memory(&self, memory: &Arc<SessionMemory>) -> bool {
        let guard = self.lock();
        if self.memory.get().is_some() {
            return false;
        }
        let size = guard.as_ref().map_or(SESSION_OVERHEAD, SessionState::memory_size);
        if !memory.try_add(size) {
            return false;
        }
        self.counted.store(size, Ordering::Relaxed);
        let _ = self.memory.set(memory.clone());
        true
    }

    /// Whether subscribing to `uri` fits in the budget this session counts against (always,
    /// without one).
    pub fn has_room_for_subscription(&self, uri: &str) -> bool {
        self.memory.get().is_none_or(|memory| memory.fits(uri.len() + SUBSCRIPTION_OVERHEAD))
    }

    /// Brings what this session counts in line with `state` (called with `state` locked).
    fn recount(&self, state: &SessionState) {
        let Some(memory) = self.memory.get() else { return };
        let size = state.memory_size();
        let before = self.counted.swap(size, Ordering::Relaxed);
        if size >= before {
            memory.used.fetch_add(size - before, Ordering::AcqRel);
        } else {
            memory.used.fetch_sub(before - size, Ordering::AcqRel);
        }
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
