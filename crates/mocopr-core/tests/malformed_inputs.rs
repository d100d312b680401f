//! A table of malformed inputs, each producing its specific typed error (and JSON-RPC code),
//! never a panic. One row per input; the stage says which part of the pipeline reads it.

use bytes::BytesMut;
use mocopr_core::framing::{FrameDecoder, encode_frame};
use mocopr_core::jsonrpc::{DecodeOptions, Envelope, Frame, decode};
use mocopr_core::{ClientRequest, ErrorCode, ProtocolError, ProtocolVersion, RequestId};

/// Where an input enters the pipeline.
#[derive(Clone, Copy)]
enum Stage {
    /// `jsonrpc::decode` with batches forbidden (2025-06-18 and later).
    Envelope,
    /// `jsonrpc::decode` for a 2025-03-26 peer (batches allowed, at most 4).
    Envelope2025,
    /// `jsonrpc::decode` with a 64-byte size limit.
    Small,
    /// Envelope, then the typed `ClientRequest` (any revision).
    Typed,
    /// Envelope, then typed for 2025-06-18 (legacy-only and modern-only methods differ).
    Legacy,
    /// Envelope, typed for 2026-07-28, then the modern `_meta` rules.
    Modern,
    /// `header::decode_header_value` of the input.
    Header,
    /// The stdio frame decoder (16-byte limit) over the input.
    FrameIn,
    /// `framing::encode_frame` of the input.
    FrameOut,
    /// `names::validate_tool_name`.
    ToolName,
    /// `meta_key::validate_meta_key`.
    MetaKey,
    /// `x_mcp_header::extract_param_headers` of the input as a tool `inputSchema`.
    ParamHeaders,
}

/// The error of one row: its variant name, and for protocol errors the code and id.
#[derive(Debug, PartialEq)]
struct Outcome {
    variant: String,
    code: Option<i32>,
    id: Option<RequestId>,
}

fn variant_name(debug: &str) -> String {
    debug.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect()
}

fn protocol(error: ProtocolError, id: Option<RequestId>) -> Outcome {
    Outcome { variant: variant_name(&format!("{error:?}")), code: Some(error.code().0), id }
}

fn other(debug: String) -> Outcome {
    Outcome { variant: variant_name(&debug), code: None, id: None }
}

fn run(stage: Stage, input: &str) -> Option<Outcome> {
    let options = match stage {
        Stage::Envelope2025 => DecodeOptions::for_version(ProtocolVersion::V2025_03_26).with_batches(true),
        Stage::Small => DecodeOptions::default().with_max_message_size(64),
        _ => DecodeOptions::default(),
    };
    let mut options = options;
    options.max_batch_len = 4;
    match stage {
        Stage::Envelope | Stage::Envelope2025 | Stage::Small => match decode(input.as_bytes(), &options) {
            Err(r) => Some(protocol(r.error, r.id)),
            Ok(Frame::Batch(entries)) => entries.into_iter().find_map(Result::err).map(|r| protocol(r.error, r.id)),
            Ok(Frame::Single(_)) => None,
        },
        Stage::Typed | Stage::Legacy | Stage::Modern => {
            let request = match decode(input.as_bytes(), &options) {
                Err(r) => return Some(protocol(r.error, r.id)),
                Ok(Frame::Single(Envelope::Request(request))) => request,
                Ok(_) => return None,
            };
            let id = Some(request.id.clone());
            let typed = match stage {
                Stage::Legacy => {
                    ClientRequest::decode_for(ProtocolVersion::V2025_06_18, &request.method, request.params)
                }
                Stage::Modern => {
                    ClientRequest::decode_for(ProtocolVersion::V2026_07_28, &request.method, request.params)
                }
                _ => ClientRequest::decode(&request.method, request.params),
            };
            let body = match typed {
                Err(e) => return Some(protocol(e, id)),
                Ok(body) => body,
            };
            if let Stage::Modern = stage {
                let Some(meta) = body.request_meta() else {
                    return Some(protocol(ProtocolError::MissingMeta { key: "_meta" }, id));
                };
                if let Err(e) = meta.validate_modern(&[ProtocolVersion::V2026_07_28]) {
                    return Some(protocol(e, id));
                }
            }
            None
        }
        Stage::Header => mocopr_core::header::decode_header_value(input)
            .err()
            .map(|source| protocol(ProtocolError::InvalidHeaderValue { header: "Mcp-Name".into(), source }, None)),
        Stage::FrameIn => {
            let mut decoder = FrameDecoder::new(16);
            let mut buf = BytesMut::from(input.as_bytes());
            loop {
                match decoder.decode(&mut buf) {
                    Err(e) => return Some(protocol(e.into(), None)),
                    Ok(Some(_)) => continue,
                    Ok(None) => {
                        return decoder.decode_eof(&mut buf).err().map(|e| protocol(e.into(), None));
                    }
                }
            }
        }
        Stage::FrameOut => {
            let mut out = BytesMut::new();
            encode_frame(input.as_bytes(), &mut out, 1024).err().map(|e| protocol(e.into(), None))
        }
        Stage::ToolName => mocopr_core::names::validate_tool_name(input).err().map(|e| other(format!("{e:?}"))),
        Stage::MetaKey => mocopr_core::meta_key::validate_meta_key(input).err().map(|e| other(format!("{e:?}"))),
        Stage::ParamHeaders => {
            let schema: serde_json::Value = serde_json::from_str(input).expect("table schemas are valid JSON");
            mocopr_core::x_mcp_header::extract_param_headers(&schema).err().map(|e| other(format!("{e:?}")))
        }
    }
}

const P: i32 = -32700;
const R: i32 = -32600;
const M: i32 = -32601;
const I: i32 = -32602;
const H: i32 = -32020;
const V: i32 = -32022;

/// Builds a modern request with `params` (a JSON object body without braces).
fn modern(method: &str, params: &str) -> String {
    let comma = if params.is_empty() { "" } else { "," };
    format!(
        r#"{{"jsonrpc":"2.0","id":9,"method":"{method}","params":{{{params}{comma}"_meta":{{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{{}}}}}}}}"#
    )
}

fn deep(n: usize) -> String {
    format!(
        r#"{{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{{"name":"x","arguments":{{"a":{}1{}}}}}}}"#,
        "[".repeat(n),
        "]".repeat(n)
    )
}

/// One table row: stage, input, expected variant, expected code, expected id.
type Row = (Stage, String, &'static str, Option<i32>, Option<RequestId>);

#[rustfmt::skip]
fn rows() -> Vec<Row> {
    use Stage::*;
    let id = |n: i64| Some(RequestId::Number(n));
    let s = |x: &str| x.to_owned();
    let long_name = "a".repeat(129);
    vec![
        // Not JSON at all.
        (Envelope, s(""), "Parse", Some(P), None),
        (Envelope, s("   "), "Parse", Some(P), None),
        (Envelope, s("{"), "Parse", Some(P), None),
        (Envelope, s("}"), "Parse", Some(P), None),
        (Envelope, s("{\"jsonrpc\":\"2.0\",}"), "Parse", Some(P), None),
        (Envelope, s("{'jsonrpc':'2.0'}"), "Parse", Some(P), None),
        (Envelope, s("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"} trailing"), "Parse", Some(P), None),
        (Envelope, s("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}{}"), "Parse", Some(P), None),
        (Envelope, s("{\"a\":\"\\x\"}"), "Parse", Some(P), None),
        (Envelope, s("{\"a\":tru}"), "Parse", Some(P), None),
        (Envelope, s("nul"), "Parse", Some(P), None),
        (Envelope, s("\u{feff}{}"), "Parse", Some(P), None),
        (Envelope, s("{\"a\":\"\u{1}\"}"), "Parse", Some(P), None),
        (Envelope, s("{\"a\":01}"), "Parse", Some(P), None),
        (Envelope, s("{\"a\":NaN}"), "Parse", Some(P), None),
        // JSON, but not an object.
        (Envelope, s("null"), "NotAnObject", Some(R), None),
        (Envelope, s("true"), "NotAnObject", Some(R), None),
        (Envelope, s("42"), "NotAnObject", Some(R), None),
        (Envelope, s("-1.5e3"), "NotAnObject", Some(R), None),
        (Envelope, s("\"tools/list\""), "NotAnObject", Some(R), None),
        // Batches: never after 2025-03-26; bounded and non-empty there.
        (Envelope, s("[]"), "BatchNotAllowed", Some(R), None),
        (Envelope, s("[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}]"), "BatchNotAllowed", Some(R), None),
        // Refused before it is parsed when no batch is allowed; parsed (and malformed) when one is.
        (Envelope, s("[1,2"), "BatchNotAllowed", Some(R), None),
        (Envelope2025, s("[1,2"), "Parse", Some(P), None),
        // Reading stops one past the limit: what follows is never looked at.
        (Envelope2025, s("[{},{},{},{},{},this is never parsed"), "BatchTooLarge", Some(R), None),
        (Envelope2025, s("[]"), "EmptyBatch", Some(R), None),
        (Envelope2025, s("[{},{},{},{},{}]"), "BatchTooLarge", Some(R), None),
        (Envelope2025, s("[1]"), "NotAnObject", Some(R), None),
        (Envelope2025, s("[[]]"), "NotAnObject", Some(R), None),
        (Envelope2025, s("[{\"jsonrpc\":\"2.0\",\"id\":null,\"method\":\"ping\"}]"), "NullId", Some(R), None),
        (Envelope2025, s("[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"},{\"id\":2,\"method\":\"ping\"}]"), "InvalidJsonRpcVersion", Some(R), id(2)),
        // The jsonrpc member.
        (Envelope, s("{\"id\":1,\"method\":\"ping\"}"), "InvalidJsonRpcVersion", Some(R), id(1)),
        (Envelope, s("{\"jsonrpc\":\"1.0\",\"id\":1,\"method\":\"ping\"}"), "InvalidJsonRpcVersion", Some(R), id(1)),
        (Envelope, s("{\"jsonrpc\":2.0,\"id\":1,\"method\":\"ping\"}"), "InvalidJsonRpcVersion", Some(R), id(1)),
        (Envelope, s("{\"jsonrpc\":null,\"id\":1,\"method\":\"ping\"}"), "InvalidJsonRpcVersion", Some(R), id(1)),
        (Envelope, s("{\"jsonrpc\":\"2.0 \",\"id\":\"a\",\"method\":\"ping\"}"), "InvalidJsonRpcVersion", Some(R), Some(RequestId::from("a"))),
        // Ids.
        (Envelope, s("{\"jsonrpc\":\"2.0\",\"id\":null,\"method\":\"ping\"}"), "NullId", Some(R), None),
        (Envelope, s("{\"jsonrpc\":\"2.0\",\"id\":1.5,\"method\":\"ping\"}"), "InvalidId", Some(R), None),
        (Envelope, s("{\"jsonrpc\":\"2.0\",\"id\":true,\"method\":\"ping\"}"), "InvalidId", Some(R), None),
        (Envelope, s("{\"jsonrpc\":\"2.0\",\"id\":[1],\"method\":\"ping\"}"), "InvalidId", Some(R), None),
        (Envelope, s("{\"jsonrpc\":\"2.0\",\"id\":{},\"method\":\"ping\"}"), "InvalidId", Some(R), None),
        (Envelope, s("{\"jsonrpc\":\"2.0\",\"id\":18446744073709551616,\"method\":\"ping\"}"), "InvalidId", Some(R), None),
        (Envelope, s("{\"jsonrpc\":\"2.0\",\"id\":1e3,\"method\":\"ping\"}"), "InvalidId", Some(R), None),
        (Envelope, s("{\"jsonrpc\":\"2.0\",\"id\":null,\"result\":{}}"), "NullId", Some(R), None),
        (Envelope, s("{\"jsonrpc\":\"2.0\",\"result\":{}}"), "MissingResponseId", Some(R), None),
        // Members of the wrong type, duplicated, or combined wrongly.
        (Envelope, s("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":7}"), "InvalidField", Some(R), id(1)),
        (Envelope, s("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":null}"), "InvalidField", Some(R), id(1)),
        (Envelope, s("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":[\"ping\"]}"), "InvalidField", Some(R), id(1)),
        (Envelope, s("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\",\"params\":[1]}"), "InvalidField", Some(R), id(1)),
        (Envelope, s("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\",\"params\":\"x\"}"), "InvalidField", Some(R), id(1)),
        (Envelope, s("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\",\"params\":3}"), "InvalidField", Some(R), id(1)),
        (Envelope, s("{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":\"bad\"}"), "InvalidField", Some(R), id(1)),
        (Envelope, s("{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{\"code\":\"x\",\"message\":\"m\"}}"), "InvalidField", Some(R), id(1)),
        (Envelope, s("{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{\"message\":\"m\"}}"), "InvalidField", Some(R), id(1)),
        (Envelope, s("{\"jsonrpc\":\"2.0\",\"id\":1,\"id\":2,\"method\":\"ping\"}"), "MalformedEnvelope", Some(R), None),
        (Envelope, s("{\"jsonrpc\":\"2.0\",\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}"), "MalformedEnvelope", Some(R), None),
        (Envelope, s("{\"jsonrpc\":\"2.0\",\"id\":1}"), "UnclassifiableMessage", Some(R), id(1)),
        (Envelope, s("{\"jsonrpc\":\"2.0\"}"), "UnclassifiableMessage", Some(R), None),
        (Envelope, s("{}"), "InvalidJsonRpcVersion", Some(R), None),
        (Envelope, s("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\",\"result\":{}}"), "AmbiguousMessage", Some(R), id(1)),
        (Envelope, s("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\",\"error\":{\"code\":1,\"message\":\"m\"}}"), "AmbiguousMessage", Some(R), id(1)),
        (Envelope, s("{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{},\"error\":{\"code\":1,\"message\":\"m\"}}"), "AmbiguousMessage", Some(R), id(1)),
        // Method names.
        (Envelope, s("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"\"}"), "InvalidMethodName", Some(M), id(1)),
        (Envelope, s("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"rpc.discover\"}"), "InvalidMethodName", Some(M), id(1)),
        (Envelope, s("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/\\u0000list\"}"), "InvalidMethodName", Some(M), id(1)),
        (Envelope, format!("{{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"{}\"}}", "m".repeat(300)), "InvalidMethodName", Some(M), id(1)),
        // Size limits.
        (Small, format!("{{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\",\"params\":{{\"pad\":\"{}\"}}}}", "x".repeat(64)), "MessageTooLarge", Some(R), None),
        (Small, "x".repeat(65), "MessageTooLarge", Some(R), None),
        // Typed params, any revision.
        (Typed, s("{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"no/such/method\"}"), "MethodNotFound", Some(M), id(2)),
        (Typed, s("{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\"}"), "InvalidParams", Some(I), id(2)),
        (Typed, s("{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\",\"params\":{}}"), "InvalidParams", Some(I), id(2)),
        (Typed, s("{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\",\"params\":{\"name\":5}}"), "InvalidParams", Some(I), id(2)),
        (Typed, s("{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\",\"params\":{\"name\":\"x\",\"arguments\":[]}}"), "InvalidParams", Some(I), id(2)),
        (Typed, s("{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\",\"params\":{\"name\":\"x\",\"arguments\":\"{}\"}}"), "InvalidParams", Some(I), id(2)),
        (Typed, s("{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\",\"params\":{\"name\":\"x\",\"requestState\":1}}"), "InvalidParams", Some(I), id(2)),
        (Typed, s("{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\",\"params\":{\"name\":\"x\",\"inputResponses\":[]}}"), "InvalidParams", Some(I), id(2)),
        (Typed, s("{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\",\"params\":{\"name\":\"x\",\"_meta\":[]}}"), "InvalidParams", Some(I), id(2)),
        (Typed, s("{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\",\"params\":{\"name\":\"x\",\"_meta\":{\"progressToken\":1.5}}}"), "InvalidParams", Some(I), id(2)),
        (Typed, s("{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"resources/read\",\"params\":{}}"), "InvalidParams", Some(I), id(2)),
        (Typed, s("{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"resources/read\",\"params\":{\"uri\":null}}"), "InvalidParams", Some(I), id(2)),
        (Typed, s("{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"prompts/get\",\"params\":{\"name\":\"p\",\"arguments\":{\"a\":1}}}"), "InvalidParams", Some(I), id(2)),
        (Typed, s("{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/list\",\"params\":{\"cursor\":7}}"), "InvalidParams", Some(I), id(2)),
        (Typed, s("{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"completion/complete\",\"params\":{\"ref\":{\"type\":\"ref/unknown\"},\"argument\":{\"name\":\"a\",\"value\":\"b\"}}}"), "InvalidParams", Some(I), id(2)),
        (Typed, s("{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"completion/complete\",\"params\":{\"ref\":{\"type\":\"ref/prompt\",\"name\":\"p\"}}}"), "InvalidParams", Some(I), id(2)),
        (Typed, s("{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"logging/setLevel\",\"params\":{\"level\":\"loud\"}}"), "InvalidParams", Some(I), id(2)),
        (Typed, s("{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"initialize\",\"params\":{\"protocolVersion\":\"2025-06-18\"}}"), "InvalidParams", Some(I), id(2)),
        (Typed, s("{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"subscriptions/listen\",\"params\":{}}"), "InvalidParams", Some(I), id(2)),
        (Typed, s("{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"subscriptions/listen\",\"params\":{\"notifications\":{\"resourceSubscriptions\":\"x\"}}}"), "InvalidParams", Some(I), id(2)),
        (Typed, s("{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tasks/get\",\"params\":{}}"), "InvalidParams", Some(I), id(2)),
        (Typed, s("{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tasks/update\",\"params\":{\"taskId\":\"t\"}}"), "InvalidParams", Some(I), id(2)),
        (Typed, deep(200), "NestingTooDeep", Some(P), id(3)),
        (Typed, deep(10_000), "NestingTooDeep", Some(P), id(3)),
        // Methods that exist, but not in the request's revision.
        (Legacy, s("{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"server/discover\",\"params\":{}}"), "MethodNotInVersion", Some(M), id(4)),
        (Legacy, s("{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"subscriptions/listen\",\"params\":{\"notifications\":{}}}"), "MethodNotInVersion", Some(M), id(4)),
        (Legacy, s("{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"tasks/get\",\"params\":{\"taskId\":\"t\"}}"), "MethodNotInVersion", Some(M), id(4)),
        (Modern, modern("initialize", "\"protocolVersion\":\"2026-07-28\",\"capabilities\":{},\"clientInfo\":{\"name\":\"c\",\"version\":\"1\"}"), "MethodNotInVersion", Some(M), id(9)),
        (Modern, modern("ping", ""), "MethodNotInVersion", Some(M), id(9)),
        (Modern, modern("logging/setLevel", "\"level\":\"info\""), "MethodNotInVersion", Some(M), id(9)),
        (Modern, modern("resources/subscribe", "\"uri\":\"file:///a\""), "MethodNotInVersion", Some(M), id(9)),
        (Modern, modern("tasks/list", ""), "MethodNotInVersion", Some(M), id(9)),
        (Modern, modern("tasks/result", "\"taskId\":\"t\""), "MethodNotInVersion", Some(M), id(9)),
        // The modern `_meta` rules.
        (Modern, s("{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"tools/list\"}"), "MissingMeta", Some(I), id(9)),
        (Modern, s("{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"tools/list\",\"params\":{\"_meta\":{}}}"), "MissingMeta", Some(I), id(9)),
        (Modern, s("{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"tools/list\",\"params\":{\"_meta\":{\"io.modelcontextprotocol/protocolVersion\":\"2026-07-28\"}}}"), "MissingMeta", Some(I), id(9)),
        (Modern, s("{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"tools/list\",\"params\":{\"_meta\":{\"io.modelcontextprotocol/clientCapabilities\":{}}}}"), "MissingMeta", Some(I), id(9)),
        (Modern, s("{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"tools/list\",\"params\":{\"_meta\":{\"io.modelcontextprotocol/protocolVersion\":\"2099-01-01\",\"io.modelcontextprotocol/clientCapabilities\":{}}}}"), "UnsupportedProtocolVersion", Some(V), id(9)),
        (Modern, s("{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"tools/list\",\"params\":{\"_meta\":{\"io.modelcontextprotocol/protocolVersion\":\"2025-06-18\",\"io.modelcontextprotocol/clientCapabilities\":{}}}}"), "UnsupportedProtocolVersion", Some(V), id(9)),
        (Modern, s("{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"tools/list\",\"params\":{\"_meta\":{\"io.modelcontextprotocol/protocolVersion\":20260728,\"io.modelcontextprotocol/clientCapabilities\":{}}}}"), "InvalidParams", Some(I), id(9)),
        (Modern, s("{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"tools/list\",\"params\":{\"_meta\":{\"io.modelcontextprotocol/protocolVersion\":\"2026-07-28\",\"io.modelcontextprotocol/clientCapabilities\":[]}}}"), "InvalidParams", Some(I), id(9)),
        (Modern, s("{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"tools/list\",\"params\":{\"_meta\":{\"io.modelcontextprotocol/protocolVersion\":\"2026-07-28\",\"io.modelcontextprotocol/clientCapabilities\":{},\"io.modelcontextprotocol/logLevel\":\"verbose\"}}}"), "InvalidParams", Some(I), id(9)),
        (Modern, modern("tools/list", "").replace("{}}}}", "{},\"-bad\":1}}}"), "InvalidMetaKey", Some(I), id(9)),
        (Modern, modern("tools/list", "").replace("{}}}}", "{},\"com.example/\":1,\"a..b/x\":2}}}"), "InvalidMetaKey", Some(I), id(9)),
        (Modern, modern("tools/list", "").replace("{}}}}", "{},\"1com.example/x\":1}}}"), "InvalidMetaKey", Some(I), id(9)),
        (Modern, modern("tools/list", "").replace("{}}}}", "{},\"com.example-/x\":1}}}"), "InvalidMetaKey", Some(I), id(9)),
        (Modern, modern("tools/list", "").replace("{}}}}", "{},\"com.example/x y\":1}}}"), "InvalidMetaKey", Some(I), id(9)),
        (Modern, modern("tools/list", "").replace("{}}}}", "{},\"com.example/-x\":1}}}"), "InvalidMetaKey", Some(I), id(9)),
        // HTTP header encodings.
        (Header, s("=?base64?!!!?="), "InvalidHeaderValue", Some(H), None),
        (Header, s("=?base64?aGVsbG8?="), "InvalidHeaderValue", Some(H), None),
        (Header, s("=?base64?/w==?="), "InvalidHeaderValue", Some(H), None),
        (Header, s("=?base64?="), "InvalidHeaderValue", Some(H), None),
        (Header, s("line\nbreak"), "InvalidHeaderValue", Some(H), None),
        (Header, s("carriage\rreturn"), "InvalidHeaderValue", Some(H), None),
        (Header, s("nul\u{0}byte"), "InvalidHeaderValue", Some(H), None),
        (Header, s("bell\u{7}"), "InvalidHeaderValue", Some(H), None),
        (Header, s("caf\u{e9}"), "InvalidHeaderValue", Some(H), None),
        // stdio framing.
        (FrameIn, s("0123456789abcdefXYZ\n"), "MessageTooLarge", Some(R), None),
        (FrameIn, s("{\"ok\":1}\n0123456789abcdef0123\n"), "MessageTooLarge", Some(R), None),
        (FrameIn, "x".repeat(40), "MessageTooLarge", Some(R), None),
        (FrameOut, s("{\"a\":\n1}"), "Framing", Some(P), None),
        (FrameOut, s("{\"a\":1}\r"), "Framing", Some(P), None),
        (FrameOut, s(""), "Framing", Some(P), None),
        (FrameOut, "y".repeat(2000), "MessageTooLarge", Some(R), None),
        // Tool names.
        (ToolName, s(""), "Empty", None, None),
        (ToolName, long_name, "TooLong", None, None),
        (ToolName, s("has space"), "InvalidCharacter", None, None),
        (ToolName, s("slash/name"), "InvalidCharacter", None, None),
        (ToolName, s("emoji\u{1f600}"), "InvalidCharacter", None, None),
        (ToolName, s("comma,name"), "InvalidCharacter", None, None),
        // `_meta` keys.
        (MetaKey, s(".a/x"), "EmptyLabel", None, None),
        (MetaKey, s("com..example/x"), "EmptyLabel", None, None),
        (MetaKey, s("9lives/x"), "InvalidLabelStart", None, None),
        (MetaKey, s("com.x-/y"), "InvalidLabelEnd", None, None),
        (MetaKey, s("com.ex_ample/y"), "InvalidLabelCharacter", None, None),
        (MetaKey, s("_name"), "InvalidNameStart", None, None),
        (MetaKey, s("name_"), "InvalidNameEnd", None, None),
        (MetaKey, s("na me"), "InvalidNameCharacter", None, None),
        (MetaKey, "k".repeat(300), "TooLong", None, None),
        // `x-mcp-header` annotations in a tool's inputSchema.
        (ParamHeaders, s(r#"[]"#), "RootNotObject", None, None),
        (ParamHeaders, s(r#"{"type":"object","properties":{"a":{"type":"string","x-mcp-header":""}}}"#), "EmptyName", None, None),
        (ParamHeaders, s(r#"{"type":"object","properties":{"a":{"type":"string","x-mcp-header":"bad name"}}}"#), "InvalidNameCharacter", None, None),
        (ParamHeaders, s(r#"{"type":"object","properties":{"a":{"type":"string","x-mcp-header":7}}}"#), "AnnotationNotString", None, None),
        (ParamHeaders, s(r#"{"type":"object","properties":{"a":{"type":"number","x-mcp-header":"A"}}}"#), "UnsupportedType", None, None),
        (ParamHeaders, s(r#"{"type":"object","properties":{"a":{"type":"array","x-mcp-header":"A"}}}"#), "UnsupportedType", None, None),
        (ParamHeaders, s(r#"{"type":"object","properties":{"a":{"x-mcp-header":"A"}}}"#), "MissingType", None, None),
        (ParamHeaders, s(r#"{"type":"object","properties":{"a":{"type":"string","x-mcp-header":"Dup"},"b":{"type":"string","x-mcp-header":"dup"}}}"#), "DuplicateName", None, None),
        (ParamHeaders, s(r#"{"type":"object","properties":{"a":{"type":"array","items":{"type":"string","x-mcp-header":"A"}}}}"#), "NotStaticallyReachable", None, None),
        (ParamHeaders, s(r#"{"type":"object","anyOf":[{"properties":{"a":{"type":"string","x-mcp-header":"A"}}}]}"#), "NotStaticallyReachable", None, None),
        (ParamHeaders, s(r#"{"type":"object","$defs":{"d":{"type":"string","x-mcp-header":"A"}}}"#), "NotStaticallyReachable", None, None),
    ]
}

#[test]
fn every_malformed_input_gets_its_specific_error() {
    let rows = rows();
    assert!(rows.len() >= 100, "the table must hold at least 100 inputs, has {}", rows.len());
    let mut failures = Vec::new();
    for (n, (stage, input, variant, code, id)) in rows.into_iter().enumerate() {
        let expected = Outcome { variant: variant.to_owned(), code, id };
        let shown: String = input.chars().take(120).collect();
        match std::panic::catch_unwind(|| run(stage, &input)) {
            Err(_) => failures.push(format!("row {n}: PANIC on {shown:?}")),
            Ok(None) => failures.push(format!("row {n}: accepted {shown:?}, expected {expected:?}")),
            Ok(Some(got)) if got != expected => {
                failures.push(format!("row {n}: {shown:?}\n    expected {expected:?}\n    got      {got:?}"))
            }
            Ok(Some(_)) => {}
        }
    }
    assert!(failures.is_empty(), "{} rows failed:\n{}", failures.len(), failures.join("\n"));
}

/// A notification is never answered, whatever is wrong with it: its rejection says so.
#[test]
fn rejected_notifications_are_marked_never_to_be_answered() {
    let notifications = [
        r#"{"jsonrpc":"2.0","method":"notifications/cancelled","params":[1,2]}"#,
        r#"{"jsonrpc":"2.0","method":"notifications/cancelled","params":"text"}"#,
        r#"{"jsonrpc":"2.0","method":""}"#,
        r#"{"jsonrpc":"2.0","method":"rpc.x"}"#,
        r#"{"jsonrpc":"2.0","method":7}"#,
        r#"{"jsonrpc":"1.0","method":"notifications/initialized"}"#,
        r#"{"method":"notifications/initialized"}"#,
    ];
    for text in notifications {
        let rejection = decode(text.as_bytes(), &DecodeOptions::default()).expect_err(text);
        assert!(rejection.notification, "{text}");
    }
    let requests = [
        r#"{"jsonrpc":"2.0","id":1,"method":"x","params":[1]}"#,
        r#"{"jsonrpc":"2.0","id":null,"method":"ping"}"#,
        r#"{"jsonrpc":"2.0","method":"ping","result":{}}"#,
        r#"{"jsonrpc":"2.0"}"#,
        "not json",
    ];
    for text in requests {
        let rejection = decode(text.as_bytes(), &DecodeOptions::default()).expect_err(text);
        assert!(!rejection.notification, "{text}");
    }
}

#[test]
fn error_codes_follow_the_table() {
    // Spot checks of the one mapping table against the specification's numbers.
    assert_eq!(ProtocolError::NullId.code(), ErrorCode::INVALID_REQUEST);
    assert_eq!(ErrorCode::METHOD_NOT_FOUND.http_status(), 404);
    assert_eq!(ErrorCode::UNSUPPORTED_PROTOCOL_VERSION.http_status(), 400);
    assert_eq!(ErrorCode::HEADER_MISMATCH.0, -32020);
}
