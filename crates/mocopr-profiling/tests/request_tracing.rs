//! Request tracing: only requests over the threshold are logged as slow, with their method, id
//! and era (the span's OpenTelemetry attributes are held by `trace_export.rs`).

mod support;

use std::io::Write;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use mocopr_profiling::Profiler;
use serde_json::json;
use tower_layer::Layer;

/// Log lines written by the subscriber, kept for the test to read.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn slow_requests_are_logged_with_their_method_id_and_era() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::WARN)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _default = tracing::subscriber::set_default(subscriber);

    let profiler = Profiler::builder().with_request_tracing(Duration::from_millis(500)).build();
    let service = profiler.request_tracing().expect("tracing on").layer(support::server());
    let client = support::connect(service).await;
    for _ in 0..5 {
        client.call_tool("echo", json!({})).await.expect("fast call");
    }
    client.call_tool("nap", json!({})).await.expect("slow call");

    let text = String::from_utf8(captured.0.lock().unwrap_or_else(PoisonError::into_inner).clone()).expect("utf-8");
    let slow: Vec<&str> = text.lines().filter(|l| l.contains("slow MCP request")).collect();
    assert_eq!(slow.len(), 1, "only the slow call: {text}");
    let line = slow[0];
    assert!(line.contains("method=\"tools/call\"") || line.contains("method=tools/call"), "{line}");
    assert!(line.contains("era=\"modern\"") || line.contains("era=modern"), "{line}");
    assert!(line.contains("duration_us="), "{line}");
    assert!(Profiler::builder().build().request_tracing().is_none(), "off unless asked for");
}
