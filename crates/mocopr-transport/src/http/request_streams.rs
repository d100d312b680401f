//! Request streams (legacy Streamable HTTP): the events of a POST's event stream, recorded so
//! that a client whose connection dropped, or that the server closed to be polled, resumes the
//! stream with `GET` + `Last-Event-ID` and gets what came after, once each and in order.
//!
//! Each stream has an id of its own (random), and its events the ids `STREAM:SEQ`, the first
//! (`SEQ` 0) being the priming event: so an event id names the one stream it may resume, and a
//! resume never replays another stream's messages. A stream belongs to the session whose POST
//! opened it.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use bytes::Bytes;

/// How long a request stream's events stay resumable after its last event (its answer).
pub(crate) const STREAM_EVENTS_TTL: Duration = Duration::from_secs(300);
/// How long a stream whose answer has not come yet stays resumable after its newest event (a
/// call may be silent for a long while).
pub(crate) const UNFINISHED_STREAM_TTL: Duration = Duration::from_secs(3600);
/// Most events one request stream keeps (the oldest go first).
pub(crate) const MAX_STREAM_EVENTS: usize = 1024;
/// Most bytes of messages one request stream keeps in memory (the oldest go first).
pub(crate) const MAX_STREAM_BYTES: usize = 4 * 1024 * 1024;
/// Most request streams kept in memory at once (the least recently used go first).
const MAX_STREAMS: usize = 1024;
/// Most bytes all request streams keep in memory together.
const MAX_TOTAL_BYTES: usize = 64 * 1024 * 1024;

/// The request stream an event belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RequestStream {
    /// The stream's id: visible ASCII, without `:`.
    pub id: String,
    /// The legacy session whose POST opened it.
    pub session: String,
}

impl RequestStream {
    /// The stream `id` (visible ASCII letters and digits) of `session`.
    ///
    /// ```
    /// use mocopr_transport::http::RequestStream;
    ///
    /// let stream = RequestStream::new("9f2c", "session-1");
    /// assert_eq!((stream.id.as_str(), stream.session.as_str()), ("9f2c", "session-1"));
    /// ```
    pub fn new(id: impl Into<String>, session: impl Into<String>) -> Self {
        RequestStream { id: id.into(), session: session.into() }
    }

    /// A stream of `session`'s, with a new random id; `None` when the OS random source failed.
    pub(crate) fn open(session: &str) -> Option<Self> {
        Some(RequestStream { id: super::sessions::new_session_id()?, session: session.to_owned() })
    }

    /// The SSE event id of this stream's event `seq`.
    pub(crate) fn event_id(&self, seq: u64) -> String {
        format!("{}:{seq}", self.id)
    }
}

/// The stream and position an event id names, when it is a request stream's (`STREAM:SEQ`);
/// `None` for anything else, e.g. a standalone stream's ids.
///
/// ```
/// use mocopr_transport::http::request_stream_position;
///
/// assert_eq!(request_stream_position("9f2c:4"), Some(("9f2c", 4)));
/// assert_eq!(request_stream_position("17"), None);
/// ```
pub fn request_stream_position(event_id: &str) -> Option<(&str, u64)> {
    let (stream, seq) = event_id.rsplit_once(':')?;
    if stream.is_empty() || !stream.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return None;
    }
    Some((stream, seq.parse().ok()?))
}

/// What a request stream recorded after a position.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct StreamReplay {
    /// The session the stream belongs to.
    pub session: String,
    /// The events after the position: sequence number and message (the priming event's is
    /// empty).
    pub events: Vec<(u64, Bytes)>,
    /// Whether the stream's last event (its answer) is recorded, at or before the newest of
    /// `events`: nothing more will come.
    pub ended: bool,
}

impl StreamReplay {
    /// A replay.
    pub fn new(session: String, events: Vec<(u64, Bytes)>, ended: bool) -> Self {
        StreamReplay { session, events, ended }
    }
}

/// Whether `events` are the ones right after `after`, with none missing in between (an event
/// that could not be recorded leaves a hole no replay may skip).
pub(crate) fn contiguous_after(after: u64, events: &[(u64, Bytes)]) -> bool {
    events.iter().zip(after.saturating_add(1)..).all(|((seq, _), expected)| *seq == expected)
}

/// The request streams of one process, in memory, bounded in count and bytes.
#[derive(Debug, Default)]
pub(crate) struct InMemoryRequestStreams {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    streams: HashMap<String, Recorded>,
    bytes: usize,
}

#[derive(Debug)]
struct Recorded {
    session: String,
    events: VecDeque<(u64, Bytes)>,
    bytes: usize,
    ended: bool,
    touched: Instant,
}

impl InMemoryRequestStreams {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Records event `seq` of `stream`. A message larger than a stream may keep is not
    /// recorded (`false`): the stream can then not be resumed past it.
    pub(crate) fn append(&self, stream: &RequestStream, seq: u64, message: Bytes, end: bool) -> bool {
        if message.len() > MAX_STREAM_BYTES {
            return false;
        }
        let now = Instant::now();
        let mut state = self.lock();
        let state = &mut *state;
        if !state.streams.contains_key(&stream.id) {
            state.expire(now);
            if state.streams.len() >= MAX_STREAMS {
                state.evict_least_recent();
            }
            let recorded = Recorded {
                session: stream.session.clone(),
                events: VecDeque::new(),
                bytes: 0,
                ended: false,
                touched: now,
            };
            state.streams.insert(stream.id.clone(), recorded);
        }
        while state.bytes + message.len() > MAX_TOTAL_BYTES && state.evict_least_recent_but(&stream.id) {}
        let Some(recorded) = state.streams.get_mut(&stream.id) else { return false };
        recorded.bytes += message.len();
        state.bytes += message.len();
        recorded.events.push_back((seq, message));
        recorded.ended |= end;
        recorded.touched = now;
        while recorded.events.len() > MAX_STREAM_EVENTS || recorded.bytes > MAX_STREAM_BYTES {
            let Some((_, old)) = recorded.events.pop_front() else { break };
            recorded.bytes -= old.len();
            state.bytes -= old.len();
        }
        true
    }

    /// Forgets `stream`: a resume of it is refused from now on.
    pub(crate) fn forget(&self, stream: &str) {
        let mut state = self.lock();
        if let Some(recorded) = state.streams.remove(stream) {
            state.bytes -= recorded.bytes;
        }
    }

    /// The events of `stream` after `after`; `None` when the stream is unknown (never
    /// recorded here, or forgotten) or no longer holds the event after `after`.
    pub(crate) fn replay_after(&self, stream: &str, after: u64) -> Option<StreamReplay> {
        let mut state = self.lock();
        state.expire(Instant::now());
        let recorded = state.streams.get(stream)?;
        let newest = recorded.events.back().map(|(seq, _)| *seq);
        // A position the stream never reached is not one of its ids.
        if newest.is_none_or(|newest| after > newest) {
            return None;
        }
        // Something after `after` was recorded but is no longer kept: a gap, not a replay.
        if let Some(&(oldest, _)) = recorded.events.front()
            && oldest > after.saturating_add(1)
            && newest > Some(after)
        {
            return None;
        }
        let events: Vec<(u64, Bytes)> = recorded.events.iter().filter(|(seq, _)| *seq > after).cloned().collect();
        if !contiguous_after(after, &events) {
            return None;
        }
        Some(StreamReplay::new(recorded.session.clone(), events, recorded.ended))
    }
}

impl State {
    fn expire(&mut self, now: Instant) {
        let before = self.streams.len();
        let mut freed = 0;
        self.streams.retain(|_, recorded| {
            let ttl = if recorded.ended { STREAM_EVENTS_TTL } else { UNFINISHED_STREAM_TTL };
            let keep = now.duration_since(recorded.touched) < ttl;
            if !keep {
                freed += recorded.bytes;
            }
            keep
        });
        if self.streams.len() != before {
            self.bytes -= freed;
        }
    }

    fn evict_least_recent(&mut self) -> bool {
        self.evict_least_recent_but("")
    }

    /// Drops the least recently used stream other than `keep`; `false` when there is none.
    fn evict_least_recent_but(&mut self, keep: &str) -> bool {
        let oldest = self.streams.iter().filter(|(id, _)| id.as_str() != keep).min_by_key(|(_, r)| r.touched);
        let Some(id) = oldest.map(|(id, _)| id.clone()) else { return false };
        if let Some(recorded) = self.streams.remove(&id) {
            self.bytes -= recorded.bytes;
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stream(id: &str) -> RequestStream {
        RequestStream { id: id.to_owned(), session: "s".to_owned() }
    }

    #[test]
    fn a_replay_gives_what_came_after_once_and_says_when_the_stream_ended() {
        let streams = InMemoryRequestStreams::default();
        let a = stream("a");
        for seq in 0..4 {
            assert!(streams.append(&a, seq, Bytes::from(format!("m{seq}")), seq == 3));
        }
        streams.append(&stream("b"), 0, Bytes::from_static(b"other"), false);
        let replay = streams.replay_after("a", 1).unwrap();
        assert_eq!(replay.events, [(2, Bytes::from("m2")), (3, Bytes::from("m3"))]);
        assert!(replay.ended);
        assert_eq!(replay.session, "s");
        assert!(streams.replay_after("a", 3).unwrap().events.is_empty());
        assert!(!streams.replay_after("b", 0).unwrap().ended);
        assert!(streams.replay_after("c", 0).is_none(), "an unknown stream");
        assert!(streams.replay_after("a", 4).is_none(), "a position the stream never reached");
    }

    #[test]
    fn a_stream_keeps_its_newest_events_and_refuses_a_replay_across_a_gap() {
        let streams = InMemoryRequestStreams::default();
        let a = stream("a");
        for seq in 0..(MAX_STREAM_EVENTS as u64 + 10) {
            streams.append(&a, seq, Bytes::from_static(b"x"), false);
        }
        assert!(streams.replay_after("a", 0).is_none(), "events after 0 were dropped");
        let newest = MAX_STREAM_EVENTS as u64 + 9;
        assert_eq!(streams.replay_after("a", newest - 2).unwrap().events.len(), 2);
        assert_eq!(streams.lock().bytes, MAX_STREAM_EVENTS);
    }

    #[test]
    fn streams_are_bounded_in_count_and_bytes() {
        let streams = InMemoryRequestStreams::default();
        for n in 0..(MAX_STREAMS + 5) {
            streams.append(&stream(&format!("s{n}")), 0, Bytes::from_static(b"x"), false);
        }
        assert_eq!(streams.lock().streams.len(), MAX_STREAMS);
        assert!(streams.replay_after("s0", 0).is_none(), "the least recently used went first");
        let big = Bytes::from(vec![b'x'; MAX_STREAM_BYTES]);
        for n in 0..(MAX_TOTAL_BYTES / MAX_STREAM_BYTES + 2) {
            assert!(streams.append(&stream(&format!("big{n}")), 0, big.clone(), false));
        }
        assert!(streams.lock().bytes <= MAX_TOTAL_BYTES);
        assert!(!streams.append(&stream("huge"), 0, Bytes::from(vec![0; MAX_STREAM_BYTES + 1]), false));
    }

    #[test]
    fn an_event_that_could_not_be_recorded_is_never_skipped_by_a_replay() {
        let streams = InMemoryRequestStreams::default();
        let a = stream("a");
        streams.append(&a, 0, Bytes::new(), false);
        assert!(!streams.append(&a, 1, Bytes::from(vec![0; MAX_STREAM_BYTES + 1]), false));
        streams.append(&a, 2, Bytes::from_static(b"after the hole"), true);
        assert!(streams.replay_after("a", 0).is_none());
        assert_eq!(streams.replay_after("a", 1).unwrap().events.len(), 1);
    }

    #[test]
    fn event_ids_name_their_stream() {
        let a = stream("ab12");
        assert_eq!(a.event_id(7), "ab12:7");
        assert_eq!(request_stream_position(&a.event_id(7)), Some(("ab12", 7)));
        assert_eq!(request_stream_position("1700000000000-4"), None, "a standalone stream's id");
        assert_eq!(request_stream_position(":4"), None);
        assert_eq!(request_stream_position("a b:4"), None);
        assert_eq!(request_stream_position("ab:x"), None);
    }
}
