//! Requests per second over HTTP with 32 keep-alive connections, 100-byte payloads: MoCoPr's
//! `echo-server http` beside a bare hyper echo (`bare-http-echo`), and `auth-server` (the same
//! echo tool behind the OAuth resource-server layer, every request with a JWT checked against
//! a test authorization server's keys), all child processes driven by the same hyper client.
//! `echo-server` is measured twice, the second time sent the auth server's requests (token
//! included), so that the layer's cost shows apart from the token's bytes. Also prints each
//! server's peak RSS and its CPU time per request (the figure to compare on a
//! noisy machine: see [`cpu_time`]).
//!
//! `cargo bench -p mocopr-benches --bench http_throughput`

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use bytes::Bytes;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use mocopr_benches::{cpu_time, echo_call_line, example_binary, payload_100, peak_rss_kib};
use mocopr_testing::TestAuthorizationServer;

const CONNECTIONS: u64 = 32;
const PER_ITERATION: u64 = 6_400;

struct Server {
    child: Child,
    url: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_bare() -> Server {
    let mut child = Command::new(env!("CARGO_BIN_EXE_bare-http-echo")).stdout(Stdio::piped()).spawn().expect("spawn");
    let mut line = String::new();
    let _ = BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut line);
    Server { child, url: format!("http://{}/mcp", line.trim()) }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("port")
}

fn start_mocopr() -> Server {
    let port = free_port();
    let child = Command::new(example_binary("echo-server"))
        .args(["http", "--bind", &format!("127.0.0.1:{port}")])
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    wait_for(Server { child, url: format!("http://127.0.0.1:{port}/mcp") }, port)
}

/// `auth-server` trusting `issuer`, and a token it accepts for `tools/call`.
fn start_auth(issuer: &TestAuthorizationServer) -> (Server, String) {
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}/mcp");
    let child = Command::new(example_binary("auth-server"))
        .args(["--bind", &format!("127.0.0.1:{port}"), "--issuer", issuer.issuer(), "--resource", &url])
        .args(["--scope", "mcp:tools"])
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let token = issuer.token(&issuer.claims("bench", &url, &["mcp:tools"])).expect("token");
    (wait_for(Server { child, url }, port), token)
}

fn wait_for(server: Server, port: u16) -> Server {
    for _ in 0..200 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    server
}

async fn drive(url: &str, token: Option<&str>, total: u64) -> Duration {
    // Made once: the driver's cost per request stays what it is without a token.
    let authorization = token.map(|t| hyper::header::HeaderValue::try_from(format!("Bearer {t}")).expect("header"));
    let client: Client<_, Full<Bytes>> = Client::builder(TokioExecutor::new()).pool_max_idle_per_host(64).build_http();
    let text = payload_100();
    let start = Instant::now();
    let per_connection = total / CONNECTIONS;
    let tasks = (0..CONNECTIONS).map(|c| {
        let client = client.clone();
        let url = url.to_owned();
        let text = text.clone();
        let authorization = authorization.clone();
        tokio::spawn(async move {
            for i in 0..per_connection {
                let body = echo_call_line(c * per_connection + i, &text);
                let mut request = Request::post(&url);
                if let Some(authorization) = &authorization {
                    request = request.header("authorization", authorization);
                }
                let request = request
                    .header("content-type", "application/json")
                    .header("accept", "application/json, text/event-stream")
                    .header("mcp-protocol-version", "2026-07-28")
                    .header("mcp-method", "tools/call")
                    .header("mcp-name", "echo")
                    .body(Full::new(Bytes::from(body)))
                    .expect("request");
                let response = client.request(request).await.expect("response");
                assert!(response.status().is_success());
                let _ = response.into_body().collect().await;
            }
        })
    });
    for task in tasks.collect::<Vec<_>>() {
        let _ = task.await;
    }
    start.elapsed()
}

fn bench(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let mut group = c.benchmark_group("http_echo_32_connections");
    group.throughput(Throughput::Elements(PER_ITERATION));
    group.sample_size(10).measurement_time(Duration::from_secs(8));
    // Its keys are fetched once, by the first request (the runtime serves it meanwhile).
    let issuer = runtime.block_on(TestAuthorizationServer::start()).expect("authorization server");
    let (auth, token) = start_auth(&issuer);
    // The echo server is also sent the very requests the auth server gets, token included (it
    // ignores the header): beside it, the auth server's figure is the layer's cost alone, not
    // the bytes a bearer token adds to each request.
    let servers = [
        ("bare_hyper", start_bare(), None),
        ("mocopr_echo_server", start_mocopr(), None),
        ("mocopr_echo_server_sent_the_token", start_mocopr(), Some(token.clone())),
        ("mocopr_auth_server", auth, Some(token)),
    ];
    for (label, server, token) in &servers {
        let pid = server.child.id();
        let cpu_before = cpu_time(pid);
        let mut requests = 0;
        group.bench_function(*label, |b| {
            b.iter_custom(|iterations| {
                requests += iterations * PER_ITERATION;
                runtime.block_on(drive(&server.url, token.as_deref(), iterations * PER_ITERATION))
            })
        });
        println!("peak RSS of {label}: {} KiB", peak_rss_kib(pid).unwrap_or(0));
        if let (Some(before), Some(after)) = (cpu_before, cpu_time(pid)) {
            let per_request = |time: Duration| time.as_secs_f64() * 1e6 / requests.max(1) as f64;
            let (user, system) = (per_request(after.user - before.user), per_request(after.system - before.system));
            println!(
                "server CPU per request of {label}: {:.2} µs (user {user:.2}, system {system:.2}; {requests} requests)",
                user + system
            );
        }
    }
    group.finish();
}

criterion_group! {
    name = benches;
    // `--profile-time N` writes a flamegraph per benchmark (`cargo xtask flamegraph --bench NAME`).
    config = mocopr_benches::criterion();
    targets = bench
}
criterion_main!(benches);
