//! The performance guide's own suggestions, measured against what MoCoPr does now.
//!
//! Write path: buffers for serializing an outgoing JSON-RPC response with the transports' own
//! call, [`McpResponse::write_message`], into a buffer the consumer then reads (as the writer task
//! would). Messages of 100 B, 10 KB and 100 KB (exactly: a `tools/call` text result sized to
//! it). Each variant gets its buffer a different way, and everything else is the same:
//! - `write/alloc_256`: a new `Vec::with_capacity(256)` per message, as the HTTP transport did
//!   until this bench (it grows by doubling up to the message's size); the baseline of this group;
//! - `write/alloc_sized`: a new `Vec` per message of `McpResponse::message_size_hint()`, what the
//!   HTTP transport and streamed-result writer do now;
//! - `write/task_reuse`: one `Vec` kept by the writing task and cleared before each message;
//! - `write/object_pool`: a buffer pulled from an `object_pool::Pool` and put back after use.
//!
//! The transports hand the finished bytes to their writer task as `Bytes`, which takes a new
//! `Vec` over without a copy; a reused or pooled buffer would need a copy there, or a `Bytes`
//! owner that gives it back on drop. That hand-off is not measured here.
//!
//! `write_contended/*`: the same, on two threads at once (one per core of the benchmark
//! machine); one iteration is one message on each thread, so the time is per pair of messages
//! and the pool's lock is taken by both threads. Per-task buffers are per thread; the pool is
//! shared.
//!
//! Read path: the envelope decode of a `tools/call` request of 100 KB, 1 MB and 10 MB (the
//! fixture of `mocopr_benches::tools_call_request`), against other parsers producing the same
//! thing: the method, the id and the params.
//! - `decode/envelope`: ours, `mocopr_core::jsonrpc::decode` with `DecodeOptions::default()`,
//!   params left raw (a `serde_json::value::RawValue` slice of the input); the baseline;
//! - `decode/serde_json_struct`: the parse alone, without our checks (the reserved-member scan,
//!   the method name and `jsonrpc` checks): serde_json into the struct the others use, params a
//!   `&RawValue`;
//! - `decode/sonic_rs_lazy`: sonic-rs into that struct, params a `sonic_rs::LazyValue` (raw,
//!   borrowed text, checked as it is skipped: the like of our `&RawValue`);
//! - `decode/simd_json_value`: simd-json's `to_borrowed_value`, a whole tree (it cannot leave
//!   params raw); `decode/simd_json_value_buffers` reuses simd-json's parse buffers between
//!   messages; `decode/simd_json_struct`: simd-json's serde `from_slice` into the struct, params
//!   a `BorrowedValue` tree. simd-json parses a `&mut [u8]` and writes into it, while our decoder
//!   reads the frame's shared `&[u8]`: every simd-json time includes copying the message into a
//!   new `Vec` first (simd-json then copies it again, into its own padded buffer);
//! - `decode/serde_json_value`: a plain `serde_json::Value` parse of the same bytes.
//!
//! Before measuring, every alternative's method, id and params are checked against ours: a
//! comparison that decodes something else fails instead of reporting. sonic-rs picks its SIMD
//! code when compiled (`-C target-cpu=native`, which the workspace does not set); simd-json
//! detects the CPU at run time.

use bytes::Bytes;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use mocopr_benches::tools_call_request;
use mocopr_core::jsonrpc::{DecodeOptions, Envelope, Frame, RequestId, decode};
use mocopr_core::service::{McpResponse, RawJson};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Value, json};
use simd_json::prelude::{ValueAsObject, ValueObjectAccess, ValueObjectAccessAsScalar};
use std::borrow::Cow;
use std::hint::black_box;
use std::sync::Barrier;
use std::time::{Duration, Instant};

/// The write path's message sizes.
const WRITE_SIZES: [(&str, usize); 3] = [("100B", 100), ("10KB", 10 * 1024), ("100KB", 100 * 1024)];
/// The read path's message sizes.
const DECODE_SIZES: [(&str, usize); 3] = [("100KB", 100 * 1024), ("1MB", 1024 * 1024), ("10MB", 10 * 1024 * 1024)];
/// Threads writing at once in `write_contended`: one per core of the benchmark machine.
const THREADS: usize = 2;

/// A `tools/call` response of exactly `size` bytes as `write_message` writes it: a text result.
fn response_of(size: usize) -> McpResponse {
    let with_text = |text: &str| {
        let result = serde_json::to_vec(&json!({ "content": [{ "type": "text", "text": text }] })).unwrap_or_default();
        McpResponse::result(RequestId::Number(42), RawJson::from_bytes(Bytes::from(result)))
    };
    let overhead = message_len(&with_text(""));
    let response = with_text(&"x".repeat(size.saturating_sub(overhead)));
    assert_eq!(message_len(&response), size, "the response fixture has the size asked for");
    response
}

fn message_len(response: &McpResponse) -> usize {
    let mut out = Vec::new();
    response.write_message(&mut out);
    out.len()
}

/// What reads the finished message (the writer task's `write_all`): it must see every byte.
fn consume(message: &[u8]) {
    black_box(message);
}

/// The ways of getting a buffer for one message.
#[derive(Clone, Copy)]
enum Buffers {
    Alloc256,
    AllocSized,
    TaskReuse,
    ObjectPool,
}

const BUFFERS: [(&str, Buffers); 4] = [
    ("alloc_256", Buffers::Alloc256),
    ("alloc_sized", Buffers::AllocSized),
    ("task_reuse", Buffers::TaskReuse),
    ("object_pool", Buffers::ObjectPool),
];

/// Writes `response` once, into a buffer got the way `buffers` says; `own` is the task's buffer.
fn write_one(buffers: Buffers, response: &McpResponse, own: &mut Vec<u8>, pool: &object_pool::Pool<Vec<u8>>) {
    match buffers {
        Buffers::Alloc256 => {
            let mut out = Vec::with_capacity(256);
            response.write_message(&mut out);
            consume(&out);
        }
        Buffers::AllocSized => {
            let mut out = Vec::with_capacity(response.message_size_hint());
            response.write_message(&mut out);
            consume(&out);
        }
        Buffers::TaskReuse => {
            own.clear();
            response.write_message(own);
            consume(own);
        }
        Buffers::ObjectPool => {
            let mut out = pool.pull(|| Vec::with_capacity(256));
            out.clear();
            response.write_message(&mut out);
            consume(&out);
        }
    }
}

fn write_benches(c: &mut Criterion) {
    let mut group = c.benchmark_group("write");
    for (label, size) in WRITE_SIZES {
        let response = response_of(size);
        group.throughput(Throughput::Bytes(size as u64));
        for (name, buffers) in BUFFERS {
            let pool = object_pool::Pool::new(1, || Vec::with_capacity(256));
            let mut own = Vec::with_capacity(256);
            group.bench_function(BenchmarkId::new(name, label), |b| {
                b.iter(|| write_one(buffers, black_box(&response), &mut own, &pool))
            });
        }
    }
    group.finish();

    let mut group = c.benchmark_group("write_contended");
    for (label, size) in WRITE_SIZES {
        // A response is not `Sync` (a streamed result would not be): each thread makes its own
        // of the same result bytes.
        let result = response_of(size).result_json().map(|r| r.clone().into_bytes()).unwrap_or_default();
        group.throughput(Throughput::Bytes((THREADS * size) as u64));
        for (name, buffers) in BUFFERS {
            let pool = object_pool::Pool::new(THREADS, || Vec::with_capacity(256));
            group.bench_function(BenchmarkId::new(name, label), |b| {
                b.iter_custom(|iters| {
                    on_threads(iters, &result, |response, own| write_one(buffers, black_box(response), own, &pool))
                })
            });
        }
    }
    group.finish();
}

/// Runs `work` `iters` times on each of [`THREADS`] threads started together, each with its own
/// response of `result` and its own buffer; returns the wall time from the start to the last
/// thread's end.
fn on_threads(iters: u64, result: &Bytes, work: impl Fn(&McpResponse, &mut Vec<u8>) + Sync) -> Duration {
    let start = Barrier::new(THREADS + 1);
    let mut started = None;
    std::thread::scope(|s| {
        for _ in 0..THREADS {
            s.spawn(|| {
                let response = McpResponse::result(RequestId::Number(42), RawJson::from_bytes(result.clone()));
                let mut own = Vec::with_capacity(256);
                start.wait();
                for _ in 0..iters {
                    work(&response, &mut own);
                }
            });
        }
        start.wait();
        started = Some(Instant::now());
    });
    started.map_or(Duration::ZERO, |t| t.elapsed())
}

/// The envelope's parts the alternatives decode, as `decode` reads them for a request.
#[derive(Deserialize)]
struct SerdeJsonEnvelope<'a> {
    #[serde(borrow)]
    jsonrpc: Cow<'a, str>,
    id: RequestId,
    #[serde(borrow)]
    method: Cow<'a, str>,
    #[serde(borrow, default)]
    params: Option<&'a RawValue>,
}

/// The same with sonic-rs: params raw and borrowed.
#[derive(Deserialize)]
struct SonicEnvelope<'a> {
    #[serde(borrow)]
    jsonrpc: Cow<'a, str>,
    id: RequestId,
    #[serde(borrow)]
    method: Cow<'a, str>,
    #[serde(borrow, default)]
    params: Option<sonic_rs::LazyValue<'a>>,
}

/// The same with simd-json: params as its borrowed tree (it has no raw value).
#[derive(Deserialize)]
struct SimdEnvelope<'a> {
    #[serde(borrow)]
    jsonrpc: Cow<'a, str>,
    id: RequestId,
    #[serde(borrow)]
    method: Cow<'a, str>,
    #[serde(borrow, default, deserialize_with = "borrowed_tree")]
    params: Option<simd_json::BorrowedValue<'a>>,
}

/// simd-json's tree borrows for the input's whole lifetime, which a derived borrow cannot say.
fn borrowed_tree<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<simd_json::BorrowedValue<'de>>, D::Error> {
    Option::<simd_json::BorrowedValue<'de>>::deserialize(d)
}

/// Ours: method and params length, as a router reads them.
fn envelope(bytes: &[u8], options: &DecodeOptions) -> (usize, usize) {
    match decode(bytes, options) {
        Ok(Frame::Single(Envelope::Request(r))) => (r.method.len(), r.params.map_or(0, |p| p.get().len())),
        _ => unreachable!("fixture is a request"),
    }
}

fn serde_json_struct(bytes: &[u8]) -> (usize, usize) {
    match serde_json::from_slice::<SerdeJsonEnvelope<'_>>(bytes) {
        Ok(m) => (m.method.len() + m.jsonrpc.len(), m.params.map_or(0, |p| p.get().len())),
        Err(_) => unreachable!("fixture decodes"),
    }
}

fn sonic_rs_lazy(bytes: &[u8]) -> (usize, usize) {
    match sonic_rs::from_slice::<SonicEnvelope<'_>>(bytes) {
        Ok(m) => (m.method.len() + m.jsonrpc.len(), m.params.map_or(0, |p| p.as_raw_str().len())),
        Err(_) => unreachable!("fixture decodes"),
    }
}

/// simd-json's tree: method length and the number of params members. The copy is its price of
/// a `&mut [u8]` input.
fn simd_json_value(bytes: &[u8], buffers: Option<&mut simd_json::Buffers>) -> (usize, usize) {
    let mut copy = bytes.to_vec();
    let parsed = match buffers {
        Some(buffers) => simd_json::to_borrowed_value_with_buffers(&mut copy, buffers),
        None => simd_json::to_borrowed_value(&mut copy),
    };
    match parsed {
        Ok(v) => (
            v.get_str("method").map_or(0, str::len),
            v.get("params").and_then(|p| p.as_object()).map_or(0, |o| o.len()),
        ),
        Err(_) => unreachable!("fixture decodes"),
    }
}

fn simd_json_struct(bytes: &[u8]) -> (usize, usize) {
    let mut copy = bytes.to_vec();
    match simd_json::serde::from_slice::<SimdEnvelope<'_>>(&mut copy) {
        Ok(m) => {
            (m.method.len() + m.jsonrpc.len(), m.params.as_ref().and_then(|p| p.as_object()).map_or(0, |o| o.len()))
        }
        Err(_) => unreachable!("fixture decodes"),
    }
}

fn serde_json_value(bytes: &[u8]) -> bool {
    serde_json::from_slice::<Value>(bytes).is_ok()
}

/// Every alternative reads the method, id and params ours reads, or the bench stops here.
fn check_same(bytes: &[u8]) {
    let Ok(Frame::Single(Envelope::Request(ours))) = decode(bytes, &DecodeOptions::default()) else {
        unreachable!("fixture is a request")
    };
    let ours_params = ours.params.map(RawValue::get).unwrap_or("null");
    let ours_tree: Value = serde_json::from_str(ours_params).unwrap_or_default();
    assert!(ours_tree.is_object(), "our params are the object sent");

    let m = serde_json::from_slice::<SerdeJsonEnvelope<'_>>(bytes).expect("serde_json struct");
    assert_eq!((&*m.jsonrpc, &m.id, &*m.method), ("2.0", &ours.id, &*ours.method));
    assert_eq!(m.params.map(RawValue::get), Some(ours_params), "serde_json: the same raw params");

    let m = sonic_rs::from_slice::<SonicEnvelope<'_>>(bytes).expect("sonic-rs struct");
    assert_eq!((&*m.jsonrpc, &m.id, &*m.method), ("2.0", &ours.id, &*ours.method));
    assert_eq!(m.params.as_ref().map(|p| p.as_raw_str()), Some(ours_params), "sonic-rs: the same raw params");

    let mut copy = bytes.to_vec();
    let v = simd_json::to_borrowed_value(&mut copy).expect("simd-json value");
    assert_eq!(v.get_str("jsonrpc"), Some("2.0"));
    assert_eq!(v.get_i64("id").map(RequestId::Number).as_ref(), Some(&ours.id));
    assert_eq!(v.get_str("method"), Some(&*ours.method));
    let params = v.get("params").map(|p| serde_json::to_value(p).unwrap_or_default());
    assert_eq!(params.as_ref(), Some(&ours_tree), "simd-json value: the same params");

    let mut copy = bytes.to_vec();
    let m = simd_json::serde::from_slice::<SimdEnvelope<'_>>(&mut copy).expect("simd-json struct");
    assert_eq!((&*m.jsonrpc, &m.id, &*m.method), ("2.0", &ours.id, &*ours.method));
    let params = m.params.as_ref().map(|p| serde_json::to_value(p).unwrap_or_default());
    assert_eq!(params.as_ref(), Some(&ours_tree), "simd-json struct: the same params");

    assert!(serde_json_value(bytes), "the baseline parses");
    assert_eq!(envelope(bytes, &DecodeOptions::default()).0, "tools/call".len());
}

fn decode_benches(c: &mut Criterion) {
    // The CPU code each parser runs: simd-json picks at run time, sonic-rs when compiled.
    eprintln!(
        "simd-json stage 1: {}; sonic-rs compiled with avx2 and pclmulqdq: {}",
        simd_json::Deserializer::algorithm(),
        cfg!(all(target_feature = "avx2", target_feature = "pclmulqdq"))
    );
    let mut group = c.benchmark_group("decode");
    let options = DecodeOptions::default();
    for (label, size) in DECODE_SIZES {
        let bytes = tools_call_request(size);
        check_same(&bytes);
        group.throughput(Throughput::Bytes(bytes.len() as u64));
        // Criterion's 100 samples of a 10 MB parse would take minutes; 10 tell the ratios.
        group.sample_size(if size > 100 * 1024 { 10 } else { 100 });
        group.bench_with_input(BenchmarkId::new("envelope", label), &bytes, |b, bytes| {
            b.iter(|| black_box(envelope(black_box(bytes), &options)))
        });
        group.bench_with_input(BenchmarkId::new("serde_json_struct", label), &bytes, |b, bytes| {
            b.iter(|| black_box(serde_json_struct(black_box(bytes))))
        });
        group.bench_with_input(BenchmarkId::new("sonic_rs_lazy", label), &bytes, |b, bytes| {
            b.iter(|| black_box(sonic_rs_lazy(black_box(bytes))))
        });
        group.bench_with_input(BenchmarkId::new("simd_json_value", label), &bytes, |b, bytes| {
            b.iter(|| black_box(simd_json_value(black_box(bytes), None)))
        });
        let mut buffers = simd_json::Buffers::new(bytes.len());
        group.bench_with_input(BenchmarkId::new("simd_json_value_buffers", label), &bytes, |b, bytes| {
            b.iter(|| black_box(simd_json_value(black_box(bytes), Some(&mut buffers))))
        });
        group.bench_with_input(BenchmarkId::new("simd_json_struct", label), &bytes, |b, bytes| {
            b.iter(|| black_box(simd_json_struct(black_box(bytes))))
        });
        group.bench_with_input(BenchmarkId::new("serde_json_value", label), &bytes, |b, bytes| {
            b.iter(|| black_box(serde_json_value(black_box(bytes))))
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    // `--profile-time N` writes a flamegraph per benchmark (`cargo xtask flamegraph --bench NAME`).
    config = mocopr_benches::criterion();
    targets = write_benches, decode_benches
}
criterion_main!(benches);
