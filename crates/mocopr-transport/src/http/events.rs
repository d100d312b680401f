//! Resumable streams (legacy Streamable HTTP): every message a legacy session's standalone
//! (GET) stream carries is recorded in an [`EventStore`] under an event id, so a client that
//! reconnects with `Last-Event-ID` receives what it missed. The in-memory store keeps the last
//! events of each stream, bounded.

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, PoisonError};

use bytes::Bytes;
use futures_util::future::BoxFuture;

/// Default events kept per stream.
pub const DEFAULT_EVENTS_PER_STREAM: usize = 1024;
/// Default streams kept.
pub const DEFAULT_MAX_STREAMS: usize = 10_000;

/// A stream id and the events (id, message) recorded on it after some event.
pub type Replay = (String, Vec<(String, Bytes)>);

/// Records stream events and replays them after a given event id.
pub trait EventStore: Send + Sync + 'static {
    /// Records `message` on `stream`; returns its event id (visible ASCII, no newline).
    fn append<'a>(&'a self, stream: &'a str, message: Bytes) -> BoxFuture<'a, String>;
    /// The stream `last_event_id` belongs to, and every event recorded after it, in order;
    /// `None` when the id is unknown (or its stream was forgotten).
    fn replay_after<'a>(&'a self, last_event_id: &'a str) -> BoxFuture<'a, Option<Replay>>;
    /// Forgets a stream (its session ended).
    fn remove<'a>(&'a self, stream: &'a str) -> BoxFuture<'a, ()>;
}

/// Events in this process's memory.
#[derive(Debug)]
pub struct InMemoryEventStore {
    streams: Mutex<Streams>,
    per_stream: usize,
    max_streams: usize,
}

#[derive(Debug, Default)]
struct Streams {
    by_id: HashMap<String, StreamLog>,
    /// Streams in creation order, to forget the oldest when full.
    order: VecDeque<String>,
}

#[derive(Debug, Default)]
struct StreamLog {
    next: u64,
    events: VecDeque<(u64, Bytes)>,
}

impl Default for InMemoryEventStore {
    fn default() -> Self {
        InMemoryEventStore::new(DEFAULT_EVENTS_PER_STREAM, DEFAULT_MAX_STREAMS)
    }
}

impl InMemoryEventStore {
    /// A store keeping `per_stream` events of at most `max_streams` streams.
    pub fn new(per_stream: usize, max_streams: usize) -> Self {
        InMemoryEventStore {
            streams: Mutex::new(Streams::default()),
            per_stream: per_stream.max(1),
            max_streams: max_streams.max(1),
        }
    }
}

/// `stream.seq`: the stream id never contains a `.` (session ids are hex).
fn split(id: &str) -> Option<(&str, u64)> {
    let (stream, seq) = id.rsplit_once('.')?;
    Some((stream, seq.parse().ok()?))
}

impl EventStore for InMemoryEventStore {
    fn append<'a>(&'a self, stream: &'a str, message: Bytes) -> BoxFuture<'a, String> {
        let mut streams = self.streams.lock().unwrap_or_else(PoisonError::into_inner);
        if !streams.by_id.contains_key(stream) {
            if streams.order.len() >= self.max_streams
                && let Some(oldest) = streams.order.pop_front()
            {
                streams.by_id.remove(&oldest);
            }
            streams.order.push_back(stream.to_owned());
        }
        let log = streams.by_id.entry(stream.to_owned()).or_default();
        let seq = log.next;
        log.next += 1;
        log.events.push_back((seq, message));
        if log.events.len() > self.per_stream {
            log.events.pop_front();
        }
        Box::pin(std::future::ready(format!("{stream}.{seq}")))
    }

    fn replay_after<'a>(&'a self, last_event_id: &'a str) -> BoxFuture<'a, Option<Replay>> {
        let streams = self.streams.lock().unwrap_or_else(PoisonError::into_inner);
        let result = split(last_event_id).and_then(|(stream, seq)| {
            let log = streams.by_id.get(stream)?;
            let events = log
                .events
                .iter()
                .filter(|(s, _)| *s > seq)
                .map(|(s, message)| (format!("{stream}.{s}"), message.clone()))
                .collect();
            Some((stream.to_owned(), events))
        });
        Box::pin(std::future::ready(result))
    }

    fn remove<'a>(&'a self, stream: &'a str) -> BoxFuture<'a, ()> {
        let mut streams = self.streams.lock().unwrap_or_else(PoisonError::into_inner);
        streams.by_id.remove(stream);
        streams.order.retain(|s| s != stream);
        Box::pin(std::future::ready(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn replay_returns_what_came_after_and_stays_bounded() {
        let store = InMemoryEventStore::new(3, 2);
        let a1 = store.append("a", Bytes::from_static(b"1")).await;
        let _a2 = store.append("a", Bytes::from_static(b"2")).await;
        let a3 = store.append("a", Bytes::from_static(b"3")).await;
        let (stream, events) = store.replay_after(&a1).await.unwrap();
        assert_eq!(stream, "a");
        assert_eq!(events.iter().map(|(_, m)| m.clone()).collect::<Vec<_>>(), [Bytes::from("2"), Bytes::from("3")]);
        assert_eq!(store.replay_after(&a3).await.unwrap().1.len(), 0);
        store.append("a", Bytes::from_static(b"4")).await;
        store.append("a", Bytes::from_static(b"5")).await;
        assert_eq!(store.replay_after(&a1).await.unwrap().1.len(), 3, "at most 3 kept");
        store.append("b", Bytes::from_static(b"x")).await;
        store.append("c", Bytes::from_static(b"y")).await;
        assert!(store.replay_after(&a1).await.is_none(), "the oldest stream was forgotten");
        assert!(store.replay_after("garbage").await.is_none());
    }
}
