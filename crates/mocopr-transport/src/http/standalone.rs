//! A legacy session's standalone (GET) stream: the events of the endpoint's log the session
//! wants, replayed after `Last-Event-ID` and then live, each once and in log order.

use std::sync::Arc;

use bytes::Bytes;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::body::sse_event;
use super::events::{Event, EventStore, event_position};
use super::sessions::SessionStore;
use crate::session::SessionState;

/// One open standalone stream: the events of the endpoint's log its session wants, replayed
/// after `Last-Event-ID` and then live, each once and in log order.
pub(super) struct Standalone {
    pub(super) session: String,
    pub(super) sessions: Arc<dyn SessionStore>,
    pub(super) events: Arc<dyn EventStore>,
    pub(super) out: mpsc::Sender<Bytes>,
    /// The session's state as last read. An event it does not want is checked again against a
    /// fresh read (another process may have added the subscription); the keep-alive tick
    /// refreshes it too, and ends the stream when the session ended elsewhere.
    pub(super) state: Option<SessionState>,
    /// The id of the last event delivered (or skipped), and its position, to drop live events
    /// a replay already covered and to re-read the log after.
    pub(super) last_id: Option<String>,
    pub(super) last: Option<(u64, u64)>,
}

impl Standalone {
    pub(super) async fn run(
        mut self,
        mut live: tokio::sync::broadcast::Receiver<Event>,
        token: CancellationToken,
        keep_alive: std::time::Duration,
    ) {
        if !self.replay().await {
            return;
        }
        let mut tick = tokio::time::interval(keep_alive);
        tick.tick().await;
        loop {
            tokio::select! {
                biased;
                () = token.cancelled() => return,
                event = live.recv() => match event {
                    Ok(event) => {
                        if !self.deliver(event).await {
                            return;
                        }
                    }
                    // Fell behind the live feed: read what was missed from the log.
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                        if !self.replay().await {
                            return;
                        }
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
                },
                _ = tick.tick() => {
                    if !self.refresh().await {
                        return;
                    }
                    if self.out.send(Bytes::from_static(b": keep-alive\n\n")).await.is_err() {
                        return;
                    }
                }
            }
        }
    }

    /// Delivers what the log holds after the last event; `false` when the stream is over. An
    /// id the log does not know (forgotten, from another log, or ahead of it) replays nothing,
    /// and live events then go out from the next one on.
    async fn replay(&mut self) -> bool {
        let Some(after) = self.last_id.clone() else { return true };
        let Some(events) = self.events.replay_after(&after).await else {
            self.last_id = None;
            self.last = None;
            return true;
        };
        for event in events {
            if !self.deliver(event).await {
                return false;
            }
        }
        true
    }

    /// Reads the session's state again; `false` when the session ended. A store that cannot
    /// answer keeps the state as it was.
    async fn refresh(&mut self) -> bool {
        match self.sessions.get(&self.session).await {
            Ok(Some(session)) => {
                self.state = session.state();
                true
            }
            Ok(None) => false,
            Err(_) => true,
        }
    }

    /// Sends `event` when the session wants it; `false` when the stream is over (the client
    /// left, or the session ended).
    async fn deliver(&mut self, event: Event) -> bool {
        let position = event.id.as_deref().and_then(event_position);
        if position.is_some() && position <= self.last {
            return true;
        }
        if position.is_some() {
            self.last = position;
            self.last_id.clone_from(&event.id);
        }
        let wants = |state: &Option<SessionState>| state.as_ref().is_some_and(|s| s.wants(&event.message));
        if !wants(&self.state) {
            if !self.refresh().await {
                return false;
            }
            if !wants(&self.state) {
                return true;
            }
        }
        let bytes = match &event.id {
            Some(id) => sse_event_with_id(id, &event.message),
            None => sse_event(&event.message),
        };
        self.out.send(bytes).await.is_ok()
    }
}

/// A server-sent event with an id.
fn sse_event_with_id(id: &str, message: &[u8]) -> Bytes {
    let mut out = Vec::with_capacity(message.len() + id.len() + 24);
    out.extend_from_slice(b"id: ");
    out.extend_from_slice(id.as_bytes());
    out.push(b'\n');
    out.extend_from_slice(&sse_event(message));
    Bytes::from(out)
}
