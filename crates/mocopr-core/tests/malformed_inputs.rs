//! A table of malformed inputs, each producing its specific typed error (and JSON-RPC code),
//! never a panic. One row per input; the stage says which part of the pipeline reads it. The
//! rows are data, `tests/data/malformed_inputs.jsonl`, shared with the fuzz corpora.

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

fn deep(n: usize) -> String {
    format!(
        r#"{{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{{"name":"x","arguments":{{"a":{}1{}}}}}}}"#,
        "[".repeat(n),
        "]".repeat(n)
    )
}

/// One table row: stage, input, expected variant, expected code, expected id.
type Row = (Stage, String, String, Option<i32>, Option<RequestId>);

/// The table, `tests/data/malformed_inputs.jsonl` (one `[stage, input, variant, code, id]`
/// array per line), which `cargo xtask fuzz --seed` also reads.
const TABLE: &str = include_str!("data/malformed_inputs.jsonl");

fn stage(name: &str) -> Stage {
    match name {
        "envelope" => Stage::Envelope,
        "envelope-2025-03-26" => Stage::Envelope2025,
        "envelope-64-bytes" => Stage::Small,
        "typed" => Stage::Typed,
        "typed-2025-06-18" => Stage::Legacy,
        "typed-2026-07-28" => Stage::Modern,
        "header" => Stage::Header,
        "frame-in" => Stage::FrameIn,
        "frame-out" => Stage::FrameOut,
        "tool-name" => Stage::ToolName,
        "meta-key" => Stage::MetaKey,
        "param-headers" => Stage::ParamHeaders,
        other => panic!("unknown stage {other:?} in the table"),
    }
}

fn table_rows() -> Vec<Row> {
    let lines = TABLE.lines().enumerate().filter(|(_, l)| !l.trim().is_empty() && !l.starts_with('#'));
    lines
        .map(|(n, line)| {
            let row: (String, String, String, Option<i32>, Option<serde_json::Value>) =
                serde_json::from_str(line).unwrap_or_else(|e| panic!("table line {}: {e}", n + 1));
            let id = row.4.map(|id| match id {
                serde_json::Value::Number(n) => RequestId::Number(n.as_i64().expect("an integer id")),
                serde_json::Value::String(s) => RequestId::from(s.as_str()),
                other => panic!("table line {}: id {other}", n + 1),
            });
            (stage(&row.0), row.1, row.2, row.3, id)
        })
        .collect()
}

/// The table, and the inputs too long or too deep to write out there.
#[rustfmt::skip]
fn rows() -> Vec<Row> {
    use Stage::*;
    let id = |n: i64| Some(RequestId::Number(n));
    let s = |x: &str| x.to_owned();
    let mut rows = table_rows();
    rows.extend([
        (Envelope, format!("{{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"{}\"}}", "m".repeat(300)), s("InvalidMethodName"), Some(M), id(1)),
        (Small, format!("{{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\",\"params\":{{\"pad\":\"{}\"}}}}", "x".repeat(64)), s("MessageTooLarge"), Some(R), None),
        (Small, "x".repeat(65), s("MessageTooLarge"), Some(R), None),
        (Typed, deep(200), s("NestingTooDeep"), Some(P), id(3)),
        (Typed, deep(10_000), s("NestingTooDeep"), Some(P), id(3)),
        (FrameIn, "x".repeat(40), s("MessageTooLarge"), Some(R), None),
        (FrameOut, "y".repeat(2000), s("MessageTooLarge"), Some(R), None),
        (ToolName, "a".repeat(129), s("TooLong"), None, None),
        (MetaKey, "k".repeat(300), s("TooLong"), None, None),
    ]);
    rows
}

#[test]
fn every_malformed_input_gets_its_specific_error() {
    let rows = rows();
    assert!(rows.len() >= 100, "the table must hold at least 100 inputs, has {}", rows.len());
    let mut failures = Vec::new();
    for (n, (stage, input, variant, code, id)) in rows.into_iter().enumerate() {
        let expected = Outcome { variant, code, id };
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
