//! The client side of a request's trace: a `tracing` span per request, named and attributed
//! after OpenTelemetry's semantic conventions for MCP clients, and (feature `opentelemetry`) its
//! W3C trace context carried to the server in `params._meta`, so the server's span joins the
//! caller's trace (SEP-414's unprefixed `traceparent` and `tracestate`).

use serde_json::Value;
use tracing::Span;

use crate::error::ClientError;

/// Longest target kept in a span name (MCP's limit for tool names).
const MAX_TARGET: usize = 128;

/// The span of one request: `otel.name` `{method} {target}`, `otel.kind` `client`, and the
/// target's attribute (`gen_ai.tool.name`, `gen_ai.prompt.name` or `mcp.resource.uri`).
pub(crate) fn request_span(method: &str, params: &Value, version: Option<&'static str>) -> Span {
    let span = tracing::info_span!(
        "mcp.request",
        otel.name = tracing::field::Empty,
        otel.kind = "client",
        otel.status_code = tracing::field::Empty,
        mcp.method.name = method,
        jsonrpc.request.id = tracing::field::Empty,
        mcp.protocol.version = version,
        gen_ai.operation.name = tracing::field::Empty,
        gen_ai.tool.name = tracing::field::Empty,
        gen_ai.prompt.name = tracing::field::Empty,
        mcp.resource.uri = tracing::field::Empty,
        error.type = tracing::field::Empty,
        rpc.response.status_code = tracing::field::Empty,
    );
    if span.is_disabled() {
        return span;
    }
    let name = params.get("name").and_then(Value::as_str);
    let target = match (method, name) {
        ("tools/call", Some(name)) => {
            span.record("gen_ai.operation.name", "execute_tool");
            span.record("gen_ai.tool.name", name);
            Some(name)
        }
        ("prompts/get", Some(name)) => {
            span.record("gen_ai.prompt.name", name);
            Some(name)
        }
        _ => {
            if let Some(uri) = params.get("uri").and_then(Value::as_str).filter(|_| method.starts_with("resources/")) {
                span.record("mcp.resource.uri", uri);
            }
            None
        }
    };
    match target.filter(|t| !t.is_empty() && t.len() <= MAX_TARGET) {
        Some(target) => span.record("otel.name", format!("{method} {target}")),
        None => span.record("otel.name", method),
    };
    span
}

/// Records how the request of `span` ended: `error.type` (the JSON-RPC error code, `timeout`,
/// `tool_error` for a tool result with `isError`, or the kind of local failure).
pub(crate) fn record_outcome(span: &Span, method: &str, answer: &Result<Value, ClientError>) {
    let error_type = match answer {
        Ok(result) if method == "tools/call" && result.get("isError").and_then(Value::as_bool) == Some(true) => {
            "tool_error".to_owned()
        }
        Ok(_) => return,
        Err(ClientError::Server(error)) => {
            let code = error.code.0.to_string();
            span.record("rpc.response.status_code", code.as_str());
            code
        }
        Err(ClientError::Timeout(_)) => "timeout".to_owned(),
        Err(ClientError::Closed) => "closed".to_owned(),
        Err(ClientError::Transport(_)) => "transport".to_owned(),
        Err(ClientError::Decode(_) | ClientError::UnsupportedResultType(_)) => "invalid_result".to_owned(),
        Err(ClientError::Authorization(_)) => "authorization".to_owned(),
        Err(ClientError::TooManyRounds(_) | ClientError::TooManyPages(_)) => "too_many_rounds".to_owned(),
    };
    span.record("error.type", error_type.as_str());
    span.record("otel.status_code", "error");
}

/// Puts the W3C trace context of the current span into `params._meta` (feature
/// `opentelemetry`; the `opentelemetry_sdk` W3C propagator writes the values). Nothing is added
/// when no OpenTelemetry layer records the span, when `params` is not an object, or when the
/// caller put a `traceparent` there itself (theirs is kept).
#[cfg(feature = "opentelemetry")]
pub(crate) fn inject_trace_context(params: &mut Value) {
    use opentelemetry::propagation::{Injector, TextMapPropagator};
    use tracing_opentelemetry::OpenTelemetrySpanExt;

    struct MetaInjector<'a>(&'a mut serde_json::Map<String, Value>);

    impl Injector for MetaInjector<'_> {
        fn set(&mut self, key: &str, value: String) {
            // The W3C propagator writes an empty `tracestate` when there is none.
            if !value.is_empty() {
                self.0.insert(key.to_owned(), Value::String(value));
            }
        }
    }

    let Some(params) = params.as_object_mut() else { return };
    if params.get("_meta").and_then(|meta| meta.get("traceparent")).is_some() {
        return;
    }
    let context = Span::current().context();
    let mut injected = serde_json::Map::new();
    opentelemetry_sdk::propagation::TraceContextPropagator::new()
        .inject_context(&context, &mut MetaInjector(&mut injected));
    if injected.is_empty() {
        return;
    }
    // A `_meta` that is not an object is the caller's to answer for; it is left as given.
    if let Value::Object(meta) = params.entry("_meta").or_insert_with(|| Value::Object(serde_json::Map::new())) {
        meta.extend(injected);
    }
}
