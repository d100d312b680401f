//! The extractor trait and the extractors MoCoPr ships: what a handler's arguments are made
//! from.

use std::any::{Any, TypeId};
use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::sync::Arc;

use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use mocopr_core::principal::Principal;
use mocopr_core::types::{CompleteRequestParams, JsonObject};
use mocopr_core::{ErrorCode, ErrorObject};

use crate::context::RequestCtx;
use crate::error::HandlerError;

/// Which kind of primitive a handler serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum HandlerKind {
    /// `tools/call`.
    Tool,
    /// `prompts/get`.
    Prompt,
    /// `resources/read`.
    Resource,
    /// `completion/complete`.
    Completion,
}

/// The inputs of one handler call, before an extractor takes them.
pub(crate) enum Input {
    /// A tool's arguments (an object).
    Tool(Option<Value>),
    /// A prompt's arguments.
    Prompt(Option<BTreeMap<String, String>>),
    /// The URI read and, for a template, its variables.
    Resource { uri: String, variables: Option<BTreeMap<String, String>> },
    /// What to complete.
    Completion(Option<Box<CompleteRequestParams>>),
}

/// Application state, one value per type, given to the builder with `with_state`.
#[derive(Default)]
pub(crate) struct StateMap {
    values: HashMap<TypeId, (&'static str, Box<dyn Any + Send + Sync>)>,
}

impl StateMap {
    pub(crate) fn insert<T: Clone + Send + Sync + 'static>(&mut self, value: T) {
        self.values.insert(TypeId::of::<T>(), (std::any::type_name::<T>(), Box::new(value)));
    }

    pub(crate) fn get<T: Send + Sync + 'static>(&self) -> Option<&T> {
        self.values.get(&TypeId::of::<T>())?.1.downcast_ref()
    }

    pub(crate) fn contains(&self, id: TypeId) -> bool {
        self.values.contains_key(&id)
    }
}

impl std::fmt::Debug for StateMap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.values.values().map(|(name, _)| name)).finish()
    }
}

/// Everything a handler's arguments are extracted from: the request's context, its inputs
/// (which one extractor may take), and the application state.
pub struct RequestParts {
    ctx: RequestCtx,
    input: Input,
    states: Arc<StateMap>,
}

impl std::fmt::Debug for RequestParts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RequestParts").field("kind", &self.kind()).field("ctx", &self.ctx).finish_non_exhaustive()
    }
}

impl RequestParts {
    pub(crate) fn new(ctx: RequestCtx, input: Input, states: Arc<StateMap>) -> Self {
        RequestParts { ctx, input, states }
    }

    /// The request's context.
    pub fn ctx(&self) -> &RequestCtx {
        &self.ctx
    }

    /// The application state of type `T`, when the builder was given one.
    pub fn state<T: Send + Sync + 'static>(&self) -> Option<&T> {
        self.states.get::<T>()
    }

    /// Which kind of primitive is being served.
    pub fn kind(&self) -> HandlerKind {
        match self.input {
            Input::Tool(_) => HandlerKind::Tool,
            Input::Prompt(_) => HandlerKind::Prompt,
            Input::Resource { .. } => HandlerKind::Resource,
            Input::Completion(_) => HandlerKind::Completion,
        }
    }

    /// Takes the inputs as a JSON object: a tool's arguments, a prompt's arguments, or a
    /// resource template's variables (strings). `None` once taken, and for completions. An
    /// extractor that takes them declares their schema in
    /// [`describe`](FromRequestParts::describe); a tool whose arguments declare none accepts
    /// only `{}`. Declaring is also what lets `build()` refuse a handler with two arguments
    /// that take the inputs: one that takes them without declaring is found only at the call,
    /// as an internal error.
    pub fn take_inputs(&mut self) -> Option<Map<String, Value>> {
        let strings =
            |map: BTreeMap<String, String>| map.into_iter().map(|(k, v)| (k, Value::String(v))).collect::<Map<_, _>>();
        match &mut self.input {
            Input::Tool(args) => match args.take()? {
                Value::Object(map) => Some(map),
                _ => Some(Map::new()),
            },
            Input::Prompt(args) => args.take().map(strings),
            Input::Resource { variables, .. } => variables.take().map(strings),
            Input::Completion(_) => None,
        }
    }
}

/// What a handler's signature tells the server when the handler is registered: the input
/// schema (from `Args<T>`) and the states it needs (from `State<T>`, checked at `build()`).
#[derive(Debug, Default, Clone)]
pub struct HandlerSignature {
    pub(crate) input_schema: Option<JsonObject>,
    pub(crate) states: Vec<(TypeId, &'static str)>,
    /// How many arguments take the inputs; more than one fails `build()`.
    pub(crate) input_takers: usize,
}

impl HandlerSignature {
    /// Declares the JSON Schema of the handler's inputs, which this argument takes (one argument
    /// of a handler may: a second one fails `build()`).
    pub fn set_input_schema(&mut self, schema: JsonObject) {
        self.input_schema = Some(schema);
        self.input_takers += 1;
    }

    /// Declares that the handler needs the state of type `T`.
    pub fn require_state<T: 'static>(&mut self) {
        self.states.push((TypeId::of::<T>(), std::any::type_name::<T>()));
    }

    /// The JSON Schema of the handler's inputs, when an argument declared one.
    pub fn input_schema(&self) -> Option<&JsonObject> {
        self.input_schema.as_ref()
    }
}

/// A handler argument: made from the request's parts. This is the one extractor trait of every
/// handler kind, in the shape of axum's `FromRequestParts`; implement it for your own types.
///
/// ```
/// use mocopr_core::ProtocolVersion;
/// use mocopr_server::{FromRequestParts, HandlerError, RequestParts};
///
/// /// Whether the caller speaks the stateless revision.
/// struct Stateless(bool);
///
/// impl FromRequestParts for Stateless {
///     async fn from_request_parts(parts: &mut RequestParts) -> Result<Self, HandlerError> {
///         Ok(Stateless(parts.ctx().protocol_version().is_modern()))
///     }
/// }
///
/// async fn which(Stateless(modern): Stateless) -> String {
///     if modern { "2026-07-28".into() } else { "legacy".into() }
/// }
/// # let _ = mocopr_server::McpServer::builder().tool("which", which).build().unwrap();
/// ```
pub trait FromRequestParts: Sized + Send + 'static {
    /// Extracts the argument; an error answers the request instead of calling the handler.
    fn from_request_parts(parts: &mut RequestParts) -> impl Future<Output = Result<Self, HandlerError>> + Send;

    /// Tells the registration what this argument needs or implies (an input schema, a state).
    fn describe(_signature: &mut HandlerSignature) {}
}

/// The inputs of a call decoded as `T`: a tool's arguments, a prompt's arguments, or a resource
/// template's variables. `T`'s JSON Schema becomes the tool's `inputSchema` or the prompt's
/// argument list (field doc comments become descriptions).
#[derive(Debug, Clone, Copy, Default)]
pub struct Args<T>(pub T);

impl<T> FromRequestParts for Args<T>
where
    T: DeserializeOwned + JsonSchema + Send + 'static,
{
    async fn from_request_parts(parts: &mut RequestParts) -> Result<Self, HandlerError> {
        let kind = parts.kind();
        let Some(inputs) = parts.take_inputs() else {
            return Err(match kind {
                HandlerKind::Completion => {
                    HandlerError::internal("a completion handler takes `CompleteRequestParams`, not `Args<T>`")
                }
                _ => HandlerError::internal("a handler can take its inputs (`Args<T>`) only once"),
            });
        };
        T::deserialize(Value::Object(inputs)).map(Args).map_err(|e| match kind {
            // The model reads a tool's failures and can correct its arguments.
            HandlerKind::Tool => HandlerError::new(format!("invalid arguments: {e}")),
            HandlerKind::Prompt => HandlerError::invalid_params(format!("invalid prompt arguments: {e}")),
            _ => HandlerError::invalid_params(format!("invalid URI template variables: {e}")),
        })
    }

    fn describe(signature: &mut HandlerSignature) {
        signature.set_input_schema(crate::registration::input_schema::<T>());
    }
}

impl FromRequestParts for RequestCtx {
    async fn from_request_parts(parts: &mut RequestParts) -> Result<Self, HandlerError> {
        Ok(parts.ctx.clone())
    }
}

/// Application state of type `T`, given to the builder with
/// [`with_state`](crate::McpServerBuilder::with_state). A handler that takes a state the builder
/// was not given fails `build()`.
#[derive(Debug, Clone, Copy, Default)]
pub struct State<T>(pub T);

impl<T: Clone + Send + Sync + 'static> FromRequestParts for State<T> {
    async fn from_request_parts(parts: &mut RequestParts) -> Result<Self, HandlerError> {
        match parts.states.get::<T>() {
            Some(value) => Ok(State(value.clone())),
            None => Err(HandlerError::internal("a state the handler needs is missing")),
        }
    }

    fn describe(signature: &mut HandlerSignature) {
        signature.require_state::<T>();
    }
}

/// The URI a resource handler is reading.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceUri(pub String);

impl FromRequestParts for ResourceUri {
    async fn from_request_parts(parts: &mut RequestParts) -> Result<Self, HandlerError> {
        match &parts.input {
            Input::Resource { uri, .. } => Ok(ResourceUri(uri.clone())),
            _ => Err(HandlerError::internal("`ResourceUri` is only available to resource handlers")),
        }
    }
}

/// The authenticated caller; the request is refused when there is none (no authorization layer
/// in front, or an anonymous request). Take `Option<Principal>` to serve anonymous callers too.
impl FromRequestParts for Principal {
    async fn from_request_parts(parts: &mut RequestParts) -> Result<Self, HandlerError> {
        parts.ctx.principal().cloned().ok_or_else(|| {
            HandlerError::Protocol(ErrorObject::new(
                ErrorCode::INVALID_REQUEST,
                "this request needs an authenticated caller",
            ))
        })
    }
}

impl FromRequestParts for Option<Principal> {
    async fn from_request_parts(parts: &mut RequestParts) -> Result<Self, HandlerError> {
        Ok(parts.ctx.principal().cloned())
    }
}

/// What a completion handler completes.
impl FromRequestParts for CompleteRequestParams {
    async fn from_request_parts(parts: &mut RequestParts) -> Result<Self, HandlerError> {
        match &mut parts.input {
            Input::Completion(params) => params
                .take()
                .map(|p| *p)
                .ok_or_else(|| HandlerError::internal("the completion request was taken twice")),
            _ => Err(HandlerError::internal("`CompleteRequestParams` is only available to completion handlers")),
        }
    }
}
