//! Stress: a high volume of requests through the whole stack (client, in-memory framing, the
//! layered server with cache and metrics), every one answered. This is also the target to
//! profile a request path end to end:
//!
//! ```text
//! cargo flamegraph --test stress_tests -- test_high_volume_requests   # with perf
//! cargo xtask flamegraph --test stress_tests                          # without: sampled in process
//! ```
//!
//! With `MOCOPR_FLAMEGRAPH=FILE` set (as `cargo xtask flamegraph --test` sets it) the test
//! samples its own CPU while it works and writes a flamegraph SVG to `FILE`.

use std::time::Duration;

use futures_util::StreamExt;
use mocopr::prelude::*;
use mocopr::profiling::CpuSampler;
use mocopr_transport::memory::pair;
use serde_json::json;

/// Requests sent, and how many are in flight at once.
const REQUESTS: usize = 20_000;
const IN_FLIGHT: usize = 64;

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct Text {
    text: String,
}

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct City {
    city: String,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_high_volume_requests() {
    let metrics = MetricsCollector::builder().build().expect("metrics");
    let cached = Tool::new("weather")
        .with_annotations(ToolAnnotations::new().with_read_only_hint(true).with_idempotent_hint(true));
    let server = McpServer::builder()
        .tool("echo", |Args(t): Args<Text>| async move { t.text })
        .tool(cached, |Args(c): Args<City>| async move { format!("sunny in {}", c.city) })
        .resource("mem://report", || async { "r".repeat(4096) })
        .with_cache(CacheConfig::builder().with_default_ttl(Duration::from_secs(60)).build())
        .with_metrics(metrics.clone())
        .build()
        .expect("server");
    let (client_end, server_end) = pair(&mocopr::transport::FramingConfig::default());
    tokio::spawn(mocopr::server::serve_connection(server, server_end.reader, server_end.sink, StdioConfig::default()));
    let client = McpClient::builder().connect(client_end.reader, client_end.sink).await.expect("connect");

    let sampler = std::env::var_os("MOCOPR_FLAMEGRAPH").map(|path| (path, CpuSampler::start(99).expect("sampler")));
    let answered = futures_util::stream::iter(0..REQUESTS)
        .map(|i| {
            let client = client.clone();
            async move {
                match i % 10 {
                    0 => client.list_tools().await.map(|tools| tools.len() == 2).unwrap_or(false),
                    1 | 2 => client.read_resource("mem://report").await.is_ok(),
                    3 | 4 => {
                        let city = ["Oslo", "Lima", "Quito"][i % 3];
                        client.call_tool("weather", json!({ "city": city })).await.is_ok_and(|r| !r.is_error())
                    }
                    _ => {
                        let text = format!("message {i}");
                        client.call_tool("echo", json!({ "text": text })).await.is_ok_and(|r| r.text_content() == text)
                    }
                }
            }
        })
        .buffer_unordered(IN_FLIGHT)
        .filter(|ok| std::future::ready(*ok))
        .count()
        .await;
    if let Some((path, sampler)) = sampler {
        let profile = sampler.stop().expect("profile");
        let svg = profile.flamegraph_svg("stress_tests: test_high_volume_requests").expect("flamegraph");
        std::fs::write(&path, svg).expect("write the flamegraph");
        eprintln!("flamegraph: {}", std::path::Path::new(&path).display());
    }
    assert_eq!(answered, REQUESTS, "every request answered correctly");
    let snapshot = metrics.snapshot();
    assert!(snapshot.requests >= REQUESTS as u64, "every request counted: {}", snapshot.requests);
}
