//! A CPU profile taken while a CPU-bound tool is called over and over finds the tool's function,
//! in the folded stacks and in the flamegraph SVG.

mod support;

use std::time::Duration;

use mocopr_profiling::{ProfileError, Profiler};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_busy_function_is_in_the_flamegraph() {
    let client = support::connect(support::server()).await;
    let profiler = Profiler::builder().with_cpu_profiling(499).build();
    let load = tokio::spawn(async move {
        loop {
            client.call_tool("primes", json!({})).await.expect("call");
        }
    });
    let (profile, second) = tokio::join!(profiler.cpu_profile(Duration::from_millis(1500)), async {
        tokio::time::sleep(Duration::from_millis(100)).await;
        Profiler::builder().with_cpu_profiling(99).build().cpu_profile(Duration::from_millis(10)).await
    });
    let profile = profile.expect("profile");
    assert!(matches!(second, Err(ProfileError::Busy)), "one profile at a time per process: {second:?}");
    assert!(matches!(
        Profiler::builder().build().cpu_profile(Duration::from_millis(1)).await,
        Err(ProfileError::CpuProfilingOff)
    ));
    load.abort();
    assert!(profile.samples() > 50, "{} samples", profile.samples());
    assert!(profile.contains("count_primes_slowly"), "{}", profile.folded());
    let svg = String::from_utf8(profile.flamegraph_svg("primes").expect("svg")).expect("utf-8");
    assert!(svg.starts_with("<?xml") && svg.contains("<svg"), "an SVG");
    assert!(svg.contains("count_primes_slowly"), "the function is drawn");
}
