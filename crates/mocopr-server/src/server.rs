//! [`McpServer`] and its builder: registries are validated, sorted and pre-serialized at
//! `build()`, then only served.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;

use bytes::Bytes;
use serde_json::Value;

use mocopr_core::ProtocolVersion;
use mocopr_core::meta::SERVER_INFO_KEY;
use mocopr_core::types::{
    CacheScope, CompleteRequestParams, Completion, GetPromptResult, Implementation, ListChangedCapability, Prompt,
    Resource, ResourceContents, ResourceTemplate, ResourcesCapability, ServerCapabilities, TaskSupport, Tool,
};

use crate::context::RequestCtx;
use crate::error::{ServerError, ToolError};
use crate::paging::{CacheHints, PagedList};
use crate::primitives::{
    ErasedCompletion, ErasedPrompt, ErasedResource, PromptArgs, ResourceRequest, erase_completion, erase_prompt,
    erase_resource,
};
use crate::tool::{ErasedTool, ToolHandler};
use crate::uri_template::UriTemplate;

/// Default number of items per list page.
pub const DEFAULT_PAGE_SIZE: usize = 100;
/// Default freshness of list results and `server/discover`, in milliseconds.
pub const DEFAULT_LIST_TTL_MS: u64 = 60_000;

/// An MCP server: cheap to clone (an `Arc`), and a tower `Service<McpRequest>`.
#[derive(Debug, Clone)]
pub struct McpServer {
    pub(crate) inner: Arc<ServerInner>,
}

pub(crate) struct ToolEntry {
    pub(crate) handler: ErasedTool,
    /// Whether calls may become tasks (tasks extension).
    pub(crate) task_support: Option<TaskSupport>,
    /// The tool's `x-mcp-header` parameters, checked against `Mcp-Param-*` headers.
    pub(crate) param_headers: Vec<mocopr_core::x_mcp_header::ParamHeader>,
    pub(crate) input_validator: Option<jsonschema::Validator>,
    pub(crate) output_validator: Option<jsonschema::Validator>,
}

pub(crate) struct TemplateEntry {
    pub(crate) template: UriTemplate,
    pub(crate) handler: ErasedResource,
}

pub(crate) struct ServerInner {
    pub(crate) info: Implementation,
    pub(crate) instructions: Option<String>,
    pub(crate) capabilities: ServerCapabilities,
    pub(crate) versions: Vec<ProtocolVersion>,
    pub(crate) modern_versions: Vec<ProtocolVersion>,
    /// `{"io.modelcontextprotocol/serverInfo": ...}`, spliced into modern results.
    pub(crate) server_meta: Bytes,
    pub(crate) discover: Bytes,
    pub(crate) tools: HashMap<String, ToolEntry>,
    pub(crate) tool_list: PagedList<Tool>,
    pub(crate) prompts: HashMap<String, ErasedPrompt>,
    pub(crate) prompt_list: PagedList<Prompt>,
    pub(crate) resources: HashMap<String, ErasedResource>,
    pub(crate) resource_list: PagedList<Resource>,
    pub(crate) templates: Vec<TemplateEntry>,
    pub(crate) template_list: PagedList<ResourceTemplate>,
    pub(crate) completion: Option<ErasedCompletion>,
    pub(crate) read_hints: CacheHints,
    pub(crate) state_signer: crate::request_state::StateSigner,
    pub(crate) changes: crate::changes::ChangeNotifier,
    pub(crate) tasks: crate::tasks::TaskStore,
}

impl std::fmt::Debug for ServerInner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("McpServer")
            .field("info", &self.info)
            .field("tools", &self.tools.len())
            .field("prompts", &self.prompts.len())
            .field("resources", &self.resources.len())
            .field("templates", &self.templates.len())
            .finish()
    }
}

impl McpServer {
    /// Starts building a server.
    pub fn builder() -> McpServerBuilder {
        McpServerBuilder::default()
    }

    /// The server's implementation info.
    pub fn info(&self) -> &Implementation {
        &self.inner.info
    }

    /// The Streamable HTTP endpoint serving this server, with in-memory legacy sessions.
    #[cfg(feature = "http")]
    pub fn into_http(
        self,
        config: mocopr_transport::http::HttpConfig,
    ) -> mocopr_transport::http::StreamableHttpService<McpServer> {
        mocopr_transport::http::StreamableHttpService::new(self, config)
    }

    /// The Streamable HTTP endpoint serving this server with legacy sessions kept in
    /// `sessions` and standalone-stream events in `events`; the server's changes are shared
    /// through `events` at once ([`ChangeNotifier::share`](crate::ChangeNotifier::share)). With
    /// [`RedisSessionStore`](mocopr_transport::http::RedisSessionStore) and
    /// [`RedisEventStore`](mocopr_transport::http::RedisEventStore), several processes serve
    /// one endpoint: any of them can serve any legacy session and resume its stream, and a
    /// change made in one reaches the clients of all. Needs a Tokio runtime.
    #[cfg(feature = "http")]
    pub fn into_http_with_stores(
        self,
        config: mocopr_transport::http::HttpConfig,
        sessions: std::sync::Arc<dyn mocopr_transport::http::SessionStore>,
        events: std::sync::Arc<dyn mocopr_transport::http::EventStore>,
    ) -> mocopr_transport::http::StreamableHttpService<McpServer> {
        self.changes().share(events.clone());
        mocopr_transport::http::StreamableHttpService::with_stores(self, config, sessions, events)
    }

    /// The registered tools' definitions, in list order (e.g. to find the read-only,
    /// idempotent ones a cache may keep results of).
    pub fn tools(&self) -> impl Iterator<Item = &Tool> {
        self.inner.tool_list.items()
    }

    /// Announces changes (list changes, resource updates) to `subscriptions/listen` streams.
    pub fn changes(&self) -> &crate::changes::ChangeNotifier {
        &self.inner.changes
    }

    /// The capabilities the server advertises.
    pub fn capabilities(&self) -> &ServerCapabilities {
        &self.inner.capabilities
    }
}

/// Builds an [`McpServer`].
#[derive(Default)]
pub struct McpServerBuilder {
    name: Option<String>,
    version: Option<String>,
    title: Option<String>,
    instructions: Option<String>,
    tools: Vec<(Tool, ErasedTool, Option<TaskSupport>)>,
    prompts: Vec<(Prompt, ErasedPrompt)>,
    resources: Vec<(Resource, ErasedResource)>,
    templates: Vec<(ResourceTemplate, ErasedResource)>,
    completion: Option<ErasedCompletion>,
    page_size: Option<usize>,
    list_hints: Option<CacheHints>,
    read_hints: Option<CacheHints>,
    versions: Option<Vec<ProtocolVersion>>,
    state_key: Option<Vec<u8>>,
    state_ttl: Option<std::time::Duration>,
}

impl std::fmt::Debug for McpServerBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("McpServerBuilder").field("name", &self.name).field("tools", &self.tools.len()).finish()
    }
}

impl McpServerBuilder {
    /// The server's programmatic name (`serverInfo.name`).
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// The server's version (`serverInfo.version`).
    pub fn version(mut self, version: impl Into<String>) -> Self {
        self.version = Some(version.into());
        self
    }

    /// The server's display name.
    pub fn title(mut self, title: impl Into<String>) -> Self {
        self.title = Some(title.into());
        self
    }

    /// Guidance for the model, sent in `server/discover` and `initialize`.
    pub fn instructions(mut self, instructions: impl Into<String>) -> Self {
        self.instructions = Some(instructions.into());
        self
    }

    /// Registers a tool: its definition and an async handler (see [`crate::tool`]).
    pub fn tool<M>(self, definition: Tool, handler: impl ToolHandler<M>) -> Self {
        self.push_tool(definition, handler.into_erased().0, None)
    }

    /// Registers a bundled primitive (what `#[tool]`, `#[prompt]` and `#[resource]` produce).
    pub fn register(self, registration: crate::registration::Registration) -> Self {
        registration.apply(self)
    }

    pub(crate) fn push_tool(mut self, definition: Tool, handler: ErasedTool, task: Option<TaskSupport>) -> Self {
        self.tools.push((definition, handler, task));
        self
    }

    pub(crate) fn push_prompt(mut self, definition: Prompt, handler: ErasedPrompt) -> Self {
        self.prompts.push((definition, handler));
        self
    }

    pub(crate) fn push_resource(mut self, definition: Resource, handler: ErasedResource) -> Self {
        self.resources.push((definition, handler));
        self
    }

    pub(crate) fn push_template(mut self, definition: ResourceTemplate, handler: ErasedResource) -> Self {
        self.templates.push((definition, handler));
        self
    }

    /// Registers a tool that may run as a task (tasks extension): when the client declares the
    /// extension and the handler does not finish at once, the call becomes a task. With
    /// [`TaskSupport::Required`], clients that do not declare the extension get `-32021`.
    pub fn task_tool<M>(self, definition: Tool, handler: impl ToolHandler<M>, support: TaskSupport) -> Self {
        let support = (support != TaskSupport::Forbidden).then_some(support);
        self.push_tool(definition, handler.into_erased().0, support)
    }

    /// Registers a prompt and the async function that renders it.
    pub fn prompt<F, Fut>(mut self, definition: Prompt, handler: F) -> Self
    where
        F: Fn(PromptArgs, RequestCtx) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<GetPromptResult, ToolError>> + Send + 'static,
    {
        self.prompts.push((definition, erase_prompt(handler)));
        self
    }

    /// Registers a resource and the async function that reads it.
    pub fn resource<F, Fut>(mut self, definition: Resource, handler: F) -> Self
    where
        F: Fn(ResourceRequest, RequestCtx) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Vec<ResourceContents>, ToolError>> + Send + 'static,
    {
        self.resources.push((definition, erase_resource(handler)));
        self
    }

    /// Registers a resource whose contents are streamed: the handler returns a
    /// [`ResourceStream`](crate::ResourceStream) and the server encodes the result as the bytes
    /// arrive, so memory stays bounded whatever the size. A URI with `{variables}` registers a
    /// template.
    pub fn streaming_resource<F, Fut>(self, definition: Resource, handler: F) -> Self
    where
        F: Fn(ResourceRequest, RequestCtx) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<crate::streaming::ResourceStream, ToolError>> + Send + 'static,
    {
        let handler = crate::primitives::erase_streaming_resource(handler);
        if definition.uri.contains('{') {
            let mut template = ResourceTemplate::new(definition.uri.clone(), definition.name.clone());
            template.description = definition.description;
            template.mime_type = definition.mime_type;
            self.push_template(template, handler)
        } else {
            self.push_resource(definition, handler)
        }
    }

    /// Registers a resource template (RFC 6570) and the async function that reads its resources.
    pub fn resource_template<F, Fut>(mut self, definition: ResourceTemplate, handler: F) -> Self
    where
        F: Fn(ResourceRequest, RequestCtx) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Vec<ResourceContents>, ToolError>> + Send + 'static,
    {
        self.templates.push((definition, erase_resource(handler)));
        self
    }

    /// Registers the argument-completion handler (advertises `completions`).
    pub fn completion<F, Fut>(mut self, handler: F) -> Self
    where
        F: Fn(CompleteRequestParams, RequestCtx) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Completion, ToolError>> + Send + 'static,
    {
        self.completion = Some(erase_completion(handler));
        self
    }

    /// Items per list page (default [`DEFAULT_PAGE_SIZE`]).
    pub fn page_size(mut self, items: usize) -> Self {
        self.page_size = Some(items);
        self
    }

    /// Caching hints of list results and `server/discover` (default 60 s, public).
    pub fn list_cache_hints(mut self, ttl_ms: u64, scope: CacheScope) -> Self {
        self.list_hints = Some(CacheHints { ttl_ms, scope });
        self
    }

    /// Caching hints of `resources/read` results (default 0 ms, private).
    pub fn read_cache_hints(mut self, ttl_ms: u64, scope: CacheScope) -> Self {
        self.read_hints = Some(CacheHints { ttl_ms, scope });
        self
    }

    /// The revisions served (default: all of [`ProtocolVersion::ALL`]).
    pub fn protocol_versions(mut self, versions: &[ProtocolVersion]) -> Self {
        self.versions = Some(versions.to_vec());
        self
    }

    /// The key that signs `requestState` tokens. Give every process behind one load balancer the
    /// same key so a retry may land on any of them; by default each server draws a random key.
    pub fn request_state_key(mut self, key: impl Into<Vec<u8>>) -> Self {
        self.state_key = Some(key.into());
        self
    }

    /// How long a `requestState` stays valid (default 10 minutes).
    pub fn request_state_ttl(mut self, ttl: std::time::Duration) -> Self {
        self.state_ttl = Some(ttl);
        self
    }

    /// Validates everything and pre-serializes the lists.
    pub fn build(self) -> Result<McpServer, ServerError> {
        let mut info = Implementation::new(
            self.name.unwrap_or_else(|| "mocopr-server".into()),
            self.version.unwrap_or_else(|| env!("CARGO_PKG_VERSION").into()),
        );
        info.title = self.title;
        let page_size = self.page_size.unwrap_or(DEFAULT_PAGE_SIZE);
        if page_size == 0 {
            return Err(ServerError::InvalidConfig { setting: "page_size", reason: "must be greater than zero" });
        }
        let versions = self.versions.unwrap_or_else(|| ProtocolVersion::ALL.to_vec());
        if versions.is_empty() {
            return Err(ServerError::InvalidConfig { setting: "protocol_versions", reason: "must not be empty" });
        }
        let list_hints =
            self.list_hints.unwrap_or(CacheHints { ttl_ms: DEFAULT_LIST_TTL_MS, scope: CacheScope::Public });
        let read_hints = self.read_hints.unwrap_or(CacheHints { ttl_ms: 0, scope: CacheScope::Private });
        let server_meta =
            Bytes::from(serde_json::to_vec(&serde_json::json!({ SERVER_INFO_KEY: &info })).unwrap_or_default());

        let mut tools = HashMap::new();
        let mut tool_defs = Vec::new();
        let any_task = self.tools.iter().any(|(_, _, support)| support.is_some());
        for (def, handler, task_support) in self.tools {
            mocopr_core::names::validate_tool_name(&def.name)
                .map_err(|source| ServerError::InvalidToolName { name: def.name.clone(), source })?;
            if def.input_schema.get("type").and_then(Value::as_str) != Some("object") {
                return Err(ServerError::InputSchemaNotObject { tool: def.name.clone() });
            }
            let compile = |schema: &serde_json::Map<String, Value>, which| {
                jsonschema::validator_for(&Value::Object(schema.clone())).map_err(|e| ServerError::InvalidSchema {
                    tool: def.name.clone(),
                    which,
                    reason: e.to_string(),
                })
            };
            let input_validator = Some(compile(&def.input_schema, "input")?);
            let output_validator = def.output_schema.as_ref().map(|s| compile(s, "output")).transpose()?;
            let param_headers = mocopr_core::x_mcp_header::extract_param_headers(&Value::Object(
                def.input_schema.clone(),
            ))
            .map_err(|e| ServerError::InvalidSchema {
                tool: def.name.clone(),
                which: "input (x-mcp-header)",
                reason: e.to_string(),
            })?;
            let entry = ToolEntry { handler, task_support, param_headers, input_validator, output_validator };
            if tools.insert(def.name.clone(), entry).is_some() {
                return Err(ServerError::Duplicate { kind: "tool", name: def.name });
            }
            tool_defs.push((def.name.clone(), def));
        }

        let mut prompts = HashMap::new();
        let mut prompt_defs = Vec::new();
        for (def, handler) in self.prompts {
            if prompts.insert(def.name.clone(), handler).is_some() {
                return Err(ServerError::Duplicate { kind: "prompt", name: def.name });
            }
            prompt_defs.push((def.name.clone(), def));
        }

        let mut resources = HashMap::new();
        let mut resource_defs = Vec::new();
        for (def, handler) in self.resources {
            if resources.insert(def.uri.clone(), handler).is_some() {
                return Err(ServerError::Duplicate { kind: "resource", name: def.uri });
            }
            resource_defs.push((def.uri.clone(), def));
        }

        let mut templates = Vec::new();
        let mut template_defs = Vec::new();
        for (def, handler) in self.templates {
            let template = UriTemplate::parse(&def.uri_template).map_err(|_| ServerError::InvalidConfig {
                setting: "resource_template",
                reason: "invalid URI template",
            })?;
            if template_defs.iter().any(|(k, _): &(String, ResourceTemplate)| *k == def.uri_template) {
                return Err(ServerError::Duplicate { kind: "resource template", name: def.uri_template });
            }
            templates.push(TemplateEntry { template, handler });
            template_defs.push((def.uri_template.clone(), def));
        }

        let mut capabilities = ServerCapabilities::default();
        // Changes announced through `McpServer::changes` reach every listen stream.
        if !tools.is_empty() {
            capabilities.tools = Some(ListChangedCapability::with_list_changed(true));
        }
        if !prompts.is_empty() {
            capabilities.prompts = Some(ListChangedCapability::with_list_changed(true));
        }
        if !resources.is_empty() || !templates.is_empty() {
            let mut caps = ResourcesCapability::default();
            caps.subscribe = Some(true);
            caps.list_changed = Some(true);
            capabilities.resources = Some(caps);
        }
        if self.completion.is_some() {
            capabilities.completions = Some(Default::default());
        }
        capabilities.logging = Some(Default::default());
        if any_task {
            capabilities.extensions =
                Some([(mocopr_core::meta::TASKS_EXTENSION.to_owned(), Default::default())].into());
        }

        let modern_versions: Vec<_> = versions.iter().copied().filter(|v| v.is_modern()).collect();
        let discover = discover_bytes(&versions, &capabilities, self.instructions.as_deref(), list_hints, &server_meta);
        let list = |field, items| PagedList::new(field, items, page_size, list_hints, server_meta.clone());
        Ok(McpServer {
            inner: Arc::new(ServerInner {
                info,
                instructions: self.instructions,
                capabilities,
                versions,
                modern_versions,
                discover,
                tool_list: list("tools", tool_defs),
                tools,
                prompt_list: PagedList::new("prompts", prompt_defs, page_size, list_hints, server_meta.clone()),
                prompts,
                resource_list: PagedList::new("resources", resource_defs, page_size, list_hints, server_meta.clone()),
                resources,
                template_list: PagedList::new(
                    "resourceTemplates",
                    template_defs,
                    page_size,
                    list_hints,
                    server_meta.clone(),
                ),
                templates,
                completion: self.completion,
                read_hints,
                changes: crate::changes::ChangeNotifier::default(),
                tasks: crate::tasks::TaskStore::default(),
                state_signer: crate::request_state::StateSigner::new(
                    self.state_key,
                    self.state_ttl.unwrap_or(crate::request_state::DEFAULT_REQUEST_STATE_TTL),
                ),
                server_meta,
            }),
        })
    }
}

fn discover_bytes(
    versions: &[ProtocolVersion],
    capabilities: &ServerCapabilities,
    instructions: Option<&str>,
    hints: CacheHints,
    server_meta: &Bytes,
) -> Bytes {
    let meta: Value = serde_json::from_slice(server_meta).unwrap_or(Value::Null);
    let mut result = serde_json::json!({
        "supportedVersions": versions.iter().map(|v| v.as_str()).collect::<Vec<_>>(),
        "capabilities": capabilities,
        "ttlMs": hints.ttl_ms,
        "cacheScope": hints.scope,
        "resultType": "complete",
        "_meta": meta,
    });
    if let (Some(text), Some(map)) = (instructions, result.as_object_mut()) {
        map.insert("instructions".into(), Value::String(text.into()));
    }
    Bytes::from(serde_json::to_vec(&result).unwrap_or_default())
}
