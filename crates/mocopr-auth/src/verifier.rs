//! [`TokenVerifier`]: what checks an access token and says who presented it, and the mapping
//! from a token's claims to a [`Principal`].

use futures_util::future::BoxFuture;
use mocopr_core::principal::Principal;
use serde_json::{Map, Value};

use crate::error::TokenError;

/// Checks an access token and returns the [`Principal`] it stands for.
///
/// [`JwtVerifier`](crate::JwtVerifier) checks signed JWTs against the issuer's keys;
/// [`IntrospectionVerifier`](crate::IntrospectionVerifier) asks the authorization server
/// (RFC 7662). Implement it to check tokens some other way; the resource server caches what a
/// verifier accepted until the token expires, so a verifier is called once per token.
///
/// ```
/// use futures_util::future::BoxFuture;
/// use mocopr_auth::{TokenError, TokenVerifier, Verified};
/// use mocopr_core::principal::Principal;
///
/// /// Accepts one fixed token (a test double).
/// struct Fixed;
///
/// impl TokenVerifier for Fixed {
///     fn verify<'a>(&'a self, token: &'a str) -> BoxFuture<'a, Result<Verified, TokenError>> {
///         Box::pin(async move {
///             if token == "let-me-in" {
///                 Ok(Verified::new(Principal::new("tester").with_scopes(["mcp"]), None))
///             } else {
///                 Err(TokenError::Invalid("unknown token"))
///             }
///         })
///     }
/// }
/// ```
pub trait TokenVerifier: Send + Sync + 'static {
    /// Checks `token` (the credentials of `Authorization: Bearer`).
    fn verify<'a>(&'a self, token: &'a str) -> BoxFuture<'a, Result<Verified, TokenError>>;
}

/// A token a [`TokenVerifier`] accepted: who it stands for, and until when (seconds since the
/// Unix epoch, the `exp` claim; `None` when the token names no expiry).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Verified {
    /// The caller.
    pub principal: Principal,
    /// When the token expires.
    pub expires_at: Option<u64>,
}

impl Verified {
    /// A token standing for `principal`, valid until `expires_at`.
    pub fn new(principal: Principal, expires_at: Option<u64>) -> Self {
        Verified { principal, expires_at }
    }
}

/// The principal of a token's claims: `sub` (or, for a client acting for itself,
/// `client:` and its `client_id` / `azp`), the client from `client_id` or `azp`, the scopes from `scope` (space-separated, RFC
/// 9068 and RFC 7662) or `scp` (a list or a string, as some providers write it), and every
/// claim. `None` when the token names neither a subject nor a client.
pub(crate) fn principal_from_claims(claims: Map<String, Value>) -> Option<Principal> {
    let text = |name: &str| claims.get(name).and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_owned);
    let client_id = text("client_id").or_else(|| text("azp"));
    // A client acting for itself has no `sub`: its subject is marked as a client's, so that a
    // client whose id equals some user's subject cannot use that user's sessions or tasks.
    let subject = text("sub").or_else(|| client_id.as_ref().map(|id| format!("client:{id}")))?;
    let scopes: Vec<String> = match claims.get("scope").or_else(|| claims.get("scp")) {
        Some(Value::String(list)) => list.split_ascii_whitespace().map(str::to_owned).collect(),
        Some(Value::Array(list)) => list.iter().filter_map(Value::as_str).map(str::to_owned).collect(),
        _ => Vec::new(),
    };
    let mut principal = Principal::new(subject).with_scopes(scopes);
    if let Some(client_id) = client_id {
        principal = principal.with_client_id(client_id);
    }
    Some(principal.with_claims(claims))
}

/// A NumericDate claim (`exp`, `nbf`, `iat`): seconds since the Unix epoch, which RFC 7519
/// allows to carry a fraction; the fraction is dropped.
pub(crate) fn numeric_date(value: &Value) -> Option<u64> {
    value.as_u64().or_else(|| {
        let seconds = value.as_f64()?;
        // `as` saturates; a negative or NaN date is no date.
        (seconds.is_finite() && seconds >= 0.0).then_some(seconds as u64)
    })
}

/// `audiences`, each also with one trailing `/` more or less: the same resource, as issuers
/// write it either way (the canonical form has none).
pub(crate) fn with_slash_variants(audiences: Vec<String>) -> Vec<String> {
    let mut all = audiences.clone();
    for audience in audiences {
        let other = match audience.strip_suffix('/') {
            Some(bare) => bare.to_owned(),
            None => format!("{audience}/"),
        };
        if !all.contains(&other) {
            all.push(other);
        }
    }
    all
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn claims(value: Value) -> Map<String, Value> {
        value.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn scopes_come_from_scope_or_scp() {
        let p = principal_from_claims(claims(json!({"sub": "a", "scope": "x  y"}))).unwrap();
        assert_eq!(p.scopes(), ["x", "y"]);
        let p = principal_from_claims(claims(json!({"sub": "a", "scp": ["x", 3, "z"]}))).unwrap();
        assert_eq!(p.scopes(), ["x", "z"]);
        let p = principal_from_claims(claims(json!({"sub": "a"}))).unwrap();
        assert!(p.scopes().is_empty());
    }

    #[test]
    fn numeric_dates_may_carry_a_fraction() {
        assert_eq!(numeric_date(&json!(1_700_000_000)), Some(1_700_000_000));
        assert_eq!(numeric_date(&json!(1_700_000_000.75)), Some(1_700_000_000));
        assert_eq!(numeric_date(&json!(-1.0)), None);
        assert_eq!(numeric_date(&json!("1700000000")), None);
    }

    #[test]
    fn audiences_match_with_or_without_one_trailing_slash() {
        let all = with_slash_variants(vec!["https://r.example/mcp".into(), "https://o.example/".into()]);
        assert_eq!(all, ["https://r.example/mcp", "https://o.example/", "https://r.example/mcp/", "https://o.example"]);
    }

    #[test]
    fn a_client_acting_for_itself_is_its_own_subject() {
        let p = principal_from_claims(claims(json!({"azp": "svc"}))).unwrap();
        assert_eq!((p.subject(), p.client_id()), ("client:svc", Some("svc")));
        let p = principal_from_claims(claims(json!({"sub": "alice", "client_id": "svc"}))).unwrap();
        assert_eq!((p.subject(), p.client_id()), ("alice", Some("svc")));
        assert!(principal_from_claims(claims(json!({"sub": ""}))).is_none());
    }
}
