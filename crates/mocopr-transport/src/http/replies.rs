//! The endpoint's plain HTTP answers: JSON bodies, JSON-RPC errors with their status, and the
//! empty answers (202, 400 for a notification that was not accepted).

use http::header::{CACHE_CONTROL, CONTENT_TYPE};
use http::{HeaderMap, HeaderValue, Response, StatusCode};
use mocopr_core::jsonrpc::JsonRpcErrorResponse;
use mocopr_core::{ErrorCode, ErrorObject, ProtocolError, RequestId};

use super::body::HttpBody;

pub(super) fn rejection_bytes(id: Option<RequestId>, error: ProtocolError) -> Vec<u8> {
    serde_json::to_vec(&JsonRpcErrorResponse::new(id, error.to_error_object())).unwrap_or_default()
}

pub(super) fn json_response(status: StatusCode, body: Vec<u8>) -> Response<HttpBody> {
    let mut response = Response::new(HttpBody::full(body));
    *response.status_mut() = status;
    response.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

pub(super) fn error_response(status: StatusCode, id: Option<RequestId>, error: ErrorObject) -> Response<HttpBody> {
    json_response(status, serde_json::to_vec(&JsonRpcErrorResponse::new(id, error)).unwrap_or_default())
}

pub(super) fn too_large(size: usize, limit: usize) -> Response<HttpBody> {
    let error = ProtocolError::MessageTooLarge { size, limit }.to_error_object();
    error_response(StatusCode::PAYLOAD_TOO_LARGE, None, error)
}

/// The store's own error text (a Redis message, an address) stays in the server's log.
pub(super) fn store_unavailable(error: &super::sessions::SessionStoreError) -> Response<HttpBody> {
    tracing::warn!(%error, "the session store is unavailable");
    let error = ErrorObject::new(ErrorCode::INTERNAL_ERROR, "sessions are unavailable, retry later");
    error_response(StatusCode::SERVICE_UNAVAILABLE, None, error)
}

pub(super) fn session_not_found() -> Response<HttpBody> {
    error_response(StatusCode::NOT_FOUND, None, ErrorObject::new(ErrorCode::INVALID_REQUEST, "session not found"))
}

pub(super) fn bad_request_without_body() -> Response<HttpBody> {
    let mut response = Response::new(HttpBody::empty());
    *response.status_mut() = StatusCode::BAD_REQUEST;
    response
}

pub(super) fn accepted() -> Response<HttpBody> {
    let mut response = Response::new(HttpBody::empty());
    *response.status_mut() = StatusCode::ACCEPTED;
    response
}

pub(super) fn set_sse_headers(headers: &mut HeaderMap) {
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert("x-accel-buffering", HeaderValue::from_static("no"));
}
