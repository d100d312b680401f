//! A POST's event stream (legacy and modern Streamable HTTP), and its resumption.
//!
//! In a legacy session whose store records request streams, every event gets an id and is
//! recorded before it goes out; a 2025-11-25 session's stream starts with a priming event (an
//! id, the `retry` delay, no data). The client going away then does not cancel the request: it
//! goes on, recorded, for the client to resume with `GET` + `Last-Event-ID`, in this process or
//! (with a shared store) in another. The server may also end the connection itself (SSE
//! polling: after `sse_poll_after`, or when the handler asks), sending `retry` first.
//!
//! A recorded call ends with its answer, `notifications/cancelled` or its session's `DELETE`.
//! Without recording (2026-07-28, no session, a store that keeps no request streams, a record
//! that failed, more than `MAX_RECORDED_CALLS` recorded at once), the client going away
//! cancels the request.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use futures_util::future::BoxFuture;
use http::{Response, StatusCode};
use tokio::sync::{OwnedSemaphorePermit, mpsc, watch};
use tokio_util::sync::CancellationToken;

use mocopr_core::service::McpResponse;
use mocopr_core::{ErrorCode, ErrorObject, RequestId};

use super::body::{HttpBody, sse_event};
use super::events::EventStore;
use super::replies::{error_response, set_sse_headers};
use super::request_streams::{RequestStream, UNFINISHED_STREAM_TTL};
use crate::result_stream::{response_bytes, send_response};

/// What surrounds a message in a server-sent event.
const SSE_BEFORE: &[u8] = b"event: message\ndata: ";
const SSE_AFTER: &[u8] = b"\n\n";

/// The request streams this process is producing, for a resume here to follow live: each
/// stream's newest recorded event number. An entry goes when its stream ends.
pub(super) type LiveStreams = Arc<Mutex<HashMap<String, watch::Receiver<u64>>>>;

/// The recorded calls in flight, by session and request id, to cancel them
/// (`notifications/cancelled`, `DELETE`); at most [`MAX_RECORDED_CALLS`].
pub(super) type RecordedCalls = Arc<Mutex<HashMap<(String, RequestId), CancellationToken>>>;

/// Most calls whose streams are recorded at once: beyond it a call's stream is not recorded
/// (and the client going away cancels it, as for any unrecorded stream).
pub(super) const MAX_RECORDED_CALLS: usize = 1024;

/// Records a POST's events for resumption. Dropped when a record fails: the stream is an
/// ordinary one from there on.
pub(super) struct Recorder {
    events: Arc<dyn EventStore>,
    stream: RequestStream,
    next: u64,
    recorded: watch::Sender<u64>,
    live: LiveStreams,
    calls: RecordedCalls,
    call: (String, RequestId),
    /// Whether the session speaks 2025-11-25 or later: priming event, and SSE polling.
    polling: bool,
}

/// What a [`Recorder`] is made from.
pub(super) struct Recording<'a> {
    pub(super) events: Arc<dyn EventStore>,
    pub(super) session: &'a str,
    pub(super) request: RequestId,
    pub(super) cancel: CancellationToken,
    pub(super) polling: bool,
    pub(super) live: &'a LiveStreams,
    pub(super) calls: &'a RecordedCalls,
}

impl Recorder {
    /// A recorder for a new stream of the session's; `None` when as many calls are recorded
    /// as may be, or a call of the session's under the same id is recorded already (another
    /// would take its place, and its cancellation): that call streams unrecorded.
    pub(super) fn new(recording: Recording<'_>) -> Option<Self> {
        let call = (recording.session.to_owned(), recording.request);
        let stream = RequestStream::open(recording.session)?;
        {
            let mut calls = recording.calls.lock().unwrap_or_else(PoisonError::into_inner);
            if calls.len() >= MAX_RECORDED_CALLS {
                crate::limit_reached("max_recorded_calls");
                return None;
            }
            if calls.contains_key(&call) {
                return None;
            }
            calls.insert(call.clone(), recording.cancel);
        }
        let (recorded, watching) = watch::channel(0);
        recording.live.lock().unwrap_or_else(PoisonError::into_inner).insert(stream.id.clone(), watching);
        Some(Recorder {
            events: recording.events,
            stream,
            next: 0,
            recorded,
            live: recording.live.clone(),
            calls: recording.calls.clone(),
            call,
            polling: recording.polling,
        })
    }

    /// Stops recording a call that will not answer through its stream (cancelled, or its
    /// answer cannot be recorded): the store forgets the stream, so a resume is refused at
    /// once and the client learns the call is lost, rather than waiting for events that will
    /// not come.
    ///
    /// In a task of its own, under a deadline: the stream goes on (or ends) without waiting
    /// for the store, and a store that does not answer holds the call's place only that long.
    fn abandon(self) {
        tokio::spawn(async move {
            let forget = self.events.forget_stream(&self.stream.id);
            if tokio::time::timeout(FORGET_DEADLINE, forget).await.is_err() {
                tracing::warn!("the event store did not forget an abandoned stream in time; it expires by itself");
            }
            drop(self);
        });
    }

    /// Whether the server may end this stream's connection for the client to poll.
    pub(super) fn polls(&self) -> bool {
        self.polling
    }

    /// Records `message` (empty for the priming event) as the next event; the event to send,
    /// `None` when it could not be recorded.
    async fn record(&mut self, message: Bytes, end: bool, retry: Option<Duration>) -> Option<Bytes> {
        let seq = self.next;
        self.next += 1;
        if !self.events.append_to_stream(&self.stream, seq, message.clone(), end).await {
            return None;
        }
        self.recorded.send_replace(seq);
        Some(event_with_id(&self.stream.event_id(seq), &message, retry))
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        self.live.lock().unwrap_or_else(PoisonError::into_inner).remove(&self.stream.id);
        self.calls.lock().unwrap_or_else(PoisonError::into_inner).remove(&self.call);
    }
}

/// An event with an id (and `retry`, on the priming event): `data` empty for the priming event.
fn event_with_id(id: &str, message: &[u8], retry: Option<Duration>) -> Bytes {
    let mut out = Vec::with_capacity(message.len() + id.len() + 48);
    out.extend_from_slice(b"id: ");
    out.extend_from_slice(id.as_bytes());
    out.push(b'\n');
    if let Some(retry) = retry {
        out.extend_from_slice(format!("retry: {}\n", retry.as_millis()).as_bytes());
    }
    if message.is_empty() {
        out.extend_from_slice(b"data: \n\n");
    } else {
        out.extend_from_slice(SSE_BEFORE);
        out.extend_from_slice(message);
        out.extend_from_slice(SSE_AFTER);
    }
    Bytes::from(out)
}

/// The `retry` event sent before the server ends a stream's connection.
fn retry_event(retry: Duration) -> Bytes {
    Bytes::from(format!("retry: {}\n\n", retry.as_millis()))
}

/// One POST's event stream, as it is handed to its task.
pub(super) struct PostStream {
    /// The notification that made the answer a stream, if one did.
    pub(super) first: Option<Bytes>,
    pub(super) rx: mpsc::Receiver<Bytes>,
    pub(super) future: BoxFuture<'static, Result<McpResponse, Infallible>>,
    /// Cancels the request.
    pub(super) token: CancellationToken,
    /// The listener shutting down (a listen stream's end).
    pub(super) closing: Option<CancellationToken>,
    /// A listen stream's place.
    pub(super) slot: Option<OwnedSemaphorePermit>,
    pub(super) recorder: Option<Recorder>,
    /// The handler asked to end the connection (SSE polling).
    pub(super) close: CancellationToken,
    pub(super) poll_after: Option<Duration>,
    pub(super) retry: Duration,
    pub(super) keep_alive: Duration,
    pub(super) queue: usize,
}

impl PostStream {
    /// Starts the stream's task; the response that carries it.
    pub(super) fn respond(self) -> Response<HttpBody> {
        let (body_tx, body_rx) = mpsc::channel::<Bytes>(self.queue.max(1));
        // A recorded stream outlives its connection; an unrecorded one is cancelled with it.
        let guard = self.recorder.is_none().then(|| self.token.clone().drop_guard());
        tokio::spawn(self.run(body_tx));
        let mut response = Response::new(HttpBody::stream(body_rx, guard));
        set_sse_headers(response.headers_mut());
        response
    }

    async fn run(self, body_tx: mpsc::Sender<Bytes>) {
        let PostStream {
            first,
            mut rx,
            mut future,
            token,
            closing,
            slot,
            mut recorder,
            close,
            poll_after,
            retry,
            keep_alive,
            ..
        } = self;
        let _slot = slot;
        let closing = async move {
            match closing {
                Some(closing) => closing.cancelled_owned().await,
                None => std::future::pending().await,
            }
        };
        tokio::pin!(closing);
        let poll_deadline = async move {
            match poll_after {
                Some(after) => tokio::time::sleep(after).await,
                None => std::future::pending().await,
            }
        };
        tokio::pin!(poll_deadline);
        // A recorded call nobody reads that records nothing for as long as its stream is kept
        // could be resumed by no one: it is cancelled then (so a handler that never returns
        // does not hold a recorded call's place for ever).
        let unread = tokio::time::sleep(UNFINISHED_STREAM_TTL);
        tokio::pin!(unread);
        // `None` once the connection is gone or was ended by the server.
        let mut out = Some(body_tx);
        let mut notifications_open = true;
        let mut tick = tokio::time::interval(keep_alive.max(Duration::from_millis(1)));
        tick.tick().await;
        if let Some(active) = recorder.as_mut().filter(|r| r.polls()) {
            match active.record(Bytes::new(), false, Some(retry)).await {
                Some(priming) => send(&mut out, priming).await,
                None => abandon(&mut recorder),
            }
        }
        if let Some(first) = first {
            let event = event(&mut recorder, first, false).await;
            send(&mut out, event).await;
        }
        loop {
            // Unrecorded (or no longer recorded), a stream nobody reads is a call nobody waits for.
            if out.is_none() && recorder.is_none() {
                token.cancel();
                return;
            }
            let polling = recorder.as_ref().is_some_and(Recorder::polls);
            tokio::select! {
                biased;
                // Cancelled (`notifications/cancelled`, `DELETE`): the handler is dropped and
                // the call gets no answer.
                () = token.cancelled() => {
                    abandon(&mut recorder);
                    return;
                }
                message = rx.recv(), if notifications_open => match message {
                    Some(message) => {
                        let event = event(&mut recorder, message, false).await;
                        send(&mut out, event).await;
                        unread.as_mut().reset(tokio::time::Instant::now() + UNFINISHED_STREAM_TTL);
                    }
                    None => notifications_open = false,
                },
                Ok(response) = &mut future => {
                    while let Ok(message) = rx.try_recv() {
                        let event = event(&mut recorder, message, false).await;
                        send(&mut out, event).await;
                    }
                    // A streamed result (a large resource) goes out as it comes, unrecorded: a
                    // client that loses it (or had already gone) is refused its resume, and
                    // calls again.
                    if matches!(response.outcome, Ok(mocopr_core::service::ResultBody::Stream(_))) {
                        abandon(&mut recorder);
                    }
                    if recorder.is_some() {
                        let bytes = Bytes::from(response_bytes(response).await);
                        let event = event(&mut recorder, bytes, true).await;
                        send(&mut out, event).await;
                    } else if let Some(tx) = &out {
                        send_response(response, SSE_BEFORE, SSE_AFTER, tx).await;
                    }
                    return;
                }
                _ = tick.tick(), if out.is_some() => {
                    send(&mut out, Bytes::from_static(b": keep-alive\n\n")).await;
                }
                () = closed(&out) => out = None,
                // The listener is shutting down: the stream ends unanswered, as when the
                // server goes away, and the client listens again elsewhere.
                () = &mut closing => {
                    token.cancel();
                    abandon(&mut recorder);
                    return;
                }
                // SSE polling: the connection ends, the request goes on, recorded; the client
                // comes back after `retry`.
                () = &mut unread, if out.is_none() => {
                    token.cancel();
                    abandon(&mut recorder);
                    return;
                }
                () = close.cancelled(), if polling && out.is_some() => {
                    send(&mut out, retry_event(retry)).await;
                    out = None;
                }
                () = &mut poll_deadline, if polling && out.is_some() => {
                    send(&mut out, retry_event(retry)).await;
                    out = None;
                }
            }
        }
    }
}

/// Stops recording (see [`Recorder::abandon`]): the stream goes on as an ordinary one while
/// its connection lasts.
fn abandon(recorder: &mut Option<Recorder>) {
    if let Some(abandoned) = recorder.take() {
        abandoned.abandon();
    }
}

/// How long forgetting an abandoned stream may take.
const FORGET_DEADLINE: Duration = Duration::from_secs(5);

/// The event for `message`: recorded (with an id) while the stream is; a record that fails
/// ends the recording.
async fn event(recorder: &mut Option<Recorder>, message: Bytes, end: bool) -> Bytes {
    if let Some(active) = recorder.as_mut() {
        if let Some(event) = active.record(message.clone(), end, None).await {
            return event;
        }
        abandon(recorder);
    }
    sse_event(&message)
}

/// Sends `event` while the connection is there; forgets the connection once it is gone.
async fn send(out: &mut Option<mpsc::Sender<Bytes>>, event: Bytes) {
    if event.is_empty() {
        return;
    }
    if let Some(tx) = out
        && tx.send(event).await.is_err()
    {
        *out = None;
    }
}

/// Resolves when the connection `out` feeds is gone (never while there is none).
async fn closed(out: &Option<mpsc::Sender<Bytes>>) {
    match out {
        Some(tx) => tx.closed().await,
        None => std::future::pending().await,
    }
}

/// `GET` + `Last-Event-ID` naming event `after` of request stream `stream`: what came after
/// it, in order and once each, then (while the stream's producer is in this process) what
/// comes next; a stream produced elsewhere that has not ended yet is left with `retry`, for
/// the client to poll again. Refused when the stream is not the session's, or not known.
pub(super) struct Resume {
    pub(super) events: Arc<dyn EventStore>,
    pub(super) live: Option<watch::Receiver<u64>>,
    pub(super) stream: String,
    pub(super) after: u64,
    pub(super) session: String,
    pub(super) retry: Duration,
    pub(super) keep_alive: Duration,
    pub(super) queue: usize,
}

impl Resume {
    /// The response to the `GET`.
    pub(super) async fn respond(self) -> Response<HttpBody> {
        let replay = match self.events.replay_stream_after(&self.stream, self.after).await {
            Ok(replay) => replay,
            // The store may answer again: the client tries again, unlike for a refusal.
            Err(unavailable) => {
                tracing::warn!(error = %unavailable, "cannot resume a stream");
                let error = ErrorObject::new(ErrorCode::INTERNAL_ERROR, "streams are unavailable, retry later");
                return error_response(StatusCode::SERVICE_UNAVAILABLE, None, error);
            }
        };
        let Some(replay) = replay.filter(|r| r.session == self.session) else {
            let error =
                ErrorObject::new(ErrorCode::INVALID_REQUEST, "Last-Event-ID names no stream that can be resumed");
            return error_response(StatusCode::BAD_REQUEST, None, error);
        };
        let (tx, rx) = mpsc::channel::<Bytes>(self.queue.max(1));
        tokio::spawn(self.run(replay, tx));
        let mut response = Response::new(HttpBody::stream(rx, None));
        set_sse_headers(response.headers_mut());
        response
    }

    async fn run(mut self, mut replay: super::request_streams::StreamReplay, tx: mpsc::Sender<Bytes>) {
        let stream = RequestStream::new(self.stream.clone(), self.session.clone());
        let mut tick = tokio::time::interval(self.keep_alive.max(Duration::from_millis(1)));
        tick.tick().await;
        let mut waited = Duration::ZERO;
        loop {
            let delivered = !replay.events.is_empty();
            for (seq, message) in std::mem::take(&mut replay.events) {
                if tx.send(event_with_id(&stream.event_id(seq), &message, None)).await.is_err() {
                    return;
                }
                self.after = seq;
            }
            if replay.ended {
                return;
            }
            match self.live.as_mut() {
                // Produced here: follow it as it records.
                Some(live) => {
                    tokio::select! {
                        changed = live.changed() => {
                            // The producer ended (its last event is recorded, or it stopped
                            // recording) or recorded more.
                            if changed.is_err() {
                                self.live = None;
                            }
                        }
                        _ = tick.tick() => {
                            if tx.send(Bytes::from_static(b": keep-alive\n\n")).await.is_err() {
                                return;
                            }
                            continue;
                        }
                        () = tx.closed() => return,
                    }
                }
                // Produced elsewhere (or no longer producing): look again for a while, then
                // send the client back with `retry`.
                None => {
                    waited = if delivered { Duration::ZERO } else { waited + ELSEWHERE_POLL };
                    if waited >= ELSEWHERE_WAIT {
                        let _ = tx.send(retry_event(self.retry)).await;
                        return;
                    }
                    tokio::select! {
                        () = tokio::time::sleep(ELSEWHERE_POLL) => {}
                        () = tx.closed() => return,
                    }
                }
            }
            match self.events.replay_stream_after(&self.stream, self.after).await {
                Ok(Some(more)) => replay = more,
                // Lost (forgotten, or a hole): the client's next resume gets the refusal. Or
                // the store did not answer: the next resume asks again.
                Ok(None) | Err(_) => {
                    let _ = tx.send(retry_event(self.retry)).await;
                    return;
                }
            }
        }
    }
}

/// How often a resume of a stream another process produces looks at the store.
const ELSEWHERE_POLL: Duration = Duration::from_millis(250);
/// How long such a resume waits for a new event before it sends the client back.
const ELSEWHERE_WAIT: Duration = Duration::from_secs(10);
