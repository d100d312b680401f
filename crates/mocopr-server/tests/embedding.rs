//! Embedding and limits: the HTTP endpoint mounted in a user's own axum `Router` beside their
//! routes, and the per-connection bound on requests running at once.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use mocopr_core::types::Tool;
use mocopr_server::{EndpointConfig, HandlerError, McpServer, StdioConfig, serve_connection};
use mocopr_transport::memory::pair;
use mocopr_transport::{FramingConfig, Inbound};

#[tokio::test]
async fn the_endpoint_mounts_in_an_axum_router_beside_other_routes() {
    let server = McpServer::builder()
        .with_name("embedded")
        .tool(Tool::new("hello"), || async { Ok::<_, HandlerError>("hello") })
        .build()
        .expect("server");
    let app = axum::Router::new()
        .route("/health", axum::routing::get(|| async { "ok" }))
        .route_service("/mcp", server.into_http(EndpointConfig::default()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });

    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let body = r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"hello","_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}}}"#;
    let request = format!(
        "POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nMCP-Protocol-Version: 2026-07-28\r\nMcp-Method: tools/call\r\nMcp-Name: hello\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let response = exchange(&mut stream, &request).await;
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.contains("\"text\":\"hello\""), "{response}");

    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let response = exchange(&mut stream, "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").await;
    assert!(response.starts_with("HTTP/1.1 200") && response.ends_with("ok"), "{response}");
}

async fn exchange(stream: &mut tokio::net::TcpStream, request: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut response = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut response))
        .await
        .expect("in time")
        .expect("read");
    String::from_utf8_lossy(&response).into_owned()
}

#[tokio::test]
async fn no_more_than_max_in_flight_requests_run_at_once_on_a_connection() {
    let running = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let (r, p) = (running.clone(), peak.clone());
    let server = McpServer::builder()
        .tool(Tool::new("slow"), move || {
            let (running, peak) = (r.clone(), p.clone());
            async move {
                let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                peak.fetch_max(now, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(20)).await;
                running.fetch_sub(1, Ordering::SeqCst);
                Ok::<_, HandlerError>("done")
            }
        })
        .build()
        .expect("server");
    let config = FramingConfig::default();
    let (mut client, end) = pair(&config);
    tokio::spawn(serve_connection(server, end.reader, end.sink, StdioConfig::builder().with_max_in_flight(3).build()));
    let mut lines = String::new();
    for id in 0..30 {
        lines.push_str(&format!(
            "{{\"jsonrpc\":\"2.0\",\"id\":{id},\"method\":\"tools/call\",\"params\":{{\"name\":\"slow\",\"_meta\":{{\"io.modelcontextprotocol/protocolVersion\":\"2026-07-28\",\"io.modelcontextprotocol/clientCapabilities\":{{}}}}}}}}\n"
        ));
    }
    client.sink.send(Bytes::from(lines)).await.expect("send");
    for _ in 0..30 {
        match tokio::time::timeout(Duration::from_secs(10), client.reader.next()).await {
            Ok(Some(Ok(Inbound::Frame(_)))) => {}
            other => panic!("missing answer: {other:?}"),
        }
    }
    assert_eq!(peak.load(Ordering::SeqCst), 3, "the bound is reached and never exceeded");
}

/// A request body for tool `name` with the modern `_meta`, and the headers it needs.
fn call_tool_request(name: &str, extra_headers: &str, close: bool) -> String {
    let body = format!(
        r#"{{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{{"name":"{name}","_meta":{{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{{}}}}}}}}"#
    );
    let connection = if close { "Connection: close\r\n" } else { "" };
    format!(
        "POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\nMCP-Protocol-Version: 2026-07-28\r\nMcp-Method: tools/call\r\nMcp-Name: {name}\r\n{extra_headers}{connection}Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

/// A value a user's HTTP layer puts in the request's extensions.
#[derive(Clone)]
struct RequestTag(String);

#[tokio::test]
async fn a_principal_set_by_an_http_layer_reaches_the_handler() {
    use mocopr_server::{Principal, RequestCtx};
    let server = McpServer::builder()
        .tool("tag", |ctx: RequestCtx| async move {
            ctx.http_extension::<RequestTag>().map_or_else(|| "untagged".to_owned(), |t| t.0.clone())
        })
        .tool("whoami", |caller: Option<Principal>| async move {
            caller.map_or_else(|| "anonymous".to_owned(), |p| format!("{} {:?}", p.subject(), p.scopes()))
        })
        .tool("private", |caller: Principal| async move { format!("hello {}", caller.subject()) })
        .build()
        .expect("server");
    // The user's own authorization layer: here, a bearer token naming the subject.
    let authenticate =
        axum::middleware::from_fn(|mut request: axum::extract::Request, next: axum::middleware::Next| async move {
            let subject = request
                .headers()
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("Bearer "))
                .map(str::to_owned);
            if let Some(subject) = subject {
                request.extensions_mut().insert(Principal::new(subject).with_scopes(["tools:call"]));
            }
            request.extensions_mut().insert(RequestTag("from-the-layer".into()));
            next.run(request).await
        });
    let app =
        axum::Router::new().route_service("/mcp", server.into_http(EndpointConfig::default())).layer(authenticate);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });

    let ask = |name: &'static str, headers: &'static str| async move {
        let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
        exchange(&mut stream, &call_tool_request(name, headers, true)).await
    };
    let anonymous = ask("whoami", "").await;
    assert!(anonymous.contains("\"text\":\"anonymous\""), "{anonymous}");
    let alice = ask("whoami", "Authorization: Bearer alice\r\n").await;
    assert!(alice.contains(r#""text":"alice [\"tools:call\"]""#), "{alice}");
    let refused = ask("private", "").await;
    assert!(refused.contains("\"code\":-32600") && refused.contains("authenticated caller"), "{refused}");
    let allowed = ask("private", "Authorization: Bearer bob\r\n").await;
    assert!(allowed.contains("\"text\":\"hello bob\""), "{allowed}");
    // Whatever else the layers left in the HTTP request reaches the handler too.
    let tagged = ask("tag", "").await;
    assert!(tagged.contains("\"text\":\"from-the-layer\""), "{tagged}");
}

#[tokio::test]
async fn the_listener_closes_idle_connections_but_not_busy_ones() {
    use mocopr_server::{ListenerConfig, serve_http};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let server = McpServer::builder()
        .tool("quick", || async { "quick" })
        .tool("slow", || async {
            tokio::time::sleep(Duration::from_millis(600)).await;
            "slow"
        })
        .build()
        .expect("server");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let config = ListenerConfig::builder().with_connection_timeout(Some(Duration::from_millis(200))).build();
    let endpoint = server.into_http(EndpointConfig::default());
    tokio::spawn(serve_http(listener, endpoint).with_path("/mcp").with_config(config).into_future());

    // A request that takes three times the idle limit is answered on its keep-alive connection.
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    stream.write_all(call_tool_request("slow", "", false).as_bytes()).await.expect("write");
    let mut buffer = vec![0; 4096];
    let read =
        tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buffer)).await.expect("answer").expect("read");
    let answer = String::from_utf8_lossy(&buffer[..read]).into_owned();
    assert!(answer.starts_with("HTTP/1.1 200") && answer.contains("slow"), "{answer}");
    // Then, idle, the connection is closed after the limit.
    let started = std::time::Instant::now();
    let read =
        tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buffer)).await.expect("closed").expect("read");
    assert_eq!(read, 0, "the idle connection was closed");
    assert!(started.elapsed() >= Duration::from_millis(150), "not before the limit: {:?}", started.elapsed());

    // A connection that never sends a request is closed too.
    let mut idle = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let read =
        tokio::time::timeout(Duration::from_secs(5), idle.read(&mut buffer)).await.expect("closed").expect("read");
    assert_eq!(read, 0);
}

#[tokio::test]
async fn large_responses_are_compressed_for_clients_that_accept_it() {
    use mocopr_server::{ListenerConfig, serve_http};
    use std::io::Read as _;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let big = "compressible text. ".repeat(4096);
    let server = McpServer::builder()
        .tool("big", move || {
            let big = big.clone();
            async move { big }
        })
        .tool("small", || async { "hi" })
        .build()
        .expect("server");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let config = ListenerConfig::builder().with_compression_threshold(Some(1024)).build();
    tokio::spawn(serve_http(listener, server.into_http(EndpointConfig::default())).with_config(config).into_future());

    let ask_for = |tool: &'static str, headers: &'static str| async move {
        let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
        let request = call_tool_request(tool, headers, true)
            .replace("Accept: application/json, text/event-stream", "Accept: application/json");
        stream.write_all(request.as_bytes()).await.expect("write");
        let mut raw = Vec::new();
        tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut raw))
            .await
            .expect("in time")
            .expect("read");
        let split = raw.windows(4).position(|w| w == b"\r\n\r\n").expect("headers") + 4;
        (String::from_utf8_lossy(&raw[..split]).to_lowercase(), raw[split..].to_vec())
    };
    let ask = |headers: &'static str| ask_for("big", headers);
    let (plain_head, plain) = ask("").await;
    assert!(!plain_head.contains("content-encoding"), "{plain_head}");
    // Compressible, so caches are told the answer depends on Accept-Encoding.
    assert!(plain_head.contains("vary: accept-encoding"), "{plain_head}");
    // Under the threshold: served as it is, whatever the client accepts.
    let (small_head, small) = ask_for("small", "Accept-Encoding: gzip\r\n").await;
    assert!(small_head.starts_with("http/1.1 200"), "{small_head}");
    assert!(!small_head.contains("content-encoding") && !small_head.contains("vary"), "{small_head}");
    assert!(String::from_utf8_lossy(&small).contains(r#""text":"hi""#), "{}", String::from_utf8_lossy(&small));
    let (gzip_head, gzip) = ask("Accept-Encoding: gzip\r\n").await;
    assert!(gzip_head.contains("content-encoding: gzip"), "{gzip_head}");
    assert!(gzip.len() * 10 < plain.len(), "{} compressed vs {} plain", gzip.len(), plain.len());
    // Chunked transfer: undo the chunk framing, then the gzip.
    let mut body = Vec::new();
    let mut rest = &gzip[..];
    loop {
        let line_end = rest.windows(2).position(|w| w == b"\r\n").expect("chunk size");
        let size = usize::from_str_radix(std::str::from_utf8(&rest[..line_end]).expect("hex"), 16).expect("size");
        if size == 0 {
            break;
        }
        body.extend_from_slice(&rest[line_end + 2..line_end + 2 + size]);
        rest = &rest[line_end + 4 + size..];
    }
    let mut text = String::new();
    flate2::read::GzDecoder::new(&body[..]).read_to_string(&mut text).expect("valid gzip");
    assert!(text.contains("compressible text. compressible text."), "{}", &text[..text.len().min(200)]);
    let (zstd_head, _) = ask("Accept-Encoding: zstd\r\n").await;
    assert!(zstd_head.contains("content-encoding: zstd"), "{zstd_head}");
    let (br_head, _) = ask("Accept-Encoding: br\r\n").await;
    assert!(br_head.contains("content-encoding: br"), "{br_head}");
}
