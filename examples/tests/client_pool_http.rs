//! The client's HTTP connection pool against the `echo-server` example as a real child process
//! on loopback: the bound holds under 10x oversubscription, idle connections close after the
//! idle timeout, and a dead server is noticed by the health check.

use mocopr_testing::{ListeningServer, example_path};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use mocopr_client::McpClient;
use mocopr_transport::PoolConfig;
use serde_json::json;
use tokio::process::Command;

/// Starts `echo-server http` on a free loopback port; returns the child and its MCP URL.
async fn echo_server() -> (ListeningServer, String) {
    let mut command = Command::new(example_path("echo-server"));
    command.args(["http", "--bind", "127.0.0.1:0"]);
    let server = ListeningServer::start(command).await.expect("echo-server says where it listens");
    let url = server.url().to_owned();
    (server, url)
}

async fn client(url: &str, pool: PoolConfig) -> McpClient {
    McpClient::builder().with_connection_pool(pool).connect_http(url).await.expect("connect")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forty_callers_on_four_connections_all_succeed_within_the_bound() {
    let (_server, url) = echo_server().await;
    let pool = PoolConfig::builder().with_max_connections(4).with_connection_timeout(Duration::from_secs(30)).build();
    let client = client(&url, pool).await;
    let most = Arc::new(AtomicUsize::new(0));
    let sampler = {
        let (client, most) = (client.clone(), most.clone());
        tokio::spawn(async move {
            loop {
                let metrics = client.pool_metrics().expect("an HTTP client has a pool");
                most.fetch_max(metrics.connections, Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        })
    };
    let callers = (0..40).map(|caller| {
        let client = client.clone();
        async move {
            for round in 0..10 {
                let text = format!("{caller}-{round}");
                let result = client.call_tool("echo", json!({ "text": text })).await.expect("call");
                assert_eq!(result.content[0].as_text(), Some(text.as_str()));
            }
        }
    });
    tokio::time::timeout(Duration::from_secs(60), futures_util::future::join_all(callers))
        .await
        .expect("400 calls through 4 connections finish (no deadlock)");
    sampler.abort();
    // An answer reaches its caller just before its connection goes back to the pool.
    let mut metrics = client.pool_metrics().expect("pool");
    for _ in 0..100 {
        if metrics.busy == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
        metrics = client.pool_metrics().expect("pool");
    }
    assert!(most.load(Ordering::Relaxed) <= 4, "at most 4 connections were open");
    assert!(metrics.opened <= 4, "keep-alive connections were reused: {metrics:?}");
    assert_eq!((metrics.busy, metrics.waiting), (0, 0), "{metrics:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_connections_close_after_the_idle_timeout() {
    let (_server, url) = echo_server().await;
    let pool = PoolConfig::builder()
        .with_max_connections(8)
        .with_idle_timeout(Duration::from_millis(300))
        .with_health_check_interval(Duration::from_millis(100))
        .build();
    let client = client(&url, pool).await;
    let calls = (0..8).map(|i| client.call_tool("echo", json!({ "text": i.to_string() })));
    for result in futures_util::future::join_all(calls).await {
        result.expect("call");
    }
    let before = client.pool_metrics().expect("pool");
    assert!(before.idle >= 1, "{before:?}");
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let after = client.pool_metrics().expect("pool");
    assert_eq!((after.idle, after.connections), (0, 0), "{after:?}");
    assert_eq!(after.closed, after.opened, "every connection was closed: {after:?}");
    // The pool opens new ones on demand.
    client.call_tool("echo", json!({"text": "again"})).await.expect("call after idling");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_server_is_detected_by_the_health_check() {
    let (mut server, url) = echo_server().await;
    let pool = PoolConfig::builder()
        .with_max_connections(4)
        .with_min_idle_connections(2)
        .with_health_check_interval(Duration::from_millis(100))
        .with_connection_timeout(Duration::from_secs(2))
        .build();
    let client = client(&url, pool).await;
    client.call_tool("echo", json!({"text": "alive"})).await.expect("call");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(client.pool_metrics().expect("pool").idle >= 2, "min_idle connections are kept open");

    server.child_mut().kill().await.expect("kill the server");
    let mut metrics = client.pool_metrics().expect("pool");
    for _ in 0..50 {
        if metrics.connections == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        metrics = client.pool_metrics().expect("pool");
    }
    assert_eq!((metrics.idle, metrics.connections), (0, 0), "dead connections were closed: {metrics:?}");
    // A call now fails promptly instead of hanging until its timeout.
    let started = std::time::Instant::now();
    let failed = client.call_tool("echo", json!({"text": "anyone?"})).await;
    assert!(failed.is_err(), "{failed:?}");
    assert!(started.elapsed() < Duration::from_secs(5), "failed after {:?}", started.elapsed());
}
