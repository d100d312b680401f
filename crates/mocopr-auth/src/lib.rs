//! MoCoPr authorization: an MCP endpoint as an OAuth 2.1 protected resource.
//!
//! [`ResourceServer`] is a tower layer for the endpoint's HTTP service. It publishes Protected
//! Resource Metadata (RFC 9728) at the resource's well-known paths, answers a request without a valid
//! token with `401` and a `WWW-Authenticate` challenge pointing at that metadata, checks each
//! request's scopes (every request's, each method's, each tool's: `403 insufficient_scope`
//! names what to ask for), and hands the caller's [`Principal`](mocopr_core::principal::Principal)
//! to the server, where handlers read it and legacy sessions, tasks, the cache and
//! `requestState` are bound to it.
//!
//! Tokens are checked by a [`TokenVerifier`]: [`JwtVerifier`] for JWT access tokens signed by
//! the issuer (keys from its JWKS, found through its RFC 8414 / OpenID Connect metadata, kept
//! and refetched on rotation; asymmetric algorithms only; `iss`, `aud` = the resource's
//! canonical URI, `exp`, `nbf` checked), [`IntrospectionVerifier`] for opaque tokens (RFC 7662),
//! or one of yours. Accepted tokens are cached by hash until they expire, so a signature is
//! checked once per token; each connection keeps the token it last had accepted, to recognize
//! it at once. No token is ever logged, put in an error, or passed on.
//!
//! ```no_run
//! use mocopr_auth::ResourceServer;
//! use mocopr_server::McpServer;
//! use mocopr_transport::http::{EndpointConfig, serve_http};
//! use tower_layer::Layer;
//!
//! # async fn run(server: McpServer) -> Result<(), Box<dyn std::error::Error>> {
//! let auth = ResourceServer::builder("https://mcp.example.com/mcp")
//!     .with_authorization_server("https://auth.example.com")
//!     .with_method_scopes("tools/call", ["mcp:tools"])
//!     .build()?;
//! let listener = tokio::net::TcpListener::bind("0.0.0.0:8080").await?;
//! // The layered service answers at the endpoint's path and at the metadata's.
//! let mut serving = serve_http(listener, auth.layer(server.into_http(EndpointConfig::default()))).with_path("/mcp");
//! for path in auth.metadata_paths() {
//!     serving = serving.with_path(&path);
//! }
//! serving.await?;
//! # Ok(()) }
//! ```
#![deny(missing_docs)]

mod discovery;
mod error;
mod fetch;
mod introspection;
mod jwt;
mod metadata;
mod resource;
mod verifier;

pub use discovery::AuthorizationServerMetadata;
pub use error::{AuthConfigError, TokenError};
pub use introspection::{IntrospectionVerifier, IntrospectionVerifierBuilder};
pub use jwt::{JwtVerifier, JwtVerifierBuilder};
pub use metadata::ProtectedResourceMetadata;
pub use resource::{RequireBearer, RequireBearerFuture, ResourceServer, ResourceServerBuilder};
pub use verifier::{TokenVerifier, Verified};

/// Parses `url` as one an authorization party may be reached at: `https`, or plain `http` to a
/// loopback host (tests, local development); no fragment. `what` names it in the error.
///
/// ```
/// assert!(mocopr_auth::trusted_url("token_endpoint", "https://auth.example.com/token").is_ok());
/// assert!(mocopr_auth::trusted_url("token_endpoint", "http://127.0.0.1:9000/token").is_ok());
/// assert!(mocopr_auth::trusted_url("token_endpoint", "http://auth.example.com/token").is_err());
/// ```
pub fn trusted_url(what: &'static str, url: &str) -> Result<url::Url, AuthConfigError> {
    fetch::check_url(what, url)
}

/// Whether `url` names this machine (`localhost`, a loopback address): the hosts plain `http`
/// is allowed to in [`trusted_url`].
///
/// ```
/// let url = |u| url::Url::parse(u).unwrap();
/// assert!(mocopr_auth::is_loopback(&url("http://127.0.0.1:9000/token")));
/// assert!(mocopr_auth::is_loopback(&url("https://localhost/x")));
/// assert!(!mocopr_auth::is_loopback(&url("https://auth.example.com")));
/// ```
pub fn is_loopback(url: &url::Url) -> bool {
    fetch::is_loopback(url)
}
