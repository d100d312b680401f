//! [`RequestTracingLayer`]: a `tracing` span per request, and a slow-request log.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::{Duration, Instant};

use mocopr_core::RequestId;
use mocopr_core::meta::PROTOCOL_VERSION_KEY;
use mocopr_core::service::{McpRequest, McpResponse, Method};
use tower_layer::Layer;
use tower_service::Service;
use tracing::Span;

use crate::alloc::{installed, thread_allocations};
use crate::request_facts::{Failure, RequestFacts};

/// Traces every request: a span `mcp.request` with the attributes of OpenTelemetry's semantic
/// conventions for MCP servers, closed with the request's `duration_us` (and `allocations`, with
/// memory profiling), a debug event on completion and a warning for requests slower than the
/// threshold.
///
/// The span's fields:
/// - `otel.name`: `{method} {target}` (`tools/call get_weather`), `otel.kind`: `server`;
/// - `mcp.method.name`, `jsonrpc.request.id`, `mcp.protocol.version` (the revision the
///   response says it was served under: a legacy request's is known only to its session);
/// - `gen_ai.operation.name` (`execute_tool`) and `gen_ai.tool.name` for tool calls,
///   `gen_ai.prompt.name` for prompts, `mcp.resource.uri` for the `resources/*` requests;
/// - on failure `error.type` (the JSON-RPC error code, or `tool_error` for a tool result with
///   `isError`), `rpc.response.status_code` and `otel.status_code`: `error`;
/// - MoCoPr's own `era` (`modern` or `legacy`), `duration_us`, `allocations`.
///
/// `mcp.session.id` is left out on purpose: a legacy session id is a credential, and MoCoPr
/// never writes one to a log or a trace.
///
/// With the `opentelemetry` feature, the W3C trace context a request carries in `_meta`
/// (`traceparent`, `tracestate`) becomes the parent of its span, so a `tracing-opentelemetry`
/// layer exports it as part of the caller's trace.
///
/// ```
/// use std::time::Duration;
/// use mocopr_profiling::RequestTracingLayer;
/// use mocopr_server::McpServer;
/// use tower_layer::Layer;
///
/// let server = McpServer::builder().tool("hello", || async { "hi" }).build().expect("server");
/// let traced = RequestTracingLayer::new(Duration::from_millis(250)).layer(server);
/// # drop(traced);
/// ```
#[derive(Debug, Clone)]
pub struct RequestTracingLayer {
    slow: Duration,
    allocations: bool,
    remote_parent: bool,
}

impl RequestTracingLayer {
    /// Warns about requests slower than `slow`.
    pub fn new(slow: Duration) -> Self {
        RequestTracingLayer { slow, allocations: false, remote_parent: true }
    }

    /// Whether a request's `_meta.traceparent` becomes its span's parent (feature
    /// `opentelemetry`; on by default, as OpenTelemetry's MCP conventions have it). Any client
    /// chooses what it sends there: the trace its request joins and, through the sampled flag
    /// and a parent-based sampler, whether the span is kept at all. Turn it off where callers are
    /// not trusted with that; their spans then start traces of their own.
    pub fn with_remote_parent(mut self, remote_parent: bool) -> Self {
        self.remote_parent = remote_parent;
        self
    }

    /// Also counts each request's allocations (with [`CountingAllocator`](crate::CountingAllocator)
    /// installed): the allocations made while its future is polled.
    pub fn with_allocations(mut self, allocations: bool) -> Self {
        self.allocations = allocations;
        self
    }
}

impl<S> Layer<S> for RequestTracingLayer {
    type Service = RequestTracingService<S>;

    fn layer(&self, inner: S) -> RequestTracingService<S> {
        RequestTracingService { inner, layer: self.clone() }
    }
}

/// The service of [`RequestTracingLayer`].
#[derive(Debug, Clone)]
pub struct RequestTracingService<S> {
    inner: S,
    layer: RequestTracingLayer,
}

/// `modern` when the request carries the per-request protocol version in `_meta` (looked up in
/// the raw params, not parsed), `legacy` otherwise.
fn era(request: &McpRequest) -> &'static str {
    let modern = match request.version {
        Some(version) => version.is_modern(),
        None => request.params.as_ref().is_some_and(|p| p.as_str().contains(PROTOCOL_VERSION_KEY)),
    };
    if modern { "modern" } else { "legacy" }
}

impl<S> Service<McpRequest> for RequestTracingService<S>
where
    S: Service<McpRequest, Response = McpResponse>,
{
    type Response = McpResponse;
    type Error = S::Error;
    type Future = RequestTracingFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: McpRequest) -> Self::Future {
        let era = era(&request);
        let (method, id) = (request.method.clone(), request.id.clone());
        let request_version_known = request.version.is_some();
        // The params are read only for a span someone records. What is read goes in when the
        // span is made (a subscriber formats a span's fields then, and again for every later
        // record), so the guess comes first: is a span at this level recorded?
        let guessed = tracing::span_enabled!(tracing::Level::INFO);
        let facts = if guessed { RequestFacts::of(&request) } else { RequestFacts::default() };
        let target = facts.target(method.as_str());
        let span = tracing::info_span!(
            "mcp.request",
            otel.name = guessed.then(|| facts.span_name(method.as_str())),
            otel.kind = "server",
            otel.status_code = tracing::field::Empty,
            mcp.method.name = method.as_str(),
            jsonrpc.request.id = recorded_id(&id).map(tracing::field::display),
            mcp.protocol.version = request.version.map(|v| v.as_str()),
            gen_ai.operation.name = target.tool.map(|_| "execute_tool"),
            gen_ai.tool.name = target.tool,
            gen_ai.prompt.name = target.prompt,
            mcp.resource.uri = target.uri,
            error.type = tracing::field::Empty,
            rpc.response.status_code = tracing::field::Empty,
            era,
            duration_us = tracing::field::Empty,
            allocations = tracing::field::Empty,
        );
        if !span.is_disabled() {
            // A filter by span name or kind can record the span though the guess said no.
            let facts = if guessed { facts } else { record_facts(&span, &request) };
            // Before the span is first entered: a remote parent can only be set until then.
            #[cfg(feature = "opentelemetry")]
            if let (true, Some((traceparent, tracestate))) = (self.layer.remote_parent, facts.trace_context()) {
                crate::trace_context::adopt_remote_parent(&span, traceparent, tracestate);
            }
            #[cfg(not(feature = "opentelemetry"))]
            drop(facts);
        }
        let inner = {
            let _entered = span.enter();
            self.inner.call(request)
        };
        RequestTracingFuture {
            inner,
            span,
            request: (method, id, era),
            version_recorded: request_version_known,
            started: Instant::now(),
            slow: self.layer.slow,
            allocations: (self.layer.allocations && installed()).then_some(0),
        }
    }
}

/// Longest string request id recorded as `jsonrpc.request.id`.
const MAX_RECORDED_ID: usize = 128;

/// The id as `jsonrpc.request.id` records it: string ids only up to 128 bytes.
fn recorded_id(id: &RequestId) -> Option<&RequestId> {
    match id {
        RequestId::String(text) if text.len() > MAX_RECORDED_ID => None,
        id => Some(id),
    }
}

/// Names `span` and records what `request` is about, for a span recorded though the guess in
/// `call` said it would not be; returns what it read.
fn record_facts<'a>(span: &Span, request: &'a McpRequest) -> RequestFacts<'a> {
    let method = request.method.as_str();
    let facts = RequestFacts::of(request);
    span.record("otel.name", facts.span_name(method));
    let target = facts.target(method);
    if let Some(tool) = target.tool {
        span.record("gen_ai.operation.name", "execute_tool");
        span.record("gen_ai.tool.name", tool);
    }
    if let Some(prompt) = target.prompt {
        span.record("gen_ai.prompt.name", prompt);
    }
    if let Some(uri) = target.uri {
        span.record("mcp.resource.uri", uri);
    }
    facts
}

pin_project_lite::pin_project! {
    /// The future of [`RequestTracingService`].
    pub struct RequestTracingFuture<F> {
        #[pin]
        inner: F,
        span: Span,
        // For the slow-request warning, which stands on its own even where spans are not kept.
        request: (Method, RequestId, &'static str),
        // Whether `mcp.protocol.version` went in when the span was made.
        version_recorded: bool,
        started: Instant,
        slow: Duration,
        allocations: Option<u64>,
    }
}

impl<F, E> Future for RequestTracingFuture<F>
where
    F: Future<Output = Result<McpResponse, E>>,
{
    type Output = Result<McpResponse, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let _entered = this.span.enter();
        let before = this.allocations.is_some().then(thread_allocations);
        let polled = this.inner.poll(cx);
        if let (Some(total), Some(before)) = (this.allocations.as_mut(), before) {
            *total += thread_allocations().saturating_sub(before);
        }
        let result = ready!(polled);
        let elapsed = this.started.elapsed();
        let micros = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
        this.span.record("duration_us", micros);
        if let Some(allocations) = *this.allocations {
            this.span.record("allocations", allocations);
        }
        if let (Ok(McpResponse { version: Some(version), .. }), false) = (&result, *this.version_recorded) {
            this.span.record("mcp.protocol.version", version.as_str());
        }
        let failure = match &result {
            Ok(response) => Failure::of(this.request.0.as_str(), response),
            Err(_) => None,
        };
        match &failure {
            Some(Failure::Error(code)) => {
                let code = code.to_string();
                this.span.record("error.type", code.as_str());
                this.span.record("rpc.response.status_code", code.as_str());
                this.span.record("otel.status_code", "error");
            }
            Some(Failure::ToolError) => {
                this.span.record("error.type", "tool_error");
                this.span.record("otel.status_code", "error");
            }
            None => {}
        }
        let failed = failure.is_some();
        if elapsed >= *this.slow {
            let (method, id, era) = &*this.request;
            tracing::warn!(method = method.as_str(), id = %id, era, duration_us = micros, failed, "slow MCP request");
        } else {
            tracing::debug!(duration_us = micros, failed, "MCP request answered");
        }
        Poll::Ready(result)
    }
}
