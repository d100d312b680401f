//! The client's result cache against a MoCoPr server over loopback HTTP that counts what it
//! serves: `ttlMs` honoured, `cacheScope` respected between clients sharing a cache, change
//! notifications invalidating, MRTR never cached, and off by default.

use std::time::Duration;

use futures_util::StreamExt;
use mocopr_client::{McpClient, ResultCache};
use mocopr_core::ProtocolVersion;
use mocopr_core::types::{CacheScope, Resource, ResourceContents, SubscriptionFilter, Tool};
use mocopr_server::{EndpointConfig, HandlerError, McpServer, ResourceUri};

mod support;
use support::{Seen, serve_http};

fn server(versions: &[ProtocolVersion], list_ttl_ms: u64, read_ttl_ms: u64) -> McpServer {
    let mut builder = McpServer::builder()
        .with_page_size(2)
        .with_protocol_versions(versions)
        .with_list_cache_hints(list_ttl_ms, CacheScope::Public)
        .with_read_cache_hints(read_ttl_ms, CacheScope::Private);
    for name in ["a", "b", "c"] {
        builder = builder.tool(Tool::new(name), || async { Ok::<_, HandlerError>("x") });
    }
    builder
        .resource(Resource::new("mem://r", "r"), |ResourceUri(uri): ResourceUri| async move {
            ResourceContents::text(uri, "contents")
        })
        .build()
        .expect("server")
}

async fn start(versions: &[ProtocolVersion], list_ttl_ms: u64, read_ttl_ms: u64) -> (String, Seen, McpServer) {
    let server = server(versions, list_ttl_ms, read_ttl_ms);
    let (url, seen) = serve_http(server.clone(), EndpointConfig::default()).await;
    (url, seen, server)
}

async fn client(url: &str, cache: Option<&ResultCache>) -> McpClient {
    let mut builder = McpClient::builder().with_probe_timeout(Duration::from_secs(2));
    if let Some(cache) = cache {
        builder = builder.with_result_cache(cache.clone());
    }
    builder.connect_http(url).await.expect("connect")
}

#[tokio::test]
async fn fresh_results_are_served_from_the_cache_until_their_ttl() {
    let (url, seen, _server) = start(&ProtocolVersion::ALL, 300, 60_000).await;
    let cache = ResultCache::new(100);
    let client = client(&url, Some(&cache)).await;
    assert_eq!(client.list_tools().await.expect("tools").len(), 3);
    assert_eq!(seen.count("tools/list"), 2, "two pages fetched");
    assert_eq!(client.list_tools().await.expect("tools").len(), 3);
    assert_eq!(seen.count("tools/list"), 2, "both pages came from the cache");
    client.read_resource("mem://r").await.expect("read");
    client.read_resource("mem://r").await.expect("read");
    assert_eq!(seen.count("resources/read"), 1);
    tokio::time::sleep(Duration::from_millis(400)).await;
    client.list_tools().await.expect("tools");
    assert_eq!(seen.count("tools/list"), 4, "expired pages fetched again");
}

#[tokio::test]
async fn without_a_cache_or_with_ttl_zero_every_call_reaches_the_server() {
    let (url, seen, _server) = start(&ProtocolVersion::ALL, 60_000, 0).await;
    let plain = client(&url, None).await;
    plain.list_tools().await.expect("tools");
    plain.list_tools().await.expect("tools");
    assert_eq!(seen.count("tools/list"), 4, "off by default");
    let cached = client(&url, Some(&ResultCache::new(100))).await;
    cached.read_resource("mem://r").await.expect("read");
    cached.read_resource("mem://r").await.expect("read");
    assert_eq!(seen.count("resources/read"), 2, "ttlMs 0 is stale at once");
}

#[tokio::test]
async fn public_results_are_shared_and_private_ones_are_not() {
    let (url, seen, _server) = start(&ProtocolVersion::ALL, 60_000, 60_000).await;
    let cache = ResultCache::new(100);
    let first = client(&url, Some(&cache)).await;
    let second = client(&url, Some(&cache)).await;
    first.list_tools().await.expect("tools");
    second.list_tools().await.expect("tools");
    assert_eq!(seen.count("tools/list"), 2, "the public list was fetched once for both clients");
    first.read_resource("mem://r").await.expect("read");
    second.read_resource("mem://r").await.expect("read");
    assert_eq!(seen.count("resources/read"), 2, "a private read is not shared");
}

#[tokio::test]
async fn change_notifications_drop_what_they_make_stale() {
    for versions in [&ProtocolVersion::ALL[..], &[ProtocolVersion::V2025_11_25][..]] {
        let (url, seen, server) = start(versions, 60_000, 60_000).await;
        let client = client(&url, Some(&ResultCache::new(100))).await;
        let mut filter = SubscriptionFilter::default();
        filter.tools_list_changed = Some(true);
        filter.resource_subscriptions = Some(vec!["mem://r".into()]);
        let mut changes = client.listen(filter).await.expect("listen");
        client.list_tools().await.expect("tools");
        client.read_resource("mem://r").await.expect("read");
        tokio::time::sleep(Duration::from_millis(50)).await;
        server.changes().tools_changed();
        server.changes().resource_updated("mem://r");
        for _ in 0..2 {
            tokio::time::timeout(Duration::from_secs(5), changes.next()).await.expect("notified").expect("open");
        }
        client.list_tools().await.expect("tools");
        client.read_resource("mem://r").await.expect("read");
        assert_eq!(seen.count("tools/list"), 4, "{versions:?}: the list was fetched again");
        assert_eq!(seen.count("resources/read"), 2, "{versions:?}: the resource was read again");
    }
}
