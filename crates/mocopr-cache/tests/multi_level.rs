//! The multi-level cache against a real `redis-server`: L1 and L2 hits, values shared between
//! two caches (two processes' worth), LZ4 in Redis, single-flight, tags, oversized values, and
//! the faults: Redis down at start, Redis frozen, Redis back.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use mocopr_cache::{CacheConfig, Computed, Lookup, MultiLevelCache, RedisConfig};
use mocopr_core::binary::{ValueEncoding, split_cache_entry};

use mocopr_testing::{RedisServer, free_port};

fn config(redis: Option<&str>) -> CacheConfig {
    let mut builder = CacheConfig::builder().with_default_ttl(Duration::from_secs(30)).with_compression_threshold(1024);
    if let Some(url) = redis {
        builder = builder.with_l2_cache(
            RedisConfig::new(url)
                .with_connection_timeout(Duration::from_millis(200))
                .with_response_timeout(Duration::from_millis(200))
                .with_retry_interval(Duration::from_millis(300)),
        );
    }
    builder.build()
}

/// Work that counts its runs and returns `value` as cacheable.
fn work<'a>(
    runs: &'a AtomicUsize,
    value: &'static str,
) -> impl Fn() -> std::future::Ready<Computed<&'static str>> + 'a {
    move || {
        runs.fetch_add(1, Ordering::SeqCst);
        std::future::ready(Computed { cache: Some((Bytes::from_static(value.as_bytes()), None)), output: value })
    }
}

fn value_of<T>(lookup: Lookup<T>) -> Bytes
where
    T: AsRef<[u8]>,
{
    match lookup {
        Lookup::Hit(hit) => hit.value,
        Lookup::Computed(output) => Bytes::copy_from_slice(output.as_ref()),
    }
}

#[tokio::test]
async fn l1_alone_runs_the_work_once_per_key_until_expiry() {
    let cache = MultiLevelCache::new(config(None)).expect("cache");
    let runs = AtomicUsize::new(0);
    for _ in 0..3 {
        let got = cache.get_or_compute("mcp:tools/list:1", None, work(&runs, "tools")).await;
        assert_eq!(value_of(got), "tools");
    }
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    assert_eq!(cache.stats().l1_hits, 2);

    cache.insert("short", Bytes::from_static(b"v"), Some(Duration::from_millis(50)), None).await;
    assert!(cache.get("short").await.is_some());
    tokio::time::sleep(Duration::from_millis(80)).await;
    assert!(cache.get("short").await.is_none(), "expired");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_misses_run_the_work_once() {
    let cache = MultiLevelCache::new(config(None)).expect("cache");
    let runs = Arc::new(AtomicUsize::new(0));
    let lookups = (0..50).map(|_| {
        let (cache, runs) = (cache.clone(), runs.clone());
        tokio::spawn(async move {
            let got = cache
                .get_or_compute("mcp:tools/call:slow", None, || {
                    let runs = runs.clone();
                    async move {
                        runs.fetch_add(1, Ordering::SeqCst);
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        Computed { cache: Some((Bytes::from_static(b"slow"), None)), output: "slow" }
                    }
                })
                .await;
            value_of(got)
        })
    });
    for result in futures_util::future::join_all(lookups).await {
        assert_eq!(result.expect("task"), "slow");
    }
    assert_eq!(runs.load(Ordering::SeqCst), 1, "one run for 50 concurrent misses");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_uncacheable_outcome_goes_to_its_caller_only() {
    let cache = MultiLevelCache::new(config(None)).expect("cache");
    let runs = Arc::new(AtomicUsize::new(0));
    let lookups = (0..10).map(|i| {
        let (cache, runs) = (cache.clone(), runs.clone());
        tokio::spawn(async move {
            let got = cache
                .get_or_compute("mcp:tools/call:mrtr", None, || {
                    let runs = runs.clone();
                    async move {
                        runs.fetch_add(1, Ordering::SeqCst);
                        tokio::time::sleep(Duration::from_millis(20)).await;
                        Computed { cache: None, output: i }
                    }
                })
                .await;
            match got {
                Lookup::Computed(output) => output,
                Lookup::Hit(_) => panic!("nothing was cacheable"),
            }
        })
    });
    let outputs: Vec<usize> =
        futures_util::future::join_all(lookups).await.into_iter().map(|r| r.expect("task")).collect();
    assert_eq!(outputs, (0..10).collect::<Vec<_>>(), "each caller got its own outcome");
    assert_eq!(runs.load(Ordering::SeqCst), 10);
}

#[tokio::test]
async fn oversized_values_are_not_cached_and_say_so() {
    let cache = MultiLevelCache::new(CacheConfig::builder().with_max_value_size(1000).build()).expect("cache");
    cache.insert("big", Bytes::from(vec![b'x'; 1001]), None, None).await;
    assert!(cache.get("big").await.is_none());
    assert_eq!(cache.stats().oversized, 1);
}

#[tokio::test]
async fn two_caches_share_values_through_redis_compressed_above_the_threshold() {
    if !mocopr_testing::installed("redis-server", "apt-get install redis-server") {
        return;
    }
    let redis = RedisServer::start().expect("redis-server (cargo xtask test installs it)");
    let first = MultiLevelCache::new(config(Some(&redis.url()))).expect("cache");
    let second = MultiLevelCache::new(config(Some(&redis.url()))).expect("cache");
    let large = Bytes::from("{\"text\":\"".to_owned() + &"abc".repeat(30_000) + "\"}");
    first.insert("mcp:resources/read:big", large.clone(), None, Some("resources/read:mem://big")).await;
    first.insert("mcp:tools/list:small", Bytes::from_static(b"{}"), None, Some("tools/list")).await;

    let hit = second.get("mcp:resources/read:big").await.expect("an L2 hit");
    assert_eq!(hit.value, large);
    assert!(hit.remaining() > Duration::from_secs(25));
    assert_eq!(second.stats().l2_hits, 1);
    assert!(second.get("mcp:resources/read:big").await.is_some());
    assert_eq!(second.stats().l1_hits, 1, "the L2 hit was kept in L1");

    let client = redis::Client::open(redis.url()).expect("client");
    let mut connection = client.get_multiplexed_async_connection().await.expect("connect");
    let stored: Vec<u8> =
        redis::cmd("GET").arg("mcp:resources/read:big").query_async(&mut connection).await.expect("GET");
    let (header, payload) = split_cache_entry(&stored).expect("header");
    assert_eq!(header.encoding, ValueEncoding::Lz4);
    assert!(payload.len() * 10 < large.len(), "{} compressed bytes for {}", payload.len(), large.len());
    let small: Vec<u8> = redis::cmd("GET").arg("mcp:tools/list:small").query_async(&mut connection).await.expect("GET");
    assert_eq!(split_cache_entry(&small).expect("header").0.encoding, ValueEncoding::Plain);

    // A tag drops its entries from this L1 and from L2 (another process's L1 keeps its copy
    // until it expires; `second` never read this one).
    first.invalidate_tag("tools/list").await;
    assert!(first.get("mcp:tools/list:small").await.is_none(), "gone from L1");
    assert!(second.get("mcp:tools/list:small").await.is_none(), "gone from L2 too");
    assert!(second.get("mcp:resources/read:big").await.is_some(), "other tags stay");
}

#[tokio::test]
async fn redis_down_at_start_then_back_costs_no_request() {
    if !mocopr_testing::installed("redis-server", "apt-get install redis-server") {
        return;
    }
    let port = free_port().expect("a free port");
    let url = format!("redis://127.0.0.1:{port}/");
    let cache = MultiLevelCache::new(config(Some(&url))).expect("starts without Redis");
    let runs = AtomicUsize::new(0);
    let started = Instant::now();
    for i in 0..20 {
        let key = format!("mcp:tools/call:{i}");
        let got = cache.get_or_compute(&key, None, work(&runs, "v")).await;
        assert_eq!(value_of(got), "v");
    }
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "answered from L1 without waiting on Redis: {:?}",
        started.elapsed()
    );
    assert!(cache.stats().l2_errors >= 1);
    assert_eq!(cache.l2_healthy().await, Some(false));

    let redis = RedisServer::start_on(port).expect("redis-server restarts");
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(cache.l2_healthy().await, Some(true), "reconnected");
    cache.insert("mcp:tools/list:after", Bytes::from_static(b"after"), None, None).await;
    let other = MultiLevelCache::new(config(Some(&redis.url()))).expect("cache");
    assert_eq!(other.get("mcp:tools/list:after").await.map(|h| h.value), Some(Bytes::from_static(b"after")));
}

#[tokio::test]
async fn a_frozen_redis_is_waited_on_only_up_to_the_timeouts() {
    if !mocopr_testing::installed("redis-server", "apt-get install redis-server") {
        return;
    }
    let redis = RedisServer::start().expect("redis-server (cargo xtask test installs it)");
    let cache = MultiLevelCache::new(config(Some(&redis.url()))).expect("cache");
    cache.insert("mcp:warm", Bytes::from_static(b"w"), None, None).await;
    redis.pause().expect("SIGSTOP");
    let runs = AtomicUsize::new(0);
    let started = Instant::now();
    for i in 0..10 {
        let got = cache.get_or_compute(&format!("mcp:frozen:{i}"), None, work(&runs, "f")).await;
        assert_eq!(value_of(got), "f");
    }
    // One command waits out its deadline; the others skip L2 while it rests.
    assert!(started.elapsed() < Duration::from_secs(2), "{:?}", started.elapsed());
    assert_eq!(runs.load(Ordering::SeqCst), 10);
    assert!(cache.get("mcp:warm").await.is_some(), "L1 still answers");
    redis.resume().expect("SIGCONT");
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(cache.l2_healthy().await, Some(true));
}

#[tokio::test]
async fn work_that_started_before_an_invalidation_does_not_store_its_result() {
    let cache = MultiLevelCache::new(config(None)).expect("cache");
    let running = cache.clone();
    let lookup = tokio::spawn(async move {
        let got = running
            .get_or_compute("mcp:tools/list:page", Some("tools/list"), || async {
                tokio::time::sleep(Duration::from_millis(50)).await;
                Computed { cache: Some((Bytes::from_static(b"old list"), None)), output: "old list" }
            })
            .await;
        value_of(got)
    });
    tokio::time::sleep(Duration::from_millis(10)).await;
    cache.invalidate_tag("tools/list").await;
    assert_eq!(lookup.await.expect("task"), "old list", "the caller still gets its answer");
    assert!(cache.get("mcp:tools/list:page").await.is_none(), "but it is not kept past the invalidation");
}

#[tokio::test]
async fn an_invalidation_redis_missed_is_settled_before_l2_is_read_again() {
    if !mocopr_testing::installed("redis-server", "apt-get install redis-server") {
        return;
    }
    let redis = RedisServer::start().expect("redis-server (cargo xtask test installs it)");
    let cache = MultiLevelCache::new(config(Some(&redis.url()))).expect("cache");
    cache.insert("mcp:tools/list:page", Bytes::from_static(b"old list"), None, Some("tools/list")).await;
    redis.pause().expect("SIGSTOP");
    cache.invalidate_tag("tools/list").await;
    redis.resume().expect("SIGCONT");
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert!(cache.get("mcp:tools/list:page").await.is_none(), "not served stale from L2 after Redis came back");
    let other = MultiLevelCache::new(config(Some(&redis.url()))).expect("cache");
    assert!(other.get("mcp:tools/list:page").await.is_none(), "gone from Redis for every process");
}
