//! [`ApproveByRedirect`]: the user step of an authorization, for authorization servers that
//! approve without a user (a test server, the conformance suite's mock).

use futures_util::future::BoxFuture;
use mocopr_client::ClientError;
use mocopr_client::oauth::{AuthorizationHandler, AuthorizationRequest};

/// Plays the user's browser against an authorization server that approves at once: GETs the
/// authorization URL, does not follow the redirect it answers with, and returns where it
/// points (the redirect URI with the code), as a browser landing there would.
///
/// ```
/// use mocopr_client::oauth::OAuthConfig;
/// use mocopr_testing::ApproveByRedirect;
///
/// let oauth = OAuthConfig::builder()
///     .with_redirect_uri("http://localhost:3000/callback")
///     .with_authorization_handler(ApproveByRedirect::new())
///     .build()?;
/// # let _ = oauth;
/// # Ok::<(), mocopr_client::ClientError>(())
/// ```
#[derive(Debug, Clone)]
pub struct ApproveByRedirect {
    client: reqwest::Client,
}

impl Default for ApproveByRedirect {
    fn default() -> Self {
        Self::new()
    }
}

impl ApproveByRedirect {
    /// A handler with its own HTTP client (no redirects followed, 30 s per request).
    pub fn new() -> Self {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(std::time::Duration::from_secs(30))
            .build()
            .unwrap_or_default();
        ApproveByRedirect { client }
    }
}

impl AuthorizationHandler for ApproveByRedirect {
    fn authorize(&self, request: AuthorizationRequest) -> BoxFuture<'_, Result<String, ClientError>> {
        Box::pin(async move {
            let failed = |why: String| ClientError::Authorization(why);
            let response =
                self.client.get(request.url.clone()).send().await.map_err(|e| failed(e.without_url().to_string()))?;
            let location =
                response.headers().get(reqwest::header::LOCATION).and_then(|v| v.to_str().ok()).ok_or_else(|| {
                    failed(format!("the authorization endpoint answered {} without a redirect", response.status()))
                })?;
            // A relative redirect is relative to the authorization endpoint.
            let landed = request.url.join(location).map_err(|_| failed("the redirect is not a URL".into()))?;
            Ok(landed.to_string())
        })
    }
}
