//! Multi round-trip requests (2026-07-28): instead of sending requests to the client, a server
//! answers `tools/call`, `prompts/get` or `resources/read` with an [`InputRequiredResult`]; the
//! client retries with `inputResponses` and the opaque `requestState` echoed byte for byte.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::common::ResultType;
use super::elicitation::{ElicitRequestParams, ElicitResult};
use super::roots::{ListRootsResult, MetaOnlyParams};
use super::sampling::{CreateMessageRequestParams, CreateMessageResult};
use super::tools::JsonObject;
use crate::error::ProtocolError;
use crate::messages::MethodCall;
use crate::meta::Meta;

/// What a server asks of the client, keyed by server-chosen keys.
pub type InputRequests = BTreeMap<String, InputRequest>;

/// The client's answers, under the keys of [`InputRequests`].
pub type InputResponses = BTreeMap<String, InputResponse>;

crate::messages::method_enum! {
    /// The typed view of an [`InputRequest`]: what the server asks the client to do.
    pub enum InputCall {
        /// `elicitation/create`
        Elicit(ElicitRequestParams) = "elicitation/create", V2025_06_18 ..= V2026_07_28;
        /// `sampling/createMessage`
        CreateMessage(CreateMessageRequestParams) = "sampling/createMessage", V2025_03_26 ..= V2026_07_28;
        /// `roots/list`
        ListRoots(MetaOnlyParams) = "roots/list", V2025_03_26 ..= V2026_07_28;
    }
}

/// An embedded request inside `inputRequests`: `{method, params}` with no JSON-RPC id.
///
/// Kept as received (params raw, other members preserved, since the official examples show
/// extra members such as `id`) and decoded into an [`InputCall`] when the client handles it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct InputRequest {
    /// `elicitation/create`, `sampling/createMessage` or `roots/list`.
    pub method: String,
    /// The params, undecoded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub params: Option<JsonObject>,
    /// Any other members, unchanged.
    #[serde(flatten)]
    pub other: JsonObject,
}

impl InputRequest {
    /// Decodes the typed request.
    pub fn call(&self) -> Result<InputCall, ProtocolError> {
        let params = self
            .params
            .as_ref()
            .map(serde_json::value::to_raw_value)
            .transpose()
            .map_err(|e| ProtocolError::invalid_params(&self.method, e))?;
        InputCall::decode(&self.method, params.as_deref())
    }
}

impl From<InputCall> for InputRequest {
    fn from(call: InputCall) -> Self {
        let params = match &call {
            InputCall::Elicit(p) => serde_json::to_value(p),
            InputCall::CreateMessage(p) => serde_json::to_value(p),
            InputCall::ListRoots(p) => serde_json::to_value(p),
        };
        InputRequest {
            method: MethodCall::method(&call).to_owned(),
            // Serializing these plain structs to a `Value` cannot fail.
            params: params.ok().and_then(|v| match v {
                Value::Object(map) => Some(map),
                _ => None,
            }),
            other: JsonObject::new(),
        }
    }
}

/// An answer inside `inputResponses`.
///
/// Unknown shapes are kept as [`InputResponse::Other`]: servers ignore keys they did not ask for,
/// so one odd entry must not make the whole retry undecodable.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
#[non_exhaustive]
pub enum InputResponse {
    /// Answer to `elicitation/create`.
    Elicit(ElicitResult),
    /// Answer to `roots/list`.
    ListRoots(ListRootsResult),
    /// Answer to `sampling/createMessage`.
    CreateMessage(CreateMessageResult),
    /// Anything else.
    Other(Value),
}

/// The server needs input before it can complete the request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct InputRequiredResult {
    /// What the server asks (at least one of this and `request_state` is present).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_requests: Option<InputRequests>,
    /// Opaque state the client echoes unchanged on retry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_state: Option<String>,
    /// `"input_required"`.
    pub result_type: ResultType,
    /// Metadata.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
}

impl InputRequiredResult {
    /// An input-required result.
    pub fn new(input_requests: Option<InputRequests>, request_state: Option<String>) -> Self {
        InputRequiredResult { input_requests, request_state, result_type: ResultType::InputRequired, meta: None }
    }
}
