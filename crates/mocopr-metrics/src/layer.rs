//! [`MetricsLayer`]: records every request passing through it.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Instant;

use mocopr_core::service::{McpRequest, McpResponse, ResultBody};
use prometheus::IntGauge;
use tower_layer::Layer;
use tower_service::Service;

use crate::collector::MetricsCollector;

/// Records request counts, durations, errors, requests in flight and bytes in a
/// [`MetricsCollector`].
#[derive(Debug, Clone)]
pub struct MetricsLayer {
    collector: MetricsCollector,
}

impl MetricsLayer {
    /// A layer recording into `collector`.
    pub fn new(collector: MetricsCollector) -> Self {
        MetricsLayer { collector }
    }
}

impl<S> Layer<S> for MetricsLayer {
    type Service = MetricsService<S>;

    fn layer(&self, inner: S) -> MetricsService<S> {
        MetricsService { inner, collector: self.collector.clone() }
    }
}

/// The service of [`MetricsLayer`].
#[derive(Debug, Clone)]
pub struct MetricsService<S> {
    inner: S,
    collector: MetricsCollector,
}

impl<S> MetricsService<S> {
    /// The wrapped service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }
}

impl<S> Service<McpRequest> for MetricsService<S>
where
    S: Service<McpRequest, Response = McpResponse>,
{
    type Response = McpResponse;
    type Error = S::Error;
    type Future = MetricsFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: McpRequest) -> Self::Future {
        let method = self.collector.method(request.method.as_str()).label;
        let received = request.params.as_ref().map_or(0, |p| p.len());
        let in_flight = InFlight::enter(self.collector.in_flight());
        let started = Instant::now();
        MetricsFuture {
            inner: self.inner.call(request),
            record: Pending(Some(Record { collector: self.collector.clone(), method, received, started })),
            _in_flight: in_flight,
        }
    }
}

/// What a finished request is recorded with.
struct Record {
    collector: MetricsCollector,
    method: &'static str,
    received: usize,
    started: Instant,
}

/// A request not answered yet; dropped that way, it is counted as cancelled.
struct Pending(Option<Record>);

impl Drop for Pending {
    fn drop(&mut self) {
        if let Some(record) = self.0.take() {
            let metrics = record.collector.method(record.method);
            metrics.cancelled.inc();
            metrics.cancelled_duration.observe(record.started.elapsed().as_secs_f64());
        }
    }
}

/// Counts a request in flight until dropped (answered or abandoned).
struct InFlight(IntGauge);

impl InFlight {
    fn enter(gauge: &IntGauge) -> Self {
        gauge.inc();
        InFlight(gauge.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.dec();
    }
}

pin_project_lite::pin_project! {
    /// The future of [`MetricsService`].
    pub struct MetricsFuture<F> {
        #[pin]
        inner: F,
        record: Pending,
        _in_flight: InFlight,
    }
}

impl<F, E> Future for MetricsFuture<F>
where
    F: Future<Output = Result<McpResponse, E>>,
{
    type Output = Result<McpResponse, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let result = ready!(this.inner.poll(cx));
        if let (Some(record), Ok(response)) = (this.record.0.take(), &result) {
            let seconds = record.started.elapsed().as_secs_f64();
            let metrics = record.collector.method(record.method);
            let sent = match &response.outcome {
                Ok(ResultBody::Json(json)) => json.len(),
                _ => 0,
            };
            match &response.outcome {
                Ok(_) => {
                    metrics.ok.inc();
                    metrics.ok_duration.observe(seconds);
                }
                Err(error) => {
                    metrics.error.inc();
                    metrics.error_duration.observe(seconds);
                    record.collector.error(record.method, error.code);
                }
            }
            record.collector.bytes(record.received, sent);
        }
        Poll::Ready(result)
    }
}
