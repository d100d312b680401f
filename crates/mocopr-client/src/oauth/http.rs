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
        // A redirect would carry a code, a verifier, a refresh token or a secret to wherever it
        // points: the default client follows none, and one a user passes may not either.
        if response.url() != &url {
            return Err(refused(format!("{} redirected the request: it is not followed", shown(&url))));
        }
        let status = response.status();
        let dpop_nonce = response.headers().get("dpop-nonce").and_then(|v| v.to_str().ok()).map(str::to_owned);
        if response.content_length().is_some_and(|n| n > MAX_ANSWER_BYTES as u64) {
            return Err(refused(format!("{} answered with more than {MAX_ANSWER_BYTES} bytes", shown(&url))));
        }
        let mut bytes = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| unreachable_party(&url, e))? {
            if bytes.len() + chunk.len() > MAX_ANSWER_BYTES {
                return Err(refused(format!("{} answered with more than {MAX_ANSWER_BYTES} bytes", shown(&url))));
            }
            bytes.extend_from_slice(&chunk);
        }
        let body = serde_json::from_slice::<Map<String, Value>>(&bytes).unwrap_or_default();
        Ok(Answer { status, body, dpop_nonce })
    }
}

fn unreachable_party(url: &Url, error: reqwest::Error) -> ClientError {
    refused(format!("{} could not be reached: {}", shown(url), error.without_url()))
}

/// `url` as messages show it: without its query (which may carry a code or a state) and
/// without a user name or password.
pub(crate) fn shown(url: &Url) -> Url {
    let mut shown = url.clone();
    shown.set_query(None);
    shown.set_fragment(None);
    // Both fail only for URLs that cannot have credentials, which then have none.
    let _ = shown.set_username("");
    let _ = shown.set_password(None);
    shown
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[test]
    fn messages_show_no_query_and_no_credentials() {
        let url = Url::parse("https://user:secret@auth.example.com/token?code=abc#frag").unwrap();
        assert_eq!(shown(&url).as_str(), "https://auth.example.com/token");
    }

    /// Answers every request on a loopback port with a redirect to `/there` (and `/there`
    /// with a JSON document).
    async fn redirecting_server() -> Url {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let mut request = vec![0; 4096];
                let read = socket.read(&mut request).await.unwrap_or(0);
                let head = String::from_utf8_lossy(&request[..read]);
                let answer = if head.contains(" /there ") {
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}".to_owned()
                } else {
                    format!(
                        "HTTP/1.1 307 Temporary Redirect\r\nlocation: http://127.0.0.1:{port}/there\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                    )
                };
                let _ = socket.write_all(answer.as_bytes()).await;
            }
        });
        Url::parse(&format!("http://127.0.0.1:{port}/here")).unwrap()
    }

    #[tokio::test]
    async fn a_redirect_is_not_followed_even_by_a_client_that_would() {
        let url = redirecting_server().await;
        // The user's client follows redirects: the answer it got there is not used.
        let following = OAuthHttp::new(Some(reqwest::Client::new())).unwrap();
        let error = following.document(&url, None).await.unwrap_err();
        assert!(error.to_string().contains("redirected"), "{error}");
        let error = following.form(&url, &[("code", "abc")], None, &[]).await.err().expect("refused");
        assert!(error.to_string().contains("redirected"), "{error}");
        // The default client does not follow it: no document there.
        let default = OAuthHttp::new(None).unwrap();
        assert!(default.document(&url, None).await.unwrap().is_none());
    }
}
