//! What a request's span records from its params, read without decoding them: the target a
//! span is named after (a tool or prompt name), a resource URI, and the W3C trace context the
//! caller put in `_meta`.

use std::borrow::Cow;

use mocopr_core::meta::TRACEPARENT_KEY;
use mocopr_core::service::{McpRequest, McpResponse, ResultBody};
use serde::Deserialize;

/// Longest target kept in a span name: names past MCP's 128-character limit for tool names are
/// left out, so a caller cannot make span names of any length (the name stays an attribute).
const MAX_TARGET: usize = 128;

/// The members of a request's params a span records.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct RequestFacts<'a> {
    /// `name` of `tools/call` and `prompts/get`.
    #[serde(borrow, default)]
    pub(crate) name: Option<Cow<'a, str>>,
    /// `uri` of the `resources/*` requests.
    #[serde(borrow, default)]
    pub(crate) uri: Option<Cow<'a, str>>,
    #[cfg(feature = "opentelemetry")]
    #[serde(borrow, default, rename = "_meta")]
    meta: Option<TraceMeta<'a>>,
}

/// The trace context members of `_meta` (SEP-414: unprefixed W3C keys).
#[cfg(feature = "opentelemetry")]
#[derive(Debug, Default, Deserialize)]
struct TraceMeta<'a> {
    #[serde(borrow, default)]
    traceparent: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    tracestate: Option<Cow<'a, str>>,
}

impl<'a> RequestFacts<'a> {
    /// Reads the facts of `request`. Only requests that name a target, or (feature
    /// `opentelemetry`) whose params mention `traceparent`, are read at all; params that do not
    /// decode give no facts (the dispatcher answers them with its own error).
    pub(crate) fn of(request: &'a McpRequest) -> Self {
        let Some(params) = request.params.as_ref() else { return RequestFacts::default() };
        let text = params.as_bytes();
        let targeted = matches!(
            request.method.as_str(),
            "tools/call" | "prompts/get" | "resources/read" | "resources/subscribe" | "resources/unsubscribe"
        );
        let traced =
            cfg!(feature = "opentelemetry") && memchr::memmem::find(text, TRACEPARENT_KEY.as_bytes()).is_some();
        if !targeted && !traced {
            return RequestFacts::default();
        }
        serde_json::from_slice(text).unwrap_or_default()
    }

    /// The caller's `traceparent` and `tracestate`, when it sent a `traceparent`.
    #[cfg(feature = "opentelemetry")]
    pub(crate) fn trace_context(&self) -> Option<(&str, Option<&str>)> {
        let meta = self.meta.as_ref()?;
        Some((meta.traceparent.as_deref()?, meta.tracestate.as_deref()))
    }

    /// The attribute naming what the request is about, by method: the tool of `tools/call`,
    /// the prompt of `prompts/get`, the URI of the `resources/*` requests.
    pub(crate) fn target(&self, method: &str) -> Target<'_> {
        let name = self.name.as_deref();
        match method {
            "tools/call" => Target { tool: name, ..Target::default() },
            "prompts/get" => Target { prompt: name, ..Target::default() },
            _ if method.starts_with("resources/") => Target { uri: self.uri.as_deref(), ..Target::default() },
            _ => Target::default(),
        }
    }

    /// The span name OpenTelemetry's MCP conventions give the request: `{method} {target}`,
    /// the target being the tool or prompt name (never the URI: too many distinct values).
    pub(crate) fn span_name(&self, method: &str) -> String {
        match self.name.as_deref() {
            Some(name)
                if matches!(method, "tools/call" | "prompts/get") && !name.is_empty() && name.len() <= MAX_TARGET =>
            {
                format!("{method} {name}")
            }
            _ => method.to_owned(),
        }
    }
}

/// What a request is about, as the conventions' attributes: at most one member is set.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Target<'a> {
    /// `gen_ai.tool.name`.
    pub(crate) tool: Option<&'a str>,
    /// `gen_ai.prompt.name`.
    pub(crate) prompt: Option<&'a str>,
    /// `mcp.resource.uri`.
    pub(crate) uri: Option<&'a str>,
}

/// How a response failed, in the conventions' terms.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Failure {
    /// A JSON-RPC error: its code is both `error.type` and `rpc.response.status_code`.
    Error(i32),
    /// A tool result with `isError`: `error.type` is `tool_error`.
    ToolError,
}

impl Failure {
    /// How `response` to a `method` request failed, if it did.
    pub(crate) fn of(method: &str, response: &McpResponse) -> Option<Failure> {
        match &response.outcome {
            Err(error) => Some(Failure::Error(error.code.0)),
            Ok(ResultBody::Json(result))
                if method == "tools/call" && memchr::memmem::find(result.as_bytes(), b"\"isError\":true").is_some() =>
            {
                Some(Failure::ToolError)
            }
            Ok(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mocopr_core::RequestId;
    use mocopr_core::service::{Method, RawJson};
    use serde_json::json;

    fn request(method: &str, params: serde_json::Value) -> McpRequest {
        McpRequest::new(RequestId::from(1), Method::new(method), Some(RawJson::serialize(&params).expect("json")))
    }

    #[test]
    fn a_tool_call_is_named_after_its_tool_and_carries_its_trace_context() {
        let call = request(
            "tools/call",
            json!({"name": "get-weather", "arguments": {"city": "Oslo"}, "_meta": {
                "traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                "tracestate": "rojo=00f067aa0ba902b7",
            }}),
        );
        let facts = RequestFacts::of(&call);
        assert_eq!(facts.span_name("tools/call"), "tools/call get-weather");
        assert_eq!(facts.target("tools/call"), Target { tool: Some("get-weather"), ..Target::default() });
        #[cfg(feature = "opentelemetry")]
        assert_eq!(
            facts.trace_context(),
            Some(("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", Some("rojo=00f067aa0ba902b7")))
        );
    }

    #[test]
    fn untargeted_requests_without_trace_context_are_not_read() {
        let list = request("tools/list", json!({"cursor": "abc", "name": "not a target"}));
        let facts = RequestFacts::of(&list);
        assert!(facts.name.is_none());
        assert_eq!(facts.span_name("tools/list"), "tools/list");
    }

    #[test]
    fn a_long_or_missing_target_leaves_the_method_alone_as_the_name() {
        let long = request("tools/call", json!({"name": "x".repeat(MAX_TARGET + 1)}));
        assert_eq!(RequestFacts::of(&long).span_name("tools/call"), "tools/call");
        let broken = McpRequest::new(
            RequestId::from(2),
            Method::new("tools/call"),
            Some(RawJson::from_bytes(bytes::Bytes::from_static(b"[1,2]"))),
        );
        assert_eq!(RequestFacts::of(&broken).span_name("tools/call"), "tools/call");
    }
}
