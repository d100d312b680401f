//! [`RedisEventStore`]: the endpoint's standalone-stream events in one Redis stream shared by
//! every server process, so any process can replay after a `Last-Event-ID` and deliver events
//! whichever process recorded them.
//!
//! Events are appended with `XADD ... MAXLEN ~` (bounded) with the recording process's token;
//! their ids are Redis entry ids (`millis-seq`). One task per store tails the stream (`XREAD
//! BLOCK` on a connection of its own) and hands every event, in log order, to the open streams;
//! after a Redis outage it goes on from the last entry it saw, so nothing recorded is skipped.
//! Redis being down costs no request: an event that cannot be recorded still goes out live in
//! this process (without an id), and a warning says it cannot be replayed.
//!
//! The store also records each POST's event stream, a Redis stream per request stream
//! (`redis_request_streams`), so another process resumes a stream whose producer is gone.

use std::sync::{Arc, Weak};
use std::time::Duration;

use bytes::Bytes;
use futures_util::future::BoxFuture;
use tokio::sync::broadcast;

use super::events::{
    DEFAULT_EVENTS_KEPT, Event, EventStore, EventStoreUnavailable, ForeignEventHook, LIVE_EVENTS_QUEUED, event_position,
};
use super::redis_connection::{DedicatedConnection, RedisConnection};
use super::request_streams::{RequestStream, StreamReplay};
use crate::http::sessions::new_session_id;

/// How long one `XREAD` waits for new entries before asking again.
const TAIL_BLOCK: Duration = Duration::from_secs(1);
/// Most entries one `XREAD` or replay returns at once.
const READ_COUNT: usize = 512;

/// The event log in Redis. Cheap to clone.
#[derive(Clone)]
pub struct RedisEventStore {
    key: String,
    max_len: usize,
    inner: Arc<Inner>,
}

/// What the tail task shares with the store.
struct Inner {
    connection: RedisConnection,
    timeout: Duration,
    /// Marks this process's entries.
    origin: String,
    live: broadcast::Sender<Event>,
    tailing: std::sync::Once,
    /// Set once the tail knows where the log ends, so nothing appended after is missed.
    ready: tokio::sync::watch::Sender<bool>,
    foreign: std::sync::Mutex<Vec<ForeignEventHook>>,
}

impl std::fmt::Debug for RedisEventStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisEventStore").field("key", &self.key).field("max_len", &self.max_len).finish()
    }
}

impl RedisEventStore {
    /// A log in the Redis at `url` (`redis://host:port/db`) under the key `mcp:events`, keeping
    /// about 4,096 events, connecting on first use (so a server starts while
    /// Redis is down). Commands time out after `timeout`. Needs a Tokio runtime.
    pub fn new(url: &str, timeout: Duration) -> Result<Self, redis::RedisError> {
        Ok(Self::on(RedisConnection::single(url, timeout)?, timeout))
    }

    /// A log in the Redis Cluster reached through any of `nodes` (`redis://host:port`; the
    /// client finds the rest and follows slots as they move), otherwise as [`new`](Self::new).
    /// The log is one key, so one slot; each request stream is a key of its own. A command
    /// whose master is failing over is retried for about five seconds, and the tail follows
    /// the log to its new master.
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// use mocopr_transport::http::RedisEventStore;
    ///
    /// # async fn run() -> Result<(), redis::RedisError> {
    /// let nodes = ["redis://10.0.0.1:7000", "redis://10.0.0.2:7000", "redis://10.0.0.3:7000"];
    /// let events = RedisEventStore::cluster(nodes, Duration::from_millis(500))?;
    /// # Ok(()) }
    /// ```
    #[cfg(feature = "redis-cluster")]
    #[cfg_attr(docsrs, doc(cfg(feature = "redis-cluster")))]
    pub fn cluster(
        nodes: impl IntoIterator<Item = impl Into<String>>,
        timeout: Duration,
    ) -> Result<Self, redis::RedisError> {
        let nodes = nodes.into_iter().map(Into::into).collect();
        Ok(Self::on(RedisConnection::cluster(nodes, timeout)?, timeout))
    }

    fn on(connection: RedisConnection, timeout: Duration) -> Self {
        let inner = Inner {
            connection,
            timeout,
            // Only has to differ between processes; not a secret, so a failed random source
            // falls back to the process id and the time.
            origin: new_session_id().unwrap_or_else(|| {
                let nanos =
                    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
                format!("{}-{nanos}", std::process::id())
            }),
            live: broadcast::channel(LIVE_EVENTS_QUEUED).0,
            tailing: std::sync::Once::new(),
            ready: tokio::sync::watch::channel(false).0,
            foreign: std::sync::Mutex::default(),
        };
        RedisEventStore { key: "mcp:events".into(), max_len: DEFAULT_EVENTS_KEPT, inner: Arc::new(inner) }
    }

    /// The Redis key of the log (default `mcp:events`); every process serving the same
    /// endpoint uses the same one. Set it before the store is first used.
    pub fn with_key(mut self, key: impl Into<String>) -> Self {
        self.key = key.into();
        self
    }

    /// About how many events the log keeps (default 4,096).
    pub fn with_max_len(mut self, max_len: usize) -> Self {
        self.max_len = max_len.max(1);
        self
    }

    async fn xadd(&self, message: &[u8]) -> redis::RedisResult<()> {
        let inner = &self.inner;
        redis::cmd("XADD")
            .arg(&self.key)
            .arg("MAXLEN")
            .arg("~")
            .arg(self.max_len)
            .arg("*")
            .arg("o")
            .arg(&inner.origin)
            .arg("m")
            .arg(message)
            .exec_async(&mut inner.connection.clone())
            .await
    }

    async fn xrange_after(&self, after: &str) -> redis::RedisResult<Vec<Event>> {
        let inner = &self.inner;
        let mut connection = inner.connection.clone();
        let mut events = Vec::new();
        let mut from = after.to_owned();
        loop {
            // `(` makes the start exclusive: only what came after the client's last event.
            let entries: Entries = redis::cmd("XRANGE")
                .arg(&self.key)
                .arg(format!("({from}"))
                .arg("+")
                .arg("COUNT")
                .arg(READ_COUNT)
                .query_async(&mut connection)
                .await?;
            let full = entries.len() == READ_COUNT;
            for (id, fields) in entries {
                from.clone_from(&id);
                events.extend(inner.event(id, &fields));
            }
            // The log is bounded, so this ends.
            if !full {
                return Ok(events);
            }
        }
    }

    /// Whether the log's newest entry is at or after `id`.
    async fn has_reached(&self, id: &str) -> bool {
        let newest = newest_id(&self.key, &mut self.inner.connection.clone()).await.ok().flatten();
        newest.as_deref().and_then(event_position) >= event_position(id)
    }

    fn start_tailing(&self) {
        let weak = Arc::downgrade(&self.inner);
        let key = self.key.clone();
        self.inner.tailing.call_once(|| {
            tokio::spawn(tail(weak, key));
        });
    }
}

/// `XRANGE` / `XREAD` entries: id and field-value pairs.
type Entries = Vec<(String, Vec<Vec<u8>>)>;

impl Inner {
    fn event(&self, id: String, fields: &[Vec<u8>]) -> Option<Event> {
        let field = |name: &[u8]| fields.chunks(2).find(|pair| pair[0] == name).and_then(|pair| pair.get(1));
        let message = Bytes::from(field(b"m")?.clone());
        let local = field(b"o").is_some_and(|origin| origin == self.origin.as_bytes());
        Some(Event::new(Some(id), message, local))
    }
}

/// The id of the log's newest entry; `None` for an empty (or absent) log.
async fn newest_id(key: &str, connection: &mut impl redis::aio::ConnectionLike) -> redis::RedisResult<Option<String>> {
    let newest: Entries =
        redis::cmd("XREVRANGE").arg(key).arg("+").arg("-").arg("COUNT").arg(1).query_async(connection).await?;
    Ok(newest.into_iter().next().map(|(id, _)| id))
}

/// Reads new entries as they are appended and broadcasts them, until the store is dropped.
async fn tail(store: Weak<Inner>, key: String) {
    let mut last: Option<String> = None;
    let mut connection: Option<DedicatedConnection> = None;
    loop {
        let Some(inner) = store.upgrade() else { return };
        let result = async {
            if connection.is_none() {
                connection = Some(inner.connection.dedicated(TAIL_BLOCK).await?);
            }
            let Some(connection) = connection.as_mut() else { return Ok(()) };
            let after = match &last {
                Some(id) => id.clone(),
                None => newest_id(&key, connection).await?.unwrap_or_else(|| "0-0".to_owned()),
            };
            last = Some(after.clone());
            inner.ready.send_replace(true);
            let block = u64::try_from(TAIL_BLOCK.as_millis()).unwrap_or(1000);
            let reply: Option<Vec<(String, Entries)>> = redis::cmd("XREAD")
                .arg("COUNT")
                .arg(READ_COUNT)
                .arg("BLOCK")
                .arg(block)
                .arg("STREAMS")
                .arg(&key)
                .arg(&after)
                .query_async(connection)
                .await?;
            for (id, fields) in reply.into_iter().flatten().flat_map(|(_, entries)| entries) {
                // A restarted Redis may hand out smaller ids; keep going from the newest seen.
                if event_position(&id) > last.as_deref().and_then(event_position) {
                    last = Some(id.clone());
                }
                if let Some(event) = inner.event(id, &fields) {
                    if !event.local {
                        let hooks = inner.foreign.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
                        for hook in hooks {
                            hook(&event);
                        }
                    }
                    let _ = inner.live.send(event);
                }
            }
            Ok::<(), redis::RedisError>(())
        }
        .await;
        if let Err(error) = result {
            tracing::warn!(%error, key = %key, "cannot read the event log from Redis; retrying");
            connection = None;
            let pause = inner.timeout.max(Duration::from_millis(100));
            drop(inner);
            tokio::time::sleep(pause).await;
        }
    }
}

impl EventStore for RedisEventStore {
    fn append(&self, message: Bytes) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            // Tailing before the first event is recorded, so this process sees it come back.
            self.ready().await;
            if let Err(error) = self.xadd(&message).await {
                tracing::warn!(%error, "event not recorded in Redis; it goes out live but cannot be replayed");
                let _ = self.inner.live.send(Event::new(None, message, true));
            }
        })
    }

    fn replay_after<'a>(&'a self, last_event_id: &'a str) -> BoxFuture<'a, Option<Vec<Event>>> {
        Box::pin(async move {
            // Only a Redis entry id reaches Redis.
            if !last_event_id.contains('-') || event_position(last_event_id).is_none() {
                return None;
            }
            match self.xrange_after(last_event_id).await {
                // An id ahead of the log is not one of its ids.
                Ok(events) if events.is_empty() && !self.has_reached(last_event_id).await => None,
                Ok(events) => Some(events),
                Err(error) => {
                    tracing::warn!(%error, "cannot replay from Redis");
                    None
                }
            }
        })
    }

    fn subscribe(&self) -> broadcast::Receiver<Event> {
        let receiver = self.inner.live.subscribe();
        self.start_tailing();
        receiver
    }

    fn ready(&self) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            self.start_tailing();
            let mut ready = self.inner.ready.subscribe();
            let _ = tokio::time::timeout(self.inner.timeout, ready.wait_for(|ready| *ready)).await;
        })
    }

    fn on_foreign_event(&self, hook: ForeignEventHook) {
        self.inner.foreign.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(hook);
        self.start_tailing();
    }

    fn append_to_stream<'a>(
        &'a self,
        stream: &'a RequestStream,
        seq: u64,
        message: Bytes,
        end: bool,
    ) -> BoxFuture<'a, bool> {
        Box::pin(async move {
            if message.len() > super::request_streams::MAX_STREAM_BYTES {
                return false;
            }
            let mut connection = self.inner.connection.clone();
            match super::redis_request_streams::append(&mut connection, &self.key, stream, seq, &message, end).await {
                Ok(recorded) => recorded,
                Err(error) => {
                    tracing::warn!(%error, "stream event not recorded in Redis; the stream cannot be resumed past it");
                    false
                }
            }
        })
    }

    fn replay_stream_after<'a>(
        &'a self,
        stream: &'a str,
        after: u64,
    ) -> BoxFuture<'a, Result<Option<StreamReplay>, EventStoreUnavailable>> {
        Box::pin(async move {
            let mut connection = self.inner.connection.clone();
            super::redis_request_streams::replay_after(&mut connection, &self.key, stream, after).await.map_err(
                |error| {
                    tracing::warn!(%error, "cannot replay a request stream from Redis");
                    EventStoreUnavailable
                },
            )
        })
    }

    fn forget_stream<'a>(&'a self, stream: &'a str) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let mut connection = self.inner.connection.clone();
            if let Err(error) = super::redis_request_streams::forget(&mut connection, &self.key, stream).await {
                tracing::warn!(%error, "a request stream that will not end is left in Redis until it expires");
            }
        })
    }
}
