//! The typed messages of each direction: which methods exist, in which revisions, with which
//! params.
//!
//! Each enum is decoded from a method name and the raw params of an
//! [envelope](crate::jsonrpc::Envelope), so params are only parsed into their type once the
//! method is known, and only when asked for.

use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::value::RawValue;

use crate::error::{JsonKind, ProtocolError};
use crate::meta::RequestMeta;
use crate::types::*;
use crate::version::ProtocolVersion;

/// A body that serializes as the `method` and `params` members of a JSON-RPC message.
pub trait MethodCall {
    /// The method name.
    fn method(&self) -> &'static str;
    /// Writes the `params` member.
    fn serialize_params<M: SerializeMap>(&self, map: &mut M) -> Result<(), M::Error>;
}

/// Decodes `params` (absent = `{}`) as `P`, mapping failures to the specific protocol error.
pub(crate) fn decode_params<P: for<'de> Deserialize<'de>>(
    method: &str,
    params: Option<&RawValue>,
) -> Result<P, ProtocolError> {
    decode_params_text(method, params.map(RawValue::get))
}

/// Decodes params from their JSON text (absent = `{}`) as `P`, mapping failures to the
/// specific protocol error.
pub fn decode_params_text<P: for<'de> Deserialize<'de>>(
    method: &str,
    params: Option<&str>,
) -> Result<P, ProtocolError> {
    let text = params.unwrap_or("{}");
    match JsonKind::sniff(text.as_bytes()) {
        Some(JsonKind::Object) => {}
        // `"params": null` is what some peers send for "no params".
        Some(JsonKind::Null) => return decode_params_text(method, None),
        _ => {
            return Err(ProtocolError::InvalidField { field: "params", expected: "an object" });
        }
    }
    serde_json::from_str(text).map_err(|e| ProtocolError::invalid_params(method, e))
}

macro_rules! method_enum {
    (
        $(#[$attr:meta])*
        pub enum $name:ident {
            $(
                $(#[$vattr:meta])*
                $variant:ident($params:ty) = $method:literal, $since:ident ..= $until:ident;
            )*
        }
    ) => {
        $(#[$attr])*
        #[derive(Debug, Clone, PartialEq)]
        #[non_exhaustive]
        // Decoded once per message and moved into its handler: boxing every variant would add
        // an allocation to every request, so only the large and rare ones are (`initialize`).
        #[allow(clippy::large_enum_variant)]
        pub enum $name {
            $( $(#[$vattr])* $variant($params), )*
        }

        impl $name {
            /// Every method of this enum, in declaration order.
            pub const METHODS: &'static [&'static str] = &[$($method),*];

            /// Decodes the body of method `method` from its raw params.
            pub fn decode(
                method: &str,
                params: Option<&serde_json::value::RawValue>,
            ) -> Result<Self, $crate::error::ProtocolError> {
                match method {
                    $( $method => $crate::messages::decode_params(method, params).map($name::$variant), )*
                    _ => Err($crate::error::ProtocolError::MethodNotFound { method: method.to_owned() }),
                }
            }

            /// Decodes the body of method `method` from the text of its params.
            pub fn decode_text(method: &str, params: Option<&str>) -> Result<Self, $crate::error::ProtocolError> {
                match method {
                    $( $method => $crate::messages::decode_params_text(method, params).map($name::$variant), )*
                    _ => Err($crate::error::ProtocolError::MethodNotFound { method: method.to_owned() }),
                }
            }

            /// Whether `method` exists in revision `version`.
            pub fn method_available_in(method: &str, version: $crate::version::ProtocolVersion) -> bool {
                use $crate::version::ProtocolVersion as V;
                match method {
                    $( $method => (V::$since..=V::$until).contains(&version), )*
                    _ => false,
                }
            }

            /// Whether this message exists in revision `version`.
            pub fn available_in(&self, version: $crate::version::ProtocolVersion) -> bool {
                Self::method_available_in($crate::messages::MethodCall::method(self), version)
            }

            /// Decodes like [`Self::decode`] and also rejects methods that do not exist in
            /// `version` (`-32601`).
            pub fn decode_for(
                version: $crate::version::ProtocolVersion,
                method: &str,
                params: Option<&serde_json::value::RawValue>,
            ) -> Result<Self, $crate::error::ProtocolError> {
                let body = Self::decode(method, params)?;
                if body.available_in(version) {
                    Ok(body)
                } else {
                    Err($crate::error::ProtocolError::MethodNotInVersion { method: method.to_owned(), version })
                }
            }
        }

        impl $crate::messages::MethodCall for $name {
            fn method(&self) -> &'static str {
                match self { $( $name::$variant(_) => $method, )* }
            }

            fn serialize_params<M: serde::ser::SerializeMap>(&self, map: &mut M) -> Result<(), M::Error> {
                match self { $( $name::$variant(p) => map.serialize_entry("params", p), )* }
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                $crate::messages::serialize_call(self, serializer)
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                $crate::messages::deserialize_call(deserializer, $name::decode)
            }
        }
    };
}
pub(crate) use method_enum;

/// Serializes a [`MethodCall`] as `{"method": ..., "params": ...}`.
pub(crate) fn serialize_call<C: MethodCall, S: Serializer>(call: &C, serializer: S) -> Result<S::Ok, S::Error> {
    let mut map = serializer.serialize_map(Some(2))?;
    map.serialize_entry("method", call.method())?;
    call.serialize_params(&mut map)?;
    map.end()
}

#[derive(Deserialize)]
struct CallParts<'a> {
    #[serde(borrow)]
    method: std::borrow::Cow<'a, str>,
    #[serde(default)]
    params: Option<Box<RawValue>>,
}

/// Deserializes `{"method": ..., "params": ...}` through the enum's `decode`.
pub(crate) fn deserialize_call<'de, D, T>(
    deserializer: D,
    decode: fn(&str, Option<&RawValue>) -> Result<T, ProtocolError>,
) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
{
    let parts = CallParts::deserialize(deserializer)?;
    decode(&parts.method, parts.params.as_deref()).map_err(serde::de::Error::custom)
}

// The request moves through a few futures on its way to its handler, each holding it whole:
// keep it small (see the performance chapter's "Small requests make small futures").
const _: () = assert!(std::mem::size_of::<ClientRequest>() <= 256);
const _: () = assert!(std::mem::size_of::<crate::meta::RequestMeta>() <= 128);

method_enum! {
    /// A request from client to server.
    pub enum ClientRequest {
        /// `server/discover` (modern).
        Discover(RequestParams) = "server/discover", V2026_07_28 ..= V2026_07_28;
        /// `initialize` (legacy). Boxed: the largest params by far, and the rarest request.
        Initialize(Box<InitializeRequestParams>) = "initialize", V2025_03_26 ..= V2025_11_25;
        /// `ping` (legacy).
        Ping(RequestParams) = "ping", V2025_03_26 ..= V2025_11_25;
        /// `tools/list`.
        ListTools(PaginatedRequestParams) = "tools/list", V2025_03_26 ..= V2026_07_28;
        /// `tools/call`.
        CallTool(CallToolRequestParams) = "tools/call", V2025_03_26 ..= V2026_07_28;
        /// `prompts/list`.
        ListPrompts(PaginatedRequestParams) = "prompts/list", V2025_03_26 ..= V2026_07_28;
        /// `prompts/get`.
        GetPrompt(GetPromptRequestParams) = "prompts/get", V2025_03_26 ..= V2026_07_28;
        /// `resources/list`.
        ListResources(PaginatedRequestParams) = "resources/list", V2025_03_26 ..= V2026_07_28;
        /// `resources/templates/list`.
        ListResourceTemplates(PaginatedRequestParams) = "resources/templates/list", V2025_03_26 ..= V2026_07_28;
        /// `resources/read`.
        ReadResource(ReadResourceRequestParams) = "resources/read", V2025_03_26 ..= V2026_07_28;
        /// `resources/subscribe` (legacy).
        Subscribe(ResourceUriParams) = "resources/subscribe", V2025_03_26 ..= V2025_11_25;
        /// `resources/unsubscribe` (legacy).
        Unsubscribe(ResourceUriParams) = "resources/unsubscribe", V2025_03_26 ..= V2025_11_25;
        /// `subscriptions/listen` (modern).
        Listen(SubscriptionsListenRequestParams) = "subscriptions/listen", V2026_07_28 ..= V2026_07_28;
        /// `completion/complete`.
        Complete(CompleteRequestParams) = "completion/complete", V2025_03_26 ..= V2026_07_28;
        /// `logging/setLevel` (legacy).
        SetLevel(SetLevelRequestParams) = "logging/setLevel", V2025_03_26 ..= V2025_11_25;
        /// `tasks/get` (2025-11-25 core, then the tasks extension).
        GetTask(TaskIdParams) = "tasks/get", V2025_11_25 ..= V2026_07_28;
        /// `tasks/update` (tasks extension).
        UpdateTask(UpdateTaskParams) = "tasks/update", V2026_07_28 ..= V2026_07_28;
        /// `tasks/cancel` (2025-11-25 core, then the tasks extension).
        CancelTask(TaskIdParams) = "tasks/cancel", V2025_11_25 ..= V2026_07_28;
        /// `tasks/result` (2025-11-25 only).
        GetTaskPayload(TaskIdParams) = "tasks/result", V2025_11_25 ..= V2025_11_25;
        /// `tasks/list` (2025-11-25 only).
        ListTasks(PaginatedRequestParams) = "tasks/list", V2025_11_25 ..= V2025_11_25;
    }
}

impl ClientRequest {
    /// The request's `_meta`, for the requests whose params carry a [`RequestMeta`].
    pub fn request_meta(&self) -> Option<&RequestMeta> {
        match self {
            ClientRequest::Discover(p) | ClientRequest::Ping(p) => p.meta.as_ref(),
            ClientRequest::ListTools(p)
            | ClientRequest::ListPrompts(p)
            | ClientRequest::ListResources(p)
            | ClientRequest::ListResourceTemplates(p)
            | ClientRequest::ListTasks(p) => p.meta.as_ref(),
            ClientRequest::CallTool(p) => p.meta.as_ref(),
            ClientRequest::GetPrompt(p) => p.meta.as_ref(),
            ClientRequest::ReadResource(p) => p.meta.as_ref(),
            ClientRequest::Subscribe(p) | ClientRequest::Unsubscribe(p) => p.meta.as_ref(),
            ClientRequest::Listen(p) => p.meta.as_ref(),
            ClientRequest::Complete(p) => p.meta.as_ref(),
            ClientRequest::GetTask(p) | ClientRequest::CancelTask(p) | ClientRequest::GetTaskPayload(p) => {
                p.meta.as_ref()
            }
            ClientRequest::UpdateTask(p) => p.meta.as_ref(),
            ClientRequest::Initialize(p) => p.meta.as_ref(),
            ClientRequest::SetLevel(p) => p.meta.as_ref(),
        }
    }

    /// The value the `Mcp-Name` HTTP header must carry: the tool or prompt name, the resource
    /// URI, or the task id.
    pub fn name_header_value(&self) -> Option<&str> {
        match self {
            ClientRequest::CallTool(p) => Some(&p.name),
            ClientRequest::GetPrompt(p) => Some(&p.name),
            ClientRequest::ReadResource(p) => Some(&p.uri),
            ClientRequest::GetTask(p) | ClientRequest::CancelTask(p) => Some(&p.task_id),
            ClientRequest::UpdateTask(p) => Some(&p.task_id),
            _ => None,
        }
    }

    /// Whether the request may be answered with an `InputRequiredResult`.
    pub fn supports_input_required(&self) -> bool {
        matches!(self, ClientRequest::CallTool(_) | ClientRequest::GetPrompt(_) | ClientRequest::ReadResource(_))
    }
}

method_enum! {
    /// A request from server to client (legacy era only; the modern era uses MRTR).
    pub enum ServerRequest {
        /// `ping`.
        Ping(RequestParams) = "ping", V2025_03_26 ..= V2025_11_25;
        /// `sampling/createMessage`.
        CreateMessage(CreateMessageRequestParams) = "sampling/createMessage", V2025_03_26 ..= V2025_11_25;
        /// `roots/list`.
        ListRoots(MetaOnlyParams) = "roots/list", V2025_03_26 ..= V2025_11_25;
        /// `elicitation/create`.
        Elicit(ElicitRequestParams) = "elicitation/create", V2025_06_18 ..= V2025_11_25;
        /// `tasks/get` (client-side tasks, 2025-11-25).
        GetTask(TaskIdParams) = "tasks/get", V2025_11_25 ..= V2025_11_25;
        /// `tasks/result` (2025-11-25).
        GetTaskPayload(TaskIdParams) = "tasks/result", V2025_11_25 ..= V2025_11_25;
        /// `tasks/list` (2025-11-25).
        ListTasks(PaginatedRequestParams) = "tasks/list", V2025_11_25 ..= V2025_11_25;
        /// `tasks/cancel` (2025-11-25).
        CancelTask(TaskIdParams) = "tasks/cancel", V2025_11_25 ..= V2025_11_25;
    }
}

method_enum! {
    /// A notification from client to server.
    pub enum ClientNotification {
        /// `notifications/cancelled`.
        Cancelled(CancelledNotificationParams) = "notifications/cancelled", V2025_03_26 ..= V2026_07_28;
        /// `notifications/initialized` (legacy).
        Initialized(NotificationParams) = "notifications/initialized", V2025_03_26 ..= V2025_11_25;
        /// `notifications/progress` (legacy: progress of a server-to-client request).
        Progress(ProgressNotificationParams) = "notifications/progress", V2025_03_26 ..= V2025_11_25;
        /// `notifications/roots/list_changed` (legacy).
        RootsListChanged(NotificationParams) = "notifications/roots/list_changed", V2025_03_26 ..= V2025_11_25;
        /// `notifications/tasks/status` (2025-11-25).
        TaskStatus(LegacyTask) = "notifications/tasks/status", V2025_11_25 ..= V2025_11_25;
    }
}

method_enum! {
    /// A notification from server to client.
    pub enum ServerNotification {
        /// `notifications/cancelled`.
        Cancelled(CancelledNotificationParams) = "notifications/cancelled", V2025_03_26 ..= V2026_07_28;
        /// `notifications/progress`.
        Progress(ProgressNotificationParams) = "notifications/progress", V2025_03_26 ..= V2026_07_28;
        /// `notifications/message`.
        LoggingMessage(LoggingMessageNotificationParams) = "notifications/message", V2025_03_26 ..= V2026_07_28;
        /// `notifications/tools/list_changed`.
        ToolListChanged(NotificationParams) = "notifications/tools/list_changed", V2025_03_26 ..= V2026_07_28;
        /// `notifications/prompts/list_changed`.
        PromptListChanged(NotificationParams) = "notifications/prompts/list_changed", V2025_03_26 ..= V2026_07_28;
        /// `notifications/resources/list_changed`.
        ResourceListChanged(NotificationParams) = "notifications/resources/list_changed", V2025_03_26 ..= V2026_07_28;
        /// `notifications/resources/updated`.
        ResourceUpdated(ResourceUpdatedNotificationParams) = "notifications/resources/updated", V2025_03_26 ..= V2026_07_28;
        /// `notifications/subscriptions/acknowledged` (modern).
        SubscriptionsAcknowledged(SubscriptionsAcknowledgedParams) = "notifications/subscriptions/acknowledged", V2026_07_28 ..= V2026_07_28;
        /// `notifications/elicitation/complete` (2025-11-25).
        ElicitationComplete(ElicitationCompleteParams) = "notifications/elicitation/complete", V2025_11_25 ..= V2025_11_25;
        /// `notifications/tasks/status` (2025-11-25).
        TaskStatus(LegacyTask) = "notifications/tasks/status", V2025_11_25 ..= V2025_11_25;
        /// `notifications/tasks` (tasks extension).
        Task(Task) = "notifications/tasks", V2026_07_28 ..= V2026_07_28;
    }
}

/// A result that may instead ask for input: the answer to `prompts/get` or `resources/read`.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Outcome<T> {
    /// The final result.
    Complete(T),
    /// The server needs input; retry with `inputResponses`.
    InputRequired(InputRequiredResult),
}

/// The answer to `tools/call`: a result, a request for input, or (tasks extension) a task.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum CallToolOutcome {
    /// The tool's result.
    Complete(CallToolResult),
    /// The server needs input.
    InputRequired(InputRequiredResult),
    /// A task was created (`resultType: "task"`).
    Task(Task),
}

#[derive(Deserialize)]
struct ResultTypeProbe {
    #[serde(rename = "resultType", default)]
    result_type: Option<ResultType>,
}

fn probe_result_type(value: &serde_json::Value) -> ResultType {
    ResultTypeProbe::deserialize(value).ok().and_then(|p| p.result_type).unwrap_or(ResultType::Complete)
}

impl<T: Serialize> Serialize for Outcome<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Outcome::Complete(t) => t.serialize(serializer),
            Outcome::InputRequired(r) => r.serialize(serializer),
        }
    }
}

impl<'de, T: for<'a> Deserialize<'a>> Deserialize<'de> for Outcome<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = serde_json::Value::deserialize(deserializer)?;
        match probe_result_type(&value) {
            ResultType::InputRequired => InputRequiredResult::deserialize(value).map(Outcome::InputRequired),
            ResultType::Complete => T::deserialize(value).map(Outcome::Complete),
            other => return Err(unexpected_result_type(&other)),
        }
        .map_err(serde::de::Error::custom)
    }
}

impl Serialize for CallToolOutcome {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            CallToolOutcome::Complete(t) => t.serialize(serializer),
            CallToolOutcome::InputRequired(r) => r.serialize(serializer),
            CallToolOutcome::Task(t) => t.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for CallToolOutcome {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = serde_json::Value::deserialize(deserializer)?;
        match probe_result_type(&value) {
            ResultType::InputRequired => InputRequiredResult::deserialize(value).map(CallToolOutcome::InputRequired),
            ResultType::Task => Task::deserialize(value).map(CallToolOutcome::Task),
            ResultType::Complete => CallToolResult::deserialize(value).map(CallToolOutcome::Complete),
            other => return Err(unexpected_result_type(&other)),
        }
        .map_err(serde::de::Error::custom)
    }
}

fn unexpected_result_type<E: serde::de::Error>(found: &ResultType) -> E {
    E::custom(format_args!("unsupported resultType `{found}`"))
}

/// Every method name of every revision, for validation and routing tables.
pub fn is_known_method(method: &str) -> bool {
    ClientRequest::METHODS.contains(&method)
        || ServerRequest::METHODS.contains(&method)
        || ClientNotification::METHODS.contains(&method)
        || ServerNotification::METHODS.contains(&method)
}

/// Whether a client request method exists in `version` (shorthand used by dispatchers).
pub fn client_method_available(method: &str, version: ProtocolVersion) -> bool {
    ClientRequest::method_available_in(method, version)
}
