//! The client's calls beyond the basics, against MoCoPr servers in both eras over the
//! in-memory pair and loopback HTTP: listing as a stream (templates too), completion, progress
//! callbacks, per-call timeouts, `listen` (modern listen request; legacy subscribe and the
//! session's notifications), the era cache, and a legacy session re-initialized after a 404.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::{StreamExt, TryStreamExt};
use mocopr_client::{CallOptions, ClientError, EraCache, McpClient};
use mocopr_core::types::{
    CompleteRequestParams, Completion, CompletionArgument, CompletionReference, Resource, ResourceContents,
    ResourceTemplate, SubscriptionFilter, Tool,
};
use mocopr_core::{ProtocolVersion, ServerNotification};
use mocopr_server::{EndpointConfig, HandlerError, McpServer, RequestCtx, ResourceUri, StdioConfig, serve_connection};
use mocopr_transport::FramingConfig;
use mocopr_transport::memory::pair;
use serde_json::json;

mod support;
use support::serve_http;

/// A modern-only server (dual-era servers are covered by `eras.rs`).
const MODERN: &[ProtocolVersion] = &[ProtocolVersion::V2026_07_28];
const LEGACY: &[ProtocolVersion] = &[ProtocolVersion::V2025_11_25];

fn server(versions: &[ProtocolVersion]) -> McpServer {
    let mut builder = McpServer::builder().with_name("features").with_page_size(2).with_protocol_versions(versions);
    for i in 0..5 {
        builder = builder.tool(Tool::new(format!("tool{i}")), || async { Ok::<_, HandlerError>("x") });
    }
    for i in 0..3 {
        builder = builder.resource(
            ResourceTemplate::new(format!("mem://t{i}/{{id}}"), format!("t{i}")),
            |ResourceUri(uri): ResourceUri| async move { ResourceContents::text(uri, "t") },
        );
    }
    builder
        .tool(Tool::new("work"), |ctx: RequestCtx| async move {
            for step in 1..=3 {
                ctx.progress(f64::from(step), Some(3.0), Some(format!("step {step}"))).await;
            }
            Ok::<_, HandlerError>("worked")
        })
        .tool(Tool::new("slow"), || async {
            tokio::time::sleep(Duration::from_secs(5)).await;
            Ok::<_, HandlerError>("late")
        })
        .resource(Resource::new("mem://a", "a"), |ResourceUri(uri): ResourceUri| async move {
            ResourceContents::text(uri, "a")
        })
        .completion(|params: CompleteRequestParams| async move {
            Completion::new(
                ["alpha", "beta", "alpine"].into_iter().filter(|v| v.starts_with(params.argument.value.as_str())),
            )
        })
        .build()
        .expect("server")
}

async fn in_memory(server: McpServer) -> McpClient {
    let config = FramingConfig::default();
    let (client_end, server_end) = pair(&config);
    tokio::spawn(serve_connection(server, server_end.reader, server_end.sink, StdioConfig::default()));
    McpClient::builder()
        .with_probe_timeout(Duration::from_secs(2))
        .connect(client_end.reader, client_end.sink)
        .await
        .expect("connect")
}

async fn over_http(server: McpServer) -> McpClient {
    let (url, _) = serve_http(server, EndpointConfig::default()).await;
    McpClient::builder().with_probe_timeout(Duration::from_secs(2)).connect_http(&url).await.expect("connect")
}

/// One client per (transport, era).
async fn clients() -> Vec<(String, McpClient, McpServer)> {
    let mut all = Vec::new();
    for (era, versions) in [("modern", MODERN), ("legacy", LEGACY)] {
        let s = server(versions);
        all.push((format!("memory/{era}"), in_memory(s.clone()).await, s));
        let s = server(versions);
        all.push((format!("http/{era}"), over_http(s.clone()).await, s));
    }
    all
}

#[tokio::test]
async fn listings_stream_page_by_page_and_collect() {
    for (label, client, _) in clients().await {
        let mut tools = client.tools();
        let first = tools.next().await.expect("an item").expect("tool");
        assert_eq!(first.name, "slow", "{label}: sorted by name, first page first");
        let rest: Vec<Tool> = tools.try_collect().await.expect("the other pages");
        assert_eq!(rest.len(), 6, "{label}");
        let templates = client.list_resource_templates().await.expect("templates");
        assert_eq!(templates.len(), 3, "{label}: templates over two pages");
        assert_eq!(client.list_resources().await.expect("resources").len(), 1, "{label}");
        client.ping().await.expect("ping");
        match client.discover().await {
            Ok(discovered) => assert!(label.ends_with("modern"), "{label}: {discovered:?}"),
            Err(ClientError::Server(e)) => assert!(label.ends_with("legacy"), "{label}: {e:?}"),
            Err(other) => panic!("{label}: {other:?}"),
        }
    }
}

#[tokio::test]
async fn completion_progress_and_per_call_timeouts() {
    for (label, client, _) in clients().await {
        let reference: CompletionReference =
            serde_json::from_value(json!({"type": "ref/resource", "uri": "mem://t0/{id}"})).expect("ref");
        let argument: CompletionArgument = serde_json::from_value(json!({"name": "id", "value": "al"})).expect("arg");
        let completed = client.complete(reference, argument, None).await.expect("complete");
        assert_eq!(completed.completion.values, ["alpha", "alpine"], "{label}");

        let steps = Arc::new(Mutex::new(Vec::new()));
        let recorder = steps.clone();
        let options = CallOptions::new().with_progress(move |p| {
            recorder.lock().expect("lock").push((p.progress.as_f64(), p.message));
        });
        let result = client.call_tool_with("work", json!({}), &options).await.expect("call");
        assert_eq!(result.content[0].as_text(), Some("worked"), "{label}");
        let steps = steps.lock().expect("lock").clone();
        assert_eq!(steps.len(), 3, "{label}: every progress notification reached the callback: {steps:?}");
        assert_eq!(steps[2], (Some(3.0), Some("step 3".to_owned())), "{label}");

        let quick = CallOptions::new().with_timeout(Duration::from_millis(100));
        let late = client.call_tool_with("slow", json!({}), &quick).await;
        assert!(matches!(late, Err(ClientError::Timeout(d)) if d == Duration::from_millis(100)), "{label}: {late:?}");
    }
}

#[tokio::test]
async fn listen_delivers_what_was_asked_for_in_both_eras() {
    for (label, client, server) in clients().await {
        let mut filter = SubscriptionFilter::default();
        filter.tools_list_changed = Some(true);
        filter.resource_subscriptions = Some(vec!["mem://a".into()]);
        let mut subscription = client.listen(filter).await.expect("listen");
        assert_eq!(subscription.acknowledged().resource_subscriptions, Some(vec!["mem://a".to_owned()]), "{label}");
        // Give a legacy subscribe time to land before the changes.
        tokio::time::sleep(Duration::from_millis(50)).await;
        server.changes().prompts_changed();
        server.changes().resource_updated("mem://b");
        server.changes().tools_changed();
        server.changes().resource_updated("mem://a");
        let mut got = Vec::new();
        for _ in 0..2 {
            let next = tokio::time::timeout(Duration::from_secs(5), subscription.next()).await;
            got.push(next.unwrap_or_else(|_| panic!("{label}: a notification arrives")).expect("open stream"));
        }
        assert!(matches!(got[0], ServerNotification::ToolListChanged(_)), "{label}: {got:?}");
        assert!(matches!(&got[1], ServerNotification::ResourceUpdated(p) if p.uri == "mem://a"), "{label}: {got:?}");
        let nothing_else = tokio::time::timeout(Duration::from_millis(100), subscription.next()).await;
        assert!(nothing_else.is_err(), "{label}: nothing that was not asked for: {nothing_else:?}");
        drop(subscription);
        // The client still works after the subscription is gone.
        client.call_tool("tool0", json!({})).await.expect("call after listen");
    }
}

#[tokio::test]
async fn the_era_cache_skips_the_probe_for_a_known_legacy_server() {
    let (url, seen) = serve_http(server(LEGACY), EndpointConfig::default()).await;
    let cache = EraCache::new();
    let connect = || {
        McpClient::builder().with_era_cache(cache.clone()).with_probe_timeout(Duration::from_secs(2)).connect_http(&url)
    };
    let first = connect().await.expect("first connection");
    assert_eq!(cache.get(&url), Some(ProtocolVersion::V2025_11_25));
    let after_first = seen.count("server/discover");
    let second = connect().await.expect("second connection");
    assert_eq!(seen.count("server/discover"), after_first, "no second probe");
    assert_eq!(second.server().map(|s| s.version), Some(ProtocolVersion::V2025_11_25));
    second.call_tool("tool0", json!({})).await.expect("call");
    drop(first);
}

#[tokio::test]
async fn an_expired_legacy_session_is_re_initialized_and_the_call_goes_through() {
    let mut config = EndpointConfig::builder().with_max_sessions(1).build();
    config.session_idle_timeout = Duration::from_millis(50);
    let (url, seen) = serve_http(server(LEGACY), config).await;
    let connect = || McpClient::builder().with_probe_timeout(Duration::from_secs(2)).connect_http(&url);
    let first = connect().await.expect("first client");
    tokio::time::sleep(Duration::from_millis(100)).await;
    // A second session takes the only slot; the first one's is dropped.
    let _second = connect().await.expect("second client");
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(seen.count("initialize"), 2);
    let result = first.call_tool("tool0", json!({})).await.expect("the call survives the expired session");
    assert_eq!(result.content[0].as_text(), Some("x"));
    assert_eq!(seen.count("initialize"), 3, "the first client initialized a new session");
}

#[tokio::test]
async fn many_listeners_and_calls_share_one_connection() {
    let server = server(MODERN);
    let client = in_memory(server.clone()).await;
    let counter = Arc::new(AtomicUsize::new(0));
    let mut subscriptions = Vec::new();
    for _ in 0..5 {
        let mut filter = SubscriptionFilter::default();
        filter.tools_list_changed = Some(true);
        subscriptions.push(client.listen(filter).await.expect("listen"));
    }
    server.changes().tools_changed();
    for subscription in &mut subscriptions {
        tokio::time::timeout(Duration::from_secs(5), subscription.next()).await.expect("delivered").expect("open");
        counter.fetch_add(1, Ordering::Relaxed);
    }
    assert_eq!(counter.load(Ordering::Relaxed), 5, "each listener got its own copy");
}

/// Answers every HTTP request with `400 Bad Request` and an empty body, as some legacy
/// servers answer a request they do not understand.
async fn empty_400_server() -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}/mcp", listener.local_addr().expect("addr"));
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buffer = vec![0u8; 64 * 1024];
                // One request per connection is enough here; the answer closes it.
                let _ = socket.read(&mut buffer).await;
                let _ = socket
                    .write_all(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                    .await;
            });
        }
    });
    url
}

#[tokio::test]
async fn an_empty_400_answers_the_probe_at_once() {
    let url = empty_400_server().await;
    let started = std::time::Instant::now();
    let connected = McpClient::builder().with_probe_timeout(Duration::from_secs(30)).connect_http(&url).await;
    // The probe's 400 means legacy; the legacy `initialize` then fails the same way.
    match connected {
        Err(ClientError::Server(error)) => assert!(error.message.contains("400"), "{error:?}"),
        other => panic!("expected the initialize to fail with the 400: {other:?}"),
    }
    assert!(started.elapsed() < Duration::from_secs(10), "no wait for the probe timeout: {:?}", started.elapsed());
}

#[tokio::test]
async fn an_http_answer_over_the_message_limit_fails_the_call() {
    let server = McpServer::builder()
        .resource(Resource::new("mem://big", "big"), |ResourceUri(uri): ResourceUri| async move {
            ResourceContents::text(uri, "x".repeat(64 * 1024))
        })
        .build()
        .expect("server");
    let (url, _) = serve_http(server, EndpointConfig::default()).await;
    let small = FramingConfig::builder().with_max_frame_size(16 * 1024).build().expect("valid framing");
    let client = McpClient::builder().with_framing(small).connect_http(&url).await.expect("connect");
    match client.read_resource("mem://big").await {
        Err(ClientError::Server(error)) => assert!(error.message.contains("length limit"), "{error:?}"),
        other => panic!("a 64 KiB answer passed a 16 KiB limit: {other:?}"),
    }
    let roomy = McpClient::builder().connect_http(&url).await.expect("connect");
    roomy.read_resource("mem://big").await.expect("within the default limit");
}
