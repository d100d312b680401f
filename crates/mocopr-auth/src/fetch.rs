//! [`Fetcher`]: the HTTP client that reads authorization-server metadata and keys and calls
//! introspection endpoints: HTTPS only (plain HTTP to loopback addresses, for tests and local
//! development), no redirects, a timeout, and a bound on what an answer may weigh.

use std::time::Duration;

use serde::de::DeserializeOwned;
use url::Url;

use crate::error::AuthConfigError;

/// Most bytes a metadata document, key set or introspection answer may weigh.
const MAX_DOCUMENT_BYTES: usize = 256 * 1024;

/// How long one fetch may take, connection included.
const FETCH_TIMEOUT: Duration = Duration::from_secs(5);

/// Why a fetch gave nothing usable. Kept inside: callers turn it into a fixed text.
#[derive(Debug, thiserror::Error)]
pub(crate) enum FetchError {
    #[error("request failed")]
    Http(#[from] reqwest::Error),
    #[error("answered {0}")]
    Status(http::StatusCode),
    #[error("answer larger than {MAX_DOCUMENT_BYTES} bytes")]
    TooLarge,
    #[error("answer is not the JSON expected")]
    Json(#[from] serde_json::Error),
}

/// Checks that `url` may be fetched or trusted: `https`, or `http` to a loopback host.
pub(crate) fn check_url(what: &'static str, url: &str) -> Result<Url, AuthConfigError> {
    let refuse = |reason| AuthConfigError::Url { what, url: url.to_owned(), reason };
    let parsed = Url::parse(url).map_err(|_| refuse("not an absolute URL"))?;
    if parsed.fragment().is_some() {
        return Err(refuse("has a fragment"));
    }
    match parsed.scheme() {
        "https" => Ok(parsed),
        "http" if is_loopback(&parsed) => Ok(parsed),
        "http" => Err(refuse("plain http is allowed to loopback hosts only")),
        _ => Err(refuse("neither https nor http")),
    }
}

pub(crate) fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(domain)) => domain.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// A shared HTTP client for documents about tokens. Cheap to clone.
#[derive(Debug, Clone)]
pub(crate) struct Fetcher {
    client: reqwest::Client,
}

impl Fetcher {
    pub(crate) fn new() -> Result<Self, AuthConfigError> {
        let client = reqwest::Client::builder()
            .timeout(FETCH_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(AuthConfigError::HttpClient)?;
        Ok(Fetcher { client })
    }

    /// GETs `url` and decodes its JSON answer.
    pub(crate) async fn get_json<T: DeserializeOwned>(&self, url: &Url) -> Result<T, FetchError> {
        let response = self.client.get(url.clone()).header(http::header::ACCEPT, "application/json").send().await?;
        read_json(response).await
    }

    /// POSTs `form` (urlencoded) to `url` with HTTP Basic client authentication, and decodes the
    /// JSON answer.
    pub(crate) async fn post_form<T: DeserializeOwned>(
        &self,
        url: &Url,
        form: &[(&str, &str)],
        basic: Option<(&str, &str)>,
    ) -> Result<T, FetchError> {
        let body = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(form).finish();
        let mut request = self
            .client
            .post(url.clone())
            .header(http::header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(http::header::ACCEPT, "application/json")
            .body(body);
        if let Some((id, secret)) = basic {
            // RFC 6749 §2.3.1: each part form-encoded before it goes into the Basic credentials.
            let encode = |part: &str| url::form_urlencoded::byte_serialize(part.as_bytes()).collect::<String>();
            request = request.basic_auth(encode(id), Some(encode(secret)));
        }
        read_json(request.send().await?).await
    }
}

/// Reads a JSON answer of at most [`MAX_DOCUMENT_BYTES`], refusing any other status than 200.
async fn read_json<T: DeserializeOwned>(mut response: reqwest::Response) -> Result<T, FetchError> {
    if response.status() != http::StatusCode::OK {
        return Err(FetchError::Status(response.status()));
    }
    if response.content_length().is_some_and(|n| n > MAX_DOCUMENT_BYTES as u64) {
        return Err(FetchError::TooLarge);
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        if body.len() + chunk.len() > MAX_DOCUMENT_BYTES {
            return Err(FetchError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(serde_json::from_slice(&body)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_only_to_loopback() {
        assert!(check_url("issuer", "https://auth.example.com").is_ok());
        assert!(check_url("issuer", "http://127.0.0.1:8080/x").is_ok());
        assert!(check_url("issuer", "http://localhost/").is_ok());
        assert!(check_url("issuer", "http://[::1]:9/").is_ok());
        assert!(check_url("issuer", "http://auth.example.com").is_err());
        assert!(check_url("issuer", "ftp://auth.example.com").is_err());
        assert!(check_url("issuer", "https://auth.example.com/#x").is_err());
        assert!(check_url("issuer", "auth.example.com").is_err());
    }
}
