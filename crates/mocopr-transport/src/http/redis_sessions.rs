//! [`RedisSessionStore`]: legacy sessions any server process sharing the Redis can serve.
//!
//! What a session negotiated ([`SessionState`]) is kept in Redis as JSON under
//! `{prefix}:{id}`, expiring after the idle timeout (every use renews it). What cannot leave the
//! process (the server-to-client requests a handler is waiting on) lives in a local
//! [`Session`] object, made from the stored state the first time a process sees the session.
//! Each request reads the stored state (`GETEX`), so a subscription made through one process is
//! honoured by the next; a changed state is written back before the request is answered.
//!
//! Redis being down costs no request a process can serve alone: sessions it created or has seen
//! keep working from its local copy (a warning says they are not shared), and are written to
//! Redis once it is back.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use futures_util::future::BoxFuture;
use redis::aio::ConnectionManager;

use super::sessions::{DEFAULT_SESSION_IDLE_TIMEOUT, SessionStore, new_session_id};
use crate::session::{Session, SessionState};

/// Default number of sessions a process keeps local objects for.
pub const DEFAULT_LOCAL_SESSIONS: usize = 10_000;

/// Legacy sessions in Redis. Cheap to clone.
#[derive(Clone)]
pub struct RedisSessionStore {
    connection: ConnectionManager,
    prefix: String,
    idle_timeout: Duration,
    local: Arc<Mutex<HashMap<String, Local>>>,
    local_capacity: usize,
}

/// This process's object for a session.
struct Local {
    session: Arc<Session>,
    used: Instant,
    /// Whether Redis has it (false while Redis was down when it was created or changed).
    saved: bool,
}

impl std::fmt::Debug for RedisSessionStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisSessionStore")
            .field("prefix", &self.prefix)
            .field("idle_timeout", &self.idle_timeout)
            .finish_non_exhaustive()
    }
}

impl RedisSessionStore {
    /// Sessions in the Redis at `url` (`redis://host:port/db`) under `mcp:session:{id}`,
    /// dropped after [`DEFAULT_SESSION_IDLE_TIMEOUT`] unused, connecting on first use (a server
    /// starts while Redis is down). Commands time out after `timeout`.
    pub fn new(url: &str, timeout: Duration) -> Result<Self, redis::RedisError> {
        let client = redis::Client::open(url)?;
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(Some(timeout))
            .set_response_timeout(Some(timeout))
            .set_number_of_retries(1);
        Ok(RedisSessionStore {
            connection: ConnectionManager::new_lazy_with_config(client, config)?,
            prefix: "mcp:session".into(),
            idle_timeout: DEFAULT_SESSION_IDLE_TIMEOUT,
            local: Arc::default(),
            local_capacity: DEFAULT_LOCAL_SESSIONS,
        })
    }

    /// The key prefix (default `mcp:session`); every process serving the endpoint uses the same.
    pub fn with_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// How long a session may stay unused before Redis forgets it (default 30 minutes).
    pub fn with_idle_timeout(mut self, idle_timeout: Duration) -> Self {
        self.idle_timeout = idle_timeout.max(Duration::from_millis(1));
        self
    }

    /// How many sessions this process keeps local objects for (default
    /// [`DEFAULT_LOCAL_SESSIONS`]); the least recently used go first, and are made again
    /// from Redis when they come back.
    pub fn with_local_capacity(mut self, capacity: usize) -> Self {
        self.local_capacity = capacity.max(1);
        self
    }

    fn key(&self, id: &str) -> String {
        format!("{}:{id}", self.prefix)
    }

    fn idle_millis(&self) -> u64 {
        u64::try_from(self.idle_timeout.as_millis()).unwrap_or(u64::MAX)
    }

    fn local(&self) -> std::sync::MutexGuard<'_, HashMap<String, Local>> {
        self.local.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Keeps `session` locally, making room by dropping the least recently used.
    fn keep(&self, id: &str, session: Arc<Session>, saved: bool) {
        let mut local = self.local();
        if local.len() >= self.local_capacity
            && !local.contains_key(id)
            && let Some(oldest) = local.iter().min_by_key(|(_, l)| l.used).map(|(id, _)| id.clone())
        {
            local.remove(&oldest);
        }
        local.insert(id.to_owned(), Local { session, used: Instant::now(), saved });
    }

    /// `SET` the state; `only_existing` leaves a session ended elsewhere ended.
    async fn write(&self, id: &str, state: &SessionState, only_existing: bool) -> redis::RedisResult<bool> {
        let mut command = redis::cmd("SET");
        command.arg(self.key(id)).arg(state.to_json()).arg("PX").arg(self.idle_millis());
        command.arg(if only_existing { "XX" } else { "NX" });
        let written: Option<String> = command.query_async(&mut self.connection.clone()).await?;
        Ok(written.is_some())
    }
}

impl SessionStore for RedisSessionStore {
    fn create(&self, session: Arc<Session>) -> BoxFuture<'_, Option<String>> {
        Box::pin(async move {
            let id = new_session_id();
            let saved = match session.state() {
                Some(state) => match self.write(&id, &state, false).await {
                    Ok(written) => written,
                    Err(error) => {
                        tracing::warn!(%error, "session not saved in Redis; only this process can serve it for now");
                        false
                    }
                },
                None => false,
            };
            self.keep(&id, session, saved);
            Some(id)
        })
    }

    fn get<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Option<Arc<Session>>> {
        Box::pin(async move {
            let stored: redis::RedisResult<Option<Vec<u8>>> = redis::cmd("GETEX")
                .arg(self.key(id))
                .arg("PX")
                .arg(self.idle_millis())
                .query_async(&mut self.connection.clone())
                .await;
            let known = self.local().get_mut(id).map(|l| {
                l.used = Instant::now();
                (l.session.clone(), l.saved)
            });
            match (stored, known) {
                (Ok(Some(json)), known) => {
                    let state = SessionState::from_json(&json)?;
                    let session = match known {
                        Some((session, _)) => {
                            if session.state().as_ref() != Some(&state) {
                                session.replace_state(state);
                            }
                            session
                        }
                        None => {
                            let session = Arc::new(Session::new());
                            session.begin(state);
                            self.keep(id, session.clone(), true);
                            session
                        }
                    };
                    Some(session)
                }
                // Created or changed while Redis was down: share it now.
                (Ok(None), Some((session, false))) => {
                    if let Some(state) = session.state()
                        && self.write(id, &state, false).await.unwrap_or(false)
                        && let Some(local) = self.local().get_mut(id)
                    {
                        local.saved = true;
                    }
                    Some(session)
                }
                // Ended (or expired) in Redis: ended here too.
                (Ok(None), _) => {
                    self.local().remove(id);
                    None
                }
                (Err(error), known) => {
                    tracing::warn!(%error, "cannot read the session from Redis; serving the local copy");
                    known.map(|(session, _)| session)
                }
            }
        })
    }

    fn remove<'a>(&'a self, id: &'a str) -> BoxFuture<'a, bool> {
        Box::pin(async move {
            let local = self.local().remove(id).is_some();
            let deleted: redis::RedisResult<u64> =
                redis::cmd("DEL").arg(self.key(id)).query_async(&mut self.connection.clone()).await;
            match deleted {
                Ok(n) => n > 0 || local,
                Err(error) => {
                    tracing::warn!(%error, "session not removed from Redis; it expires when idle");
                    local
                }
            }
        })
    }

    fn save<'a>(&'a self, id: &'a str, session: &'a Session) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let Some(state) = session.state() else { return };
            // A session Redis never had (it was down) is created; one it had is only updated.
            let shared = self.local().get(id).is_none_or(|l| l.saved);
            match self.write(id, &state, shared).await {
                Ok(true) => {
                    if let Some(local) = self.local().get_mut(id) {
                        local.saved = true;
                    }
                }
                // Ended elsewhere (DELETE through another process, or expired).
                Ok(false) => {
                    self.local().remove(id);
                }
                Err(error) => {
                    tracing::warn!(%error, "session change not saved in Redis; other processes see the old state");
                    if let Some(local) = self.local().get_mut(id) {
                        local.saved = false;
                    }
                }
            }
        })
    }
}
