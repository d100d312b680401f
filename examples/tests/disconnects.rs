//! Clients that walk away in the middle of a streamed call, over and over: each call's handler
//! is cancelled (the server goes idle once they are gone) and the server's memory returns to
//! its baseline, in both eras.

use std::time::Duration;

use mocopr_testing::{ListeningServer, MemoryStability, cpu_time, example_path};
use serde_json::json;
use tokio::process::Command;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_abandoned_mid_stream_are_cancelled_and_memory_returns_to_its_baseline() {
    for versions in ["2026-07-28", "2025-11-25"] {
        let mut command = Command::new(example_path("echo-server"));
        command.args(["http", "--bind", "127.0.0.1:0"]).env("ECHO_SERVER_VERSIONS", versions);
        let server = ListeningServer::start(command).await.expect("echo-server says where it listens");
        let pid = server.id().expect("running");
        let client = mocopr_client::McpClient::builder().connect_http(server.url()).await.expect("connect");
        let step = |_| {
            let client = client.clone();
            async move {
                let (heard_tx, mut heard) = tokio::sync::mpsc::unbounded_channel();
                let options = mocopr_client::CallOptions::default().with_progress(move |_| {
                    let _ = heard_tx.send(());
                });
                // Ten seconds of progress every millisecond, were it left running.
                let call = tokio::spawn(async move {
                    client.call_tool_with("countdown", json!({"count": 10_000, "interval_ms": 1}), &options).await
                });
                tokio::time::timeout(Duration::from_secs(10), heard.recv()).await.expect("a step").expect("open");
                call.abort();
                let _ = call.await;
            }
        };
        // 4 MiB over 1,000 abandoned calls: a handler left running, or its stream kept, would
        // cost more than 4 KB each.
        let growth = MemoryStability::new(100, 1_000, 4 << 20).check(pid, step).await.expect("/proc reports memory");
        assert!(growth.is_bounded(), "{versions}: {growth}");
        // A thousand handlers still ticking every millisecond would keep a core busy.
        tokio::time::sleep(Duration::from_millis(500)).await;
        let before = cpu_time(pid).expect("/proc reports CPU time");
        tokio::time::sleep(Duration::from_secs(1)).await;
        let idle = cpu_time(pid).expect("/proc reports CPU time") - before;
        assert!(idle < Duration::from_millis(300), "{versions}: {idle:?} of CPU in a second with no client");
        eprintln!("{versions}: 1,000 calls abandoned mid-stream: {growth}; {idle:?} CPU in the idle second after");
    }
}
