//! `McpServer::builder().with_cache(..)` through the facade: read-only idempotent tools and
//! lists are answered from the cache, and the server's change notifications invalidate it.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use mocopr::prelude::*;
use mocopr_transport::memory::pair;
use serde_json::json;

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct City {
    #[allow(dead_code)]
    city: String,
}

#[tokio::test]
async fn with_cache_answers_repeats_from_the_cache_and_forgets_on_change() {
    let runs = Arc::new(AtomicUsize::new(0));
    let counter = runs.clone();
    let tool = Tool::new("weather")
        .with_annotations(ToolAnnotations::new().with_read_only_hint(true).with_idempotent_hint(true));
    let server = McpServer::builder()
        .tool(tool, move |Args(_city): Args<City>| {
            let runs = counter.clone();
            async move {
                runs.fetch_add(1, Ordering::SeqCst);
                Ok::<_, HandlerError>("sunny")
            }
        })
        // Tool results carry no `cacheScope`: shared between callers only once vouched for.
        .layer(
            mocopr::layers::ServerCache::new(CacheConfig::builder().with_default_ttl(Duration::from_secs(30)).build())
                .with_cached_tool("weather"),
        )
        .build()
        .expect("cached server");
    let changes = server.changes().clone();
    let cache = server.extension::<mocopr::cache::MultiLevelCache>().expect("a cache").clone();
    let config = mocopr::transport::FramingConfig::default();
    let (client_end, server_end) = pair(&config);
    tokio::spawn(mocopr::server::serve_connection(server, server_end.reader, server_end.sink, StdioConfig::default()));
    let client = McpClient::builder().connect(client_end.reader, client_end.sink).await.expect("connect");

    for _ in 0..3 {
        let result = client.call_tool("weather", json!({"city": "Oslo"})).await.expect("call");
        assert_eq!(result.content[0].as_text(), Some("sunny"));
    }
    assert_eq!(runs.load(Ordering::SeqCst), 1);

    client.list_tools().await.expect("list");
    client.list_tools().await.expect("list");
    let hits = cache.stats().l1_hits;
    changes.tools_changed();
    tokio::time::sleep(Duration::from_millis(50)).await;
    client.list_tools().await.expect("list");
    assert_eq!(cache.stats().l1_hits, hits, "the list was fetched again after tools changed");
}

/// Two cached servers sharing their changes through Redis stand for two processes: a change
/// announced by one drops the other's L1 copies too.
#[tokio::test]
async fn a_change_in_another_process_clears_this_process_l1() {
    if !mocopr_testing::installed("redis-server", "apt-get install redis-server") {
        return;
    }
    let redis = mocopr_testing::RedisServer::start().expect("redis-server (cargo xtask test installs it)");
    let cached = |_: ()| {
        McpServer::builder()
            .tool("t", || async { "t" })
            .with_cache(CacheConfig::builder().with_default_ttl(Duration::from_secs(30)).build())
            .build()
            .expect("cached server")
    };
    let (here, there) = (cached(()), cached(()));
    let mut logs = Vec::new();
    for server in [&here, &there] {
        let log = mocopr::transport::http::RedisEventStore::new(&redis.url(), Duration::from_millis(300)).expect("log");
        let log: Arc<dyn mocopr::transport::http::EventStore> = Arc::new(log);
        server.changes().share(log.clone());
        logs.push(log);
    }
    for log in &logs {
        log.ready().await;
    }
    let cache = here.extension::<mocopr::cache::MultiLevelCache>().expect("a cache").clone();
    let mut heard = here.changes().subscribe();
    let announcer = there.changes().clone();
    let config = mocopr::transport::FramingConfig::default();
    let (client_end, server_end) = pair(&config);
    tokio::spawn(mocopr::server::serve_connection(here, server_end.reader, server_end.sink, StdioConfig::default()));
    let client = McpClient::builder().connect(client_end.reader, client_end.sink).await.expect("connect");

    client.list_tools().await.expect("list");
    client.list_tools().await.expect("list");
    let hits = cache.stats().l1_hits;
    assert!(hits >= 1, "the second list came from L1");
    announcer.tools_changed();
    let change =
        tokio::time::timeout(Duration::from_secs(5), heard.recv()).await.expect("the change crossed processes");
    assert_eq!(change.expect("open"), mocopr::server::Change::Tools);
    client.list_tools().await.expect("list");
    assert_eq!(cache.stats().l1_hits, hits, "fetched again: the other process's change cleared L1");
}
