//! Authorization-server metadata (RFC 8414, and OpenID Connect Discovery's document, which
//! carries the same fields), found from the issuer identifier alone.

use serde::{Deserialize, Serialize};
use url::Url;

use crate::fetch::{FetchError, Fetcher};

/// What an authorization server publishes about itself (the fields MCP uses; others are
/// kept in `extra`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AuthorizationServerMetadata {
    /// The issuer identifier; must equal the one the document was looked up for.
    pub issuer: String,
    /// Where the user authorizes a client.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization_endpoint: Option<String>,
    /// Where codes and refresh tokens become access tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_endpoint: Option<String>,
    /// The key set the server signs tokens with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks_uri: Option<String>,
    /// RFC 7662 token introspection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub introspection_endpoint: Option<String>,
    /// RFC 7591 dynamic client registration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registration_endpoint: Option<String>,
    /// Scopes the server knows.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scopes_supported: Vec<String>,
    /// PKCE methods (`S256`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub code_challenge_methods_supported: Vec<String>,
    /// Every other field, as published.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

impl AuthorizationServerMetadata {
    /// Metadata naming `issuer` and nothing else yet.
    ///
    /// ```
    /// use mocopr_auth::AuthorizationServerMetadata;
    ///
    /// let mut metadata = AuthorizationServerMetadata::new("https://auth.example.com");
    /// metadata.jwks_uri = Some("https://auth.example.com/jwks".into());
    /// assert_eq!(metadata.issuer, "https://auth.example.com");
    /// ```
    pub fn new(issuer: impl Into<String>) -> Self {
        AuthorizationServerMetadata {
            issuer: issuer.into(),
            authorization_endpoint: None,
            token_endpoint: None,
            jwks_uri: None,
            introspection_endpoint: None,
            registration_endpoint: None,
            scopes_supported: Vec::new(),
            code_challenge_methods_supported: Vec::new(),
            extra: serde_json::Map::new(),
        }
    }
}

impl AuthorizationServerMetadata {
    /// Where the metadata of `issuer` may be, in the order MCP clients try them (RFC 8414's
    /// URL, then OpenID Connect's; for an issuer with a path, each with the well-known part
    /// before the path, then OpenID Connect's after it). The first document found must name
    /// the issuer exactly.
    ///
    /// ```
    /// use mocopr_auth::AuthorizationServerMetadata;
    ///
    /// let issuer = url::Url::parse("https://auth.example.com/tenant1").unwrap();
    /// let urls = AuthorizationServerMetadata::well_known_urls(&issuer);
    /// assert_eq!(urls[0].as_str(), "https://auth.example.com/.well-known/oauth-authorization-server/tenant1");
    /// assert_eq!(urls[2].as_str(), "https://auth.example.com/tenant1/.well-known/openid-configuration");
    /// ```
    pub fn well_known_urls(issuer: &Url) -> Vec<Url> {
        metadata_urls(issuer)
    }

    /// A field of the document beyond the typed ones, when it is `true`
    /// (`authorization_response_iss_parameter_supported`, `client_id_metadata_document_supported`).
    ///
    /// ```
    /// use mocopr_auth::AuthorizationServerMetadata;
    ///
    /// let mut metadata = AuthorizationServerMetadata::new("https://auth.example.com");
    /// metadata.extra.insert("client_id_metadata_document_supported".into(), true.into());
    /// assert!(metadata.flag("client_id_metadata_document_supported"));
    /// assert!(!metadata.flag("authorization_response_iss_parameter_supported"));
    /// ```
    pub fn flag(&self, name: &str) -> bool {
        self.extra.get(name).and_then(serde_json::Value::as_bool).unwrap_or(false)
    }

    /// A list field of the document beyond the typed ones (`token_endpoint_auth_methods_supported`,
    /// `grant_types_supported`); empty when absent.
    ///
    /// ```
    /// use mocopr_auth::AuthorizationServerMetadata;
    ///
    /// let mut metadata = AuthorizationServerMetadata::new("https://auth.example.com");
    /// metadata.extra.insert("token_endpoint_auth_methods_supported".into(), serde_json::json!(["none"]));
    /// assert_eq!(metadata.list("token_endpoint_auth_methods_supported"), ["none"]);
    /// ```
    pub fn list(&self, name: &str) -> Vec<&str> {
        self.extra
            .get(name)
            .and_then(serde_json::Value::as_array)
            .map(|list| list.iter().filter_map(serde_json::Value::as_str).collect())
            .unwrap_or_default()
    }
}

/// Where the metadata of `issuer` may be, in the order MCP's authorization specification tries
/// them: for an issuer with a path, the RFC 8414 URL (well-known part before the path), then
/// OpenID Connect's two forms (before, then after the path); for one without, RFC 8414's, then
/// OpenID Connect's.
pub(crate) fn metadata_urls(issuer: &Url) -> Vec<Url> {
    let path = issuer.path().trim_end_matches('/');
    let at = |well_known: &str| {
        let mut url = issuer.clone();
        url.set_query(None);
        url.set_path(well_known);
        url
    };
    if path.is_empty() {
        vec![at("/.well-known/oauth-authorization-server"), at("/.well-known/openid-configuration")]
    } else {
        vec![
            at(&format!("/.well-known/oauth-authorization-server{path}")),
            at(&format!("/.well-known/openid-configuration{path}")),
            at(&format!("{path}/.well-known/openid-configuration")),
        ]
    }
}

/// Why no metadata was found. Kept inside.
#[derive(Debug, thiserror::Error)]
pub(crate) enum DiscoveryError {
    #[error("no metadata document at any well-known URL")]
    NotFound(#[source] Option<FetchError>),
    #[error("the metadata names another issuer")]
    IssuerMismatch,
}

/// Fetches the metadata of `issuer` (the identifier as configured, `url` its parsed form),
/// trying each well-known URL in order; the first document found must name `issuer` exactly
/// (RFC 8414 §3.3), or none is taken.
pub(crate) async fn discover(
    fetcher: &Fetcher,
    issuer: &str,
    url: &Url,
) -> Result<AuthorizationServerMetadata, DiscoveryError> {
    let spellings = issuer_spellings(issuer, url);
    let mut last = None;
    for candidate in metadata_urls(url) {
        match fetcher.get_json::<AuthorizationServerMetadata>(&candidate).await {
            Ok(metadata) if spellings.contains(&metadata.issuer) => return Ok(metadata),
            Ok(_) => return Err(DiscoveryError::IssuerMismatch),
            Err(error) => last = Some(error),
        }
    }
    Err(DiscoveryError::NotFound(last))
}

/// The spellings of the issuer identifier `issuer` that name it exactly: itself, and for a
/// bare origin also the other of `https://host` and `https://host/` (issuers write either).
/// Metadata documents, tokens' `iss` and introspection answers are compared against these,
/// character for character.
pub(crate) fn issuer_spellings(issuer: &str, url: &Url) -> Vec<String> {
    let mut all = vec![issuer.to_owned()];
    if url.path() == "/" && url.query().is_none() {
        let other = match issuer.strip_suffix('/') {
            Some(bare) => bare.to_owned(),
            None => format!("{issuer}/"),
        };
        all.push(other);
    }
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    fn urls(issuer: &str) -> Vec<String> {
        metadata_urls(&Url::parse(issuer).unwrap()).into_iter().map(String::from).collect()
    }

    #[test]
    fn well_known_urls_in_the_spec_order() {
        assert_eq!(
            urls("https://auth.example.com"),
            [
                "https://auth.example.com/.well-known/oauth-authorization-server",
                "https://auth.example.com/.well-known/openid-configuration"
            ]
        );
        assert_eq!(
            urls("https://auth.example.com/tenant1"),
            [
                "https://auth.example.com/.well-known/oauth-authorization-server/tenant1",
                "https://auth.example.com/.well-known/openid-configuration/tenant1",
                "https://auth.example.com/tenant1/.well-known/openid-configuration",
            ]
        );
    }

    #[test]
    fn a_bare_origin_matches_with_or_without_its_slash() {
        let same = |named: &str, issuer: &str| {
            issuer_spellings(issuer, &Url::parse(issuer).unwrap()).iter().any(|spelling| spelling == named)
        };
        assert!(same("https://auth.example.com", "https://auth.example.com"));
        assert!(same("https://auth.example.com/", "https://auth.example.com"));
        assert!(same("https://auth.example.com", "https://auth.example.com/"));
        assert!(!same("https://evil.example.com", "https://auth.example.com"));
        assert!(same("https://auth.example.com/t1", "https://auth.example.com/t1"));
        assert!(!same("https://auth.example.com/t1/", "https://auth.example.com/t1"));
        // Exact: the configured spelling is what tokens carry, not a normalized form.
        assert!(!same("https://auth.example.com", "https://Auth.example.com"));
    }
}
