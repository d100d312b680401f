//! Errors of building a server ([`ServerError`]) and of running a handler ([`HandlerError`]).

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
    /// A handler takes `State<T>` but no state of type `T` was given to the builder.
    #[error("{kind} `{name}` takes `State<{state}>`, but the builder was given no such state (`with_state`)")]
    MissingState {
        /// `tool`, `prompt`, `resource`, `resource template` or `completion`.
        kind: &'static str,
        /// The primitive's name or URI.
        name: String,
        /// The state's type.
        state: &'static str,
    },
    /// Two arguments of a handler take its inputs (`Args<A>` and `Args<B>`); only one can.
    #[error("{kind} `{name}` takes its inputs twice (two `Args<T>`); decode them into one type")]
    InputsTakenTwice {
        /// `tool`, `prompt`, `resource`, `resource template` or `completion`.
        kind: &'static str,
        /// The primitive's name or URI.
        name: String,
    },
    /// A resource template is not a valid RFC 6570 template.
    #[error("resource template `{template}` is not a valid URI template")]
    InvalidTemplate {
        /// The template.
        template: String,
    },
    /// A layer could not be made (e.g. a cache whose Redis URL is malformed).
    #[error("the {layer} layer cannot be built: {source}")]
    Layer {
        /// Which layer.
        layer: &'static str,
        /// Why.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
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

/// Why a handler (of a tool, prompt, resource or completion) did not produce a normal result.
///
/// Any error type converts into it with `?`, as [`HandlerError::Failed`] with the error's text:
///
/// ```
/// use mocopr_server::HandlerError;
///
/// fn parse(text: &str) -> Result<u32, HandlerError> {
///     Ok(text.parse::<u32>()?)
/// }
/// assert!(matches!(parse("x"), Err(HandlerError::Failed(_))));
/// ```
///
/// For a tool, `Failed` becomes a result with `isError: true` the model can read and act on;
/// for prompts, resources and completions it is a JSON-RPC internal error. `Protocol` is
/// answered as the JSON-RPC error it holds, and `InputRequired` asks the client for input
/// (see [`RequestCtx::elicit`](crate::RequestCtx::elicit)).
#[derive(Debug)]
#[non_exhaustive]
pub enum HandlerError {
    /// The operation failed, for this reason.
    Failed(Cow<'static, str>),
    /// A protocol-level error (e.g. invalid params) answered as a JSON-RPC error.
    Protocol(ErrorObject),
    /// The handler needs input from the client first (MRTR in the modern era).
    InputRequired(Box<InputRequiredResult>),
}

impl HandlerError {
    /// A failure with this message.
    pub fn new(message: impl Into<Cow<'static, str>>) -> Self {
        HandlerError::Failed(message.into())
    }

    /// A JSON-RPC invalid-params error (`-32602`).
    pub fn invalid_params(message: impl Into<Cow<'static, str>>) -> Self {
        HandlerError::Protocol(ErrorObject::new(ErrorCode::INVALID_PARAMS, message))
    }

    /// A JSON-RPC internal error (`-32603`).
    pub fn internal(message: impl Into<Cow<'static, str>>) -> Self {
        HandlerError::Protocol(ErrorObject::new(ErrorCode::INTERNAL_ERROR, message))
    }
}

impl std::fmt::Display for HandlerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HandlerError::Failed(m) => f.write_str(m),
            HandlerError::Protocol(e) => write!(f, "{} {}", e.code, e.message),
            HandlerError::InputRequired(_) => f.write_str("input required"),
        }
    }
}

// `HandlerError` is deliberately not a `std::error::Error` itself, so that every error type
// converts into it with `?` (the blanket impl below would otherwise overlap `From<T> for T`).
impl<E: std::error::Error + Send + Sync + 'static> From<E> for HandlerError {
    fn from(error: E) -> Self {
        HandlerError::Failed(error.to_string().into())
    }
}
