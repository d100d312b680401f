//! The multi-level cache with a real Redis Cluster as L2 (three masters, three replicas,
//! started here on loopback ports): values and tag invalidations shared between two caches
//! across every master's slots, and a master killed under load that costs no lookup and loses
//! no value.
#![cfg(feature = "cluster")]

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use mocopr_cache::{CacheConfig, Computed, Lookup, MultiLevelCache, RedisConfig};
use mocopr_testing::RedisCluster;

fn cluster() -> Option<RedisCluster> {
    if !mocopr_testing::installed("redis-server", "apt-get install redis-server") {
        return None;
    }
    Some(RedisCluster::start().expect("a Redis Cluster on loopback"))
}

/// A cache on the cluster; L1 holds `l1_entries` (small, so most lookups reach L2).
fn cache(cluster: &RedisCluster, l1_entries: u64) -> MultiLevelCache {
    let config = CacheConfig::builder()
        .with_default_ttl(Duration::from_secs(60))
        .with_l1_max_entries(l1_entries)
        .with_l2_cache(
            RedisConfig::cluster(cluster.urls())
                .with_connection_timeout(Duration::from_millis(300))
                .with_response_timeout(Duration::from_millis(300))
                .with_retry_interval(Duration::from_millis(300)),
        )
        .build();
    MultiLevelCache::new(config).expect("cache")
}

fn value_of(lookup: Lookup<Bytes>) -> Bytes {
    match lookup {
        Lookup::Hit(hit) => hit.value,
        Lookup::Computed(output) => output,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_caches_share_values_and_invalidations_across_every_master() {
    let Some(cluster) = cluster() else { return };
    let (first, second) = (cache(&cluster, 10_000), cache(&cluster, 10_000));
    let keys: Vec<String> = (0..60).map(|n| format!("mcp:tools/call:{n}")).collect();
    for (n, key) in keys.iter().enumerate() {
        let tag = if n % 2 == 0 { "tools/call:even" } else { "tools/call:odd" };
        first.insert(key, Bytes::from(format!("value {n}")), None, Some(tag)).await;
    }
    let masters: HashSet<u16> = keys.iter().map(|k| cluster.master_for(k).expect("served")).collect();
    assert_eq!(masters.len(), 3, "sixty keys spread over the three masters");
    for (n, key) in keys.iter().enumerate() {
        let hit = second.get(key).await.expect("an L2 hit");
        assert_eq!(hit.value, Bytes::from(format!("value {n}")));
    }
    assert_eq!(second.stats().l2_hits, 60);
    assert_eq!(second.stats().l2_errors, 0);

    // The index of a tag lives in one slot, its keys in many: every one of them goes.
    first.invalidate_tag("tools/call:even").await;
    let third = cache(&cluster, 10_000);
    for (n, key) in keys.iter().enumerate() {
        assert_eq!(third.get(key).await.is_some(), n % 2 == 1, "{key}");
    }
    assert_eq!(first.l2_healthy().await, Some(true));
}

/// Four tasks look up 200 keys through a cache whose L1 holds 20 while the master serving some
/// of them is killed: every lookup is answered (from L2, or computed while L2 rests), none
/// waits longer than the L2 deadline allows, and after the failover another cache finds every
/// value written before the kill on the promoted replica.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_master_failover_under_load_fails_no_lookup_and_loses_no_value() {
    let Some(mut cluster) = cluster() else { return };
    let keys: Arc<Vec<String>> = Arc::new((0..200).map(|n| format!("mcp:resources/read:{n}")).collect());
    let writer = cache(&cluster, 20);
    for key in keys.iter() {
        writer.insert(key, Bytes::from(key.clone()), None, None).await;
    }
    let stop = Arc::new(AtomicBool::new(false));
    let answered = Arc::new(AtomicU64::new(0));
    let slowest = Arc::new(AtomicU64::new(0));
    let reader = cache(&cluster, 20);
    let mut load = Vec::new();
    for task in 0..4 {
        let (reader, keys, stop, answered, slowest) =
            (reader.clone(), keys.clone(), stop.clone(), answered.clone(), slowest.clone());
        load.push(tokio::spawn(async move {
            let mut n = task * 50;
            while !stop.load(Ordering::Relaxed) {
                let key = &keys[n % keys.len()];
                n += 1;
                let started = Instant::now();
                let got = reader
                    .get_or_compute(key, None, || {
                        let value = Bytes::from(key.clone());
                        std::future::ready(Computed { cache: Some((value.clone(), None)), output: value })
                    })
                    .await;
                assert_eq!(value_of(got), Bytes::from(key.clone()), "the right value");
                let took = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
                slowest.fetch_max(took, Ordering::Relaxed);
                answered.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    cluster.kill_master_for(&keys[0]).expect("a master to kill");
    tokio::task::block_in_place(|| cluster.wait_for_failover()).expect("the replica took over");
    tokio::time::sleep(Duration::from_secs(1)).await;
    stop.store(true, Ordering::Relaxed);
    for task in load {
        task.await.expect("every lookup answered");
    }
    let (answered, slowest) = (answered.load(Ordering::Relaxed), slowest.load(Ordering::Relaxed));
    eprintln!("{answered} lookups answered, slowest {slowest} ms; {:?}", reader.stats());
    assert!(answered > 1000, "the load ran: {answered}");
    // Connection and response timeouts of 300 ms each bound a lookup that reaches L2.
    assert!(slowest < 3000, "a lookup waited {slowest} ms");

    let after = cache(&cluster, 20);
    let mut found = 0;
    for key in keys.iter() {
        if after.get(key).await.is_some_and(|hit| hit.value == key.as_bytes()) {
            found += 1;
        }
    }
    assert_eq!(found, keys.len(), "every value is on the surviving nodes");
    assert_eq!(after.stats().l2_errors, 0, "L2 is whole again");
}
