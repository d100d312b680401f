//! Who the client is at an authorization server: a [`ClientRegistration`] made beforehand, a
//! Client ID Metadata Document URL, or a dynamic registration (RFC 7591); and how it
//! authenticates at the token endpoint (`client_secret_basic`, `client_secret_post`, `none`,
//! `private_key_jwt`).

use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use mocopr_auth::AuthorizationServerMetadata;
use serde_json::{Value, json};

use super::http::{OAuthHttp, refused, trusted};
use crate::error::ClientError;

/// How a client authenticates at the token endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TokenAuthMethod {
    /// Its id and secret in HTTP Basic credentials.
    ClientSecretBasic,
    /// Its id and secret in the form body.
    ClientSecretPost,
    /// Its id only (a public client; PKCE protects the code).
    None,
    /// A JWT signed with its private key (RFC 7523), in `client_assertion`.
    PrivateKeyJwt,
}

impl TokenAuthMethod {
    /// The method's name in metadata and registrations.
    ///
    /// ```
    /// use mocopr_client::oauth::TokenAuthMethod;
    ///
    /// assert_eq!(TokenAuthMethod::ClientSecretBasic.name(), "client_secret_basic");
    /// assert_eq!(TokenAuthMethod::from_name("none"), Some(TokenAuthMethod::None));
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            TokenAuthMethod::ClientSecretBasic => "client_secret_basic",
            TokenAuthMethod::ClientSecretPost => "client_secret_post",
            TokenAuthMethod::None => "none",
            TokenAuthMethod::PrivateKeyJwt => "private_key_jwt",
        }
    }

    /// The method named `name`, if it is one of these.
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "client_secret_basic" => TokenAuthMethod::ClientSecretBasic,
            "client_secret_post" => TokenAuthMethod::ClientSecretPost,
            "none" => TokenAuthMethod::None,
            "private_key_jwt" => TokenAuthMethod::PrivateKeyJwt,
            _ => return None,
        })
    }
}

/// A private key the client signs its assertions with.
#[derive(Clone)]
pub(crate) struct SigningKey {
    key: EncodingKey,
    algorithm: Algorithm,
    key_id: Option<String>,
}

/// A client known to an authorization server: registered beforehand (given to
/// [`OAuthConfigBuilder::with_client`](super::OAuthConfigBuilder::with_client)), or
/// registered dynamically by the OAuth client and kept in its token store.
///
/// ```
/// use mocopr_client::oauth::{ClientRegistration, TokenAuthMethod};
///
/// let registration = ClientRegistration::new("my-agent")
///     .with_secret("s3cret")
///     .with_auth_method(TokenAuthMethod::ClientSecretPost)
///     .with_issuer("https://auth.example.com");
/// # let _ = registration;
/// ```
#[derive(Clone)]
pub struct ClientRegistration {
    pub(crate) client_id: String,
    pub(crate) secret: Option<String>,
    pub(crate) key: Option<SigningKey>,
    pub(crate) auth_method: Option<TokenAuthMethod>,
    pub(crate) issuer: Option<String>,
}

// The secret and key stay out of debug output.
impl std::fmt::Debug for ClientRegistration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientRegistration")
            .field("client_id", &self.client_id)
            .field("auth_method", &self.auth_method)
            .field("issuer", &self.issuer)
            .finish_non_exhaustive()
    }
}

impl ClientRegistration {
    /// The client `client_id`, a public client unless given a secret or key.
    pub fn new(client_id: impl Into<String>) -> Self {
        ClientRegistration { client_id: client_id.into(), secret: None, key: None, auth_method: None, issuer: None }
    }

    /// The client's secret (`client_secret_basic` unless the server supports only
    /// `client_secret_post`, or [`with_auth_method`](Self::with_auth_method) says).
    pub fn with_secret(mut self, secret: impl Into<String>) -> Self {
        self.secret = Some(secret.into());
        self
    }

    /// The client's private key, PEM-encoded (PKCS#8, or the key type's own PEM), for
    /// `private_key_jwt` and JWT client assertions; `algorithm` is ES256, ES384, RS256..512,
    /// PS256..512 or EdDSA, matching the key.
    ///
    /// ```
    /// use mocopr_client::oauth::ClientRegistration;
    ///
    /// let pem = "-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n";
    /// assert!(ClientRegistration::new("svc").with_private_key_pem(pem.as_bytes(), jsonwebtoken::Algorithm::ES256).is_err());
    /// ```
    pub fn with_private_key_pem(mut self, pem: &[u8], algorithm: Algorithm) -> Result<Self, ClientError> {
        use Algorithm::{ES256, ES384, EdDSA, PS256, PS384, PS512, RS256, RS384, RS512};
        let key = match algorithm {
            ES256 | ES384 => EncodingKey::from_ec_pem(pem),
            RS256 | RS384 | RS512 | PS256 | PS384 | PS512 => EncodingKey::from_rsa_pem(pem),
            EdDSA => EncodingKey::from_ed_pem(pem),
            other => return Err(refused(format!("{other:?} is not an algorithm for client keys"))),
        }
        .map_err(|e| refused(format!("the client's private key is not usable: {e}")))?;
        self.key = Some(SigningKey { key, algorithm, key_id: None });
        Ok(self)
    }

    /// Names the private key in the assertions' `kid` (when the server knows several).
    pub fn with_key_id(mut self, key_id: impl Into<String>) -> Self {
        if let Some(key) = &mut self.key {
            key.key_id = Some(key_id.into());
        }
        self
    }

    /// How the client authenticates at the token endpoint (default: `private_key_jwt` with a
    /// key, a secret method with a secret, `none` otherwise).
    pub fn with_auth_method(mut self, method: TokenAuthMethod) -> Self {
        self.auth_method = Some(method);
        self
    }

    /// The authorization server (issuer identifier) this registration belongs to. Without
    /// one, it belongs to the first authorization server it is used with, and is never shown
    /// to another: that first server is whichever the first MCP server reached names, so a
    /// registration with a secret or a key should name its issuer whenever the configuration
    /// may reach a server not trusted with it.
    pub fn with_issuer(mut self, issuer: impl Into<String>) -> Self {
        self.issuer = Some(issuer.into());
        self
    }

    /// The method used at a server publishing `metadata`.
    pub(crate) fn method(&self, metadata: &AuthorizationServerMetadata) -> TokenAuthMethod {
        if let Some(method) = self.auth_method {
            return method;
        }
        if self.key.is_some() {
            return TokenAuthMethod::PrivateKeyJwt;
        }
        if self.secret.is_none() {
            return TokenAuthMethod::None;
        }
        let supported = metadata.list("token_endpoint_auth_methods_supported");
        if !supported.contains(&"client_secret_basic") && supported.contains(&"client_secret_post") {
            TokenAuthMethod::ClientSecretPost
        } else {
            TokenAuthMethod::ClientSecretBasic
        }
    }

    /// Adds the client's authentication to a token request's `form`; returns the Basic
    /// credentials to send, if that is the method.
    pub(crate) fn authenticate(
        &self,
        metadata: &AuthorizationServerMetadata,
        issuer: &str,
        form: &mut Vec<(&'static str, String)>,
    ) -> Result<Option<(String, String)>, ClientError> {
        let secret =
            || self.secret.clone().ok_or_else(|| refused("the client's authentication method needs a client secret"));
        match self.method(metadata) {
            TokenAuthMethod::ClientSecretBasic => return Ok(Some((self.client_id.clone(), secret()?))),
            TokenAuthMethod::ClientSecretPost => {
                form.push(("client_id", self.client_id.clone()));
                form.push(("client_secret", secret()?));
            }
            TokenAuthMethod::None => form.push(("client_id", self.client_id.clone())),
            TokenAuthMethod::PrivateKeyJwt => {
                form.push(("client_id", self.client_id.clone()));
                form.push(("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer".into()));
                form.push(("client_assertion", self.assertion(issuer)?));
            }
        }
        Ok(None)
    }

    /// A client assertion for `audience` (the authorization server's issuer identifier):
    /// `iss` and `sub` the client, five minutes of validity, a fresh `jti`.
    pub(crate) fn assertion(&self, audience: &str) -> Result<String, ClientError> {
        let key = self.key.as_ref().ok_or_else(|| refused("private_key_jwt needs the client's private key"))?;
        let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
        let claims = json!({
            "iss": self.client_id,
            "sub": self.client_id,
            "aud": audience,
            "iat": now,
            "exp": now + 300,
            "jti": random_text(16)?,
        });
        let mut header = Header::new(key.algorithm);
        header.kid.clone_from(&key.key_id);
        jsonwebtoken::encode(&header, &claims, &key.key)
            .map_err(|e| refused(format!("the client assertion could not be signed: {e}")))
    }

    /// The JSON a dynamic registration is kept as (never a private key: that is configuration).
    pub(crate) fn to_stored(&self) -> Value {
        json!({
            "client_id": self.client_id,
            "client_secret": self.secret,
            "token_endpoint_auth_method": self.auth_method.map(TokenAuthMethod::name),
            "issuer": self.issuer,
        })
    }

    /// A registration kept by [`to_stored`](Self::to_stored).
    pub(crate) fn from_stored(value: &Value) -> Option<Self> {
        let text = |name: &str| value.get(name).and_then(Value::as_str).map(str::to_owned);
        Some(ClientRegistration {
            client_id: text("client_id")?,
            secret: text("client_secret"),
            key: None,
            auth_method: text("token_endpoint_auth_method").as_deref().and_then(TokenAuthMethod::from_name),
            issuer: text("issuer"),
        })
    }
}

/// `bytes` random bytes, base64url without padding (PKCE verifiers, `state`, `jti`).
pub(crate) fn random_text(bytes: usize) -> Result<String, ClientError> {
    let mut buffer = vec![0_u8; bytes];
    getrandom::fill(&mut buffer).map_err(|e| refused(format!("no randomness: {e}")))?;
    Ok(URL_SAFE_NO_PAD.encode(buffer))
}

/// What a dynamic registration asks for.
pub(crate) struct RegistrationRequest<'a> {
    pub(crate) client_name: &'a str,
    pub(crate) redirect_uri: &'a str,
    pub(crate) grant_types: &'a [&'a str],
}

/// Registers the client at the server publishing `metadata` (RFC 7591).
pub(crate) async fn register(
    http: &OAuthHttp,
    issuer: &str,
    metadata: &AuthorizationServerMetadata,
    request: &RegistrationRequest<'_>,
) -> Result<ClientRegistration, ClientError> {
    let endpoint = metadata.registration_endpoint.as_deref().ok_or_else(|| {
        refused(format!("{issuer} supports no dynamic registration and no client is configured for it"))
    })?;
    let endpoint = trusted("registration_endpoint", endpoint)?;
    let supported = metadata.list("token_endpoint_auth_methods_supported");
    // A public client where the server allows it; else the secret method it offers.
    let method = if supported.is_empty() || supported.contains(&"none") {
        "none"
    } else if supported.contains(&"client_secret_basic") {
        "client_secret_basic"
    } else {
        "client_secret_post"
    };
    let redirect_uris: Vec<&str> =
        if request.grant_types.contains(&"authorization_code") { vec![request.redirect_uri] } else { Vec::new() };
    let body = json!({
        "client_name": request.client_name,
        "redirect_uris": redirect_uris,
        "grant_types": request.grant_types,
        "response_types": if redirect_uris.is_empty() { vec![] } else { vec!["code"] },
        "token_endpoint_auth_method": method,
        "application_type": application_type(request.redirect_uri),
    });
    let answer = http.json(&endpoint, &body).await?;
    if !answer.status.is_success() {
        return Err(refused(format!("dynamic registration at {issuer} failed: {}", answer.error_code())));
    }
    let text = |name: &str| answer.body.get(name).and_then(Value::as_str).map(str::to_owned);
    let client_id = text("client_id").ok_or_else(|| refused("the registration answer has no client_id"))?;
    let secret = text("client_secret");
    let auth_method = text("token_endpoint_auth_method")
        .as_deref()
        .and_then(TokenAuthMethod::from_name)
        .or_else(|| Some(if secret.is_some() { TokenAuthMethod::ClientSecretBasic } else { TokenAuthMethod::None }));
    Ok(ClientRegistration { client_id, secret, key: None, auth_method, issuer: Some(issuer.to_owned()) })
}

/// `native` for a client whose redirect comes back to this machine (a loopback address or
/// an application's own scheme), `web` for one served from a site.
fn application_type(redirect_uri: &str) -> &'static str {
    match url::Url::parse(redirect_uri) {
        Ok(url) if url.scheme() == "https" => match url.host() {
            Some(url::Host::Domain(host)) if !host.eq_ignore_ascii_case("localhost") => "web",
            Some(url::Host::Ipv4(ip)) if !ip.is_loopback() => "web",
            Some(url::Host::Ipv6(ip)) if !ip.is_loopback() => "web",
            _ => "native",
        },
        _ => "native",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_method_follows_the_registration_then_the_server() {
        let mut metadata = AuthorizationServerMetadata::new("https://a.example");
        assert_eq!(ClientRegistration::new("c").method(&metadata), TokenAuthMethod::None);
        let with_secret = ClientRegistration::new("c").with_secret("s");
        assert_eq!(with_secret.method(&metadata), TokenAuthMethod::ClientSecretBasic);
        metadata.extra.insert("token_endpoint_auth_methods_supported".into(), json!(["client_secret_post"]));
        assert_eq!(with_secret.method(&metadata), TokenAuthMethod::ClientSecretPost);
        let pinned = with_secret.with_auth_method(TokenAuthMethod::ClientSecretBasic);
        assert_eq!(pinned.method(&metadata), TokenAuthMethod::ClientSecretBasic);
    }

    #[test]
    fn native_or_web_by_the_redirect() {
        assert_eq!(application_type("http://127.0.0.1:33418/callback"), "native");
        assert_eq!(application_type("http://localhost:3000/callback"), "native");
        assert_eq!(application_type("com.example.app:/callback"), "native");
        assert_eq!(application_type("https://app.example.com/callback"), "web");
    }
}
