//! [`TestAuthorizationServer`]: a small OAuth authorization server for tests, on a loopback
//! port, that signs real JWT access tokens with a key it generates and publishes its RFC 8414
//! metadata and its JWKS; it registers clients (RFC 7591) and runs the authorization-code grant
//! with PKCE and refresh tokens (approving every authorization at once, for a set subject).

mod grants;

use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::extract::State;
use axum::routing::get;
use base64::Engine;
use jsonwebtoken::jwk::{
    AlgorithmParameters, CommonParameters, EllipticCurve, Jwk, JwkSet, OctetKeyPairParameters, OctetKeyPairType,
    PublicKeyUse,
};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

/// One signing key: its id, the private key, and its public half as a JWK.
struct SigningKey {
    id: String,
    encoding: EncodingKey,
    public: Jwk,
    public_pem: String,
}

impl SigningKey {
    fn generate(algorithm: Algorithm, id: String) -> io::Result<Self> {
        let signature = match algorithm {
            Algorithm::RS256 => &rcgen::PKCS_RSA_SHA256,
            Algorithm::ES256 => &rcgen::PKCS_ECDSA_P256_SHA256,
            Algorithm::EdDSA => &rcgen::PKCS_ED25519,
            other => return Err(io::Error::other(format!("no test keys for {other:?}"))),
        };
        let pair = rcgen::KeyPair::generate_for(signature).map_err(io::Error::other)?;
        let pem = pair.serialize_pem();
        let encoding = match algorithm {
            Algorithm::RS256 => EncodingKey::from_rsa_pem(pem.as_bytes()),
            Algorithm::ES256 => EncodingKey::from_ec_pem(pem.as_bytes()),
            _ => EncodingKey::from_ed_pem(pem.as_bytes()),
        }
        .map_err(io::Error::other)?;
        let mut public = if algorithm == Algorithm::EdDSA {
            // The public key of an Ed25519 pair is its 32 raw bytes.
            let x = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(pair.public_key_raw());
            Jwk {
                common: CommonParameters::default(),
                algorithm: AlgorithmParameters::OctetKeyPair(OctetKeyPairParameters {
                    key_type: OctetKeyPairType::OctetKeyPair,
                    curve: EllipticCurve::Ed25519,
                    x,
                }),
            }
        } else {
            Jwk::from_encoding_key(&encoding, algorithm).map_err(io::Error::other)?
        };
        public.common.key_id = Some(id.clone());
        public.common.public_key_use = Some(PublicKeyUse::Signature);
        public.common.key_algorithm =
            Some(serde_json::from_value(json!(format!("{algorithm:?}"))).map_err(io::Error::other)?);
        Ok(SigningKey { id, encoding, public, public_pem: pair.public_key_pem() })
    }
}

struct Shared {
    issuer: String,
    algorithm: Algorithm,
    key: Mutex<Arc<SigningKey>>,
    generation: AtomicUsize,
    jwks_fetches: AtomicUsize,
    /// Opaque tokens issued, with their claims (what introspection answers).
    opaque: Mutex<std::collections::HashMap<String, Value>>,
    /// Registrations, codes and refresh tokens of the authorization-code grant.
    grants: grants::Grants,
}

/// The client credentials the resource server presents at `/introspect`.
pub const INTROSPECTION_CLIENT: (&str, &str) = ("resource-server", "resource-secret");

/// An authorization server on a loopback port, stopped when dropped. It publishes
/// `/.well-known/oauth-authorization-server` (RFC 8414) and `/jwks`, and signs access tokens
/// (RS256 by default, or ES256 / EdDSA) with a key it generated; [`rotate_key`] replaces the
/// key, as a real server rotating its keys does.
///
/// ```no_run
/// use mocopr_testing::TestAuthorizationServer;
///
/// # async fn run() -> std::io::Result<()> {
/// let auth = TestAuthorizationServer::start().await?;
/// let token = auth.token(&auth.claims("alice", "http://127.0.0.1:8080/mcp", &["mcp:tools"]))?;
/// // send it as `Authorization: Bearer {token}`
/// # let _ = token; Ok(()) }
/// ```
///
/// [`rotate_key`]: TestAuthorizationServer::rotate_key
pub struct TestAuthorizationServer {
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for TestAuthorizationServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestAuthorizationServer").field("issuer", &self.shared.issuer).finish_non_exhaustive()
    }
}

impl Drop for TestAuthorizationServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

impl TestAuthorizationServer {
    /// Starts a server signing with RS256.
    pub async fn start() -> io::Result<Self> {
        Self::start_with_algorithm(Algorithm::RS256).await
    }

    /// Starts a server signing with `algorithm` (RS256, ES256 or EdDSA).
    pub async fn start_with_algorithm(algorithm: Algorithm) -> io::Result<Self> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let issuer = format!("http://{}", listener.local_addr()?);
        let shared = Arc::new(Shared {
            key: Mutex::new(Arc::new(SigningKey::generate(algorithm, "key-1".to_owned())?)),
            issuer,
            algorithm,
            generation: AtomicUsize::new(1),
            jwks_fetches: AtomicUsize::new(0),
            opaque: Mutex::default(),
            grants: grants::Grants::default(),
        });
        let router = axum::Router::new()
            .route("/.well-known/oauth-authorization-server", get(metadata))
            .route("/jwks", get(jwks))
            .route("/introspect", axum::routing::post(introspect))
            .route("/register", axum::routing::post(grants::register))
            .route("/authorize", get(grants::authorize))
            .route("/token", axum::routing::post(grants::token))
            .with_state(shared.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        Ok(TestAuthorizationServer { shared, task })
    }

    /// The issuer identifier (`http://127.0.0.1:PORT`).
    pub fn issuer(&self) -> &str {
        &self.shared.issuer
    }

    /// The usual claims of an access token for `subject` at `audience` with `scopes`: issued
    /// by this server, valid from now for an hour, client `test-client`.
    pub fn claims(&self, subject: &str, audience: &str, scopes: &[&str]) -> Value {
        let now = now();
        json!({
            "iss": self.shared.issuer,
            "sub": subject,
            "aud": audience,
            "client_id": "test-client",
            "scope": scopes.join(" "),
            "iat": now,
            "nbf": now,
            "exp": now + 3600,
        })
    }

    /// Signs `claims` (as they are) with the current key, naming it in `kid`.
    pub fn token(&self, claims: &Value) -> io::Result<String> {
        sign(&self.shared, claims)
    }

    /// Whom the authorizations it approves are for (default `alice`).
    pub fn set_subject(&self, subject: &str) {
        *self.shared.grants.subject.lock().unwrap_or_else(PoisonError::into_inner) = subject.to_owned();
    }

    /// How long the access tokens of its token endpoint are valid (default an hour).
    pub fn set_token_lifetime(&self, lifetime: std::time::Duration) {
        self.shared.grants.lifetime.store(lifetime.as_secs(), Ordering::Release);
    }

    /// How many authorizations it approved, and the scopes each asked for.
    pub fn authorizations(&self) -> Vec<String> {
        self.shared.grants.authorizations.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// How many access tokens it issued for a refresh token.
    pub fn refreshes(&self) -> usize {
        self.shared.grants.refreshes.load(Ordering::Acquire)
    }

    /// An opaque token (random, no claims inside) that `/introspect` describes with `claims`
    /// (RFC 7662; the resource server must present [`INTROSPECTION_CLIENT`]).
    pub fn opaque_token(&self, claims: &Value) -> String {
        let token = format!("opaque-{:032x}", fastrand::u128(..));
        self.shared.opaque.lock().unwrap_or_else(PoisonError::into_inner).insert(token.clone(), claims.clone());
        token
    }

    /// The current key's public half as PEM (for tests that misuse it, e.g. as an HMAC secret).
    pub fn public_key_pem(&self) -> String {
        self.current_key().public_pem.clone()
    }

    /// Replaces the signing key with a new one under a new `kid`; the JWKS then lists only the
    /// new key.
    pub fn rotate_key(&self) -> io::Result<()> {
        let generation = self.shared.generation.fetch_add(1, Ordering::AcqRel) + 1;
        let key = SigningKey::generate(self.shared.algorithm, format!("key-{generation}"))?;
        *self.shared.key.lock().unwrap_or_else(PoisonError::into_inner) = Arc::new(key);
        Ok(())
    }

    /// How many times the JWKS was fetched.
    pub fn jwks_fetches(&self) -> usize {
        self.shared.jwks_fetches.load(Ordering::Acquire)
    }

    fn current_key(&self) -> Arc<SigningKey> {
        self.shared.key.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }
}

/// Signs `claims` with the current key, naming it in `kid`.
fn sign(shared: &Shared, claims: &Value) -> io::Result<String> {
    let key = shared.key.lock().unwrap_or_else(PoisonError::into_inner).clone();
    let mut header = Header::new(shared.algorithm);
    header.kid = Some(key.id.clone());
    jsonwebtoken::encode(&header, claims, &key.encoding).map_err(io::Error::other)
}

async fn metadata(State(shared): State<Arc<Shared>>) -> axum::Json<Value> {
    let issuer = &shared.issuer;
    axum::Json(json!({
        "issuer": issuer,
        "jwks_uri": format!("{issuer}/jwks"),
        "introspection_endpoint": format!("{issuer}/introspect"),
        "authorization_endpoint": format!("{issuer}/authorize"),
        "token_endpoint": format!("{issuer}/token"),
        "registration_endpoint": format!("{issuer}/register"),
        "response_types_supported": ["code"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["none", "client_secret_basic", "client_secret_post"],
        "authorization_response_iss_parameter_supported": true,
        "scopes_supported": ["offline_access"],
    }))
}

async fn jwks(State(shared): State<Arc<Shared>>) -> axum::Json<JwkSet> {
    shared.jwks_fetches.fetch_add(1, Ordering::AcqRel);
    let key = shared.key.lock().unwrap_or_else(PoisonError::into_inner).clone();
    axum::Json(JwkSet { keys: vec![key.public.clone()] })
}

/// RFC 7662: `active` and the claims for a token it issued, to a caller with the resource
/// server's credentials; `401` to any other caller.
async fn introspect(
    State(shared): State<Arc<Shared>>,
    headers: axum::http::HeaderMap,
    axum::Form(form): axum::Form<std::collections::HashMap<String, String>>,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let (id, secret) = INTROSPECTION_CLIENT;
    let expected = format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}")));
    if headers.get(axum::http::header::AUTHORIZATION).and_then(|v| v.to_str().ok()) != Some(expected.as_str()) {
        return axum::http::StatusCode::UNAUTHORIZED.into_response();
    }
    let token = form.get("token").cloned().unwrap_or_default();
    let claims = shared.opaque.lock().unwrap_or_else(PoisonError::into_inner).get(&token).cloned();
    // Past its `exp`, a token is inactive (RFC 7662 §2.2).
    let expired = |claims: &Value| claims.get("exp").and_then(Value::as_u64).is_some_and(|exp| exp <= now());
    let answer = match claims.filter(|claims| !expired(claims)) {
        Some(mut claims) => {
            claims["active"] = json!(true);
            claims
        }
        None => json!({"active": false}),
    };
    axum::Json(answer).into_response()
}
