//! [`Authorizer`]: what puts credentials on the client's HTTP requests and answers a server's
//! `401` / `403` challenges. [`BearerToken`] sends one fixed token; the OAuth client (feature
//! `oauth`) finds, obtains, refreshes and steps up tokens by itself.

use futures_util::future::BoxFuture;
use http::{HeaderValue, StatusCode};

use crate::error::ClientError;

/// A server's refusal of a request for want of credentials (`401`) or of scope (`403`).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Challenge {
    /// `401 Unauthorized` or `403 Forbidden`.
    pub status: StatusCode,
    /// The response's `WWW-Authenticate` values, as sent.
    pub www_authenticate: Vec<String>,
    /// The `Authorization` value the refused request carried (`None`: it carried none). When
    /// the authorizer's current value differs, another request already got new credentials.
    pub sent: Option<HeaderValue>,
    /// The `MCP-Protocol-Version` the refused request carried.
    pub protocol_version: Option<String>,
    /// The response's `DPoP-Nonce` (RFC 9449 §9), when it sent one.
    pub dpop_nonce: Option<String>,
}

impl Challenge {
    /// A challenge of `status` with these `WWW-Authenticate` values, to a request that carried
    /// `sent` and `protocol_version`.
    ///
    /// ```
    /// use http::StatusCode;
    /// use mocopr_client::Challenge;
    ///
    /// let challenge = Challenge::new(StatusCode::UNAUTHORIZED, [r#"Bearer resource_metadata="https://x""#], None, None);
    /// assert_eq!(challenge.www_authenticate.len(), 1);
    /// ```
    pub fn new<'a>(
        status: StatusCode,
        www_authenticate: impl IntoIterator<Item = &'a str>,
        sent: Option<HeaderValue>,
        protocol_version: Option<String>,
    ) -> Self {
        Challenge {
            status,
            www_authenticate: www_authenticate.into_iter().map(str::to_owned).collect(),
            sent,
            protocol_version,
            dpop_nonce: None,
        }
    }
}

/// Puts credentials on each HTTP request the client sends, and gets new ones when a server
/// refuses them. The client asks for [`header`](Authorizer::header) on every request (keep it
/// cheap: no I/O) and calls [`challenged`](Authorizer::challenged) when a response is `401` or
/// `403`; when that returns `true` the request goes out again, with the then current header, a
/// bounded number of times.
///
/// ```
/// use futures_util::future::BoxFuture;
/// use http::HeaderValue;
/// use mocopr_client::{Authorizer, Challenge, ClientError};
///
/// /// An API key in a header of its own.
/// struct ApiKey(HeaderValue);
///
/// impl Authorizer for ApiKey {
///     fn header(&self) -> Option<HeaderValue> {
///         Some(self.0.clone())
///     }
///
///     fn challenged<'a>(&'a self, _: &'a Challenge) -> BoxFuture<'a, Result<bool, ClientError>> {
///         // Nothing new to offer: the request fails with the server's answer.
///         Box::pin(async { Ok(false) })
///     }
/// }
/// ```
pub trait Authorizer: Send + Sync + 'static {
    /// The `Authorization` header for the next request, if any.
    fn header(&self) -> Option<HeaderValue>;

    /// The server refused a request with `challenge`: gets new credentials if it can, and
    /// says whether the request should be sent again. An error fails the request with it.
    fn challenged<'a>(&'a self, challenge: &'a Challenge) -> BoxFuture<'a, Result<bool, ClientError>>;

    /// The `DPoP` proof header for the next `method` request, when the credentials are
    /// DPoP-bound (RFC 9449; nothing by default).
    fn proof(&self, method: &http::Method) -> Option<HeaderValue> {
        let _ = method;
        None
    }

    /// The server answered a request that carried `sent` with neither `401` nor `403`: those
    /// credentials work. (Nothing by default.)
    fn accepted(&self, sent: Option<&HeaderValue>) {
        let _ = sent;
    }
}

/// Sends one fixed bearer token (obtained elsewhere) on every request.
///
/// ```
/// use mocopr_client::{BearerToken, McpClient};
///
/// let builder = McpClient::builder().with_authorizer(BearerToken::new("eyJhbGciOi...")?);
/// # let _ = builder;
/// # Ok::<(), mocopr_client::ClientError>(())
/// ```
#[derive(Clone)]
pub struct BearerToken {
    header: HeaderValue,
}

// The token stays out of debug output.
impl std::fmt::Debug for BearerToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BearerToken(..)")
    }
}

impl BearerToken {
    /// Sends `Authorization: Bearer {token}`; an error when the token cannot be a header value.
    pub fn new(token: &str) -> Result<Self, ClientError> {
        Ok(BearerToken { header: bearer_header(token)? })
    }
}

impl Authorizer for BearerToken {
    fn header(&self) -> Option<HeaderValue> {
        Some(self.header.clone())
    }

    fn challenged<'a>(&'a self, _: &'a Challenge) -> BoxFuture<'a, Result<bool, ClientError>> {
        Box::pin(async { Ok(false) })
    }
}

/// `Bearer {token}` as a header value, marked sensitive (kept out of HTTP/2 header tables
/// and of hyper's debug output).
pub(crate) fn bearer_header(token: &str) -> Result<HeaderValue, ClientError> {
    let mut value = HeaderValue::try_from(format!("Bearer {token}"))
        .map_err(|_| ClientError::Authorization("the access token is not a valid header value".into()))?;
    value.set_sensitive(true);
    Ok(value)
}
