//! The multi-level cache: L1 hit latency; L2 hit latency beside a raw Redis `GET` of the same
//! bytes; LZ4 on and off for 1 KB and 100 KB results; and a server whose read-only tool takes
//! 5 ms, with and without the cache layer (200 calls, 32 in flight, 20 distinct arguments).
//!
//! Needs `redis-server` (the L2 groups are skipped without it).
//!
//! `cargo bench -p mocopr-benches --bench cache`

use std::time::{Duration, Instant};

use bytes::Bytes;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use futures_util::FutureExt;
use mocopr_benches::read_result;
use mocopr_cache::{CacheConfig, CacheLayer, CachePolicy, MultiLevelCache, RedisConfig, entry};
use mocopr_client::McpClient;
use mocopr_core::types::{Tool, ToolAnnotations};
use mocopr_server::{Args, HandlerError, McpServer, StdioConfig, serve_connection};
use mocopr_testing::RedisServer;
use mocopr_transport::FramingConfig;
use mocopr_transport::memory::pair;
use serde_json::json;
use tower_layer::Layer;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime")
}

fn l1_hit(c: &mut Criterion) {
    let rt = runtime();
    let cache = rt.block_on(async {
        let cache = MultiLevelCache::new(CacheConfig::default()).expect("cache");
        cache.insert("mcp:tools/list:hit", Bytes::from(read_result(1024)), None, None).await;
        cache
    });
    let _guard = rt.enter();
    c.bench_function("cache/l1_hit_1KB", |b| {
        // The L1 lookup completes without waiting: polled once, no executor in the figure.
        b.iter(|| cache.get("mcp:tools/list:hit").now_or_never().flatten().expect("hit"));
    });
}

fn l2_hit_vs_raw_get(c: &mut Criterion) {
    let Ok(redis) = RedisServer::start() else {
        eprintln!("redis-server not found: L2 benchmarks skipped");
        return;
    };
    let rt = runtime();
    let value = Bytes::from(read_result(1024));
    let (cache, mut raw) = rt.block_on(async {
        // No L1 room: every lookup goes to Redis.
        let config = CacheConfig::builder().with_l1_max_entries(0).with_l2_cache(RedisConfig::new(redis.url())).build();
        let cache = MultiLevelCache::new(config).expect("cache");
        cache.insert("mcp:resources/read:l2", value.clone(), Some(Duration::from_secs(600)), None).await;
        let client = redis::Client::open(redis.url()).expect("client");
        let mut raw = client.get_multiplexed_async_connection().await.expect("connect");
        let stored: Vec<u8> = redis::cmd("GET").arg("mcp:resources/read:l2").query_async(&mut raw).await.expect("GET");
        let _: () = redis::cmd("SET").arg("raw:copy").arg(stored).query_async(&mut raw).await.expect("SET");
        (cache, raw)
    });
    let mut group = c.benchmark_group("cache/l2_1KB");
    group.bench_function("raw_redis_get", |b| {
        b.to_async(&rt).iter(|| {
            let mut connection = raw.clone();
            async move {
                let bytes: Vec<u8> = redis::cmd("GET").arg("raw:copy").query_async(&mut connection).await.expect("GET");
                bytes
            }
        });
    });
    group.bench_function("multi_level_l2_hit", |b| {
        b.to_async(&rt).iter(|| async { cache.get("mcp:resources/read:l2").await.expect("L2 hit") });
    });
    group.finish();
    let _ = &mut raw;
}

fn lz4_on_off(c: &mut Criterion) {
    let mut group = c.benchmark_group("cache/entry");
    for (label, size) in [("1KB", 1024), ("100KB", 100 * 1024)] {
        let value = read_result(size);
        group.throughput(Throughput::Bytes(value.len() as u64));
        for (mode, threshold) in [("lz4", 0usize), ("plain", usize::MAX)] {
            let stored = entry::encode(&value, Duration::from_secs(60), threshold).expect("encode");
            eprintln!("{label} {mode}: {} bytes stored for {} bytes of value", stored.len(), value.len());
            group.bench_function(format!("encode_decode/{mode}/{label}"), |b| {
                b.iter(|| {
                    let stored = entry::encode(&value, Duration::from_secs(60), threshold).expect("encode");
                    entry::decode(&stored, usize::MAX).expect("decode")
                });
            });
        }
    }
    group.finish();
}

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct City {
    city: String,
}

/// A client to a server whose read-only tool sleeps 5 ms, with or without the cache layer.
async fn slow_tool_client(cached: bool) -> McpClient {
    let mut tool = Tool::new("forecast");
    let mut hints = ToolAnnotations::default();
    hints.read_only_hint = Some(true);
    hints.idempotent_hint = Some(true);
    tool.annotations = Some(hints);
    let server = McpServer::builder()
        .tool(tool, |Args(c): Args<City>| async move {
            tokio::time::sleep(Duration::from_millis(5)).await;
            Ok::<_, HandlerError>(format!("sunny in {}", c.city))
        })
        .build()
        .expect("server");
    let (client_end, server_end) = pair(&FramingConfig::default());
    if cached {
        let cache = MultiLevelCache::new(CacheConfig::default()).expect("cache");
        // Tool results are shared between callers only when vouched for (the cache fails closed).
        let policy = CachePolicy::for_tools(server.tools()).with_cached_tool("forecast");
        let service = CacheLayer::new(cache, policy).layer(server);
        tokio::spawn(serve_connection(service, server_end.reader, server_end.sink, StdioConfig::default()));
    } else {
        tokio::spawn(serve_connection(server, server_end.reader, server_end.sink, StdioConfig::default()));
    }
    McpClient::builder().connect(client_end.reader, client_end.sink).await.expect("connect")
}

fn slow_tool_with_and_without_cache(c: &mut Criterion) {
    let rt = runtime();
    let mut group = c.benchmark_group("cache/slow_tool_200_calls");
    group.throughput(Throughput::Elements(200)).sample_size(10);
    for cached in [false, true] {
        let client = rt.block_on(slow_tool_client(cached));
        let label = if cached { "with_cache_layer" } else { "without_cache" };
        group.bench_function(label, |b| {
            b.to_async(&rt).iter_custom(|iterations| {
                let client = client.clone();
                async move {
                    let started = Instant::now();
                    for _ in 0..iterations {
                        let calls = futures_util::stream::iter(0..200).map(|i| {
                            let client = client.clone();
                            async move { client.call_tool("forecast", json!({"city": format!("c{}", i % 20)})).await }
                        });
                        let results: Vec<_> = futures_util::StreamExt::buffer_unordered(calls, 32).collect().await;
                        assert!(results.iter().all(Result::is_ok));
                    }
                    started.elapsed()
                }
            });
        });
    }
    group.finish();
}

use futures_util::StreamExt as _;

criterion_group! {
    name = benches;
    // `--profile-time N` writes a flamegraph per benchmark (`cargo xtask flamegraph --bench NAME`).
    config = mocopr_benches::criterion();
    targets = l1_hit, l2_hit_vs_raw_get, lz4_on_off, slow_tool_with_and_without_cache
}
criterion_main!(benches);
