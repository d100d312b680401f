//! The real `auth-server` binary against a test authorization server on loopback that signs
//! real JWTs with a key it generated: valid tokens are served in both eras; missing, forged,
//! misdirected, expired and premature tokens get `401` with the metadata pointer; a token
//! without the scope gets `403 insufficient_scope` naming what to ask for; a legacy session
//! belongs to the subject that opened it; a token expiring on a kept-alive connection is
//! refused there from its expiry on; a key rotation is followed without the issuer being
//! flooded; the server keeps serving throughout.

use std::time::{Duration, Instant};

use base64::Engine;
use bytes::Bytes;
use http::{Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use mocopr_testing::{ListeningServer, TestAuthorizationServer, example_path, free_port};
use serde_json::{Value, json};
use tokio::process::Command;

const META: &str = r#""_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}"#;
const SCOPE: &str = "mcp:tools";

type HttpClient = Client<HttpConnector, Full<Bytes>>;

struct Setup {
    issuer: TestAuthorizationServer,
    _server: ListeningServer,
    url: String,
    client: HttpClient,
}

struct Answer {
    status: StatusCode,
    challenge: String,
    session: Option<String>,
    body: String,
}

impl Setup {
    async fn start(algorithm: jsonwebtoken::Algorithm) -> Setup {
        let issuer = TestAuthorizationServer::start_with_algorithm(algorithm).await.expect("authorization server");
        let port = free_port().expect("a free port");
        let url = format!("http://127.0.0.1:{port}/mcp");
        let mut command = Command::new(example_path("auth-server"));
        command.args(["--bind", &format!("127.0.0.1:{port}"), "--issuer", issuer.issuer(), "--resource", &url]);
        command.args(["--scope", SCOPE, "--admin-tool-scope", "mcp:admin"]);
        let server = ListeningServer::start(command).await.expect("auth-server says where it listens");
        // One idle connection kept: sequential requests share it (what the connection remembers is tested).
        let client = Client::builder(TokioExecutor::new()).pool_max_idle_per_host(1).build_http();
        Setup { issuer, _server: server, url, client }
    }

    fn token(&self, subject: &str, scopes: &[&str]) -> String {
        self.issuer.token(&self.issuer.claims(subject, &self.url, scopes)).expect("signed")
    }

    /// A token of the usual claims with `change` applied.
    fn token_with(&self, change: impl FnOnce(&mut Value)) -> String {
        let mut claims = self.issuer.claims("alice", &self.url, &[SCOPE]);
        change(&mut claims);
        self.issuer.token(&claims).expect("signed")
    }

    async fn send(&self, request: http::request::Builder, body: String) -> Answer {
        let request = request.body(Full::new(Bytes::from(body))).expect("request");
        let response = tokio::time::timeout(Duration::from_secs(30), self.client.request(request))
            .await
            .expect("in time")
            .expect("response");
        let header = |name: &str| response.headers().get(name).map(|v| v.to_str().expect("text").to_owned());
        let (status, challenge, session) = (response.status(), header("www-authenticate"), header("mcp-session-id"));
        let body = response.into_body().collect().await.expect("body").to_bytes();
        Answer {
            status,
            challenge: challenge.unwrap_or_default(),
            session,
            body: String::from_utf8_lossy(&body).into(),
        }
    }

    fn post(&self, token: Option<&str>) -> http::request::Builder {
        let mut request = Request::post(&self.url)
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream");
        if let Some(token) = token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        request
    }

    /// A 2026-07-28 request: `tools/list`, or `tools/call` of `tool` with `arguments`.
    async fn modern(&self, token: Option<&str>, call: Option<(&str, Value)>) -> Answer {
        let (method, params) = match &call {
            Some((tool, arguments)) => ("tools/call", format!(r#""name":"{tool}","arguments":{arguments},"#)),
            None => ("tools/list", String::new()),
        };
        let mut request = self.post(token).header("mcp-protocol-version", "2026-07-28").header("mcp-method", method);
        if let Some((tool, _)) = &call {
            request = request.header("mcp-name", *tool);
        }
        self.send(request, format!(r#"{{"jsonrpc":"2.0","id":1,"method":"{method}","params":{{{params}{META}}}}}"#))
            .await
    }

    async fn echo(&self, token: &str) -> Answer {
        self.modern(Some(token), Some(("echo", json!({"text": "ok"})))).await
    }

    /// Opens a legacy session as the holder of `token`.
    async fn initialize(&self, token: &str) -> String {
        let body = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#;
        let answer = self.send(self.post(Some(token)), body.to_owned()).await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        let session = answer.session.expect("a session id");
        let notification = r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#;
        let request =
            self.post(Some(token)).header("mcp-session-id", &session).header("mcp-protocol-version", "2025-11-25");
        assert_eq!(self.send(request, notification.to_owned()).await.status, StatusCode::ACCEPTED);
        session
    }

    /// A legacy `tools/call` of `echo` in `session`.
    async fn legacy_echo(&self, token: &str, session: &str) -> Answer {
        let request =
            self.post(Some(token)).header("mcp-session-id", session).header("mcp-protocol-version", "2025-11-25");
        let body =
            r#"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"echo","arguments":{"text":"ok"}}}"#;
        self.send(request, body.to_owned()).await
    }
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn assert_served(answer: &Answer) {
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert!(answer.body.contains(r#""text":"ok""#), "{}", answer.body);
}

#[tokio::test]
async fn valid_tokens_are_served_in_both_eras_and_others_get_401_with_the_metadata_pointer() {
    let setup = Setup::start(jsonwebtoken::Algorithm::RS256).await;
    let token = setup.token("alice", &[SCOPE]);
    assert_served(&setup.echo(&token).await);
    let session = setup.initialize(&token).await;
    assert_served(&setup.legacy_echo(&token, &session).await);

    // No token: the challenge names the metadata, which names the issuer.
    let answer = setup.modern(None, None).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    let port = setup.url.trim_start_matches("http://127.0.0.1:").trim_end_matches("/mcp");
    let metadata_url = format!("http://127.0.0.1:{port}/.well-known/oauth-protected-resource/mcp");
    assert!(answer.challenge.starts_with("Bearer "), "{}", answer.challenge);
    assert!(answer.challenge.contains(&format!(r#"resource_metadata="{metadata_url}""#)), "{}", answer.challenge);
    assert!(answer.challenge.contains(&format!(r#"scope="{SCOPE}""#)), "{}", answer.challenge);
    let metadata = setup.send(Request::get(&metadata_url), String::new()).await;
    assert_eq!(metadata.status, StatusCode::OK);
    let metadata: Value = serde_json::from_str(&metadata.body).expect("JSON metadata");
    assert_eq!(metadata["resource"], setup.url.as_str());
    assert_eq!(metadata["authorization_servers"], json!([setup.issuer.issuer()]));
    assert_eq!(metadata["bearer_methods_supported"], json!(["header"]));
    let root_url = format!("http://127.0.0.1:{port}/.well-known/oauth-protected-resource");
    assert_eq!(setup.send(Request::get(&root_url), String::new()).await.status, StatusCode::OK);
    // The metadata paths answer reads only: a POST there reaches nothing, with or without a token.
    let post = Request::post(&metadata_url).header("authorization", format!("Bearer {token}"));
    assert_eq!(setup.send(post, "{}".to_owned()).await.status, StatusCode::METHOD_NOT_ALLOWED);
    // Paths the server does not serve are not found, with a token too.
    let elsewhere =
        Request::get(format!("http://127.0.0.1:{port}/other")).header("authorization", format!("Bearer {token}"));
    assert_eq!(setup.send(elsewhere, String::new()).await.status, StatusCode::NOT_FOUND);

    // Tokens that must not pass.
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let mut refused = vec![
        ("wrong audience", setup.token_with(|c| c["aud"] = json!("http://127.0.0.1:1/mcp"))),
        ("wrong issuer", setup.token_with(|c| c["iss"] = json!("http://127.0.0.1:1"))),
        ("expired", setup.token_with(|c| c["exp"] = json!(now - 3600))),
        ("not yet valid", setup.token_with(|c| c["nbf"] = json!(now + 3600))),
        ("no audience", setup.token_with(|c| drop(c.as_object_mut().unwrap().remove("aud")))),
        (
            "bound to a key",
            setup.token_with(|c| c["cnf"] = json!({"jkt": "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"})),
        ),
        ("garbage", "not-a-jwt".to_owned()),
    ];
    // A valid token with its signature changed.
    let mut forged = setup.token("alice", &[SCOPE]).into_bytes();
    let last = forged.len() - 5;
    forged[last] = if forged[last] == b'A' { b'B' } else { b'A' };
    refused.push(("bad signature", String::from_utf8(forged).unwrap()));
    // Its header and claims, unsigned.
    let claims = b64(setup.issuer.claims("alice", &setup.url, &[SCOPE]).to_string().as_bytes());
    refused.push(("alg none", format!("{}.{claims}.", b64(br#"{"alg":"none","typ":"JWT"}"#))));
    // Key confusion: HMAC keyed with the issuer's public key.
    let confused = jsonwebtoken::encode(
        &jsonwebtoken::Header {
            kid: Some("key-1".into()),
            ..jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256)
        },
        &setup.issuer.claims("alice", &setup.url, &[SCOPE]),
        &jsonwebtoken::EncodingKey::from_secret(setup.issuer.public_key_pem().as_bytes()).unwrap(),
    )
    .unwrap();
    refused.push(("key confusion", confused));
    for (what, token) in &refused {
        let answer = setup.echo(token).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{what}: {}", answer.body);
        assert!(answer.challenge.contains(r#"error="invalid_token""#), "{what}: {}", answer.challenge);
        assert!(answer.challenge.contains("resource_metadata="), "{what}: {}", answer.challenge);
        assert!(!answer.body.contains(token.as_str()), "{what}: the token is not echoed");
    }
    // A token in the query string is no token.
    let request = Request::post(format!("{}?access_token={token}", setup.url))
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream");
    let body = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#;
    assert_eq!(setup.send(request, body.to_owned()).await.status, StatusCode::UNAUTHORIZED);

    assert_served(&setup.echo(&token).await);
    assert_served(&setup.legacy_echo(&token, &session).await);
}

#[tokio::test]
async fn a_token_expiring_while_its_connection_stays_open_is_refused_on_it() {
    let setup = Setup::start(jsonwebtoken::Algorithm::EdDSA).await;
    let now = || std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_secs();
    let short = |scopes: &[&str], expiry: u64| {
        let scopes = scopes.join(" ");
        setup.token_with(|c| {
            c["exp"] = json!(expiry);
            c["scope"] = json!(scopes);
        })
    };
    // The client keeps its one connection: every request after the first is recognized as the
    // connection's last accepted token, and that must end with the token, not later. First a
    // token whose calls need a look at the body (it lacks the admin tool's scope), then one
    // whose calls do not (it has every scope the server names).
    for scopes in [&[SCOPE][..], &[SCOPE, "mcp:admin"]] {
        let expiry = now() + 2;
        let token = short(scopes, expiry);
        for _ in 0..3 {
            assert_served(&setup.echo(&token).await);
        }
        while now() <= expiry {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let answer = setup.echo(&token).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{scopes:?}: {}", answer.body);
        assert!(answer.challenge.contains("invalid_token"), "{}", answer.challenge);
        // Another token on the same connection is judged on its own.
        assert_served(&setup.echo(&setup.token("alice", &[SCOPE])).await);
    }
}

#[tokio::test]
async fn a_token_without_the_scope_gets_403_naming_the_scope_to_ask_for() {
    let setup = Setup::start(jsonwebtoken::Algorithm::ES256).await;
    let listing = setup.token("bob", &[]);
    // Any valid token lists tools.
    let answer = setup.modern(Some(&listing), None).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert!(answer.body.contains(r#""name":"echo""#), "{}", answer.body);
    let answer = setup.echo(&listing).await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN, "{}", answer.body);
    assert!(answer.challenge.contains(r#"error="insufficient_scope""#), "{}", answer.challenge);
    assert!(answer.challenge.contains(&format!(r#"scope="{SCOPE}""#)), "{}", answer.challenge);

    // The tool behind a further scope: the challenge keeps what the token has.
    let calling = setup.token("bob", &[SCOPE]);
    let answer = setup.modern(Some(&calling), Some(("wipe", json!({})))).await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN, "{}", answer.body);
    assert!(answer.challenge.contains(r#"scope="mcp:admin mcp:tools""#), "{}", answer.challenge);
    let admin = setup.token("bob", &[SCOPE, "mcp:admin"]);
    let answer = setup.modern(Some(&admin), Some(("wipe", json!({})))).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert!(answer.body.contains("wiped, as bob asked"), "{}", answer.body);

    // The principal reaches the handlers.
    let answer = setup.modern(Some(&calling), Some(("whoami", json!({})))).await;
    assert!(answer.body.contains("bob [mcp:tools]"), "{}", answer.body);
    // A legacy batch is checked message by message (2025-03-26 allows batches).
    let session = {
        let body = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-03-26","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#;
        setup.send(setup.post(Some(&calling)), body.to_owned()).await.session.expect("a session")
    };
    let batch = r#"[{"jsonrpc":"2.0","id":2,"method":"tools/list"},{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"wipe","arguments":{}}}]"#;
    let request =
        setup.post(Some(&calling)).header("mcp-session-id", &session).header("mcp-protocol-version", "2025-03-26");
    assert_eq!(setup.send(request, batch.to_owned()).await.status, StatusCode::FORBIDDEN);
    assert_served(&setup.echo(&calling).await);
}

#[tokio::test]
async fn a_legacy_session_serves_only_the_subject_that_opened_it() {
    let setup = Setup::start(jsonwebtoken::Algorithm::EdDSA).await;
    let alice = setup.token("alice", &[SCOPE]);
    let mallory = setup.token("mallory", &[SCOPE]);
    let session = setup.initialize(&alice).await;
    // To another subject, the session does not exist.
    let answer = setup.legacy_echo(&mallory, &session).await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND, "{}", answer.body);
    let request = Request::delete(&setup.url)
        .header("authorization", format!("Bearer {mallory}"))
        .header("mcp-session-id", &session);
    assert_eq!(setup.send(request, String::new()).await.status, StatusCode::NOT_FOUND);
    let request = Request::get(&setup.url)
        .header("authorization", format!("Bearer {mallory}"))
        .header("mcp-session-id", &session)
        .header("accept", "text/event-stream");
    assert_eq!(setup.send(request, String::new()).await.status, StatusCode::NOT_FOUND);
    // It still serves its owner, with a new token of the same subject too.
    assert_served(&setup.legacy_echo(&alice, &session).await);
    assert_served(&setup.legacy_echo(&setup.token("alice", &[SCOPE]), &session).await);
}

#[tokio::test]
async fn a_key_rotation_is_followed_without_flooding_the_issuer() {
    let setup = Setup::start(jsonwebtoken::Algorithm::RS256).await;
    assert_served(&setup.echo(&setup.token("alice", &[SCOPE])).await);
    let fetched = setup.issuer.jwks_fetches();
    assert_eq!(fetched, 1);
    setup.issuer.rotate_key().unwrap();
    // Tokens naming keys the server does not know: at most one fetch per refetch interval,
    // however many such tokens arrive.
    for i in 0..20 {
        let header = b64(format!(r#"{{"alg":"RS256","kid":"made-up-{i}"}}"#).as_bytes());
        let claims = b64(setup.issuer.claims("alice", &setup.url, &[SCOPE]).to_string().as_bytes());
        let answer = setup.echo(&format!("{header}.{claims}.c2ln")).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    }
    assert!(setup.issuer.jwks_fetches() <= fetched + 1, "{} fetches", setup.issuer.jwks_fetches());
    // A token signed with the new key is served once the interval has passed.
    let rotated = setup.token("alice", &[SCOPE]);
    let started = Instant::now();
    loop {
        let answer = setup.echo(&rotated).await;
        if answer.status == StatusCode::OK {
            assert_served(&answer);
            break;
        }
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{}", answer.body);
        assert!(started.elapsed() < Duration::from_secs(20), "the new key was never fetched");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert!(setup.issuer.jwks_fetches() <= fetched + 3, "{} fetches", setup.issuer.jwks_fetches());
}
