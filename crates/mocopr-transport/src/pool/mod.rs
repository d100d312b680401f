//! [`ConnectionPool`]: reusable connections to one server, bounded, aged and health-checked.
//!
//! Every open connection (busy or idle) holds one of `max_connections` slots, so the bound is
//! exact. A caller takes the most recently returned idle connection (warm, least likely to
//! have been closed by the peer) or, with a free slot, opens a new one; otherwise it waits for
//! either, up to the connection timeout. A background task closes connections idle longer
//! than the idle timeout (keeping `min_idle`), checks the others every health-check interval,
//! and opens connections ahead of demand up to `min_idle`. Dropping a [`Pooled`] returns its
//! connection unless it is broken or was [discarded](Pooled::discard).
//!
//! What a connection is and how it is checked is the [`Connector`]'s business; the `http`
//! feature brings [`HttpConnector`] (HTTP/1.1 keep-alive connections).

mod config;
#[cfg(feature = "http")]
mod http;

use std::collections::VecDeque;
use std::future::Future;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::Duration;

use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

pub use config::{PoolConfig, PoolConfigBuilder};
#[cfg(feature = "http")]
pub use http::{HttpConnection, HttpConnector, SendError};

/// Opens and checks the connections of a [`ConnectionPool`].
pub trait Connector: Send + Sync + 'static {
    /// One connection.
    type Connection: Send + 'static;

    /// Opens a connection.
    fn connect(&self) -> impl Future<Output = Result<Self::Connection, PoolError>> + Send;

    /// Whether an idle connection still works (run every health-check interval).
    fn check(&self, connection: &mut Self::Connection) -> impl Future<Output = bool> + Send;

    /// Whether a connection is known to be unusable without asking the peer (checked when it
    /// is returned and when it is taken).
    fn is_broken(&self, connection: &Self::Connection) -> bool;
}

/// Why no connection could be had.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PoolError {
    /// No connection within the connection timeout.
    #[error("no connection within {0:?}")]
    Timeout(Duration),
    /// Opening a connection failed.
    #[error("connect failed: {0}")]
    Connect(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// A snapshot of a pool's state and counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct PoolMetrics {
    /// Open connections (busy, idle, and being opened).
    pub connections: usize,
    /// Connections waiting in the pool.
    pub idle: usize,
    /// Connections in use (or being opened).
    pub busy: usize,
    /// Callers waiting for a connection.
    pub waiting: usize,
    /// Connections opened since the pool started.
    pub opened: u64,
    /// Connections closed since the pool started (idle timeout, broken, failed checks).
    pub closed: u64,
    /// Health checks that found a connection dead.
    pub failed_checks: u64,
}

struct Idle<T> {
    connection: T,
    slot: OwnedSemaphorePermit,
    since: Instant,
    checked: Instant,
}

struct Shared<C: Connector> {
    connector: C,
    config: PoolConfig,
    /// One permit per open connection.
    slots: Arc<Semaphore>,
    /// Oldest first; callers take from the back.
    idle: Mutex<VecDeque<Idle<C::Connection>>>,
    /// Wakes a waiter when a connection comes back to `idle`.
    returned: Notify,
    waiting: AtomicUsize,
    opened: AtomicU64,
    closed: AtomicU64,
    failed_checks: AtomicU64,
}

/// A bounded pool of connections made by a [`Connector`]. Cheap to clone.
pub struct ConnectionPool<C: Connector> {
    shared: Arc<Shared<C>>,
}

impl<C: Connector> Clone for ConnectionPool<C> {
    fn clone(&self) -> Self {
        ConnectionPool { shared: self.shared.clone() }
    }
}

impl<C: Connector> std::fmt::Debug for ConnectionPool<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectionPool").field("config", &self.shared.config).field("metrics", &self.metrics()).finish()
    }
}

impl<C: Connector> ConnectionPool<C> {
    /// A pool of `connector`'s connections. Starts the maintenance task, so it must be called
    /// inside a Tokio runtime; the task ends when the last handle to the pool is dropped.
    pub fn new(connector: C, config: PoolConfig) -> Self {
        let shared = Arc::new(Shared {
            slots: Arc::new(Semaphore::new(config.max_connections.max(1))),
            connector,
            config,
            idle: Mutex::new(VecDeque::new()),
            returned: Notify::new(),
            waiting: AtomicUsize::new(0),
            opened: AtomicU64::new(0),
            closed: AtomicU64::new(0),
            failed_checks: AtomicU64::new(0),
        });
        tokio::spawn(maintain(Arc::downgrade(&shared)));
        ConnectionPool { shared }
    }

    /// The pool's configuration.
    pub fn config(&self) -> &PoolConfig {
        &self.shared.config
    }

    /// The connector.
    pub fn connector(&self) -> &C {
        &self.shared.connector
    }

    /// A connection: an idle one, a new one, or the first one returned, within the
    /// connection timeout.
    pub async fn get(&self) -> Result<Pooled<C>, PoolError> {
        let timeout = self.shared.config.connection_timeout;
        // Counted while waiting, even when the caller gives up.
        let _waiting = Waiting::new(&self.shared.waiting);
        tokio::time::timeout(timeout, self.acquire()).await.map_err(|_| PoolError::Timeout(timeout))?
    }

    async fn acquire(&self) -> Result<Pooled<C>, PoolError> {
        let shared = &self.shared;
        loop {
            let returned = shared.returned.notified();
            tokio::pin!(returned);
            returned.as_mut().enable();
            if let Some(idle) = shared.take_idle() {
                return Ok(Pooled::new(shared.clone(), idle.connection, idle.slot));
            }
            let slot = tokio::select! {
                slot = shared.slots.clone().acquire_owned() => slot.expect("the pool never closes its semaphore"),
                () = &mut returned => continue,
            };
            let connection = shared.connector.connect().await?;
            shared.opened.fetch_add(1, Ordering::Relaxed);
            return Ok(Pooled::new(shared.clone(), connection, slot));
        }
    }

    /// Idle, busy and waiting counts, and what the pool has opened and closed.
    pub fn metrics(&self) -> PoolMetrics {
        let shared = &self.shared;
        let idle = shared.lock_idle().len();
        let connections = shared.config.max_connections.max(1) - shared.slots.available_permits();
        PoolMetrics {
            connections,
            idle,
            busy: connections.saturating_sub(idle),
            waiting: shared.waiting.load(Ordering::Relaxed),
            opened: shared.opened.load(Ordering::Relaxed),
            closed: shared.closed.load(Ordering::Relaxed),
            failed_checks: shared.failed_checks.load(Ordering::Relaxed),
        }
    }
}

impl<C: Connector> Shared<C> {
    fn lock_idle(&self) -> std::sync::MutexGuard<'_, VecDeque<Idle<C::Connection>>> {
        self.idle.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The most recently returned idle connection that is not broken. Age is the maintenance
    /// task's business: connections it keeps for `min_idle` are meant to be used.
    fn take_idle(&self) -> Option<Idle<C::Connection>> {
        loop {
            let idle = self.lock_idle().pop_back()?;
            if !self.connector.is_broken(&idle.connection) {
                return Some(idle);
            }
            self.closed.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn put_idle(&self, idle: Idle<C::Connection>) {
        self.lock_idle().push_back(idle);
        self.returned.notify_one();
    }

    /// One maintenance round: close expired and broken idle connections, check the rest when
    /// due, then open connections up to `min_idle`.
    async fn maintain(&self) {
        let config = &self.config;
        let mut due = Vec::new();
        {
            let mut idle = self.lock_idle();
            let before = idle.len();
            // Oldest first: the idle timeout closes from the front, keeping `min_idle`.
            while idle.len() > config.min_idle && idle.front().is_some_and(|i| i.since.elapsed() >= config.idle_timeout)
            {
                idle.pop_front();
            }
            idle.retain(|i| !self.connector.is_broken(&i.connection));
            self.closed.fetch_add((before - idle.len()) as u64, Ordering::Relaxed);
            let mut keep = VecDeque::with_capacity(idle.len());
            for entry in idle.drain(..) {
                if entry.checked.elapsed() >= config.health_check_interval {
                    due.push(entry)
                } else {
                    keep.push_back(entry)
                }
            }
            *idle = keep;
        }
        for mut entry in due {
            let healthy = tokio::time::timeout(config.connection_timeout, self.connector.check(&mut entry.connection))
                .await
                .unwrap_or(false);
            if healthy {
                entry.checked = Instant::now();
                // Back in age order, so the idle timeout still closes the oldest first.
                let mut idle = self.lock_idle();
                let at = idle.partition_point(|i| i.since <= entry.since);
                idle.insert(at, entry);
                drop(idle);
                self.returned.notify_one();
            } else {
                self.failed_checks.fetch_add(1, Ordering::Relaxed);
                self.closed.fetch_add(1, Ordering::Relaxed);
            }
        }
        while self.lock_idle().len() < config.min_idle {
            let Ok(slot) = self.slots.clone().try_acquire_owned() else { break };
            match tokio::time::timeout(config.connection_timeout, self.connector.connect()).await {
                Ok(Ok(connection)) => {
                    self.opened.fetch_add(1, Ordering::Relaxed);
                    let now = Instant::now();
                    self.put_idle(Idle { connection, slot, since: now, checked: now });
                }
                // The server is down: try again next round.
                _ => break,
            }
        }
    }
}

/// Counts a caller as waiting until it has a connection or gives up.
struct Waiting<'a>(&'a AtomicUsize);

impl<'a> Waiting<'a> {
    fn new(counter: &'a AtomicUsize) -> Self {
        counter.fetch_add(1, Ordering::Relaxed);
        Waiting(counter)
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

async fn maintain<C: Connector>(shared: Weak<Shared<C>>) {
    let config = match shared.upgrade() {
        Some(shared) => shared.config.clone(),
        None => return,
    };
    let tick = config.health_check_interval.min(config.idle_timeout).max(Duration::from_millis(10));
    let mut interval = tokio::time::interval(tick);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        interval.tick().await;
        let Some(shared) = shared.upgrade() else { return };
        shared.maintain().await;
    }
}

/// A connection taken from a [`ConnectionPool`]; dropping it gives it back.
pub struct Pooled<C: Connector> {
    shared: Arc<Shared<C>>,
    connection: Option<C::Connection>,
    slot: Option<OwnedSemaphorePermit>,
}

impl<C: Connector> std::fmt::Debug for Pooled<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pooled").finish_non_exhaustive()
    }
}

impl<C: Connector> Pooled<C> {
    fn new(shared: Arc<Shared<C>>, connection: C::Connection, slot: OwnedSemaphorePermit) -> Self {
        Pooled { shared, connection: Some(connection), slot: Some(slot) }
    }

    /// Closes the connection instead of returning it (e.g. after a protocol error left it in
    /// an unknown state).
    pub fn discard(mut self) {
        if self.connection.take().is_some() {
            self.shared.closed.fetch_add(1, Ordering::Relaxed);
        }
    }
}

impl<C: Connector> std::ops::Deref for Pooled<C> {
    type Target = C::Connection;
    fn deref(&self) -> &C::Connection {
        self.connection.as_ref().expect("a pooled connection is present until dropped")
    }
}

impl<C: Connector> std::ops::DerefMut for Pooled<C> {
    fn deref_mut(&mut self) -> &mut C::Connection {
        self.connection.as_mut().expect("a pooled connection is present until dropped")
    }
}

impl<C: Connector> Drop for Pooled<C> {
    fn drop(&mut self) {
        let (Some(connection), Some(slot)) = (self.connection.take(), self.slot.take()) else { return };
        if self.shared.connector.is_broken(&connection) {
            self.shared.closed.fetch_add(1, Ordering::Relaxed);
            return;
        }
        let now = Instant::now();
        self.shared.put_idle(Idle { connection, slot, since: now, checked: now });
    }
}

#[cfg(test)]
#[path = "pool_tests.rs"]
mod tests;
