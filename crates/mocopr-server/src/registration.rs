//! [`Registration`]: a primitive bundled with its handler. The builder's `tool`, `prompt`,
//! `resource` and `completion` methods make one each; `#[tool]`, `#[prompt]` and `#[resource]`
//! produce them; code that builds its primitives at run time (dynamic registration) makes them
//! directly and hands them to [`McpServerBuilder::register`](crate::McpServerBuilder::register).
//!
//! Every path applies the same rules:
//!
//! - a tool's `inputSchema` comes from its handler's `Args<T>` and its `outputSchema` from a
//!   `Structured<T>` return type, unless the definition sets them;
//! - a prompt's arguments come from its handler's `Args<T>`, unless the definition lists them;
//! - a resource URI with an RFC 6570 expression (`{…}`) registers a resource template, any
//!   other URI a resource.
//!
//! ```
//! use mocopr_server::registration::Registration;
//! use mocopr_server::{Args, McpServer};
//!
//! #[derive(serde::Deserialize, schemars::JsonSchema)]
//! struct Shout {
//!     text: String,
//! }
//!
//! async fn shout(Args(p): Args<Shout>) -> String {
//!     p.text.to_uppercase()
//! }
//!
//! // Tools chosen at run time.
//! let names = ["shout", "yell"];
//! let server = names
//!     .iter()
//!     .fold(McpServer::builder(), |builder, name| builder.register(Registration::tool(*name, shout)))
//!     .register(Registration::resource("notes://{id}", |Args(v): Args<std::collections::BTreeMap<String, String>>| async move {
//!         format!("note {}", v["id"])
//!     }))
//!     .build()
//!     .unwrap();
//! assert_eq!(server.tools().count(), 2);
//! ```

use std::sync::Arc;

use futures_util::future::BoxFuture;
use schemars::JsonSchema;
use serde_json::{Map, Value};

use mocopr_core::types::{
    CallToolResult, Completion, GetPromptResult, Prompt, PromptArgument, Resource, ResourceTemplate, TaskSupport, Tool,
};

use crate::error::HandlerError;
use crate::handler::{
    Handler, IntoCompletion, IntoPromptResult, IntoResourceResult, IntoToolResult, RequestParts, ResourceBody,
};

pub(crate) type ErasedTool =
    Arc<dyn Fn(RequestParts) -> BoxFuture<'static, Result<CallToolResult, HandlerError>> + Send + Sync>;
pub(crate) type ErasedPrompt =
    Arc<dyn Fn(RequestParts) -> BoxFuture<'static, Result<GetPromptResult, HandlerError>> + Send + Sync>;
pub(crate) type ErasedResource =
    Arc<dyn Fn(String, RequestParts) -> BoxFuture<'static, Result<ResourceBody, HandlerError>> + Send + Sync>;
pub(crate) type ErasedCompletion =
    Arc<dyn Fn(RequestParts) -> BoxFuture<'static, Result<Completion, HandlerError>> + Send + Sync>;

/// What a handler needs (its states, one taker of its inputs), checked when the server is built.
pub(crate) type Needs = crate::handler::HandlerSignature;

/// A primitive and its handler, ready to register.
pub struct Registration {
    pub(crate) kind: Kind,
}

pub(crate) enum Kind {
    Tool { definition: Tool, handler: ErasedTool, task_support: Option<TaskSupport>, needs: Needs },
    Prompt { definition: Prompt, handler: ErasedPrompt, needs: Needs },
    Resource { definition: Resource, handler: ErasedResource, needs: Needs },
    Template { definition: ResourceTemplate, handler: ErasedResource, needs: Needs },
    Completion { handler: ErasedCompletion, needs: Needs },
}

impl std::fmt::Debug for Registration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.kind {
            Kind::Tool { definition, .. } => write!(f, "Registration::Tool({})", definition.name),
            Kind::Prompt { definition, .. } => write!(f, "Registration::Prompt({})", definition.name),
            Kind::Resource { definition, .. } => write!(f, "Registration::Resource({})", definition.uri),
            Kind::Template { definition, .. } => write!(f, "Registration::Template({})", definition.uri_template),
            Kind::Completion { .. } => f.write_str("Registration::Completion"),
        }
    }
}

/// What `resources/read` serves under one registration: a resource (one URI) or a resource
/// template (every URI it matches). Made from a URI, a [`Resource`] or a [`ResourceTemplate`];
/// a URI with an RFC 6570 expression (`{…}`) makes a template.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ResourceDefinition {
    /// One resource.
    Resource(Resource),
    /// A family of resources.
    Template(ResourceTemplate),
}

impl From<Resource> for ResourceDefinition {
    fn from(resource: Resource) -> Self {
        if !crate::uri_template::has_expression(&resource.uri) {
            return ResourceDefinition::Resource(resource);
        }
        let mut template = ResourceTemplate::new(resource.uri, resource.name);
        template.title = resource.title;
        template.description = resource.description;
        template.mime_type = resource.mime_type;
        template.icons = resource.icons;
        template.annotations = resource.annotations;
        template.meta = resource.meta;
        ResourceDefinition::Template(template)
    }
}

impl From<ResourceTemplate> for ResourceDefinition {
    fn from(template: ResourceTemplate) -> Self {
        ResourceDefinition::Template(template)
    }
}

/// A URI, named after itself.
impl From<&str> for ResourceDefinition {
    fn from(uri: &str) -> Self {
        Resource::new(uri, uri).into()
    }
}

impl From<String> for ResourceDefinition {
    fn from(uri: String) -> Self {
        Resource::new(uri.clone(), uri).into()
    }
}

impl Registration {
    /// A tool: `definition` (a name, or a [`Tool`]) served by `handler`. The schemas the
    /// definition leaves unset come from the handler's types.
    pub fn tool<H, T>(definition: impl Into<Tool>, handler: H) -> Self
    where
        H: Handler<T>,
        H::Output: IntoToolResult,
    {
        Registration::tool_with_support(definition.into(), handler, None)
    }

    /// A tool that may run as a task (tasks extension): when the client declares the extension
    /// and the handler does not finish at once, the call becomes a task. With
    /// [`TaskSupport::Required`], clients that do not declare the extension get `-32021`.
    pub fn task_tool<H, T>(definition: impl Into<Tool>, handler: H, support: TaskSupport) -> Self
    where
        H: Handler<T>,
        H::Output: IntoToolResult,
    {
        let support = (support != TaskSupport::Forbidden).then_some(support);
        Registration::tool_with_support(definition.into(), handler, support)
    }

    fn tool_with_support<H, T>(mut definition: Tool, handler: H, task_support: Option<TaskSupport>) -> Self
    where
        H: Handler<T>,
        H::Output: IntoToolResult,
    {
        let mut signature = H::signature();
        if definition.has_default_input_schema() {
            // A handler that takes no inputs declares that it accepts only `{}`, as the
            // specification recommends for tools without parameters.
            definition.input_schema = signature.input_schema.take().unwrap_or_else(empty_input_schema);
        }
        if definition.output_schema.is_none() {
            definition.output_schema = <H::Output as IntoToolResult>::output_schema();
        }
        let handler: ErasedTool = Arc::new(move |parts| {
            let handler = handler.clone();
            Box::pin(async move { handler.call(parts).await?.into_tool_result() })
        });
        Registration { kind: Kind::Tool { definition, handler, task_support, needs: signature } }
    }

    /// A prompt: `definition` (a name, or a [`Prompt`]) rendered by `handler`. Arguments the
    /// definition does not list come from the handler's `Args<T>`.
    pub fn prompt<H, T>(definition: impl Into<Prompt>, handler: H) -> Self
    where
        H: Handler<T>,
        H::Output: IntoPromptResult,
    {
        let mut definition = definition.into();
        let signature = H::signature();
        if definition.arguments.is_none()
            && let Some(schema) = &signature.input_schema
        {
            let arguments = arguments_from_schema(schema);
            definition.arguments = (!arguments.is_empty()).then_some(arguments);
        }
        let handler: ErasedPrompt = Arc::new(move |parts| {
            let handler = handler.clone();
            Box::pin(async move { handler.call(parts).await?.into_prompt_result() })
        });
        Registration { kind: Kind::Prompt { definition, handler, needs: signature } }
    }

    /// A resource, or a resource template when the URI has an expression (`{…}`), read by
    /// `handler`; its `Args<T>` are the template's variables.
    pub fn resource<H, T>(definition: impl Into<ResourceDefinition>, handler: H) -> Self
    where
        H: Handler<T>,
        H::Output: IntoResourceResult,
    {
        let needs = H::signature();
        let handler: ErasedResource = Arc::new(move |uri, parts| {
            let handler = handler.clone();
            Box::pin(async move { handler.call(parts).await?.into_resource_result(&uri) })
        });
        // One rule for every way in: a URI with an expression is a template, even when it
        // comes as `ResourceDefinition::Resource`.
        let definition = match definition.into() {
            ResourceDefinition::Resource(resource) => ResourceDefinition::from(resource),
            template => template,
        };
        let kind = match definition {
            ResourceDefinition::Resource(definition) => Kind::Resource { definition, handler, needs },
            ResourceDefinition::Template(definition) => Kind::Template { definition, handler, needs },
        };
        Registration { kind }
    }

    /// The argument-completion handler (advertises `completions`).
    pub fn completion<H, T>(handler: H) -> Self
    where
        H: Handler<T>,
        H::Output: IntoCompletion,
    {
        let needs = H::signature();
        let handler: ErasedCompletion = Arc::new(move |parts| {
            let handler = handler.clone();
            Box::pin(async move { handler.call(parts).await?.into_completion() })
        });
        Registration { kind: Kind::Completion { handler, needs } }
    }
}

/// The JSON Schema (2020-12) of `T` as a tool's `inputSchema`: an object at the root.
pub fn input_schema<T: JsonSchema>() -> Map<String, Value> {
    let mut schema = object_schema::<T>();
    schema.entry("type").or_insert_with(|| Value::from("object"));
    schema
}

/// The `inputSchema` of a tool without parameters: `{"type": "object", "additionalProperties": false}`.
pub fn empty_input_schema() -> Map<String, Value> {
    let mut schema = Map::new();
    schema.insert("type".into(), Value::from("object"));
    schema.insert("additionalProperties".into(), Value::Bool(false));
    schema
}

/// The JSON Schema (2020-12) of `T` as a tool's `outputSchema`: what `T` serializes to (which
/// may differ from what it deserializes from: `skip_deserializing`, defaults, aliases).
pub fn output_schema<T: JsonSchema>() -> Map<String, Value> {
    let schema = schemars::generate::SchemaSettings::draft2020_12().for_serialize().into_generator();
    into_map(schema.into_root_schema_for::<T>())
}

fn object_schema<T: JsonSchema>() -> Map<String, Value> {
    into_map(schemars::schema_for!(T))
}

fn into_map(schema: schemars::Schema) -> Map<String, Value> {
    match serde_json::to_value(schema) {
        Ok(Value::Object(map)) => map,
        _ => Map::new(),
    }
}

/// A prompt's arguments from the schema of its argument struct: one per property, required
/// when the schema says so, described by the property's description (the field's doc comment).
fn arguments_from_schema(schema: &Map<String, Value>) -> Vec<PromptArgument> {
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let Some(properties) = schema.get("properties").and_then(Value::as_object) else { return Vec::new() };
    properties
        .iter()
        .map(|(name, property)| {
            let mut argument = PromptArgument::new(name.clone()).with_required(required.contains(&name.as_str()));
            argument.description = property.get("description").and_then(Value::as_str).map(str::to_owned);
            argument
        })
        .collect()
}
