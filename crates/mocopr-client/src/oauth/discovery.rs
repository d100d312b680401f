//! Finding who issues tokens for a server: its Protected Resource Metadata (RFC 9728: the URL
//! of its challenge, then the well-known URLs in the specification's order), then the chosen
//! authorization server's metadata (RFC 8414 and OpenID Connect, in the specification's
//! order, the issuer checked character for character). A server without resource metadata
//! (revision 2025-03-26) has its authorization server at its own origin, with the default
//! endpoint paths when that origin publishes no metadata either.

use mocopr_auth::{AuthorizationServerMetadata, ProtectedResourceMetadata};
use url::Url;

use super::http::{OAuthHttp, refused, trusted};
use crate::error::ClientError;

/// The authorization server a token comes from, and what the token is for.
#[derive(Debug, Clone)]
pub(crate) struct Discovered {
    /// The issuer identifier, exactly as the resource metadata names it (the server's origin
    /// for a 2025-03-26 server); what client identities are bound to.
    pub(crate) issuer: String,
    pub(crate) metadata: AuthorizationServerMetadata,
    /// The `resource` parameter: the resource metadata's `resource`, else the server's URL.
    pub(crate) resource: String,
    /// The scopes the resource metadata lists.
    pub(crate) scopes_supported: Vec<String>,
    /// The resource metadata says the server accepts DPoP-bound tokens only.
    pub(crate) dpop_required: bool,
    /// No metadata at all: the 2025-03-26 default endpoints (`/authorize`, `/token`,
    /// `/register` at the server's origin).
    pub(crate) defaults: bool,
}

/// Finds the authorization server of the MCP endpoint `endpoint` (`resource`: its URL as the
/// user wrote it, without fragment). `pointer` is the `resource_metadata` of the server's
/// challenge.
pub(crate) async fn discover(
    http: &OAuthHttp,
    endpoint: &Url,
    resource: &str,
    pointer: Option<&str>,
    protocol_version: Option<&str>,
) -> Result<Discovered, ClientError> {
    match resource_metadata(http, endpoint, pointer, protocol_version).await? {
        Some(prm) => {
            if !covers(&prm.resource, endpoint) {
                return Err(refused(format!(
                    "the server's resource metadata names another resource ({}) than {endpoint}",
                    prm.resource
                )));
            }
            // The first authorization server listed (RFC 9728 §7.6 leaves the choice to the client).
            let issuer = prm
                .authorization_servers
                .first()
                .cloned()
                .ok_or_else(|| refused("the server's resource metadata names no authorization server"))?;
            named_by(endpoint, trusted("issuer", &issuer)?)?;
            let metadata = server_metadata(http, &issuer, protocol_version)
                .await?
                .ok_or_else(|| refused(format!("the authorization server {issuer} publishes no metadata")))?;
            let dpop_required = prm
                .extra
                .get("dpop_bound_access_tokens_required")
                .and_then(serde_json::Value::as_bool)
                .unwrap_or(false);
            Ok(Discovered {
                issuer,
                metadata,
                resource: prm.resource,
                scopes_supported: prm.scopes_supported,
                dpop_required,
                defaults: false,
            })
        }
        None => legacy(http, endpoint, resource.to_owned(), protocol_version).await,
    }
}

/// `url`, named by the server at `endpoint`, when the client may go there: a remote server
/// does not send the client to this machine's own services.
fn named_by(endpoint: &Url, url: Url) -> Result<Url, ClientError> {
    if mocopr_auth::is_loopback(&url) && !mocopr_auth::is_loopback(endpoint) {
        return Err(refused("a remote server named a loopback address for its authorization: it is not used"));
    }
    Ok(url)
}

/// The server's resource metadata: from `pointer` when the challenge gave one, else from the
/// path-specific well-known URL, then the root one.
async fn resource_metadata(
    http: &OAuthHttp,
    endpoint: &Url,
    pointer: Option<&str>,
    protocol_version: Option<&str>,
) -> Result<Option<ProtectedResourceMetadata>, ClientError> {
    let mut candidates = Vec::new();
    if let Some(pointer) = pointer {
        candidates.push(named_by(endpoint, trusted("resource_metadata", pointer)?)?);
    }
    candidates.extend(ProtectedResourceMetadata::well_known_urls(endpoint));
    for url in candidates {
        if let Some(document) = http.document(&url, protocol_version).await? {
            let prm: ProtectedResourceMetadata = serde_json::from_value(document.into())
                .map_err(|_| refused(format!("the resource metadata at {url} is malformed")))?;
            return Ok(Some(prm));
        }
    }
    Ok(None)
}

/// Whether the resource metadata's `resource` covers `endpoint`: the same origin, and a path
/// that is the endpoint's or a parent of it (a server publishing one identifier for several
/// endpoints).
pub(crate) fn covers(resource: &str, endpoint: &Url) -> bool {
    let Ok(resource) = Url::parse(resource) else { return false };
    if resource.origin() != endpoint.origin() || resource.fragment().is_some() {
        return false;
    }
    let parent = resource.path().trim_end_matches('/');
    let path = endpoint.path();
    path == parent || path.strip_prefix(parent).is_some_and(|rest| rest.starts_with('/'))
}

/// The metadata of `issuer`, tried at each well-known URL in order; the first document found
/// must name `issuer` exactly, or it is not used (and no other is tried).
pub(crate) async fn server_metadata(
    http: &OAuthHttp,
    issuer: &str,
    protocol_version: Option<&str>,
) -> Result<Option<AuthorizationServerMetadata>, ClientError> {
    let url = trusted("issuer", issuer)?;
    for candidate in AuthorizationServerMetadata::well_known_urls(&url) {
        if let Some(document) = http.document(&candidate, protocol_version).await? {
            let metadata: AuthorizationServerMetadata = serde_json::from_value(document.into())
                .map_err(|_| refused(format!("the authorization-server metadata at {candidate} is malformed")))?;
            if metadata.issuer != issuer {
                return Err(refused(format!(
                    "the metadata at {candidate} names issuer {:?}, not {issuer:?}: it is not used",
                    metadata.issuer
                )));
            }
            return Ok(Some(metadata));
        }
    }
    Ok(None)
}

/// A server without resource metadata (2025-03-26): its authorization server is its origin,
/// whose RFC 8414 document is used as published, or the default endpoints when there is none.
async fn legacy(
    http: &OAuthHttp,
    endpoint: &Url,
    resource: String,
    protocol_version: Option<&str>,
) -> Result<Discovered, ClientError> {
    let origin = endpoint.origin().ascii_serialization();
    let mut at = endpoint.clone();
    at.set_path("/.well-known/oauth-authorization-server");
    at.set_query(None);
    if let Some(document) = http.document(&at, protocol_version).await? {
        // 2025-03-26 predates the issuer check: the document at the server's own origin is
        // the server's, whatever issuer it names; but the authorization server is that
        // origin, and so is what registrations, stored clients and assertions are bound to (a
        // server does not borrow another issuer's credentials by naming it).
        let metadata: AuthorizationServerMetadata = serde_json::from_value(document.into())
            .map_err(|_| refused(format!("the authorization-server metadata at {at} is malformed")))?;
        return Ok(Discovered {
            issuer: origin,
            metadata,
            resource,
            scopes_supported: Vec::new(),
            dpop_required: false,
            defaults: false,
        });
    }
    let mut metadata = AuthorizationServerMetadata::new(origin.clone());
    metadata.authorization_endpoint = Some(format!("{origin}/authorize"));
    metadata.token_endpoint = Some(format!("{origin}/token"));
    metadata.registration_endpoint = Some(format!("{origin}/register"));
    Ok(Discovered {
        issuer: origin,
        metadata,
        resource,
        scopes_supported: Vec::new(),
        dpop_required: false,
        defaults: true,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_remote_server_cannot_send_the_client_to_this_machine() {
        let remote = Url::parse("https://mcp.example.com/mcp").unwrap();
        let local = Url::parse("http://127.0.0.1:8080/mcp").unwrap();
        for url in ["http://127.0.0.1:9000/x", "https://localhost/x", "http://[::1]:9000/x"] {
            assert!(named_by(&remote, Url::parse(url).unwrap()).is_err(), "{url}");
            assert!(named_by(&local, Url::parse(url).unwrap()).is_ok(), "{url}");
        }
        assert!(named_by(&remote, Url::parse("https://auth.example.com").unwrap()).is_ok());
        assert!(named_by(&local, Url::parse("https://auth.example.com").unwrap()).is_ok());
    }

    #[test]
    fn a_resource_covers_its_endpoint_and_those_under_it() {
        let endpoint = Url::parse("https://mcp.example.com/mcp").unwrap();
        assert!(covers("https://mcp.example.com/mcp", &endpoint));
        assert!(covers("https://mcp.example.com/", &endpoint));
        assert!(covers("https://mcp.example.com", &endpoint));
        assert!(!covers("https://mcp.example.com/mc", &endpoint));
        assert!(!covers("https://mcp.example.com/mcp/v2", &endpoint));
        assert!(!covers("https://evil.example.com/mcp", &endpoint));
        assert!(!covers("http://mcp.example.com/mcp", &endpoint));
        assert!(!covers("not a url", &endpoint));
    }
}
