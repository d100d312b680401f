//! Our OAuth client against `examples/auth-server` over HTTPS (HTTP/2, a CA made in the test),
//! with the test's own authorization server: the client finds the authorization server from
//! the 401, registers itself, runs the authorization-code grant with PKCE, calls tools, steps
//! up when a tool needs more scope, and refreshes its token when it expires; every MCP request
//! rides one TCP connection.

use std::time::Duration;

use mocopr_client::McpClient;
use mocopr_client::oauth::{FileTokenStore, OAuthConfig};
use mocopr_core::ProtocolVersion;
use mocopr_testing::{
    ApproveByRedirect, CountingProxy, ListeningServer, TestAuthorizationServer, TestCertificates, example_path,
    free_port,
};
use mocopr_transport::PoolConfig;
use mocopr_transport::tls::ClientTls;
use serde_json::json;
use tokio::process::Command;

/// `examples/auth-server` over HTTPS behind a counting proxy, trusting `issuer`; tokens are
/// refused the moment they expire (no leeway). Returns the server, the proxy and the MCP URL
/// (the proxy's, which is also the resource identifier).
async fn protected_server(
    issuer: &TestAuthorizationServer,
    certificates: &TestCertificates,
    directory: &std::path::Path,
) -> (ListeningServer, CountingProxy, String) {
    let [_, cert, key] = certificates.write_to(directory).expect("certificate files");
    let port = free_port().expect("a free port");
    let proxy = CountingProxy::start(port).await.expect("proxy");
    let url = format!("https://localhost:{}/mcp", proxy.port());
    let mut command = Command::new(example_path("auth-server"));
    command.args(["--bind", &format!("127.0.0.1:{port}"), "--issuer", issuer.issuer(), "--resource", &url]);
    command.args(["--scope", "mcp:tools", "--admin-tool-scope", "mcp:admin", "--leeway", "0"]);
    command.arg("--tls-cert").arg(&cert).arg("--tls-key").arg(&key);
    let server = ListeningServer::start(command).await.expect("auth-server says where it listens");
    (server, proxy, url)
}

fn temporary_directory(name: &str) -> std::path::PathBuf {
    let directory = std::env::temp_dir().join(format!("mocopr-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&directory).expect("temporary directory");
    directory
}

#[tokio::test]
async fn the_client_authorizes_steps_up_and_refreshes_over_https() {
    let issuer = TestAuthorizationServer::start().await.expect("authorization server");
    let certificates = TestCertificates::localhost().expect("certificates");
    let directory = temporary_directory("oauth-client");
    let (_server, proxy, url) = protected_server(&issuer, &certificates, &directory).await;
    let tokens = directory.join("tokens");
    // The MCP server's metadata is fetched over HTTPS too: that client trusts the test CA as well.
    let ca = reqwest::Certificate::from_pem(certificates.ca_pem().as_bytes()).expect("CA certificate");
    let http = reqwest::Client::builder()
        .add_root_certificate(ca)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("HTTP client");
    let oauth = || {
        OAuthConfig::builder()
            .with_http_client(http.clone())
            .with_redirect_uri("http://127.0.0.1:33418/callback")
            .with_client_name("oauth-client-test")
            .with_authorization_handler(ApproveByRedirect::new())
            .with_token_store(FileTokenStore::new(&tokens))
            .build()
            .expect("OAuth settings")
    };
    let tls = ClientTls::from_root_pem(certificates.ca_pem().as_bytes()).expect("client TLS");
    let client = McpClient::builder()
        .with_tls(tls.clone())
        .with_connection_pool(PoolConfig::builder().with_max_connections(8).build())
        .with_oauth(oauth())
        .connect_http(&url)
        .await
        .expect("connect: the 401 leads to an authorization");
    assert_eq!(client.server().expect("facts").version, ProtocolVersion::V2026_07_28);
    let authorizations = issuer.authorizations();
    assert_eq!(authorizations.len(), 1, "one authorization");
    assert_eq!(authorizations[0], "mcp:tools offline_access", "the challenged scope, and a refresh token");

    // Concurrent calls share the token, and one HTTP/2 connection.
    let calls = (0..8).map(|_| client.call_tool("whoami", json!({})));
    for result in futures_util::future::join_all(calls).await {
        assert_eq!(result.expect("whoami").text_content(), "alice [mcp:tools]");
    }

    // `wipe` needs one more scope: 403, then a step-up to both scopes, then the call again.
    issuer.set_token_lifetime(Duration::from_secs(2));
    let wiped = client.call_tool("wipe", json!({})).await.expect("wipe after a step-up");
    assert_eq!(wiped.text_content(), "wiped, as alice asked");
    let authorizations = issuer.authorizations();
    assert_eq!(authorizations.len(), 2, "one step-up");
    assert_eq!(authorizations[1], "mcp:tools offline_access mcp:admin", "what was asked before, and the new scope");

    // The stepped-up token expires: the next call is refused, and the refresh token gets a
    // new one without asking the user.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let me = client.call_tool("whoami", json!({})).await.expect("whoami after a refresh");
    assert_eq!(me.text_content(), "alice [mcp:tools mcp:admin]");
    assert_eq!(issuer.refreshes(), 1, "refreshed once");
    assert_eq!(issuer.authorizations().len(), 2, "without a new authorization");
    // One TCP connection carried every MCP request (HTTP/2); the other is the OAuth client's
    // own HTTP client reading the server's resource metadata.
    assert_eq!(proxy.accepted(), 2, "the MCP requests multiplexed on one connection");
    drop(client);

    // A new client with the same token store uses the kept tokens (refreshing them, as they
    // expired meanwhile) rather than asking the user again.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let again = McpClient::builder().with_tls(tls).with_oauth(oauth()).connect_http(&url).await.expect("reconnect");
    let me = again.call_tool("whoami", json!({})).await.expect("whoami with kept tokens");
    assert_eq!(me.text_content(), "alice [mcp:tools mcp:admin]");
    assert_eq!(issuer.authorizations().len(), 2, "no new authorization");
    assert_eq!(issuer.refreshes(), 2);
    let _ = std::fs::remove_dir_all(&directory);
}
