//! One legacy session served by three `echo-server http` processes sharing a real
//! `redis-server`: the session is created on one, changed through the others, its standalone
//! stream is read from a process that did not record the events, and after the creating
//! process is killed the stream resumes on another with `Last-Event-ID`, missing nothing and
//! repeating nothing. The client switches between the processes' URLs, as a round-robin
//! balancer would.

use std::time::Duration;

use bytes::Bytes;
use http::{Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use mocopr_testing::{ListeningServer, RedisServer, example_path};
use mocopr_transport::http::event_position;
use serde_json::{Value, json};
use tokio::process::Command;

/// Starts `echo-server http` on a free loopback port with its sessions in `redis`.
async fn echo_server(redis: &str) -> (ListeningServer, String) {
    let mut command = Command::new(example_path("echo-server"));
    command.args(["http", "--bind", "127.0.0.1:0"]).env("ECHO_SERVER_REDIS", redis);
    let server = ListeningServer::start(command).await.expect("echo-server says where it listens");
    let url = server.url().to_owned();
    (server, url)
}

fn client() -> Client<HttpConnector, Full<Bytes>> {
    Client::builder(TokioExecutor::new()).build_http()
}

/// POSTs `message` in `session` (when given); returns the status, the session header and the
/// body's JSON (`Null` when empty).
async fn post(url: &str, session: Option<&str>, message: Value) -> (StatusCode, Option<String>, Value) {
    let mut request = Request::post(url)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2025-11-25");
    if let Some(session) = session {
        request = request.header("mcp-session-id", session);
    }
    let body = Full::new(Bytes::from(message.to_string()));
    let response = client().request(request.body(body).expect("request")).await.expect("answered");
    let status = response.status();
    let id = response.headers().get("mcp-session-id").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let bytes = response.into_body().collect().await.expect("body").to_bytes();
    let value = if bytes.is_empty() { Value::Null } else { serde_json::from_slice(&bytes).expect("JSON body") };
    (status, id, value)
}

async fn touch(url: &str, session: &str, id: u64, uri: &str) {
    let call = json!({"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": {"name": "touch", "arguments": {"uri": uri}}});
    let (status, _, answer) = post(url, Some(session), call).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["result"]["content"][0]["text"], format!("touched {uri}"), "{answer}");
}

/// A standalone stream being read: its events as (id, message).
struct Stream {
    body: hyper::body::Incoming,
    text: String,
}

impl Stream {
    async fn open(url: &str, session: &str, last_event_id: Option<&str>) -> Stream {
        let mut request = Request::get(url).header("accept", "text/event-stream").header("mcp-session-id", session);
        if let Some(last) = last_event_id {
            request = request.header("last-event-id", last);
        }
        let response = client().request(request.body(Full::new(Bytes::new())).expect("request")).await.expect("GET");
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()["content-type"], "text/event-stream");
        Stream { body: response.into_body(), text: String::new() }
    }

    /// The next event with data; `None` when the stream ended (or broke).
    async fn next(&mut self) -> Option<(String, Value)> {
        loop {
            while let Some(end) = self.text.find("\n\n") {
                let event: String = self.text.drain(..end + 2).collect();
                if let Some(data) = event.lines().find_map(|l| l.strip_prefix("data: ")) {
                    let id = event.lines().find_map(|l| l.strip_prefix("id: ")).unwrap_or_default().to_owned();
                    return Some((id, serde_json::from_str(data).expect("JSON event")));
                }
            }
            let frame =
                tokio::time::timeout(Duration::from_secs(10), self.body.frame()).await.expect("an event in time");
            match frame {
                Some(Ok(frame)) => self.text.push_str(&String::from_utf8_lossy(&frame.into_data().unwrap_or_default())),
                _ => return None,
            }
        }
    }

    /// The next event, which must be an update of `uri` with an id.
    async fn updated(&mut self, uri: &str) -> String {
        let (id, message) = self.next().await.expect("an event");
        assert_eq!(message["method"], "notifications/resources/updated", "{message}");
        assert_eq!(message["params"]["uri"], uri, "only subscribed URIs, in order: {message}");
        assert!(!id.is_empty(), "events carry ids: {message}");
        id
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_legacy_session_and_its_stream_survive_the_process_that_created_them() {
    if !mocopr_testing::installed("redis-server", "apt-get install redis-server") {
        return;
    }
    let redis = RedisServer::start().expect("redis-server (cargo xtask test installs it)");
    let (mut creator, a) = echo_server(&redis.url()).await;
    let (_b_child, b) = echo_server(&redis.url()).await;
    let (_c_child, c) = echo_server(&redis.url()).await;

    // Created on A, initialized through B, subscribed through C.
    let initialize = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "failover", "version": "1"}}});
    let (status, session, answer) = post(&a, None, initialize).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["result"]["capabilities"]["resources"]["subscribe"], true, "{answer}");
    let session = session.expect("a session id");
    let (status, _, _) =
        post(&b, Some(&session), json!({"jsonrpc": "2.0", "method": "notifications/initialized"})).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let subscribe =
        json!({"jsonrpc": "2.0", "id": 2, "method": "resources/subscribe", "params": {"uri": "mem://hello"}});
    let (status, _, answer) = post(&c, Some(&session), subscribe).await;
    assert_eq!((status, &answer["result"]), (StatusCode::OK, &json!({})), "{answer}");

    // The stream is read from A; the changes are made (and recorded) by B and C.
    let mut stream = Stream::open(&a, &session, None).await;
    // Let A's stream subscribe to the shared log before the first change.
    tokio::time::sleep(Duration::from_millis(300)).await;
    touch(&b, &session, 3, "mem://elsewhere").await;
    touch(&b, &session, 4, "mem://hello").await;
    let first = stream.updated("mem://hello").await;

    // The creating process dies; its stream with it.
    creator.child_mut().kill().await.expect("kill A");
    assert!(stream.next().await.is_none(), "A's stream ended with A");

    // Missed while no stream was open.
    touch(&c, &session, 5, "mem://hello").await;
    touch(&c, &session, 6, "mem://elsewhere").await;
    touch(&b, &session, 7, "mem://hello").await;

    // Resumed on B after the last event seen: the two missed updates, then live ones.
    let mut resumed = Stream::open(&b, &session, Some(&first)).await;
    let second = resumed.updated("mem://hello").await;
    let third = resumed.updated("mem://hello").await;
    touch(&c, &session, 8, "mem://hello").await;
    let fourth = resumed.updated("mem://hello").await;
    let ids = [first, second, third, fourth];
    let positions: Vec<_> = ids.iter().map(|id| event_position(id).expect("a log position")).collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "in order, nothing repeated: {ids:?}");

    // The session goes on on the survivors, and ends everywhere.
    let call = json!({"jsonrpc": "2.0", "id": 9, "method": "tools/call", "params": {"name": "echo", "arguments": {"text": "still here"}}});
    let (status, _, answer) = post(&c, Some(&session), call).await;
    assert_eq!((status, &answer["result"]["content"][0]["text"]), (StatusCode::OK, &json!("still here")));
    let delete = Request::delete(&b).header("mcp-session-id", &session).body(Full::new(Bytes::new())).expect("request");
    assert_eq!(client().request(delete).await.expect("DELETE").status(), StatusCode::OK);
    assert!(resumed.next().await.is_none(), "the stream ends with the session");
    let (status, _, _) = post(&c, Some(&session), json!({"jsonrpc": "2.0", "id": 10, "method": "ping"})).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "ended everywhere");
}
