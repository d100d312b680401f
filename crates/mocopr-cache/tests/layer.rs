//! The cache layer in front of a real `McpServer`, driven by the MoCoPr client over the
//! in-memory pair in both eras: what is cached and what never is, invalidation by tag, the
//! `ttlMs` of a served hit, authorization partitions, and a frozen Redis costing no request.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use mocopr_cache::{CacheConfig, CacheLayer, CachePolicy, MultiLevelCache, RedisConfig};
use mocopr_client::McpClient;
use mocopr_core::ProtocolVersion;
use mocopr_core::types::{CacheScope, Tool, ToolAnnotations};
use mocopr_server::{Args, HandlerError, McpServer, RequestCtx, StdioConfig, serve_connection};
use mocopr_transport::FramingConfig;
use mocopr_transport::memory::pair;
use serde_json::{Value, json};
use tower_layer::Layer;

use mocopr_testing::RedisServer;

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct Query {
    q: String,
}

fn read_only(name: &str) -> Tool {
    Tool::new(name).with_annotations(ToolAnnotations::new().with_read_only_hint(true).with_idempotent_hint(true))
}

struct Fixture {
    server: McpServer,
    runs: Arc<AtomicUsize>,
}

fn server(versions: &[ProtocolVersion]) -> Fixture {
    let runs = Arc::new(AtomicUsize::new(0));
    let (lookup_runs, plain_runs, mrtr_runs, failing_runs) = (runs.clone(), runs.clone(), runs.clone(), runs.clone());
    let server = McpServer::builder()
        .with_protocol_versions(versions)
        .with_list_cache_hints(60_000, CacheScope::Public)
        .tool(read_only("lookup"), move |Args(query): Args<Query>| {
            let runs = lookup_runs.clone();
            async move {
                runs.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(5)).await;
                Ok::<_, HandlerError>(format!("answer to {}", query.q))
            }
        })
        .tool(Tool::new("plain"), move || {
            let runs = plain_runs.clone();
            async move {
                runs.fetch_add(1, Ordering::SeqCst);
                Ok::<_, HandlerError>("plain")
            }
        })
        .tool(read_only("asks"), move |ctx: RequestCtx| {
            let runs = mrtr_runs.clone();
            async move {
                runs.fetch_add(1, Ordering::SeqCst);
                let params = serde_json::from_value(json!({
                    "message": "ok?", "requestedSchema": {"type": "object", "properties": {}}
                }))?;
                let answer = ctx.elicit("confirm", params).await?;
                Ok::<_, HandlerError>(format!("{:?}", answer.action))
            }
        })
        .tool(read_only("failing"), move || {
            let runs = failing_runs.clone();
            async move {
                runs.fetch_add(1, Ordering::SeqCst);
                Err::<String, _>(HandlerError::new("not today"))
            }
        })
        .build()
        .expect("server");
    Fixture { server, runs }
}

/// The layered server as a caller `subject` reaches it (an authorization layer in front put
/// the principal in each request), or an anonymous one.
fn as_caller(
    fixture: &Fixture,
    cache: &MultiLevelCache,
    policy: CachePolicy,
    subject: Option<&str>,
) -> tower::util::BoxCloneSyncService<
    mocopr_core::service::McpRequest,
    mocopr_core::service::McpResponse,
    std::convert::Infallible,
> {
    let service = CacheLayer::new(cache.clone(), policy).layer(fixture.server.clone());
    let principal = subject.map(mocopr_core::principal::Principal::new);
    tower::util::BoxCloneSyncService::new(tower::service_fn(move |mut request: mocopr_core::service::McpRequest| {
        if let Some(principal) = &principal {
            request.extensions.insert(principal.clone());
        }
        tower::ServiceExt::oneshot(service.clone(), request)
    }))
}

async fn client_through(fixture: &Fixture, cache: &MultiLevelCache) -> McpClient {
    client_as(fixture, cache, CachePolicy::for_tools(fixture.server.tools()), Some("tester")).await
}

async fn client_as(
    fixture: &Fixture,
    cache: &MultiLevelCache,
    policy: CachePolicy,
    subject: Option<&str>,
) -> McpClient {
    let service = as_caller(fixture, cache, policy, subject);
    let config = FramingConfig::default();
    let (client_end, server_end) = pair(&config);
    tokio::spawn(serve_connection(service, server_end.reader, server_end.sink, StdioConfig::default()));
    McpClient::builder()
        .with_input_handler(Accepts)
        .with_probe_timeout(Duration::from_secs(2))
        .connect(client_end.reader, client_end.sink)
        .await
        .expect("connect")
}

/// Accepts every elicitation.
struct Accepts;

impl mocopr_client::InputHandler for Accepts {
    fn capabilities(&self) -> mocopr_core::types::ClientCapabilities {
        mocopr_core::types::ClientCapabilities::default().with_elicitation()
    }

    fn elicit(
        &self,
        _: mocopr_core::types::ElicitRequestParams,
    ) -> futures_util::future::BoxFuture<'_, Result<mocopr_core::types::ElicitResult, mocopr_core::ErrorObject>> {
        Box::pin(async { Ok(mocopr_core::types::ElicitResult::accept(serde_json::Map::new())) })
    }
}

fn text(result: &mocopr_core::types::CallToolResult) -> String {
    result.content[0].as_text().unwrap_or_default().to_owned()
}

/// The same, over loopback HTTP (legacy sessions are cached only there).
async fn http_client_through(fixture: &Fixture, cache: &MultiLevelCache) -> McpClient {
    let policy = CachePolicy::for_tools(fixture.server.tools());
    let service = as_caller(fixture, cache, policy, Some("tester"));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}/mcp", listener.local_addr().expect("addr"));
    let endpoint = mocopr_server::StreamableHttpService::new(service, mocopr_server::EndpointConfig::default());
    tokio::spawn(mocopr_server::serve_http(listener, endpoint).with_path("/mcp").into_future());
    McpClient::builder().with_input_handler(Accepts).connect_http(&url).await.expect("connect")
}

#[tokio::test]
async fn read_only_idempotent_tools_are_cached_per_arguments_in_both_eras() {
    for (versions, http) in [
        (&[ProtocolVersion::V2026_07_28][..], false),
        (&[ProtocolVersion::V2026_07_28][..], true),
        (&[ProtocolVersion::V2025_11_25][..], true),
    ] {
        let fixture = server(versions);
        let cache = MultiLevelCache::new(CacheConfig::default()).expect("cache");
        let client =
            if http { http_client_through(&fixture, &cache).await } else { client_through(&fixture, &cache).await };
        for _ in 0..3 {
            let result = client.call_tool("lookup", json!({"q": "x"})).await.expect("call");
            assert_eq!(text(&result), "answer to x");
        }
        assert_eq!(fixture.runs.load(Ordering::SeqCst), 1, "{versions:?}: one run for three calls");
        client.call_tool("lookup", json!({"q": "y"})).await.expect("call");
        assert_eq!(fixture.runs.load(Ordering::SeqCst), 2, "{versions:?}: other arguments, other entry");
        client.call_tool("plain", json!({})).await.expect("call");
        client.call_tool("plain", json!({})).await.expect("call");
        assert_eq!(fixture.runs.load(Ordering::SeqCst), 4, "{versions:?}: a tool without the hints always runs");
    }
}

#[tokio::test]
async fn results_not_marked_public_are_not_shared_between_callers() {
    let fixture = server(&[ProtocolVersion::V2026_07_28]);
    let cache = MultiLevelCache::new(CacheConfig::default()).expect("cache");
    let policy = || CachePolicy::for_tools(fixture.server.tools());
    // Anonymous callers: a tool result (no `cacheScope`) is never kept.
    let anonymous = client_as(&fixture, &cache, policy(), None).await;
    for _ in 0..2 {
        anonymous.call_tool("lookup", json!({"q": "x"})).await.expect("call");
    }
    assert_eq!(fixture.runs.load(Ordering::SeqCst), 2, "nothing shared without a partition");
    // Two principals: each has its own entry.
    let alice = client_as(&fixture, &cache, policy(), Some("alice")).await;
    let bob = client_as(&fixture, &cache, policy(), Some("bob")).await;
    for client in [&alice, &alice, &bob, &bob] {
        client.call_tool("lookup", json!({"q": "x"})).await.expect("call");
    }
    assert_eq!(fixture.runs.load(Ordering::SeqCst), 4, "one run each for alice and bob");
    // A tool the user vouched for is shared, even between anonymous callers.
    let vouched = client_as(&fixture, &cache, policy().with_cached_tool("lookup"), None).await;
    for _ in 0..2 {
        vouched.call_tool("lookup", json!({"q": "z"})).await.expect("call");
    }
    assert_eq!(fixture.runs.load(Ordering::SeqCst), 5, "vouched for: shared");
    // ... with principals too: one entry for everyone.
    let carol = client_as(&fixture, &cache, policy().with_cached_tool("lookup"), Some("carol")).await;
    carol.call_tool("lookup", json!({"q": "z"})).await.expect("call");
    assert_eq!(fixture.runs.load(Ordering::SeqCst), 5, "vouched for: shared with principals as well");
}

#[tokio::test]
async fn legacy_requests_outside_an_http_session_go_to_the_server() {
    // Over a byte stream the cache cannot see whether the legacy session is initialized, so
    // it leaves legacy requests to the server.
    let fixture = server(&[ProtocolVersion::V2025_11_25]);
    let cache = MultiLevelCache::new(CacheConfig::default()).expect("cache");
    let client = client_through(&fixture, &cache).await;
    for _ in 0..3 {
        client.call_tool("lookup", json!({"q": "x"})).await.expect("call");
    }
    assert_eq!(fixture.runs.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn input_requests_retries_and_tool_errors_are_never_cached() {
    for versions in [&[ProtocolVersion::V2026_07_28][..], &[ProtocolVersion::V2025_11_25][..]] {
        let fixture = server(versions);
        let cache = MultiLevelCache::new(CacheConfig::default()).expect("cache");
        let client = client_through(&fixture, &cache).await;
        for _ in 0..2 {
            let result = client.call_tool("asks", json!({})).await.expect("call");
            assert_eq!(text(&result), "Accept");
        }
        // Modern: two rounds per call (input_required, then the retry); legacy: one.
        let per_call = if versions[0] == ProtocolVersion::V2026_07_28 { 2 } else { 1 };
        assert_eq!(fixture.runs.load(Ordering::SeqCst), 2 * per_call, "{versions:?}");
        let before = fixture.runs.load(Ordering::SeqCst);
        for _ in 0..2 {
            let result = client.call_tool("failing", json!({})).await.expect("call");
            assert_eq!(result.is_error, Some(true));
        }
        assert_eq!(fixture.runs.load(Ordering::SeqCst), before + 2, "{versions:?}: errors are not kept");
    }
}

#[tokio::test]
async fn lists_are_cached_invalidated_by_tag_and_served_with_their_remaining_ttl() {
    let fixture = server(&[ProtocolVersion::V2026_07_28]);
    let cache =
        MultiLevelCache::new(CacheConfig::builder().with_default_ttl(Duration::from_secs(5)).build()).expect("cache");
    let client = client_through(&fixture, &cache).await;
    let first = client.request("tools/list", json!({})).await.expect("list");
    assert_eq!(first["ttlMs"], 60_000, "the server's own hint on a miss");
    let second = client.request("tools/list", json!({})).await.expect("list");
    let ttl = second["ttlMs"].as_u64().expect("ttlMs");
    assert!(ttl <= 5_000, "a hit says no more than the entry has left: {ttl}");
    assert_eq!(second["tools"], first["tools"]);
    assert!(cache.stats().l1_hits >= 1);
    cache.invalidate_tag("tools/list").await;
    let third = client.request("tools/list", json!({})).await.expect("list");
    assert_eq!(third["ttlMs"], 60_000, "fetched again after the tag was dropped");
}

#[tokio::test]
async fn a_frozen_redis_costs_no_request() {
    if !mocopr_testing::installed("redis-server", "apt-get install redis-server") {
        return;
    }
    let redis = RedisServer::start().expect("redis-server (cargo xtask test installs it)");
    let fixture = server(&[ProtocolVersion::V2026_07_28]);
    let redis_config = RedisConfig::new(redis.url())
        .with_response_timeout(Duration::from_millis(100))
        .with_connection_timeout(Duration::from_millis(100));
    let cache = MultiLevelCache::new(CacheConfig::builder().with_l2_cache(redis_config).build()).expect("cache");
    let client = client_through(&fixture, &cache).await;
    client.call_tool("lookup", json!({"q": "warm"})).await.expect("call");
    redis.pause().expect("SIGSTOP");
    for i in 0..20 {
        let result = client.call_tool("lookup", json!({"q": i.to_string()})).await.expect("answered without Redis");
        assert_eq!(text(&result), format!("answer to {i}"));
    }
    let warm = client.call_tool("lookup", json!({"q": "warm"})).await.expect("call");
    assert_eq!(text(&warm), "answer to warm");
    assert_eq!(fixture.runs.load(Ordering::SeqCst), 21, "the warm entry came from L1");
    redis.resume().expect("SIGCONT");
    let _: Value = json!(null);
}
