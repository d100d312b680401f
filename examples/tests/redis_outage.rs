//! Redis killed and restarted while `production-server` serves the performance guide's
//! realistic mix with a Redis L2: no request fails (L1 and the handlers answer meanwhile), and
//! once Redis is back on its port the cache writes to it again by itself.

use std::time::Duration;

use mocopr_testing::{ListeningServer, LoadScenario, LoadTester, RedisServer, Target, example_path};
use tokio::process::Command;

/// The keys the Redis at `port` holds.
async fn keys_in(port: u16) -> usize {
    let output = Command::new("redis-cli").args(["-p", &port.to_string(), "DBSIZE"]).output().await.expect("redis-cli");
    String::from_utf8_lossy(&output.stdout).trim().parse().expect("a count")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_killed_and_restarted_under_load_fails_no_request() {
    if !mocopr_testing::installed("redis-server", "apt-get install redis-server") {
        return;
    }
    let redis = RedisServer::start().expect("redis-server (cargo xtask test installs it)");
    let port = redis.port();
    let mut command = Command::new(example_path("production-server"));
    command.args(["--transport", "http", "--bind", "127.0.0.1:0", "--redis", &redis.url()]);
    let server = ListeningServer::start(command).await.expect("production-server says where it listens");
    let scenario = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/production-server/scenario.json"))
        .expect("the scenario");
    let scenario = LoadScenario::from_json(&scenario).expect("a scenario");
    let tester = LoadTester::builder(Target::parse(server.url()).expect("a target"), scenario)
        .with_concurrent_clients(20)
        .with_requests_per_second(400.0)
        .with_duration(Duration::from_secs(6))
        .with_ramp_up(Duration::from_millis(500))
        .build()
        .expect("a tester");
    let load = tokio::spawn(tester.run());

    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(keys_in(port).await > 0, "the cache writes to its L2");
    drop(redis);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    // A fresh Redis, empty: what the cache writes to it from now on it wrote by itself.
    let restarted = RedisServer::start_on(port).expect("redis-server again, on the same port");

    let report = load.await.expect("the load task").expect("the load test ran");
    assert_eq!(report.errors, 0, "{report}");
    assert!(report.requests > 1000, "{report}");
    // The cache found its way back to Redis by itself: answers it computes reach L2 again
    // (the first command on the broken connection fails and rests L2 for its retry interval,
    // so the misses are spread over a few seconds).
    let client = mocopr_client::McpClient::builder().connect_http(server.url()).await.expect("connect");
    let mut back = false;
    for city in ["Nairobi", "Osaka", "Quito", "Perth", "Porto", "Tallinn", "Montreal", "Cusco"] {
        client.call_tool("weather", serde_json::json!({ "city": city })).await.expect("weather");
        tokio::time::sleep(Duration::from_millis(500)).await;
        back = keys_in(port).await > 0;
        if back {
            break;
        }
    }
    assert!(back, "L2 is written again once Redis is back");
    drop(restarted);
}
