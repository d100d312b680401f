//! The OAuth settings of the suite's `auth/` scenarios: the suite's mock authorization server
//! approves at once (so [`ApproveByRedirect`] plays the user), and some scenarios hand the
//! client its credentials in `MCP_CONFORMANCE_CONTEXT`.

use mocopr_client::ClientError;
use mocopr_client::oauth::{ClientRegistration, Grant, IdentityAssertion, OAuthConfig, TokenAuthMethod};
use mocopr_testing::ApproveByRedirect;
use serde_json::Value;

/// The redirect URI the suite's reference client registers (nothing listens there: the
/// handler reads the redirect without following it).
const REDIRECT_URI: &str = "http://localhost:3000/callback";

/// The Client ID Metadata Document URL the suite expects (it need not resolve).
const METADATA_DOCUMENT: &str = "https://conformance-test.local/client-metadata.json";

/// The OAuth configuration for `scenario`, given the suite's `context`.
pub(crate) fn config(scenario: &str, context: &Value) -> Result<OAuthConfig, ClientError> {
    let text = |name: &str| context.get(name).and_then(Value::as_str).map(str::to_owned);
    let mut builder = OAuthConfig::builder()
        .with_redirect_uri(REDIRECT_URI)
        .with_client_name("mocopr-conformance-client")
        .with_client_metadata_document(METADATA_DOCUMENT)
        .with_authorization_handler(ApproveByRedirect::new());
    let client_id = text("client_id");
    match scenario {
        "auth/client-credentials-basic" => {
            let client = ClientRegistration::new(client_id.unwrap_or_default())
                .with_secret(text("client_secret").unwrap_or_default())
                .with_auth_method(TokenAuthMethod::ClientSecretBasic);
            builder = builder.with_grant(Grant::ClientCredentials).with_client(client);
        }
        "auth/client-credentials-jwt" => {
            let algorithm = match text("signing_algorithm").as_deref() {
                Some("RS256") => jsonwebtoken::Algorithm::RS256,
                Some("EdDSA") => jsonwebtoken::Algorithm::EdDSA,
                _ => jsonwebtoken::Algorithm::ES256,
            };
            let pem = text("private_key_pem").unwrap_or_default();
            let client = ClientRegistration::new(client_id.unwrap_or_default())
                .with_private_key_pem(pem.as_bytes(), algorithm)?
                .with_auth_method(TokenAuthMethod::PrivateKeyJwt);
            builder = builder.with_grant(Grant::ClientCredentials).with_client(client);
        }
        "auth/cross-app-access-complete-flow" | "auth/enterprise-managed-authorization" => {
            let grant = IdentityAssertion::new(
                text("idp_token_endpoint").unwrap_or_default(),
                text("idp_id_token").unwrap_or_default(),
            )
            .with_idp_client(text("idp_client_id").unwrap_or_default(), None);
            let client = ClientRegistration::new(client_id.unwrap_or_default())
                .with_secret(text("client_secret").unwrap_or_default())
                .with_auth_method(TokenAuthMethod::ClientSecretBasic);
            builder = builder.with_grant(Grant::IdentityAssertion(grant)).with_client(client);
        }
        "auth/wif-jwt-bearer" => {
            let assertion = text("valid_jwt").unwrap_or_default();
            builder = builder.with_grant(Grant::JwtBearer(assertion));
            if let Some(id) = client_id {
                builder = builder.with_client(ClientRegistration::new(id));
            }
        }
        _ => {
            // Pre-registered credentials, when the scenario gives them.
            if let Some(id) = client_id {
                let mut client = ClientRegistration::new(id);
                if let Some(secret) = text("client_secret") {
                    client = client.with_secret(secret);
                }
                builder = builder.with_client(client);
            }
        }
    }
    builder.build()
}
