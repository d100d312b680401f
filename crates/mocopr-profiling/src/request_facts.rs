//! What a request's span records from its params (a second, small read: the dispatcher decodes
//! them itself): the target a span is named after (a tool or prompt name), a resource URI, and
//! the W3C trace context the caller put in `_meta`. Each value is bounded before it goes into a
//! span: the layer runs before the dispatcher has checked anything, and an exporter keeps
//! attributes in its queue.

use std::borrow::Cow;

use mocopr_core::meta::TRACEPARENT_KEY;
use mocopr_core::names::validate_tool_name;
use mocopr_core::service::{McpRequest, McpResponse, ResultBody};
use serde::Deserialize;

/// Longest tool or prompt name recorded (MCP's limit for tool names); longer ones are left out.
const MAX_TARGET: usize = 128;
/// Longest resource URI recorded; longer ones are left out.
const MAX_URI: usize = 2048;
/// Longest `traceparent` looked at: version `00` is exactly 55 characters, later versions may
/// append fields. Anything longer is not a trace context and is never handed to the propagator.
#[cfg(feature = "opentelemetry")]
const MAX_TRACEPARENT: usize = 256;
/// Longest `tracestate` kept (W3C: 32 members, 512 characters is what a vendor must propagate).
#[cfg(feature = "opentelemetry")]
const MAX_TRACESTATE: usize = 512;

/// A string member, borrowed from the params when it holds no escapes (serde borrows a bare
/// `Cow<str>` only, not one inside an `Option`).
#[derive(Debug, Deserialize)]
struct Text<'a>(#[serde(borrow)] Cow<'a, str>);

/// The members of a request's params a span records.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct RequestFacts<'a> {
    /// `name` of `tools/call` and `prompts/get`.
    #[serde(borrow, default)]
    name: Option<Text<'a>>,
    /// `uri` of the `resources/*` requests.
    #[serde(borrow, default)]
    uri: Option<Text<'a>>,
    #[cfg(feature = "opentelemetry")]
    #[serde(borrow, default, rename = "_meta")]
    meta: Option<TraceMeta<'a>>,
}

/// The trace context members of `_meta` (SEP-414: unprefixed W3C keys).
#[cfg(feature = "opentelemetry")]
#[derive(Debug, Default, Deserialize)]
struct TraceMeta<'a> {
    #[serde(borrow, default)]
    traceparent: Option<Text<'a>>,
    #[serde(borrow, default)]
    tracestate: Option<Text<'a>>,
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

    /// The caller's `traceparent` and `tracestate`, when it sent a `traceparent` that can be one:
    /// at most 256 characters of hex digits and dashes, exactly 55 for version `00`. A
    /// `tracestate` over 512 characters is dropped.
    #[cfg(feature = "opentelemetry")]
    pub(crate) fn trace_context(&self) -> Option<(&str, Option<&str>)> {
        let meta = self.meta.as_ref()?;
        let traceparent = meta.traceparent.as_ref()?.0.as_ref();
        let well_formed = traceparent.len() <= MAX_TRACEPARENT
            && traceparent.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-')
            && (!traceparent.starts_with("00-") || traceparent.len() == 55);
        if !well_formed {
            return None;
        }
        let tracestate = meta.tracestate.as_ref().map(|t| t.0.as_ref()).filter(|t| t.len() <= MAX_TRACESTATE);
        Some((traceparent, tracestate))
    }

    /// The tool or prompt name, when it is one MCP allows (at most 128 characters of the tool
    /// name alphabet): anything else is not recorded.
    fn valid_name(&self) -> Option<&str> {
        let name = self.name.as_ref()?.0.as_ref();
        (name.len() <= MAX_TARGET && validate_tool_name(name).is_ok()).then_some(name)
    }

    /// The attribute naming what the request is about, by method: the tool of `tools/call`,
    /// the prompt of `prompts/get`, the URI of the `resources/*` requests (at most 2,048 bytes).
    pub(crate) fn target(&self, method: &str) -> Target<'_> {
        match method {
            "tools/call" => Target { tool: self.valid_name(), ..Target::default() },
            "prompts/get" => Target { prompt: self.valid_name(), ..Target::default() },
            _ if method.starts_with("resources/") => Target {
                uri: self.uri.as_ref().map(|u| u.0.as_ref()).filter(|u| u.len() <= MAX_URI),
                ..Target::default()
            },
            _ => Target::default(),
        }
    }

    /// The span name OpenTelemetry's MCP conventions give the request: `{method} {target}`,
    /// the target being the tool or prompt name (never the URI: too many distinct values).
    pub(crate) fn span_name(&self, method: &str) -> String {
        match self.valid_name() {
            Some(name) if matches!(method, "tools/call" | "prompts/get") => format!("{method} {name}"),
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

/// The top-level `isError` of a tool result.
#[derive(Deserialize)]
struct ToolOutcome {
    #[serde(rename = "isError", default)]
    is_error: bool,
}

impl Failure {
    /// How `response` to a `method` request failed, if it did. A tool result is read for its
    /// top-level `isError` only when its text holds `"isError"` at all.
    pub(crate) fn of(method: &str, response: &McpResponse) -> Option<Failure> {
        match &response.outcome {
            Err(error) => Some(Failure::Error(error.code.0)),
            Ok(ResultBody::Json(result))
                if method == "tools/call"
                    && memchr::memmem::find(result.as_bytes(), b"\"isError\"").is_some()
                    && serde_json::from_slice::<ToolOutcome>(result.as_bytes()).is_ok_and(|o| o.is_error) =>
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
        assert!(facts.name.is_none() && facts.target("tools/list") == Target::default());
        assert_eq!(facts.span_name("tools/list"), "tools/list");
    }

    #[cfg(feature = "opentelemetry")]
    #[test]
    fn only_a_trace_context_that_can_be_one_is_handed_on() {
        let with = |traceparent: String, tracestate: String| {
            request("tools/list", json!({"_meta": {"traceparent": traceparent, "tracestate": tracestate}}))
        };
        let good = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".to_owned();
        let ok = with(good.clone(), "a=b".into());
        assert_eq!(RequestFacts::of(&ok).trace_context(), Some((good.as_str(), Some("a=b"))));
        let long_state = with(good.clone(), "a".repeat(MAX_TRACESTATE + 1));
        assert_eq!(RequestFacts::of(&long_state).trace_context(), Some((good.as_str(), None)));
        for bad in ["-".repeat(1 << 20), "00-1-1-01".to_owned(), format!("{good}x"), format!("01-{}", "a".repeat(300))]
        {
            let request = with(bad.clone(), String::new());
            assert_eq!(RequestFacts::of(&request).trace_context(), None, "{}", &bad[..bad.len().min(40)]);
        }
    }

    #[test]
    fn names_uris_and_errors_are_bounded_and_read_exactly() {
        let odd = request("tools/call", json!({"name": "no spaces allowed"}));
        assert_eq!(RequestFacts::of(&odd).span_name("tools/call"), "tools/call");
        assert_eq!(RequestFacts::of(&odd).target("tools/call"), Target::default());
        let escaped = request("tools/call", json!({"name": "caf\u{e9}"}));
        assert_eq!(RequestFacts::of(&escaped).target("tools/call"), Target::default(), "not in the tool alphabet");
        let long_uri = request("resources/read", json!({"uri": format!("mem://{}", "x".repeat(MAX_URI))}));
        assert_eq!(RequestFacts::of(&long_uri).target("resources/read"), Target::default());
        let uri = request("resources/read", json!({"uri": "mem://hello"}));
        assert_eq!(RequestFacts::of(&uri).target("resources/read").uri, Some("mem://hello"));

        let result = |text: &str| {
            McpResponse::result(RequestId::from(1), RawJson::from_bytes(bytes::Bytes::copy_from_slice(text.as_bytes())))
        };
        assert_eq!(Failure::of("tools/call", &result(r#"{"content":[],"isError": true}"#)), Some(Failure::ToolError));
        assert_eq!(Failure::of("tools/call", &result(r#"{"structuredContent":{"isError":true},"content":[]}"#)), None);
        assert_eq!(Failure::of("tools/call", &result(r#"{"content":[],"isError":false}"#)), None);
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
