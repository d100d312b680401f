//! The `echo-server` example as a real child process over stdio: the fixture behaviour the
//! issue names, in both eras, and a prompt exit when its stdin closes.

use mocopr_testing::example_path;
use std::time::Duration;

use bytes::Bytes;
use mocopr_transport::child::{ChildProcess, Stderr};
use mocopr_transport::{FramingConfig, Inbound};
use serde_json::Value;
use tokio::process::Command;

/// `target/<profile>/examples/echo-server`, built by `cargo test` alongside this test.
async fn call(child: &mut ChildProcess, line: &str) -> Value {
    child.sink.send(Bytes::from(format!("{line}\n"))).await.expect("send");
    match tokio::time::timeout(Duration::from_secs(10), child.reader.next()).await {
        Ok(Some(Ok(Inbound::Frame(frame)))) => serde_json::from_slice(&frame).expect("JSON"),
        other => panic!("no answer: {other:?}"),
    }
}

const META: &str = r#""_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}"#;

#[tokio::test]
async fn echo_server_serves_both_eras_over_stdio() {
    let mut command = Command::new(example_path("echo-server"));
    command.arg("stdio");
    let mut child =
        ChildProcess::spawn(command, Stderr::Inherit, &FramingConfig::default()).expect("spawn echo-server");

    let echo = call(&mut child, &format!(r#"{{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{{"name":"echo","arguments":{{"text":"héllo"}},{META}}}}}"#)).await;
    assert_eq!(echo["result"]["content"], serde_json::json!([{"type": "text", "text": "héllo"}]));

    let add = call(&mut child, &format!(r#"{{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{{"name":"add","arguments":{{"a":2,"b":3.5}},{META}}}}}"#)).await;
    assert_eq!(add["result"]["structuredContent"]["sum"], 5.5);
    assert!(add["result"]["content"][0]["text"].as_str().unwrap().contains("5.5"));

    let init = call(&mut child, r#"{"jsonrpc":"2.0","id":3,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#).await;
    assert_eq!(init["result"]["serverInfo"]["name"], "echo-server");

    let read =
        call(&mut child, r#"{"jsonrpc":"2.0","id":4,"method":"resources/read","params":{"uri":"mem://hello"}}"#).await;
    assert_eq!(read["result"]["contents"][0]["text"], "hello");

    let greet = call(
        &mut child,
        r#"{"jsonrpc":"2.0","id":5,"method":"prompts/get","params":{"name":"greet","arguments":{"name":"Grace"}}}"#,
    )
    .await;
    assert!(greet["result"]["messages"][0]["content"]["text"].as_str().unwrap().contains("Grace"));

    let status = child.shutdown().await.expect("shutdown");
    assert!(status.success(), "echo-server exits cleanly when stdin closes: {status}");
}

#[tokio::test]
async fn the_client_drives_echo_server_as_a_child_process() {
    let mut command = Command::new(example_path("echo-server"));
    command.arg("stdio");
    let (client, child) = mocopr_client::McpClient::builder().connect_child(command).await.expect("connect");
    assert_eq!(client.server().expect("facts").version, mocopr_core::ProtocolVersion::V2026_07_28);
    let names: Vec<String> = client.list_tools().await.expect("tools").into_iter().map(|t| t.name).collect();
    assert_eq!(names, ["add", "countdown", "echo", "touch"]);
    let sum = client.call_tool("add", serde_json::json!({"a": 1, "b": 2})).await.expect("add");
    assert_eq!(sum.structured_content, Some(serde_json::json!({"sum": 3.0})));
    let hello = client.read_resource("mem://hello").await.expect("read");
    assert_eq!(serde_json::to_value(&hello.contents[0]).expect("json")["text"], "hello");
    drop(client);
    let status = child.shutdown().await.expect("shutdown");
    assert!(status.success());
}
