//! All three layers at once through the facade: cache hits are counted by the metrics, and the
//! profiler's request tracing wraps them all.

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
async fn cache_hits_are_counted_and_traced() {
    let runs = Arc::new(AtomicUsize::new(0));
    let counter = runs.clone();
    let tool = Tool::new("weather")
        .with_annotations(ToolAnnotations::new().with_read_only_hint(true).with_idempotent_hint(true));
    let metrics = MetricsCollector::builder().build().expect("metrics");
    let profiler = Profiler::builder().with_request_tracing(Duration::from_secs(1)).build();
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
        .with_metrics(metrics.clone())
        .with_profiler(profiler)
        .build()
        .expect("layered server");
    assert!(server.extension::<mocopr::cache::MultiLevelCache>().is_some());
    let config = mocopr::transport::FramingConfig::default();
    let (client_end, server_end) = pair(&config);
    tokio::spawn(mocopr::server::serve_connection(server, server_end.reader, server_end.sink, StdioConfig::default()));
    let client = McpClient::builder().connect(client_end.reader, client_end.sink).await.expect("connect");
    for _ in 0..4 {
        let result = client.call_tool("weather", json!({"city": "Oslo"})).await.expect("call");
        assert_eq!(result.content[0].as_text(), Some("sunny"));
    }
    assert_eq!(runs.load(Ordering::SeqCst), 1, "three answers came from the cache");
    let text = metrics.encode();
    assert!(
        text.lines().any(|l| l.starts_with("mcp_requests_total{")
            && l.contains("tools/call")
            && l.contains("\"ok\"")
            && l.ends_with(" 4")),
        "every call is counted, hits included: {text}"
    );
}
