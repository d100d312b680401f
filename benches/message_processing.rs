//! Decoding and encoding messages of 1 KB, 10 KB and 100 KB.
//!
//! Each group has its baseline beside it (a plain `serde_json::Value` parse or write of the same
//! bytes), so results read as ratios:
//! - `decode/envelope`: what a router or proxy pays, params left raw;
//! - `decode/typed`: envelope plus the typed `tools/call` params;
//! - `decode/serde_json_value`: the baseline;
//! - `encode/typed` vs `encode/serde_json_value`;
//! - `tool_arguments/{map,raw,fused}/100B|10KB`: a `tools/call`'s params and then its `Args<T>`
//!   decoded three ways: through the arguments' map (what the server does), with the arguments
//!   kept raw and `T` decoded from that text, and with `T` decoded in the params' own pass;
//! - `concurrent_processing/concurrent_requests/N`: N `tools/call` requests (1 KB) dispatched
//!   at once through an in-process server on a two-thread runtime, beside
//!   `concurrent_processing/join_baseline/N`, the same join of N futures that do nothing.

use bytes::Bytes;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use mocopr_benches::{SIZES, tools_call_request};
use mocopr_core::ClientRequest;
use mocopr_core::jsonrpc::{DecodeOptions, Envelope, Frame, JsonRpcRequest, decode};
use mocopr_core::service::{McpRequest, Method, RawJson};
use mocopr_server::{Args, McpServer};
use std::hint::black_box;

fn decode_benches(c: &mut Criterion) {
    let mut group = c.benchmark_group("decode");
    let options = DecodeOptions::default();
    for (label, size) in SIZES {
        let bytes = tools_call_request(size);
        group.throughput(Throughput::Bytes(bytes.len() as u64));
        group.bench_with_input(BenchmarkId::new("envelope", label), &bytes, |b, bytes| {
            b.iter(|| match decode(black_box(bytes), &options) {
                Ok(Frame::Single(Envelope::Request(r))) => black_box(r.method.len()),
                _ => unreachable!("fixture is a request"),
            })
        });
        group.bench_with_input(BenchmarkId::new("typed", label), &bytes, |b, bytes| {
            b.iter(|| match decode(black_box(bytes), &options) {
                Ok(Frame::Single(Envelope::Request(r))) => {
                    black_box(ClientRequest::decode(&r.method, r.params).is_ok())
                }
                _ => unreachable!("fixture is a request"),
            })
        });
        group.bench_with_input(BenchmarkId::new("serde_json_value", label), &bytes, |b, bytes| {
            b.iter(|| black_box(serde_json::from_slice::<serde_json::Value>(black_box(bytes)).is_ok()))
        });
    }
    group.finish();
}

/// The echo tool's arguments, as a handler's `Args<T>` would take them.
#[derive(serde::Deserialize)]
struct EchoArgs {
    text: String,
}

/// The params with the arguments kept as their raw JSON text.
#[derive(serde::Deserialize)]
struct RawArgumentsParams {
    name: String,
    arguments: Option<Box<serde_json::value::RawValue>>,
}

/// The params with the arguments decoded straight into the tool's type.
#[derive(serde::Deserialize)]
struct FusedParams {
    name: String,
    arguments: EchoArgs,
}

fn arguments_benches(c: &mut Criterion) {
    use serde::Deserialize;
    let mut group = c.benchmark_group("tool_arguments");
    for (label, size) in [("100B", 100), ("10KB", 10_000)] {
        let params = format!(r#"{{"name":"echo","arguments":{{"text":"{}"}}}}"#, "x".repeat(size));
        group.throughput(Throughput::Bytes(params.len() as u64));
        group.bench_with_input(BenchmarkId::new("map", label), &params, |b, params| {
            b.iter(|| {
                let p: mocopr_core::types::CallToolRequestParams = serde_json::from_str(black_box(params)).unwrap();
                let args = EchoArgs::deserialize(serde_json::Value::Object(p.arguments.unwrap_or_default())).unwrap();
                black_box((p.name.len(), args.text.len()))
            })
        });
        group.bench_with_input(BenchmarkId::new("raw", label), &params, |b, params| {
            b.iter(|| {
                let p: RawArgumentsParams = serde_json::from_str(black_box(params)).unwrap();
                let args: EchoArgs = serde_json::from_str(p.arguments.as_ref().map_or("{}", |a| a.get())).unwrap();
                black_box((p.name.len(), args.text.len()))
            })
        });
        group.bench_with_input(BenchmarkId::new("fused", label), &params, |b, params| {
            b.iter(|| {
                let p: FusedParams = serde_json::from_str(black_box(params)).unwrap();
                black_box((p.name.len(), p.arguments.text.len()))
            })
        });
    }
    group.finish();
}

fn encode_benches(c: &mut Criterion) {
    let mut group = c.benchmark_group("encode");
    for (label, size) in SIZES {
        let bytes = tools_call_request(size);
        let value: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
        let Ok(Frame::Single(Envelope::Request(raw))) = decode(&bytes, &DecodeOptions::default()) else {
            unreachable!("fixture is a request")
        };
        let Ok(body) = ClientRequest::decode(&raw.method, raw.params) else { unreachable!("fixture decodes") };
        let typed = JsonRpcRequest { id: raw.id.clone(), body };
        group.throughput(Throughput::Bytes(bytes.len() as u64));
        let mut out = Vec::with_capacity(bytes.len());
        group.bench_function(BenchmarkId::new("typed", label), |b| {
            b.iter(|| {
                out.clear();
                serde_json::to_writer(&mut out, black_box(&typed)).is_ok()
            })
        });
        group.bench_function(BenchmarkId::new("serde_json_value", label), |b| {
            b.iter(|| {
                out.clear();
                serde_json::to_writer(&mut out, black_box(&value)).is_ok()
            })
        });
    }
    group.finish();
}

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct Text {
    text: String,
}

/// The params of a 1 KB modern `tools/call` of `echo`.
fn echo_params() -> Bytes {
    let text = "x".repeat(900);
    Bytes::from(format!(
        r#"{{"name":"echo","arguments":{{"text":"{text}"}},"_meta":{{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{{}}}}}}"#
    ))
}

fn concurrent_benches(c: &mut Criterion) {
    let mut group = c.benchmark_group("concurrent_processing");
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build();
    let Ok(runtime) = runtime else { return };
    let server = McpServer::builder().tool("echo", |Args(t): Args<Text>| async move { t.text }).build();
    let Ok(server) = server else { return };
    let params = echo_params();
    for concurrency in [1u64, 4, 8, 16] {
        group.throughput(Throughput::Elements(concurrency));
        group.bench_with_input(BenchmarkId::new("concurrent_requests", concurrency), &concurrency, |b, &n| {
            b.to_async(&runtime).iter(|| {
                let (server, params) = (server.clone(), params.clone());
                async move {
                    let calls = (0..n).map(|i| {
                        let server = server.clone();
                        let raw = RawJson::from_bytes(params.clone());
                        tokio::spawn(async move {
                            let request = McpRequest::new((i as i64).into(), Method::new("tools/call"), Some(raw));
                            server.handle(request).await.outcome.is_ok()
                        })
                    });
                    black_box(futures_util::future::join_all(calls).await.len())
                }
            })
        });
        group.bench_with_input(BenchmarkId::new("join_baseline", concurrency), &concurrency, |b, &n| {
            b.to_async(&runtime).iter(|| async move {
                let tasks = (0..n).map(|i| tokio::spawn(async move { black_box(i) }));
                black_box(futures_util::future::join_all(tasks).await.len())
            })
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    // `--profile-time N` writes a flamegraph per benchmark (`cargo xtask flamegraph --bench NAME`).
    config = mocopr_benches::criterion();
    targets = decode_benches, arguments_benches, encode_benches, concurrent_benches
}
criterion_main!(benches);
