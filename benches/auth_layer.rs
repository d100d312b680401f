//! What the resource-server layer (`mocopr-auth`) costs per request once a token is known:
//! one HTTP `tools/call` request carrying a JWT-sized bearer token, through a service that
//! answers at once, bare and behind the layer (the token's verdict cached, as it is for every
//! request after a client's first). In process, on one thread: no network, no scheduler, only
//! the layer's own work (header parsing, the verdict lookup, the scope checks, the request's
//! rewriting), which the HTTP throughput bench sees diluted in everything else.
//!
//! `cargo bench -p mocopr-benches --bench auth_layer`

use std::convert::Infallible;

use bytes::Bytes;
use criterion::{Criterion, criterion_group, criterion_main};
use futures_util::future::BoxFuture;
use http_body_util::Full;
use mocopr_auth::{ResourceServer, TokenError, TokenVerifier, Verified};
use mocopr_core::connection::ConnectionState;
use mocopr_core::principal::Principal;
use tower::ServiceExt;
use tower_layer::Layer;

/// A token as long as a typical RS256 JWT (header, a dozen claims, a 2048-bit signature).
fn token() -> String {
    let part = |n: usize| "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_".chars().cycle().take(n).collect::<String>();
    format!("{}.{}.{}", part(36), part(290), part(342))
}

/// Accepts the one token, with the scope the policy names.
struct OneToken(String);

impl TokenVerifier for OneToken {
    fn verify<'a>(&'a self, token: &'a str) -> BoxFuture<'a, Result<Verified, TokenError>> {
        let accepted = token == self.0;
        Box::pin(async move {
            if accepted {
                let principal = Principal::new("alice").with_scopes(["mcp:tools"]);
                Ok(Verified::new(principal, None))
            } else {
                Err(TokenError::Invalid("unknown token"))
            }
        })
    }
}

/// The request, with the connection's state `serve_http` hands every request (none when the
/// service is mounted elsewhere).
fn request(token: &str, connection: Option<&ConnectionState>) -> http::Request<Full<Bytes>> {
    let body =
        br#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"text":"hello"}}}"#;
    let mut request = http::Request::post("/mcp")
        .header("host", "127.0.0.1:8080")
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2026-07-28")
        .header("authorization", format!("Bearer {token}"))
        .body(Full::new(Bytes::from_static(body)))
        .expect("request");
    if let Some(connection) = connection {
        request.extensions_mut().insert(connection.clone());
    }
    request
}

/// Answers every request with an empty 200, whatever its body type.
#[derive(Clone)]
struct Answer;

impl<B> tower_service::Service<http::Request<B>> for Answer {
    type Response = http::Response<Full<Bytes>>;
    type Error = Infallible;
    type Future = std::future::Ready<Result<Self::Response, Infallible>>;

    fn poll_ready(&mut self, _: &mut std::task::Context<'_>) -> std::task::Poll<Result<(), Infallible>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let status = if request.extensions().get::<Principal>().is_some() { 200 } else { 204 };
        std::future::ready(Ok(http::Response::builder()
            .status(status)
            .body(Full::new(Bytes::new()))
            .expect("response")))
    }
}

fn auth_layer(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let token = token();
    let auth = ResourceServer::builder("https://mcp.example.com/mcp")
        .with_authorization_server("https://auth.example.com")
        .with_verifier(OneToken(token.clone()))
        .with_method_scopes("tools/call", ["mcp:tools"])
        .build()
        .expect("resource server");
    let layered = auth.layer(Answer);
    let connection = ConnectionState::new();
    for connection in [None, Some(&connection)] {
        let answered = runtime.block_on(layered.clone().oneshot(request(&token, connection))).expect("infallible");
        assert_eq!(answered.status(), 200, "the layer lets the token through, with its principal");
        let refused = runtime.block_on(layered.clone().oneshot(request("other", connection))).expect("infallible");
        assert_eq!(refused.status(), 401, "and refuses another");
    }

    let mut group = c.benchmark_group("auth_layer/cached_token");
    group.bench_function("bare", |b| {
        b.to_async(&runtime).iter(|| Answer.oneshot(request(&token, Some(&connection))));
    });
    // Mounted elsewhere (an axum router): the verdict cache.
    group.bench_function("layered_without_connection_state", |b| {
        b.to_async(&runtime).iter(|| layered.clone().oneshot(request(&token, None)));
    });
    // Served by `serve_http`: the connection's last token.
    group.bench_function("layered", |b| {
        b.to_async(&runtime).iter(|| layered.clone().oneshot(request(&token, Some(&connection))));
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = mocopr_benches::criterion();
    targets = auth_layer
}
criterion_main!(benches);
