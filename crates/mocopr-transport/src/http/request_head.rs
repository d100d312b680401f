//! What the endpoint takes from an HTTP request's head: the refusals whatever the method (Host,
//! Origin, an MCP header sent twice with different values), the MCP headers, and the extensions
//! the layers in front of it left, carried into the MCP request.

use std::sync::Arc;

use http::{HeaderMap, Response, StatusCode};
use mocopr_core::principal::Principal;
use mocopr_core::service::{McpHeaders, McpRequest};
use mocopr_core::{ErrorCode, ErrorObject};

use super::body::HttpBody;
use super::config::EndpointConfig;
use super::origin;
use super::replies::error_response;
use super::serve::ListenerClosing;

/// The answer to a request refused whatever its method: a Host or Origin not allowed, or an MCP
/// header sent twice with different values.
pub(super) fn refusal(headers: &HeaderMap, config: &EndpointConfig) -> Option<Response<HttpBody>> {
    let checked = origin::check_host_and_origin(headers, config.allowed_hosts.as_deref(), &config.allowed_origins);
    if let Err(refusal) = checked {
        let (status, message) = match refusal {
            origin::HostRefusal::DuplicateHost => (StatusCode::BAD_REQUEST, "more than one Host header"),
            origin::HostRefusal::Host => (StatusCode::FORBIDDEN, "Host not allowed"),
            _ => (StatusCode::FORBIDDEN, "Origin not allowed"),
        };
        return Some(error_response(status, None, ErrorObject::new(ErrorCode::INVALID_REQUEST, message)));
    }
    let name = conflicting_mcp_header(headers)?;
    let message = format!("the {name} header is sent more than once with different values");
    Some(error_response(StatusCode::BAD_REQUEST, None, ErrorObject::new(ErrorCode::INVALID_REQUEST, message)))
}

/// The first MCP header (`MCP-Protocol-Version`, `Mcp-Session-Id`, `Mcp-Method`, `Mcp-Name`,
/// `Mcp-Param-*`, …) sent more than once with different values: which copy counts would be a
/// guess, so the request is refused.
fn conflicting_mcp_header(headers: &HeaderMap) -> Option<&str> {
    // Almost every request repeats no header at all: then there is nothing to compare.
    if headers.keys_len() == headers.len() {
        return None;
    }
    headers.keys().filter(|name| name.as_str().starts_with("mcp-")).map(http::HeaderName::as_str).find(|name| {
        let mut values = headers.get_all(*name).iter();
        let first = values.next();
        values.any(|value| Some(value) != first)
    })
}

/// The MCP request headers of `headers` (the first value of each; conflicting repeats are
/// refused before this is read).
///
/// ```
/// use http::HeaderMap;
///
/// let mut headers = HeaderMap::new();
/// headers.insert("mcp-method", "tools/call".parse().unwrap());
/// headers.insert("mcp-param-region", "eu".parse().unwrap());
/// let mcp = mocopr_transport::http::mcp_headers(&headers);
/// assert_eq!(mcp.method.as_deref(), Some("tools/call"));
/// assert_eq!(mcp.params, [("region".to_owned(), "eu".to_owned())]);
/// ```
pub fn mcp_headers(headers: &HeaderMap) -> McpHeaders {
    let mut result = McpHeaders::default();
    // One pass over the headers, by name, instead of a hashed lookup per MCP header.
    for (name, value) in headers {
        let Some(rest) = name.as_str().strip_prefix("mcp-") else { continue };
        let Ok(value) = value.to_str() else { continue };
        let slot = match rest {
            "protocol-version" => &mut result.protocol_version,
            "method" => &mut result.method,
            "name" => &mut result.name,
            _ => {
                if let Some(suffix) = rest.strip_prefix("param-") {
                    result.params.push((suffix.to_owned(), value.trim().to_owned()));
                }
                continue;
            }
        };
        if slot.is_none() {
            *slot = Some(value.trim().to_owned());
        }
    }
    result
}

/// What layers in front of the endpoint (an authorization layer, axum's `ConnectInfo`, a
/// request id) put in the HTTP request's extensions, carried into the MCP request: the
/// [`Principal`](mocopr_core::principal::Principal) as itself (the handler model's slot), and
/// all of them as [`HttpExtensions`].
pub(super) fn carry_extensions(mut from: http::Extensions, request: &mut McpRequest) {
    // The listener's own marker and the connection's state are the endpoint's and the layers'
    // business; without anything else there is nothing to carry (and no allocation per request).
    from.remove::<ListenerClosing>();
    from.remove::<mocopr_core::connection::ConnectionState>();
    if from.is_empty() {
        return;
    }
    if let Some(principal) = from.get::<Principal>() {
        request.extensions.insert(principal.clone());
    }
    request.extensions.insert(HttpExtensions(Arc::new(from)));
}

/// The extensions of the HTTP request an MCP request came in, as the layers in front of the
/// endpoint left them; in the MCP request's [`McpRequest::extensions`] whenever they left
/// anything (and, through `RequestCtx::http_extension`, a handler's reach).
///
/// ```
/// use mocopr_transport::http::HttpExtensions;
///
/// let mut extensions = http::Extensions::new();
/// extensions.insert(42_u16);
/// let carried = HttpExtensions::new(extensions);
/// assert_eq!(carried.get::<u16>(), Some(&42));
/// ```
#[derive(Debug, Clone)]
pub struct HttpExtensions(Arc<http::Extensions>);

impl HttpExtensions {
    /// Carries `extensions`.
    pub fn new(extensions: http::Extensions) -> Self {
        HttpExtensions(Arc::new(extensions))
    }

    /// The value of type `T` a layer put there.
    pub fn get<T: Send + Sync + 'static>(&self) -> Option<&T> {
        self.0.get::<T>()
    }
}
