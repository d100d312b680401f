//! [`StreamableHttpService`]: the MCP endpoint as a `tower::Service<http::Request<B>>`, to mount
//! in an axum `Router` (or serve with [`serve_http`](super::serve_http)).
//!
//! POST carries one JSON-RPC message (a batch only in a 2025-03-26 session). A request is
//! answered with `application/json` when its handler finishes without sending notifications,
//! and switches to `text/event-stream` as soon as one is sent (progress, logging, a listen
//! stream), with the response as the stream's last event. Legacy sessions start with
//! `initialize` and travel in `Mcp-Session-Id`; DELETE ends one. Modern requests carry their
//! `MCP-Protocol-Version`, `Mcp-Method`, `Mcp-Name` and `Mcp-Param-*` headers, which the
//! dispatcher checks against the body.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_util::future::BoxFuture;
use http::header::{ALLOW, CONTENT_LENGTH, CONTENT_TYPE};
use http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode};
use http_body::Body;
use http_body_util::{BodyExt, Limited};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tower_service::Service;

use mocopr_core::jsonrpc::{DecodeOptions, Envelope, Frame, decode};
use mocopr_core::principal::Principal;
use mocopr_core::service::{McpRequest, McpResponse, ResultBody};
use mocopr_core::{ErrorCode, ErrorObject, ProtocolVersion};

use super::body::HttpBody;
use super::config::EndpointConfig;
use super::events::{EventStore, InMemoryEventStore, event_position};
use super::origin;
use super::post_stream::{LiveStreams, PostStream, RecordedCalls, Recorder, Recording, Resume};
use super::replies::{
    accepted, bad_request_without_body, error_response, json_response, rejection_bytes, session_not_found,
    set_sse_headers, store_unavailable, too_large,
};
use super::request_head::{carry_extensions, mcp_headers, refusal};
use super::request_streams::request_stream_position;
use super::serve::ListenerClosing;
use super::sessions::{InMemorySessionStore, SessionStore};
use super::standalone::Standalone;
use crate::notify::Notifier;
use crate::result_stream::{STREAM_CHUNKS_QUEUED, response_bytes, send_response};
use crate::session::{Session, SessionState};

/// The `Mcp-Session-Id` header.
pub const SESSION_ID_HEADER: &str = "mcp-session-id";

/// [`SESSION_ID_HEADER`] as a header name (looked up without parsing the name each time).
const SESSION_ID: http::HeaderName = http::HeaderName::from_static(SESSION_ID_HEADER);

const PROTOCOL_VERSION: http::HeaderName = http::HeaderName::from_static("mcp-protocol-version");

/// The Streamable HTTP endpoint over an MCP service `S`. Cheap to clone.
pub struct StreamableHttpService<S> {
    shared: Arc<Shared<S>>,
}

struct Shared<S> {
    service: S,
    config: EndpointConfig,
    sessions: Arc<dyn SessionStore>,
    events: Arc<dyn EventStore>,
    /// The open standalone (GET) stream of each legacy session in this process, to end when a
    /// newer one replaces it.
    standalone: Mutex<HashMap<String, CancellationToken>>,
    /// Places for open 2026-07-28 listen streams (`max_listen_streams`).
    listen_slots: Arc<tokio::sync::Semaphore>,
    /// The request streams this process is producing, for a resume here to follow live.
    live_streams: LiveStreams,
    /// The recorded calls in flight, to cancel (a recorded call outlives its connection).
    recorded_calls: RecordedCalls,
}

/// The log a legacy HTTP session's change notifications go to: given to every legacy request
/// (in its extensions), so the server can feed the endpoint's standalone streams.
#[derive(Clone)]
pub struct StandaloneEvents(pub Arc<dyn EventStore>);

impl std::fmt::Debug for StandaloneEvents {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StandaloneEvents")
    }
}

impl<S> Clone for StreamableHttpService<S> {
    fn clone(&self) -> Self {
        StreamableHttpService { shared: self.shared.clone() }
    }
}

impl<S> std::fmt::Debug for StreamableHttpService<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamableHttpService").field("config", &self.shared.config).finish()
    }
}

impl<S> StreamableHttpService<S>
where
    S: Service<McpRequest, Response = McpResponse, Error = Infallible> + Clone + Send + Sync + 'static,
    S::Future: Send + 'static,
{
    /// The endpoint with in-memory legacy sessions.
    pub fn new(service: S, config: EndpointConfig) -> Self {
        let sessions = Arc::new(
            InMemorySessionStore::new(config.max_sessions)
                .with_max_bytes(config.max_session_bytes)
                .with_idle_timeout(config.session_idle_timeout),
        );
        Self::with_stores(service, config, sessions, Arc::new(InMemoryEventStore::default()))
    }

    /// The endpoint with legacy sessions kept in `sessions` and their standalone streams'
    /// events in `events` (e.g. [`RedisSessionStore`](super::RedisSessionStore) and
    /// [`RedisEventStore`](super::RedisEventStore), for sessions any process can serve).
    pub fn with_stores(
        service: S,
        config: EndpointConfig,
        sessions: Arc<dyn SessionStore>,
        events: Arc<dyn EventStore>,
    ) -> Self {
        if let super::config::AllowedOrigins::Exactly(origins) = &config.allowed_origins {
            for origin in origins.iter().filter(|o| !origin::is_origin(o)) {
                tracing::warn!(%origin, "an allowed origin is not `scheme://host[:port]`; it matches nothing");
            }
        }
        let standalone = Mutex::default();
        let listen_slots = Arc::new(tokio::sync::Semaphore::new(config.max_listen_streams));
        StreamableHttpService {
            shared: Arc::new(Shared {
                service,
                config,
                sessions,
                events,
                standalone,
                listen_slots,
                live_streams: LiveStreams::default(),
                recorded_calls: RecordedCalls::default(),
            }),
        }
    }

    /// The store of this endpoint's legacy sessions (e.g. to count them).
    pub fn sessions(&self) -> &Arc<dyn SessionStore> {
        &self.shared.sessions
    }
}

impl<S, B> Service<Request<B>> for StreamableHttpService<S>
where
    S: Service<McpRequest, Response = McpResponse, Error = Infallible> + Clone + Send + Sync + 'static,
    S::Future: Send + 'static,
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    type Response = Response<HttpBody>;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<Response<HttpBody>, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        // Each method's work is its own boxed future, built here rather than inside one async
        // block over all of them: a block holding every branch would be as large as the largest
        // (3.8 KB for POST), past glibc's thread cache, and copied whole into its box.
        if let Some(refusal) = refusal(request.headers(), &self.shared.config) {
            return Box::pin(std::future::ready(Ok(refusal)));
        }
        let shared = self.shared.clone();
        match *request.method() {
            Method::POST => {
                let (parts, body) = request.into_parts();
                Box::pin(shared.post(parts, body))
            }
            Method::GET => Box::pin(async move {
                let (headers, extensions) = (request.headers(), request.extensions());
                Ok(shared.get(headers, extensions.get::<ListenerClosing>(), extensions.get::<Principal>()).await)
            }),
            Method::DELETE => {
                Box::pin(
                    async move { Ok(shared.delete(request.headers(), request.extensions().get::<Principal>()).await) },
                )
            }
            _ => {
                let mut response = Response::new(HttpBody::empty());
                *response.status_mut() = StatusCode::METHOD_NOT_ALLOWED;
                response.headers_mut().insert(ALLOW, HeaderValue::from_static("GET, POST, DELETE"));
                Box::pin(std::future::ready(Ok(response)))
            }
        }
    }
}

impl<S> Shared<S>
where
    S: Service<McpRequest, Response = McpResponse, Error = Infallible> + Clone + Send + Sync + 'static,
    S::Future: Send + 'static,
{
    async fn delete(&self, headers: &HeaderMap, principal: Option<&Principal>) -> Response<HttpBody> {
        let Some(id) = headers.get(&SESSION_ID).and_then(|v| v.to_str().ok()) else {
            return error_response(
                StatusCode::BAD_REQUEST,
                None,
                ErrorObject::new(ErrorCode::INVALID_REQUEST, "missing Mcp-Session-Id"),
            );
        };
        // Another caller's session is, to this caller, no session at all.
        match self.sessions.get(id).await {
            Ok(Some(session)) if owned_by(&session, principal) => {}
            Ok(_) => return session_not_found(),
            Err(error) => return store_unavailable(&error),
        }
        if let Some(stream) = self.standalone().remove(id) {
            stream.cancel();
        }
        // The session's recorded calls end with it.
        for ((session, _), call) in self.recorded_calls.lock().unwrap_or_else(std::sync::PoisonError::into_inner).iter()
        {
            if session == id {
                call.cancel();
            }
        }
        if self.sessions.remove(id).await { Response::new(HttpBody::empty()) } else { session_not_found() }
    }

    /// GET: a legacy session's standalone stream; with `Last-Event-ID`, first what was missed.
    async fn get(
        &self,
        headers: &HeaderMap,
        closing: Option<&ListenerClosing>,
        principal: Option<&Principal>,
    ) -> Response<HttpBody> {
        let Some(id) = headers.get(&SESSION_ID).and_then(|v| v.to_str().ok()) else {
            return error_response(
                StatusCode::BAD_REQUEST,
                None,
                ErrorObject::new(ErrorCode::INVALID_REQUEST, "missing Mcp-Session-Id"),
            );
        };
        let session = match self.sessions.get(id).await {
            Ok(Some(session)) if owned_by(&session, principal) => session,
            Ok(_) => return session_not_found(),
            Err(error) => return store_unavailable(&error),
        };
        let last = headers.get("last-event-id").and_then(|v| v.to_str().ok()).map(str::to_owned);
        // A POST's stream, resumed: the session's standalone stream is left alone.
        if let Some((stream, after)) = last.as_deref().and_then(request_stream_position) {
            let live = self.live_streams.lock().unwrap_or_else(std::sync::PoisonError::into_inner).get(stream).cloned();
            let resume = Resume {
                events: self.events.clone(),
                live,
                stream: stream.to_owned(),
                after,
                session: id.to_owned(),
                retry: self.config.sse_retry,
                keep_alive: self.config.sse_keep_alive,
                queue: self.config.stream_queue,
            };
            return resume.respond().await;
        }
        // Ends with the listener's shutdown, or when a newer stream or DELETE replaces it.
        let token = closing.map_or_else(CancellationToken::new, |closing| closing.0.child_token());
        // A newer GET stream replaces an older one: a message goes out on one stream only.
        {
            let mut standalone = self.standalone();
            // Ended streams' tokens are cancelled (their bodies were dropped): forget them.
            standalone.retain(|_, stream| !stream.is_cancelled());
            if let Some(older) = standalone.insert(id.to_owned(), token.clone()) {
                older.cancel();
            }
        }
        let (tx, rx) = mpsc::channel::<Bytes>(self.config.stream_queue.max(1));
        let stream = Standalone {
            session: id.to_owned(),
            sessions: self.sessions.clone(),
            events: self.events.clone(),
            out: tx,
            state: session.state(),
            last: last.as_deref().and_then(event_position),
            last_id: last,
        };
        // Subscribed before replaying, so nothing recorded in between is missed.
        let live = self.events.subscribe();
        self.events.ready().await;
        tokio::spawn(stream.run(live, token.clone(), self.config.sse_keep_alive));
        let mut response = Response::new(HttpBody::stream(rx, Some(token.drop_guard())));
        set_sse_headers(response.headers_mut());
        response
    }

    fn standalone(&self) -> std::sync::MutexGuard<'_, HashMap<String, CancellationToken>> {
        self.standalone.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// POST: one JSON-RPC message, or a 2025-03-26 session's batch.
    async fn post<B>(
        self: Arc<Self>,
        mut parts: http::request::Parts,
        body: B,
    ) -> Result<Response<HttpBody>, Infallible>
    where
        B: Body<Data = Bytes> + Send + 'static,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let bytes = match self.read_body(&parts.headers, body).await {
            Ok(bytes) => bytes,
            Err(refusal) => return Ok(refusal),
        };
        let session = match parts.headers.get(&SESSION_ID).and_then(|v| v.to_str().ok()) {
            None => None,
            Some(id) => match self.sessions.get(id).await {
                Ok(Some(session)) if owned_by(&session, parts.extensions.get::<Principal>()) => Some(session),
                Ok(_) => return Ok(session_not_found()),
                Err(error) => return Ok(store_unavailable(&error)),
            },
        };
        // What needs no waiting is done without keeping its locals in this future; what waits
        // is a future of its own, so each stays within the allocator's thread cache.
        match self.answer(&mut parts, &bytes, session) {
            Answer::Now(response) => Ok(response),
            Answer::Later(work) => Ok(work.await),
        }
    }

    /// The request's body, read within the endpoint's size and time limits; or the refusal.
    async fn read_body<B>(&self, headers: &HeaderMap, body: B) -> Result<Bytes, Response<HttpBody>>
    where
        B: Body<Data = Bytes> + Send + 'static,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let limit = self.config.max_body_size;
        let declared = headers.get(CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<usize>().ok());
        if declared.is_some_and(|n| n > limit) {
            return Err(too_large(declared.unwrap_or(limit), limit));
        }
        // A body sent slowly holds the connection only so long.
        let Ok(collected) = tokio::time::timeout(self.config.body_timeout, Limited::new(body, limit).collect()).await
        else {
            let error = ErrorObject::new(ErrorCode::INVALID_REQUEST, "the request body took too long to arrive");
            let mut response = error_response(StatusCode::REQUEST_TIMEOUT, None, error);
            response.headers_mut().insert(http::header::CONNECTION, HeaderValue::from_static("close"));
            return Err(response);
        };
        match collected {
            Ok(collected) => Ok(collected.to_bytes()),
            Err(e) if e.downcast_ref::<http_body_util::LengthLimitError>().is_some() => {
                Err(too_large(limit + 1, limit))
            }
            Err(_) => Err(error_response(
                StatusCode::BAD_REQUEST,
                None,
                ErrorObject::new(ErrorCode::PARSE_ERROR, "could not read the request body"),
            )),
        }
    }

    /// A POST once its body and session are known: the session's checks, the decode, and the
    /// answer, made now or by the work that waits (the call, a batch, a session's save).
    fn answer<'a>(
        &'a self,
        parts: &'a mut http::request::Parts,
        bytes: &'a Bytes,
        session: Option<Arc<Session>>,
    ) -> Answer<'a> {
        let http::request::Parts { headers, extensions, .. } = parts;
        let headers: &'a HeaderMap = headers;
        let session_id = headers.get(&SESSION_ID).and_then(|v| v.to_str().ok());
        // Read once: the checks below, the batch rule and the save all look at it. The revision
        // first, so a change made meanwhile by another request is saved again, never missed.
        let revision = session.as_ref().map(|s| s.revision());
        let state = session.as_ref().and_then(|s| s.state());
        // Inside a session a request names a legacy revision (a request without the header
        // is taken to speak the session's, as the spec allows for 2025-03-26 clients). Another
        // legacy revision than the negotiated one is served: the official conformance suite
        // sends one, and nothing in a legacy session depends on it. A 2026-07-28 request, or
        // a revision nobody knows, is refused: the eras do not mix.
        if state.is_some()
            && let Some(header) = headers.get(&PROTOCOL_VERSION)
            && header
                .to_str()
                .ok()
                .and_then(|v| mocopr_core::ProtocolVersion::parse(v.trim()))
                .is_none_or(|v| v.is_modern())
        {
            let message = "MCP-Protocol-Version names no legacy revision; a session speaks only legacy ones";
            return Answer::Now(error_response(
                StatusCode::BAD_REQUEST,
                None,
                ErrorObject::new(ErrorCode::INVALID_REQUEST, message),
            ));
        }
        let batches = state.as_ref().is_some_and(|s| s.version.allows_batches());
        let saving =
            session_id.zip(session.clone()).zip(state.zip(revision)).map(|((id, session), (before, revision))| {
                Saving { revision, before, id: id.to_owned(), session, store: self.sessions.clone() }
            });
        let frame = match decode(bytes, &DecodeOptions::default().with_batches(batches)) {
            Ok(frame) => frame,
            // A notification is never answered: the status alone says it was not accepted.
            Err(rejection) if rejection.notification => return Answer::Now(bad_request_without_body()),
            Err(rejection) => {
                let error = rejection.error.to_error_object();
                // A name no method has is a 404, as on the dispatch path; the rest are 400.
                // (Not inside a session: a 404 there tells the client its session is gone.)
                let status = if error.code == ErrorCode::METHOD_NOT_FOUND && session.is_none() {
                    StatusCode::NOT_FOUND
                } else {
                    StatusCode::BAD_REQUEST
                };
                return Answer::Now(error_response(status, rejection.id, error));
            }
        };
        match frame {
            Frame::Batch(entries) => Answer::Later(Box::pin(async move {
                let response = self.batch(entries, bytes, session, headers, extensions).await;
                if let Some(saving) = saving {
                    saving.save().await;
                }
                response
            })),
            Frame::Single(Envelope::Request(raw)) => {
                let creating = session.is_none() && raw.method == "initialize";
                let session = if creating {
                    let opener = extensions.get::<Principal>().map(|p| p.subject().to_owned());
                    Some(Arc::new(Session::opened_by(opener)))
                } else {
                    session
                };
                let mut request = McpRequest::from_raw(&raw, bytes);
                request.extensions.insert(mcp_headers(headers));
                // A listen stream never ends by itself: it ends when the listener shuts down, and
                // holds one of a bounded number of places while it is open.
                let listening = raw.method == "subscriptions/listen";
                let closing = listening.then(|| extensions.get::<ListenerClosing>().map(|c| c.0.clone())).flatten();
                // The one request of this HTTP request takes its extensions whole.
                carry_extensions(std::mem::take(extensions), &mut request);
                let slot = match listening.then(|| self.listen_slots.clone().try_acquire_owned()) {
                    Some(Err(_)) => {
                        crate::limit_reached("max_listen_streams");
                        let error =
                            ErrorObject::new(ErrorCode::INTERNAL_ERROR, "too many listen streams open; retry later");
                        return Answer::Now(error_response(
                            StatusCode::SERVICE_UNAVAILABLE,
                            Some(raw.id.clone()),
                            error,
                        ));
                    }
                    Some(Ok(slot)) => Some(slot),
                    None => None,
                };
                Answer::Later(Box::pin(self.respond(request, session_id, session, creating, saving, closing, slot)))
            }
            Frame::Single(Envelope::Notification(notification)) => {
                if let (Some(session), "notifications/initialized") = (&session, notification.method.as_ref()) {
                    session.update(|s| s.initialized = true);
                }
                // A recorded call outlives its connection: this is how it is cancelled.
                if let (Some(id), "notifications/cancelled") = (session_id, notification.method.as_ref())
                    && let Ok(params) = notification.params::<mocopr_core::types::CancelledNotificationParams>()
                    && let Some(request) = params.request_id
                {
                    let key = (id.to_owned(), request);
                    if let Some(call) =
                        self.recorded_calls.lock().unwrap_or_else(std::sync::PoisonError::into_inner).get(&key)
                    {
                        call.cancel();
                    }
                }
                match saving {
                    Some(saving) => Answer::Later(Box::pin(async move {
                        saving.save().await;
                        accepted()
                    })),
                    None => Answer::Now(accepted()),
                }
            }
            // Answers to a legacy session's server-to-client requests.
            Frame::Single(Envelope::Response(response)) => {
                if let Some(session) = &session {
                    let value = serde_json::from_str(response.result.get()).unwrap_or_default();
                    session.complete_request(&response.id, Ok(value));
                }
                Answer::Now(accepted())
            }
            Frame::Single(Envelope::Error(error)) => {
                if let (Some(session), Some(id)) = (&session, &error.id) {
                    session.complete_request(id, Err(error.error));
                }
                Answer::Now(accepted())
            }
        }
    }

    /// A request's answer: JSON when its handler sends nothing before its result, else an
    /// event stream. What needs no waiting is done here, before the future starts, so the
    /// future holds only what lives across its waits.
    #[allow(clippy::too_many_arguments)]
    fn respond<'a>(
        &'a self,
        mut request: McpRequest,
        session_id: Option<&'a str>,
        session: Option<Arc<Session>>,
        creating: bool,
        saving: Option<Saving>,
        closing: Option<CancellationToken>,
        slot: Option<tokio::sync::OwnedSemaphorePermit>,
    ) -> impl Future<Output = Response<HttpBody>> + Send + 'a {
        let legacy = session.is_some() && !creating;
        if let Some(session) = &session {
            request.extensions.insert(session.clone());
            request.extensions.insert(StandaloneEvents(self.events.clone()));
        }
        let token = CancellationToken::new();
        request.extensions.insert(token.clone());
        let request_id = request.id.clone();
        let (tx, mut rx) = mpsc::channel::<Bytes>(self.config.stream_queue.max(1));
        // A legacy session's stream is recorded, to be resumed; from 2025-11-25 on, the server
        // may also end its connection for the client to poll.
        let recording = session_id.filter(|_| legacy).zip(session.as_ref().and_then(|s| s.state()).map(|s| s.version));
        let polling = recording.is_some_and(|(_, version)| version >= ProtocolVersion::V2025_11_25);
        let close = CancellationToken::new();
        let notifier = Notifier::messages(tx);
        request.extensions.insert(if polling { notifier.with_stream_close(close.clone()) } else { notifier });
        // If the client goes away while we wait, hyper drops this future and the guard cancels.
        let guard = token.clone().drop_guard();
        let call = self.service.clone().call(request);
        // A changed session is saved before the client hears the answer.
        let mut future: BoxFuture<'static, Result<McpResponse, Infallible>> = Box::pin(async move {
            let response = call.await;
            if let Some(saving) = saving {
                saving.save().await;
            }
            response
        });

        async move {
            let first = tokio::select! {
                biased;
                Some(first) = rx.recv() => Some(first),
                // The handler ended the connection before it sent anything: a stream all the same,
                // for the client to resume.
                () = close.cancelled(), if polling => None,
                Ok(response) = &mut future => match rx.try_recv() {
                    // Notifications raced the result: deliver them first, on a stream.
                    Ok(first) => {
                        future = Box::pin(std::future::ready(Ok(response)));
                        Some(first)
                    }
                    Err(_) => {
                        guard.disarm();
                        return self.json(response, session, creating, legacy).await;
                    }
                },
            };
            guard.disarm();
            let recorder = recording.and_then(|(session, version)| {
                Recorder::new(Recording {
                    events: self.events.clone(),
                    session,
                    request: request_id,
                    cancel: token.clone(),
                    polling: version >= ProtocolVersion::V2025_11_25,
                    live: &self.live_streams,
                    calls: &self.recorded_calls,
                })
            });
            let stream = PostStream {
                first,
                rx,
                future,
                token,
                closing,
                slot,
                recorder,
                close,
                poll_after: self.config.sse_poll_after,
                retry: self.config.sse_retry,
                keep_alive: self.config.sse_keep_alive,
                queue: self.config.stream_queue,
            };
            stream.respond()
        }
    }

    async fn json(
        &self,
        response: McpResponse,
        session: Option<Arc<Session>>,
        creating: bool,
        legacy: bool,
    ) -> Response<HttpBody> {
        if matches!(response.outcome, Ok(ResultBody::Stream(_))) {
            // A streamed result goes out as a chunked JSON body, a few pieces in memory at a time.
            let (tx, body_rx) = mpsc::channel::<Bytes>(STREAM_CHUNKS_QUEUED);
            tokio::spawn(async move {
                send_response(response, b"", b"", &tx).await;
            });
            let mut http = Response::new(HttpBody::stream(body_rx, None));
            http.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
            return http;
        }
        let status = match &response.outcome {
            Ok(_) => StatusCode::OK,
            Err(_) if legacy => StatusCode::OK,
            Err(error) => StatusCode::from_u16(error.code.http_status()).unwrap_or(StatusCode::BAD_REQUEST),
        };
        let mut http = json_response(status, message_bytes(&response));
        if creating
            && response.outcome.is_ok()
            && let Some(session) = session.filter(|s| s.state().is_some())
        {
            match self.sessions.create(session).await {
                Some(id) => {
                    if let Ok(value) = HeaderValue::from_str(&id) {
                        http.headers_mut().insert(SESSION_ID_HEADER, value);
                    }
                }
                // The store is full (or no unguessable id could be made, which it logs).
                None => {
                    let error =
                        ErrorObject::new(ErrorCode::INTERNAL_ERROR, "no session can be opened now; retry later");
                    return error_response(StatusCode::SERVICE_UNAVAILABLE, Some(response.id), error);
                }
            }
        }
        http
    }

    async fn batch(
        &self,
        entries: Vec<Result<Envelope<'_>, mocopr_core::Rejection>>,
        bytes: &Bytes,
        session: Option<Arc<Session>>,
        headers: &HeaderMap,
        extensions: &http::Extensions,
    ) -> Response<HttpBody> {
        let mut out = vec![b'['];
        let mut any = false;
        // A notification that was not accepted is not answered, but the status says so.
        let mut refused = false;
        for entry in entries {
            let message = match entry {
                Err(rejection) if rejection.notification => {
                    refused = true;
                    continue;
                }
                Err(rejection) => rejection_bytes(rejection.id, rejection.error),
                Ok(Envelope::Request(raw)) => {
                    let mut request = McpRequest::from_raw(&raw, bytes);
                    request.extensions.insert(mcp_headers(headers));
                    carry_extensions(extensions.clone(), &mut request);
                    if let Some(session) = &session {
                        request.extensions.insert(session.clone());
                        request.extensions.insert(StandaloneEvents(self.events.clone()));
                    }
                    let Ok(response) = self.service.clone().call(request).await;
                    response_bytes(response).await
                }
                Ok(_) => continue,
            };
            if any {
                out.push(b',');
            }
            out.extend_from_slice(&message);
            any = true;
        }
        if !any {
            return if refused { bad_request_without_body() } else { accepted() };
        }
        out.push(b']');
        json_response(StatusCode::OK, out)
    }
}

/// A POST's answer, once its message is decoded.
enum Answer<'a> {
    /// Made without waiting (a refusal, an accepted notification).
    Now(Response<HttpBody>),
    /// Made by work that waits, boxed apart (see [`Shared::post`]).
    Later(BoxFuture<'a, Response<HttpBody>>),
}

/// A legacy session whose state a request may change, and what it was before.
struct Saving {
    id: String,
    session: Arc<Session>,
    revision: u64,
    before: SessionState,
    store: Arc<dyn SessionStore>,
}

impl Saving {
    async fn save(self) {
        if self.session.revision() != self.revision {
            self.store.save(&self.id, &self.session, &self.before).await;
        }
    }
}

fn message_bytes(response: &McpResponse) -> Vec<u8> {
    let mut out = Vec::with_capacity(response.message_size_hint());
    response.write_message(&mut out);
    out
}

/// Whether `session` serves `principal`: a session serves the caller that opened it, and
/// nobody else (an authenticated caller's session is unknown to every other caller).
fn owned_by(session: &Session, principal: Option<&Principal>) -> bool {
    session.serves(principal)
}
