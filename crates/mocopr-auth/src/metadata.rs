//! Protected Resource Metadata (RFC 9728): the document that tells a client which
//! authorization servers issue tokens for this resource, and where it is published.

use serde::{Deserialize, Serialize};
use url::Url;

/// The well-known path prefix of RFC 9728.
pub(crate) const WELL_KNOWN: &str = "/.well-known/oauth-protected-resource";

/// What a protected resource publishes about itself.
///
/// ```
/// use mocopr_auth::ProtectedResourceMetadata;
///
/// let metadata = ProtectedResourceMetadata::new("https://mcp.example.com/mcp", ["https://auth.example.com"]);
/// let json = serde_json::to_value(&metadata)?;
/// assert_eq!(json["authorization_servers"][0], "https://auth.example.com");
/// assert_eq!(json["bearer_methods_supported"][0], "header");
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ProtectedResourceMetadata {
    /// The resource's identifier (its canonical URI).
    pub resource: String,
    /// The issuers whose tokens the resource accepts.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub authorization_servers: Vec<String>,
    /// The scopes the resource knows.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scopes_supported: Vec<String>,
    /// How tokens are presented: `header` only (never the query string or a form body).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub bearer_methods_supported: Vec<String>,
    /// A name for people.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_name: Option<String>,
    /// Where people read about the resource.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_documentation: Option<String>,
    /// Every other field.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

impl ProtectedResourceMetadata {
    /// The metadata of `resource`, whose tokens `authorization_servers` issue.
    pub fn new<I, S>(resource: impl Into<String>, authorization_servers: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        ProtectedResourceMetadata {
            resource: resource.into(),
            authorization_servers: authorization_servers.into_iter().map(Into::into).collect(),
            scopes_supported: Vec::new(),
            bearer_methods_supported: vec!["header".to_owned()],
            resource_name: None,
            resource_documentation: None,
            extra: serde_json::Map::new(),
        }
    }
}

impl ProtectedResourceMetadata {
    /// Where the metadata of `resource` is published, in the order a client tries them (the
    /// path-specific URL, then the origin's root one).
    ///
    /// ```
    /// use mocopr_auth::ProtectedResourceMetadata;
    ///
    /// let resource = url::Url::parse("https://mcp.example.com/mcp").unwrap();
    /// let urls = ProtectedResourceMetadata::well_known_urls(&resource);
    /// assert_eq!(urls[0].as_str(), "https://mcp.example.com/.well-known/oauth-protected-resource/mcp");
    /// assert_eq!(urls[1].as_str(), "https://mcp.example.com/.well-known/oauth-protected-resource");
    /// ```
    pub fn well_known_urls(resource: &Url) -> Vec<Url> {
        metadata_urls(resource)
    }
}

/// Where the metadata of `resource` is published: the path-specific URL (the well-known prefix
/// inserted before the resource's path, RFC 9728 §3.1) first, then the origin's root one, which
/// clients try when the first is missing. One URL when the resource has no path.
pub(crate) fn metadata_urls(resource: &Url) -> Vec<Url> {
    let path = resource.path().trim_end_matches('/');
    let at = |path: &str| {
        let mut url = resource.clone();
        url.set_path(path);
        url.set_query(None);
        url
    };
    if path.is_empty() { vec![at(WELL_KNOWN)] } else { vec![at(&format!("{WELL_KNOWN}{path}")), at(WELL_KNOWN)] }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_path_specific_url_comes_first() {
        let urls =
            |r: &str| -> Vec<String> { metadata_urls(&Url::parse(r).unwrap()).into_iter().map(String::from).collect() };
        assert_eq!(
            urls("https://mcp.example.com/mcp"),
            [
                "https://mcp.example.com/.well-known/oauth-protected-resource/mcp",
                "https://mcp.example.com/.well-known/oauth-protected-resource"
            ]
        );
        assert_eq!(urls("https://mcp.example.com"), ["https://mcp.example.com/.well-known/oauth-protected-resource"]);
        assert_eq!(
            urls("http://127.0.0.1:9/a/b/"),
            [
                "http://127.0.0.1:9/.well-known/oauth-protected-resource/a/b",
                "http://127.0.0.1:9/.well-known/oauth-protected-resource"
            ]
        );
    }
}
