//! Decoding and encoding messages of 1 KB, 10 KB and 100 KB.
//!
//! Each group has its baseline beside it (a plain `serde_json::Value` parse or write of the same
//! bytes), so results read as ratios:
//! - `decode/envelope`: what a router or proxy pays, params left raw;
//! - `decode/typed`: envelope plus the typed `tools/call` params;
//! - `decode/serde_json_value`: the baseline;
//! - `encode/typed` vs `encode/serde_json_value`.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use mocopr_benches::{SIZES, tools_call_request};
use mocopr_core::ClientRequest;
use mocopr_core::jsonrpc::{DecodeOptions, Envelope, Frame, JsonRpcRequest, decode};
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

criterion_group! {
    name = benches;
    // `--profile-time N` writes a flamegraph per benchmark (`cargo xtask flamegraph --bench NAME`).
    config = mocopr_benches::criterion();
    targets = decode_benches, encode_benches
}
criterion_main!(benches);
