//! What a connection remembers of its tokens, over real HTTP on loopback: two resource
//! servers (each its own audience and verifier) behind one `serve_http` listener, one client
//! connection (counted by a proxy). A token one of them accepted is nothing to the other; a
//! token that differs from the remembered one by a byte is refused; each server's last token
//! is recognized on its own.

use std::convert::Infallible;
use std::future::IntoFuture;

use bytes::Bytes;
use futures_util::future::BoxFuture;
use http_body_util::{Either, Full};
use mocopr_auth::{ResourceServer, TokenError, TokenVerifier, Verified};
use mocopr_core::principal::Principal;
use mocopr_server::serve_http;
use mocopr_testing::CountingProxy;
use tower_layer::Layer;

/// Accepts one token, for one subject, and counts its calls.
struct Only {
    token: &'static str,
    subject: &'static str,
}

impl TokenVerifier for Only {
    fn verify<'a>(&'a self, token: &'a str) -> BoxFuture<'a, Result<Verified, TokenError>> {
        let accepted = token == self.token;
        Box::pin(async move {
            match accepted {
                true => Ok(Verified::new(Principal::new(self.subject), None)),
                false => Err(TokenError::Invalid("not this server's token")),
            }
        })
    }
}

/// Answers with the subject of the request's principal.
async fn whoami(
    request: http::Request<Either<axum::body::Body, Full<Bytes>>>,
) -> Result<http::Response<Full<Bytes>>, Infallible> {
    let subject = request.extensions().get::<Principal>().map_or("nobody", |p| p.subject()).to_owned();
    Ok(http::Response::new(Full::new(Bytes::from(subject))))
}

fn protected(resource: &str, token: &'static str, subject: &'static str) -> ResourceServer {
    ResourceServer::builder(resource)
        .with_authorization_server("https://auth.example.com")
        .with_verifier(Only { token, subject })
        .build()
        .expect("resource server")
}

#[tokio::test]
async fn a_token_accepted_by_one_resource_server_is_judged_anew_by_another_on_the_same_connection() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let a = protected(&format!("http://127.0.0.1:{port}/a"), "token-a", "alice");
    let b = protected(&format!("http://127.0.0.1:{port}/b"), "token-b", "bob");
    let router = axum::Router::new()
        .route_service("/a", a.layer(tower::service_fn(whoami)))
        .route_service("/b", b.layer(tower::service_fn(whoami)));
    tokio::spawn(serve_http(listener, router).into_future());
    let proxy = CountingProxy::start(port).await.unwrap();
    let client = reqwest::Client::builder().http1_only().pool_max_idle_per_host(1).build().unwrap();
    let send = |path: &'static str, token: &str| {
        let request = client
            .post(format!("http://127.0.0.1:{}/{path}", proxy.port()))
            .bearer_auth(token)
            .body(r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#);
        async move {
            let response = request.send().await.expect("answered");
            (response.status().as_u16(), response.text().await.expect("body"))
        }
    };
    assert_eq!(send("a", "token-a").await, (200, "alice".to_owned()));
    assert_eq!(send("a", "token-a").await, (200, "alice".to_owned()));
    assert_eq!(send("b", "token-a").await.0, 401, "b never accepted token-a");
    assert_eq!(send("a", "token-b").await.0, 401);
    assert_eq!(send("a", "token-ab").await.0, 401, "a token that differs from the remembered one");
    assert_eq!(send("a", "token-").await.0, 401, "a prefix of the remembered one");
    assert_eq!(send("b", "token-b").await, (200, "bob".to_owned()));
    assert_eq!(send("a", "token-a").await, (200, "alice".to_owned()));
    assert_eq!(send("b", "token-b").await, (200, "bob".to_owned()));
    assert_eq!(proxy.accepted(), 1, "every request went over one connection");
}
