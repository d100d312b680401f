//! [`IntrospectionVerifier`]: opaque access tokens, checked by asking the authorization server
//! that issued them (RFC 7662).
//!
//! The token goes to that server's introspection endpoint and nowhere else; the resource
//! server authenticates itself there with its own client credentials (HTTP Basic). An active
//! token must name this resource in `aud` and, when it names an issuer, the configured one.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use futures_util::future::BoxFuture;
use serde_json::{Map, Value};
use url::Url;

use crate::discovery::{discover, issuer_spellings};
use crate::error::{AuthConfigError, TokenError};
use crate::fetch::{Fetcher, check_url};
use crate::verifier::{TokenVerifier, Verified, numeric_date, principal_from_claims};

/// Longest token sent for introspection.
const MAX_TOKEN_BYTES: usize = 16 * 1024;

/// How long after a failed metadata discovery the issuer is asked again.
const DISCOVERY_RETRY: Duration = Duration::from_secs(10);

/// Most introspection requests in flight at once.
const MAX_IN_FLIGHT: usize = 32;

/// Longest a token waits for one of the [`MAX_IN_FLIGHT`] introspections.
const MAX_QUEUE_WAIT: Duration = Duration::from_secs(2);

/// Clock skew tolerated on `nbf`.
const NBF_LEEWAY_SECS: u64 = 60;

/// Checks opaque tokens with the authorization server's introspection endpoint. Cheap to clone.
///
/// ```
/// use mocopr_auth::IntrospectionVerifier;
///
/// let verifier = IntrospectionVerifier::builder("https://auth.example.com", "https://mcp.example.com/mcp")
///     .with_client_credentials("mcp-resource", "s3cret")
///     .build()?;
/// # Ok::<(), mocopr_auth::AuthConfigError>(())
/// ```
#[derive(Debug, Clone)]
pub struct IntrospectionVerifier {
    inner: Arc<Inner>,
}

struct Inner {
    issuer: String,
    issuer_url: Url,
    issuers: Vec<String>,
    audiences: Vec<String>,
    credentials: Option<(String, String)>,
    fetcher: Fetcher,
    endpoint: tokio::sync::OnceCell<Url>,
    discovery_failed: Mutex<Option<Instant>>,
    in_flight: tokio::sync::Semaphore,
}

// The client secret stays out of debug output.
impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IntrospectionVerifier")
            .field("issuer", &self.issuer)
            .field("audiences", &self.audiences)
            .field("client_id", &self.credentials.as_ref().map(|(id, _)| id))
            .finish_non_exhaustive()
    }
}

/// Sets up an [`IntrospectionVerifier`]; made by [`IntrospectionVerifier::builder`].
#[derive(Clone)]
#[must_use = "a builder does nothing until built"]
pub struct IntrospectionVerifierBuilder {
    issuer: String,
    audience: String,
    endpoint: Option<String>,
    credentials: Option<(String, String)>,
}

impl std::fmt::Debug for IntrospectionVerifierBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IntrospectionVerifierBuilder")
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("endpoint", &self.endpoint)
            .finish_non_exhaustive()
    }
}

impl IntrospectionVerifier {
    /// Tokens issued by `issuer` for `audience` (the resource's canonical URI).
    pub fn builder(issuer: impl Into<String>, audience: impl Into<String>) -> IntrospectionVerifierBuilder {
        IntrospectionVerifierBuilder {
            issuer: issuer.into(),
            audience: audience.into(),
            endpoint: None,
            credentials: None,
        }
    }

    async fn endpoint(&self) -> Result<&Url, TokenError> {
        if let Some(endpoint) = self.inner.endpoint.get() {
            return Ok(endpoint);
        }
        // An issuer that could not be reached is asked again only after a pause, so that an
        // outage costs one discovery per interval, not one per request.
        let failed = *self.inner.discovery_failed.lock().unwrap_or_else(PoisonError::into_inner);
        if failed.is_some_and(|at| at.elapsed() < DISCOVERY_RETRY) {
            return Err(TokenError::Unavailable("the issuer's metadata could not be fetched"));
        }
        let found = self
            .inner
            .endpoint
            .get_or_try_init(|| async {
                let metadata = discover(&self.inner.fetcher, &self.inner.issuer, &self.inner.issuer_url)
                    .await
                    .map_err(|error| {
                        tracing::warn!(issuer = %self.inner.issuer, %error, "authorization-server metadata not found");
                        TokenError::Unavailable("the issuer's metadata could not be fetched")
                    })?;
                metadata
                    .introspection_endpoint
                    .as_deref()
                    .and_then(|uri| check_url("introspection_endpoint", uri).ok())
                    .ok_or(TokenError::Unavailable("the issuer publishes no usable introspection endpoint"))
            })
            .await;
        if found.is_err() {
            *self.inner.discovery_failed.lock().unwrap_or_else(PoisonError::into_inner) = Some(Instant::now());
        }
        found
    }

    async fn check(&self, token: &str) -> Result<Verified, TokenError> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(TokenError::Invalid("token too large"));
        }
        let endpoint = self.endpoint().await?;
        // However many requests arrive with new tokens, the issuer sees a bounded number of
        // introspections at once; a request does not wait long for its turn (a flood of made-up
        // tokens gets `503`s, not a queue that holds every new caller back).
        let _permit = tokio::time::timeout(MAX_QUEUE_WAIT, self.inner.in_flight.acquire())
            .await
            .ok()
            .and_then(Result::ok)
            .ok_or(TokenError::Unavailable("the token could not be introspected"))?;
        let basic = self.inner.credentials.as_ref().map(|(id, secret)| (id.as_str(), secret.as_str()));
        let answer: Map<String, Value> = self
            .inner
            .fetcher
            .post_form(endpoint, &[("token", token), ("token_type_hint", "access_token")], basic)
            .await
            .map_err(|error| {
                tracing::warn!(issuer = %self.inner.issuer, %error, "token introspection failed");
                TokenError::Unavailable("the token could not be introspected")
            })?;
        if answer.get("active") != Some(&Value::Bool(true)) {
            return Err(TokenError::Invalid("token not active"));
        }
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
        let expires_at = answer.get("exp").and_then(numeric_date);
        if expires_at.is_some_and(|exp| exp <= now) {
            return Err(TokenError::Invalid("token expired"));
        }
        if answer.get("nbf").and_then(numeric_date).is_some_and(|nbf| nbf > now.saturating_add(NBF_LEEWAY_SECS)) {
            return Err(TokenError::Invalid("token not yet valid"));
        }
        // A bearer access token; anything else (a refresh token, a sender-constrained DPoP
        // token this resource cannot check the proof of) is not accepted here.
        if answer.get("token_type").is_some_and(|kind| !kind.as_str().is_some_and(|k| k.eq_ignore_ascii_case("bearer")))
        {
            return Err(TokenError::Invalid("not a bearer access token"));
        }
        if answer.contains_key("cnf") {
            return Err(TokenError::Invalid("token bound to a key: not accepted as a bearer token"));
        }
        let ours = |aud: &Value| aud.as_str().is_some_and(|aud| self.inner.audiences.iter().any(|a| a == aud));
        let audience_named = match answer.get("aud") {
            Some(Value::Array(list)) => list.iter().any(ours),
            Some(aud) => ours(aud),
            None => false,
        };
        if !audience_named {
            return Err(TokenError::Invalid("token issued for another resource"));
        }
        if answer
            .get("iss")
            .is_some_and(|iss| !iss.as_str().is_some_and(|iss| self.inner.issuers.iter().any(|i| i == iss)))
        {
            return Err(TokenError::Invalid("token from another issuer"));
        }
        let principal = principal_from_claims(answer).ok_or(TokenError::Invalid("token names no subject or client"))?;
        Ok(Verified::new(principal, expires_at))
    }
}

impl TokenVerifier for IntrospectionVerifier {
    fn verify<'a>(&'a self, token: &'a str) -> BoxFuture<'a, Result<Verified, TokenError>> {
        Box::pin(self.check(token))
    }
}

impl IntrospectionVerifierBuilder {
    /// The introspection endpoint (default: the issuer metadata's `introspection_endpoint`).
    pub fn with_endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.endpoint = Some(endpoint.into());
        self
    }

    /// The resource server's own client credentials at the authorization server (sent with
    /// HTTP Basic authentication; most servers require them).
    pub fn with_client_credentials(mut self, client_id: impl Into<String>, client_secret: impl Into<String>) -> Self {
        self.credentials = Some((client_id.into(), client_secret.into()));
        self
    }

    /// Checks the settings and makes the verifier.
    pub fn build(self) -> Result<IntrospectionVerifier, AuthConfigError> {
        let issuer_url = check_url("issuer", &self.issuer)?;
        let endpoint = tokio::sync::OnceCell::new();
        if let Some(uri) = &self.endpoint {
            // A fresh cell takes its first value.
            let _ = endpoint.set(check_url("introspection_endpoint", uri)?);
        }
        Ok(IntrospectionVerifier {
            inner: Arc::new(Inner {
                issuers: issuer_spellings(&self.issuer, &issuer_url),
                issuer: self.issuer,
                issuer_url,
                audiences: crate::verifier::with_slash_variants(vec![self.audience]),
                credentials: self.credentials,
                fetcher: Fetcher::new()?,
                endpoint,
                discovery_failed: Mutex::new(None),
                in_flight: tokio::sync::Semaphore::new(MAX_IN_FLIGHT),
            }),
        })
    }
}
