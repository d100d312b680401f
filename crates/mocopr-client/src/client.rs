//! [`McpClient`]: one connection to one server, in whichever era the server speaks.
//!
//! A reader task routes responses to their waiting calls by id, answers legacy server-to-client
//! requests through the [`InputHandler`], and drops notifications nobody listens for. Calls
//! are independent: many may be in flight on one connection.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use serde_json::{Value, json};
use tokio::io::AsyncRead;
use tokio::sync::oneshot;
use tracing::Instrument;

use mocopr_core::jsonrpc::{DecodeOptions, Envelope, Frame, decode};
use mocopr_core::meta::modern_request_meta;
use mocopr_core::types::{Implementation, ServerCapabilities};
use mocopr_core::{ErrorCode, ErrorObject, ProtocolVersion, RequestId, ServerNotification, ServerRequest};
use mocopr_transport::{FrameReader, FrameSink, Inbound};

use crate::cache::ClientCache;
use crate::era::Settings;
use crate::error::ClientError;
use crate::handler::InputHandler;
use crate::routes::Routes;

/// Default time a call waits for its answer.
pub(crate) const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
/// Default time the era probe (`server/discover`) waits before assuming a legacy server.
pub(crate) const DEFAULT_PROBE_TIMEOUT: Duration = Duration::from_secs(5);
/// Most calls waiting for an answer at once.
pub const MAX_PENDING: usize = 4096;

type Answer = Result<Value, ErrorObject>;

/// What the client learned about the server.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ServerFacts {
    /// The revision in use.
    pub version: ProtocolVersion,
    /// The server's capabilities.
    pub capabilities: ServerCapabilities,
    /// The server's implementation info, when it sent one.
    pub info: Option<Implementation>,
}

/// Where the client's messages go.
pub(crate) enum Outbound {
    /// A framed byte stream (stdio, child process, in-memory pair).
    Stream(FrameSink),
    /// One HTTP POST per message (Streamable HTTP).
    #[cfg(feature = "http")]
    Http(Arc<crate::http::HttpLink>),
}

pub(crate) struct Inner {
    pub(crate) out: Outbound,
    pending: Mutex<HashMap<RequestId, oneshot::Sender<Answer>>>,
    next_id: AtomicI64,
    pub(crate) facts: OnceLock<ServerFacts>,
    pub(crate) info: Implementation,
    pub(crate) handler: Arc<dyn InputHandler>,
    pub(crate) timeout: Duration,
    pub(crate) routes: Routes,
    /// The result cache, when the client was given one.
    cache: Option<ClientCache>,
    /// Permits for server-to-client requests being answered by the input handler.
    server_requests: Arc<tokio::sync::Semaphore>,
    /// Permits for immediate answers (ping, refusals) being sent.
    quick_replies: Arc<tokio::sync::Semaphore>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        // The link's tasks hold the link, not the client: stop them with the client.
        #[cfg(feature = "http")]
        if let Outbound::Http(link) = &self.out {
            link.shutdown();
        }
    }
}

/// A connection to an MCP server. Cheap to clone.
#[derive(Clone)]
pub struct McpClient {
    pub(crate) inner: Arc<Inner>,
}

impl std::fmt::Debug for McpClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("McpClient").field("server", &self.inner.facts.get()).finish_non_exhaustive()
    }
}

impl McpClient {
    /// Starts a client on a framed connection and works out the server's era (see `era.rs`).
    pub(crate) async fn start<R>(
        reader: FrameReader<R>,
        sink: FrameSink,
        settings: Settings,
    ) -> Result<McpClient, ClientError>
    where
        R: AsyncRead + Unpin + Send + 'static,
    {
        let inner = Self::inner(Outbound::Stream(sink), &settings);
        tokio::spawn(read_loop(reader, Arc::downgrade(&inner)));
        let client = McpClient { inner };
        client.detect_era(&settings).await?;
        Ok(client)
    }

    /// Starts a client whose messages go out as HTTP POSTs; answers come back on their responses.
    #[cfg(feature = "http")]
    pub(crate) async fn start_http(link: crate::http::HttpLink, settings: Settings) -> Result<McpClient, ClientError> {
        let inner = Self::inner(Outbound::Http(Arc::new(link)), &settings);
        let client = McpClient { inner };
        client.detect_era(&settings).await?;
        Ok(client)
    }

    fn inner(out: Outbound, settings: &Settings) -> Arc<Inner> {
        Arc::new(Inner {
            out,
            pending: Mutex::new(HashMap::new()),
            next_id: AtomicI64::new(1),
            facts: OnceLock::new(),
            info: settings.info.clone(),
            handler: settings.handler.clone(),
            timeout: settings.timeout,
            routes: Routes::default(),
            cache: settings.cache.clone().map(|cache| ClientCache::new(cache, settings.server_key.clone())),
            server_requests: Arc::new(tokio::sync::Semaphore::new(settings.max_server_requests.max(1))),
            quick_replies: Arc::new(tokio::sync::Semaphore::new(QUICK_REPLIES)),
        })
    }

    /// What the client learned about the server.
    pub fn server(&self) -> Option<&ServerFacts> {
        self.inner.facts.get()
    }

    /// The HTTP connection pool's state (idle, busy, waiting); `None` for other transports.
    pub fn pool_metrics(&self) -> Option<mocopr_transport::PoolMetrics> {
        match &self.inner.out {
            #[cfg(feature = "http")]
            Outbound::Http(link) => Some(link.pool_metrics()),
            Outbound::Stream(_) => None,
        }
    }

    pub(crate) fn version(&self) -> ProtocolVersion {
        self.inner.facts.get().map_or(ProtocolVersion::LATEST, |f| f.version)
    }

    /// Sends a request and waits for its result (as JSON). Modern requests get the per-request
    /// `_meta` (version, capabilities, client info) added to `params`.
    pub async fn request(&self, method: &str, params: Value) -> Result<Value, ClientError> {
        self.raw_request(method, params, self.modern(), self.inner.timeout).await
    }

    pub(crate) async fn raw_request(
        &self,
        method: &str,
        params: Value,
        modern: Option<ProtocolVersion>,
        timeout: Duration,
    ) -> Result<Value, ClientError> {
        let cache = self.inner.cache.as_ref();
        if let Some(hit) = cache.and_then(|c| c.get(method, &params)) {
            return Ok(hit);
        }
        let asked = cache.map(|_| params.clone());
        let version = modern.or_else(|| self.inner.facts.get().map(|f| f.version));
        let span = crate::span::request_span(method, &params, version.map(ProtocolVersion::as_str));
        let answer = async {
            let (id, rx) = self.register()?;
            span.record("jsonrpc.request.id", tracing::field::display(&id));
            self.send_request(&id, method, params, modern).await?;
            self.wait(id, rx, timeout).await.and_then(|result| self.supported_result_type(result))
        }
        .instrument(span.clone())
        .await;
        crate::span::record_outcome(&span, method, &answer);
        if let (Some(cache), Some(asked)) = (cache, asked) {
            match &answer {
                Ok(result) => cache.put(method, &asked, result),
                Err(ClientError::Server(error)) => cache.on_error(method, &asked, error),
                Err(_) => {}
            }
        }
        answer
    }

    /// The version to tag requests with: `Some` for a modern server.
    pub(crate) fn modern(&self) -> Option<ProtocolVersion> {
        let version = self.version();
        version.is_modern().then_some(version)
    }

    /// Sends request `id` (already registered), adding the modern per-request `_meta`.
    pub(crate) async fn send_request(
        &self,
        id: &RequestId,
        method: &str,
        mut params: Value,
        modern: Option<ProtocolVersion>,
    ) -> Result<(), ClientError> {
        if let Some(version) = modern {
            let meta = modern_request_meta(version, &self.inner.handler.capabilities(), Some(&self.inner.info));
            match params.get_mut("_meta").and_then(Value::as_object_mut) {
                Some(existing) => existing.extend(meta),
                None => params["_meta"] = Value::Object(meta),
            }
        }
        #[cfg(feature = "opentelemetry")]
        crate::span::inject_trace_context(&mut params);
        let message = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
        let sent = self.send(&message).await;
        if sent.is_err() {
            self.forget(id);
        }
        sent
    }

    /// A new request id with a slot for its answer.
    pub(crate) fn register(&self) -> Result<(RequestId, oneshot::Receiver<Answer>), ClientError> {
        let id = RequestId::Number(self.inner.next_id.fetch_add(1, Ordering::Relaxed));
        let (tx, rx) = oneshot::channel();
        let mut pending = self.inner.pending.lock().unwrap_or_else(PoisonError::into_inner);
        if pending.len() >= MAX_PENDING {
            return Err(ClientError::Server(ErrorObject::new(ErrorCode::INTERNAL_ERROR, "too many calls in flight")));
        }
        pending.insert(id.clone(), tx);
        Ok((id, rx))
    }

    pub(crate) fn forget(&self, id: &RequestId) {
        self.inner.pending.lock().unwrap_or_else(PoisonError::into_inner).remove(id);
    }

    /// Waits for the answer to `id`; past `timeout` the request is cancelled.
    pub(crate) async fn wait(
        &self,
        id: RequestId,
        rx: oneshot::Receiver<Answer>,
        timeout: Duration,
    ) -> Result<Value, ClientError> {
        let mut abandoned = Abandoned { client: self, id: Some(id.clone()) };
        let answer = tokio::time::timeout(timeout, rx).await;
        abandoned.id = None;
        match answer {
            Ok(Ok(answer)) => answer.map_err(ClientError::Server),
            Ok(Err(_)) => Err(ClientError::Closed),
            Err(_) => {
                self.forget(&id);
                // Abandoned requests are cancelled, so the server can stop working on them.
                self.cancel(&id, "timeout").await;
                Err(ClientError::Timeout(timeout))
            }
        }
    }

    /// Tells the server to stop working on request `id`: `notifications/cancelled` on a
    /// stream or in a legacy HTTP session; over HTTP the request's response stream is closed.
    pub(crate) async fn cancel(&self, id: &RequestId, reason: &str) {
        #[cfg(feature = "http")]
        if let Outbound::Http(link) = &self.inner.out {
            link.abort(id);
            if self.modern().is_some() {
                return;
            }
        }
        let _ = self.notify("notifications/cancelled", json!({"requestId": id, "reason": reason})).await;
    }

    /// Sends `requests` (method, params) as one JSON-RPC batch array and returns their results
    /// in the same order; one failing entry does not fail the others. Only a server on
    /// 2025-03-26 accepts batches: with any other it fails without sending.
    pub async fn request_batch(
        &self,
        requests: &[(&str, Value)],
    ) -> Result<Vec<Result<Value, ClientError>>, ClientError> {
        let version = self.version();
        if !version.allows_batches() {
            return Err(ClientError::Server(ErrorObject::new(
                ErrorCode::INVALID_REQUEST,
                format!("JSON-RPC batches need a 2025-03-26 server; this one speaks {version}"),
            )));
        }
        let mut waiting = Vec::with_capacity(requests.len());
        let mut batch = Vec::with_capacity(requests.len());
        for (method, params) in requests {
            let registered = match self.register() {
                Ok(registered) => registered,
                Err(e) => {
                    waiting.iter().for_each(|(id, _)| self.forget(id));
                    return Err(e);
                }
            };
            // Entries carry the caller's trace context; a batch has no span per entry.
            #[cfg(feature = "opentelemetry")]
            let params = &{
                let mut params = params.clone();
                crate::span::inject_trace_context(&mut params);
                params
            };
            batch.push(json!({"jsonrpc": "2.0", "id": &registered.0, "method": method, "params": params}));
            waiting.push(registered);
        }
        if let Err(e) = self.send(&Value::Array(batch)).await {
            waiting.iter().for_each(|(id, _)| self.forget(id));
            return Err(e);
        }
        let answers = waiting.into_iter().map(|(id, rx)| self.wait(id, rx, self.inner.timeout));
        Ok(futures_util::future::join_all(answers).await)
    }

    /// Sends a notification.
    pub async fn notify(&self, method: &str, params: Value) -> Result<(), ClientError> {
        self.send(&json!({"jsonrpc": "2.0", "method": method, "params": params})).await
    }

    async fn send(&self, message: &Value) -> Result<(), ClientError> {
        send(&self.inner, message).await
    }
}

/// A request whose caller stopped waiting (its future was dropped): the answer slot is
/// freed and the server told to stop.
struct Abandoned<'a> {
    client: &'a McpClient,
    id: Option<RequestId>,
}

impl Drop for Abandoned<'_> {
    fn drop(&mut self) {
        let Some(id) = self.id.take() else { return };
        self.client.forget(&id);
        #[cfg(feature = "http")]
        if let Outbound::Http(link) = &self.client.inner.out {
            link.abort(&id);
            if self.client.modern().is_some() {
                return;
            }
        }
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let client = self.client.clone();
            runtime.spawn(async move { client.cancel(&id, "abandoned").await });
        }
    }
}

/// Records each tool's `x-mcp-header` parameters for the HTTP headers of its calls; a tool whose
/// annotations break the rules is dropped (over HTTP its calls could not be sent correctly).
pub(crate) fn learn_tool_headers(inner: &Inner, tools: &mut Vec<mocopr_core::types::Tool>) {
    #[cfg(feature = "http")]
    if let Outbound::Http(link) = &inner.out {
        let mut headers = link.tool_headers.lock().unwrap_or_else(PoisonError::into_inner);
        tools.retain(|tool| {
            match mocopr_core::x_mcp_header::extract_param_headers(&Value::Object(tool.input_schema.clone())) {
                Ok(params) => {
                    headers.insert(tool.name.clone(), params);
                    true
                }
                Err(_) => false,
            }
        });
    }
    #[cfg(not(feature = "http"))]
    let _ = (inner, tools);
}

/// Sends one message the way the connection carries them.
pub(crate) async fn send(inner: &Arc<Inner>, message: &Value) -> Result<(), ClientError> {
    match &inner.out {
        Outbound::Stream(sink) => {
            let mut line = serde_json::to_vec(message)?;
            line.push(b'\n');
            sink.send(Bytes::from(line)).await.map_err(ClientError::from)
        }
        #[cfg(feature = "http")]
        Outbound::Http(link) => {
            let exchange = link.post(message, Arc::downgrade(inner));
            // A notification or response is delivered (202) before the caller goes on, so
            // what follows it cannot overtake it; answers to requests (and batches) are
            // awaited by their callers, with their timeouts.
            if message.is_object() && (message.get("id").is_none() || message.get("method").is_none()) {
                let _ = exchange.await;
            }
            Ok(())
        }
    }
}

/// Routes what the server sends until the connection ends or the client is dropped.
async fn read_loop<R: AsyncRead + Unpin>(mut reader: FrameReader<R>, inner: std::sync::Weak<Inner>) {
    while let Some(Ok(Inbound::Frame(frame))) = reader.next().await {
        let Some(inner) = inner.upgrade() else { return };
        route(&inner, &frame);
    }
    // The connection ended: every waiting call fails now rather than at its timeout.
    if let Some(inner) = inner.upgrade() {
        inner.pending.lock().unwrap_or_else(PoisonError::into_inner).clear();
    }
}

/// Handles one message from the server: an answer, or (legacy) a request for input.
pub(crate) fn route(inner: &Arc<Inner>, message: &[u8]) {
    // Batch arrays only come back from 2025-03-26 servers, answering the client's own batches.
    match decode(message, &DecodeOptions::default().with_batches(true)) {
        Ok(Frame::Single(envelope)) => route_one(inner, envelope),
        Ok(Frame::Batch(entries)) => entries.into_iter().for_each(|entry| match entry {
            Ok(envelope) => route_one(inner, envelope),
            Err(rejection) => fail_named_call(inner, &rejection),
        }),
        Err(rejection) => fail_named_call(inner, &rejection),
    }
}

/// A message the decoder refused that names one of our calls (an answer holding something no
/// answer may) fails that call now, rather than at its timeout.
fn fail_named_call(inner: &Inner, rejection: &mocopr_core::Rejection) {
    if let Some(id) = rejection.id.as_ref().filter(|_| !rejection.notification) {
        complete(inner, id, Err(rejection.error.to_error_object()));
    }
}

fn route_one(inner: &Arc<Inner>, envelope: Envelope<'_>) {
    match envelope {
        Envelope::Response(response) => {
            let value = serde_json::from_str(response.result.get()).unwrap_or(Value::Null);
            complete(inner, &response.id, Ok(value));
        }
        Envelope::Error(error) => {
            if let Some(id) = &error.id {
                complete(inner, id, Err(error.error));
            }
        }
        Envelope::Request(request) => {
            let id = request.id.clone();
            // A 2026-07-28 server asks for input in its results, never with requests, and a
            // 2026-07-28 client writes no responses: the request is dropped.
            if inner.facts.get().is_some_and(|f| f.version.is_modern()) {
                tracing::warn!(method = %request.method, "a 2026-07-28 server sent a request; dropped");
                return;
            }
            match ServerRequest::decode(&request.method, request.params) {
                Ok(ServerRequest::Ping(_)) => quick_reply(inner, id, Ok(json!({}))),
                Err(error) => quick_reply(inner, id, Err(error.to_error_object())),
                // A legacy server asks for input; answered without holding up the reader, a
                // bounded number at a time.
                Ok(body) => match inner.server_requests.clone().try_acquire_owned() {
                    Ok(permit) => {
                        let inner = inner.clone();
                        tokio::spawn(async move {
                            answer_server_request(inner, id, body).await;
                            drop(permit);
                        });
                    }
                    Err(_) => {
                        let busy =
                            ErrorObject::new(ErrorCode::INTERNAL_ERROR, "too many requests in progress; retry later");
                        quick_reply(inner, id, Err(busy));
                    }
                },
            }
        }
        Envelope::Notification(notification) => {
            // Notifications this client does not know are dropped.
            if let Ok(notification) = ServerNotification::decode(&notification.method, notification.params) {
                // A 2026-07-28 server sends no requests, so a cancellation it sends names one
                // of ours: a listen stream it tears down over stdio. That request is over.
                if let ServerNotification::Cancelled(cancelled) = &notification
                    && let Some(id) = &cancelled.request_id
                    && inner.facts.get().is_some_and(|f| f.version.is_modern())
                {
                    let reason = cancelled.reason.as_deref().unwrap_or("no reason given");
                    let message = format!("the server ended the request: {reason}");
                    complete(inner, id, Err(ErrorObject::new(ErrorCode::INTERNAL_ERROR, message)));
                    return;
                }
                if let Some(cache) = &inner.cache {
                    cache.on_notification(&notification);
                }
                inner.routes.deliver(notification);
            }
        }
    }
}

pub(crate) fn complete(inner: &Inner, id: &RequestId, answer: Answer) {
    if let Some(tx) = inner.pending.lock().unwrap_or_else(PoisonError::into_inner).remove(id) {
        let _ = tx.send(answer);
    }
}

/// Immediate answers (ping, refusals) are sent a bounded number at a time; past that the
/// server is flooding, and the request is dropped.
const QUICK_REPLIES: usize = 64;

fn quick_reply(inner: &Arc<Inner>, id: RequestId, answer: Result<Value, ErrorObject>) {
    let Ok(permit) = inner.quick_replies.clone().try_acquire_owned() else {
        tracing::warn!("the server sends requests faster than they can be answered; one was dropped");
        return;
    };
    let inner = inner.clone();
    tokio::spawn(async move {
        reply(&inner, id, answer).await;
        drop(permit);
    });
}

async fn answer_server_request(inner: Arc<Inner>, id: RequestId, body: ServerRequest) {
    let answer: Result<Value, ErrorObject> = match body {
        ServerRequest::Ping(_) => Ok(json!({})),
        ServerRequest::Elicit(p) => inner.handler.elicit(p).await.and_then(to_value),
        ServerRequest::CreateMessage(p) => inner.handler.sample(p).await.and_then(to_value),
        ServerRequest::ListRoots(_) => inner.handler.list_roots().await.and_then(to_value),
        _ => Err(ErrorObject::new(ErrorCode::METHOD_NOT_FOUND, "not supported by this client")),
    };
    reply(&inner, id, answer).await;
}

async fn reply(inner: &Arc<Inner>, id: RequestId, answer: Result<Value, ErrorObject>) {
    let message = match answer {
        Ok(result) => json!({"jsonrpc": "2.0", "id": id, "result": result}),
        Err(error) => json!({"jsonrpc": "2.0", "id": id, "error": error}),
    };
    let _ = send(inner, &message).await;
}

fn to_value<T: serde::Serialize>(value: T) -> Result<Value, ErrorObject> {
    serde_json::to_value(value).map_err(|e| ErrorObject::new(ErrorCode::INTERNAL_ERROR, e.to_string()))
}

impl McpClient {
    /// A result whose `resultType` this client supports: absent (a legacy result: complete),
    /// `complete`, `input_required`, and `task` when the input handler declares the tasks
    /// extension (the caller then polls the task); any other value makes it invalid.
    fn supported_result_type(&self, result: Value) -> Result<Value, ClientError> {
        match result.get("resultType") {
            None => Ok(result),
            Some(Value::String(kind)) if kind == "complete" || kind == "input_required" => Ok(result),
            Some(Value::String(kind))
                if kind == "task"
                    && self
                        .inner
                        .handler
                        .capabilities()
                        .extensions
                        .is_some_and(|e| e.contains_key(mocopr_core::meta::TASKS_EXTENSION)) =>
            {
                Ok(result)
            }
            Some(other) => {
                Err(ClientError::UnsupportedResultType(other.as_str().map_or_else(|| other.to_string(), str::to_owned)))
            }
        }
    }
}
