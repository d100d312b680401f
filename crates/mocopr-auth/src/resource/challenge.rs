//! The answers of the resource server when it does not let a request through: `401` with a
//! `WWW-Authenticate: Bearer` challenge pointing at the metadata (RFC 6750 §3, RFC 9728 §5.1),
//! `403` `insufficient_scope` naming the scopes to ask for (step-up), `400` for a request it
//! cannot read, `503` when tokens cannot be checked now.

use bytes::Bytes;
use http::header::{
    ACCESS_CONTROL_EXPOSE_HEADERS, CACHE_CONTROL, CONNECTION, CONTENT_TYPE, RETRY_AFTER, WWW_AUTHENTICATE,
};
use http::{HeaderValue, Response, StatusCode};
use http_body_util::Full;

/// What went wrong, as RFC 6750 names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// No bearer token at all: a challenge without an error code.
    NoToken,
    /// `invalid_request` (`400`).
    InvalidRequest(&'static str),
    /// `invalid_token` (`401`).
    InvalidToken(&'static str),
    /// `insufficient_scope` (`403`).
    InsufficientScope,
    /// The token could not be checked now (`503`).
    Unavailable(&'static str),
    /// The body, read to find what the request calls, is larger than allowed (`413`).
    TooLarge,
    /// The body, read to find what the request calls, did not arrive in time (`408`).
    TooSlow,
}

/// One `name="value"` pair of a challenge; the values here are URLs, scope tokens and fixed
/// texts, none of which holds a quote, but a quote or backslash would be escaped.
fn param(out: &mut String, name: &str, value: &str) {
    if !out.ends_with("Bearer") {
        out.push(',');
    }
    out.push(' ');
    out.push_str(name);
    out.push_str("=\"");
    for c in value.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
}

/// The response for `refusal`: `scope` is what to ask for (empty: no `scope` parameter).
pub(crate) fn refusal_response(refusal: Refusal, resource_metadata: &str, scope: &str) -> Response<Full<Bytes>> {
    let (status, error, description) = match refusal {
        Refusal::NoToken => (StatusCode::UNAUTHORIZED, None, "an access token is required"),
        Refusal::InvalidRequest(why) => (StatusCode::BAD_REQUEST, Some("invalid_request"), why),
        Refusal::InvalidToken(why) => (StatusCode::UNAUTHORIZED, Some("invalid_token"), why),
        Refusal::InsufficientScope => {
            (StatusCode::FORBIDDEN, Some("insufficient_scope"), "the access token lacks a scope this request needs")
        }
        Refusal::Unavailable(why) => (StatusCode::SERVICE_UNAVAILABLE, None, why),
        Refusal::TooLarge => (StatusCode::PAYLOAD_TOO_LARGE, None, "request body too large"),
        Refusal::TooSlow => (StatusCode::REQUEST_TIMEOUT, None, "request body too slow"),
    };
    let mut challenge = String::from("Bearer");
    if let Some(error) = error {
        param(&mut challenge, "error", error);
        param(&mut challenge, "error_description", description);
    }
    if !scope.is_empty() {
        param(&mut challenge, "scope", scope);
    }
    param(&mut challenge, "resource_metadata", resource_metadata);
    let body = serde_json::json!({
        "error": error.unwrap_or(match status {
            StatusCode::UNAUTHORIZED => "unauthorized",
            StatusCode::SERVICE_UNAVAILABLE => "temporarily_unavailable",
            _ => "invalid_request",
        }),
        "error_description": description,
    });
    let mut response = Response::new(Full::new(Bytes::from(body.to_string())));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    match status {
        StatusCode::SERVICE_UNAVAILABLE => {
            headers.insert(RETRY_AFTER, HeaderValue::from_static("5"));
        }
        // About the request's size or pace, not its credentials: no challenge.
        StatusCode::PAYLOAD_TOO_LARGE | StatusCode::REQUEST_TIMEOUT => {
            headers.insert(CONNECTION, HeaderValue::from_static("close"));
        }
        _ => {
            if let Ok(value) = HeaderValue::from_str(&challenge) {
                headers.insert(WWW_AUTHENTICATE, value);
                // A browser-based client reads the challenge to find the metadata.
                headers.insert(ACCESS_CONTROL_EXPOSE_HEADERS, HeaderValue::from_static("WWW-Authenticate"));
            }
        }
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn challenge(refusal: Refusal, scope: &str) -> (StatusCode, String) {
        let response = refusal_response(refusal, "https://r.example/.well-known/oauth-protected-resource/mcp", scope);
        let header = response.headers().get(WWW_AUTHENTICATE).map(|v| v.to_str().unwrap().to_owned());
        (response.status(), header.unwrap_or_default())
    }

    #[test]
    fn challenges_point_at_the_metadata() {
        assert_eq!(
            challenge(Refusal::NoToken, "mcp"),
            (
                StatusCode::UNAUTHORIZED,
                r#"Bearer scope="mcp", resource_metadata="https://r.example/.well-known/oauth-protected-resource/mcp""#
                    .to_owned()
            )
        );
        let (status, header) = challenge(Refusal::InsufficientScope, "mcp tools:call");
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert!(header.starts_with(r#"Bearer error="insufficient_scope", error_description=""#), "{header}");
        assert!(header.contains(r#"scope="mcp tools:call""#), "{header}");
        let (status, header) = challenge(Refusal::Unavailable("keys"), "");
        assert_eq!((status, header.as_str()), (StatusCode::SERVICE_UNAVAILABLE, ""));
        assert_eq!(challenge(Refusal::TooLarge, "mcp"), (StatusCode::PAYLOAD_TOO_LARGE, String::new()));
        assert_eq!(challenge(Refusal::TooSlow, "mcp"), (StatusCode::REQUEST_TIMEOUT, String::new()));
    }
}
