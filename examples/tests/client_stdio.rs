//! The client against the `echo-server` example as a real child process over stdio: a
//! dual-era server (modern), a legacy-only and a modern-only one, with the same calls; the
//! era cache skipping the probe on the second connection to the same command.

use mocopr_testing::example_path;
use std::time::Duration;

use mocopr_client::{EraCache, McpClient};
use mocopr_core::ProtocolVersion;
use serde_json::json;
use tokio::process::Command;

fn echo_server(versions: Option<&str>) -> Command {
    let mut command = Command::new(example_path("echo-server"));
    command.arg("stdio");
    if let Some(versions) = versions {
        command.env("ECHO_SERVER_VERSIONS", versions);
    }
    command
}

/// Calls `countdown {count: 3}` with a progress callback: the steps heard, and the answer.
async fn countdown(client: &McpClient) -> (Vec<u64>, String) {
    let steps = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let heard = steps.clone();
    let options = mocopr_client::CallOptions::default()
        .with_progress(move |p| heard.lock().expect("steps").push(p.progress.as_f64().unwrap_or(-1.0) as u64));
    let result = client.call_tool_with("countdown", json!({"count": 3, "interval_ms": 10}), &options).await;
    let text = result.expect("countdown").content[0].as_text().expect("text").to_owned();
    let steps = steps.lock().expect("steps").clone();
    (steps, text)
}

#[tokio::test]
async fn every_era_of_server_answers_the_same_calls_over_stdio() {
    for (versions, expected) in [
        (None, ProtocolVersion::V2026_07_28),
        (Some("2026-07-28"), ProtocolVersion::V2026_07_28),
        (Some("2025-11-25"), ProtocolVersion::V2025_11_25),
        (Some("2025-03-26"), ProtocolVersion::V2025_03_26),
    ] {
        let (client, child) = McpClient::builder()
            .with_probe_timeout(Duration::from_secs(5))
            .connect_child(echo_server(versions))
            .await
            .expect("connect to echo-server");
        assert_eq!(client.server().map(|s| s.version), Some(expected), "{versions:?}");
        let tools = client.list_tools().await.expect("tools");
        assert_eq!(
            tools.iter().map(|t| t.name.as_str()).collect::<Vec<_>>(),
            ["add", "countdown", "echo", "touch"],
            "{versions:?}"
        );
        let (steps, done) = countdown(&client).await;
        assert_eq!((steps, done.as_str()), (vec![1, 2, 3], "done 3"), "{versions:?}");
        let echoed = client.call_tool("echo", json!({"text": "héllo"})).await.expect("echo");
        assert_eq!(echoed.content[0].as_text(), Some("héllo"), "{versions:?}");
        let read = client.read_resource("mem://hello").await.expect("read");
        assert_eq!(serde_json::to_value(&read.contents[0]).expect("json")["text"], "hello", "{versions:?}");
        let mut arguments = serde_json::Map::new();
        arguments.insert("name".into(), json!("Grace"));
        let prompt = client.get_prompt("greet", arguments).await.expect("prompt");
        assert_eq!(prompt.messages.len(), 1, "{versions:?}");
        // The client holds the child's stdin: dropping it lets the server see end of input.
        drop(client);
        let status = child.shutdown().await.expect("shutdown");
        assert!(status.success(), "{versions:?}: {status}");
    }
}

#[tokio::test]
async fn the_era_cache_remembers_a_legacy_command() {
    let cache = EraCache::new();
    let connect = || McpClient::builder().with_era_cache(cache.clone()).connect_child(echo_server(Some("2025-06-18")));
    let (first, child) = connect().await.expect("first connection");
    assert_eq!(first.server().map(|s| s.version), Some(ProtocolVersion::V2025_06_18));
    drop(first);
    child.shutdown().await.expect("shutdown");
    let remembered = cache.get(&format!("{:?}", echo_server(Some("2025-06-18")).as_std()));
    assert_eq!(remembered, Some(ProtocolVersion::V2025_06_18), "keyed by the command line");
    let (second, child) = connect().await.expect("second connection, no probe");
    second.call_tool("echo", json!({"text": "again"})).await.expect("call");
    drop(second);
    child.shutdown().await.expect("shutdown");
}
