//! Errors of building a server ([`ServerError`]) and of running a handler ([`ToolError`]).

use std::borrow::Cow;

use mocopr_core::{ErrorCode, ErrorObject, InputRequiredResult};

/// A server that cannot be built as configured.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServerError {
    /// Two primitives share a name (or URI).
    #[error("{kind} `{name}` is registered twice")]
    Duplicate {
        /// `tool`, `prompt`, `resource` or `resource template`.
        kind: &'static str,
        /// The name or URI.
        name: String,
    },
    /// A tool name breaks the naming rules.
    #[error("invalid tool name `{name}`: {source}")]
    InvalidToolName {
        /// The name.
        name: String,
        /// The rule broken.
        #[source]
        source: mocopr_core::names::NameError,
    },
    /// A tool's input or output schema is not a valid JSON Schema.
    #[error("tool `{tool}` has an invalid {which} schema: {reason}")]
    InvalidSchema {
        /// The tool.
        tool: String,
        /// `input` or `output`.
        which: &'static str,
        /// The validator's complaint.
        reason: String,
    },
    /// A tool's input schema does not have `"type": "object"` at its root.
    #[error("tool `{tool}`: inputSchema must have \"type\": \"object\" at its root")]
    InputSchemaNotObject {
        /// The tool.
        tool: String,
    },
    /// A configuration value is unusable.
    #[error("invalid server setting `{setting}`: {reason}")]
    InvalidConfig {
        /// The setting.
        setting: &'static str,
        /// Why.
        reason: &'static str,
    },
}

/// Why a handler did not produce a normal result.
#[derive(Debug)]
#[non_exhaustive]
pub enum ToolError {
    /// The operation failed; for tools this becomes a result with `isError: true` that the model
    /// can read and correct (for prompts and resources, an internal error).
    Failed(Cow<'static, str>),
    /// A protocol-level error (e.g. invalid params) answered as a JSON-RPC error.
    Protocol(ErrorObject),
    /// The handler needs input from the client first (MRTR in the modern era).
    InputRequired(Box<InputRequiredResult>),
}

impl ToolError {
    /// A failure with this message.
    pub fn new(message: impl Into<Cow<'static, str>>) -> Self {
        ToolError::Failed(message.into())
    }

    /// A JSON-RPC invalid-params error.
    pub fn invalid_params(message: impl Into<Cow<'static, str>>) -> Self {
        ToolError::Protocol(ErrorObject::new(ErrorCode::INVALID_PARAMS, message))
    }

    /// A JSON-RPC internal error.
    pub fn internal(message: impl Into<Cow<'static, str>>) -> Self {
        ToolError::Protocol(ErrorObject::new(ErrorCode::INTERNAL_ERROR, message))
    }
}

impl std::fmt::Display for ToolError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ToolError::Failed(m) => f.write_str(m),
            ToolError::Protocol(e) => write!(f, "{} {}", e.code, e.message),
            ToolError::InputRequired(_) => f.write_str("input required"),
        }
    }
}

impl std::error::Error for ToolError {}

impl From<serde_json::Error> for ToolError {
    fn from(e: serde_json::Error) -> Self {
        ToolError::new(e.to_string())
    }
}
