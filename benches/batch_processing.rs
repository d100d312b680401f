//! 1,000 `tools/call`s through the batch processor beside 1,000 one-by-one awaits, against an
//! in-process server over the in-memory pair: pipelined for a 2026-07-28 server, batch arrays
//! for a 2025-03-26 one.
//!
//! `cargo bench -p mocopr-benches --bench batch_processing`

use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use mocopr_batch::{BatchProcessor, ToolCall};
use mocopr_client::McpClient;
use mocopr_core::ProtocolVersion;
use mocopr_server::{Args, HandlerError, McpServer, StdioConfig, serve_connection};
use mocopr_transport::FramingConfig;
use mocopr_transport::memory::pair;
use serde_json::json;

const CALLS: usize = 1_000;

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct Text {
    text: String,
}

async fn client(version: ProtocolVersion) -> McpClient {
    let server = McpServer::builder()
        .with_protocol_versions(&[version])
        .tool("echo", |Args(t): Args<Text>| async move { Ok::<_, HandlerError>(t.text) })
        .build()
        .expect("server");
    let config = FramingConfig::default();
    let (client_end, server_end) = pair(&config);
    tokio::spawn(serve_connection(server, server_end.reader, server_end.sink, StdioConfig::default()));
    McpClient::builder()
        .with_probe_timeout(Duration::from_secs(2))
        .connect(client_end.reader, client_end.sink)
        .await
        .expect("connect")
}

fn calls() -> Vec<ToolCall> {
    (0..CALLS).map(|i| ToolCall::new("echo", json!({ "text": format!("call {i}") }))).collect()
}

fn bench(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let calls = calls();
    let mut group = c.benchmark_group("batch_1000_calls");
    group.throughput(Throughput::Elements(CALLS as u64)).sample_size(20);
    for (label, version) in [("2026-07-28", ProtocolVersion::V2026_07_28), ("2025-03-26", ProtocolVersion::V2025_03_26)]
    {
        let client = runtime.block_on(client(version));
        group.bench_function(format!("one_by_one/{label}"), |b| {
            b.to_async(&runtime).iter(|| async {
                for call in &calls {
                    client.call_tool(&call.name, call.arguments.clone()).await.expect("call");
                }
            });
        });
        let processor = runtime.block_on(async {
            BatchProcessor::builder().with_max_batch_size(100).with_concurrency_limit(64).build(client.clone())
        });
        group.bench_function(format!("execute_batch/{label}"), |b| {
            b.to_async(&runtime).iter(|| async {
                let results = processor.execute_batch(&calls).await;
                assert!(results.iter().all(Result::is_ok));
            });
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    // `--profile-time N` writes a flamegraph per benchmark (`cargo xtask flamegraph --bench NAME`).
    config = mocopr_benches::criterion();
    targets = bench
}
criterion_main!(benches);
