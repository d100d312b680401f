//! [`OAuthAuthorizer`]: the OAuth client of one MCP endpoint. It answers the endpoint's
//! challenges: a `401` first with tokens kept from before, then with a refresh, then with a
//! new authorization; a `403 insufficient_scope` with a step-up to the scopes it names plus
//! those asked for before, a bounded number of times. Concurrent requests refused at once
//! share one flow.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use futures_util::future::BoxFuture;
use http::{HeaderValue, StatusCode};
use url::Url;

use super::challenge::bearer_challenge;
use super::discovery::{Discovered, discover};
use super::dpop::{self, DpopKey};
use super::grant::{Dpop, Party, TokenSet};
use super::http::{refused, trusted};
use super::registration::{ClientRegistration, RegistrationRequest, register};
use super::{Grant, Settings};
use crate::authorizer::{Authorizer, Challenge, bearer_header};

/// The `Authorization` value of `tokens`: `Bearer`, or `DPoP` for a DPoP-bound token.
fn authorization(tokens: &TokenSet) -> Result<HeaderValue, ClientError> {
    if !tokens.is_dpop() {
        return bearer_header(&tokens.access_token);
    }
    let mut value = HeaderValue::try_from(format!("DPoP {}", tokens.access_token))
        .map_err(|_| refused("the access token is not a valid header value"))?;
    value.set_sensitive(true);
    Ok(value)
}
use crate::error::ClientError;

pub(crate) struct OAuthAuthorizer {
    settings: Arc<Settings>,
    endpoint: Url,
    /// The endpoint's URL as given, the `resource` when the server publishes no metadata.
    resource: String,
    state: Mutex<State>,
    /// Held while a challenge is answered.
    flow: tokio::sync::Mutex<()>,
    /// The DPoP nonce the authorization server last asked for.
    as_nonce: Mutex<Option<String>>,
}

#[derive(Default)]
struct State {
    header: Option<HeaderValue>,
    tokens: Option<TokenSet>,
    /// Whether the token store was read.
    loaded: bool,
    /// Whether the server accepted the current token once.
    proven: bool,
    /// The scopes asked for so far, in the order first asked.
    requested: Vec<String>,
    step_ups: usize,
    /// The authorization server and client of the current tokens.
    party: Option<(Discovered, ClientRegistration)>,
    /// The key DPoP-bound tokens are bound to (made when first needed, never stored).
    dpop: Option<DpopKey>,
    /// The DPoP nonce the MCP server last asked for.
    rs_nonce: Option<String>,
}

fn tokens_key(resource: &str) -> String {
    format!("tokens {resource}")
}

fn client_key(issuer: &str) -> String {
    format!("client {issuer}")
}

/// `scopes` with `more` after them, each once.
fn union<'a>(scopes: &[String], more: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut all = scopes.to_vec();
    for scope in more {
        if !all.iter().any(|s| s == scope) {
            all.push(scope.to_owned());
        }
    }
    all
}

impl OAuthAuthorizer {
    pub(crate) fn new(settings: Arc<Settings>, endpoint: &str) -> Result<Self, ClientError> {
        // Tokens go to the endpoint: over https, or plain http to this machine only.
        let url = trusted("endpoint", endpoint)?;
        let resource = endpoint.split('#').next().unwrap_or(endpoint).to_owned();
        Ok(OAuthAuthorizer {
            settings,
            endpoint: url,
            resource,
            state: Mutex::default(),
            flow: tokio::sync::Mutex::new(()),
            as_nonce: Mutex::new(None),
        })
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Makes `tokens` the current ones, and keeps them in the store.
    async fn adopt(
        &self,
        tokens: TokenSet,
        party: Option<(Discovered, ClientRegistration)>,
    ) -> Result<(), ClientError> {
        let header = authorization(&tokens)?;
        let stored = serde_json::to_value(&tokens).map_err(|e| refused(e.to_string()))?;
        {
            let mut state = self.state();
            state.header = Some(header);
            state.tokens = Some(tokens);
            state.proven = false;
            if party.is_some() {
                state.party = party;
            }
        }
        if let Err(error) = self.settings.store.save(&tokens_key(&self.resource), Some(stored)).await {
            tracing::warn!(%error, "the OAuth tokens could not be kept in the token store");
        }
        Ok(())
    }

    async fn answer(&self, challenge: &Challenge) -> Result<bool, ClientError> {
        let _one_flow = self.flow.lock().await;
        {
            let state = self.state();
            if state.header.is_some() && state.header != challenge.sent {
                // Another request got new credentials meanwhile.
                return Ok(true);
            }
        }
        let bearer = bearer_challenge(&challenge.www_authenticate).unwrap_or_default();
        let pointer = bearer.resource_metadata.as_deref();
        let version = challenge.protocol_version.as_deref();
        let challenged: Vec<&str> = bearer.scope.as_deref().unwrap_or_default().split_ascii_whitespace().collect();
        if challenge.status == StatusCode::UNAUTHORIZED
            && bearer.error.as_deref() == Some("use_dpop_nonce")
            && let Some(nonce) = &challenge.dpop_nonce
        {
            // RFC 9449 §9: the same token again, its proof carrying the server's nonce.
            let mut state = self.state();
            if state.dpop.is_none() || state.rs_nonce.as_ref() == Some(nonce) {
                return Ok(false);
            }
            state.rs_nonce = Some(nonce.clone());
            return Ok(true);
        }
        match challenge.status {
            StatusCode::FORBIDDEN => {
                if bearer.error.as_deref() != Some("insufficient_scope") || challenge.sent.is_none() {
                    return Ok(false);
                }
                let scopes = {
                    let mut state = self.state();
                    let granted: Vec<&str> =
                        state.tokens.as_ref().map(|t| t.scope.split_ascii_whitespace().collect()).unwrap_or_default();
                    let asked_before = challenged.iter().all(|s| state.requested.iter().any(|r| r == s));
                    // Refused again for scopes already asked for, or too many step-ups: the
                    // authorization server will not grant them.
                    if state.step_ups >= self.settings.max_step_ups
                        || (asked_before && challenged.iter().all(|s| granted.contains(s)) && state.step_ups > 0)
                    {
                        return Ok(false);
                    }
                    state.step_ups += 1;
                    union(&state.requested, challenged)
                };
                self.authorize(pointer, scopes, version, bearer.dpop).await?;
                Ok(true)
            }
            StatusCode::UNAUTHORIZED => {
                if challenge.sent.is_none() && self.load().await {
                    return Ok(true);
                }
                let (proven, refreshable) = {
                    let state = self.state();
                    (state.proven, state.tokens.as_ref().is_some_and(|t| t.refresh_token.is_some()))
                };
                if challenge.sent.is_some() && !proven {
                    // A token just obtained is refused: another authorization would end the same way.
                    return Ok(false);
                }
                if challenge.sent.is_some() && refreshable && self.refresh(pointer, version).await {
                    return Ok(true);
                }
                let scopes = {
                    let state = self.state();
                    union(&state.requested, challenged)
                };
                self.authorize(pointer, scopes, version, bearer.dpop).await?;
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    /// Takes the tokens the store kept for this server; whether there were any.
    async fn load(&self) -> bool {
        if std::mem::replace(&mut self.state().loaded, true) {
            return false;
        }
        let kept = match self.settings.store.load(&tokens_key(&self.resource)).await {
            Ok(kept) => kept,
            Err(error) => {
                tracing::warn!(%error, "the token store could not be read");
                None
            }
        };
        let Some(tokens) = kept.and_then(|value| serde_json::from_value::<TokenSet>(value).ok()) else { return false };
        // A DPoP-bound token is bound to a key that lived in memory only.
        if tokens.is_dpop() {
            return false;
        }
        let Ok(header) = authorization(&tokens) else { return false };
        let mut state = self.state();
        state.requested = tokens.scope.split_ascii_whitespace().map(str::to_owned).collect();
        state.header = Some(header);
        state.tokens = Some(tokens);
        // Kept from before: the server accepted it then, so a refusal now calls for a refresh.
        state.proven = true;
        true
    }

    /// Refreshes the current tokens at the authorization server that issued them, if the
    /// server still names it; whether that worked.
    async fn refresh(&self, pointer: Option<&str>, version: Option<&str>) -> bool {
        let (tokens, party, key) = {
            let state = self.state();
            (state.tokens.clone(), state.party.clone(), state.dpop.clone())
        };
        let Some(tokens) = tokens else { return false };
        let party = match party {
            Some(party) => party,
            None => {
                // Tokens from the store: find their server again.
                let Ok(discovered) = self.discover(pointer, version).await else { return false };
                let Ok(client) = self.identify(&discovered).await else { return false };
                (discovered, client)
            }
        };
        if party.0.issuer != tokens.issuer {
            return false;
        }
        let dpop = key.as_ref().filter(|_| tokens.is_dpop()).map(|key| Dpop { key, nonce: &self.as_nonce });
        let fresh =
            Party { http: &self.settings.http, discovered: &party.0, client: &party.1, dpop }.refresh(&tokens).await;
        match fresh {
            Ok(fresh) => self.adopt(fresh, Some(party)).await.is_ok(),
            Err(error) => {
                tracing::debug!(%error, "refreshing the access token failed; authorizing again");
                if let Some(tokens) = self.state().tokens.as_mut() {
                    tokens.refresh_token = None;
                }
                // Nor is the spent refresh token used again after a restart (a reuse an
                // authorization server may answer by revoking the whole grant).
                if let Err(error) = self.settings.store.save(&tokens_key(&self.resource), None).await {
                    tracing::warn!(%error, "the spent OAuth tokens could not be removed from the token store");
                }
                false
            }
        }
    }

    async fn discover(&self, pointer: Option<&str>, version: Option<&str>) -> Result<Discovered, ClientError> {
        discover(&self.settings.http, &self.endpoint, &self.resource, pointer, version).await
    }

    /// Runs a whole authorization for `scopes` (the resource metadata's when empty).
    async fn authorize(
        &self,
        pointer: Option<&str>,
        scopes: Vec<String>,
        version: Option<&str>,
        dpop_wanted: bool,
    ) -> Result<(), ClientError> {
        let discovered = self.discover(pointer, version).await?;
        let settings = &self.settings;
        let dpop_offered = discovered.metadata.list("dpop_signing_alg_values_supported").contains(&dpop::ALGORITHM);
        let key = if settings.dpop && (dpop_wanted || discovered.dpop_required) && dpop_offered {
            let mut state = self.state();
            if state.dpop.is_none() {
                state.dpop = Some(DpopKey::generate()?);
            }
            state.dpop.clone()
        } else {
            None
        };
        let mut scopes = if scopes.is_empty() { discovered.scopes_supported.clone() } else { scopes };
        scopes = union(&scopes, settings.scopes.iter().map(String::as_str));
        let code_grant = matches!(settings.grant, Grant::AuthorizationCode);
        if code_grant
            && settings.offline_access
            && discovered.metadata.scopes_supported.iter().any(|s| s == "offline_access")
        {
            scopes = union(&scopes, ["offline_access"]);
        }
        let scope = scopes.join(" ");
        let client = self.identify(&discovered).await?;
        let dpop = key.as_ref().map(|key| Dpop { key, nonce: &self.as_nonce });
        let party = Party { http: &settings.http, discovered: &discovered, client: &client, dpop };
        let tokens = match &settings.grant {
            Grant::AuthorizationCode => {
                let handler =
                    settings.handler.as_deref().ok_or_else(|| refused("no authorization handler configured"))?;
                party.authorization_code(handler, &settings.redirect_uri, &scope).await?
            }
            Grant::ClientCredentials => party.client_credentials(&scope).await?,
            Grant::JwtBearer(assertion) => party.jwt_bearer(assertion, &scope).await?,
            Grant::IdentityAssertion(grant) => party.identity_assertion(grant, &scope).await?,
        };
        self.state().requested = scopes;
        self.adopt(tokens, Some((discovered, client))).await
    }

    /// Who the client is at the authorization server `discovered`: a registration configured
    /// for it (or for any, then bound to it), one kept from a dynamic registration there, its
    /// Client ID Metadata Document when the server supports them, or a new dynamic
    /// registration. Never a registration of another authorization server.
    async fn identify(&self, discovered: &Discovered) -> Result<ClientRegistration, ClientError> {
        let settings = &self.settings;
        let issuer = discovered.issuer.as_str();
        if let Some(client) = settings.clients.iter().find(|c| c.issuer.as_deref() == Some(issuer)) {
            return Ok(client.clone());
        }
        {
            let mut bound = settings.bound.lock().unwrap_or_else(PoisonError::into_inner);
            for (client, bound) in settings.clients.iter().zip(bound.iter_mut()) {
                if client.issuer.is_none() && bound.as_deref().is_none_or(|b| b == issuer) {
                    *bound = Some(issuer.to_owned());
                    return Ok(client.clone().with_issuer(issuer));
                }
            }
        }
        let key = client_key(issuer);
        if let Ok(Some(kept)) = settings.store.load(&key).await
            && let Some(client) = ClientRegistration::from_stored(&kept)
            && client.issuer.as_deref() == Some(issuer)
        {
            return Ok(client);
        }
        if let Some(document) = &settings.metadata_document
            && discovered.metadata.flag("client_id_metadata_document_supported")
        {
            return Ok(ClientRegistration::new(document.clone()).with_issuer(issuer));
        }
        let grant_types: &[&str] = match settings.grant {
            Grant::AuthorizationCode => &["authorization_code", "refresh_token"],
            Grant::ClientCredentials => &["client_credentials"],
            Grant::JwtBearer(_) | Grant::IdentityAssertion(_) => &["urn:ietf:params:oauth:grant-type:jwt-bearer"],
        };
        let request = RegistrationRequest {
            client_name: &settings.client_name,
            redirect_uri: &settings.redirect_uri,
            grant_types,
        };
        let client = register(&settings.http, issuer, &discovered.metadata, &request).await?;
        if let Err(error) = settings.store.save(&key, Some(client.to_stored())).await {
            tracing::warn!(%error, "the client registration could not be kept in the token store");
        }
        Ok(client)
    }
}

impl Authorizer for OAuthAuthorizer {
    fn header(&self) -> Option<HeaderValue> {
        self.state().header.clone()
    }

    fn challenged<'a>(&'a self, challenge: &'a Challenge) -> BoxFuture<'a, Result<bool, ClientError>> {
        Box::pin(self.answer(challenge))
    }

    fn proof(&self, method: &http::Method) -> Option<HeaderValue> {
        let state = self.state();
        let tokens = state.tokens.as_ref().filter(|t| t.is_dpop())?;
        let key = state.dpop.as_ref()?;
        let proof = key.proof(method.as_str(), &self.endpoint, state.rs_nonce.as_deref(), Some(&tokens.access_token));
        match proof.map(HeaderValue::try_from) {
            Ok(Ok(value)) => Some(value),
            _ => {
                tracing::warn!("no DPoP proof could be made for the request");
                None
            }
        }
    }

    fn accepted(&self, sent: Option<&HeaderValue>) {
        let mut state = self.state();
        if !state.proven && sent.is_some() && state.header.as_ref() == sent {
            state.proven = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_accumulate_in_the_order_first_asked() {
        let before = vec!["mcp:basic".to_owned()];
        assert_eq!(union(&before, ["mcp:write", "mcp:basic"]), ["mcp:basic", "mcp:write"]);
        assert_eq!(union(&[], ["a"]), ["a"]);
    }
}
