//! The caller's W3C trace context as the parent of a request's span (feature `opentelemetry`).
//!
//! MCP carries the context in `params._meta` under the unprefixed W3C keys (SEP-414), not in
//! transport headers: one HTTP request may carry several MCP requests and one MCP request may
//! take several HTTP requests. The values are bounded and checked for their alphabet first
//! (`request_facts.rs`); the W3C propagator of `opentelemetry_sdk` then parses them. One that is
//! not a trace context gives no parent, never an error.

use opentelemetry::propagation::{Extractor, TextMapPropagator};
use opentelemetry::trace::TraceContextExt;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use tracing::Span;
use tracing_opentelemetry::OpenTelemetrySpanExt;

/// The two `_meta` values, seen by the propagator as a carrier.
struct MetaCarrier<'a> {
    traceparent: &'a str,
    tracestate: Option<&'a str>,
}

impl Extractor for MetaCarrier<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        match key {
            "traceparent" => Some(self.traceparent),
            "tracestate" => self.tracestate,
            _ => None,
        }
    }

    fn keys(&self) -> Vec<&str> {
        let mut keys = vec!["traceparent"];
        keys.extend(self.tracestate.map(|_| "tracestate"));
        keys
    }
}

/// Makes the remote span `traceparent` names the parent of `span`, which must not have been
/// entered yet. Nothing happens when the value is not a valid trace context or no
/// `tracing-opentelemetry` layer records the span.
pub(crate) fn adopt_remote_parent(span: &Span, traceparent: &str, tracestate: Option<&str>) {
    let parent = TraceContextPropagator::new().extract(&MetaCarrier { traceparent, tracestate });
    if parent.span().span_context().is_valid()
        && let Err(error) = span.set_parent(parent)
    {
        // No layer of this crate's tracing-opentelemetry version records the span (none at all,
        // or one of another version): the span stays a root.
        tracing::debug!(%error, "the caller's trace context could not be adopted");
    }
}
