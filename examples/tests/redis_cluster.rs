//! Servers on a real Redis Cluster (three masters, three replicas, started here on loopback
//! ports) while a master fails over under load: `production-server` with the cluster as its
//! cache's L2 fails no request of the guide's realistic mix, and two `echo-server http`
//! processes sharing legacy sessions through the cluster keep serving a session whose master is
//! killed, which a third process then finds.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use mocopr_testing::{ListeningServer, LoadScenario, LoadTester, RedisCluster, Target, example_path};
use serde_json::{Value, json};
use tokio::process::Command;

fn cluster() -> Option<RedisCluster> {
    if !mocopr_testing::installed("redis-server", "apt-get install redis-server") {
        return None;
    }
    Some(RedisCluster::start().expect("a Redis Cluster on loopback"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn production_server_with_a_cluster_l2_fails_no_request_through_a_failover() {
    let Some(mut cluster) = cluster() else { return };
    let mut command = Command::new(example_path("production-server"));
    command.args(["--transport", "http", "--bind", "127.0.0.1:0", "--redis-cluster", &cluster.urls().join(",")]);
    let server = ListeningServer::start(command).await.expect("production-server says where it listens");
    let scenario = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/production-server/scenario.json"))
        .expect("the scenario");
    let scenario = LoadScenario::from_json(&scenario).expect("a scenario");
    let tester = LoadTester::builder(Target::parse(server.url()).expect("a target"), scenario)
        .with_concurrent_clients(20)
        .with_requests_per_second(400.0)
        .with_duration(Duration::from_secs(8))
        .with_ramp_up(Duration::from_millis(500))
        .build()
        .expect("a tester");
    let load = tokio::spawn(tester.run());
    tokio::time::sleep(Duration::from_millis(1500)).await;
    // The cache's keys spread over every master's slots: a third of them lose their master.
    let killed = cluster.kill_master_for("mcp:tools/call:weather").expect("a master to kill");
    tokio::task::block_in_place(|| cluster.wait_for_failover()).expect("its replica took over");
    assert_ne!(cluster.master_for("mcp:tools/call:weather").expect("served"), killed);
    let report = load.await.expect("the load task").expect("the load test ran");
    assert_eq!(report.errors, 0, "{report}");
    assert!(report.requests > 1500, "{report}");
}

/// One JSON-RPC message POSTed as a legacy (2025-11-25) client; the status, the session id
/// the server gave, and the answer (from a JSON body or the first SSE `data:`).
async fn post(
    http: &reqwest::Client,
    url: &str,
    session: Option<&str>,
    message: Value,
) -> (u16, Option<String>, Value) {
    let mut request = http
        .post(url)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2025-11-25")
        .body(message.to_string());
    if let Some(session) = session {
        request = request.header("mcp-session-id", session);
    }
    let Ok(response) = request.send().await else { return (0, None, Value::Null) };
    let status = response.status().as_u16();
    let session = response.headers().get("mcp-session-id").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let body = response.text().await.unwrap_or_default();
    let answer = serde_json::from_str(&body).ok().or_else(|| {
        body.lines().filter_map(|l| l.strip_prefix("data:")).find_map(|d| serde_json::from_str(d.trim()).ok())
    });
    (status, session, answer.unwrap_or(Value::Null))
}

async fn echo_server(nodes: &str) -> ListeningServer {
    let mut command = Command::new(example_path("echo-server"));
    command.args(["http", "--bind", "127.0.0.1:0"]).env("ECHO_SERVER_REDIS", nodes);
    ListeningServer::start(command).await.expect("echo-server says where it listens")
}

fn echo(n: u64) -> Value {
    json!({ "jsonrpc": "2.0", "id": n, "method": "tools/call", "params": { "name": "echo", "arguments": { "text": n.to_string() } } })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_legacy_session_outlives_its_masters_failover_across_processes() {
    let Some(mut cluster) = cluster() else { return };
    let nodes = cluster.urls().join(",");
    let (first, second) = (echo_server(&nodes).await, echo_server(&nodes).await);
    let http = reqwest::Client::new();
    let initialize = json!({ "jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": { "name": "test", "version": "1" } } });
    let (status, session, _) = post(&http, first.url(), None, initialize).await;
    assert_eq!(status, 200);
    let session = session.expect("a session id");
    let initialized = json!({ "jsonrpc": "2.0", "method": "notifications/initialized" });
    assert_eq!(post(&http, first.url(), Some(&session), initialized).await.0, 202);

    // Calls alternate between the two processes, one at a time, until told to stop.
    let stop = Arc::new(AtomicBool::new(false));
    let (served, failed) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let load = {
        let urls = [first.url().to_owned(), second.url().to_owned()];
        let (http, session, stop, served, failed) =
            (http.clone(), session.clone(), stop.clone(), served.clone(), failed.clone());
        tokio::spawn(async move {
            let mut n = 1;
            while !stop.load(Ordering::Relaxed) {
                let (status, _, answer) = post(&http, &urls[usize::from(n % 2 == 0)], Some(&session), echo(n)).await;
                if status == 200 && answer["result"]["content"][0]["text"].as_str() == Some(n.to_string().as_str()) {
                    served.fetch_add(1, Ordering::Relaxed);
                } else {
                    eprintln!("call {n} failed: {status} {answer}");
                    failed.fetch_add(1, Ordering::Relaxed);
                }
                n += 1;
            }
        })
    };
    tokio::time::sleep(Duration::from_millis(500)).await;
    let key = format!("mcp:session:{{{session}}}");
    let killed = cluster.kill_master_for(&key).expect("the session's master");
    tokio::task::block_in_place(|| cluster.wait_for_failover()).expect("its replica took over");
    assert_ne!(cluster.master_for(&key).expect("served"), killed);
    let after_failover = served.load(Ordering::Relaxed);
    tokio::time::sleep(Duration::from_secs(1)).await;
    stop.store(true, Ordering::Relaxed);
    load.await.expect("the load task");
    let (served, failed) = (served.load(Ordering::Relaxed), failed.load(Ordering::Relaxed));
    assert_eq!(failed, 0, "{served} calls served, {failed} failed");
    assert!(served > after_failover, "calls went on after the failover");

    // A process that never saw the session finds it on the promoted replica.
    let third = echo_server(&nodes).await;
    let (status, _, answer) = post(&http, third.url(), Some(&session), echo(7)).await;
    assert_eq!((status, answer["result"]["content"][0]["text"].as_str()), (200, Some("7")), "{answer}");
}
