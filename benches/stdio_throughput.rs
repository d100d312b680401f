//! Requests per second over stdio with 32 requests in flight, 100-byte payloads: MoCoPr's
//! `echo-server` beside a bare newline-JSON echo loop with no SDK (`bare-stdio-echo`), run as
//! child processes and driven the same way. Also prints each server's peak RSS.
//!
//! `cargo bench -p mocopr-benches --bench stdio_throughput`

use std::time::{Duration, Instant};

use bytes::Bytes;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use mocopr_benches::{echo_call_line, example_binary, payload_100, peak_rss_kib};
use mocopr_transport::child::{ChildProcess, Stderr};
use mocopr_transport::{FramingConfig, Inbound};
use tokio::process::Command;

const IN_FLIGHT: u64 = 32;
const PER_ITERATION: u64 = 10_000;

/// Sends `total` requests keeping `IN_FLIGHT` outstanding; returns the time taken.
async fn drive(child: &mut ChildProcess, total: u64, next_id: &mut u64) -> Duration {
    let text = payload_100();
    let start = Instant::now();
    let mut sent = 0;
    let mut received = 0;
    let mut lines = String::new();
    while sent < total.min(IN_FLIGHT) {
        lines.push_str(&echo_call_line(*next_id, &text));
        *next_id += 1;
        sent += 1;
    }
    let _ = child.sink.send(Bytes::from(std::mem::take(&mut lines))).await;
    let mut batch = Vec::new();
    while received < total {
        batch.clear();
        match child.reader.read_batch(&mut batch).await {
            Ok(true) => {}
            _ => panic!("the server closed its output"),
        }
        for item in &batch {
            if matches!(item, Inbound::Frame(_)) {
                received += 1;
                if sent < total {
                    lines.push_str(&echo_call_line(*next_id, &text));
                    *next_id += 1;
                    sent += 1;
                }
            }
        }
        if !lines.is_empty() {
            let _ = child.sink.send(Bytes::from(std::mem::take(&mut lines))).await;
        }
    }
    start.elapsed()
}

fn bench(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let echo_server = example_binary("echo-server");
    let servers = [
        ("bare_loop", Command::new(env!("CARGO_BIN_EXE_bare-stdio-echo"))),
        ("mocopr_echo_server", {
            let mut command = Command::new(echo_server);
            command.arg("stdio");
            command
        }),
    ];
    let mut group = c.benchmark_group("stdio_echo_32_in_flight");
    group.throughput(Throughput::Elements(PER_ITERATION));
    group.sample_size(10).measurement_time(Duration::from_secs(8));
    for (label, command) in servers {
        let mut child = runtime.block_on(async {
            ChildProcess::spawn(command, Stderr::Inherit, &FramingConfig::default()).expect("spawn")
        });
        let pid = child.id().unwrap_or_default();
        let mut next_id = 0;
        group.bench_function(label, |b| {
            b.iter_custom(|iterations| runtime.block_on(drive(&mut child, iterations * PER_ITERATION, &mut next_id)))
        });
        println!("peak RSS of {label}: {} KiB", peak_rss_kib(pid).unwrap_or(0));
        let _ = runtime.block_on(child.shutdown());
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
