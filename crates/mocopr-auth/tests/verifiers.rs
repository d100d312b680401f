//! The verifiers against a real authorization server on loopback (`TestAuthorizationServer`):
//! JWTs checked with keys found through the issuer's metadata, opaque tokens introspected
//! with the resource server's credentials.

use mocopr_auth::{IntrospectionVerifier, JwtVerifier, TokenError, TokenVerifier};
use mocopr_testing::{INTROSPECTION_CLIENT, TestAuthorizationServer};
use serde_json::json;

const RESOURCE: &str = "http://127.0.0.1:9/mcp";

#[tokio::test]
async fn jwts_are_checked_with_keys_found_through_the_metadata() {
    let issuer = TestAuthorizationServer::start().await.unwrap();
    let verifier = JwtVerifier::builder(issuer.issuer(), RESOURCE).build().unwrap();
    let token = issuer.token(&issuer.claims("alice", RESOURCE, &["a", "b"])).unwrap();
    let verified = verifier.verify(&token).await.unwrap();
    assert_eq!(verified.principal.subject(), "alice");
    assert_eq!(verified.principal.client_id(), Some("test-client"));
    assert_eq!(verified.principal.scopes(), ["a", "b"]);
    assert!(verified.expires_at.is_some());
    // The issuer writes the audience with a trailing slash: the same resource.
    let slashed = issuer.token(&issuer.claims("alice", &format!("{RESOURCE}/"), &[])).unwrap();
    assert!(verifier.verify(&slashed).await.is_ok());
    // One fetch served both.
    assert_eq!(issuer.jwks_fetches(), 1);

    // An issuer that cannot be reached: the token cannot be checked now.
    let gone = JwtVerifier::builder("http://127.0.0.1:9", RESOURCE).build().unwrap();
    assert!(matches!(gone.verify(&token).await, Err(TokenError::Unavailable(_))));
    // A verifier for another issuer refuses the token, once its own issuer's keys are known.
    let other = TestAuthorizationServer::start().await.unwrap();
    let strict = JwtVerifier::builder(other.issuer(), RESOURCE).build().unwrap();
    assert!(matches!(strict.verify(&token).await, Err(TokenError::Invalid(_))));
}

#[tokio::test]
async fn opaque_tokens_are_introspected() {
    let issuer = TestAuthorizationServer::start().await.unwrap();
    let (id, secret) = INTROSPECTION_CLIENT;
    let verifier =
        IntrospectionVerifier::builder(issuer.issuer(), RESOURCE).with_client_credentials(id, secret).build().unwrap();
    let token = issuer.opaque_token(&issuer.claims("bob", RESOURCE, &["x"]));
    let verified = verifier.verify(&token).await.unwrap();
    assert_eq!((verified.principal.subject(), verified.principal.scopes()), ("bob", &["x".to_owned()][..]));

    assert_eq!(verifier.verify("opaque-unknown").await.err(), Some(TokenError::Invalid("token not active")));
    let elsewhere = issuer.opaque_token(&issuer.claims("bob", "http://127.0.0.1:1/mcp", &[]));
    assert!(matches!(verifier.verify(&elsewhere).await, Err(TokenError::Invalid(_))));
    let mut claims = issuer.claims("bob", RESOURCE, &[]);
    claims["exp"] = json!(1);
    let expired = issuer.opaque_token(&claims);
    // The authorization server calls it inactive (RFC 7662 §2.2); the verifier checks `exp` too.
    assert!(matches!(verifier.verify(&expired).await, Err(TokenError::Invalid(_))));

    // Without the resource server's credentials the endpoint refuses to answer.
    let anonymous = IntrospectionVerifier::builder(issuer.issuer(), RESOURCE).build().unwrap();
    assert!(matches!(anonymous.verify(&token).await, Err(TokenError::Unavailable(_))));
}
