//! The client side of Streamable HTTP: every message is its own POST carrying the MCP request
//! headers (`MCP-Protocol-Version`, `Mcp-Method`, `Mcp-Name`, `Mcp-Session-Id` for legacy
//! sessions); answers come back as one JSON body or as server-sent events on that response,
//! and are routed like messages read from a stream.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError, Weak};

use bytes::Bytes;
use http::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use http::{Request, Response, StatusCode, Uri};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use std::time::Duration;

use serde_json::Value;
use tokio::task::AbortHandle;

use mocopr_core::header::encode_header_value;
use mocopr_core::meta::PROTOCOL_VERSION_KEY;
use mocopr_core::x_mcp_header::ParamHeader;
use mocopr_core::{ErrorCode, ErrorObject, RequestId};
use mocopr_transport::pool::{ConnectionPool, Connector, HttpConnector, PoolConfig, PoolMetrics, Pooled};

use crate::authorizer::{Authorizer, Challenge};
use crate::client::{Inner, complete, route};

#[cfg(feature = "tls")]
use mocopr_transport::tls::ClientTls;
/// Without the `tls` feature no TLS settings exist; `https://` URLs are refused.
#[cfg(not(feature = "tls"))]
pub(crate) type ClientTls = std::convert::Infallible;
use crate::error::ClientError;

/// An error response, whose id may be missing or null.
#[derive(serde::Deserialize)]
struct IdlessError {
    #[serde(default)]
    id: Option<RequestId>,
    error: ErrorObject,
}

/// One MCP endpoint over HTTP, with its pool of keep-alive connections and the legacy session id.
pub(crate) struct HttpLink {
    pool: ConnectionPool<HttpConnector>,
    /// The endpoint's path and query (requests go out in origin form).
    path: String,
    session: Mutex<Option<String>>,
    /// Each tool's `x-mcp-header` parameters, learned from `tools/list`, mirrored into
    /// `Mcp-Param-*` headers on its calls.
    pub(crate) tool_headers: Mutex<HashMap<String, Vec<ParamHeader>>>,
    /// The revision a legacy session negotiated, sent in `MCP-Protocol-Version`.
    pub(crate) legacy_version: Mutex<Option<String>>,
    /// The tasks carrying open requests, so a cancelled one can close its response stream.
    exchanges: Mutex<HashMap<RequestId, AbortHandle>>,
    /// The legacy session's standalone stream task.
    standalone: Mutex<Option<AbortHandle>>,
    /// Held while an expired legacy session is replaced.
    renewing: tokio::sync::Mutex<()>,
    /// Largest response body or event accepted.
    max_message: usize,
    /// Puts credentials on requests and answers `401` / `403` challenges.
    authorizer: Option<Arc<dyn Authorizer>>,
}

impl HttpLink {
    /// A link to `url` (`http://`, or `https://` with the `tls` feature: `tls`'s roots, the
    /// platform's when `None`), its connections pooled as `pool` says.
    pub(crate) fn new(
        url: &str,
        pool: PoolConfig,
        max_message: usize,
        tls: Option<ClientTls>,
        authorizer: Option<Arc<dyn Authorizer>>,
    ) -> Result<Self, ClientError> {
        let invalid =
            |why: &str| ClientError::Server(ErrorObject::new(ErrorCode::INVALID_PARAMS, format!("{why}: {url}")));
        let uri: Uri = url.parse().map_err(|_| invalid("not a URL"))?;
        let host = uri.host().ok_or_else(|| invalid("no host in the URL"))?;
        let connector = match uri.scheme_str() {
            Some("http") => HttpConnector::new(format!("{host}:{}", uri.port_u16().unwrap_or(80))),
            #[cfg(feature = "tls")]
            Some("https") => {
                let tls = match tls {
                    Some(tls) => tls,
                    None => ClientTls::platform().map_err(|e| invalid(&format!("no TLS roots ({e})")))?,
                };
                HttpConnector::new(format!("{host}:{}", uri.port_u16().unwrap_or(443)))
                    .with_tls(host, &tls)
                    .map_err(|e| invalid(&e.to_string()))?
            }
            #[cfg(not(feature = "tls"))]
            Some("https") => {
                let _ = tls;
                return Err(invalid("https:// needs the `tls` feature of mocopr-client"));
            }
            _ => return Err(invalid("not an http:// or https:// URL")),
        };
        let path = uri.path_and_query().map_or("/", |p| p.as_str()).to_owned();
        Ok(HttpLink {
            pool: ConnectionPool::new(connector, pool),
            path,
            session: Mutex::new(None),
            tool_headers: Mutex::new(HashMap::new()),
            legacy_version: Mutex::new(None),
            exchanges: Mutex::new(HashMap::new()),
            standalone: Mutex::new(None),
            renewing: tokio::sync::Mutex::new(()),
            max_message,
            authorizer,
        })
    }

    /// The connection pool's state.
    pub(crate) fn pool_metrics(&self) -> PoolMetrics {
        self.pool.metrics()
    }

    /// Sends `request` on a pooled connection and returns the response with the connection it
    /// holds until its body is read. A request a stale keep-alive connection never sent goes
    /// out again on another one.
    async fn send(&self, request: Request<Full<Bytes>>) -> Result<(Response<Incoming>, Lease), String> {
        let mut request = request;
        for _ in 0..2 {
            let mut connection = self.pool.get().await.map_err(|e| e.to_string())?;
            match connection.send(request).await {
                Ok(response) => return Ok((response, Lease(Some(connection)))),
                Err(mut e) => {
                    connection.discard();
                    match e.unsent.take() {
                        Some(unsent) => request = unsent,
                        None => return Err(e.to_string()),
                    }
                }
            }
        }
        Err("the server closed the connection before the request was sent".into())
    }

    /// Posts `message` and routes whatever comes back, on a task of its own.
    pub(crate) fn post(self: &Arc<Self>, message: &Value, inner: Weak<Inner>) -> tokio::task::JoinHandle<()> {
        let link = self.clone();
        let single = !message.is_array();
        // The requests this POST carries (responses to the server carry the server's ids,
        // which must not be mistaken for this client's); a batch array (2025-03-26) may hold several.
        let request_id = |m: &Value| {
            m.get("method")?;
            serde_json::from_value::<RequestId>(m.get("id")?.clone()).ok()
        };
        let ids: Vec<RequestId> = match message.as_array() {
            Some(batch) => batch.iter().filter_map(request_id).collect(),
            None => request_id(message).into_iter().collect(),
        };
        let request = self.request(message);
        let tracked = if single { ids.first().cloned() } else { None };
        let untrack = tracked.clone();
        // Held across the spawn, so the task's own removal comes after the insertion.
        let mut exchanges = lock(&self.exchanges);
        let task = tokio::spawn(async move {
            // The request whose answer the response carries (an id-less error answers it).
            let waiting = if single { ids.first() } else { None };
            let outcome = match request {
                Ok(request) => link.exchange(request, &inner, waiting).await,
                Err(e) => Err(e),
            };
            // Whatever the response did not answer never will be: fail it now rather than at
            // its timeout (a transport failure, a stream that ended early, a 202 to a request).
            if let Some(inner) = inner.upgrade() {
                let reason = outcome.err().unwrap_or_else(|| "the response ended without an answer".into());
                for id in &ids {
                    complete(&inner, id, Err(ErrorObject::new(ErrorCode::INTERNAL_ERROR, reason.clone())));
                }
            }
            if let Some(id) = &untrack {
                lock(&link.exchanges).remove(id);
            }
        });
        if let Some(id) = tracked {
            exchanges.insert(id, task.abort_handle());
        }
        task
    }

    /// Stops every task of this link: the standalone stream and open requests (the client is gone).
    pub(crate) fn shutdown(&self) {
        if let Some(task) = lock(&self.standalone).take() {
            task.abort();
        }
        for (_, task) in lock(&self.exchanges).drain() {
            task.abort();
        }
    }

    /// Closes the response stream of request `id` (how a request is cancelled over HTTP).
    pub(crate) fn abort(&self, id: &RequestId) {
        if let Some(task) = lock(&self.exchanges).remove(id) {
            task.abort();
        }
    }

    fn request(&self, message: &Value) -> Result<Request<Full<Bytes>>, String> {
        let mut builder = Request::post(self.path.as_str())
            .header("host", self.pool.connector().authority())
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream");
        let params = message.get("params");
        let version = params
            .and_then(|p| p.get("_meta"))
            .and_then(|m| m.get(PROTOCOL_VERSION_KEY))
            .and_then(Value::as_str)
            .map(str::to_owned)
            .or_else(|| self.legacy_version.lock().unwrap_or_else(PoisonError::into_inner).clone());
        if let Some(version) = version {
            builder = builder.header("mcp-protocol-version", version);
        }
        if let Some(method) = message.get("method").and_then(Value::as_str) {
            builder = builder.header("mcp-method", encode_header_value(method).as_ref());
            let name = match method {
                "tools/call" | "prompts/get" => params.and_then(|p| p.get("name")),
                "resources/read" => params.and_then(|p| p.get("uri")),
                "tasks/get" | "tasks/update" | "tasks/cancel" => params.and_then(|p| p.get("taskId")),
                _ => None,
            };
            if let Some(name) = name.and_then(Value::as_str) {
                builder = builder.header("mcp-name", encode_header_value(name).as_ref());
                if method == "tools/call" {
                    let arguments = params.and_then(|p| p.get("arguments")).cloned().unwrap_or(Value::Null);
                    let headers = self.tool_headers.lock().unwrap_or_else(PoisonError::into_inner);
                    for param in headers.get(name).map(Vec::as_slice).unwrap_or_default() {
                        // Null or absent arguments send no header.
                        if let Ok(Some(value)) = param.value_from_arguments(&arguments) {
                            builder = builder.header(param.header_name(), encode_header_value(&value).as_ref());
                        }
                    }
                }
            }
        }
        if let Some(session) = self.session.lock().unwrap_or_else(PoisonError::into_inner).clone() {
            builder = builder.header("mcp-session-id", session);
        }
        if let Some(authorizer) = &self.authorizer {
            if let Some(credentials) = authorizer.header() {
                builder = builder.header(AUTHORIZATION, credentials);
            }
            if let Some(proof) = authorizer.proof(&http::Method::POST) {
                builder = builder.header("dpop", proof);
            }
        }
        let body = serde_json::to_vec(message).map_err(|e| e.to_string())?;
        builder.body(Full::new(Bytes::from(body))).map_err(|e| e.to_string())
    }

    async fn exchange(
        &self,
        request: Request<Full<Bytes>>,
        inner: &Weak<Inner>,
        id: Option<&RequestId>,
    ) -> Result<(), String> {
        let session = request.headers().get("mcp-session-id").and_then(|v| v.to_str().ok()).map(str::to_owned);
        let body = request.body().clone();
        // What a challenge needs, copied only when there is an authorizer to answer one.
        let mut sent = if self.authorizer.is_some() { Sent::of(&request) } else { Sent::default() };
        let (mut response, mut lease) = self.send(request).await?;
        if let Some(authorizer) = &self.authorizer {
            let mut rounds = 0;
            while matches!(response.status(), StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN)
                && rounds < MAX_AUTHORIZATION_ROUNDS
            {
                rounds += 1;
                let mut challenge = Challenge::new(
                    response.status(),
                    response.headers().get_all(WWW_AUTHENTICATE).iter().filter_map(|v| v.to_str().ok()),
                    sent.authorization.clone(),
                    sent.protocol_version.clone(),
                );
                challenge.dpop_nonce =
                    response.headers().get("dpop-nonce").and_then(|v| v.to_str().ok()).map(str::to_owned);
                // The refusal's body is small; reading it frees the connection during the flow.
                let status = response.status();
                let refusal = Limited::new(response.into_body(), MAX_REFUSAL_BYTES).collect().await;
                let refusal = refusal.map(|body| body.to_bytes()).unwrap_or_default();
                lease.release();
                if !authorizer.challenged(&challenge).await.map_err(|e| e.to_string())? {
                    self.answer_body(status, &refusal, inner, id);
                    return Ok(());
                }
                let again = self.request(&self.message_of(&body).await?)?;
                sent = Sent::of(&again);
                (response, lease) = self.send(again).await?;
            }
            if !matches!(response.status(), StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN) {
                authorizer.accepted(sent.authorization.as_ref());
            }
        }
        if let (StatusCode::NOT_FOUND, Some(expired)) = (response.status(), session) {
            // The legacy session is gone: start a new one, then send the message again in it.
            drop((response, lease));
            let Some(client) = inner.upgrade().map(|inner| crate::client::McpClient { inner }) else { return Ok(()) };
            self.renew_session(&client, &expired).await?;
            (response, lease) = self.send(self.request(&self.message_of(&body).await?)?).await?;
        }
        self.answer(response, lease, inner, id).await
    }

    /// The message a request body carried, to send it again.
    async fn message_of(&self, body: &Full<Bytes>) -> Result<Value, String> {
        let bytes = body.clone().collect().await.map_err(|e| e.to_string())?.to_bytes();
        serde_json::from_slice(&bytes).map_err(|e| e.to_string())
    }

    /// Re-initializes after the server forgot session `expired`, unless another request
    /// already did.
    async fn renew_session(&self, client: &crate::client::McpClient, expired: &str) -> Result<(), String> {
        let _one_at_a_time = self.renewing.lock().await;
        {
            let mut session = self.session.lock().unwrap_or_else(PoisonError::into_inner);
            if session.as_deref() != Some(expired) {
                return Ok(());
            }
            *session = None;
        }
        client.initialize().await.map_err(|e| format!("re-initializing the expired session failed: {e}"))
    }

    /// Routes what a response carries; its connection goes back to the pool once the body
    /// has been read to its end.
    async fn answer(
        &self,
        response: Response<Incoming>,
        lease: Lease,
        inner: &Weak<Inner>,
        id: Option<&RequestId>,
    ) -> Result<(), String> {
        if let Some(session) = response.headers().get("mcp-session-id").and_then(|v| v.to_str().ok()) {
            *self.session.lock().unwrap_or_else(PoisonError::into_inner) = Some(session.to_owned());
        }
        let status = response.status();
        let is_sse = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/event-stream"));
        let body = response.into_body();
        if !is_sse {
            // A body past the message limit is refused rather than buffered.
            let bytes = Limited::new(body, self.max_message).collect().await.map_err(|e| e.to_string())?.to_bytes();
            lease.release();
            self.answer_body(status, &bytes, inner, id);
            return Ok(());
        }
        self.read_post_events(body, lease, inner, id).await
    }

    /// Routes what a response body that is not an event stream carries.
    fn answer_body(&self, status: StatusCode, bytes: &[u8], inner: &Weak<Inner>, id: Option<&RequestId>) {
        if status == StatusCode::ACCEPTED {
            return;
        }
        let Some(inner) = inner.upgrade() else { return };
        // An error the server could not tie to an id (e.g. "not initialized") answers the
        // request this POST carried.
        match (serde_json::from_slice::<IdlessError>(bytes), id) {
            (Ok(IdlessError { id: None, error }), Some(id)) => complete(&inner, id, Err(error)),
            _ => route(&inner, bytes),
        }
        // A failure status whose body held no answer (empty, HTML, another id) still answers
        // now: e.g. a legacy server's 400 to the era probe means "legacy".
        if let (false, Some(id)) = (status.is_success(), id) {
            let reason = format!("HTTP {status}: {}", String::from_utf8_lossy(&bytes[..bytes.len().min(200)]));
            complete(&inner, id, Err(ErrorObject::new(ErrorCode::INTERNAL_ERROR, reason)));
        }
    }

    /// A GET for an event stream, with the legacy session's headers and, to resume a stream,
    /// the id of the last event seen.
    fn stream_get(&self, last_event_id: Option<&str>) -> Result<Request<Full<Bytes>>, String> {
        let mut builder = Request::get(self.path.as_str())
            .header("host", self.pool.connector().authority())
            .header("accept", "text/event-stream");
        if let Some(last) = last_event_id {
            builder = builder.header("last-event-id", last);
        }
        if let Some(session) = self.session.lock().unwrap_or_else(PoisonError::into_inner).clone() {
            builder = builder.header("mcp-session-id", session);
        }
        if let Some(version) = self.legacy_version.lock().unwrap_or_else(PoisonError::into_inner).clone() {
            builder = builder.header("mcp-protocol-version", version);
        }
        if let Some(authorizer) = &self.authorizer {
            if let Some(credentials) = authorizer.header() {
                builder = builder.header(AUTHORIZATION, credentials);
            }
            if let Some(proof) = authorizer.proof(&http::Method::GET) {
                builder = builder.header("dpop", proof);
            }
        }
        builder.body(Full::new(Bytes::new())).map_err(|e| e.to_string())
    }

    /// Opens the legacy session's standalone stream (GET), where a legacy server sends what
    /// belongs to no request (its own requests for input, change notifications). A server
    /// without one answers 405, which is fine. The stream lives as long as the session, so it
    /// has a connection of its own rather than holding one of the pool's.
    ///
    /// Returns once the server has answered the GET (or after `wait` at most), so the server
    /// has the stream before the client's next request can make it send something there.
    pub(crate) async fn open_standalone(self: &Arc<Self>, inner: Weak<Inner>, wait: Duration) {
        let link = self.clone();
        let (opened, answered) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let Ok(request) = link.stream_get(None) else { return };
            let connect = link.pool.connector().connect();
            let Ok(Ok(mut connection)) = tokio::time::timeout(link.pool.config().connection_timeout, connect).await
            else {
                return;
            };
            let Ok(response) = connection.send(request).await else { return };
            let _ = opened.send(());
            if response.status().is_success() {
                let _ = link.read_events(response.into_body(), &inner, None).await;
            }
        });
        // A re-initialized session replaces the old stream.
        if let Some(old) = lock(&self.standalone).replace(task.abort_handle()) {
            old.abort();
        }
        let _ = tokio::time::timeout(wait, answered).await;
    }

    /// Reads a POST's event stream; when it ends before the answer to `waiting` came, resumes
    /// it with a GET carrying `Last-Event-ID` after the server's `retry` delay (legacy
    /// resumability), a bounded number of times.
    async fn read_post_events(
        &self,
        body: hyper::body::Incoming,
        lease: Lease,
        inner: &Weak<Inner>,
        waiting: Option<&RequestId>,
    ) -> Result<(), String> {
        let mut seen = self.read_events(body, inner, waiting).await;
        // The POST's connection is free before any resume asks the pool for another.
        lease.release();
        // Resumes that brought nothing new, in a row, and resumes that reached no server (or a
        // 5xx), in a row. A stream that keeps moving, or a server that asks the client back
        // with `retry` (SSE polling, a call running in another process), is followed as long
        // as the call's own timeout allows.
        let (mut fruitless, mut unreachable) = (0, 0);
        loop {
            let (false, Some(last)) = (seen.answered, seen.last_event_id.clone()) else {
                // A stream that broke without an id to resume after is an error.
                return seen.broken.map_or(Ok(()), Err);
            };
            if fruitless == MAX_RESUMES || unreachable == MAX_UNREACHABLE_RESUMES {
                return Err(seen.broken.unwrap_or_else(|| "the stream ended without its answer".to_owned()));
            }
            tokio::time::sleep(std::time::Duration::from_millis(
                seen.retry_ms.unwrap_or(DEFAULT_RETRY_MS).min(MAX_RETRY_MS),
            ))
            .await;
            let request = self.stream_get(Some(&last))?;
            // A server that cannot be reached, or answers 5xx, may be back (or another one may
            // answer) at the next try; a resume it refuses (4xx) is final.
            let (response, lease) = match self.send(request).await {
                Ok(sent) if sent.0.status().is_server_error() => {
                    unreachable += 1;
                    seen.broken = Some(format!("resuming the stream failed with {}", sent.0.status()));
                    continue;
                }
                Ok(sent) => sent,
                Err(error) => {
                    unreachable += 1;
                    seen.broken = Some(format!("resuming the stream failed: {error}"));
                    continue;
                }
            };
            unreachable = 0;
            if !response.status().is_success() {
                return Err(format!("resuming the stream failed with {}", response.status()));
            }
            let more = self.read_events(response.into_body(), inner, waiting).await;
            lease.release();
            // Only a new event is progress (a server repeating the same id is not); a server
            // that sent `retry` asked to be polled, which is not a failure either.
            let moved = more.last_event_id.as_ref().is_some_and(|id| Some(id) != seen.last_event_id.as_ref());
            if moved {
                fruitless = 0;
            } else if more.retry_ms.is_none() {
                fruitless += 1;
            }
            seen = Seen {
                answered: more.answered,
                last_event_id: more.last_event_id.or(seen.last_event_id),
                retry_ms: more.retry_ms.or(seen.retry_ms),
                broken: more.broken,
            };
        }
    }

    async fn read_events(
        &self,
        mut body: hyper::body::Incoming,
        inner: &Weak<Inner>,
        waiting: Option<&RequestId>,
    ) -> Seen {
        // Server-sent events: each event's `data:` lines hold one message.
        let mut seen = Seen::default();
        let mut buffer: Vec<u8> = Vec::new();
        // How far `buffer` is known to hold no event end, so a large event is scanned once.
        let mut scanned = 0;
        let mut after_cr = false;
        while let Some(frame) = body.frame().await {
            let frame = match frame {
                Ok(frame) => frame,
                // The connection broke (the server went away): resumable after the last id.
                Err(error) => {
                    seen.broken = Some(format!("the event stream broke: {error}"));
                    return seen;
                }
            };
            let Ok(data) = frame.into_data() else { continue };
            after_cr = push_lf_normalized(&mut buffer, &data, after_cr);
            while let Some(end) = find_event_end(&buffer, scanned) {
                scanned = 0;
                let event: Vec<u8> = buffer.drain(..end).collect();
                for line in event.split(|b| *b == b'\n') {
                    if let Some(id) = line.strip_prefix(b"id:") {
                        seen.last_event_id = Some(String::from_utf8_lossy(id).trim().to_owned());
                    } else if let Some(retry) = line.strip_prefix(b"retry:") {
                        seen.retry_ms = String::from_utf8_lossy(retry).trim().parse().ok();
                    }
                }
                let message = event_data(&event);
                if message.is_empty() {
                    continue;
                }
                if let Some(waiting) = waiting
                    && serde_json::from_slice::<AnswerId>(&message)
                        .is_ok_and(|a| a.id.as_ref() == Some(waiting) && a.method.is_none())
                {
                    seen.answered = true;
                }
                if let Some(inner) = inner.upgrade() {
                    route(&inner, &message);
                }
            }
            scanned = buffer.len();
            // One event may not outgrow the message limit (plus room for its field names).
            if buffer.len() > self.max_message.saturating_add(EVENT_OVERHEAD) {
                // Not resumable: the same event would come again.
                seen.last_event_id = None;
                seen.broken = Some(format!("an event of the stream exceeds {} bytes", self.max_message));
                return seen;
            }
        }
        seen
    }
}

/// What a request carried that a challenge needs.
#[derive(Default)]
struct Sent {
    authorization: Option<http::HeaderValue>,
    protocol_version: Option<String>,
}

impl Sent {
    fn of(request: &Request<Full<Bytes>>) -> Self {
        let headers = request.headers();
        Sent {
            authorization: headers.get(AUTHORIZATION).cloned(),
            protocol_version: headers.get("mcp-protocol-version").and_then(|v| v.to_str().ok()).map(str::to_owned),
        }
    }
}

/// Most bytes of a `401` / `403` body read (it is routed when the challenge is not met).
const MAX_REFUSAL_BYTES: usize = 64 * 1024;

/// How many times one request is sent again after a challenge (a refresh, then a new
/// authorization, then a step-up).
const MAX_AUTHORIZATION_ROUNDS: usize = 3;

/// What a stream delivered: whether the awaited answer came, and where to resume.
#[derive(Debug, Default)]
struct Seen {
    answered: bool,
    last_event_id: Option<String>,
    retry_ms: Option<u64>,
    /// Why the stream ended early, when it broke rather than ended.
    broken: Option<String>,
}

/// The id and method of a message (a response has no method).
#[derive(serde::Deserialize)]
struct AnswerId {
    #[serde(default)]
    id: Option<RequestId>,
    #[serde(default)]
    method: Option<String>,
}

/// Bytes an event may carry beyond its message: field names, id, line breaks.
const EVENT_OVERHEAD: usize = 64 * 1024;
/// How many resumes in a row that bring no new event (and no `retry`) one POST's stream gets
/// at most.
const MAX_RESUMES: usize = 10;
/// How many resumes in a row that reach no server (or get a 5xx) one POST's stream gets at
/// most: a few seconds at the default `retry`, then the call fails.
const MAX_UNREACHABLE_RESUMES: usize = 5;
/// The wait before resuming when the server gave no `retry`.
const DEFAULT_RETRY_MS: u64 = 1000;
/// The longest wait before resuming, whatever `retry` says.
const MAX_RETRY_MS: u64 = 30_000;

/// The end (exclusive, blank line included) of the first complete event in `buffer`, whose
/// first `scanned` bytes are known to hold none.
fn find_event_end(buffer: &[u8], scanned: usize) -> Option<usize> {
    // Step back one byte: the blank line may straddle the previous scan's end.
    let from = scanned.saturating_sub(1).min(buffer.len());
    buffer[from..].windows(2).position(|w| w == b"\n\n").map(|p| from + p + 2)
}

/// Appends `data` with its CRLF and lone CR line ends turned into LF (SSE allows all three);
/// `after_cr` says the previous chunk ended in CR, so a leading LF belongs to it. Returns
/// whether this chunk ended in CR.
fn push_lf_normalized(buffer: &mut Vec<u8>, data: &[u8], mut after_cr: bool) -> bool {
    if !after_cr && !data.contains(&b'\r') {
        buffer.extend_from_slice(data);
        return false;
    }
    for &byte in data {
        match byte {
            b'\r' => {
                buffer.push(b'\n');
                after_cr = true;
            }
            b'\n' if after_cr => after_cr = false,
            other => {
                buffer.push(other);
                after_cr = false;
            }
        }
    }
    after_cr
}

/// The concatenated `data:` lines of one event.
fn event_data(event: &[u8]) -> Vec<u8> {
    let mut data = Vec::new();
    for line in event.split(|b| *b == b'\n') {
        if let Some(rest) = line.strip_prefix(b"data:") {
            if !data.is_empty() {
                data.push(b'\n');
            }
            data.extend_from_slice(rest.strip_prefix(b" ").unwrap_or(rest));
        }
    }
    data
}

/// A pooled connection while its response is read: [`Lease::release`] returns it to the pool
/// once the body has been read to its end; dropped before that (an error, a cancelled
/// request), the connection is closed, since it cannot carry another request.
struct Lease(Option<Pooled<HttpConnector>>);

impl Lease {
    fn release(mut self) {
        drop(self.0.take());
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        if let Some(connection) = self.0.take() {
            connection.discard();
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
#[path = "http_tests.rs"]
mod tests;
