//! Tracing that joins the caller's trace, end to end: a client call inside an application span,
//! over real HTTP on loopback, to a server behind `RequestTracingLayer`, with every span
//! exported by `OtlpTracing` to an OTLP/HTTP receiver started here, which decodes the protobuf
//! it receives. The server's span must be the client span's child in the caller's trace, named
//! and attributed after OpenTelemetry's MCP conventions; a `traceparent` a caller wrote into
//! `_meta` itself must be the server span's parent as given.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use mocopr_core::ProtocolVersion;
use mocopr_core::types::Tool;
use mocopr_profiling::{OtlpTracing, RequestTracingLayer};
use mocopr_server::{EndpointConfig, HandlerError, McpServer, StreamableHttpService, serve_http};
use opentelemetry::trace::TraceContextExt;
use opentelemetry_proto::tonic::collector::trace::v1::{ExportTraceServiceRequest, ExportTraceServiceResponse};
use opentelemetry_proto::tonic::common::v1::any_value::Value as AnyValue;
use opentelemetry_proto::tonic::trace::v1::span::SpanKind;
use opentelemetry_proto::tonic::trace::v1::status::StatusCode;
use prost::Message;
use serde_json::json;
use tower_layer::Layer;
use tracing::Instrument;
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::layer::SubscriberExt;

/// One span as the receiver decoded it.
#[derive(Debug, Clone)]
struct Received {
    name: String,
    kind: i32,
    trace_id: Vec<u8>,
    span_id: Vec<u8>,
    parent_span_id: Vec<u8>,
    status: i32,
    attributes: HashMap<String, String>,
    service: String,
}

type Spans = Arc<Mutex<Vec<Received>>>;

fn text(value: Option<&AnyValue>) -> String {
    match value {
        Some(AnyValue::StringValue(s)) => s.clone(),
        Some(AnyValue::IntValue(i)) => i.to_string(),
        Some(AnyValue::BoolValue(b)) => b.to_string(),
        other => format!("{other:?}"),
    }
}

fn decode(body: &[u8]) -> Vec<Received> {
    let request = ExportTraceServiceRequest::decode(body).expect("an OTLP ExportTraceServiceRequest");
    let mut spans = Vec::new();
    for resource_spans in request.resource_spans {
        let service = resource_spans
            .resource
            .iter()
            .flat_map(|r| &r.attributes)
            .find(|kv| kv.key == "service.name")
            .map(|kv| text(kv.value.as_ref().and_then(|v| v.value.as_ref())))
            .unwrap_or_default();
        for span in resource_spans.scope_spans.into_iter().flat_map(|s| s.spans) {
            let attributes = span
                .attributes
                .iter()
                .map(|kv| (kv.key.clone(), text(kv.value.as_ref().and_then(|v| v.value.as_ref()))))
                .collect();
            spans.push(Received {
                name: span.name,
                kind: span.kind,
                trace_id: span.trace_id,
                span_id: span.span_id,
                parent_span_id: span.parent_span_id,
                status: span.status.map_or(0, |s| s.code),
                attributes,
                service: service.clone(),
            });
        }
    }
    spans
}

/// An OTLP/HTTP receiver on its own thread and runtime (the exporter's flush blocks the thread
/// that calls it), keeping every span it decodes.
fn start_receiver() -> (SocketAddr, Spans) {
    let spans = Spans::default();
    let kept = spans.clone();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    listener.set_nonblocking(true).expect("nonblocking");
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
            loop {
                let Ok((stream, _)) = listener.accept().await else { continue };
                let kept = kept.clone();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |request: hyper::Request<hyper::body::Incoming>| {
                        let kept = kept.clone();
                        async move {
                            assert_eq!(request.uri().path(), "/v1/traces");
                            let body = request.into_body().collect().await.expect("body").to_bytes();
                            kept.lock().unwrap_or_else(PoisonError::into_inner).extend(decode(&body));
                            let answer = ExportTraceServiceResponse::default().encode_to_vec();
                            Ok::<_, Infallible>(
                                hyper::Response::builder()
                                    .header("content-type", "application/x-protobuf")
                                    .body(Full::new(Bytes::from(answer)))
                                    .expect("response"),
                            )
                        }
                    });
                    let io = hyper_util::rt::TokioIo::new(stream);
                    let _ = hyper::server::conn::http1::Builder::new().serve_connection(io, service).await;
                });
            }
        });
    });
    (addr, spans)
}

fn server() -> McpServer {
    server_of(McpServer::builder())
}

fn server_of(builder: mocopr_server::McpServerBuilder) -> McpServer {
    builder
        .tool(Tool::new("echo"), || async { Ok::<_, HandlerError>("echo") })
        .tool(Tool::new("fails"), || async { Err::<String, _>(HandlerError::new("it always fails")) })
        .build()
        .expect("server")
}

/// Flushes until `wanted` spans have arrived (spans are exported once they close, which is
/// after the answer went out), or fails after ten seconds.
async fn collect(otlp: &OtlpTracing, spans: &Spans, wanted: impl Fn(&[Received]) -> bool) -> Vec<Received> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let flusher = otlp.clone();
        tokio::task::spawn_blocking(move || flusher.flush()).await.expect("flush task").expect("flushed");
        let now = spans.lock().unwrap_or_else(PoisonError::into_inner).clone();
        if wanted(&now) {
            return now;
        }
        assert!(Instant::now() < deadline, "spans never arrived: {now:#?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn find<'a>(spans: &'a [Received], name: &str, kind: SpanKind) -> Option<&'a Received> {
    spans.iter().find(|s| s.name == name && s.kind == kind as i32)
}

fn exporter(receiver: SocketAddr) -> OtlpTracing {
    OtlpTracing::builder()
        .with_endpoint(format!("http://{receiver}/v1/traces"))
        .with_service_name("trace-test")
        .build()
        .expect("exporter")
}

/// `server` behind the tracing layer, served over HTTP on loopback, and a client of it.
async fn serve_and_connect(server: McpServer) -> mocopr_client::McpClient {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}/mcp", listener.local_addr().expect("addr"));
    let traced = RequestTracingLayer::new(Duration::from_secs(5)).layer(server);
    let endpoint = StreamableHttpService::new(traced, EndpointConfig::default());
    tokio::spawn(serve_http(listener, endpoint).with_path("/mcp").into_future());
    mocopr_client::McpClient::builder().connect_http(&url).await.expect("connect")
}

#[tokio::test(flavor = "current_thread")]
async fn a_tool_call_is_one_trace_from_the_caller_through_the_server() {
    let (receiver, spans) = start_receiver();
    let otlp = exporter(receiver);
    let subscriber = tracing_subscriber::registry().with(otlp.layer());
    let _default = tracing::subscriber::set_default(subscriber);
    let client = serve_and_connect(server()).await;

    let turn = tracing::info_span!("agent turn");
    let turn_trace = turn.context().span().span_context().trace_id().to_bytes().to_vec();
    let turn_id = turn.context().span().span_context().span_id().to_bytes().to_vec();
    async {
        client.call_tool("echo", json!({})).await.expect("echo");
        let failed = client.call_tool("fails", json!({})).await.expect("a tool error is a result");
        assert_eq!(failed.is_error, Some(true));
        client.call_tool("missing", json!({})).await.expect_err("an unknown tool is a JSON-RPC error");
    }
    .instrument(turn.clone())
    .await;
    drop(turn);

    // A traceparent the caller wrote itself (the conventions' own example) is the parent as given.
    let given = json!({"name": "echo", "arguments": {}, "_meta": {
        "traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "tracestate": "rojo=00f067aa0ba902b7",
    }});
    client.request("tools/call", given).await.expect("echo with a given traceparent");
    // One that is not a trace context (a megabyte of dashes) is no parent, and costs nothing.
    let junk = json!({"name": "fails", "arguments": {}, "_meta": {"traceparent": "-".repeat(1 << 20)}});
    client.request("tools/call", junk).await.expect("a call with a junk traceparent is served");

    let spans = collect(&otlp, &spans, |spans| {
        spans.iter().filter(|s| s.kind == SpanKind::Server as i32 && s.name.starts_with("tools/call")).count() >= 5
            && spans.iter().any(|s| s.name == "agent turn")
    })
    .await;

    // The client's span is the turn's child, the server's span the client span's child.
    let client_echo = spans
        .iter()
        .find(|s| s.name == "tools/call echo" && s.kind == SpanKind::Client as i32 && s.trace_id == turn_trace)
        .expect("the client's echo span in the turn's trace");
    assert_eq!(client_echo.trace_id, turn_trace, "{client_echo:#?}");
    assert_eq!(client_echo.parent_span_id, turn_id);
    let server_spans: Vec<&Received> = spans
        .iter()
        .filter(|s| s.name == "tools/call echo" && s.kind == SpanKind::Server as i32 && s.trace_id == turn_trace)
        .collect();
    assert_eq!(server_spans.len(), 1, "one server span for the echo call in the turn's trace: {spans:#?}");
    let server_echo = server_spans[0];
    assert_eq!(server_echo.parent_span_id, client_echo.span_id, "the server span is the client span's child");
    assert_eq!(server_echo.service, "trace-test");
    let attribute = |span: &Received, key: &str| span.attributes.get(key).cloned().unwrap_or_default();
    assert_eq!(attribute(server_echo, "mcp.method.name"), "tools/call");
    assert_eq!(attribute(server_echo, "gen_ai.tool.name"), "echo");
    assert_eq!(attribute(server_echo, "gen_ai.operation.name"), "execute_tool");
    assert_eq!(attribute(server_echo, "mcp.protocol.version"), "2026-07-28");
    assert!(!attribute(server_echo, "jsonrpc.request.id").is_empty(), "{server_echo:#?}");
    assert!(!server_echo.attributes.contains_key("error.type"));
    assert_eq!(attribute(client_echo, "gen_ai.tool.name"), "echo");

    // A tool error and a JSON-RPC error, on both sides.
    let tool_error = spans
        .iter()
        .find(|s| s.name == "tools/call fails" && s.kind == SpanKind::Server as i32 && s.trace_id == turn_trace)
        .expect("the failing call's server span");
    assert_eq!(attribute(tool_error, "error.type"), "tool_error");
    assert_eq!(tool_error.status, StatusCode::Error as i32);
    assert_eq!(tool_error.trace_id, turn_trace);
    let missing = find(&spans, "tools/call missing", SpanKind::Server).expect("the unknown tool's server span");
    assert_eq!(attribute(missing, "error.type"), "-32602", "{missing:#?}");
    assert_eq!(attribute(missing, "rpc.response.status_code"), "-32602");
    assert_eq!(missing.status, StatusCode::Error as i32);
    let missing_client = find(&spans, "tools/call missing", SpanKind::Client).expect("the unknown tool's client span");
    assert_eq!(attribute(missing_client, "error.type"), "-32602");

    let given_trace = hex("4bf92f3577b34da6a3ce929d0e0e4736");
    let given_span = spans
        .iter()
        .find(|s| s.kind == SpanKind::Server as i32 && s.trace_id == given_trace)
        .expect("the server span of the call with a given traceparent");
    assert_eq!(given_span.parent_span_id, hex("00f067aa0ba902b7"));
    assert_eq!(given_span.name, "tools/call echo");

    // The client keeps a traceparent the caller wrote, junk too; the server adopts none of it:
    // that call's server span starts a trace of its own.
    let junk_server = spans
        .iter()
        .find(|s| s.name == "tools/call fails" && s.kind == SpanKind::Server as i32 && s.trace_id != turn_trace)
        .expect("the junk call's server span");
    assert!(junk_server.parent_span_id.is_empty(), "no parent from junk: {junk_server:#?}");

    otlp.shutdown().expect("shut down");
}

#[tokio::test(flavor = "current_thread")]
async fn a_legacy_request_span_names_its_revision_and_no_session() {
    let (receiver, spans) = start_receiver();
    let otlp = exporter(receiver);
    let subscriber = tracing_subscriber::registry().with(otlp.layer());
    let _default = tracing::subscriber::set_default(subscriber);
    let legacy = server_of(McpServer::builder().with_protocol_versions(&[ProtocolVersion::V2025_11_25]));
    let client = serve_and_connect(legacy).await;
    client.call_tool("echo", json!({})).await.expect("echo in a legacy session");

    let spans = collect(&otlp, &spans, |spans| find(spans, "tools/call echo", SpanKind::Server).is_some()).await;
    let server_echo = find(&spans, "tools/call echo", SpanKind::Server).expect("the server span");
    assert_eq!(server_echo.attributes.get("mcp.protocol.version").map(String::as_str), Some("2025-11-25"));
    let client_echo = find(&spans, "tools/call echo", SpanKind::Client).expect("the client span");
    assert_eq!(server_echo.parent_span_id, client_echo.span_id, "legacy requests carry the context too");
    for span in &spans {
        assert!(
            span.attributes.keys().all(|key| !key.contains("session")),
            "no span records the session id: {span:#?}"
        );
    }
    otlp.shutdown().expect("shut down");
}

fn hex(text: &str) -> Vec<u8> {
    (0..text.len()).step_by(2).map(|i| u8::from_str_radix(&text[i..i + 2], 16).expect("hex")).collect()
}
