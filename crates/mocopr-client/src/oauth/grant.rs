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
use super::handler::{AuthorizationHandler, AuthorizationRequest};
use super::http::{OAuthHttp, refused, trusted};
use super::registration::{ClientRegistration, random_text};
use crate::error::ClientError;

/// The tokens of one server, as kept in the token store.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct TokenSet {
    pub(crate) access_token: String,
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

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// Everything a token request needs to know about the party it goes to.
pub(crate) struct Party<'a> {
    pub(crate) http: &'a OAuthHttp,
    pub(crate) discovered: &'a Discovered,
    pub(crate) client: &'a ClientRegistration,
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
        let answer =
            self.http.form(&endpoint, &pairs, basic.as_ref().map(|(id, s)| (id.as_str(), s.as_str())), &[]).await?;
        if answer.status != http::StatusCode::OK {
            return Err(refused(format!("the token request to {} failed: {}", discovered.issuer, answer.error_code())));
        }
        let text =
            |name: &str| answer.body.get(name).and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_owned);
        let access_token = text("access_token").ok_or_else(|| refused("the token answer has no access_token"))?;
        match text("token_type") {
            Some(kind) if kind.eq_ignore_ascii_case("bearer") => {}
            other => {
                return Err(refused(format!("the token answer's token_type {other:?} is not Bearer")));
            }
        }
        let expires_at =
            answer.body.get("expires_in").and_then(Value::as_f64).filter(|s| *s >= 0.0).map(|s| now() + s as u64);
        Ok(TokenSet {
            access_token,
            refresh_token: text("refresh_token"),
            expires_at,
            scope: text("scope").unwrap_or_else(|| scope.to_owned()),
            issuer: discovered.issuer.clone(),
            resource: discovered.resource.clone(),
        })
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

/// The code of the authorization response `callback` (the URL the user's browser came back
/// to), after checking its `iss` (RFC 9207, before anything else in it is looked at) and its
/// `state`.
fn check_callback(callback: &str, state: &str, discovered: &Discovered) -> Result<String, ClientError> {
    let url = Url::parse(callback).map_err(|_| refused("the authorization response is not a URL"))?;
    let param = |name: &str| url.query_pairs().find(|(n, _)| n == name).map(|(_, v)| v.into_owned());
    let advertised = discovered.metadata.flag("authorization_response_iss_parameter_supported");
    match (param("iss"), advertised) {
        // A simple string comparison: no case folding, no slash or port normalization.
        (Some(iss), _) if iss != discovered.issuer => {
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
