//! [`Registration`]: a primitive bundled with its handler, as the `#[tool]`, `#[prompt]` and
//! `#[resource]` macros produce them, and the schema helpers those macros call.
//!
//! Registering without macros is the builder's `tool` / `prompt` / `resource` methods; a
//! `Registration` is the same thing in one value, for code that builds its tool list at run
//! time (dynamic registration).

use std::future::Future;

use schemars::JsonSchema;
use serde_json::{Map, Value};

use mocopr_core::types::{
    GetPromptResult, Prompt, PromptArgument, Resource, ResourceContents, ResourceTemplate, TaskSupport, Tool,
};

use crate::context::RequestCtx;
use crate::error::ToolError;
use crate::primitives::{ErasedPrompt, ErasedResource, PromptArgs, ResourceRequest, erase_prompt, erase_resource};
use crate::server::McpServerBuilder;
use crate::tool::{ErasedTool, ToolHandler};

/// A primitive and its handler, ready to register.
pub struct Registration {
    kind: Kind,
}

enum Kind {
    Tool { definition: Tool, handler: ErasedTool, task_support: Option<TaskSupport> },
    Prompt { definition: Prompt, handler: ErasedPrompt },
    Resource { definition: Resource, handler: ErasedResource },
    Template { definition: ResourceTemplate, handler: ErasedResource },
}

impl std::fmt::Debug for Registration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.kind {
            Kind::Tool { definition, .. } => write!(f, "Registration::Tool({})", definition.name),
            Kind::Prompt { definition, .. } => write!(f, "Registration::Prompt({})", definition.name),
            Kind::Resource { definition, .. } => write!(f, "Registration::Resource({})", definition.uri),
            Kind::Template { definition, .. } => write!(f, "Registration::Template({})", definition.uri_template),
        }
    }
}

impl Registration {
    /// A tool.
    pub fn tool<M>(definition: Tool, handler: impl ToolHandler<M>, task_support: Option<TaskSupport>) -> Self {
        Registration { kind: Kind::Tool { definition, handler: handler.into_erased().0, task_support } }
    }

    /// A prompt.
    pub fn prompt<F, Fut>(definition: Prompt, handler: F) -> Self
    where
        F: Fn(PromptArgs, RequestCtx) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<GetPromptResult, ToolError>> + Send + 'static,
    {
        Registration { kind: Kind::Prompt { definition, handler: erase_prompt(handler) } }
    }

    /// A resource, or a resource template when `uri` contains `{`.
    pub fn resource<F, Fut>(
        uri: &str,
        name: &str,
        mime_type: Option<&str>,
        description: Option<&str>,
        handler: F,
    ) -> Self
    where
        F: Fn(ResourceRequest, RequestCtx) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Vec<ResourceContents>, ToolError>> + Send + 'static,
    {
        let handler = erase_resource(handler);
        if uri.contains('{') {
            let mut definition = ResourceTemplate::new(uri, name);
            definition.mime_type = mime_type.map(str::to_owned);
            definition.description = description.map(str::to_owned);
            Registration { kind: Kind::Template { definition, handler } }
        } else {
            let mut definition = Resource::new(uri, name);
            definition.mime_type = mime_type.map(str::to_owned);
            definition.description = description.map(str::to_owned);
            Registration { kind: Kind::Resource { definition, handler } }
        }
    }

    pub(crate) fn apply(self, builder: McpServerBuilder) -> McpServerBuilder {
        match self.kind {
            Kind::Tool { definition, handler, task_support } => builder.push_tool(definition, handler, task_support),
            Kind::Prompt { definition, handler } => builder.push_prompt(definition, handler),
            Kind::Resource { definition, handler } => builder.push_resource(definition, handler),
            Kind::Template { definition, handler } => builder.push_template(definition, handler),
        }
    }
}

/// The JSON Schema (2020-12) of `T` as a tool's `inputSchema`: an object at the root.
pub fn input_schema<T: JsonSchema>() -> Map<String, Value> {
    let mut schema = object_schema::<T>();
    schema.entry("type").or_insert_with(|| Value::from("object"));
    schema
}

/// The `inputSchema` of a tool without arguments.
pub fn empty_input_schema() -> Map<String, Value> {
    let mut schema = Map::new();
    schema.insert("type".into(), Value::from("object"));
    schema.insert("additionalProperties".into(), Value::Bool(false));
    schema
}

/// The JSON Schema (2020-12) of `T` as a tool's `outputSchema`.
pub fn output_schema<T: JsonSchema>() -> Map<String, Value> {
    object_schema::<T>()
}

fn object_schema<T: JsonSchema>() -> Map<String, Value> {
    match serde_json::to_value(schemars::schema_for!(T)) {
        Ok(Value::Object(map)) => map,
        _ => Map::new(),
    }
}

/// The arguments a prompt takes, from the schema of its argument struct `T`.
pub fn prompt_arguments<T: JsonSchema>() -> Vec<PromptArgument> {
    let schema = object_schema::<T>();
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let Some(properties) = schema.get("properties").and_then(Value::as_object) else { return Vec::new() };
    properties
        .iter()
        .map(|(name, property)| {
            let mut argument = PromptArgument::new(name.clone());
            argument.description = property.get("description").and_then(Value::as_str).map(str::to_owned);
            argument.required = Some(required.contains(&name.as_str()));
            argument
        })
        .collect()
}

/// Decodes a prompt's string arguments into its typed argument struct.
pub fn decode_prompt_args<T: serde::de::DeserializeOwned>(args: PromptArgs) -> Result<T, ToolError> {
    let object: Map<String, Value> = args.into_iter().map(|(k, v)| (k, Value::String(v))).collect();
    serde_json::from_value(Value::Object(object))
        .map_err(|e| ToolError::invalid_params(format!("invalid prompt arguments: {e}")))
}
