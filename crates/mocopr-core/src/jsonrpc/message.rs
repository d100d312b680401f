//! Owned, typed JSON-RPC messages for the sending side.
//!
//! The receiving side reads [`Envelope`](super::Envelope)s; these types are what a peer builds
//! and serializes. Each writes `"jsonrpc": "2.0"` itself, so a message can never go out without it.

use serde::de::{self, Deserializer};
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};

use super::id::RequestId;
use crate::error::ErrorObject;
use crate::messages::MethodCall;

/// The `jsonrpc` member: always `"2.0"`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct JsonRpcVersion;

impl Serialize for JsonRpcVersion {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str("2.0")
    }
}

impl<'de> Deserialize<'de> for JsonRpcVersion {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        if s == "2.0" { Ok(JsonRpcVersion) } else { Err(de::Error::invalid_value(de::Unexpected::Str(&s), &"\"2.0\"")) }
    }
}

/// A request with a typed body (e.g. [`ClientRequest`](crate::ClientRequest)).
#[derive(Debug, Clone, PartialEq)]
pub struct JsonRpcRequest<R> {
    /// The id.
    pub id: RequestId,
    /// Method and params.
    pub body: R,
}

impl<R: MethodCall> Serialize for JsonRpcRequest<R> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(4))?;
        map.serialize_entry("jsonrpc", &JsonRpcVersion)?;
        map.serialize_entry("id", &self.id)?;
        map.serialize_entry("method", self.body.method())?;
        self.body.serialize_params(&mut map)?;
        map.end()
    }
}

/// A notification with a typed body (e.g. [`ServerNotification`](crate::ServerNotification)).
#[derive(Debug, Clone, PartialEq)]
pub struct JsonRpcNotification<N> {
    /// Method and params.
    pub body: N,
}

impl<N: MethodCall> Serialize for JsonRpcNotification<N> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(3))?;
        map.serialize_entry("jsonrpc", &JsonRpcVersion)?;
        map.serialize_entry("method", self.body.method())?;
        self.body.serialize_params(&mut map)?;
        map.end()
    }
}

/// A successful response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JsonRpcResponse<T> {
    /// Always `"2.0"`.
    pub jsonrpc: JsonRpcVersion,
    /// The id of the request answered.
    pub id: RequestId,
    /// The result.
    pub result: T,
}

impl<T> JsonRpcResponse<T> {
    /// A response to `id`.
    pub fn new(id: RequestId, result: T) -> Self {
        JsonRpcResponse { jsonrpc: JsonRpcVersion, id, result }
    }
}

/// An error response. The id is omitted when the request's id could not be read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JsonRpcErrorResponse {
    /// Always `"2.0"`.
    pub jsonrpc: JsonRpcVersion,
    /// The id of the request answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<RequestId>,
    /// The error.
    pub error: ErrorObject,
}

impl JsonRpcErrorResponse {
    /// An error response to `id`.
    pub fn new(id: Option<RequestId>, error: ErrorObject) -> Self {
        JsonRpcErrorResponse { jsonrpc: JsonRpcVersion, id, error }
    }
}

impl From<crate::error::Rejection> for JsonRpcErrorResponse {
    fn from(r: crate::error::Rejection) -> Self {
        JsonRpcErrorResponse::new(r.id, r.error.to_error_object())
    }
}
