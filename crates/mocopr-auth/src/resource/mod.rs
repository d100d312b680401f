//! [`ResourceServer`]: an MCP endpoint as an OAuth 2.1 protected resource, a tower layer in
//! front of the HTTP service that also publishes the resource's metadata.

mod challenge;
mod last_token;
mod scopes;
mod service;
mod tokens;

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use http_body_util::Full;
use url::Url;

use self::scopes::ScopePolicy;
pub use self::service::{RequireBearer, RequireBearerFuture};
use self::tokens::CachedVerifier;
use crate::error::AuthConfigError;
use crate::jwt::JwtVerifier;
use crate::metadata::{ProtectedResourceMetadata, metadata_urls};
use crate::verifier::TokenVerifier;

/// An MCP endpoint protected by OAuth 2.1 bearer tokens. A tower [`Layer`](tower_layer::Layer):
/// put it in front of the endpoint's HTTP service; the layered service also answers at
/// [`metadata_paths`] with the Protected Resource Metadata (no token needed there), so route
/// those paths to it too. Cheap to clone.
///
/// A request passes with a valid token that has the scopes it needs; the caller's
/// [`Principal`](mocopr_core::principal::Principal) then reaches the handlers (their principal
/// extractor), and binds the legacy session, tasks, the cache partition and `requestState` to
/// it. The token itself goes no further: the `Authorization` header is taken off the request.
///
/// ```no_run
/// use mocopr_auth::ResourceServer;
/// use mocopr_server::McpServer;
/// use mocopr_transport::http::EndpointConfig;
/// use tower_layer::Layer;
///
/// # fn app(server: McpServer) -> Result<axum::Router, mocopr_auth::AuthConfigError> {
/// let auth = ResourceServer::builder("https://mcp.example.com/mcp")
///     .with_authorization_server("https://auth.example.com")
///     .with_method_scopes("tools/call", ["mcp:tools"])
///     .build()?;
/// let protected = auth.layer(server.into_http(EndpointConfig::default()));
/// let mut router = axum::Router::new().route_service("/mcp", protected.clone());
/// for path in auth.metadata_paths() {
///     router = router.route_service(&path, protected.clone());
/// }
/// # Ok(router) }
/// ```
///
/// [`metadata_paths`]: ResourceServer::metadata_paths
#[derive(Debug, Clone)]
pub struct ResourceServer {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    verifier: CachedVerifier,
    policy: ScopePolicy,
    /// The metadata document, serialized once.
    metadata: Bytes,
    /// Where the metadata is (the path-specific URL): the challenges' `resource_metadata`.
    metadata_url: String,
    metadata_paths: Vec<String>,
    /// The scopes a challenge for a request with no valid token names.
    baseline_scope: String,
    /// Every scope the policy names: a token with all of them may call anything.
    every_scope: Vec<String>,
    max_body_size: usize,
    body_timeout: Duration,
}

/// Sets up a [`ResourceServer`]; made by [`ResourceServer::builder`].
#[must_use = "a builder does nothing until built"]
pub struct ResourceServerBuilder {
    resource: String,
    authorization_servers: Vec<String>,
    verifier: Option<Arc<dyn TokenVerifier>>,
    policy: ScopePolicy,
    scopes_supported: Vec<String>,
    resource_name: Option<String>,
    max_body_size: usize,
    body_timeout: Duration,
    token_cache_bytes: u64,
    token_cache_lifetime: Duration,
}

impl std::fmt::Debug for ResourceServerBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResourceServerBuilder")
            .field("resource", &self.resource)
            .field("authorization_servers", &self.authorization_servers)
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

impl ResourceServer {
    /// The protected resource whose canonical URI is `resource` (RFC 8707: absolute, lowercase
    /// scheme and host, no fragment; tokens must name it in `aud`).
    pub fn builder(resource: impl Into<String>) -> ResourceServerBuilder {
        ResourceServerBuilder {
            resource: resource.into(),
            authorization_servers: Vec::new(),
            verifier: None,
            policy: ScopePolicy::default(),
            scopes_supported: Vec::new(),
            resource_name: None,
            max_body_size: 4 * 1024 * 1024,
            body_timeout: Duration::from_secs(30),
            token_cache_bytes: 16 * 1024 * 1024,
            token_cache_lifetime: Duration::from_secs(300),
        }
    }

    /// The paths the layered service publishes the metadata at, without a token (the
    /// path-specific one, then the root one): route them to it beside the endpoint's own.
    ///
    /// ```
    /// # fn build() -> Result<(), mocopr_auth::AuthConfigError> {
    /// let auth = mocopr_auth::ResourceServer::builder("https://mcp.example.com/tenant/mcp")
    ///     .with_authorization_server("https://auth.example.com")
    ///     .build()?;
    /// assert_eq!(
    ///     auth.metadata_paths(),
    ///     ["/.well-known/oauth-protected-resource/tenant/mcp", "/.well-known/oauth-protected-resource"]
    /// );
    /// # Ok(()) }
    /// # build().unwrap();
    /// ```
    pub fn metadata_paths(&self) -> Vec<String> {
        self.inner.metadata_paths.clone()
    }
}

impl<S> tower_layer::Layer<S> for ResourceServer {
    type Service = RequireBearer<S>;

    fn layer(&self, inner: S) -> RequireBearer<S> {
        RequireBearer::new(self.inner.clone(), inner)
    }
}

/// Checks that `resource` is an absolute URI in canonical form (RFC 8707 §2).
fn canonical_resource(resource: &str) -> Result<Url, AuthConfigError> {
    let refuse = |reason| AuthConfigError::Url { what: "resource", url: resource.to_owned(), reason };
    let url = crate::fetch::check_url("resource", resource)?;
    if url.query().is_some() {
        return Err(refuse("has a query"));
    }
    let written = url.as_str();
    if written != resource && written.strip_suffix('/') != Some(resource) {
        return Err(refuse("not in canonical form (lowercase scheme and host, no default port)"));
    }
    Ok(url)
}

impl ResourceServerBuilder {
    /// An authorization server (its issuer identifier) whose tokens this resource accepts,
    /// listed in the metadata. Without [`with_verifier`](Self::with_verifier), the first one
    /// named issues JWTs checked with a [`JwtVerifier`] of default settings.
    pub fn with_authorization_server(mut self, issuer: impl Into<String>) -> Self {
        self.authorization_servers.push(issuer.into());
        self
    }

    /// How tokens are checked (a [`JwtVerifier`] with its own settings, an
    /// [`IntrospectionVerifier`](crate::IntrospectionVerifier), or one of yours).
    pub fn with_verifier(mut self, verifier: impl TokenVerifier) -> Self {
        self.verifier = Some(Arc::new(verifier));
        self
    }

    /// Scopes every request needs.
    pub fn with_required_scopes<I: IntoIterator<Item = S>, S: Into<String>>(mut self, scopes: I) -> Self {
        self.policy.always.extend(scopes.into_iter().map(Into::into));
        self
    }

    /// Scopes requests of `method` (`tools/call`, `resources/read`, ...) need.
    pub fn with_method_scopes<I: IntoIterator<Item = S>, S: Into<String>>(mut self, method: &str, scopes: I) -> Self {
        self.policy.methods.entry(method.to_owned()).or_default().extend(scopes.into_iter().map(Into::into));
        self
    }

    /// Scopes a `tools/call` of `tool` needs, beyond those of `tools/call` (a client without
    /// them is told which to ask for: step-up).
    pub fn with_tool_scopes<I: IntoIterator<Item = S>, S: Into<String>>(mut self, tool: &str, scopes: I) -> Self {
        self.policy.tools.entry(tool.to_owned()).or_default().extend(scopes.into_iter().map(Into::into));
        self
    }

    /// More scopes to list in the metadata's `scopes_supported` (every scope a requirement
    /// names is listed already).
    pub fn with_scopes_supported<I: IntoIterator<Item = S>, S: Into<String>>(mut self, scopes: I) -> Self {
        self.scopes_supported.extend(scopes.into_iter().map(Into::into));
        self
    }

    /// A name for people, in the metadata.
    pub fn with_resource_name(mut self, name: impl Into<String>) -> Self {
        self.resource_name = Some(name.into());
        self
    }

    /// Most bytes of a request body read to find its method and tool (default 4 MiB, the
    /// endpoint's own default; only when method or tool scopes are set).
    pub fn with_max_body_size(mut self, bytes: usize) -> Self {
        self.max_body_size = bytes;
        self
    }

    /// How long a request body may take to arrive when it has to be read (default 30 s).
    pub fn with_body_timeout(mut self, timeout: Duration) -> Self {
        self.body_timeout = timeout;
        self
    }

    /// Most bytes the accepted tokens' principals take in the cache (default 16 MiB), and how
    /// long one is kept at most (default 5 minutes, at most a day; never past the token's
    /// expiry). Zero bytes or a zero lifetime keeps nothing: every request is verified.
    pub fn with_token_cache(mut self, max_bytes: u64, lifetime: Duration) -> Self {
        self.token_cache_bytes = max_bytes;
        self.token_cache_lifetime = lifetime;
        self
    }

    /// Checks the settings and makes the resource server.
    pub fn build(self) -> Result<ResourceServer, AuthConfigError> {
        let url = canonical_resource(&self.resource)?;
        let verifier: Arc<dyn TokenVerifier> = match (self.verifier, self.authorization_servers.as_slice()) {
            (Some(verifier), _) => verifier,
            (None, [issuer]) => Arc::new(JwtVerifier::builder(issuer.clone(), self.resource.clone()).build()?),
            (None, []) => return Err(AuthConfigError::NoAuthorizationServer),
            // Tokens of the others would be refused: which issuers are trusted, and how, is the
            // verifier's to say.
            (None, _) => return Err(AuthConfigError::VerifierNeeded),
        };
        if let Some(bad) = self
            .policy
            .all()
            .into_iter()
            .chain(self.scopes_supported.iter().map(String::as_str))
            .find(|s| !is_scope_token(s))
        {
            return Err(AuthConfigError::Scope(bad.to_owned()));
        }
        let mut metadata = ProtectedResourceMetadata::new(self.resource.clone(), self.authorization_servers);
        let mut supported: Vec<String> = self.policy.all().into_iter().map(str::to_owned).collect();
        supported.extend(self.scopes_supported);
        supported.sort();
        supported.dedup();
        metadata.scopes_supported = supported;
        metadata.resource_name = self.resource_name;
        // Plain strings and lists: serializing cannot fail.
        let document = serde_json::to_vec(&metadata).unwrap_or_default();
        let urls = metadata_urls(&url);
        let baseline_scope = self.policy.baseline().into_iter().collect::<Vec<_>>().join(" ");
        let every_scope = self.policy.all().into_iter().map(str::to_owned).collect();
        Ok(ResourceServer {
            inner: Arc::new(Inner {
                verifier: CachedVerifier::new(verifier, self.token_cache_bytes, self.token_cache_lifetime),
                policy: self.policy,
                metadata: Bytes::from(document),
                metadata_url: urls[0].to_string(),
                metadata_paths: urls.iter().map(|u| u.path().to_owned()).collect(),
                baseline_scope,
                every_scope,
                max_body_size: self.max_body_size,
                body_timeout: self.body_timeout,
            }),
        })
    }
}

/// Whether `scope` is one scope token of RFC 6749 §3.3 (printable ASCII, no space, `"` or `\\`).
fn is_scope_token(scope: &str) -> bool {
    !scope.is_empty() && scope.bytes().all(|b| matches!(b, 0x21 | 0x23..=0x5B | 0x5D..=0x7E))
}

/// The answer to a request for the metadata document at one of its paths: `GET` (and `HEAD`)
/// get the document, readable from any origin (browser-based clients fetch it before they
/// hold a token); `OPTIONS` the CORS preflight answer; other methods `405`.
fn metadata_response(document: &Bytes, method: &Method) -> Response<Full<Bytes>> {
    use http::header::{
        ACCESS_CONTROL_ALLOW_HEADERS, ACCESS_CONTROL_ALLOW_METHODS, ACCESS_CONTROL_ALLOW_ORIGIN, ALLOW, CACHE_CONTROL,
        CONTENT_LENGTH, CONTENT_TYPE, HeaderValue,
    };
    let empty = |status| {
        let mut response = Response::new(Full::new(Bytes::new()));
        *response.status_mut() = status;
        response
    };
    let mut response = match *method {
        Method::GET => Response::new(Full::new(document.clone())),
        Method::HEAD => {
            let mut response = empty(StatusCode::OK);
            response.headers_mut().insert(CONTENT_LENGTH, HeaderValue::from(document.len()));
            response
        }
        Method::OPTIONS => {
            let mut response = empty(StatusCode::NO_CONTENT);
            let headers = response.headers_mut();
            headers.insert(ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static("GET, HEAD, OPTIONS"));
            headers.insert(ACCESS_CONTROL_ALLOW_HEADERS, HeaderValue::from_static("MCP-Protocol-Version"));
            headers.insert(ALLOW, HeaderValue::from_static("GET, HEAD, OPTIONS"));
            response
        }
        _ => {
            let mut response = empty(StatusCode::METHOD_NOT_ALLOWED);
            response.headers_mut().insert(ALLOW, HeaderValue::from_static("GET, HEAD, OPTIONS"));
            response.headers_mut().insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response.headers_mut().insert(ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
            return response;
        }
    };
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("max-age=3600"));
    headers.insert(ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    response
}

impl Inner {
    /// The metadata answer, when `request` is for one of the metadata paths.
    fn metadata_answer<B>(&self, request: &Request<B>) -> Option<Response<Full<Bytes>>> {
        let path = request.uri().path();
        self.metadata_paths.iter().any(|p| p == path).then(|| metadata_response(&self.metadata, request.method()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resources_must_be_canonical() {
        assert!(canonical_resource("https://mcp.example.com/mcp").is_ok());
        assert!(canonical_resource("https://mcp.example.com").is_ok());
        assert!(canonical_resource("https://mcp.example.com/").is_ok());
        assert!(canonical_resource("https://MCP.example.com/mcp").is_err());
        assert!(canonical_resource("https://mcp.example.com:443/mcp").is_err());
        assert!(canonical_resource("https://mcp.example.com/mcp#x").is_err());
        assert!(canonical_resource("https://mcp.example.com/mcp?x=1").is_err());
        assert!(canonical_resource("/mcp").is_err());
    }

    #[test]
    fn a_resource_server_needs_a_way_to_check_tokens() {
        assert!(matches!(
            ResourceServer::builder("https://mcp.example.com/mcp").build(),
            Err(AuthConfigError::NoAuthorizationServer)
        ));
        let two = ResourceServer::builder("https://mcp.example.com/mcp")
            .with_authorization_server("https://a.example.com")
            .with_authorization_server("https://b.example.com")
            .build();
        assert!(matches!(two, Err(AuthConfigError::VerifierNeeded)));
    }

    #[test]
    fn scopes_must_be_scope_tokens() {
        assert!(is_scope_token("files:read") && is_scope_token("https://api.example.com/x"));
        for bad in ["", "two words", "quo\"te", "back\\slash", "caf\u{e9}"] {
            assert!(!is_scope_token(bad), "{bad:?}");
        }
        let built = ResourceServer::builder("https://mcp.example.com/mcp")
            .with_authorization_server("https://a.example.com")
            .with_tool_scopes("wipe", ["admin tools"])
            .build();
        assert!(matches!(built, Err(AuthConfigError::Scope(scope)) if scope == "admin tools"));
    }

    #[test]
    fn the_metadata_lists_every_scope_and_is_published_at_both_paths() {
        let server = ResourceServer::builder("http://127.0.0.1:9/mcp")
            .with_authorization_server("http://127.0.0.1:8")
            .with_method_scopes("tools/call", ["tools"])
            .with_tool_scopes("wipe", ["admin"])
            .with_scopes_supported(["files:read"])
            .build()
            .unwrap();
        assert_eq!(
            server.metadata_paths(),
            ["/.well-known/oauth-protected-resource/mcp", "/.well-known/oauth-protected-resource"]
        );
        let document: serde_json::Value = serde_json::from_slice(&server.inner.metadata).unwrap();
        assert_eq!(document["resource"], "http://127.0.0.1:9/mcp");
        assert_eq!(document["scopes_supported"], serde_json::json!(["admin", "files:read", "tools"]));
        assert_eq!(server.inner.baseline_scope, "tools");
    }
}
