//! [`OtlpTracing`]: request spans exported to an OpenTelemetry collector over OTLP/HTTP
//! (feature `otlp`).
//!
//! The pieces are the OpenTelemetry project's own: `opentelemetry-otlp`'s HTTP/protobuf span
//! exporter, the SDK's batch span processor (a thread of its own, spans queued in a bounded
//! buffer and dropped, never blocking a request, when the collector falls behind) and
//! `tracing-opentelemetry`'s layer, which turns `tracing` spans into OpenTelemetry spans.

use std::time::Duration;

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::{Protocol, SpanExporter, WithExportConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::{SdkTracer, SdkTracerProvider};
use tracing::Subscriber;
use tracing_subscriber::registry::LookupSpan;

/// Why OTLP export could not start or finish.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OtlpError {
    /// The exporter could not be built (an invalid endpoint, or no HTTP client).
    #[error("the OTLP exporter could not be built: {0}")]
    Build(String),
    /// Spans still queued could not be sent when flushing or shutting down.
    #[error("the OTLP exporter could not deliver its spans: {0}")]
    Export(String),
}

/// Exports the spans of a process over OTLP/HTTP: build it once at start-up, add
/// [`OtlpTracing::layer`] to the `tracing` subscriber, and call [`OtlpTracing::shutdown`] before
/// exit so the spans still queued are sent.
///
/// Together with [`RequestTracingLayer`](crate::RequestTracingLayer) on the server and the
/// client's `opentelemetry` feature, an agent's tool call and the server's work on it appear in
/// one trace.
///
/// ```no_run
/// use mocopr_profiling::OtlpTracing;
/// use tracing_subscriber::layer::SubscriberExt;
///
/// # fn main() -> Result<(), mocopr_profiling::OtlpError> {
/// let otlp = OtlpTracing::builder()
///     .with_endpoint("http://localhost:4318/v1/traces")
///     .with_service_name("weather-server")
///     .build()?;
/// let subscriber = tracing_subscriber::registry().with(otlp.layer());
/// tracing::subscriber::set_global_default(subscriber).expect("the only subscriber");
/// // ... serve ...
/// otlp.shutdown()?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct OtlpTracing {
    provider: SdkTracerProvider,
    tracer: SdkTracer,
}

/// Settings of [`OtlpTracing`]; see [`OtlpTracing::builder`].
#[derive(Debug, Clone)]
#[must_use]
pub struct OtlpTracingBuilder {
    endpoint: Option<String>,
    service_name: String,
    timeout: Duration,
}

impl OtlpTracing {
    /// Settings with the standard defaults: the endpoint from `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`
    /// or `OTEL_EXPORTER_OTLP_ENDPOINT`, else `http://localhost:4318/v1/traces`; the service name
    /// `mocopr`; a 10-second export timeout.
    pub fn builder() -> OtlpTracingBuilder {
        OtlpTracingBuilder { endpoint: None, service_name: "mocopr".to_owned(), timeout: Duration::from_secs(10) }
    }

    /// The `tracing` layer that hands spans to the exporter.
    pub fn layer<S>(&self) -> tracing_opentelemetry::OpenTelemetryLayer<S, SdkTracer>
    where
        S: Subscriber + for<'span> LookupSpan<'span>,
    {
        tracing_opentelemetry::layer().with_tracer(self.tracer.clone())
    }

    /// Sends every span finished so far, waiting for the collector's answer: it blocks the
    /// calling thread (up to the export timeout), so call it from async code through
    /// `tokio::task::spawn_blocking`.
    pub fn flush(&self) -> Result<(), OtlpError> {
        self.provider.force_flush().map_err(|e| OtlpError::Export(e.to_string()))
    }

    /// Sends what is still queued and stops the exporter; spans finished afterwards are dropped.
    /// It blocks like [`OtlpTracing::flush`]; dropping the last clone shuts down the same way.
    pub fn shutdown(&self) -> Result<(), OtlpError> {
        self.provider.shutdown().map_err(|e| OtlpError::Export(e.to_string()))
    }
}

impl OtlpTracingBuilder {
    /// The collector's traces URL, used as given (`http://collector:4318/v1/traces`).
    pub fn with_endpoint(mut self, url: impl Into<String>) -> Self {
        self.endpoint = Some(url.into());
        self
    }

    /// The `service.name` resource attribute of every span.
    pub fn with_service_name(mut self, name: impl Into<String>) -> Self {
        self.service_name = name.into();
        self
    }

    /// How long one export may take.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Starts the exporter.
    pub fn build(self) -> Result<OtlpTracing, OtlpError> {
        let mut exporter =
            SpanExporter::builder().with_http().with_protocol(Protocol::HttpBinary).with_timeout(self.timeout);
        if let Some(endpoint) = self.endpoint {
            exporter = exporter.with_endpoint(endpoint);
        }
        let exporter = exporter.build().map_err(|e| OtlpError::Build(e.to_string()))?;
        let provider = SdkTracerProvider::builder()
            .with_batch_exporter(exporter)
            .with_resource(Resource::builder().with_service_name(self.service_name).build())
            .build();
        let tracer = provider.tracer("mocopr");
        Ok(OtlpTracing { provider, tracer })
    }
}
