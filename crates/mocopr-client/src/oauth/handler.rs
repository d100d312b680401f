//! [`AuthorizationHandler`]: the user-facing step of the authorization-code grant, which only
//! the application can do (open a browser, show a link, catch the redirect).

use futures_util::future::BoxFuture;
use url::Url;

use crate::error::ClientError;

/// An authorization the user is asked for.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct AuthorizationRequest {
    /// Where to send the user (the authorization endpoint, with every parameter).
    pub url: Url,
    /// Where the authorization server sends the user back (the configured redirect URI).
    pub redirect_uri: String,
    /// Which authorization server asks (its issuer identifier), to show the user.
    pub issuer: String,
}

/// Takes the user through an authorization: sends them to [`AuthorizationRequest::url`] (a
/// browser), waits for the authorization server to send them back to the redirect URI, and
/// returns that full URL (with its `code`, `state` and `iss`). The OAuth client checks it.
///
/// ```no_run
/// use futures_util::future::BoxFuture;
/// use mocopr_client::ClientError;
/// use mocopr_client::oauth::{AuthorizationHandler, AuthorizationRequest};
///
/// /// Prints the link and reads the URL the browser ended on from the terminal.
/// struct Terminal;
///
/// impl AuthorizationHandler for Terminal {
///     fn authorize(&self, request: AuthorizationRequest) -> BoxFuture<'_, Result<String, ClientError>> {
///         Box::pin(async move {
///             println!("Open {} and paste the address you land on:", request.url);
///             let mut line = String::new();
///             std::io::stdin().read_line(&mut line).map_err(|e| ClientError::Authorization(e.to_string()))?;
///             Ok(line.trim().to_owned())
///         })
///     }
/// }
/// ```
pub trait AuthorizationHandler: Send + Sync + 'static {
    /// Has the user authorize `request`; returns the URL they were sent back to.
    fn authorize(&self, request: AuthorizationRequest) -> BoxFuture<'_, Result<String, ClientError>>;
}
