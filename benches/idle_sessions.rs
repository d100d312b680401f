//! Resident memory of 100,000 idle legacy sessions held in memory: the HTTP endpoint is called
//! in process (no sockets, so only the sessions stay), each session made by a real `initialize`
//! and `notifications/initialized` and then left alone. Prints the growth of the process's
//! resident set and the cost per session; fails above the budget of 200 MB.
//!
//! `cargo bench -p mocopr-benches --bench idle_sessions`

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use mocopr_server::{Args, McpServer};
use mocopr_transport::http::EndpointConfig;
use tower::ServiceExt;

const SESSIONS: usize = 100_000;
/// Made (and kept) before the baseline, so the allocator's and the store's first growth are not
/// counted as the sessions'.
const WARM_UP: usize = 1_000;
const BUDGET_BYTES: u64 = 200 * 1000 * 1000;

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct Text {
    text: String,
}

/// The process's resident set now, in bytes (`VmRSS`), on Linux.
fn resident_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse::<u64>().ok().map(|kib| kib * 1024)
}

fn post(body: &'static str, session: Option<&http::HeaderValue>) -> http::Request<Full<Bytes>> {
    let mut request = http::Request::post("/mcp")
        .header("host", "127.0.0.1")
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream");
    if let Some(session) = session {
        request = request.header("mcp-session-id", session).header("mcp-protocol-version", "2025-11-25");
    }
    request.body(Full::new(Bytes::from_static(body.as_bytes()))).expect("a request")
}

const INITIALIZE: &str = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{"roots":{"listChanged":true},"sampling":{}},"clientInfo":{"name":"an-agent","version":"1.4.2"}}}"#;
const LIST_TOOLS: &str = r#"{"jsonrpc":"2.0","id":2,"method":"tools/list"}"#;
const INITIALIZED: &str = r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#;

fn main() {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    runtime.block_on(async {
        let server = McpServer::builder()
            .with_name("idle-sessions")
            .tool("echo", |Args(t): Args<Text>| async move { t.text })
            .build()
            .expect("server");
        let config = EndpointConfig::builder()
            .with_max_sessions(SESSIONS + WARM_UP)
            .with_max_session_bytes(1 << 30)
            .build();
        let endpoint = server.into_http(config);
        let open = |count: usize| {
            let endpoint = endpoint.clone();
            async move {
                let mut first = None;
                for n in 0..count {
                    let answer = endpoint.clone().oneshot(post(INITIALIZE, None)).await.expect("infallible");
                    let session = answer.headers().get("mcp-session-id").cloned();
                    let session = session.unwrap_or_else(|| panic!("session {n} was refused: {}", answer.status()));
                    let _ = answer.into_body().collect().await;
                    let done = endpoint.clone().oneshot(post(INITIALIZED, Some(&session))).await.expect("infallible");
                    assert!(done.status().is_success(), "notifications/initialized: {}", done.status());
                    first.get_or_insert(session);
                }
                first.expect("at least one session")
            }
        };
        open(WARM_UP).await;
        let before = resident_bytes().expect("VmRSS");
        let started = std::time::Instant::now();
        let oldest = open(SESSIONS).await;
        let after = resident_bytes().expect("VmRSS");
        // The oldest session measured is still there: none was evicted to make room.
        let answer = endpoint.clone().oneshot(post(LIST_TOOLS, Some(&oldest))).await.expect("infallible");
        let body = answer.into_body().collect().await.expect("a body").to_bytes();
        assert!(body.windows(6).any(|w| w == b"\"echo\""), "{}", String::from_utf8_lossy(&body));
        let grown = after.saturating_sub(before);
        println!(
            "{SESSIONS} idle legacy sessions: resident set {:.1} MB -> {:.1} MB, +{:.1} MB ({:.0} bytes per session; made in {:.1} s)",
            before as f64 / 1e6,
            after as f64 / 1e6,
            grown as f64 / 1e6,
            grown as f64 / SESSIONS as f64,
            started.elapsed().as_secs_f64()
        );
        assert!(grown <= BUDGET_BYTES, "over the budget of {} MB", BUDGET_BYTES / 1_000_000);
        drop(endpoint);
    });
}
