//! Inspect a stream of MCP messages: the wire linter built on `mocopr-core`.
//!
//! Run with:
//!
//! ```text
//! cargo run --release -p mocopr-examples --example inspect -- examples/data/mixed-era-session.jsonl
//! some-mcp-client 2>/dev/null | cargo run --release -p mocopr-examples --example inspect
//! ```
//!
//! Reads newline-delimited JSON-RPC (a stdio capture) from a file or stdin through the stdio
//! framing rules, decodes every message once, works out its era (modern `_meta`, or the legacy
//! session `initialize` opened), checks it against that revision, and prints one line per
//! message with the JSON-RPC error a MoCoPr server would answer for anything wrong. With
//! `--strict` it exits 1 when any message was rejected (for use in CI on captured traffic).

use std::collections::BTreeMap;
use std::io::Read;
use std::process::ExitCode;

use bytes::BytesMut;
use mocopr_core::framing::{DEFAULT_MAX_FRAME_SIZE, FrameDecoder};
use mocopr_core::jsonrpc::{DecodeOptions, Envelope, Frame, RawRequest, decode};
use mocopr_core::{ClientNotification, ClientRequest, ProtocolError, ProtocolVersion, ServerNotification};

/// What the stream has established so far: the legacy session's revision, if one was opened.
#[derive(Default)]
struct Session {
    legacy_version: Option<ProtocolVersion>,
}

struct Report {
    kind: &'static str,
    id: String,
    method: String,
    era: String,
    verdict: Result<String, ProtocolError>,
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let strict = args.iter().any(|a| a == "--strict");
    let path = args.iter().find(|a| !a.starts_with("--"));
    let mut input = Vec::new();
    let read = match path {
        Some(path) => std::fs::read(path).map(|bytes| input = bytes),
        None => std::io::stdin().read_to_end(&mut input).map(|_| ()),
    };
    if let Err(e) = read {
        eprintln!("inspect: cannot read input: {e}");
        return ExitCode::FAILURE;
    }

    let mut buffer = BytesMut::from(&input[..]);
    let mut frames = FrameDecoder::new(DEFAULT_MAX_FRAME_SIZE);
    let mut session = Session::default();
    let mut rejected: BTreeMap<i32, usize> = BTreeMap::new();
    let mut total = 0;

    println!("{:>4}  {:<13} {:<6} {:<34} {:<18} verdict", "#", "kind", "id", "method", "era");
    loop {
        let frame = match frames.decode(&mut buffer) {
            Ok(Some(frame)) => frame,
            Ok(None) => match frames.decode_eof(&mut buffer) {
                Ok(Some(frame)) => frame,
                Ok(None) => break,
                Err(e) => {
                    print_report(total + 1, &reject(e.into()), &mut rejected);
                    break;
                }
            },
            Err(e) => {
                total += 1;
                print_report(total, &reject(e.into()), &mut rejected);
                continue;
            }
        };
        let options =
            DecodeOptions::default().with_batches(session.legacy_version.is_some_and(ProtocolVersion::allows_batches));
        match decode(&frame, &options) {
            Ok(Frame::Single(envelope)) => {
                total += 1;
                print_report(total, &inspect(envelope, &mut session), &mut rejected);
            }
            Ok(Frame::Batch(entries)) => {
                for entry in entries {
                    total += 1;
                    let report = match entry {
                        Ok(envelope) => inspect(envelope, &mut session),
                        Err(r) => Report { id: show_id(r.id.as_ref()), ..reject(r.error) },
                    };
                    print_report(total, &report, &mut rejected);
                }
            }
            Err(r) => {
                total += 1;
                print_report(total, &Report { id: show_id(r.id.as_ref()), ..reject(r.error) }, &mut rejected);
            }
        }
    }

    let bad: usize = rejected.values().sum();
    println!("\n{total} messages, {} ok, {bad} rejected", total - bad);
    for (code, count) in &rejected {
        println!("  {count} x {}", mocopr_core::ErrorCode(*code));
    }
    if strict && bad > 0 { ExitCode::FAILURE } else { ExitCode::SUCCESS }
}

fn reject(error: ProtocolError) -> Report {
    Report { kind: "-", id: "-".into(), method: "-".into(), era: "-".into(), verdict: Err(error) }
}

fn show_id(id: Option<&mocopr_core::RequestId>) -> String {
    id.map_or_else(|| "-".to_owned(), ToString::to_string)
}

fn inspect(envelope: Envelope<'_>, session: &mut Session) -> Report {
    match envelope {
        Envelope::Request(request) => inspect_request(&request, session),
        Envelope::Notification(n) => {
            let era = session.legacy_version.map_or("-".to_owned(), |v| format!("legacy {v}"));
            let verdict =
                ClientNotification::decode(&n.method, n.params).map(|_| "ok (client notification)".to_owned()).or_else(
                    |_| ServerNotification::decode(&n.method, n.params).map(|_| "ok (server notification)".to_owned()),
                );
            Report { kind: "notification", id: "-".into(), method: n.method.into_owned(), era, verdict }
        }
        Envelope::Response(response) => {
            let kind = serde_json::from_str::<serde_json::Value>(response.result.get())
                .ok()
                .and_then(|v| v.get("resultType").and_then(|t| t.as_str()).map(str::to_owned))
                .unwrap_or_else(|| "no resultType (legacy)".into());
            let protocol = serde_json::from_str::<serde_json::Value>(response.result.get())
                .ok()
                .and_then(|v| v.get("protocolVersion").and_then(|p| p.as_str()).and_then(ProtocolVersion::parse));
            if let Some(version) = protocol {
                session.legacy_version = Some(version);
            }
            Report {
                kind: "response",
                id: response.id.to_string(),
                method: "-".into(),
                era: "-".into(),
                verdict: Ok(format!("ok ({kind})")),
            }
        }
        Envelope::Error(error) => Report {
            kind: "error",
            id: show_id(error.id.as_ref()),
            method: "-".into(),
            era: "-".into(),
            verdict: Ok(format!("peer error {}: {}", error.error.code, error.error.message)),
        },
    }
}

fn inspect_request(request: &RawRequest<'_>, session: &mut Session) -> Report {
    let mut report = Report {
        kind: "request",
        id: request.id.to_string(),
        method: request.method.to_string(),
        era: String::new(),
        verdict: Ok(String::new()),
    };
    let body = match ClientRequest::decode(&request.method, request.params) {
        Ok(body) => body,
        Err(e) => {
            return Report { verdict: Err(e), era: "-".into(), ..report };
        }
    };
    // A request is modern when it says so in `_meta`; otherwise it belongs to the legacy session.
    let modern = body.request_meta().and_then(|m| m.protocol_version.as_deref()).is_some();
    if modern {
        report.era = "modern".into();
        report.verdict = body
            .request_meta()
            .ok_or(ProtocolError::MissingMeta { key: mocopr_core::meta::PROTOCOL_VERSION_KEY })
            .and_then(|m| m.validate_modern(&ProtocolVersion::ALL).map(|c| c.version))
            .and_then(|v| ClientRequest::decode_for(v, &request.method, request.params).map(|_| format!("ok ({v})")));
        return report;
    }
    if let ClientRequest::Initialize(init) = &body {
        report.era = "legacy".into();
        report.verdict = Ok(format!("ok (offers {})", init.protocol_version));
        return report;
    }
    let version = session.legacy_version.unwrap_or(ProtocolVersion::LATEST_LEGACY);
    report.era = format!("legacy {version}");
    report.verdict = if session.legacy_version.is_none() {
        // Neither modern `_meta` nor an open legacy session: a server cannot tell the revision.
        Err(ProtocolError::MissingMeta { key: mocopr_core::meta::PROTOCOL_VERSION_KEY })
    } else {
        ClientRequest::decode_for(version, &request.method, request.params).map(|_| "ok".to_owned())
    };
    report
}

fn print_report(n: usize, report: &Report, rejected: &mut BTreeMap<i32, usize>) {
    let verdict = match &report.verdict {
        Ok(text) => text.clone(),
        Err(e) => {
            *rejected.entry(e.code().0).or_default() += 1;
            format!("REJECTED {}: {e}", e.code().0)
        }
    };
    let method: String = report.method.chars().take(34).collect();
    println!("{n:>4}  {:<13} {:<6} {:<34} {:<18} {verdict}", report.kind, report.id, method, report.era);
}
