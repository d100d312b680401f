//! [`Principal`]: who is calling, as an authorization layer established it.
//!
//! An authorization layer in front of the MCP endpoint (an HTTP tower layer that checked a
//! bearer token, say) inserts a `Principal` into the HTTP request's extensions; the HTTP
//! transport carries it into the [`McpRequest`](crate::service::McpRequest)'s extensions, and
//! handlers read it from their request context or take it as an argument. Without such a layer
//! there is no principal: requests are anonymous.

use std::sync::Arc;

use serde_json::{Map, Value};

/// An authenticated caller: subject, client, granted scopes and the token's other claims.
/// Cheap to clone (one `Arc`).
///
/// ```
/// use mocopr_core::principal::Principal;
///
/// let alice = Principal::new("alice").with_client_id("cli-42").with_scopes(["tools:call"]);
/// assert!(alice.has_scope("tools:call"));
/// assert_eq!(alice.subject(), "alice");
/// ```
#[derive(Clone, PartialEq)]
pub struct Principal {
    inner: Arc<Inner>,
}

#[derive(Clone, PartialEq)]
struct Inner {
    subject: String,
    client_id: Option<String>,
    scopes: Vec<String>,
    claims: Map<String, Value>,
}

impl Principal {
    /// The caller identified by `subject` (a token's `sub`), with no client, scopes or claims.
    pub fn new(subject: impl Into<String>) -> Self {
        Principal {
            inner: Arc::new(Inner { subject: subject.into(), client_id: None, scopes: Vec::new(), claims: Map::new() }),
        }
    }

    /// Sets the OAuth client the caller used.
    pub fn with_client_id(mut self, client_id: impl Into<String>) -> Self {
        Arc::make_mut(&mut self.inner).client_id = Some(client_id.into());
        self
    }

    /// Sets the scopes granted.
    pub fn with_scopes<I, S>(mut self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Arc::make_mut(&mut self.inner).scopes = scopes.into_iter().map(Into::into).collect();
        self
    }

    /// Sets the token's other claims.
    pub fn with_claims(mut self, claims: Map<String, Value>) -> Self {
        Arc::make_mut(&mut self.inner).claims = claims;
        self
    }

    /// The subject.
    pub fn subject(&self) -> &str {
        &self.inner.subject
    }

    /// The OAuth client, when known.
    pub fn client_id(&self) -> Option<&str> {
        self.inner.client_id.as_deref()
    }

    /// The scopes granted.
    pub fn scopes(&self) -> &[String] {
        &self.inner.scopes
    }

    /// Whether `scope` was granted.
    pub fn has_scope(&self, scope: &str) -> bool {
        self.inner.scopes.iter().any(|s| s == scope)
    }

    /// The token's other claims.
    pub fn claims(&self) -> &Map<String, Value> {
        &self.inner.claims
    }
}

// Claims can hold personal data and tokens' contents: a debug print names the subject only.
impl std::fmt::Debug for Principal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Principal")
            .field("subject", &self.inner.subject)
            .field("client_id", &self.inner.client_id)
            .field("scopes", &self.inner.scopes)
            .finish_non_exhaustive()
    }
}
