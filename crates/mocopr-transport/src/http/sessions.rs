//! Legacy HTTP sessions (`Mcp-Session-Id`) behind the [`SessionStore`] trait, with a bounded
//! in-memory implementation. Modern requests never touch a store.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use futures_util::future::BoxFuture;

use crate::session::{Session, SessionMemory, SessionState};

/// A session store could not answer (e.g. its database is unreachable): the endpoint answers
/// 503, and the client keeps its session.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct SessionStoreError(String);

impl SessionStoreError {
    /// An error with this message.
    pub fn new(message: impl Into<String>) -> Self {
        SessionStoreError(message.into())
    }
}

/// A store of legacy sessions by id.
///
/// The endpoint calls [`save`](Self::save) after every request that changed a session's state
/// (the handshake, `notifications/initialized`, `logging/setLevel`, subscriptions), before it
/// answers, so a store shared by several processes hands the next request the state it left.
pub trait SessionStore: Send + Sync + 'static {
    /// Stores `session` under a fresh, unguessable id (visible ASCII), or `None` when full.
    fn create(&self, session: Arc<Session>) -> BoxFuture<'_, Option<String>>;
    /// The session with this id; `Ok(None)` when there is none (it ended, or never was).
    fn get<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<Arc<Session>>, SessionStoreError>>;
    /// Ends a session; `false` when it did not exist.
    fn remove<'a>(&'a self, id: &'a str) -> BoxFuture<'a, bool>;
    /// How many sessions are open, when the store knows (for a metrics gauge).
    fn open_sessions(&self) -> Option<usize> {
        None
    }
    /// Keeps the session's changed state (`before` is what it was before the request).
    /// Stores holding the session object itself (in memory) have nothing to do.
    fn save<'a>(&'a self, id: &'a str, session: &'a Session, before: &'a SessionState) -> BoxFuture<'a, ()> {
        let _ = (id, session, before);
        Box::pin(std::future::ready(()))
    }
}

/// Default time a session may stay unused before it may be dropped to make room.
pub(crate) const DEFAULT_SESSION_IDLE_TIMEOUT: Duration = Duration::from_secs(30 * 60);

/// Default bytes all sessions in one process's memory may hold together.
pub(crate) const DEFAULT_SESSION_MEMORY: usize = 64 * 1024 * 1024;

/// Sessions in this process's memory, at most `capacity` at once and together holding at most
/// a byte budget ([`with_max_bytes`](Self::with_max_bytes)). When full, sessions unused for
/// longer than the idle timeout are dropped to make room, so abandoned sessions (clients that
/// never send DELETE) cannot lock new clients out.
#[derive(Debug)]
pub struct InMemorySessionStore {
    sessions: Mutex<HashMap<String, (Arc<Session>, Instant)>>,
    capacity: usize,
    memory: Arc<SessionMemory>,
    idle_timeout: Duration,
}

impl InMemorySessionStore {
    /// A store holding at most `capacity` sessions, 64 MiB together.
    ///
    /// ```
    /// use mocopr_transport::http::InMemorySessionStore;
    ///
    /// let store = InMemorySessionStore::new(10_000).with_max_bytes(16 * 1024 * 1024);
    /// assert!(store.is_empty());
    /// ```
    pub fn new(capacity: usize) -> Self {
        InMemorySessionStore {
            sessions: Mutex::new(HashMap::new()),
            capacity,
            memory: SessionMemory::new(DEFAULT_SESSION_MEMORY),
            idle_timeout: DEFAULT_SESSION_IDLE_TIMEOUT,
        }
    }

    /// Sets the bytes all sessions may hold together (default 64 MiB): their handshakes as
    /// sent and their subscriptions. A new session that does not fit gets `503`, a subscription
    /// that does not fit an error; what sessions already hold is kept.
    pub fn with_max_bytes(mut self, bytes: usize) -> Self {
        self.memory = SessionMemory::new(bytes);
        self
    }

    /// Bytes the open sessions hold, as counted against [`with_max_bytes`](Self::with_max_bytes).
    pub fn used_bytes(&self) -> usize {
        self.memory.used()
    }

    /// Sets the idle timeout.
    pub fn with_idle_timeout(mut self, idle_timeout: Duration) -> Self {
        self.idle_timeout = idle_timeout;
        self
    }

    /// How many sessions are open.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether no session is open.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (Arc<Session>, Instant)>> {
        self.sessions.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A fresh session id: 128 random bits as 32 hex digits, or `None` when the OS random source
/// fails (a guessable id would let anyone into the session, so there is no fallback).
///
/// ```
/// let id = mocopr_transport::http::new_session_id().expect("the OS random source works");
/// assert_eq!(id.len(), 32);
/// ```
pub fn new_session_id() -> Option<String> {
    let mut bytes = [0u8; 16];
    if let Err(error) = getrandom::fill(&mut bytes) {
        tracing::error!(%error, "no session id: the OS random source failed");
        return None;
    }
    Some(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

impl SessionStore for InMemorySessionStore {
    fn create(&self, session: Arc<Session>) -> BoxFuture<'_, Option<String>> {
        let mut sessions = self.lock();
        let admit = |sessions: &HashMap<_, _>| {
            if sessions.len() >= self.capacity {
                return Err("max_sessions");
            }
            if !session.attach_memory(&self.memory) {
                return Err("max_session_bytes");
            }
            Ok(())
        };
        let mut admitted = admit(&sessions);
        if admitted.is_err() {
            let now = Instant::now();
            sessions.retain(|_, (_, used)| now.duration_since(*used) < self.idle_timeout);
            admitted = admit(&sessions);
        }
        if let Err(bound) = admitted {
            drop(sessions);
            crate::limit_reached(bound);
            return Box::pin(std::future::ready(None));
        }
        let result = new_session_id().inspect(|id| {
            sessions.insert(id.clone(), (session.clone(), Instant::now()));
        });
        Box::pin(std::future::ready(result))
    }

    fn get<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<Arc<Session>>, SessionStoreError>> {
        let session = self.lock().get_mut(id).map(|(session, used)| {
            *used = Instant::now();
            session.clone()
        });
        Box::pin(std::future::ready(Ok(session)))
    }

    fn remove<'a>(&'a self, id: &'a str) -> BoxFuture<'a, bool> {
        Box::pin(std::future::ready(self.lock().remove(id).is_some()))
    }

    fn open_sessions(&self) -> Option<usize> {
        Some(self.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn sessions_are_bounded_and_ids_are_visible_ascii() {
        let store = InMemorySessionStore::new(2);
        let a = store.create(Arc::new(Session::new())).await.unwrap();
        let _b = store.create(Arc::new(Session::new())).await.unwrap();
        assert!(store.create(Arc::new(Session::new())).await.is_none(), "full");
        assert!(a.bytes().all(|c| (0x21..=0x7e).contains(&c)) && a.len() == 32);
        assert!(store.get(&a).await.unwrap().is_some());
        assert!(store.remove(&a).await);
        assert!(store.get(&a).await.unwrap().is_none());
        assert!(!store.remove(&a).await);
    }

    #[tokio::test]
    async fn sessions_count_their_bytes_against_the_budget() {
        use mocopr_core::ProtocolVersion;
        use mocopr_core::types::{ClientCapabilities, Implementation};
        let initialized = |name: &str| {
            let session = Session::new();
            let info = Implementation::new(name, "1");
            session.begin(SessionState::new(
                ProtocolVersion::V2025_06_18,
                Arc::new(ClientCapabilities::default()),
                info,
            ));
            Arc::new(session)
        };
        let store = InMemorySessionStore::new(100).with_max_bytes(4096);
        let small = store.create(initialized("small")).await.expect("fits");
        let after_one = store.used_bytes();
        assert!(after_one > 512 && after_one < 1024, "{after_one}");
        assert!(store.create(initialized(&"x".repeat(4096))).await.is_none(), "a handshake over the budget");
        assert_eq!(store.used_bytes(), after_one, "a refused session counts nothing");
        let session = store.get(&small).await.unwrap().unwrap();
        assert!(session.has_room_for_subscription(&"u".repeat(1000)));
        assert!(!session.has_room_for_subscription(&"u".repeat(4000)));
        session.update(|s| {
            Arc::make_mut(&mut s.subscriptions).insert("u".repeat(1000));
        });
        assert_eq!(store.used_bytes(), after_one + 1000 + 64);
        session.update(|s| Arc::make_mut(&mut s.subscriptions).clear());
        assert_eq!(store.used_bytes(), after_one);
        drop(session);
        assert!(store.remove(&small).await);
        assert_eq!(store.used_bytes(), 0, "an ended session gives its bytes back");
    }

    #[tokio::test]
    async fn idle_sessions_make_room_when_the_store_is_full() {
        let store = InMemorySessionStore::new(1).with_idle_timeout(Duration::from_millis(20));
        let old = store.create(Arc::new(Session::new())).await.unwrap();
        assert!(store.create(Arc::new(Session::new())).await.is_none(), "full, and the session is fresh");
        tokio::time::sleep(Duration::from_millis(40)).await;
        let new = store.create(Arc::new(Session::new())).await.expect("the idle session was dropped");
        assert!(store.get(&old).await.unwrap().is_none());
        assert!(store.get(&new).await.unwrap().is_some());
    }
}
