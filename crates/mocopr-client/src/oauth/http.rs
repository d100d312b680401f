//! The OAuth client's HTTP: metadata documents, registration and token requests, each to a
//! URL that is `https` (or plain `http` to a loopback host), never following a redirect,
//! bounded in time and in the bytes an answer may weigh.

use serde_json::{Map, Value};
use url::Url;

use crate::error::ClientError;

/// Most bytes a metadata document or token answer may weigh.
const MAX_ANSWER_BYTES: usize = 256 * 1024;

/// How long one request to an authorization party may take.
const REQUEST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

pub(crate) fn refused(why: impl Into<String>) -> ClientError {
    ClientError::Authorization(why.into())
}

/// A URL the client may send credentials or follow documents to.
pub(crate) fn trusted(what: &'static str, url: &str) -> Result<Url, ClientError> {
    mocopr_auth::trusted_url(what, url).map_err(|e| refused(e.to_string()))
}

/// What an authorization party answered: its status and JSON body (empty when the body was
/// no JSON object).
pub(crate) struct Answer {
    pub(crate) status: http::StatusCode,
    pub(crate) body: Map<String, Value>,
    /// The `DPoP-Nonce` the party asks proofs to carry (RFC 9449 §8).
    pub(crate) dpop_nonce: Option<String>,
}

impl Answer {
    /// The OAuth `error` code of a failed answer, for messages (never its description, which
    /// is the other party's text).
    pub(crate) fn error_code(&self) -> String {
        match self.body.get("error").and_then(Value::as_str) {
            Some(code) if code.bytes().all(|b| b.is_ascii_graphic()) && code.len() <= 64 => code.to_owned(),
            _ => format!("HTTP {}", self.status.as_u16()),
        }
    }
}

/// The client for authorization parties. Cheap to clone.
#[derive(Debug, Clone)]
pub(crate) struct OAuthHttp {
    client: reqwest::Client,
}

impl OAuthHttp {
    pub(crate) fn new(client: Option<reqwest::Client>) -> Result<Self, ClientError> {
        let client = match client {
            Some(client) => client,
            None => reqwest::Client::builder()
                .timeout(REQUEST_TIMEOUT)
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .map_err(|e| refused(format!("the HTTP client could not be built: {e}")))?,
        };
        Ok(OAuthHttp { client })
    }

    /// GETs a JSON document; `Ok(None)` when there is none at `url` (any answer but 200 with a
    /// JSON object), an error only when the party could not be reached.
    pub(crate) async fn document(
        &self,
        url: &Url,
        protocol_version: Option<&str>,
    ) -> Result<Option<Map<String, Value>>, ClientError> {
        let mut request = self.client.get(url.clone()).header(http::header::ACCEPT, "application/json");
        if let Some(version) = protocol_version {
            request = request.header("mcp-protocol-version", version);
        }
        let answer = self.send(request).await?;
        Ok((answer.status == http::StatusCode::OK && !answer.body.is_empty()).then_some(answer.body))
    }

    /// POSTs `form` (urlencoded) to `url`, with `basic` client credentials when given and
    /// `headers` beside.
    pub(crate) async fn form(
        &self,
        url: &Url,
        form: &[(&str, &str)],
        basic: Option<(&str, &str)>,
        headers: &[(&str, String)],
    ) -> Result<Answer, ClientError> {
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
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        self.send(request).await
    }

    /// POSTs a JSON document (dynamic client registration).
    pub(crate) async fn json(&self, url: &Url, body: &Value) -> Result<Answer, ClientError> {
        let request = self
            .client
            .post(url.clone())
            .header(http::header::CONTENT_TYPE, "application/json")
            .header(http::header::ACCEPT, "application/json")
            .body(body.to_string());
        self.send(request).await
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> Result<Answer, ClientError> {
        let (client, request) = request.build_split();
        let request = request.map_err(|e| refused(format!("the request could not be made: {e}")))?;
        let url = request.url().clone();
        let mut response = client.execute(request).await.map_err(|e| unreachable_party(&url, e))?;
        let status = response.status();
        let dpop_nonce = response.headers().get("dpop-nonce").and_then(|v| v.to_str().ok()).map(str::to_owned);
        if response.content_length().is_some_and(|n| n > MAX_ANSWER_BYTES as u64) {
            return Err(refused(format!("{url} answered with more than {MAX_ANSWER_BYTES} bytes")));
        }
        let mut bytes = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| unreachable_party(&url, e))? {
            if bytes.len() + chunk.len() > MAX_ANSWER_BYTES {
                return Err(refused(format!("{url} answered with more than {MAX_ANSWER_BYTES} bytes")));
            }
            bytes.extend_from_slice(&chunk);
        }
        let body = serde_json::from_slice::<Map<String, Value>>(&bytes).unwrap_or_default();
        Ok(Answer { status, body, dpop_nonce })
    }
}

fn unreachable_party(url: &Url, error: reqwest::Error) -> ClientError {
    // The URL without its query: a query may carry a code or state.
    let mut shown = url.clone();
    shown.set_query(None);
    refused(format!("{shown} could not be reached: {}", error.without_url()))
}
