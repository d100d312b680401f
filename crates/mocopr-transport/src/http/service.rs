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
use mocopr_core::service::{McpHeaders, McpRequest, McpResponse, ResultBody};
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
        let shared = self.shared.clone();
        Box::pin(async move { Ok(shared.handle(request).await) })
    }
}

impl<S> Shared<S>
where
    S: Service<McpRequest, Response = McpResponse, Error = Infallible> + Clone + Send + Sync + 'static,
    S::Future: Send + 'static,
{
    async fn handle<B>(&self, request: Request<B>) -> Response<HttpBody>
    where
        B: Body<Data = Bytes> + Send + 'static,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let checked = origin::check_host_and_origin(
            request.headers(),
            self.config.allowed_hosts.as_deref(),
            &self.config.allowed_origins,
        );
        if let Err(refusal) = checked {
            let (status, message) = match refusal {
                origin::HostRefusal::DuplicateHost => (StatusCode::BAD_REQUEST, "more than one Host header"),
                origin::HostRefusal::Host => (StatusCode::FORBIDDEN, "Host not allowed"),
                _ => (StatusCode::FORBIDDEN, "Origin not allowed"),
            };
            return error_response(status, None, ErrorObject::new(ErrorCode::INVALID_REQUEST, message));
        }
        if let Some(name) = conflicting_mcp_header(request.headers()) {
            let message = format!("the {name} header is sent more than once with different values");
            return error_response(
                StatusCode::BAD_REQUEST,
                None,
                ErrorObject::new(ErrorCode::INVALID_REQUEST, message),
            );
        }
        match *request.method() {
            Method::POST => self.post(request).await,
            Method::GET => {
                let principal = request.extensions().get::<Principal>();
                self.get(request.headers(), request.extensions().get::<ListenerClosing>(), principal).await
            }
            Method::DELETE => self.delete(request.headers(), request.extensions().get::<Principal>()).await,
            _ => {
                let mut response = Response::new(HttpBody::empty());
                *response.status_mut() = StatusCode::METHOD_NOT_ALLOWED;
                response.headers_mut().insert(ALLOW, HeaderValue::from_static("GET, POST, DELETE"));
                response
            }
        }
    }

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

    async fn post<B>(&self, request: Request<B>) -> Response<HttpBody>
    where
        B: Body<Data = Bytes> + Send + 'static,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let (mut parts, body) = request.into_parts();
        let limit = self.config.max_body_size;
        let declared =
            parts.headers.get(CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<usize>().ok());
        if declared.is_some_and(|n| n > limit) {
            return too_large(declared.unwrap_or(limit), limit);
        }
        // A body sent slowly holds the connection only so long.
        let Ok(collected) = tokio::time::timeout(self.config.body_timeout, Limited::new(body, limit).collect()).await
        else {
            let error = ErrorObject::new(ErrorCode::INVALID_REQUEST, "the request body took too long to arrive");
            let mut response = error_response(StatusCode::REQUEST_TIMEOUT, None, error);
            response.headers_mut().insert(http::header::CONNECTION, HeaderValue::from_static("close"));
            return response;
        };
        let bytes = match collected {
            Ok(collected) => collected.to_bytes(),
            Err(e) if e.downcast_ref::<http_body_util::LengthLimitError>().is_some() => {
                return too_large(limit + 1, limit);
            }
            Err(_) => {
                return error_response(
                    StatusCode::BAD_REQUEST,
                    None,
                    ErrorObject::new(ErrorCode::PARSE_ERROR, "could not read the request body"),
                );
            }
        };

        let session_id = parts.headers.get(&SESSION_ID).and_then(|v| v.to_str().ok());
        let session = match session_id {
            None => None,
            Some(id) => match self.sessions.get(id).await {
                Ok(Some(session)) if owned_by(&session, parts.extensions.get::<Principal>()) => Some(session),
                Ok(_) => return session_not_found(),
                Err(error) => return store_unavailable(&error),
            },
        };
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
            && let Some(header) = parts.headers.get(&PROTOCOL_VERSION)
            && header
                .to_str()
                .ok()
                .and_then(|v| mocopr_core::ProtocolVersion::parse(v.trim()))
                .is_none_or(|v| v.is_modern())
        {
            let message = "MCP-Protocol-Version names no legacy revision; a session speaks only legacy ones";
            return error_response(
                StatusCode::BAD_REQUEST,
                None,
                ErrorObject::new(ErrorCode::INVALID_REQUEST, message),
            );
        }
        let batches = state.as_ref().is_some_and(|s| s.version.allows_batches());
        let saving =
            session_id.zip(session.clone()).zip(state.zip(revision)).map(|((id, session), (before, revision))| {
                Saving { revision, before, id: id.to_owned(), session, store: self.sessions.clone() }
            });
        let frame = match decode(&bytes, &DecodeOptions::default().with_batches(batches)) {
            Ok(frame) => frame,
            // A notification is never answered: the status alone says it was not accepted.
            Err(rejection) if rejection.notification => return bad_request_without_body(),
            Err(rejection) => {
                let error = rejection.error.to_error_object();
                // A name no method has is a 404, as on the dispatch path; the rest are 400.
                // (Not inside a session: a 404 there tells the client its session is gone.)
                let status = if error.code == ErrorCode::METHOD_NOT_FOUND && session.is_none() {
                    StatusCode::NOT_FOUND
                } else {
                    StatusCode::BAD_REQUEST
                };
                return error_response(status, rejection.id, error);
            }
        };
        match frame {
            Frame::Batch(entries) => {
                let response = self.batch(entries, &bytes, session, &parts).await;
                if let Some(saving) = saving {
                    saving.save().await;
                }
                response
            }
            Frame::Single(Envelope::Request(raw)) => {
                let creating = session.is_none() && raw.method == "initialize";
                let session = if creating {
                    let opener = parts.extensions.get::<Principal>().map(|p| p.subject().to_owned());
                    Some(Arc::new(Session::opened_by(opener)))
                } else {
                    session
                };
                let mut request = McpRequest::from_raw(&raw, &bytes);
                request.extensions.insert(mcp_headers(&parts.headers));
                // A listen stream never ends by itself: it ends when the listener shuts down, and
                // holds one of a bounded number of places while it is open.
                let listening = raw.method == "subscriptions/listen";
                let closing =
                    listening.then(|| parts.extensions.get::<ListenerClosing>().map(|c| c.0.clone())).flatten();
                // The one request of this HTTP request takes its extensions whole.
                carry_extensions(std::mem::take(&mut parts.extensions), &mut request);
                let slot = match listening.then(|| self.listen_slots.clone().try_acquire_owned()) {
                    Some(Err(_)) => {
                        crate::limit_reached("max_listen_streams");
                        let error =
                            ErrorObject::new(ErrorCode::INTERNAL_ERROR, "too many listen streams open; retry later");
                        return error_response(StatusCode::SERVICE_UNAVAILABLE, Some(raw.id.clone()), error);
                    }
                    Some(Ok(slot)) => Some(slot),
                    None => None,
                };
                self.respond(request, session_id, session, creating, saving, closing, slot).await
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
                if let Some(saving) = saving {
                    saving.save().await;
                }
                accepted()
            }
            // Answers to a legacy session's server-to-client requests.
            Frame::Single(Envelope::Response(response)) => {
                if let Some(session) = &session {
                    let value = serde_json::from_str(response.result.get()).unwrap_or_default();
                    session.complete_request(&response.id, Ok(value));
                }
                accepted()
            }
            Frame::Single(Envelope::Error(error)) => {
                if let (Some(session), Some(id)) = (&session, &error.id) {
                    session.complete_request(id, Err(error.error));
                }
                accepted()
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    async fn respond(
        &self,
        mut request: McpRequest,
        session_id: Option<&str>,
        session: Option<Arc<Session>>,
        creating: bool,
        saving: Option<Saving>,
        closing: Option<CancellationToken>,
        slot: Option<tokio::sync::OwnedSemaphorePermit>,
    ) -> Response<HttpBody> {
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
        let recording = session_id.filter(|_| legacy).zip(session.as_ref().and_then(|s| s.state()));
        let polling = recording.as_ref().is_some_and(|(_, state)| state.version >= ProtocolVersion::V2025_11_25);
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
        let recorder = recording.and_then(|(session, state)| {
            Recorder::new(Recording {
                events: self.events.clone(),
                session,
                request: request_id,
                cancel: token.clone(),
                polling: state.version >= ProtocolVersion::V2025_11_25,
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
        parts: &http::request::Parts,
    ) -> Response<HttpBody> {
        let headers = &parts.headers;
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
                    carry_extensions(parts.extensions.clone(), &mut request);
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

/// The first MCP header (`MCP-Protocol-Version`, `Mcp-Session-Id`, `Mcp-Method`, `Mcp-Name`,
/// `Mcp-Param-*`, …) sent more than once with different values: which copy counts would be a
/// guess, so the request is refused.
fn conflicting_mcp_header(headers: &HeaderMap) -> Option<&str> {
    // Almost every request repeats no header at all: then there is nothing to compare.
    if headers.keys_len() == headers.len() {
        return None;
    }
    headers.keys().filter(|name| name.as_str().starts_with("mcp-")).map(http::HeaderName::as_str).find(|name| {
        let mut values = headers.get_all(*name).iter();
        let first = values.next();
        values.any(|value| Some(value) != first)
    })
}

/// The MCP request headers of `headers` (the first value of each; conflicting repeats are
/// refused before this is read).
///
/// ```
/// use http::HeaderMap;
///
/// let mut headers = HeaderMap::new();
/// headers.insert("mcp-method", "tools/call".parse().unwrap());
/// headers.insert("mcp-param-region", "eu".parse().unwrap());
/// let mcp = mocopr_transport::http::mcp_headers(&headers);
/// assert_eq!(mcp.method.as_deref(), Some("tools/call"));
/// assert_eq!(mcp.params, [("region".to_owned(), "eu".to_owned())]);
/// ```
pub fn mcp_headers(headers: &HeaderMap) -> McpHeaders {
    let mut result = McpHeaders::default();
    // One pass over the headers, by name, instead of a hashed lookup per MCP header.
    for (name, value) in headers {
        let Some(rest) = name.as_str().strip_prefix("mcp-") else { continue };
        let Ok(value) = value.to_str() else { continue };
        let slot = match rest {
            "protocol-version" => &mut result.protocol_version,
            "method" => &mut result.method,
            "name" => &mut result.name,
            _ => {
                if let Some(suffix) = rest.strip_prefix("param-") {
                    result.params.push((suffix.to_owned(), value.trim().to_owned()));
                }
                continue;
            }
        };
        if slot.is_none() {
            *slot = Some(value.trim().to_owned());
        }
    }
    result
}

fn message_bytes(response: &McpResponse) -> Vec<u8> {
    let mut out = Vec::with_capacity(response.message_size_hint());
    response.write_message(&mut out);
    out
}

/// What layers in front of the endpoint (an authorization layer, axum's `ConnectInfo`, a
/// request id) put in the HTTP request's extensions, carried into the MCP request: the
/// [`Principal`](mocopr_core::principal::Principal) as itself (the handler model's slot), and
/// all of them as [`HttpExtensions`].
fn carry_extensions(mut from: http::Extensions, request: &mut McpRequest) {
    // The listener's own marker and the connection's state are the endpoint's and the layers'
    // business; without anything else there is nothing to carry (and no allocation per request).
    from.remove::<ListenerClosing>();
    from.remove::<mocopr_core::connection::ConnectionState>();
    if from.is_empty() {
        return;
    }
    if let Some(principal) = from.get::<Principal>() {
        request.extensions.insert(principal.clone());
    }
    request.extensions.insert(HttpExtensions(Arc::new(from)));
}

/// Whether `session` serves `principal`: a session serves the caller that opened it, and
/// nobody else (an authenticated caller's session is unknown to every other caller).
fn owned_by(session: &Session, principal: Option<&Principal>) -> bool {
    session.serves(principal)
}

/// The extensions of the HTTP request an MCP request came in, as the layers in front of the
/// endpoint left them; in the MCP request's [`McpRequest::extensions`] whenever they left
/// anything (and, through `RequestCtx::http_extension`, a handler's reach).
///
/// ```
/// use mocopr_transport::http::HttpExtensions;
///
/// let mut extensions = http::Extensions::new();
/// extensions.insert(42_u16);
/// let carried = HttpExtensions::new(extensions);
/// assert_eq!(carried.get::<u16>(), Some(&42));
/// ```
#[derive(Debug, Clone)]
pub struct HttpExtensions(Arc<http::Extensions>);

impl HttpExtensions {
    /// Carries `extensions`.
    pub fn new(extensions: http::Extensions) -> Self {
        HttpExtensions(Arc::new(extensions))
    }

    /// The value of type `T` a layer put there.
    pub fn get<T: Send + Sync + 'static>(&self) -> Option<&T> {
        self.0.get::<T>()
    }
}
