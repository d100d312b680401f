//! The README's three programs, run against each other as a new user would run them:
//! `hello-client` starting `hello-stdio` itself, and `hello-client` calling `hello-http` (whose
//! cache and metrics layers are then checked through its `/metrics` route).

use std::time::Duration;

use mocopr_testing::example_path;
use tokio::process::Command;

/// Runs `hello-client` with `args` and returns what it printed.
async fn hello_client(args: &[&str]) -> String {
    let output = tokio::time::timeout(
        Duration::from_secs(30),
        Command::new(example_path("hello-client")).args(args).kill_on_drop(true).output(),
    )
    .await
    .expect("hello-client finished in time")
    .expect("run hello-client");
    assert!(output.status.success(), "hello-client failed: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[tokio::test]
async fn the_client_starts_the_stdio_server_and_calls_its_tool() {
    let server = example_path("hello-stdio");
    let printed = hello_client(&[server.to_str().expect("a UTF-8 path")]).await;
    assert_eq!(printed.trim(), "Hello, world!");
}

#[tokio::test]
async fn the_client_calls_the_http_server_whose_layers_count_and_cache() {
    let _server = Command::new(example_path("hello-http")).kill_on_drop(true).spawn().expect("start hello-http");
    // It prints nothing: wait until it accepts connections.
    let started = std::time::Instant::now();
    while tokio::net::TcpStream::connect("127.0.0.1:8080").await.is_err() {
        assert!(started.elapsed() < Duration::from_secs(10), "hello-http did not start on 127.0.0.1:8080");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for _ in 0..2 {
        let printed = hello_client(&["http://127.0.0.1:8080/mcp"]).await;
        assert_eq!(printed.trim(), "Hello, world!");
    }
    let mut stream = tokio::net::TcpStream::connect("127.0.0.1:8080").await.expect("connect");
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    stream
        .write_all(b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        .await
        .expect("ask for metrics");
    let mut text = String::new();
    stream.read_to_string(&mut text).await.expect("metrics");
    let calls = text
        .lines()
        .find(|l| l.starts_with("mcp_requests_total{") && l.contains("tools/call") && l.contains("\"ok\""))
        .unwrap_or_default();
    assert!(calls.ends_with(" 2"), "both calls counted (the second a cache hit): {text}");
}
