//! Resumable POST streams over real HTTP on loopback (legacy Streamable HTTP): a 2025-11-25
//! session's stream opens with a priming event (id, `retry`, no data) and every event has an
//! id; a client whose connection dropped resumes with `GET` + `Last-Event-ID` and gets what
//! came after, once each and in order, the request having gone on meanwhile; the server may
//! end a long stream's connection itself (SSE polling); a stream resumes only in its own
//! session; and a 2025-06-18 session gets ids without the priming event.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http::{Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use mocopr_core::types::Tool;
use mocopr_server::{EndpointConfig, HandlerError, McpServer, RequestCtx, serve_http};
use mocopr_transport::http::{EventStore, InMemoryEventStore, InMemorySessionStore};
use serde_json::{Value, json};

/// Sets its flag when dropped: the handler's future ended (finished or was dropped).
struct StopFlag(Arc<AtomicBool>);

impl Drop for StopFlag {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// Serves a server whose `count` tool sends five progress notifications 40 ms apart, whose
/// `poll` tool ends its stream's connection and answers 100 ms later, and whose `wait` tool
/// sends one notification and waits to be cancelled (setting `stopped` when it ends).
async fn start(config: EndpointConfig) -> String {
    start_with(config, Arc::default(), None).await
}

async fn start_with(config: EndpointConfig, stopped: Arc<AtomicBool>, events: Option<Arc<dyn EventStore>>) -> String {
    let server = McpServer::builder()
        .tool(Tool::new("wait"), move |ctx: RequestCtx| {
            let flag = StopFlag(stopped.clone());
            async move {
                let _flag = flag;
                ctx.progress(1.0, None, None).await;
                ctx.cancelled().await;
                Ok::<_, HandlerError>("cancelled".to_owned())
            }
        })
        .tool(Tool::new("count"), |ctx: RequestCtx| async move {
            for step in 1..=5 {
                tokio::time::sleep(Duration::from_millis(40)).await;
                ctx.progress(f64::from(step), Some(5.0), None).await;
            }
            Ok::<_, HandlerError>("counted".to_owned())
        })
        .tool(Tool::new("poll"), |ctx: RequestCtx| async move {
            let closed = ctx.close_stream();
            tokio::time::sleep(Duration::from_millis(100)).await;
            Ok::<_, HandlerError>(format!("closed: {closed}"))
        })
        .build()
        .expect("server");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}/mcp", listener.local_addr().expect("addr"));
    let endpoint = match events {
        Some(events) => server.into_http_with_stores(config, Arc::new(InMemorySessionStore::new(100)), events),
        None => server.into_http(config),
    };
    tokio::spawn(serve_http(listener, endpoint).with_path("/mcp").into_future());
    url
}

async fn stops(flag: &AtomicBool) -> bool {
    for _ in 0..300 {
        if flag.load(Ordering::SeqCst) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    false
}

fn client() -> Client<HttpConnector, Full<Bytes>> {
    Client::builder(TokioExecutor::new()).build_http()
}

/// Opens a legacy session at `version`; its id.
async fn session(url: &str, version: &str) -> String {
    let init = json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
        "protocolVersion": version, "capabilities": {}, "clientInfo": {"name": "resume", "version": "1"}}});
    let response = send(post(url, None, version, &init)).await;
    assert_eq!(response.status(), StatusCode::OK);
    let session = response.headers()["mcp-session-id"].to_str().expect("ascii").to_owned();
    let initialized = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
    assert_eq!(send(post(url, Some(&session), version, &initialized)).await.status(), StatusCode::ACCEPTED);
    session
}

fn post(url: &str, session: Option<&str>, version: &str, message: &Value) -> Request<Full<Bytes>> {
    let mut request = Request::post(url)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", version);
    if let Some(session) = session {
        request = request.header("mcp-session-id", session);
    }
    request.body(Full::new(Bytes::from(message.to_string()))).expect("request")
}

fn call(tool: &str) -> Value {
    json!({"jsonrpc": "2.0", "id": 7, "method": "tools/call",
        "params": {"name": tool, "arguments": {}, "_meta": {"progressToken": "p"}}})
}

fn resume(url: &str, session: &str, last_event_id: &str) -> Request<Full<Bytes>> {
    Request::get(url)
        .header("accept", "text/event-stream")
        .header("mcp-session-id", session)
        .header("mcp-protocol-version", "2025-11-25")
        .header("last-event-id", last_event_id)
        .body(Full::new(Bytes::new()))
        .expect("request")
}

async fn send(request: Request<Full<Bytes>>) -> http::Response<hyper::body::Incoming> {
    client().request(request).await.expect("answered")
}

/// One server-sent event: its id, `retry` and data (empty for the priming event).
#[derive(Debug)]
struct Event {
    id: String,
    retry: Option<u64>,
    data: Option<Value>,
}

/// Reads events from an SSE body; `None` when the body ended.
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

    async fn next(&mut self) -> Option<Event> {
        loop {
            while let Some(end) = self.text.find("\n\n") {
                let block: String = self.text.drain(..end + 2).collect();
                if block.starts_with(':') {
                    continue;
                }
                let field = |name: &str| block.lines().find_map(|l| l.strip_prefix(name)).map(str::trim);
                let data = field("data:").filter(|d| !d.is_empty()).map(|d| serde_json::from_str(d).expect("JSON"));
                let retry = field("retry:").map(|r| r.parse().expect("a number"));
                return Some(Event { id: field("id:").unwrap_or_default().to_owned(), retry, data });
            }
            let frame = tokio::time::timeout(Duration::from_secs(10), self.body.frame()).await.expect("in time");
            match frame {
                Some(Ok(frame)) => self.text.push_str(&String::from_utf8_lossy(&frame.into_data().unwrap_or_default())),
                _ => return None,
            }
        }
    }

    async fn rest(&mut self) -> Vec<Event> {
        let mut events = Vec::new();
        while let Some(event) = self.next().await {
            events.push(event);
        }
        events
    }
}

/// The progress steps and the answer among `events`.
fn steps_and_answer(events: &[Event]) -> (Vec<u64>, Option<String>) {
    let mut steps = Vec::new();
    let mut answer = None;
    for data in events.iter().filter_map(|e| e.data.as_ref()) {
        if data["method"] == "notifications/progress" {
            steps.push(data["params"]["progress"].as_f64().expect("a step") as u64);
        } else if let Some(text) = data["result"]["content"][0]["text"].as_str() {
            answer = Some(text.to_owned());
        }
    }
    (steps, answer)
}

#[tokio::test]
async fn a_cut_post_stream_resumes_after_its_last_event_id_with_nothing_missed_or_repeated() {
    let url = start(EndpointConfig::default()).await;
    let session = session(&url, "2025-11-25").await;
    let mut events = Events::of(send(post(&url, Some(&session), "2025-11-25", &call("count"))).await);

    let priming = events.next().await.expect("the priming event");
    assert!(priming.data.is_none() && !priming.id.is_empty(), "{priming:?}");
    assert_eq!(priming.retry, Some(1000), "the priming event says when to come back");
    let first = events.next().await.expect("a step");
    let second = events.next().await.expect("a step");
    assert_eq!(steps_and_answer(&[first]).0, [1]);
    assert_eq!(steps_and_answer(std::slice::from_ref(&second)).0, [2]);
    // The connection drops: the request goes on.
    drop(events);
    tokio::time::sleep(Duration::from_millis(60)).await;

    let resumed = Events::of(send(resume(&url, &session, &second.id)).await).rest().await;
    assert_eq!(steps_and_answer(&resumed), (vec![3, 4, 5], Some("counted".to_owned())), "{resumed:?}");
    let ids: Vec<&str> = resumed.iter().map(|e| e.id.as_str()).collect();
    assert!(ids.iter().all(|id| !id.is_empty()), "every event has an id: {ids:?}");

    // Once ended, the stream replays from any of its ids, and only what came after.
    let again = Events::of(send(resume(&url, &session, &resumed[1].id)).await).rest().await;
    assert_eq!(steps_and_answer(&again), (vec![5], Some("counted".to_owned())));
}

#[tokio::test]
async fn the_server_ends_a_long_streams_connection_and_the_client_polls_for_the_rest() {
    let config = EndpointConfig::builder().with_sse_poll_after(Some(Duration::from_millis(90))).build();
    let url = start(config).await;
    let session = session(&url, "2025-11-25").await;
    let mut cut = Events::of(send(post(&url, Some(&session), "2025-11-25", &call("count"))).await);
    let before = cut.rest().await;
    let (steps, answer) = steps_and_answer(&before);
    assert!(answer.is_none() && steps.len() < 5, "the connection ended early: {before:?}");
    assert_eq!(before.last().and_then(|e| e.retry), Some(1000), "`retry` before the end: {before:?}");
    let last = before.iter().rev().find(|e| !e.id.is_empty()).expect("an event with an id");

    let after = Events::of(send(resume(&url, &session, &last.id)).await).rest().await;
    let (more, answer) = steps_and_answer(&after);
    let all: Vec<u64> = steps.iter().chain(&more).copied().collect();
    assert_eq!((all, answer), (vec![1, 2, 3, 4, 5], Some("counted".to_owned())));

    // The handler may end its connection itself, even before it sends anything.
    let mut polled = Events::of(send(post(&url, Some(&session), "2025-11-25", &call("poll"))).await);
    let first = polled.rest().await;
    assert!(steps_and_answer(&first).1.is_none(), "{first:?}");
    let answer = Events::of(send(resume(&url, &session, &first[0].id)).await).rest().await;
    assert_eq!(steps_and_answer(&answer).1.as_deref(), Some("closed: true"));
}

#[tokio::test]
async fn a_stream_resumes_only_in_its_own_session_and_an_unknown_one_is_refused() {
    let url = start(EndpointConfig::default()).await;
    let mine = session(&url, "2025-11-25").await;
    let other = session(&url, "2025-11-25").await;
    let events = Events::of(send(post(&url, Some(&mine), "2025-11-25", &call("count"))).await).rest().await;
    let id = &events[0].id;
    for (session, last) in [(other.as_str(), id.as_str()), (mine.as_str(), "0123456789abcdef0123456789abcdef:0")] {
        let response = send(resume(&url, session, last)).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{last} in {session}");
        let body = response.into_body().collect().await.expect("body").to_bytes();
        let error: Value = serde_json::from_slice(&body).expect("a JSON-RPC error");
        assert_eq!(error["error"]["code"], -32600);
    }
}

#[tokio::test]
async fn a_2025_06_18_stream_has_ids_but_no_priming_event() {
    let url = start(EndpointConfig::default()).await;
    let session = session(&url, "2025-06-18").await;
    let events = Events::of(send(post(&url, Some(&session), "2025-06-18", &call("count"))).await).rest().await;
    assert!(events[0].data.is_some(), "no priming event: {events:?}");
    assert!(events.iter().all(|e| !e.id.is_empty() && e.retry.is_none()), "{events:?}");
    assert_eq!(steps_and_answer(&events), (vec![1, 2, 3, 4, 5], Some("counted".to_owned())));
    // The handler cannot end a 2025-06-18 stream's connection: the answer comes on the POST.
    let polled = send(post(&url, Some(&session), "2025-06-18", &call("poll"))).await;
    assert_eq!(polled.headers()["content-type"], "application/json");
    let body = polled.into_body().collect().await.expect("body").to_bytes();
    let answer: Value = serde_json::from_slice(&body).expect("JSON");
    assert_eq!(answer["result"]["content"][0]["text"], "closed: false");
}

#[tokio::test]
async fn a_recorded_call_goes_on_without_its_connection_until_cancelled_or_its_session_ends() {
    let stopped = Arc::new(AtomicBool::new(false));
    let url = start_with(EndpointConfig::default(), stopped.clone(), None).await;
    let session = session(&url, "2025-11-25").await;
    let mut events = Events::of(send(post(&url, Some(&session), "2025-11-25", &call("wait"))).await);
    events.next().await.expect("the priming event");
    let notification = events.next().await.expect("the notification");
    drop(events);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(!stopped.load(Ordering::SeqCst), "disconnecting is not cancelling");
    let cancel = json!({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 7}});
    assert_eq!(send(post(&url, Some(&session), "2025-11-25", &cancel)).await.status(), StatusCode::ACCEPTED);
    assert!(stops(&stopped).await, "notifications/cancelled stops the call");
    // A cancelled call will never answer: its stream is forgotten, and a resume is refused
    // at once rather than left waiting.
    let refused = send(resume(&url, &session, &notification.id)).await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);

    stopped.store(false, Ordering::SeqCst);
    let mut events = Events::of(send(post(&url, Some(&session), "2025-11-25", &call("wait"))).await);
    events.next().await.expect("the priming event");
    drop(events);
    let delete =
        Request::delete(&url).header("mcp-session-id", &session).body(Full::new(Bytes::new())).expect("request");
    assert_eq!(send(delete).await.status(), StatusCode::OK);
    assert!(stops(&stopped).await, "the session's end stops its calls");
}

/// A store that keeps the standalone log but records no request streams (the trait's
/// default).
struct NoRequestStreams(InMemoryEventStore);

impl EventStore for NoRequestStreams {
    fn append(&self, message: Bytes) -> futures_util::future::BoxFuture<'_, ()> {
        self.0.append(message)
    }
    fn replay_after<'a>(
        &'a self,
        id: &'a str,
    ) -> futures_util::future::BoxFuture<'a, Option<Vec<mocopr_transport::http::Event>>> {
        self.0.replay_after(id)
    }
    fn subscribe(&self) -> tokio::sync::broadcast::Receiver<mocopr_transport::http::Event> {
        self.0.subscribe()
    }
}

#[tokio::test]
async fn without_recording_a_dropped_stream_cancels_its_call_and_has_no_ids() {
    let stopped = Arc::new(AtomicBool::new(false));
    let store: Arc<dyn EventStore> = Arc::new(NoRequestStreams(InMemoryEventStore::default()));
    let url = start_with(EndpointConfig::default(), stopped.clone(), Some(store)).await;
    let session = session(&url, "2025-11-25").await;
    let mut events = Events::of(send(post(&url, Some(&session), "2025-11-25", &call("wait"))).await);
    let first = events.next().await.expect("the notification");
    assert!(first.id.is_empty() && first.data.is_some(), "no priming event, no id: {first:?}");
    drop(events);
    assert!(stops(&stopped).await, "an unrecorded stream's call ends with its connection");
}

/// A second call under the id of one still recorded streams unrecorded (it must not take the
/// first one's place, nor its cancellation): no priming event, no ids, cancelled when its
/// connection drops, while `notifications/cancelled` still reaches the first.
#[tokio::test]
async fn a_second_call_under_a_recorded_calls_id_streams_unrecorded() {
    let stopped = Arc::new(AtomicBool::new(false));
    let url = start_with(EndpointConfig::default(), stopped.clone(), None).await;
    let session = session(&url, "2025-11-25").await;
    let mut first = Events::of(send(post(&url, Some(&session), "2025-11-25", &call("wait"))).await);
    assert!(first.next().await.expect("the priming event").data.is_none());
    first.next().await.expect("the notification");
    let mut second = Events::of(send(post(&url, Some(&session), "2025-11-25", &call("wait"))).await);
    let event = second.next().await.expect("the notification");
    assert!(event.id.is_empty() && event.data.is_some(), "unrecorded: {event:?}");
    drop(second);
    assert!(stops(&stopped).await, "the unrecorded call ends with its connection");
    stopped.store(false, Ordering::SeqCst);
    let cancel = json!({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 7}});
    assert_eq!(send(post(&url, Some(&session), "2025-11-25", &cancel)).await.status(), StatusCode::ACCEPTED);
    assert!(stops(&stopped).await, "the recorded call is still the one cancelled");
    drop(first);
}
