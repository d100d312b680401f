//! The real `echo-server` binary over stdio against hostile input: a line far over the frame
//! limit, notification shapes that must not be answered, names no method has, deep JSON and
//! oversized handshakes. Each gets its exact answer (or none), the next request is served, and
//! the server's memory (read from `/proc`) stays bounded.

use std::time::Duration;

use bytes::Bytes;
use mocopr_testing::{example_path, peak_rss_bytes};
use mocopr_transport::child::{ChildProcess, Stderr};
use mocopr_transport::{FramingConfig, Inbound};
use serde_json::Value;
use tokio::process::Command;

const META: &str = r#""_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}"#;

async fn next(child: &mut ChildProcess) -> Value {
    match tokio::time::timeout(Duration::from_secs(30), child.reader.next()).await {
        Ok(Some(Ok(Inbound::Frame(frame)))) => serde_json::from_slice(&frame).expect("JSON"),
        other => panic!("no answer: {other:?}"),
    }
}

async fn send(child: &ChildProcess, line: &str) {
    child.sink.send(Bytes::from(format!("{line}\n"))).await.expect("send");
}

fn echo(id: u32) -> String {
    format!(
        r#"{{"jsonrpc":"2.0","id":{id},"method":"tools/call","params":{{"name":"echo","arguments":{{"text":"ok"}},{META}}}}}"#
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_lines_get_their_exact_answers_and_the_next_request_is_served() {
    let mut command = Command::new(example_path("echo-server"));
    command.arg("stdio");
    // This side reads answers of any size; the server's own limit is its default, 16 MiB.
    let config = FramingConfig::builder().with_max_frame_size(64 * 1024 * 1024).build().expect("config");
    let mut child = ChildProcess::spawn(command, Stderr::Inherit, &config).expect("spawn echo-server");
    let pid = child.id().expect("a pid");

    // A 40 MiB line: refused once (id unknown), skipped without being held, and the next
    // request is answered.
    let huge =
        format!(r#"{{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{{"pad":"{}"}}}}"#, "x".repeat(40 << 20));
    send(&child, &huge).await;
    let refused = next(&mut child).await;
    assert_eq!(refused["error"]["code"], -32600, "{refused}");
    assert!(refused["id"].is_null());
    send(&child, &echo(2)).await;
    assert_eq!(next(&mut child).await["id"], 2);

    // Notifications are never answered: the next line back answers the request after them.
    for notification in [
        r#"{"jsonrpc":"2.0","method":"notifications/cancelled","params":[1]}"#,
        r#"{"jsonrpc":"2.0","method":"","params":"s"}"#,
        r#"{"jsonrpc":"2.0","method":"rpc.x"}"#,
        r#"{"jsonrpc":"2.0","method":5}"#,
    ] {
        send(&child, notification).await;
    }
    send(&child, &echo(3)).await;
    assert_eq!(next(&mut child).await["id"], 3, "nothing answered the notifications");

    // Names no method has, deep JSON, a handshake too large to keep.
    for (line, code) in [
        (format!(r#"{{"jsonrpc":"2.0","id":4,"method":"rpc.discover","params":{{{META}}}}}"#), -32601),
        (format!(r#"{{"jsonrpc":"2.0","id":5,"method":"","params":{{{META}}}}}"#), -32601),
        (
            format!(
                r#"{{"jsonrpc":"2.0","id":6,"method":"tools/call","params":{{"name":"echo","arguments":{{"text":{}{}}},"_meta":{{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{{}}}}}}}}"#,
                "[".repeat(5000),
                "]".repeat(5000)
            ),
            -32700,
        ),
        (
            format!(
                r#"{{"jsonrpc":"2.0","id":7,"method":"initialize","params":{{"protocolVersion":"2025-06-18","capabilities":{{"experimental":{{"pad":{{"v":"{}"}}}}}},"clientInfo":{{"name":"t","version":"1"}}}}}}"#,
                "y".repeat(1 << 20)
            ),
            -32602,
        ),
    ] {
        send(&child, &line).await;
        let answer = next(&mut child).await;
        assert_eq!(answer["error"]["code"], code, "{answer}");
        assert!(answer.to_string().len() < 2048, "the answer does not echo the input");
    }
    send(&child, &echo(8)).await;
    assert_eq!(next(&mut child).await["result"]["content"][0]["text"], "ok");

    let peak = peak_rss_bytes(pid).expect("peak RSS");
    eprintln!("echo-server (stdio) peak RSS after a 40 MiB line: {} KiB", peak / 1024);
    // The line was never held whole: the peak stays near the frame limit, not the line's size.
    assert!(peak < 40 * 1024 * 1024, "peak RSS {peak}");
}
