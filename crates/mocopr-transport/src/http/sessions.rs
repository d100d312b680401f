//! Legacy HTTP sessions (`Mcp-Session-Id`) behind the [`SessionStore`] trait, with a bounded
//! in-memory implementation. Modern requests never touch a store.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use futures_util::future::BoxFuture;

use crate::session::Session;

/// A store of legacy sessions by id.
pub trait SessionStore: Send + Sync + 'static {
    /// Stores `session` under a fresh, unguessable id (visible ASCII), or `None` when full.
    fn create(&self, session: Arc<Session>) -> BoxFuture<'_, Option<String>>;
    /// The session with this id.
    fn get<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Option<Arc<Session>>>;
    /// Ends a session; `false` when it did not exist.
    fn remove<'a>(&'a self, id: &'a str) -> BoxFuture<'a, bool>;
}

/// Sessions in this process's memory, at most `capacity` at once.
#[derive(Debug)]
pub struct InMemorySessionStore {
    sessions: Mutex<HashMap<String, Arc<Session>>>,
    capacity: usize,
}

impl InMemorySessionStore {
    /// A store holding at most `capacity` sessions.
    pub fn new(capacity: usize) -> Self {
        InMemorySessionStore { sessions: Mutex::new(HashMap::new()), capacity }
    }

    /// How many sessions are open.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether no session is open.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<Session>>> {
        self.sessions.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A fresh session id: 128 random bits as 32 hex digits.
pub fn new_session_id() -> String {
    let mut bytes = [0u8; 16];
    // The OS random source does not fail on supported platforms; a zeroed id would still be
    // unique enough for one process, and is never reached in practice.
    let _ = getrandom::fill(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl SessionStore for InMemorySessionStore {
    fn create(&self, session: Arc<Session>) -> BoxFuture<'_, Option<String>> {
        let mut sessions = self.lock();
        let result = (sessions.len() < self.capacity).then(|| {
            let id = new_session_id();
            sessions.insert(id.clone(), session);
            id
        });
        Box::pin(std::future::ready(result))
    }

    fn get<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Option<Arc<Session>>> {
        Box::pin(std::future::ready(self.lock().get(id).cloned()))
    }

    fn remove<'a>(&'a self, id: &'a str) -> BoxFuture<'a, bool> {
        Box::pin(std::future::ready(self.lock().remove(id).is_some()))
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
        assert!(store.get(&a).await.is_some());
        assert!(store.remove(&a).await);
        assert!(store.get(&a).await.is_none());
        assert!(!store.remove(&a).await);
    }
}
