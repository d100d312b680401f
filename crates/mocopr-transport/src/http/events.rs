//! Resumable streams (legacy Streamable HTTP): a session's standalone stream, and each POST's
//! event stream (its request stream, `request_streams`). The messages a legacy session's standalone (GET)
//! stream carries are change notifications, the same for every session up to each session's
//! subscriptions. So they are recorded once, in one ordered log per endpoint (an
//! [`EventStore`]), under event ids; each open stream delivers the events its session wants, and
//! a client that reconnects with `Last-Event-ID` is replayed what came after it. Because a
//! session's stream is a view of the shared log, any server process sharing the log (Redis) can
//! serve it, whichever process recorded the events.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};

use bytes::Bytes;
use futures_util::future::BoxFuture;
use tokio::sync::broadcast;

use super::request_streams::{InMemoryRequestStreams, RequestStream, StreamReplay};

/// Default events the in-memory log keeps.
pub(crate) const DEFAULT_EVENTS_KEPT: usize = 4096;
/// How many live events an open stream may fall behind before it re-reads the log.
pub const LIVE_EVENTS_QUEUED: usize = 1024;

/// One recorded event.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Event {
    /// Its event id (visible ASCII, no newline); `None` when it could not be recorded (it goes
    /// out live, but cannot be replayed).
    pub id: Option<String>,
    /// The JSON-RPC message.
    pub message: Bytes,
    /// Whether this process recorded it (a shared log also carries other processes' events).
    pub local: bool,
}

impl Event {
    /// An event.
    pub fn new(id: Option<String>, message: Bytes, local: bool) -> Self {
        Event { id, message, local }
    }
}

/// The event store could not be asked (its Redis did not answer): the client may try again.
#[derive(Debug, Clone, thiserror::Error)]
#[error("the event store is unavailable")]
#[non_exhaustive]
pub struct EventStoreUnavailable;

/// Called with each event another process recorded, before any stream of this process sees it.
pub type ForeignEventHook = Arc<dyn Fn(&Event) + Send + Sync>;

/// The ordered log of an endpoint's standalone-stream events.
pub trait EventStore: Send + Sync + 'static {
    /// Records `message`. It then reaches [`subscribe`](Self::subscribe)rs, in log order.
    fn append(&self, message: Bytes) -> BoxFuture<'_, ()>;
    /// Every recorded event after `last_event_id`, in order; `None` when the id is not one of
    /// this log's (then nothing can be replayed).
    fn replay_after<'a>(&'a self, last_event_id: &'a str) -> BoxFuture<'a, Option<Vec<Event>>>;
    /// Events as they are recorded, by this process or (for a shared log) any other. A receiver
    /// that falls more than [`LIVE_EVENTS_QUEUED`] behind re-reads with
    /// [`replay_after`](Self::replay_after).
    fn subscribe(&self) -> broadcast::Receiver<Event>;
    /// Resolves once events recorded from now on reach [`subscribe`](Self::subscribe)rs (a
    /// shared log's reader has found where the log ends), or after the log's timeout.
    fn ready(&self) -> BoxFuture<'_, ()> {
        Box::pin(std::future::ready(()))
    }
    /// Runs `hook` on every event another process records, before this process's streams get
    /// it (so, e.g., a cache drops what the change made stale before a client hears of it).
    /// Logs only this process writes to have nothing to do.
    fn on_foreign_event(&self, hook: ForeignEventHook) {
        let _ = hook;
    }
    /// Records `message` as event `seq` of the request stream `stream` (a POST's event stream;
    /// `seq` 0 is its priming event, with an empty message); `end` marks its last event, the
    /// answer. Returns whether it was recorded: only then does the event get an id a client
    /// can resume after. A store that keeps no request streams records nothing (the default).
    fn append_to_stream<'a>(
        &'a self,
        stream: &'a RequestStream,
        seq: u64,
        message: Bytes,
        end: bool,
    ) -> BoxFuture<'a, bool> {
        let _ = (stream, seq, message, end);
        Box::pin(std::future::ready(false))
    }
    /// The events of the request stream `stream` recorded after `after`, with none missing;
    /// `Ok(None)` when the stream is unknown or no longer holds them, an error when the store
    /// could not be asked.
    fn replay_stream_after<'a>(
        &'a self,
        stream: &'a str,
        after: u64,
    ) -> BoxFuture<'a, Result<Option<StreamReplay>, EventStoreUnavailable>> {
        let _ = (stream, after);
        Box::pin(std::future::ready(Ok(None)))
    }
    /// Forgets the request stream `stream`: its call will never answer through it (cancelled,
    /// or answered in a way that cannot be recorded), so a resume is refused at once rather
    /// than left waiting for events that will not come.
    fn forget_stream<'a>(&'a self, stream: &'a str) -> BoxFuture<'a, ()> {
        let _ = stream;
        Box::pin(std::future::ready(()))
    }
}

/// The position of an event id in its log: `seq` (in memory) or `millis-seq` (Redis), compared
/// as a pair. `None` for anything else.
pub fn event_position(id: &str) -> Option<(u64, u64)> {
    match id.split_once('-') {
        Some((millis, seq)) => Some((millis.parse().ok()?, seq.parse().ok()?)),
        None => Some((id.parse().ok()?, 0)),
    }
}

/// Events in this process's memory: the newest `capacity`.
#[derive(Debug)]
pub struct InMemoryEventStore {
    log: Mutex<Log>,
    capacity: usize,
    live: broadcast::Sender<Event>,
    requests: InMemoryRequestStreams,
}

#[derive(Debug, Default)]
struct Log {
    next: u64,
    events: VecDeque<(u64, Bytes)>,
}

impl Default for InMemoryEventStore {
    fn default() -> Self {
        InMemoryEventStore::new(DEFAULT_EVENTS_KEPT)
    }
}

impl InMemoryEventStore {
    /// A log keeping the newest `capacity` events.
    pub fn new(capacity: usize) -> Self {
        InMemoryEventStore {
            log: Mutex::new(Log { next: 1, events: VecDeque::new() }),
            capacity: capacity.max(1),
            live: broadcast::channel(LIVE_EVENTS_QUEUED).0,
            requests: InMemoryRequestStreams::default(),
        }
    }
}

impl EventStore for InMemoryEventStore {
    fn append(&self, message: Bytes) -> BoxFuture<'_, ()> {
        let mut log = self.log.lock().unwrap_or_else(PoisonError::into_inner);
        let seq = log.next;
        log.next += 1;
        log.events.push_back((seq, message.clone()));
        if log.events.len() > self.capacity {
            log.events.pop_front();
        }
        // Sent under the lock: live order is log order.
        let _ = self.live.send(Event::new(Some(seq.to_string()), message, true));
        Box::pin(std::future::ready(()))
    }

    fn replay_after<'a>(&'a self, last_event_id: &'a str) -> BoxFuture<'a, Option<Vec<Event>>> {
        let log = self.log.lock().unwrap_or_else(PoisonError::into_inner);
        let result = match last_event_id.parse::<u64>() {
            Ok(after) if after < log.next => Some(
                log.events
                    .iter()
                    .filter(|(seq, _)| *seq > after)
                    .map(|(seq, message)| Event::new(Some(seq.to_string()), message.clone(), true))
                    .collect(),
            ),
            _ => None,
        };
        Box::pin(std::future::ready(result))
    }

    fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.live.subscribe()
    }

    fn append_to_stream<'a>(
        &'a self,
        stream: &'a RequestStream,
        seq: u64,
        message: Bytes,
        end: bool,
    ) -> BoxFuture<'a, bool> {
        Box::pin(std::future::ready(self.requests.append(stream, seq, message, end)))
    }

    fn replay_stream_after<'a>(
        &'a self,
        stream: &'a str,
        after: u64,
    ) -> BoxFuture<'a, Result<Option<StreamReplay>, EventStoreUnavailable>> {
        Box::pin(std::future::ready(Ok(self.requests.replay_after(stream, after))))
    }

    fn forget_stream<'a>(&'a self, stream: &'a str) -> BoxFuture<'a, ()> {
        self.requests.forget(stream);
        Box::pin(std::future::ready(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn messages(events: &[Event]) -> Vec<Bytes> {
        events.iter().map(|e| e.message.clone()).collect()
    }

    #[tokio::test]
    async fn replay_returns_what_came_after_and_stays_bounded() {
        let store = InMemoryEventStore::new(3);
        let mut live = store.subscribe();
        store.append(Bytes::from_static(b"1")).await;
        let first = live.recv().await.unwrap().id.unwrap();
        store.append(Bytes::from_static(b"2")).await;
        store.append(Bytes::from_static(b"3")).await;
        live.recv().await.unwrap();
        let third = live.recv().await.unwrap().id.unwrap();
        assert_eq!(messages(&store.replay_after(&first).await.unwrap()), [Bytes::from("2"), Bytes::from("3")]);
        assert_eq!(store.replay_after(&third).await.unwrap().len(), 0);
        store.append(Bytes::from_static(b"4")).await;
        store.append(Bytes::from_static(b"5")).await;
        assert_eq!(messages(&store.replay_after(&first).await.unwrap()), [Bytes::from("3"), "4".into(), "5".into()]);
        assert!(store.replay_after("garbage").await.is_none());
        assert!(store.replay_after("99").await.is_none(), "an id this log never gave");
        assert!(store.replay_after("1-0").await.is_none(), "a Redis id");
    }

    #[test]
    fn event_positions_order_both_id_forms() {
        assert_eq!(event_position("7"), Some((7, 0)));
        assert_eq!(event_position("1700000000000-4"), Some((1_700_000_000_000, 4)));
        assert!(event_position("1700000000000-4") < event_position("1700000000001-0"));
        assert_eq!(event_position("a-1"), None);
        assert_eq!(event_position(""), None);
    }
}
