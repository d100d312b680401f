//! HTTPS end to end with a CA made in the test: our server (`ServeHttp::with_tls`) and our
//! client (`McpClientBuilder::with_tls`) over real TLS on loopback, HTTP/2 by ALPN with every
//! request multiplexed on one TCP connection (counted by a proxy in between), HTTP/1.1 when the
//! client offers only that, both eras, and refusals that leave the server serving.

use std::time::Duration;

use futures_util::future::BoxFuture;
use mocopr_client::{ClientError, InputHandler, McpClient};
use mocopr_core::types::{ClientCapabilities, ElicitAction, ElicitRequestParams, ElicitResult, Tool};
use mocopr_core::{ErrorObject, ProtocolVersion};
use mocopr_server::{EndpointConfig, HandlerError, McpServer, RequestCtx, serve_http};
use mocopr_testing::{CountingProxy, TestCertificates};
use mocopr_transport::PoolConfig;
use mocopr_transport::pool::{ConnectionPool, HttpConnector};
use mocopr_transport::tls::{ClientTls, ServerTls, TlsError};
use serde_json::{Value, json};
use tokio::net::TcpListener;

/// Answers every elicitation with the name "Alice".
struct Alice;

impl InputHandler for Alice {
    fn capabilities(&self) -> ClientCapabilities {
        ClientCapabilities::default().with_elicitation()
    }

    fn elicit(&self, _params: ElicitRequestParams) -> BoxFuture<'_, Result<ElicitResult, ErrorObject>> {
        Box::pin(async { Ok(ElicitResult::accept(json!({"name": "Alice"}).as_object().cloned().unwrap_or_default())) })
    }
}

fn server(versions: &[ProtocolVersion]) -> McpServer {
    McpServer::builder()
        .with_name("tls-target")
        .with_protocol_versions(versions)
        .tool(Tool::new("nap"), || async {
            // Long enough that concurrent calls overlap.
            tokio::time::sleep(Duration::from_millis(50)).await;
            Ok::<_, HandlerError>("rested")
        })
        .tool(Tool::new("greet"), |ctx: RequestCtx| async move {
            let params: ElicitRequestParams = serde_json::from_value(json!({
                "message": "Name?", "requestedSchema": {"type": "object", "properties": {"name": {"type": "string"}}}
            }))?;
            let answer = ctx.elicit("user_name", params).await?;
            let name = answer.content.and_then(|c| c.get("name").and_then(Value::as_str).map(str::to_owned));
            match (answer.action, name) {
                (ElicitAction::Accept, Some(name)) => Ok::<_, HandlerError>(format!("Hello, {name}!")),
                _ => Ok("Hello, stranger!".to_owned()),
            }
        })
        .build()
        .expect("server")
}

/// Serves `server` over HTTPS with the test CA's certificate; returns the port.
async fn serve_https(server: McpServer, certificates: &TestCertificates) -> u16 {
    let tls =
        ServerTls::from_pem(certificates.cert_pem().as_bytes(), certificates.key_pem().as_bytes()).expect("server TLS");
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let endpoint = server.into_http(EndpointConfig::default());
    tokio::spawn(serve_http(listener, endpoint).with_path("/mcp").with_tls(tls).into_future());
    port
}

fn trusting(certificates: &TestCertificates) -> ClientTls {
    ClientTls::from_root_pem(certificates.ca_pem().as_bytes()).expect("client TLS")
}

async fn connect(url: &str, tls: ClientTls, connections: usize) -> Result<McpClient, ClientError> {
    McpClient::builder()
        .with_input_handler(Alice)
        .with_probe_timeout(Duration::from_secs(5))
        .with_connection_pool(PoolConfig::builder().with_max_connections(connections).build())
        .with_tls(tls)
        .connect_http(url)
        .await
}

/// 32 concurrent calls through a pool of 8 slots.
async fn concurrent_naps(client: &McpClient) {
    let calls = (0..32).map(|_| client.call_tool("nap", json!({})));
    for result in futures_util::future::join_all(calls).await {
        assert_eq!(result.expect("nap").text_content(), "rested");
    }
}

#[tokio::test]
async fn http2_multiplexes_every_request_on_one_connection_in_both_eras() {
    let certificates = TestCertificates::localhost().expect("certificates");
    for (versions, era) in [
        (&ProtocolVersion::ALL[..], ProtocolVersion::V2026_07_28),
        (&[ProtocolVersion::V2025_11_25][..], ProtocolVersion::V2025_11_25),
    ] {
        let port = serve_https(server(versions), &certificates).await;
        let proxy = CountingProxy::start(port).await.expect("proxy");
        let url = format!("https://localhost:{}/mcp", proxy.port());
        let client = connect(&url, trusting(&certificates), 8).await.expect("connect over HTTPS");
        assert_eq!(client.server().expect("facts").version, era);
        concurrent_naps(&client).await;
        // A legacy server asks for input while the call's stream is open: the answer goes out
        // on a second stream of the same connection.
        let greeting = client.call_tool("greet", json!({})).await.expect("greet");
        assert_eq!(greeting.text_content(), "Hello, Alice!", "{era:?}");
        assert_eq!(proxy.accepted(), 1, "{era:?}: one TCP connection carried everything");
        assert!(client.pool_metrics().expect("pool").opened >= 2, "the pool held several stream slots at once");
    }
}

#[tokio::test]
async fn http1_stays_available_when_the_client_offers_only_it() {
    let certificates = TestCertificates::localhost().expect("certificates");
    let port = serve_https(server(&ProtocolVersion::ALL), &certificates).await;
    let proxy = CountingProxy::start(port).await.expect("proxy");
    let url = format!("https://127.0.0.1:{}/mcp", proxy.port());
    let client = connect(&url, trusting(&certificates).http1_only(), 8).await.expect("connect over HTTPS/1.1");
    concurrent_naps(&client).await;
    let connections = proxy.accepted();
    assert!((2..=8).contains(&connections), "HTTP/1.1 needs a connection per request in flight: {connections}");
}

#[tokio::test]
async fn untrusted_certificates_and_plain_http_are_refused_and_the_server_keeps_serving() {
    let certificates = TestCertificates::localhost().expect("certificates");
    let port = serve_https(server(&ProtocolVersion::ALL), &certificates).await;
    let url = format!("https://localhost:{port}/mcp");

    // The webpki roots know nothing of the test CA.
    let refused = connect(&url, ClientTls::webpki_roots(), 2).await.expect_err("refused");
    assert!(refused.to_string().contains("certificate"), "{refused}");
    // Another CA's roots, likewise.
    let stranger = TestCertificates::localhost().expect("certificates");
    let refused = connect(&url, trusting(&stranger), 2).await.expect_err("refused");
    assert!(refused.to_string().contains("certificate"), "{refused}");
    // A name the certificate does not cover.
    let connector = HttpConnector::new(format!("127.0.0.1:{port}"))
        .with_tls("mcp.example.com", &trusting(&certificates))
        .expect("name");
    let pool = ConnectionPool::new(connector, PoolConfig::default());
    let refused = pool.get().await.expect_err("a name outside the certificate");
    assert!(refused.to_string().contains("certificate"), "{refused}");
    // Plain HTTP to the TLS port.
    let plain = McpClient::builder()
        .with_probe_timeout(Duration::from_secs(2))
        .with_timeout(Duration::from_secs(5))
        .connect_http(&format!("http://localhost:{port}/mcp"))
        .await;
    assert!(plain.is_err(), "plain HTTP to an HTTPS port");
    // A peer that opens a connection and never says a word of TLS does not hold anyone up.
    let _silent = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.expect("connect");

    let client = connect(&url, trusting(&certificates), 2).await.expect("still serving");
    assert_eq!(client.call_tool("nap", json!({})).await.expect("nap").text_content(), "rested");
}

#[test]
fn bad_certificate_material_is_a_clear_error() {
    let certificates = TestCertificates::localhost().expect("certificates");
    let dir = std::env::temp_dir().join(format!("mocopr-https-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let [ca, cert, key] = certificates.write_to(&dir).expect("write");
    assert!(ServerTls::from_pem_files(&cert, &key).is_ok(), "the files as written");
    let missing = ServerTls::from_pem_files(dir.join("nope.pem"), &key).expect_err("missing file");
    assert!(matches!(missing, TlsError::File { .. }) && missing.to_string().contains("nope.pem"), "{missing}");
    // A certificate file given as the key.
    assert!(ServerTls::from_pem_files(&cert, &ca).is_err(), "no key in a certificate file");
    // A key that is not the certificate's.
    let other = TestCertificates::localhost().expect("certificates");
    let mismatch = ServerTls::from_pem(certificates.cert_pem().as_bytes(), other.key_pem().as_bytes());
    assert!(mismatch.is_err(), "a key that does not match the certificate");
    assert!(matches!(ClientTls::from_root_pem(b"not a certificate"), Err(TlsError::Pem(_))));
    std::fs::remove_dir_all(&dir).expect("clean up");
}
