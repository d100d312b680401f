//! With the counting allocator installed: a burst of requests allocates, and once it is over
//! live bytes come back to where they were; request tracing counts each request's allocations.

mod support;

use std::time::Duration;

use mocopr_profiling::{CountingAllocator, Profiler, memory_stats, thread_allocations};
use serde_json::json;
use tower_layer::Layer;

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator::system();

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_bytes_return_to_the_baseline_after_a_burst() {
    let profiler = Profiler::builder().with_memory_profiling().with_request_tracing(Duration::from_secs(1)).build();
    let service = profiler.request_tracing().expect("tracing on").layer(support::server());
    let client = support::connect(service).await;
    // Warm up: pools, caches and lazily made state are made once.
    for _ in 0..200 {
        client.call_tool("echo", json!({})).await.expect("call");
    }
    let baseline = profiler.memory().expect("memory profiling on");
    let burst: Vec<_> = (0..2_000).map(|_| client.call_tool("echo", json!({}))).collect();
    let mut results = Vec::new();
    for call in burst {
        results.push(call.await.expect("call"));
    }
    let during = memory_stats();
    assert!(during.live_bytes > baseline.live_bytes + 256 * 1024, "the burst's results are live: {during:?}");
    assert!(during.allocations > baseline.allocations + 2_000);
    assert!(during.peak_bytes >= during.live_bytes);
    drop(results);
    tokio::time::sleep(Duration::from_millis(50)).await;
    let after = memory_stats();
    let grown = after.live_bytes.saturating_sub(baseline.live_bytes);
    assert!(grown < 64 * 1024, "live bytes back to the baseline: {baseline:?} -> {after:?}");
}

#[test]
fn each_thread_counts_its_own_allocations() {
    let before = thread_allocations();
    let boxes: Vec<Box<u64>> = (0..100).map(Box::new).collect();
    assert!(thread_allocations() >= before + 100);
    let other = std::thread::spawn(thread_allocations).join().expect("thread");
    assert!(other < 100, "another thread has its own count: {other}");
    drop(boxes);
}
