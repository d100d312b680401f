//! `production-server` as a real child process on loopback: `/metrics` after known traffic has
//! the right counts, `/health` answers, a CPU profile comes back as a flamegraph, the live page
//! draws and updates its charts in headless Chromium, and 10,000 typical requests leave its
//! memory bounded.

use std::process::Stdio;
use std::time::Duration;

use bytes::Bytes;
use http::{Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use mocopr_client::McpClient;
use mocopr_testing::{ListeningServer, MemoryStability, example_path};
use serde_json::json;
use tokio::process::Command;

/// The dashboard's bearer token in these tests.
const TOKEN: &str = "a-long-random-admin-token";

/// The server (its dashboard beside `/mcp`, behind [`TOKEN`]), its MCP URL and its base URL.
async fn production_server() -> (ListeningServer, String, String) {
    let mut command = Command::new(example_path("production-server"));
    command.args(["--transport", "http", "--bind", "127.0.0.1:0", "--dashboard-beside-mcp", "--admin-token", TOKEN]);
    let server = ListeningServer::start(command).await.expect("production-server says where it listens");
    let (url, base) = (server.url().to_owned(), server.base_url().to_owned());
    assert!(url.starts_with("http://127.0.0.1:") && url.ends_with("/mcp"), "{url}");
    (server, url, base)
}

async fn get(url: &str) -> (StatusCode, String) {
    get_with(url, &[("authorization", &format!("Bearer {TOKEN}"))]).await
}

async fn get_with(url: &str, headers: &[(&str, &str)]) -> (StatusCode, String) {
    let client: Client<HttpConnector, Full<Bytes>> = Client::builder(TokioExecutor::new()).build_http();
    let mut request = Request::get(url);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let request = request.body(Full::new(Bytes::new())).expect("request");
    let response =
        tokio::time::timeout(Duration::from_secs(30), client.request(request)).await.expect("in time").expect("GET");
    let status = response.status();
    let body = response.into_body().collect().await.expect("body").to_bytes();
    (status, String::from_utf8_lossy(&body).into_owned())
}

/// The value of `name{…}` whose labels include every pair.
fn sample(text: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    text.lines().filter(|l| !l.starts_with('#')).find_map(|line| {
        let (series, value) = line.rsplit_once(' ')?;
        let (metric, rest) = series.split_once('{').unwrap_or((series, ""));
        let matches = metric == name && labels.iter().all(|(k, v)| rest.contains(&format!("{k}=\"{v}\"")));
        matches.then(|| value.parse().ok()).flatten()
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_health_profile_and_dashboard() {
    let (_server, url, base) = production_server().await;
    let client = McpClient::builder().connect_http(&url).await.expect("connect");
    for _ in 0..5 {
        client.call_tool("echo", json!({"text": "hi"})).await.expect("echo");
    }
    for _ in 0..3 {
        client.list_tools().await.expect("list");
    }
    for _ in 0..2 {
        client.call_tool("weather", json!({"city": "Oslo"})).await.expect("weather");
    }
    assert!(client.call_tool("nope", json!({})).await.is_err());

    let (status, text) = get(&format!("{base}/metrics")).await;
    assert_eq!(status, StatusCode::OK);
    let call_ok = [("method", "tools/call"), ("status", "ok")];
    assert_eq!(sample(&text, "mcp_requests_total", &call_ok), Some(7.0), "{text}");
    assert_eq!(sample(&text, "mcp_requests_total", &[("method", "tools/list"), ("status", "ok")]), Some(3.0));
    assert_eq!(sample(&text, "mcp_errors_total", &[("method", "tools/call"), ("code", "-32602")]), Some(1.0));
    assert_eq!(sample(&text, "mcp_request_duration_seconds_count", &call_ok), Some(7.0));
    assert!(sample(&text, "mcp_active_connections", &[]).is_some_and(|n| n >= 1.0), "{text}");
    assert_eq!(sample(&text, "mcp_requests_in_flight", &[]), Some(0.0));

    let (status, health) = get(&format!("{base}/health")).await;
    assert_eq!(status, StatusCode::OK, "{health}");
    assert!(health.contains("\"status\":\"ok\""), "{health}");

    // A CPU profile while the server works.
    let load = {
        let client = client.clone();
        tokio::spawn(async move {
            loop {
                let _ = client.call_tool("search", json!({"query": "o"})).await;
            }
        })
    };
    let (status, folded) = get(&format!("{base}/debug/pprof/profile?seconds=2&format=folded")).await;
    assert_eq!(status, StatusCode::OK, "{folded}");
    assert!(folded.lines().count() > 3 && folded.contains("mocopr"), "stacks of the server's own code: {folded}");
    let (status, pprof) = get(&format!("{base}/debug/pprof/profile?seconds=1&format=pprof")).await;
    assert!(status == StatusCode::OK && pprof.contains("nanoseconds"), "a pprof protobuf: {status}");
    let (status, svg) = get(&format!("{base}/debug/pprof/profile?seconds=1")).await;
    assert!(status == StatusCode::OK && svg.contains("<svg"), "a flamegraph SVG: {status}");
    let (status, _) = get(&format!("{base}/debug/pprof/profile?seconds=0")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // A page on another site cannot reach the operations endpoints, directly or by rebinding.
    let (status, _) = get_with(&format!("{base}/metrics"), &[("sec-fetch-site", "cross-site")]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // Beside a public `/mcp`, nothing but the static page and liveness answers without the token.
    let (status, _) = get_with(&format!("{base}/metrics"), &[]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = get_with(&format!("{base}/debug/pprof/profile?seconds=1"), &[("host", "evil.example")]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // The live page, in a real browser, while traffic flows.
    if !mocopr_testing::installed("chromium", "apt-get install chromium") {
        load.abort();
        return;
    }
    // The page takes the token from its fragment, which the browser never sends.
    let page = format!("{base}/dashboard#token={TOKEN}");
    let profile_dir = std::env::temp_dir().join(format!("mocopr-chromium-{}", std::process::id()));
    let chromium = tokio::process::Command::new("chromium")
        .args(["--headless=new", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=5000"])
        .arg(format!("--user-data-dir={}", profile_dir.display()))
        .args(["--dump-dom", &page])
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .output();
    let dom = tokio::time::timeout(Duration::from_secs(60), chromium)
        .await
        .expect("chromium finished in time")
        .expect("chromium (cargo xtask test installs it)");
    let _ = std::fs::remove_dir_all(&profile_dir);
    load.abort();
    let dom = String::from_utf8_lossy(&dom.stdout);
    let attribute = |name: &str| -> Vec<u64> {
        dom.match_indices(&format!("{name}=\""))
            .filter_map(|(at, m)| dom[at + m.len()..].split('"').next()?.parse().ok())
            .collect()
    };
    let updates = attribute("data-updates");
    assert!(updates.first().is_some_and(|n| *n >= 3), "the page updated: {updates:?}\n{dom}");
    let points = attribute("data-points");
    assert_eq!(points.len(), 3, "three charts: {dom}");
    assert!(points.iter().all(|p| *p >= 2), "every chart was drawn more than once: {points:?}");
    assert!(dom.contains(" requests, "), "the status line was filled in: {dom}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_typical_requests_leave_memory_bounded() {
    let (server, url, _) = production_server().await;
    let pid = server.id().expect("running");
    let client = McpClient::builder().connect_http(&url).await.expect("connect");
    // The realistic mix: list_tools 10%, call_tool 70%, read_resource 20%.
    let step = |i: usize| {
        let client = client.clone();
        async move {
            let ok = match i % 10 {
                0 => client.list_tools().await.is_ok(),
                1 | 2 => client.read_resource("data://report").await.is_ok(),
                3 | 4 => {
                    let city = ["Oslo", "Lima", "Quito"][i % 3];
                    client.call_tool("weather", json!({ "city": city })).await.is_ok()
                }
                5 => client.call_tool("search", json!({"query": "o"})).await.is_ok(),
                6 => client.call_tool("add", json!({"a": i, "b": 1})).await.is_ok(),
                _ => client.call_tool("echo", json!({"text": format!("message {i}")})).await.is_ok(),
            };
            assert!(ok, "request {i} failed");
        }
    };
    // 8 MiB over 10,000 requests: a leak of 1 KB per request would show as 10 MB.
    let growth = MemoryStability::new(1_000, 10_000, 8 << 20).check(pid, step).await.expect("/proc reports memory");
    assert!(growth.is_bounded(), "{growth}");
    eprintln!("production-server over 10,000 requests: {growth}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn by_default_the_dashboard_is_not_on_the_mcp_listener() {
    let mut command = Command::new(example_path("production-server"));
    command.args(["--transport", "http", "--bind", "127.0.0.1:0"]);
    let server = ListeningServer::start(command).await.expect("production-server says where it listens");
    for path in ["/metrics", "/health", "/dashboard", "/debug/pprof/profile?seconds=1"] {
        let (status, _) = get_with(&format!("{}{path}", server.base_url()), &[]).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path} is on the admin listener only");
    }
    // Beside `/mcp` without a token is refused at start.
    let refused = Command::new(example_path("production-server"))
        .args(["--transport", "http", "--bind", "127.0.0.1:0", "--dashboard-beside-mcp"])
        .output()
        .await
        .expect("run");
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--admin-token"));
}
