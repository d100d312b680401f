//! Error codes, the JSON-RPC error object, and [`ProtocolError`]: every way a message can be
//! wrong, each mapped to exactly one JSON-RPC code (and HTTP status) in one table.

use std::borrow::Cow;
use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::jsonrpc::RequestId;
use crate::version::ProtocolVersion;

/// A JSON-RPC error code. Unknown codes round-trip unchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ErrorCode(pub i32);

impl ErrorCode {
    /// Invalid JSON was received.
    pub const PARSE_ERROR: ErrorCode = ErrorCode(-32700);
    /// The JSON sent is not a valid request object.
    pub const INVALID_REQUEST: ErrorCode = ErrorCode(-32600);
    /// The method does not exist, or its capability was not advertised.
    pub const METHOD_NOT_FOUND: ErrorCode = ErrorCode(-32601);
    /// Invalid method parameters (also: unknown tool or prompt, bad cursor, missing `_meta`,
    /// and, in the modern era, resource not found).
    pub const INVALID_PARAMS: ErrorCode = ErrorCode(-32602);
    /// Internal error.
    pub const INTERNAL_ERROR: ErrorCode = ErrorCode(-32603);
    /// HTTP headers disagree with the body, or a required header is missing (2026-07-28).
    pub const HEADER_MISMATCH: ErrorCode = ErrorCode(-32020);
    /// The request needs a client capability the client did not declare (2026-07-28).
    pub const MISSING_REQUIRED_CLIENT_CAPABILITY: ErrorCode = ErrorCode(-32021);
    /// The requested protocol version is not supported (2026-07-28).
    pub const UNSUPPORTED_PROTOCOL_VERSION: ErrorCode = ErrorCode(-32022);
    /// Legacy resource-not-found (2025-11-25 and earlier). Never emitted to modern peers.
    pub const LEGACY_RESOURCE_NOT_FOUND: ErrorCode = ErrorCode(-32002);
    /// Legacy URL elicitation required (2025-11-25 only). Never emitted to modern peers.
    pub const LEGACY_URL_ELICITATION_REQUIRED: ErrorCode = ErrorCode(-32042);

    /// The code's standard name, for logs and metrics labels.
    pub const fn name(self) -> &'static str {
        match self.0 {
            -32700 => "parse_error",
            -32600 => "invalid_request",
            -32601 => "method_not_found",
            -32602 => "invalid_params",
            -32603 => "internal_error",
            -32020 => "header_mismatch",
            -32021 => "missing_required_client_capability",
            -32022 => "unsupported_protocol_version",
            -32002 => "resource_not_found",
            -32042 => "url_elicitation_required",
            _ => "other",
        }
    }

    /// The HTTP status a Streamable HTTP server answers with when a request fails with this code
    /// before any stream starts (2026-07-28: protocol errors are 400, unknown methods 404).
    pub const fn http_status(self) -> u16 {
        match self.0 {
            -32601 => 404,
            -32700 | -32600 | -32602 | -32020 | -32021 | -32022 => 400,
            _ => 500,
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.0, self.name())
    }
}

/// The `error` member of a JSON-RPC error response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorObject {
    /// The error code.
    pub code: ErrorCode,
    /// One concise sentence.
    pub message: Cow<'static, str>,
    /// Additional structured information.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<Value>,
}

impl ErrorObject {
    /// An error with a code and message and no data.
    pub fn new(code: ErrorCode, message: impl Into<Cow<'static, str>>) -> Self {
        ErrorObject { code, message: message.into(), data: None }
    }

    /// Attaches `data`.
    pub fn with_data(mut self, data: Value) -> Self {
        self.data = Some(data);
        self
    }
}

/// Where in a JSON-RPC message a value had the wrong shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum JsonKind {
    /// `null`
    Null,
    /// `true` / `false`
    Bool,
    /// a number
    Number,
    /// a string
    String,
    /// an array
    Array,
    /// an object
    Object,
}

impl JsonKind {
    /// The kind of the first JSON value in `bytes` (after whitespace), if recognisable.
    pub fn sniff(bytes: &[u8]) -> Option<JsonKind> {
        let first = bytes.iter().find(|b| !b.is_ascii_whitespace())?;
        Some(match first {
            b'{' => JsonKind::Object,
            b'[' => JsonKind::Array,
            b'"' => JsonKind::String,
            b'n' => JsonKind::Null,
            b't' | b'f' => JsonKind::Bool,
            b'-' | b'0'..=b'9' => JsonKind::Number,
            _ => return None,
        })
    }
}

impl fmt::Display for JsonKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            JsonKind::Null => "null",
            JsonKind::Bool => "a boolean",
            JsonKind::Number => "a number",
            JsonKind::String => "a string",
            JsonKind::Array => "an array",
            JsonKind::Object => "an object",
        })
    }
}

/// Everything that can be wrong with a message, from bytes to typed params.
///
/// [`ProtocolError::code`] is the one table mapping these to JSON-RPC codes.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProtocolError {
    /// The bytes are not JSON (or not UTF-8).
    #[error("parse error: {source}")]
    Parse {
        /// The JSON parser's error.
        #[source]
        source: serde_json::Error,
    },
    /// JSON nested deeper than the decoder allows.
    #[error("JSON nesting deeper than {limit} levels")]
    NestingTooDeep {
        /// The maximum depth.
        limit: usize,
    },
    /// A message larger than the configured limit.
    #[error("message of {size} bytes exceeds the limit of {limit} bytes")]
    MessageTooLarge {
        /// Size of the message (or of the part read before giving up).
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// The top-level JSON value is neither an object nor (where allowed) an array.
    #[error("a JSON-RPC message must be an object, found {found}")]
    NotAnObject {
        /// What was found instead.
        found: JsonKind,
    },
    /// A JSON-RPC batch array where the negotiated revision does not allow one.
    #[error("JSON-RPC batches are not allowed{}", .version.map(|v| format!(" in protocol version {v}")).unwrap_or_default())]
    BatchNotAllowed {
        /// The revision in force, when known.
        version: Option<ProtocolVersion>,
    },
    /// An empty batch array.
    #[error("empty JSON-RPC batch")]
    EmptyBatch,
    /// A batch with more entries than allowed.
    #[error("batch of at least {len} messages exceeds the limit of {limit}")]
    BatchTooLarge {
        /// Number of entries read before it was refused (reading stops one past the limit).
        len: usize,
        /// The limit.
        limit: usize,
    },
    /// `jsonrpc` is missing or is not `"2.0"`.
    #[error("`jsonrpc` must be \"2.0\"")]
    InvalidJsonRpcVersion,
    /// A request with `"id": null`.
    #[error("request id must not be null")]
    NullId,
    /// An id that is not a string or an integer.
    #[error("request id must be a string or an integer, found {found}")]
    InvalidId {
        /// What was found.
        found: JsonKind,
    },
    /// A message with a field of the wrong JSON type (`method` not a string, `params` not an
    /// object, ...).
    #[error("`{field}` must be {expected}")]
    InvalidField {
        /// The member name.
        field: &'static str,
        /// What it must be.
        expected: &'static str,
    },
    /// A message that is neither a request, a notification nor a response.
    #[error("message is not a request, notification or response")]
    UnclassifiableMessage,
    /// A response carrying both `result` and `error`, or a request carrying a `result`.
    #[error("message mixes `{first}` and `{second}`")]
    AmbiguousMessage {
        /// One member.
        first: &'static str,
        /// The member it conflicts with.
        second: &'static str,
    },
    /// JSON that is valid but not a JSON-RPC object (e.g. a member given twice).
    #[error("malformed JSON-RPC message: {source}")]
    MalformedEnvelope {
        /// The decoder's error.
        #[source]
        source: serde_json::Error,
    },
    /// A method name that breaks the naming rules.
    #[error("invalid method name `{method}`: {source}")]
    InvalidMethodName {
        /// The method name (as received).
        method: String,
        /// The rule broken.
        #[source]
        source: crate::names::NameError,
    },
    /// A response without an id (only error responses may omit it).
    #[error("response is missing its id")]
    MissingResponseId,
    /// An object member named `$serde_json::private::RawValue` anywhere in the message: JSON
    /// holding it does not read back as itself ([`crate::jsonrpc::RESERVED_MEMBER`]).
    #[error("the member name `$serde_json::private::RawValue` is reserved")]
    ReservedMemberName,
    /// An unknown method (or one gated by a capability that was not advertised).
    #[error("method not found: {method}")]
    MethodNotFound {
        /// The method name.
        method: String,
    },
    /// A method that exists, but not in the era or revision of the request.
    #[error("method `{method}` is not available in protocol version {version}")]
    MethodNotInVersion {
        /// The method name.
        method: String,
        /// The revision in force.
        version: ProtocolVersion,
    },
    /// Params that do not match the method's schema.
    #[error("invalid params for `{method}`: {source}")]
    InvalidParams {
        /// The method whose params failed.
        method: String,
        /// The decoder's error.
        #[source]
        source: serde_json::Error,
    },
    /// A required `_meta` member of a modern request is absent.
    #[error("missing required `_meta` member `{key}`")]
    MissingMeta {
        /// The key.
        key: &'static str,
    },
    /// A `_meta` key that breaks the key grammar.
    #[error("invalid `_meta` key `{key}`: {source}")]
    InvalidMetaKey {
        /// The key.
        key: String,
        /// The rule broken.
        #[source]
        source: crate::meta_key::MetaKeyError,
    },
    /// A result that does not match the type expected for the request's method.
    #[error("invalid result: {source}")]
    InvalidResult {
        /// The decoder's error.
        #[source]
        source: serde_json::Error,
    },
    /// A `_meta` member has the wrong shape.
    #[error("invalid `_meta` member `{key}`: {reason}")]
    InvalidMeta {
        /// The key.
        key: String,
        /// Why it is invalid.
        reason: &'static str,
    },
    /// The protocol version asked for is not supported.
    #[error("unsupported protocol version `{requested}`")]
    UnsupportedProtocolVersion {
        /// The version the peer asked for.
        requested: String,
        /// What the server supports.
        supported: Vec<ProtocolVersion>,
    },
    /// An HTTP header disagrees with the body, is missing, or is malformed.
    #[error("header `{header}` {problem}")]
    HeaderMismatch {
        /// The header name.
        header: String,
        /// What is wrong.
        problem: HeaderProblem,
    },
    /// A header value that is not validly encoded (`=?base64?…?=` rules, control characters).
    #[error("header `{header}` is not validly encoded: {source}")]
    InvalidHeaderValue {
        /// The header name.
        header: String,
        /// The encoding rule broken.
        #[source]
        source: crate::header::HeaderValueError,
    },
    /// A stdio frame that breaks the framing rules (embedded newline, empty message).
    #[error("invalid frame: {source}")]
    Framing {
        /// The framing rule broken.
        #[source]
        source: crate::framing::FrameError,
    },
    /// The request needs client capabilities that were not declared.
    #[error("request requires client capabilities that were not declared")]
    MissingRequiredClientCapability {
        /// The capabilities required, as a `ClientCapabilities` object.
        required: Value,
    },
}

/// What is wrong with a request header (`HeaderMismatch`, -32020).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum HeaderProblem {
    /// The header is required and absent.
    Missing,
    /// The header's value differs from the body.
    Mismatch,
    /// The header's value is not validly encoded.
    BadEncoding,
}

impl fmt::Display for HeaderProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            HeaderProblem::Missing => "is required but missing",
            HeaderProblem::Mismatch => "does not match the request body",
            HeaderProblem::BadEncoding => "is not validly encoded",
        })
    }
}

impl ProtocolError {
    /// The JSON-RPC error code for this error: the one mapping table.
    pub fn code(&self) -> ErrorCode {
        match self {
            ProtocolError::Parse { .. } | ProtocolError::NestingTooDeep { .. } | ProtocolError::Framing { .. } => {
                ErrorCode::PARSE_ERROR
            }
            ProtocolError::MessageTooLarge { .. }
            | ProtocolError::NotAnObject { .. }
            | ProtocolError::BatchNotAllowed { .. }
            | ProtocolError::EmptyBatch
            | ProtocolError::BatchTooLarge { .. }
            | ProtocolError::InvalidJsonRpcVersion
            | ProtocolError::NullId
            | ProtocolError::InvalidId { .. }
            | ProtocolError::InvalidField { .. }
            | ProtocolError::UnclassifiableMessage
            | ProtocolError::AmbiguousMessage { .. }
            | ProtocolError::MalformedEnvelope { .. }
            | ProtocolError::MissingResponseId
            | ProtocolError::ReservedMemberName => ErrorCode::INVALID_REQUEST,
            // A name no method can have is a method that is not found (JSON-RPC 2.0 §5.1).
            ProtocolError::MethodNotFound { .. }
            | ProtocolError::MethodNotInVersion { .. }
            | ProtocolError::InvalidMethodName { .. } => ErrorCode::METHOD_NOT_FOUND,
            ProtocolError::InvalidParams { .. }
            | ProtocolError::MissingMeta { .. }
            | ProtocolError::InvalidMetaKey { .. }
            | ProtocolError::InvalidMeta { .. } => ErrorCode::INVALID_PARAMS,
            ProtocolError::InvalidResult { .. } => ErrorCode::INTERNAL_ERROR,
            ProtocolError::UnsupportedProtocolVersion { .. } => ErrorCode::UNSUPPORTED_PROTOCOL_VERSION,
            ProtocolError::HeaderMismatch { .. } | ProtocolError::InvalidHeaderValue { .. } => {
                ErrorCode::HEADER_MISMATCH
            }
            ProtocolError::MissingRequiredClientCapability { .. } => ErrorCode::MISSING_REQUIRED_CLIENT_CAPABILITY,
        }
    }

    /// The JSON-RPC error object to send for this error, with the `data` the specification
    /// requires for -32021 and -32022.
    pub fn to_error_object(&self) -> ErrorObject {
        // A decoder's message can quote the offending input (a string of megabytes): the
        // answer says what was wrong, not all of it.
        let mut message = self.to_string();
        if message.len() > MAX_ERROR_MESSAGE {
            let mut end = MAX_ERROR_MESSAGE;
            while !message.is_char_boundary(end) {
                end -= 1;
            }
            message.truncate(end);
            message.push('…');
        }
        let object = ErrorObject::new(self.code(), message);
        match self {
            ProtocolError::UnsupportedProtocolVersion { requested, supported } => object.with_data(serde_json::json!({
                "supported": supported.iter().map(|v| v.as_str()).collect::<Vec<_>>(),
                "requested": requested,
            })),
            ProtocolError::MissingRequiredClientCapability { required } => {
                object.with_data(serde_json::json!({ "requiredCapabilities": required }))
            }
            _ => object,
        }
    }

    /// Maps a `serde_json` error met while decoding bytes, keeping depth overflows apart.
    pub fn from_json(source: serde_json::Error) -> Self {
        if is_recursion_limit(&source) {
            ProtocolError::NestingTooDeep { limit: MAX_JSON_DEPTH }
        } else {
            ProtocolError::Parse { source }
        }
    }

    /// Maps a `serde_json` error met while decoding a method's params.
    pub fn invalid_params(method: &str, source: serde_json::Error) -> Self {
        if is_recursion_limit(&source) {
            ProtocolError::NestingTooDeep { limit: MAX_JSON_DEPTH }
        } else {
            ProtocolError::InvalidParams { method: method.to_owned(), source }
        }
    }
}

impl From<crate::framing::FrameError> for ProtocolError {
    fn from(source: crate::framing::FrameError) -> Self {
        match source {
            crate::framing::FrameError::FrameTooLarge { size, limit } => ProtocolError::MessageTooLarge { size, limit },
            source => ProtocolError::Framing { source },
        }
    }
}

/// The deepest JSON nesting accepted: `serde_json`'s own recursion limit, which bounds stack
/// use while decoding typed values.
pub const MAX_JSON_DEPTH: usize = 128;

fn is_recursion_limit(e: &serde_json::Error) -> bool {
    // serde_json reports its depth guard as a syntax error with this fixed message; there is no
    // dedicated category to match on.
    e.is_syntax() && e.to_string().starts_with("recursion limit exceeded")
}

/// Why a middleware layer answered instead of the handler.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum LayerFailure {
    /// The request ran past its deadline.
    Timeout,
    /// The server shed the request under load.
    Overloaded,
    /// Any other middleware failure.
    Other,
}

impl LayerFailure {
    /// The JSON-RPC error for this failure: an internal error (`-32603`) whose `data.reason`
    /// says which, since MCP reserves the implementation-defined range for itself.
    pub fn to_error_object(self) -> ErrorObject {
        let (message, reason) = match self {
            LayerFailure::Timeout => ("request timed out", "timeout"),
            LayerFailure::Overloaded => ("server overloaded, retry later", "overloaded"),
            LayerFailure::Other => ("request failed in middleware", "middleware"),
        };
        ErrorObject::new(ErrorCode::INTERNAL_ERROR, message).with_data(serde_json::json!({ "reason": reason }))
    }
}

/// The longest message [`ProtocolError::to_error_object`] puts in an answer, in bytes.
pub const MAX_ERROR_MESSAGE: usize = 512;

/// A message rejected while decoding, with the id to answer to when it could be read.
#[derive(Debug, thiserror::Error)]
#[error("{error}")]
#[non_exhaustive]
pub struct Rejection {
    /// The id of the offending request, when it was readable.
    pub id: Option<RequestId>,
    /// The message was a notification (a `method` and no `id` member): whatever is wrong with
    /// it, it must not be answered.
    pub notification: bool,
    /// What was wrong.
    #[source]
    pub error: ProtocolError,
}

impl Rejection {
    /// A rejection whose id is unknown.
    pub fn without_id(error: ProtocolError) -> Self {
        Rejection { id: None, notification: false, error }
    }
}

impl From<ProtocolError> for Rejection {
    fn from(error: ProtocolError) -> Self {
        Rejection::without_id(error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modern_errors_carry_the_data_the_spec_requires() {
        let e = ProtocolError::UnsupportedProtocolVersion {
            requested: "1999-01-01".into(),
            supported: vec![ProtocolVersion::V2026_07_28],
        };
        let o = e.to_error_object();
        assert_eq!(o.code, ErrorCode::UNSUPPORTED_PROTOCOL_VERSION);
        assert_eq!(o.data.unwrap()["supported"][0], "2026-07-28");
    }

    #[test]
    fn unknown_codes_round_trip() {
        let o: ErrorObject = serde_json::from_str(r#"{"code":-31999,"message":"x"}"#).unwrap();
        assert_eq!(o.code, ErrorCode(-31999));
        assert_eq!(serde_json::to_string(&o).unwrap(), r#"{"code":-31999,"message":"x"}"#);
    }
}
