//! What the metrics and request-tracing layers cost per request: one `tools/call` of a cheap
//! tool through the server's tower service, bare and behind each layer (tracing with a
//! subscriber recording spans at `info`, writing to nowhere).
//!
//! `cargo bench -p mocopr-benches --bench layers`

use std::convert::Infallible;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use mocopr_core::RequestId;
use mocopr_core::service::{McpRequest, McpResponse, Method, RawJson};
use mocopr_metrics::{MetricsCollector, MetricsLayer};
use mocopr_profiling::RequestTracingLayer;
use mocopr_server::{Args, HandlerError, McpServer};
use serde_json::json;
use tower::ServiceExt;
use tower_layer::Layer;

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct Text {
    text: String,
}

fn server() -> McpServer {
    McpServer::builder()
        .tool("echo", |Args(t): Args<Text>| async move { Ok::<_, HandlerError>(t.text) })
        .build()
        .expect("server")
}

fn request() -> McpRequest {
    let params = json!({
        "name": "echo",
        "arguments": {"text": "hello"},
        "_meta": {
            "io.modelcontextprotocol/protocolVersion": "2026-07-28",
            "io.modelcontextprotocol/clientCapabilities": {},
        },
    });
    McpRequest::new(RequestId::from(1), Method::new("tools/call"), Some(RawJson::serialize(&params).expect("json")))
}

fn bench<S>(c: &mut Criterion, runtime: &tokio::runtime::Runtime, name: &str, service: S)
where
    S: tower_service::Service<McpRequest, Response = McpResponse, Error = Infallible> + Clone,
{
    let answered = runtime.block_on(service.clone().oneshot(request())).expect("infallible");
    assert!(answered.outcome.is_ok(), "{name}: the call succeeds");
    c.bench_function(&format!("layers/tools_call/{name}"), |b| {
        b.to_async(runtime).iter(|| service.clone().oneshot(request()));
    });
}

fn layers(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let subscriber = tracing_subscriber::fmt().with_max_level(tracing::Level::INFO).with_writer(std::io::sink).finish();
    let _default = tracing::subscriber::set_default(subscriber);
    let metrics = MetricsCollector::builder().build().expect("metrics");
    let tracing = RequestTracingLayer::new(Duration::from_secs(1));
    bench(c, &runtime, "bare", server());
    bench(c, &runtime, "metrics", MetricsLayer::new(metrics.clone()).layer(server()));
    bench(c, &runtime, "tracing", tracing.clone().layer(server()));
    bench(c, &runtime, "metrics_and_tracing", tracing.layer(MetricsLayer::new(metrics).layer(server())));
}

criterion_group! {
    name = benches;
    config = mocopr_benches::criterion().measurement_time(Duration::from_secs(4)).warm_up_time(Duration::from_secs(1));
    targets = layers
}
criterion_main!(benches);
