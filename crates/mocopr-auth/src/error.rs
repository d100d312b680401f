//! The errors of this crate: [`AuthConfigError`] when a verifier or resource server is set up
//! wrongly, [`TokenError`] when a token is refused.

/// A verifier or resource server that cannot be built as configured.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuthConfigError {
    /// A URL that does not parse, or that this crate refuses (plain `http://` off loopback, a
    /// fragment, a query in a resource or issuer identifier).
    #[error("{what} {url:?} is not usable: {reason}")]
    Url {
        /// Which URL (`resource`, `issuer`, `jwks_uri`, ...).
        what: &'static str,
        /// The URL as given.
        url: String,
        /// Why it is refused.
        reason: &'static str,
    },
    /// An algorithm that cannot be trusted for access tokens (HMAC, whose key a resource server
    /// would have to share with the issuer, or `none`).
    #[error("algorithm {0:?} is not allowed for access tokens (asymmetric signatures only)")]
    Algorithm(jsonwebtoken::Algorithm),
    /// A resource server with neither a verifier nor an authorization server to check tokens
    /// against.
    #[error("no verifier and no authorization server: tokens could not be checked")]
    NoAuthorizationServer,
    /// More than one authorization server and no verifier: a verifier that accepts the tokens
    /// of each must be given.
    #[error("several authorization servers need a verifier that says how each one's tokens are checked")]
    VerifierNeeded,
    /// A scope that is not one RFC 6749 scope token (empty, or with a space, `"`, `\` or a
    /// character outside printable ASCII).
    #[error("scope {0:?} is not a valid scope token")]
    Scope(String),
    /// The verifier was given no algorithm to accept.
    #[error("no signature algorithm allowed")]
    NoAlgorithm,
    /// The HTTP client for metadata, keys and introspection could not be made.
    #[error("the HTTP client could not be built")]
    HttpClient(#[source] reqwest::Error),
}

/// Why an access token was refused, or could not be checked now.
///
/// The texts are fixed and say nothing about the token itself: they are safe to send back in
/// `error_description` and to log.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    /// The token is not valid for this resource (malformed, badly signed, expired, for another
    /// audience or issuer, revoked): `401` with `error="invalid_token"`.
    #[error("{0}")]
    Invalid(&'static str),
    /// The token could not be checked now (the issuer's keys or introspection endpoint did not
    /// answer): `503`, the client may retry.
    #[error("{0}")]
    Unavailable(&'static str),
}
