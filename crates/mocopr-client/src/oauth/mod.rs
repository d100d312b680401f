//! OAuth 2.1 for MCP clients, as the authorization specification lays it out: built into the
//! client with [`McpClientBuilder::with_oauth`](crate::McpClientBuilder::with_oauth).
//!
//! When a server answers `401`, the client reads the challenge's `resource_metadata` (else
//! the well-known URLs, path-specific first), checks that the metadata is the server's, takes
//! its authorization server and reads that server's metadata (RFC 8414, then OpenID Connect,
//! the issuer compared character for character). It identifies itself there with a
//! [`ClientRegistration`] configured for it, then a Client ID Metadata Document, then a
//! dynamic registration (RFC 7591), each kept per authorization server and never shown to
//! another. It obtains a token by the configured [`Grant`]: the authorization code with PKCE
//! (S256), `state`, the `resource` parameter (RFC 8707) and the RFC 9207 `iss` check, the user
//! taken through it by an [`AuthorizationHandler`]; or client credentials; or a JWT bearer
//! assertion; or an enterprise identity provider's identity assertion. Tokens go in a [`TokenStore`]; an expired one is refreshed, and asked for
//! `offline_access` when the server supports it. A `403 insufficient_scope` steps the
//! authorization up to the scopes asked for so far plus those named, a bounded number of times.
//! A server whose authorization server changes gets a fresh registration at the new one.
//!
//! Endpoints must be `https` (plain `http` is allowed to loopback hosts, for tests and local
//! development). Tokens and secrets are never logged.
//!
//! ```no_run
//! use futures_util::future::BoxFuture;
//! use mocopr_client::oauth::{AuthorizationHandler, AuthorizationRequest, FileTokenStore, OAuthConfig};
//! use mocopr_client::{ClientError, McpClient};
//!
//! /// Shows the link, and reads back the address the browser lands on.
//! struct Terminal;
//!
//! impl AuthorizationHandler for Terminal {
//!     fn authorize(&self, request: AuthorizationRequest) -> BoxFuture<'_, Result<String, ClientError>> {
//!         Box::pin(async move {
//!             println!("Sign in at {} and paste the address you land on:", request.url);
//!             let mut line = String::new();
//!             std::io::stdin().read_line(&mut line).map_err(|e| ClientError::Authorization(e.to_string()))?;
//!             Ok(line.trim().to_owned())
//!         })
//!     }
//! }
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let oauth = OAuthConfig::builder()
//!     .with_redirect_uri("http://127.0.0.1:33418/callback")
//!     .with_client_name("my-agent")
//!     .with_authorization_handler(Terminal)
//!     .with_token_store(FileTokenStore::new("/home/me/.config/my-agent/tokens"))
//!     .build()?;
//! let client = McpClient::builder().with_oauth(oauth).connect_http("https://mcp.example.com/mcp").await?;
//! let tools = client.list_tools().await?;
//! # let _ = tools; Ok(()) }
//! ```

mod authorizer;
mod challenge;
mod discovery;
mod dpop;
mod grant;
mod handler;
mod http;
mod registration;
mod store;

use std::sync::{Arc, Mutex};

pub use grant::IdentityAssertion;
pub use handler::{AuthorizationHandler, AuthorizationRequest};
pub use registration::{ClientRegistration, TokenAuthMethod};
pub use store::{FileTokenStore, MEMORY_STORE_CAPACITY, MemoryTokenStore, TokenStore};

use crate::authorizer::Authorizer;
use crate::error::ClientError;

/// How the client obtains its tokens.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Grant {
    /// The authorization code, approved by a user through the
    /// [`AuthorizationHandler`] (the default).
    AuthorizationCode,
    /// Client credentials: the client acting for itself, authenticated by its secret or its
    /// private key (a [`ClientRegistration`] must say which).
    ClientCredentials,
    /// A JWT bearer assertion (RFC 7523): a workload's identity token exchanged for an
    /// access token.
    JwtBearer(String),
    /// An enterprise identity provider's ID token, exchanged for an identity assertion and
    /// then for an access token (enterprise-managed authorization).
    IdentityAssertion(IdentityAssertion),
}

/// What the OAuth client needs to know; made by [`OAuthConfig::builder`]. Cheap to clone.
#[derive(Clone)]
pub struct OAuthConfig {
    settings: Arc<Settings>,
}

impl std::fmt::Debug for OAuthConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuthConfig")
            .field("redirect_uri", &self.settings.redirect_uri)
            .field("client_name", &self.settings.client_name)
            .field("clients", &self.settings.clients)
            .finish_non_exhaustive()
    }
}

pub(crate) struct Settings {
    redirect_uri: String,
    client_name: String,
    clients: Vec<ClientRegistration>,
    /// For each of `clients` that names no issuer, the issuer it was first used with.
    bound: Mutex<Vec<Option<String>>>,
    metadata_document: Option<String>,
    handler: Option<Arc<dyn AuthorizationHandler>>,
    grant: Grant,
    store: Arc<dyn TokenStore>,
    http: http::OAuthHttp,
    offline_access: bool,
    dpop: bool,
    max_step_ups: usize,
    scopes: Vec<String>,
}

/// Sets up an [`OAuthConfig`]; made by [`OAuthConfig::builder`].
#[must_use = "a builder does nothing until built"]
pub struct OAuthConfigBuilder {
    redirect_uri: Option<String>,
    client_name: String,
    clients: Vec<ClientRegistration>,
    metadata_document: Option<String>,
    handler: Option<Arc<dyn AuthorizationHandler>>,
    grant: Grant,
    store: Arc<dyn TokenStore>,
    http: Option<reqwest::Client>,
    offline_access: bool,
    dpop: bool,
    max_step_ups: usize,
    scopes: Vec<String>,
}

impl std::fmt::Debug for OAuthConfigBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuthConfigBuilder")
            .field("redirect_uri", &self.redirect_uri)
            .field("client_name", &self.client_name)
            .finish_non_exhaustive()
    }
}

/// How many step-ups one client makes at most before it takes a `403` as the answer.
pub const DEFAULT_MAX_STEP_UPS: usize = 2;

impl OAuthConfig {
    /// Starts a configuration: the authorization-code grant, client name `mocopr-client`,
    /// tokens in memory, `offline_access` asked for where supported, at most
    /// [`DEFAULT_MAX_STEP_UPS`] step-ups.
    ///
    /// ```
    /// use mocopr_client::oauth::{ClientRegistration, Grant, OAuthConfig};
    ///
    /// let service = OAuthConfig::builder()
    ///     .with_grant(Grant::ClientCredentials)
    ///     .with_client(ClientRegistration::new("reporting-job").with_secret("s3cret"))
    ///     .build()?;
    /// # let _ = service;
    /// # Ok::<(), mocopr_client::ClientError>(())
    /// ```
    pub fn builder() -> OAuthConfigBuilder {
        OAuthConfigBuilder {
            redirect_uri: None,
            client_name: "mocopr-client".to_owned(),
            clients: Vec::new(),
            metadata_document: None,
            handler: None,
            grant: Grant::AuthorizationCode,
            store: Arc::new(MemoryTokenStore::new()),
            http: None,
            offline_access: true,
            dpop: true,
            max_step_ups: DEFAULT_MAX_STEP_UPS,
            scopes: Vec::new(),
        }
    }

    /// The authorizer of the endpoint at `url`.
    pub(crate) fn authorizer_for(&self, url: &str) -> Result<Arc<dyn Authorizer>, ClientError> {
        Ok(Arc::new(authorizer::OAuthAuthorizer::new(self.settings.clone(), url)?))
    }
}

impl OAuthConfigBuilder {
    /// Where the authorization server sends the user back: a loopback `http` URL, an `https`
    /// one, or the application's own scheme. Needed for the authorization-code grant.
    pub fn with_redirect_uri(mut self, uri: impl Into<String>) -> Self {
        self.redirect_uri = Some(uri.into());
        self
    }

    /// The client's name in dynamic registrations (default `mocopr-client`).
    pub fn with_client_name(mut self, name: impl Into<String>) -> Self {
        self.client_name = name.into();
        self
    }

    /// A client registered beforehand. Used at the authorization server it names, or (naming
    /// none) at the first one it is used with. May be given several times.
    pub fn with_client(mut self, client: ClientRegistration) -> Self {
        self.clients.push(client);
        self
    }

    /// The URL of the client's Client ID Metadata Document (an `https` URL with a path, whose
    /// document's `client_id` is that URL): the client id at authorization servers that
    /// support them, where no registration is configured.
    pub fn with_client_metadata_document(mut self, url: impl Into<String>) -> Self {
        self.metadata_document = Some(url.into());
        self
    }

    /// Takes the user through the authorization-code grant.
    pub fn with_authorization_handler(mut self, handler: impl AuthorizationHandler) -> Self {
        self.handler = Some(Arc::new(handler));
        self
    }

    /// How tokens are obtained (default [`Grant::AuthorizationCode`]).
    pub fn with_grant(mut self, grant: Grant) -> Self {
        self.grant = grant;
        self
    }

    /// Where tokens and registrations are kept (default: a [`MemoryTokenStore`]).
    pub fn with_token_store(mut self, store: impl TokenStore) -> Self {
        self.store = Arc::new(store);
        self
    }

    /// The HTTP client for the authorization parties (default: one that follows no redirect
    /// and gives up after 30 s; give your own for other roots or a proxy, keeping redirects off).
    pub fn with_http_client(mut self, client: reqwest::Client) -> Self {
        self.http = Some(client);
        self
    }

    /// Whether `offline_access` is asked for when the authorization server lists it, so that
    /// it issues a refresh token (default `true`; authorization-code grant only).
    pub fn with_offline_access(mut self, offline_access: bool) -> Self {
        self.offline_access = offline_access;
        self
    }

    /// Whether tokens are bound to a key of the client's (DPoP, RFC 9449) when the server asks
    /// for that (a `DPoP` challenge, or `dpop_bound_access_tokens_required` in its metadata)
    /// and the authorization server offers ES256 proofs (default `true`). Each request then
    /// carries a fresh proof. The key lives in memory only: DPoP-bound tokens are not kept
    /// across restarts.
    pub fn with_dpop(mut self, dpop: bool) -> Self {
        self.dpop = dpop;
        self
    }

    /// How many step-ups for more scope one endpoint's client makes at most (default
    /// [`DEFAULT_MAX_STEP_UPS`]).
    pub fn with_max_step_ups(mut self, step_ups: usize) -> Self {
        self.max_step_ups = step_ups;
        self
    }

    /// Scopes always asked for, beside those the server names.
    pub fn with_scopes<I, S>(mut self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.scopes = scopes.into_iter().map(Into::into).collect();
        self
    }

    /// Checks the settings and makes the configuration: the authorization-code grant needs a
    /// redirect URI and a handler; client credentials need a configured client.
    pub fn build(self) -> Result<OAuthConfig, ClientError> {
        let redirect_uri = match (&self.grant, self.redirect_uri) {
            (Grant::AuthorizationCode, None) => {
                return Err(http::refused("the authorization-code grant needs a redirect URI"));
            }
            (_, redirect) => redirect.unwrap_or_default(),
        };
        if matches!(self.grant, Grant::AuthorizationCode) {
            if self.handler.is_none() {
                return Err(http::refused("the authorization-code grant needs an authorization handler"));
            }
            let parsed = url::Url::parse(&redirect_uri).map_err(|_| http::refused("the redirect URI is not a URL"))?;
            if parsed.scheme() == "http" && mocopr_auth::trusted_url("redirect_uri", &redirect_uri).is_err() {
                return Err(http::refused("a plain-http redirect URI must be a loopback address"));
            }
        }
        if matches!(self.grant, Grant::ClientCredentials) && self.clients.is_empty() {
            return Err(http::refused("the client-credentials grant needs a configured client"));
        }
        if let Some(bad) = self.scopes.iter().find(|s| s.is_empty() || s.contains(char::is_whitespace)) {
            return Err(http::refused(format!("{bad:?} is not one scope")));
        }
        let bound = Mutex::new(vec![None; self.clients.len()]);
        Ok(OAuthConfig {
            settings: Arc::new(Settings {
                redirect_uri,
                client_name: self.client_name,
                clients: self.clients,
                bound,
                metadata_document: self.metadata_document,
                handler: self.handler,
                grant: self.grant,
                store: self.store,
                http: http::OAuthHttp::new(self.http)?,
                offline_access: self.offline_access,
                dpop: self.dpop,
                max_step_ups: self.max_step_ups,
                scopes: self.scopes,
            }),
        })
    }
}
