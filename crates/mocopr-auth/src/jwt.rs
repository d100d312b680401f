//! [`JwtVerifier`]: access tokens that are JWTs signed by the issuer (RFC 9068), checked against
//! the issuer's published keys.
//!
//! The keys come from the issuer's `jwks_uri` (found through its metadata unless given), are
//! kept, refreshed once they are older than the key lifetime, and fetched again when a token
//! names a key the set lacks (a rotation), at most once per refetch interval so that tokens
//! naming made-up keys cannot turn into a flood of requests to the issuer. Only asymmetric
//! algorithms are accepted, each only with a key of its own kind: `none` does not parse, and an
//! HMAC token signed with a public key (key confusion) finds no key to check it with.

use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, Instant};

use futures_util::future::BoxFuture;
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, KeyAlgorithm, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Map, Value};
use url::Url;

use crate::discovery::{discover, issuer_spellings};
use crate::error::{AuthConfigError, TokenError};
use crate::fetch::{Fetcher, check_url};
use crate::verifier::{TokenVerifier, Verified, numeric_date, principal_from_claims};

/// Longest token accepted (a JWT access token is a few hundred bytes to a few KiB).
const MAX_TOKEN_BYTES: usize = 16 * 1024;

/// Longest clock skew tolerated on `exp` and `nbf`.
const MAX_LEEWAY: Duration = Duration::from_secs(300);

/// Most keys kept from one key set.
const MAX_KEYS: usize = 64;

/// Checks JWT access tokens against the issuer's keys. Cheap to clone.
///
/// ```
/// use std::time::Duration;
/// use mocopr_auth::JwtVerifier;
///
/// let verifier = JwtVerifier::builder("https://auth.example.com", "https://mcp.example.com/mcp")
///     .with_leeway(Duration::from_secs(30))
///     .build()?;
/// # Ok::<(), mocopr_auth::AuthConfigError>(())
/// ```
#[derive(Debug, Clone)]
pub struct JwtVerifier {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    issuer: String,
    issuer_url: Url,
    /// Every spelling of the issuer a token's `iss` may carry.
    issuers: Vec<String>,
    audiences: Vec<String>,
    algorithms: Vec<Algorithm>,
    leeway: Duration,
    key_lifetime: Duration,
    refetch_interval: Duration,
    fetcher: Fetcher,
    keys: RwLock<Arc<KeySet>>,
    refresh: tokio::sync::Mutex<Refresh>,
}

#[derive(Debug, Default)]
struct KeySet {
    keys: Vec<Key>,
    /// When the set was fetched (`None`: never).
    fetched: Option<Instant>,
}

struct Key {
    id: Option<String>,
    /// The algorithms this key may check: its `alg` if it names one, else those of its kind.
    algorithms: Vec<Algorithm>,
    key: DecodingKey,
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Key").field("id", &self.id).field("algorithms", &self.algorithms).finish_non_exhaustive()
    }
}

#[derive(Debug)]
struct Refresh {
    jwks_uri: Option<Url>,
    last_attempt: Option<Instant>,
}

/// Sets up a [`JwtVerifier`]; made by [`JwtVerifier::builder`].
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until built"]
pub struct JwtVerifierBuilder {
    issuer: String,
    audiences: Vec<String>,
    algorithms: Vec<Algorithm>,
    jwks_uri: Option<String>,
    leeway: Duration,
    key_lifetime: Duration,
    refetch_interval: Duration,
}

impl JwtVerifier {
    /// Tokens issued by `issuer` (its identifier, exactly as its metadata and tokens' `iss`
    /// write it) for `audience` (the resource's canonical URI, RFC 8707).
    pub fn builder(issuer: impl Into<String>, audience: impl Into<String>) -> JwtVerifierBuilder {
        JwtVerifierBuilder {
            issuer: issuer.into(),
            audiences: vec![audience.into()],
            algorithms: vec![
                Algorithm::RS256,
                Algorithm::RS384,
                Algorithm::RS512,
                Algorithm::PS256,
                Algorithm::PS384,
                Algorithm::PS512,
                Algorithm::ES256,
                Algorithm::ES384,
                Algorithm::EdDSA,
            ],
            jwks_uri: None,
            leeway: Duration::from_secs(60),
            key_lifetime: Duration::from_secs(3600),
            refetch_interval: Duration::from_secs(10),
        }
    }

    fn keys(&self) -> Arc<KeySet> {
        self.inner.keys.read().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// Fetches the key set again unless another caller did since `seen` was read, or the last
    /// attempt was less than `interval` ago.
    async fn refresh(&self, seen: &Arc<KeySet>, interval: Duration) -> Result<(), TokenError> {
        let mut refresh = self.inner.refresh.lock().await;
        if !Arc::ptr_eq(seen, &self.keys()) {
            return Ok(());
        }
        if refresh.last_attempt.is_some_and(|at| at.elapsed() < interval) {
            return Ok(());
        }
        refresh.last_attempt = Some(Instant::now());
        let jwks_uri = match &refresh.jwks_uri {
            Some(uri) => uri.clone(),
            None => {
                let metadata = discover(&self.inner.fetcher, &self.inner.issuer, &self.inner.issuer_url)
                    .await
                    .map_err(|error| {
                        tracing::warn!(issuer = %self.inner.issuer, %error, "authorization-server metadata not found");
                        TokenError::Unavailable("the issuer's metadata could not be fetched")
                    })?;
                let uri = metadata
                    .jwks_uri
                    .as_deref()
                    .and_then(|uri| check_url("jwks_uri", uri).ok())
                    .ok_or(TokenError::Unavailable("the issuer publishes no usable jwks_uri"))?;
                refresh.jwks_uri = Some(uri.clone());
                uri
            }
        };
        let set: KeySetDocument = self.inner.fetcher.get_json(&jwks_uri).await.map_err(|error| {
            tracing::warn!(issuer = %self.inner.issuer, %error, "the issuer's key set could not be fetched");
            TokenError::Unavailable("the issuer's keys could not be fetched")
        })?;
        let keys: Vec<Key> = set.keys.into_iter().filter_map(usable_key).take(MAX_KEYS).collect();
        tracing::debug!(issuer = %self.inner.issuer, keys = keys.len(), "key set fetched");
        *self.inner.keys.write().unwrap_or_else(PoisonError::into_inner) =
            Arc::new(KeySet { keys, fetched: Some(Instant::now()) });
        Ok(())
    }

    async fn check(&self, token: &str) -> Result<Verified, TokenError> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(TokenError::Invalid("token too large"));
        }
        let header = jsonwebtoken::decode_header(token).map_err(|_| TokenError::Invalid("malformed token"))?;
        if !self.inner.algorithms.contains(&header.alg) {
            return Err(TokenError::Invalid("signature algorithm not allowed"));
        }
        let mut keys = self.keys();
        let lifetime = self.inner.key_lifetime;
        let is_stale = |keys: &KeySet| keys.fetched.is_none_or(|at| at.elapsed() >= lifetime);
        let stale = is_stale(&keys);
        if stale {
            // Attempts are rate-limited like refetches, so that an unreachable issuer costs one
            // fetch per interval, not one per request; an old set still checks tokens meanwhile.
            let refreshed = self.refresh(&keys, self.inner.refetch_interval).await;
            keys = self.keys();
            if keys.fetched.is_none() {
                refreshed?;
                return Err(TokenError::Unavailable("the issuer's keys could not be fetched"));
            }
        }
        let mut found = select(&keys, header.kid.as_deref(), header.alg);
        if matches!(found, Err(TokenError::Invalid(_))) {
            if is_stale(&keys) {
                // The set is old because the issuer did not answer: a key it lacks may be a
                // rotation it cannot see, so the token cannot be judged now.
                return Err(TokenError::Unavailable("the issuer's keys could not be fetched"));
            }
            if !stale {
                // A key the set lacks: the issuer may have rotated its keys.
                self.refresh(&keys, self.inner.refetch_interval).await?;
                keys = self.keys();
                found = select(&keys, header.kid.as_deref(), header.alg);
            }
        }
        let key = found?;
        let mut validation = Validation::new(header.alg);
        validation.set_issuer(&self.inner.issuers);
        validation.set_audience(&self.inner.audiences);
        validation.set_required_spec_claims(&["exp", "iss", "aud"]);
        validation.leeway = self.inner.leeway.as_secs();
        validation.validate_nbf = true;
        let data = jsonwebtoken::decode::<Map<String, Value>>(token, &key.key, &validation).map_err(|error| {
            use jsonwebtoken::errors::ErrorKind;
            TokenError::Invalid(match error.kind() {
                ErrorKind::ExpiredSignature => "token expired",
                ErrorKind::ImmatureSignature => "token not yet valid",
                ErrorKind::InvalidAudience => "token issued for another resource",
                ErrorKind::InvalidIssuer => "token from another issuer",
                ErrorKind::InvalidSignature => "bad signature",
                ErrorKind::MissingRequiredClaim(_) => "token lacks a required claim",
                _ => "malformed token",
            })
        })?;
        // A token bound to a key (RFC 9449 DPoP, RFC 8705 mTLS: `cnf`) is worth nothing without
        // the proof of that key, which a bearer resource does not check: such a token, stolen,
        // would be replayable here.
        if data.claims.contains_key("cnf") {
            return Err(TokenError::Invalid("token bound to a key: not accepted as a bearer token"));
        }
        let expires_at = data.claims.get("exp").and_then(numeric_date);
        let principal =
            principal_from_claims(data.claims).ok_or(TokenError::Invalid("token names no subject or client"))?;
        Ok(Verified::new(principal, expires_at))
    }
}

/// The refusal of a token naming a key the issuer's set lacks: not kept in the verdict cache,
/// as a key rotation the set has not caught up with yet (its refetches are rate-limited) may
/// make the token good a moment later.
pub(crate) const UNKNOWN_KEY: &str = "unknown signing key";

/// The key of `keys` that checks a token of `alg` naming `kid`. A token naming no key is
/// checked only when one key fits.
fn select<'k>(keys: &'k KeySet, kid: Option<&str>, alg: Algorithm) -> Result<&'k Key, TokenError> {
    let mut fitting = keys
        .keys
        .iter()
        .filter(|key| kid.is_none_or(|kid| key.id.as_deref() == Some(kid)) && key.algorithms.contains(&alg));
    match (fitting.next(), fitting.next()) {
        (Some(key), None) => Ok(key),
        (Some(_), Some(_)) if kid.is_none() => Err(TokenError::Invalid("token names no signing key")),
        (Some(key), Some(_)) => Ok(key),
        (None, _) => Err(TokenError::Invalid(UNKNOWN_KEY)),
    }
}

impl TokenVerifier for JwtVerifier {
    fn verify<'a>(&'a self, token: &'a str) -> BoxFuture<'a, Result<Verified, TokenError>> {
        Box::pin(self.check(token))
    }
}

/// A JWK Set, each key left undecoded so that one key this crate cannot use (an encryption
/// key, an unknown type) does not spoil the others.
#[derive(serde::Deserialize)]
struct KeySetDocument {
    keys: Vec<Value>,
}

/// The key `value` describes, if it is a public signing key of a kind this crate checks.
fn usable_key(value: Value) -> Option<Key> {
    let jwk: Jwk = serde_json::from_value(value).ok()?;
    if matches!(&jwk.common.public_key_use, Some(use_) if *use_ != PublicKeyUse::Signature) {
        return None;
    }
    let of_kind: &[Algorithm] = match &jwk.algorithm {
        AlgorithmParameters::RSA(_) => &[
            Algorithm::RS256,
            Algorithm::RS384,
            Algorithm::RS512,
            Algorithm::PS256,
            Algorithm::PS384,
            Algorithm::PS512,
        ],
        AlgorithmParameters::EllipticCurve(ec) => match ec.curve {
            EllipticCurve::P256 => &[Algorithm::ES256],
            EllipticCurve::P384 => &[Algorithm::ES384],
            _ => return None,
        },
        AlgorithmParameters::OctetKeyPair(okp) if okp.curve == EllipticCurve::Ed25519 => &[Algorithm::EdDSA],
        // Shared secrets (`oct`) never check access tokens here.
        _ => return None,
    };
    let algorithms = match jwk.common.key_algorithm {
        None => of_kind.to_vec(),
        Some(named) => {
            let alg = key_algorithm(named)?;
            if !of_kind.contains(&alg) {
                return None;
            }
            vec![alg]
        }
    };
    let key = DecodingKey::from_jwk(&jwk).ok()?;
    Some(Key { id: jwk.common.key_id, algorithms, key })
}

fn key_algorithm(named: KeyAlgorithm) -> Option<Algorithm> {
    Some(match named {
        KeyAlgorithm::RS256 => Algorithm::RS256,
        KeyAlgorithm::RS384 => Algorithm::RS384,
        KeyAlgorithm::RS512 => Algorithm::RS512,
        KeyAlgorithm::PS256 => Algorithm::PS256,
        KeyAlgorithm::PS384 => Algorithm::PS384,
        KeyAlgorithm::PS512 => Algorithm::PS512,
        KeyAlgorithm::ES256 => Algorithm::ES256,
        KeyAlgorithm::ES384 => Algorithm::ES384,
        KeyAlgorithm::EdDSA => Algorithm::EdDSA,
        _ => return None,
    })
}

impl JwtVerifierBuilder {
    /// Also accepts tokens whose `aud` names `audience` (a second name of the same resource).
    pub fn with_audience(mut self, audience: impl Into<String>) -> Self {
        self.audiences.push(audience.into());
        self
    }

    /// The signature algorithms accepted (default: RS256/384/512, PS256/384/512, ES256, ES384,
    /// EdDSA). HMAC algorithms are refused by [`build`](Self::build).
    pub fn with_algorithms(mut self, algorithms: impl IntoIterator<Item = Algorithm>) -> Self {
        self.algorithms = algorithms.into_iter().collect();
        self
    }

    /// Where the issuer's keys are (default: its metadata's `jwks_uri`).
    pub fn with_jwks_uri(mut self, uri: impl Into<String>) -> Self {
        self.jwks_uri = Some(uri.into());
        self
    }

    /// Clock skew tolerated on `exp` and `nbf` (default 60 s, at most 5 minutes: a longer
    /// leeway would keep expired tokens working).
    pub fn with_leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway.min(MAX_LEEWAY);
        self
    }

    /// How long a fetched key set is used before it is fetched again (default 1 hour; an older
    /// set keeps checking tokens while the issuer cannot be reached).
    pub fn with_key_lifetime(mut self, lifetime: Duration) -> Self {
        self.key_lifetime = lifetime;
        self
    }

    /// The shortest time between two fetches for a token naming an unknown key (default 10 s).
    pub fn with_refetch_interval(mut self, interval: Duration) -> Self {
        self.refetch_interval = interval;
        self
    }

    /// Checks the settings and makes the verifier; keys are fetched when the first token
    /// arrives.
    pub fn build(self) -> Result<JwtVerifier, AuthConfigError> {
        let issuer_url = check_url("issuer", &self.issuer)?;
        if issuer_url.query().is_some() {
            return Err(AuthConfigError::Url { what: "issuer", url: self.issuer, reason: "has a query" });
        }
        let jwks_uri = self.jwks_uri.as_deref().map(|uri| check_url("jwks_uri", uri)).transpose()?;
        if self.algorithms.is_empty() {
            return Err(AuthConfigError::NoAlgorithm);
        }
        if let Some(hmac) =
            self.algorithms.iter().find(|alg| matches!(alg, Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512))
        {
            return Err(AuthConfigError::Algorithm(*hmac));
        }
        Ok(JwtVerifier {
            inner: Arc::new(Inner {
                issuers: issuer_spellings(&self.issuer, &issuer_url),
                issuer: self.issuer,
                issuer_url,
                audiences: crate::verifier::with_slash_variants(self.audiences),
                algorithms: self.algorithms,
                leeway: self.leeway,
                key_lifetime: self.key_lifetime,
                refetch_interval: self.refetch_interval,
                fetcher: Fetcher::new()?,
                keys: RwLock::default(),
                refresh: tokio::sync::Mutex::new(Refresh { jwks_uri, last_attempt: None }),
            }),
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn hmac_is_refused_at_build() {
        let built = JwtVerifier::builder("https://a.example", "https://r.example/mcp")
            .with_algorithms([Algorithm::RS256, Algorithm::HS256])
            .build();
        assert!(matches!(built, Err(AuthConfigError::Algorithm(Algorithm::HS256))));
        assert!(JwtVerifier::builder("http://a.example", "x").build().is_err());
    }

    #[test]
    fn keys_check_only_their_own_algorithms() {
        let ec = json!({"kty": "EC", "crv": "P-256", "kid": "e",
            "x": "qGEcHUNU8gVl6AZzBRBv6fAmVQOoE6N8heJqK7dKvmM", "y": "tNDqciRR0FI1w72d9WcJHLOLiEFMZwGcpwdeT3zZ92M"});
        let key = usable_key(ec.clone()).unwrap();
        assert_eq!(key.algorithms, [Algorithm::ES256]);
        let mut wrong = ec.clone();
        wrong["alg"] = json!("RS256");
        assert!(usable_key(wrong).is_none());
        let mut encryption = ec;
        encryption["use"] = json!("enc");
        assert!(usable_key(encryption).is_none());
        assert!(usable_key(json!({"kty": "oct", "k": "c2VjcmV0"})).is_none());
        assert!(usable_key(json!({"kty": "RSA", "alg": "RSA-OAEP", "n": "AQAB", "e": "AQAB"})).is_none());
    }

    #[test]
    fn a_token_naming_no_key_is_checked_only_when_one_fits() {
        let ec = json!({"kty": "EC", "crv": "P-256",
            "x": "qGEcHUNU8gVl6AZzBRBv6fAmVQOoE6N8heJqK7dKvmM", "y": "tNDqciRR0FI1w72d9WcJHLOLiEFMZwGcpwdeT3zZ92M"});
        let one = KeySet { keys: vec![usable_key(ec.clone()).unwrap()], fetched: None };
        assert!(select(&one, None, Algorithm::ES256).is_ok());
        assert!(select(&one, None, Algorithm::RS256).is_err());
        let two = KeySet { keys: vec![usable_key(ec.clone()).unwrap(), usable_key(ec).unwrap()], fetched: None };
        assert_eq!(select(&two, None, Algorithm::ES256).err(), Some(TokenError::Invalid("token names no signing key")));
    }
}
