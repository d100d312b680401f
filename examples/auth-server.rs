//! The echo tools behind an OAuth 2.1 resource server: every request needs a valid access
//! token issued by `--issuer` for `--resource`; `tools/call` also needs `--scope`.
//!
//! Run with:
//!
//! ```text
//! cargo run -p mocopr-examples --example auth-server -- \
//!     --bind 127.0.0.1:8080 --issuer https://auth.example.com \
//!     --resource http://127.0.0.1:8080/mcp --scope mcp:tools
//! ```
//!
//! The endpoint is `/mcp` (both eras); its Protected Resource Metadata is at
//! `/.well-known/oauth-protected-resource/mcp` (and the root well-known path). The server
//! prints `auth-server: listening on http://ADDRESS/mcp` on stderr. A request without a token
//! gets `401` with a `WWW-Authenticate` challenge naming the metadata; one whose token lacks
//! the scope gets `403 insufficient_scope`. `--admin-tool-scope SCOPE` puts the `wipe` tool
//! behind one more scope (a step-up). `--tls-cert FILE --tls-key FILE` serve HTTPS (HTTP/2
//! by ALPN, HTTP/1.1 too) from a PEM certificate chain and key; `--leeway SECONDS` sets the
//! clock skew tolerated on token expiry (default 60). Tools: `echo {text}`, `add {a, b}`, `whoami` (the
//! token's subject and scopes), `wipe` (says it wiped).

use clap::Parser;
use mocopr::prelude::*;
use mocopr_auth::ResourceServer;
use serde::Deserialize;
use tower::Layer;

#[derive(Parser)]
#[command(about = "The echo tools behind an OAuth 2.1 resource server")]
struct Cli {
    /// Where to listen (`HOST:PORT`).
    #[arg(long, default_value = "127.0.0.1:8080")]
    bind: String,
    /// The authorization server whose metadata and keys are trusted (its issuer identifier).
    #[arg(long)]
    issuer: String,
    /// This server's canonical resource URI (tokens must name it in `aud`).
    #[arg(long)]
    resource: String,
    /// The scope `tools/call` needs.
    #[arg(long)]
    scope: String,
    /// A further scope the `wipe` tool needs.
    #[arg(long)]
    admin_tool_scope: Option<String>,
    /// The PEM certificate chain to serve HTTPS with (with `--tls-key`).
    #[arg(long, requires = "tls_key")]
    tls_cert: Option<std::path::PathBuf>,
    /// The PEM private key of `--tls-cert`.
    #[arg(long, requires = "tls_cert")]
    tls_key: Option<std::path::PathBuf>,
    /// Seconds of clock skew tolerated on a token's `exp` and `nbf`.
    #[arg(long, default_value_t = 60)]
    leeway: u64,
}

#[derive(Deserialize, schemars::JsonSchema)]
struct EchoParams {
    /// The text to return.
    text: String,
}

/// Returns its input text.
#[tool]
async fn echo(Args(p): Args<EchoParams>) -> String {
    p.text
}

#[derive(Deserialize, schemars::JsonSchema)]
struct AddParams {
    a: f64,
    b: f64,
}

/// Adds two numbers.
#[tool]
async fn add(Args(p): Args<AddParams>) -> String {
    (p.a + p.b).to_string()
}

/// Says who called: the token's subject and scopes.
#[tool]
async fn whoami(caller: Principal) -> String {
    format!("{} [{}]", caller.subject(), caller.scopes().join(" "))
}

/// Pretends to wipe everything (a tool behind a further scope).
#[tool(destructive)]
async fn wipe(caller: Principal) -> String {
    format!("wiped, as {} asked", caller.subject())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let cli = Cli::parse();
    let server = McpServer::builder()
        .with_name("auth-server")
        .with_version(env!("CARGO_PKG_VERSION"))
        .register(echo_tool())
        .register(add_tool())
        .register(whoami_tool())
        .register(wipe_tool())
        .build()?;
    let verifier = mocopr_auth::JwtVerifier::builder(cli.issuer.as_str(), cli.resource.as_str())
        .with_leeway(std::time::Duration::from_secs(cli.leeway))
        .build()?;
    let mut auth = ResourceServer::builder(cli.resource.as_str())
        .with_authorization_server(cli.issuer.as_str())
        .with_verifier(verifier)
        .with_method_scopes("tools/call", [cli.scope.as_str()])
        .with_resource_name("MoCoPr auth-server example");
    if let Some(scope) = &cli.admin_tool_scope {
        auth = auth.with_tool_scopes("wipe", [scope.as_str()]);
    }
    let auth = auth.build()?;
    let listener = tokio::net::TcpListener::bind(&cli.bind).await?;
    let address = listener.local_addr()?;
    // The layered endpoint answers at its own path and at its metadata's (no axum Router: one
    // service, no routing table on the hot path).
    let mut serving = serve_http(listener, auth.layer(server.into_http(EndpointConfig::default()))).with_path("/mcp");
    for path in auth.metadata_paths() {
        serving = serving.with_path(&path);
    }
    match (&cli.tls_cert, &cli.tls_key) {
        (Some(cert), Some(key)) => {
            let tls = mocopr_transport::tls::ServerTls::from_pem_files(cert, key)?;
            eprintln!("auth-server: listening on https://{address}/mcp");
            serving.with_tls(tls).await?;
        }
        _ => {
            eprintln!("auth-server: listening on http://{address}/mcp");
            serving.await?;
        }
    }
    Ok(())
}
