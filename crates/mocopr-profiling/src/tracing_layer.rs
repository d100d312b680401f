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

/// Traces every request: a span `mcp.request` with `method`, `id` and `era`, closed with the
/// request's `duration_us` (and `allocations`, with memory profiling), a debug event on
/// completion and a warning for requests slower than the threshold.
#[derive(Debug, Clone)]
pub struct RequestTracingLayer {
    slow: Duration,
    allocations: bool,
}

impl RequestTracingLayer {
    /// Warns about requests slower than `slow`.
    pub fn new(slow: Duration) -> Self {
        RequestTracingLayer { slow, allocations: false }
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
        let span = tracing::info_span!(
            "mcp.request",
            method = request.method.as_str(),
            id = %request.id,
            era,
            duration_us = tracing::field::Empty,
            allocations = tracing::field::Empty,
        );
        let inner = {
            let _entered = span.enter();
            self.inner.call(request)
        };
        RequestTracingFuture {
            inner,
            span,
            request: (method, id, era),
            started: Instant::now(),
            slow: self.layer.slow,
            allocations: (self.layer.allocations && installed()).then_some(0),
        }
    }
}

pin_project_lite::pin_project! {
    /// The future of [`RequestTracingService`].
    pub struct RequestTracingFuture<F> {
        #[pin]
        inner: F,
        span: Span,
        // For the slow-request warning, which stands on its own even where spans are not kept.
        request: (Method, RequestId, &'static str),
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
        let failed = matches!(&result, Ok(response) if response.outcome.is_err());
        if elapsed >= *this.slow {
            let (method, id, era) = &*this.request;
            tracing::warn!(method = method.as_str(), id = %id, era, duration_us = micros, failed, "slow MCP request");
        } else {
            tracing::debug!(duration_us = micros, failed, "MCP request answered");
        }
        Poll::Ready(result)
    }
}
