//! A legacy client's tool-call stream outlives the process that produced it: three
//! `echo-server http` processes share a real `redis-server` behind a round-robin TCP proxy
//! with no stickiness (written here: each connection goes to the next process that accepts
//! it). A `countdown` stream is cut after a few events, its producer finishes and is killed,
//! and `GET` + `Last-Event-ID` through the proxy reaches another process, which replays
//! everything after the cut, in order, nothing repeated, ending with the answer.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http::{Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use mocopr_testing::{ListeningServer, RedisServer, example_path};
use mocopr_transport::http::request_stream_position;
use serde_json::{Value, json};
use tokio::net::{TcpListener, TcpStream};
use tokio::process::Command;

/// Starts `echo-server http` on a free loopback port with its sessions and streams in `redis`;
/// the server and its address.
async fn echo_server(redis: &str) -> (ListeningServer, String) {
    let mut command = Command::new(example_path("echo-server"));
    command.args(["http", "--bind", "127.0.0.1:0"]).env("ECHO_SERVER_REDIS", redis);
    let server = ListeningServer::start(command).await.expect("echo-server says where it listens");
    let address = server.url().trim_start_matches("http://").trim_end_matches("/mcp").to_owned();
    (server, address)
}

/// A round-robin TCP proxy: each connection goes to the next backend, skipping those that
/// refuse it. Which backend each connection went to, in order of arrival, is recorded.
struct Proxy {
    url: String,
    routed: Arc<Mutex<Vec<usize>>>,
}

impl Proxy {
    async fn start(backends: Vec<String>) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind the proxy");
        let url = format!("http://{}/mcp", listener.local_addr().expect("address"));
        let routed = Arc::new(Mutex::new(Vec::new()));
        let log = routed.clone();
        tokio::spawn(async move {
            let mut next = 0;
            while let Ok((mut inbound, _)) = listener.accept().await {
                let mut chosen = None;
                for _ in 0..backends.len() {
                    let index = next % backends.len();
                    next += 1;
                    if let Ok(outbound) = TcpStream::connect(&backends[index]).await {
                        chosen = Some((index, outbound));
                        break;
                    }
                }
                let Some((index, mut outbound)) = chosen else { continue };
                log.lock().expect("the log").push(index);
                tokio::spawn(async move {
                    let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                });
            }
        });
        Proxy { url, routed }
    }

    fn last_backend(&self) -> usize {
        *self.routed.lock().expect("the log").last().expect("a connection was routed")
    }
}

/// A client that opens a new connection for every request, so the proxy routes each anew.
fn client() -> Client<HttpConnector, Full<Bytes>> {
    Client::builder(TokioExecutor::new()).pool_max_idle_per_host(0).build_http()
}

fn post(url: &str, session: Option<&str>, message: Value) -> Request<Full<Bytes>> {
    let mut request = Request::post(url)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2025-11-25");
    if let Some(session) = session {
        request = request.header("mcp-session-id", session);
    }
    request.body(Full::new(Bytes::from(message.to_string()))).expect("request")
}

/// Reads server-sent events: (id, data), the data `None` for the priming event.
struct Events {
    body: hyper::body::Incoming,
    text: String,
}

impl Events {
    fn of(response: http::Response<hyper::body::Incoming>) -> Events {
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()["content-type"], "text/event-stream");
        Events { body: response.into_body(), text: String::new() }
    }

    /// The next event with an id; `None` when the stream ended.
    async fn next(&mut self) -> Option<(String, Option<Value>)> {
        loop {
            while let Some(end) = self.text.find("\n\n") {
                let block: String = self.text.drain(..end + 2).collect();
                let field = |name: &str| block.lines().find_map(|l| l.strip_prefix(name)).map(str::trim);
                let Some(id) = field("id:") else { continue };
                let data = field("data:").filter(|d| !d.is_empty()).map(|d| serde_json::from_str(d).expect("JSON"));
                return Some((id.to_owned(), data));
            }
            let frame = tokio::time::timeout(Duration::from_secs(10), self.body.frame()).await.expect("in time");
            match frame {
                Some(Ok(frame)) => self.text.push_str(&String::from_utf8_lossy(&frame.into_data().unwrap_or_default())),
                _ => return None,
            }
        }
    }
}

/// What an event says: `step N` for a progress notification, the text of an answer.
fn describe(data: &Value) -> String {
    if data["method"] == "notifications/progress" {
        assert_eq!(data["params"]["progressToken"], "countdown-1", "the request's token: {data}");
        let step = data["params"]["progress"].as_f64().expect("a number");
        return format!("step {step}");
    }
    data["result"]["content"][0]["text"].as_str().map_or_else(|| data.to_string(), str::to_owned)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cut_countdown_stream_resumes_on_another_process_after_its_producer_is_killed() {
    if !mocopr_testing::installed("redis-server", "apt-get install redis-server") {
        return;
    }
    let redis = RedisServer::start().expect("redis-server (cargo xtask test installs it)");
    let mut servers = Vec::new();
    let mut backends = Vec::new();
    for _ in 0..3 {
        let (server, address) = echo_server(&redis.url()).await;
        servers.push(server);
        backends.push(address);
    }
    let proxy = Proxy::start(backends).await;

    let initialize = json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "resume", "version": "1"}}});
    let response = client().request(post(&proxy.url, None, initialize)).await.expect("initialize");
    assert_eq!(response.status(), StatusCode::OK);
    let session = response.headers()["mcp-session-id"].to_str().expect("ascii").to_owned();
    let initialized = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
    let response = client().request(post(&proxy.url, Some(&session), initialized)).await.expect("initialized");
    assert_eq!(response.status(), StatusCode::ACCEPTED);

    let countdown = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {
        "name": "countdown", "arguments": {"count": 6, "interval_ms": 100}, "_meta": {"progressToken": "countdown-1"}}});
    let response = client().request(post(&proxy.url, Some(&session), countdown)).await.expect("countdown");
    let producer = proxy.last_backend();
    let mut events = Events::of(response);
    let mut before = Vec::new();
    let mut last_id = String::new();
    while before.len() < 2 {
        let (id, data) = events.next().await.expect("an event before the cut");
        last_id = id;
        before.extend(data.as_ref().map(describe));
    }
    assert_eq!(before, ["step 1", "step 2"]);
    // The cut. The producer goes on recording until its answer is in Redis, and is killed.
    drop(events);
    let (stream, _) = request_stream_position(&last_id).expect("a request stream's event id");
    let key = format!("mcp:events:stream:{{{stream}}}");
    let started = std::time::Instant::now();
    loop {
        let newest = Command::new("redis-cli")
            .args(["-p", &redis.port().to_string(), "XREVRANGE", &key, "+", "-", "COUNT", "1"])
            .output()
            .await
            .expect("redis-cli");
        // The answer's entry carries the field `e`.
        if String::from_utf8_lossy(&newest.stdout).lines().any(|line| line.trim() == "e") {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(20), "the producer never recorded its answer");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    servers[producer].child_mut().kill().await.expect("kill the producer");

    let resume = Request::get(&proxy.url)
        .header("accept", "text/event-stream")
        .header("mcp-session-id", &session)
        .header("mcp-protocol-version", "2025-11-25")
        .header("last-event-id", &last_id)
        .body(Full::new(Bytes::new()))
        .expect("request");
    let response = client().request(resume).await.expect("the resume");
    assert_ne!(proxy.last_backend(), producer, "another process serves the resume");
    let mut resumed = Events::of(response);
    let mut after = Vec::new();
    let mut positions = vec![request_stream_position(&last_id).expect("a request stream's event id").1];
    while let Some((id, data)) = resumed.next().await {
        positions.push(request_stream_position(&id).expect("a request stream's event id").1);
        after.extend(data.as_ref().map(describe));
    }
    assert_eq!(after, ["step 3", "step 4", "step 5", "step 6", "done 6"], "everything after the cut, once, in order");
    assert!(positions.windows(2).all(|w| w[1] == w[0] + 1), "consecutive event ids: {positions:?}");
}

/// `countdown` over HTTP with the client, in both eras: every step heard, then the answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn countdown_streams_its_progress_over_http_in_both_eras() {
    for versions in ["2026-07-28", "2025-11-25", "2025-06-18"] {
        let mut command = Command::new(example_path("echo-server"));
        command.args(["http", "--bind", "127.0.0.1:0"]).env("ECHO_SERVER_VERSIONS", versions);
        let server = ListeningServer::start(command).await.expect("echo-server says where it listens");
        let client = mocopr_client::McpClient::builder().connect_http(server.url()).await.expect("connect");
        let steps = Arc::new(Mutex::new(Vec::new()));
        let heard = steps.clone();
        let options = mocopr_client::CallOptions::default()
            .with_progress(move |p| heard.lock().expect("steps").push(p.progress.as_f64().unwrap_or(-1.0) as u64));
        let result = client.call_tool_with("countdown", json!({"count": 3, "interval_ms": 10}), &options).await;
        let result = result.expect("countdown");
        assert_eq!(result.content[0].as_text(), Some("done 3"), "{versions}");
        assert_eq!(*steps.lock().expect("steps"), [1, 2, 3], "{versions}");
        let refused = client.call_tool("countdown", json!({"count": 10_001, "interval_ms": 1})).await;
        assert!(refused.is_err(), "{versions}: {refused:?}");
    }
}

/// The server process dies in the middle of a call: the client's call ends with a clear
/// error, promptly, in both eras (a legacy stream's resume finds no server; the call itself
/// is never sent again, only the side-effect-free resume is tried).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_whose_server_dies_mid_stream_ends_with_a_clear_error() {
    for versions in ["2026-07-28", "2025-11-25"] {
        let mut command = Command::new(example_path("echo-server"));
        command.args(["http", "--bind", "127.0.0.1:0"]).env("ECHO_SERVER_VERSIONS", versions);
        let mut server = ListeningServer::start(command).await.expect("echo-server says where it listens");
        let client = mocopr_client::McpClient::builder().connect_http(server.url()).await.expect("connect");
        let (heard_tx, mut heard) = tokio::sync::mpsc::unbounded_channel();
        let options = mocopr_client::CallOptions::default().with_progress(move |_| {
            let _ = heard_tx.send(());
        });
        let call = tokio::spawn(async move {
            client.call_tool_with("countdown", json!({"count": 100, "interval_ms": 50}), &options).await
        });
        tokio::time::timeout(Duration::from_secs(10), heard.recv()).await.expect("a step").expect("open");
        server.child_mut().kill().await.expect("kill the server");
        let started = std::time::Instant::now();
        let ended = tokio::time::timeout(Duration::from_secs(20), call).await.expect("the call ends").expect("task");
        let error = ended.expect_err("no answer can come").to_string();
        // A legacy stream is resumed five times, a second apart, before the call gives up.
        let bound = Duration::from_secs(if versions == "2026-07-28" { 3 } else { 9 });
        assert!(started.elapsed() < bound, "{versions}: ended after {:?}", started.elapsed());
        assert!(error.contains("stream") || error.contains("connection"), "{versions}: {error}");
        eprintln!("{versions}: {error}");
    }
}
