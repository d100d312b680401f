//! Known traffic through a real server behind the metrics layer, then the Prometheus text is
//! read back: every count, error code, duration count and byte counter matches what was sent.

use std::time::Duration;

use mocopr_core::types::Tool;
use mocopr_core::{ErrorCode, ErrorObject};
use mocopr_metrics::{MetricsCollector, MetricsLayer};
use mocopr_server::{HandlerError, McpServer, StdioConfig, serve_connection};
use mocopr_transport::FramingConfig;
use mocopr_transport::memory::pair;
use serde_json::json;
use tower_layer::Layer;

/// The value of the sample `name{labels…}` whose labels include every `label` pair.
fn sample(text: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    text.lines().filter(|l| !l.starts_with('#')).find_map(|line| {
        let (series, value) = line.rsplit_once(' ')?;
        let (metric, rest) = series.split_once('{').unwrap_or((series, ""));
        let matches = metric == name && labels.iter().all(|(k, v)| rest.contains(&format!("{k}=\"{v}\"")));
        matches.then(|| value.parse().ok()).flatten()
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn counts_errors_durations_and_bytes_match_the_traffic() {
    let server = McpServer::builder()
        .tool(Tool::new("ok"), || async { Ok::<_, HandlerError>("fine") })
        .tool(Tool::new("slow"), || async {
            tokio::time::sleep(Duration::from_millis(30)).await;
            Ok::<_, HandlerError>("late")
        })
        // Codes the protocol does not define (a peer can choose them) must not become labels.
        .tool(Tool::new("odd"), || async {
            Err::<String, _>(HandlerError::Protocol(ErrorObject::new(ErrorCode(-12_345), "odd")))
        })
        .tool(Tool::new("odder"), || async {
            Err::<String, _>(HandlerError::Protocol(ErrorObject::new(ErrorCode(7_777_777), "odder")))
        })
        .build()
        .expect("server");
    let metrics = MetricsCollector::builder()
        .with_counter("custom_total", "A user counter.")
        .with_histogram("custom_seconds", "A user histogram.", vec![0.1, 1.0])
        .build()
        .expect("metrics");
    let service = MetricsLayer::new(metrics.clone()).layer(server);
    let (client_end, server_end) = pair(&FramingConfig::default());
    tokio::spawn(serve_connection(service, server_end.reader, server_end.sink, StdioConfig::default()));
    let client =
        mocopr_client::McpClient::builder().connect(client_end.reader, client_end.sink).await.expect("connect");

    for _ in 0..5 {
        client.call_tool("ok", json!({})).await.expect("call");
    }
    for _ in 0..3 {
        client.list_tools().await.expect("list");
    }
    for _ in 0..2 {
        assert!(client.call_tool("missing", json!({})).await.is_err());
    }
    client.call_tool("slow", json!({})).await.expect("slow call");
    client.request("no/such/method", json!({})).await.expect_err("unknown method");
    client.call_tool("odd", json!({})).await.expect_err("odd code");
    client.call_tool("odder", json!({})).await.expect_err("odder code");
    metrics.counter("custom_total").expect("registered").inc_by(7);
    metrics.histogram("custom_seconds").expect("registered").observe(0.5);
    metrics.track_sessions(|| 3);

    let text = metrics.encode();
    let call_ok = [("method", "tools/call"), ("status", "ok")];
    let call_error = [("method", "tools/call"), ("status", "error")];
    assert_eq!(sample(&text, "mcp_requests_total", &call_ok), Some(6.0), "{text}");
    assert_eq!(sample(&text, "mcp_requests_total", &call_error), Some(4.0));
    assert_eq!(sample(&text, "mcp_errors_total", &[("method", "tools/call"), ("code", "other")]), Some(2.0));
    assert!(!text.contains("12345") && !text.contains("7777777"), "codes outside the protocol are not labels");
    assert_eq!(sample(&text, "mcp_requests_total", &[("method", "tools/list"), ("status", "ok")]), Some(3.0));
    assert_eq!(sample(&text, "mcp_requests_total", &[("method", "other"), ("status", "error")]), Some(1.0));
    assert!(!text.contains("no/such/method"), "unknown methods do not become labels");
    assert_eq!(sample(&text, "mcp_errors_total", &[("method", "tools/call"), ("code", "-32602")]), Some(2.0));
    assert_eq!(sample(&text, "mcp_errors_total", &[("method", "other"), ("code", "-32601")]), Some(1.0));
    assert_eq!(sample(&text, "mcp_request_duration_seconds_count", &call_ok), Some(6.0));
    // The slow call is the only one over 25 ms.
    let under_25ms = sample(&text, "mcp_request_duration_seconds_bucket", &[call_ok[0], call_ok[1], ("le", "0.025")]);
    assert_eq!(under_25ms, Some(5.0), "{text}");
    let total = sample(&text, "mcp_request_duration_seconds_sum", &call_ok).expect("sum");
    assert!(total >= 0.03, "{total}");
    assert_eq!(sample(&text, "mcp_requests_in_flight", &[]), Some(0.0));
    assert!(sample(&text, "mcp_received_bytes_total", &[]).is_some_and(|b| b > 0.0));
    assert!(sample(&text, "mcp_sent_bytes_total", &[]).is_some_and(|b| b > 100.0));
    assert_eq!(sample(&text, "mcp_active_sessions", &[]), Some(3.0));
    assert_eq!(sample(&text, "mcp_custom_total", &[]), Some(7.0));
    assert_eq!(sample(&text, "mcp_custom_seconds_count", &[]), Some(1.0));
}

#[tokio::test]
async fn requests_in_flight_are_counted_while_they_run() {
    let (release, wait) = tokio::sync::oneshot::channel::<()>();
    let wait = std::sync::Arc::new(std::sync::Mutex::new(Some(wait)));
    let server = tower::service_fn(move |request: mocopr_core::service::McpRequest| {
        let wait = wait.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take();
        async move {
            if let Some(wait) = wait {
                let _ = wait.await;
            }
            Ok::<_, std::convert::Infallible>(mocopr_core::service::McpResponse::result(
                request.id,
                mocopr_core::service::RawJson::serialize(&json!({})).expect("json"),
            ))
        }
    });
    let metrics = MetricsCollector::builder().build().expect("metrics");
    let mut service = MetricsLayer::new(metrics.clone()).layer(server);
    let request = || mocopr_core::service::McpRequest::new(1.into(), mocopr_core::service::Method::new("ping"), None);
    let running = tokio::spawn(tower::Service::call(&mut service, request()));
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert_eq!(
        metrics.encode().lines().find(|l| l.starts_with("mcp_requests_in_flight ")),
        Some("mcp_requests_in_flight 1")
    );
    // An abandoned request leaves the count too.
    let abandoned = tower::Service::call(&mut service, request());
    assert!(metrics.encode().contains("mcp_requests_in_flight 2"));
    drop(abandoned);
    let _ = release.send(());
    running.await.expect("task").expect("answered");
    let text = metrics.encode();
    assert!(text.contains("mcp_requests_in_flight 0"));
    assert!(
        text.lines().any(|l| l.starts_with("mcp_requests_total{") && l.contains("\"cancelled\"") && l.ends_with(" 1")),
        "the abandoned request is counted as cancelled: {text}"
    );
}

#[test]
fn a_user_metric_named_like_a_built_in_fails_the_build_naming_the_collision() {
    for (builder, name) in [
        (MetricsCollector::builder().with_counter("requests_total", "Mine."), "mcp_requests_total"),
        (MetricsCollector::builder().with_gauge("active_connections", "Mine."), "mcp_active_connections"),
        (
            MetricsCollector::builder().with_counter("request_duration_seconds_count", "Mine."),
            "mcp_request_duration_seconds_count",
        ),
        (MetricsCollector::builder().with_counter("hits", "A.").with_gauge("hits", "B."), "mcp_hits"),
        // A histogram's own name is taken, not only its series.
        (MetricsCollector::builder().with_counter("request_duration_seconds", "Mine."), "mcp_request_duration_seconds"),
        (MetricsCollector::builder().with_counter("lat", "A.").with_histogram("lat", "B.", vec![1.0]), "mcp_lat"),
    ] {
        let error = builder.build().expect_err("a collision");
        let text = error.to_string();
        assert!(text.contains(name) && text.contains("already"), "{text}");
    }
    // The same names under another namespace, or other names, are fine beside the built-ins.
    let collector = MetricsCollector::builder()
        .with_counter("app_requests_total", "Requests of the app.")
        .with_gauge("app_active_connections", "Connections of the app.")
        .with_histogram("app_request_duration", "Durations of the app.", vec![0.1, 1.0])
        .build()
        .expect("no collision");
    collector.counter("app_requests_total").expect("registered").inc();
    assert!(collector.encode().contains("mcp_app_requests_total 1"));
}
