//! The dashboard's guards over real HTTP on loopback: with a bearer token every data route
//! needs it (the static page and liveness do not), profiles are capped in length, and one runs
//! at a time (a second gets `429`).

use std::time::Duration;

use mocopr::dashboard::PerformanceDashboard;
use mocopr::metrics::MetricsCollector;
use mocopr::profiling::Profiler;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// `GET path` with `headers`: the status line's code.
async fn get(addr: std::net::SocketAddr, path: &str, headers: &str) -> u16 {
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let request = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n{headers}\r\n");
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(20), stream.read_to_end(&mut answer))
        .await
        .expect("in time")
        .expect("read");
    let text = String::from_utf8_lossy(&answer);
    text.split_whitespace().nth(1).and_then(|code| code.parse().ok()).unwrap_or_else(|| panic!("{text}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_guards_the_data_and_profiles_are_capped_and_one_at_a_time() {
    let metrics = MetricsCollector::builder().build().expect("metrics");
    let profiler = Profiler::builder().with_cpu_profiling(99).build();
    let dashboard = PerformanceDashboard::builder()
        .with_metrics(metrics)
        .with_profiler(profiler)
        .with_bearer_token("s3cret-token")
        .with_max_profile(Duration::from_secs(2))
        .build();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, dashboard.into_router()).await });

    let token = "Authorization: Bearer s3cret-token\r\n";
    for path in ["/metrics", "/health", "/dashboard/stats.json", "/debug/pprof/profile?seconds=1"] {
        assert_eq!(get(addr, path, "").await, 401, "{path} without a token");
        assert_eq!(get(addr, path, "Authorization: Bearer wrong\r\n").await, 401, "{path} with a wrong one");
    }
    assert_eq!(get(addr, "/metrics", token).await, 200);
    assert_eq!(get(addr, "/dashboard", "").await, 200, "the static page needs no token");
    assert_eq!(get(addr, "/health/live", "").await, 200, "nor does liveness");

    assert_eq!(get(addr, "/debug/pprof/profile?seconds=3", token).await, 400, "over the cap");
    // One profile at a time: a second one while the first runs is told to come back later.
    let first = tokio::spawn(async move { get(addr, "/debug/pprof/profile?seconds=2&format=folded", token).await });
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(get(addr, "/debug/pprof/profile?seconds=1&format=folded", token).await, 429);
    assert_eq!(first.await.expect("task"), 200);
}
