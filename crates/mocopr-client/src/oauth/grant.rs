//! Getting tokens: the authorization-code grant with PKCE (S256), `state` and the RFC 9207
//! `iss` check; refresh; client credentials; JWT bearer assertions (RFC 7523); and the token
//! answers they all return.

use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use url::Url;

use super::discovery::Discovered;
use super::dpop::DpopKey;
use super::handler::{AuthorizationHandler, AuthorizationRequest};
use super::http::{OAuthHttp, refused, trusted};
use super::registration::{ClientRegistration, random_text};
use crate::error::ClientError;

/// The tokens of one server, as kept in the token store (its `Debug` shows no token).
#[derive(Clone, Serialize, Deserialize)]
pub(crate) struct TokenSet {
    pub(crate) access_token: String,
    /// `Bearer`, or `DPoP` for a token bound to the client's DPoP key.
    #[serde(default = "bearer")]
    pub(crate) token_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) refresh_token: Option<String>,
    /// Seconds since the Unix epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) expires_at: Option<u64>,
    /// The scopes asked for (or granted, when the server said).
    #[serde(default)]
    pub(crate) scope: String,
    /// Who issued them.
    pub(crate) issuer: String,
    /// What they are for.
    pub(crate) resource: String,
}

impl std::fmt::Debug for TokenSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenSet")
            .field("token_type", &self.token_type)
            .field("refresh_token", &self.refresh_token.as_ref().map(|_| "<redacted>"))
            .field("expires_at", &self.expires_at)
            .field("scope", &self.scope)
            .field("issuer", &self.issuer)
            .field("resource", &self.resource)
            .finish_non_exhaustive()
    }
}

fn bearer() -> String {
    "Bearer".to_owned()
}

impl TokenSet {
    /// Whether the token is DPoP-bound.
    pub(crate) fn is_dpop(&self) -> bool {
        self.token_type.eq_ignore_ascii_case("dpop")
    }
}

/// The DPoP key token requests prove possession of, and the nonce the authorization server
/// last asked for.
pub(crate) struct Dpop<'a> {
    pub(crate) key: &'a DpopKey,
    pub(crate) nonce: &'a std::sync::Mutex<Option<String>>,
}

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// Everything a token request needs to know about the party it goes to.
pub(crate) struct Party<'a> {
    pub(crate) http: &'a OAuthHttp,
    pub(crate) discovered: &'a Discovered,
    pub(crate) client: &'a ClientRegistration,
    /// Set: tokens are asked for bound to this key.
    pub(crate) dpop: Option<Dpop<'a>>,
}

impl Party<'_> {
    /// Sends a token request of `grant` (the grant's own form fields; `resource` and the
    /// client's authentication are added) and reads the tokens.
    async fn token_request(&self, mut form: Vec<(&'static str, String)>, scope: &str) -> Result<TokenSet, ClientError> {
        let discovered = self.discovered;
        let endpoint = discovered
            .metadata
            .token_endpoint
            .as_deref()
            .ok_or_else(|| refused(format!("{} publishes no token endpoint", discovered.issuer)))?;
        let endpoint = trusted("token_endpoint", endpoint)?;
        form.push(("resource", discovered.resource.clone()));
        let basic = self.client.authenticate(&discovered.metadata, &discovered.issuer, &mut form)?;
        let pairs: Vec<(&str, &str)> = form.iter().map(|(name, value)| (*name, value.as_str())).collect();
        let basic = basic.as_ref().map(|(id, s)| (id.as_str(), s.as_str()));
        let mut answer = self.http.form(&endpoint, &pairs, basic, &self.proof(&endpoint)?).await?;
        if let Some(dpop) = &self.dpop
            && answer.status == http::StatusCode::BAD_REQUEST
            && answer.body.get("error").and_then(Value::as_str) == Some("use_dpop_nonce")
            && let Some(nonce) = answer.dpop_nonce.take()
        {
            // RFC 9449 §8: once more, the proof carrying the nonce the server asked for.
            *dpop.nonce.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(nonce);
            answer = self.http.form(&endpoint, &pairs, basic, &self.proof(&endpoint)?).await?;
        }
        if answer.status != http::StatusCode::OK {
            return Err(refused(format!("the token request to {} failed: {}", discovered.issuer, answer.error_code())));
        }
        let text =
            |name: &str| answer.body.get(name).and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_owned);
        let access_token = text("access_token").ok_or_else(|| refused("the token answer has no access_token"))?;
        let token_type = match text("token_type") {
            Some(kind) if kind.eq_ignore_ascii_case("bearer") => bearer(),
            Some(kind) if kind.eq_ignore_ascii_case("dpop") && self.dpop.is_some() => "DPoP".to_owned(),
            other => {
                return Err(refused(format!(
                    "the token answer's token_type {other:?} is not one this client asked for"
                )));
            }
        };
        let expires_at = answer
            .body
            .get("expires_in")
            .and_then(Value::as_f64)
            .filter(|s| *s >= 0.0)
            .map(|s| now().saturating_add(s as u64));
        Ok(TokenSet {
            access_token,
            token_type,
            refresh_token: text("refresh_token"),
            expires_at,
            scope: text("scope").unwrap_or_else(|| scope.to_owned()),
            issuer: discovered.issuer.clone(),
            resource: discovered.resource.clone(),
        })
    }

    /// The `DPoP` header of a token request to `endpoint`, when tokens are DPoP-bound.
    fn proof(&self, endpoint: &Url) -> Result<Vec<(&'static str, String)>, ClientError> {
        let Some(dpop) = &self.dpop else { return Ok(Vec::new()) };
        let nonce = dpop.nonce.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
        Ok(vec![("dpop", dpop.key.proof("POST", endpoint, nonce.as_deref(), None)?)])
    }

    /// The authorization-code grant: the user approves in `handler`, the code comes back to
    /// `redirect_uri`, and is exchanged with the PKCE verifier.
    pub(crate) async fn authorization_code(
        &self,
        handler: &dyn AuthorizationHandler,
        redirect_uri: &str,
        scope: &str,
    ) -> Result<TokenSet, ClientError> {
        let discovered = self.discovered;
        let metadata = &discovered.metadata;
        // The 2025-03-26 default endpoints come with no metadata to say it; PKCE is sent anyway.
        if !discovered.defaults && !metadata.code_challenge_methods_supported.iter().any(|m| m == "S256") {
            return Err(refused(format!(
                "{} does not support PKCE with S256: refusing to authorize",
                discovered.issuer
            )));
        }
        let endpoint = metadata
            .authorization_endpoint
            .as_deref()
            .ok_or_else(|| refused(format!("{} publishes no authorization endpoint", discovered.issuer)))?;
        let mut url = trusted("authorization_endpoint", endpoint)?;
        let verifier = random_text(32)?;
        let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
        let state = random_text(16)?;
        {
            let mut query = url.query_pairs_mut();
            query
                .append_pair("response_type", "code")
                .append_pair("client_id", &self.client.client_id)
                .append_pair("redirect_uri", redirect_uri)
                .append_pair("code_challenge", &challenge)
                .append_pair("code_challenge_method", "S256")
                .append_pair("state", &state)
                .append_pair("resource", &discovered.resource);
            if !scope.is_empty() {
                query.append_pair("scope", scope);
            }
        }
        let request =
            AuthorizationRequest { url, redirect_uri: redirect_uri.to_owned(), issuer: discovered.issuer.clone() };
        let callback = handler.authorize(request).await?;
        let code = check_callback(&callback, &state, discovered)?;
        let form = vec![
            ("grant_type", "authorization_code".to_owned()),
            ("code", code),
            ("redirect_uri", redirect_uri.to_owned()),
            ("code_verifier", verifier),
        ];
        self.token_request(form, scope).await
    }

    /// A new access token for `tokens`' refresh token; the refresh token is kept unless the
    /// server rotated it.
    pub(crate) async fn refresh(&self, tokens: &TokenSet) -> Result<TokenSet, ClientError> {
        let refresh_token = tokens.refresh_token.clone().ok_or_else(|| refused("no refresh token"))?;
        let form = vec![("grant_type", "refresh_token".to_owned()), ("refresh_token", refresh_token.clone())];
        let mut fresh = self.token_request(form, &tokens.scope).await?;
        fresh.refresh_token = fresh.refresh_token.or(Some(refresh_token));
        Ok(fresh)
    }

    /// The client-credentials grant: the client acting for itself.
    pub(crate) async fn client_credentials(&self, scope: &str) -> Result<TokenSet, ClientError> {
        let mut form = vec![("grant_type", "client_credentials".to_owned())];
        if !scope.is_empty() {
            form.push(("scope", scope.to_owned()));
        }
        self.token_request(form, scope).await
    }

    /// The identity assertion grant: the ID token becomes an ID-JAG at the identity
    /// provider, which becomes an access token here.
    pub(crate) async fn identity_assertion(
        &self,
        grant: &IdentityAssertion,
        scope: &str,
    ) -> Result<TokenSet, ClientError> {
        let discovered = self.discovered;
        let endpoint = trusted("idp_token_endpoint", &grant.idp_token_endpoint)?;
        let mut form = vec![
            ("grant_type", "urn:ietf:params:oauth:grant-type:token-exchange"),
            ("requested_token_type", "urn:ietf:params:oauth:token-type:id-jag"),
            ("subject_token", grant.id_token.as_str()),
            ("subject_token_type", "urn:ietf:params:oauth:token-type:id_token"),
            ("audience", discovered.issuer.as_str()),
            ("resource", discovered.resource.as_str()),
        ];
        if !scope.is_empty() {
            form.push(("scope", scope));
        }
        let mut basic = None;
        if let Some((id, secret)) = &grant.idp_client {
            match secret {
                Some(secret) => basic = Some((id.as_str(), secret.as_str())),
                None => form.push(("client_id", id.as_str())),
            }
        }
        let answer = self.http.form(&endpoint, &form, basic, &[]).await?;
        if answer.status != http::StatusCode::OK {
            return Err(refused(format!("the identity provider's token exchange failed: {}", answer.error_code())));
        }
        let issued = answer.body.get("issued_token_type").and_then(Value::as_str);
        let assertion = answer.body.get("access_token").and_then(Value::as_str).filter(|t| !t.is_empty());
        let (Some("urn:ietf:params:oauth:token-type:id-jag"), Some(assertion)) = (issued, assertion) else {
            return Err(refused("the identity provider did not issue an identity assertion (ID-JAG)"));
        };
        self.jwt_bearer(assertion, scope).await
    }

    /// The JWT bearer grant (RFC 7523 §2.1): `assertion` (a workload's identity token, or an
    /// identity assertion grant) becomes an access token.
    pub(crate) async fn jwt_bearer(&self, assertion: &str, scope: &str) -> Result<TokenSet, ClientError> {
        let mut form = vec![
            ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer".to_owned()),
            ("assertion", assertion.to_owned()),
        ];
        if !scope.is_empty() {
            form.push(("scope", scope.to_owned()));
        }
        self.token_request(form, scope).await
    }
}

/// An identity assertion authorization grant (the MCP enterprise-managed authorization
/// extension, SEP-990): the user's ID token from the enterprise's identity provider is
/// exchanged there (RFC 8693) for an identity assertion (ID-JAG) naming the MCP server's
/// authorization server and the MCP server, which that authorization server turns into an
/// access token (RFC 7523 JWT bearer grant). No user interaction.
///
/// ```
/// use mocopr_client::oauth::{ClientRegistration, Grant, IdentityAssertion, OAuthConfig};
///
/// let grant = IdentityAssertion::new("https://idp.example.com/oauth2/token", "eyJhbGciOi...")
///     .with_idp_client("mcp-agent-at-idp", None);
/// let oauth = OAuthConfig::builder()
///     .with_grant(Grant::IdentityAssertion(grant))
///     .with_client(ClientRegistration::new("mcp-agent").with_secret("s3cret"))
///     .build()?;
/// # let _ = oauth;
/// # Ok::<(), mocopr_client::ClientError>(())
/// ```
#[derive(Clone)]
pub struct IdentityAssertion {
    pub(crate) idp_token_endpoint: String,
    pub(crate) id_token: String,
    pub(crate) idp_client: Option<(String, Option<String>)>,
}

// The ID token and secret stay out of debug output.
impl std::fmt::Debug for IdentityAssertion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdentityAssertion")
            .field("idp_token_endpoint", &self.idp_token_endpoint)
            .finish_non_exhaustive()
    }
}

impl IdentityAssertion {
    /// Exchanges `id_token` at the identity provider's token endpoint `idp_token_endpoint`.
    pub fn new(idp_token_endpoint: impl Into<String>, id_token: impl Into<String>) -> Self {
        IdentityAssertion { idp_token_endpoint: idp_token_endpoint.into(), id_token: id_token.into(), idp_client: None }
    }

    /// The client's identity at the identity provider (its secret, when it has one, sent
    /// with HTTP Basic).
    pub fn with_idp_client(mut self, client_id: impl Into<String>, secret: Option<String>) -> Self {
        self.idp_client = Some((client_id.into(), secret));
        self
    }
}

/// The code of the authorization response `callback` (the URL the user's browser came back
/// to), after checking its `iss` (RFC 9207, before anything else in it is looked at) and its
/// `state`.
fn check_callback(callback: &str, state: &str, discovered: &Discovered) -> Result<String, ClientError> {
    let url = Url::parse(callback).map_err(|_| refused("the authorization response is not a URL"))?;
    let param = |name: &str| url.query_pairs().find(|(n, _)| n == name).map(|(_, v)| v.into_owned());
    let advertised = discovered.metadata.flag("authorization_response_iss_parameter_supported");
    match (param("iss"), advertised) {
        // A simple string comparison: no case folding, no slash or port normalization. The
        // metadata's issuer: the one discovered, checked already (a 2025-03-26 server's names
        // itself, whatever its origin).
        (Some(iss), _) if iss != discovered.metadata.issuer => {
            return Err(refused("the authorization response names another issuer: it is not used"));
        }
        (None, true) => {
            return Err(refused("the authorization response lacks the iss its server promised: it is not used"));
        }
        _ => {}
    }
    if param("state").as_deref() != Some(state) {
        return Err(refused("the authorization response's state is not the one sent: it is not used"));
    }
    if let Some(error) = param("error") {
        let code: String = error.chars().filter(char::is_ascii_graphic).take(64).collect();
        return Err(refused(format!("the authorization was refused: {code}")));
    }
    param("code").filter(|code| !code.is_empty()).ok_or_else(|| refused("the authorization response has no code"))
}

#[cfg(test)]
mod tests {
    use mocopr_auth::AuthorizationServerMetadata;

    use super::*;

    fn discovered(advertised: bool) -> Discovered {
        let mut metadata = AuthorizationServerMetadata::new("http://127.0.0.1:9");
        if advertised {
            metadata.extra.insert("authorization_response_iss_parameter_supported".into(), true.into());
        }
        Discovered {
            issuer: "http://127.0.0.1:9".into(),
            metadata,
            resource: "http://127.0.0.1:8/mcp".into(),
            scopes_supported: Vec::new(),
            dpop_required: false,
            defaults: false,
        }
    }

    #[test]
    fn the_callback_is_checked_for_iss_then_state() {
        let cb = |query: &str| format!("http://localhost:3000/callback?{query}");
        let (on, off) = (discovered(true), discovered(false));
        assert_eq!(check_callback(&cb("code=c&state=s&iss=http%3A%2F%2F127.0.0.1%3A9"), "s", &on).unwrap(), "c");
        assert!(check_callback(&cb("code=c&state=s"), "s", &on).is_err(), "promised iss missing");
        assert_eq!(check_callback(&cb("code=c&state=s"), "s", &off).unwrap(), "c");
        assert!(check_callback(&cb("code=c&state=s&iss=https%3A%2F%2Fevil.example.com"), "s", &off).is_err());
        assert!(
            check_callback(&cb("code=c&state=s&iss=http%3A%2F%2F127.0.0.1%3A9%2F"), "s", &on).is_err(),
            "normalized"
        );
        assert!(check_callback(&cb("code=c&state=t"), "s", &off).is_err(), "another state");
        let refused = check_callback(&cb("error=access_denied&state=s"), "s", &off).unwrap_err();
        assert!(refused.to_string().contains("access_denied"));
    }
}
