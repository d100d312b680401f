//! [`McpServerBuilder`]: what the server offers and how it behaves, validated, sorted and
//! pre-serialized at `build()`.
//!
//! Every setter is `with_*`; the methods that add an item are named for it (`tool`, `prompt`,
//! `resource`, `completion`, `register`, `layer`).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use serde_json::Value;

use mocopr_core::ProtocolVersion;
use mocopr_core::meta::SERVER_INFO_KEY;
use mocopr_core::service::Extensions;
use mocopr_core::types::{
    CacheScope, Implementation, ListChangedCapability, Prompt, Resource, ResourceTemplate, ResourcesCapability,
    ServerCapabilities, TaskSupport, Tool,
};

use crate::error::ServerError;
use crate::handler::{Handler, IntoCompletion, IntoPromptResult, IntoResourceResult, IntoToolResult, StateMap};
use crate::layering::{LayerContext, MakeLayer, ServerLayer};
use crate::paging::{CacheHints, PagedList};
use crate::registration::{Kind, Needs, Registration, ResourceDefinition};
use crate::server::{
    DEFAULT_LIST_TTL_MS, DEFAULT_PAGE_SIZE, Layered, McpServer, ServerInner, TemplateEntry, ToolEntry,
};
use crate::uri_template::UriTemplate;

/// Builds an [`McpServer`]: see [`McpServer::builder`].
#[derive(Default)]
pub struct McpServerBuilder {
    name: Option<String>,
    version: Option<String>,
    title: Option<String>,
    instructions: Option<String>,
    registrations: Vec<Registration>,
    states: StateMap,
    layers: Vec<MakeLayer>,
    page_size: Option<usize>,
    list_hints: Option<CacheHints>,
    read_hints: Option<CacheHints>,
    versions: Option<Vec<ProtocolVersion>>,
    state_key: Option<Vec<u8>>,
    previous_state_keys: Vec<Vec<u8>>,
    state_ttl: Option<Duration>,
    limits: crate::limits::ServerLimits,
}

impl std::fmt::Debug for McpServerBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("McpServerBuilder")
            .field("name", &self.name)
            .field("registrations", &self.registrations)
            .field("states", &self.states)
            .field("layers", &self.layers.len())
            .finish_non_exhaustive()
    }
}

impl McpServerBuilder {
    /// Sets the server's programmatic name (`serverInfo.name`; default `mocopr-server`).
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Sets the server's version (`serverInfo.version`; default: this crate's version).
    pub fn with_version(mut self, version: impl Into<String>) -> Self {
        self.version = Some(version.into());
        self
    }

    /// Sets the server's display name.
    pub fn with_title(mut self, title: impl Into<String>) -> Self {
        self.title = Some(title.into());
        self
    }

    /// Sets the guidance for the model, sent in `server/discover` and `initialize`.
    pub fn with_instructions(mut self, instructions: impl Into<String>) -> Self {
        self.instructions = Some(instructions.into());
        self
    }

    /// Gives handlers the application state `value`, which they take as `State<T>` (one value
    /// per type; a second call with the same type replaces the first).
    ///
    /// ```
    /// use std::sync::Arc;
    /// use mocopr_server::{McpServer, State};
    ///
    /// #[derive(Clone, Default)]
    /// struct Counter(Arc<std::sync::atomic::AtomicU64>);
    ///
    /// async fn next(State(counter): State<Counter>) -> String {
    ///     counter.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed).to_string()
    /// }
    ///
    /// let server = McpServer::builder().with_state(Counter::default()).tool("next", next).build();
    /// assert!(server.is_ok());
    /// ```
    pub fn with_state<T: Clone + Send + Sync + 'static>(mut self, value: T) -> Self {
        self.states.insert(value);
        self
    }

    /// Registers a tool: `definition` (its name, or a [`Tool`]) served by an async `handler`
    /// (see [`handler`](crate::handler)). The input schema comes from the handler's `Args<T>`
    /// and the output schema from a `Structured<T>` return type, unless `definition` sets them.
    ///
    /// ```
    /// use mocopr_server::{Args, McpServer};
    /// use mocopr_core::types::Tool;
    ///
    /// #[derive(serde::Deserialize, schemars::JsonSchema)]
    /// struct Echo {
    ///     /// What to send back.
    ///     text: String,
    /// }
    ///
    /// let server = McpServer::builder()
    ///     .tool(Tool::new("echo").with_description("Sends its input back."), |Args(p): Args<Echo>| async move { p.text })
    ///     .build()
    ///     .unwrap();
    /// assert_eq!(server.tools().next().unwrap().input_schema["required"][0], "text");
    /// ```
    pub fn tool<H, T>(self, definition: impl Into<Tool>, handler: H) -> Self
    where
        H: Handler<T>,
        H::Output: IntoToolResult,
    {
        self.register(Registration::tool(definition, handler))
    }

    /// Registers a tool that may run as a task (tasks extension): when the client declares the
    /// extension and the handler does not finish at once, the call becomes a task the client
    /// polls. With [`TaskSupport::Required`], clients that do not declare the extension get
    /// `-32021`.
    ///
    /// ```
    /// use mocopr_server::{McpServer, TaskSupport};
    ///
    /// async fn report() -> &'static str {
    ///     tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    ///     "done"
    /// }
    /// let server = McpServer::builder().task_tool("report", report, TaskSupport::Optional).build();
    /// assert!(server.is_ok());
    /// ```
    pub fn task_tool<H, T>(self, definition: impl Into<Tool>, handler: H, support: TaskSupport) -> Self
    where
        H: Handler<T>,
        H::Output: IntoToolResult,
    {
        self.register(Registration::task_tool(definition, handler, support))
    }

    /// Registers a prompt: `definition` (its name, or a [`Prompt`]) rendered by `handler`. The
    /// arguments come from the handler's `Args<T>` unless `definition` lists them.
    ///
    /// ```
    /// use mocopr_server::{Args, McpServer};
    ///
    /// #[derive(serde::Deserialize, schemars::JsonSchema)]
    /// struct Greet {
    ///     /// Who to greet.
    ///     name: String,
    /// }
    ///
    /// let server = McpServer::builder()
    ///     .prompt("greet", |Args(p): Args<Greet>| async move { format!("Say hello to {}.", p.name) })
    ///     .build();
    /// assert!(server.is_ok());
    /// ```
    pub fn prompt<H, T>(self, definition: impl Into<Prompt>, handler: H) -> Self
    where
        H: Handler<T>,
        H::Output: IntoPromptResult,
    {
        self.register(Registration::prompt(definition, handler))
    }

    /// Registers a resource read by `handler`: `definition` is a URI, a [`Resource`] or a
    /// [`ResourceTemplate`]. A URI with an RFC 6570 expression (`{…}`) registers a template,
    /// whose variables the handler takes as `Args<T>`. A handler that returns a
    /// [`ResourceStream`](crate::ResourceStream) is encoded as its bytes arrive.
    ///
    /// ```
    /// use std::collections::BTreeMap;
    /// use mocopr_server::{Args, McpServer, ResourceUri};
    /// use mocopr_core::types::{Resource, ResourceContents};
    ///
    /// let server = McpServer::builder()
    ///     .resource(Resource::new("mem://hello", "hello").with_mime_type("text/plain"), || async { "hello" })
    ///     .resource("users://{id}", |ResourceUri(uri): ResourceUri, Args(v): Args<BTreeMap<String, String>>| async move {
    ///         ResourceContents::text(uri, format!("user {}", v["id"]))
    ///     })
    ///     .build();
    /// assert!(server.is_ok());
    /// ```
    pub fn resource<H, T>(self, definition: impl Into<ResourceDefinition>, handler: H) -> Self
    where
        H: Handler<T>,
        H::Output: IntoResourceResult,
    {
        self.register(Registration::resource(definition, handler))
    }

    /// Registers the argument-completion handler (advertises `completions`).
    ///
    /// ```
    /// use mocopr_server::McpServer;
    /// use mocopr_core::types::CompleteRequestParams;
    ///
    /// let server = McpServer::builder()
    ///     .completion(|p: CompleteRequestParams| async move {
    ///         ["alice", "bob"].iter().filter(|n| n.starts_with(&p.argument.value)).map(|n| n.to_string()).collect::<Vec<_>>()
    ///     })
    ///     .build();
    /// assert!(server.is_ok());
    /// ```
    pub fn completion<H, T>(self, handler: H) -> Self
    where
        H: Handler<T>,
        H::Output: IntoCompletion,
    {
        self.register(Registration::completion(handler))
    }

    /// Registers a bundled primitive (what `#[tool]`, `#[prompt]` and `#[resource]` produce,
    /// or one made at run time).
    pub fn register(mut self, registration: Registration) -> Self {
        self.registrations.push(registration);
        self
    }

    /// Wraps the server, and every layer added before, in `layer`: any tower `Layer` over
    /// [`McpService`](crate::McpService), or a [`ServerLayer`] that needs to see the server.
    /// The last layer added sees a request first (axum's `Router::layer` rule). Errors of a
    /// layer (a timeout, an overload) are answered as JSON-RPC errors.
    ///
    /// ```
    /// use std::time::Duration;
    /// use mocopr_server::McpServer;
    /// use mocopr_server::layer::{ConcurrencyLimitLayer, TimeoutLayer};
    ///
    /// let server = McpServer::builder()
    ///     .tool("hello", || async { "Hello!" })
    ///     .layer(ConcurrencyLimitLayer::new(64))
    ///     .layer(TimeoutLayer::new(Duration::from_secs(30))) // sees requests first
    ///     .build();
    /// assert!(server.is_ok());
    /// ```
    pub fn layer<L: ServerLayer>(mut self, layer: L) -> Self {
        self.layers.push(Box::new(move |cx: &mut LayerContext<'_>, inner| layer.wrap(cx, inner)));
        self
    }

    /// Sets the bounds on what a client may make the server store or process (default:
    /// [`ServerLimits::default`](crate::ServerLimits), chosen for a public endpoint).
    ///
    /// ```
    /// use mocopr_server::{McpServer, ServerLimits};
    ///
    /// let server = McpServer::builder()
    ///     .with_limits(ServerLimits::builder().with_max_handshake_size(4096).build())
    ///     .build()
    ///     .expect("server");
    /// # let _ = server;
    /// ```
    pub fn with_limits(mut self, limits: crate::limits::ServerLimits) -> Self {
        self.limits = limits;
        self
    }

    /// Sets the items per list page (default 100).
    pub fn with_page_size(mut self, items: usize) -> Self {
        self.page_size = Some(items);
        self
    }

    /// Sets the caching hints of list results and `server/discover` (default 60 s, public).
    pub fn with_list_cache_hints(mut self, ttl_ms: u64, scope: CacheScope) -> Self {
        self.list_hints = Some(CacheHints { ttl_ms, scope });
        self
    }

    /// Sets the caching hints of `resources/read` results (default 0 ms, private).
    pub fn with_read_cache_hints(mut self, ttl_ms: u64, scope: CacheScope) -> Self {
        self.read_hints = Some(CacheHints { ttl_ms, scope });
        self
    }

    /// Sets the revisions served (default: all of [`ProtocolVersion::ALL`]).
    pub fn with_protocol_versions(mut self, versions: &[ProtocolVersion]) -> Self {
        self.versions = Some(versions.to_vec());
        self
    }

    /// Sets the key that signs `requestState` tokens (at least 32 bytes; `build` refuses a
    /// shorter one). Give every process behind one load balancer the same key so a retry may
    /// land on any of them; by default each server draws a random key.
    ///
    /// ```
    /// use mocopr_server::McpServer;
    ///
    /// let key = b"a shared secret of 32 bytes or more";
    /// let server = McpServer::builder().with_request_state_key(key.to_vec()).build().expect("server");
    /// # let _ = server;
    /// assert!(McpServer::builder().with_request_state_key(b"short".to_vec()).build().is_err());
    /// ```
    pub fn with_request_state_key(mut self, key: impl Into<Vec<u8>>) -> Self {
        self.state_key = Some(key.into());
        self
    }

    /// Also accepts `requestState` tokens signed with `key` (never signs with it): to rotate,
    /// give every process the new key with [`with_request_state_key`](Self::with_request_state_key)
    /// and the old one here, until the old tokens have expired.
    pub fn with_previous_request_state_key(mut self, key: impl Into<Vec<u8>>) -> Self {
        self.previous_state_keys.push(key.into());
        self
    }

    /// Sets how long a `requestState` stays valid (default 10 minutes).
    pub fn with_request_state_ttl(mut self, ttl: Duration) -> Self {
        self.state_ttl = Some(ttl);
        self
    }

    /// Validates everything, pre-serializes the lists and wraps the layers.
    pub fn build(self) -> Result<McpServer, ServerError> {
        let mut info = Implementation::new(
            self.name.unwrap_or_else(|| "mocopr-server".into()),
            self.version.unwrap_or_else(|| env!("CARGO_PKG_VERSION").into()),
        );
        info.title = self.title;
        let short = |key: &Vec<u8>| key.len() < crate::request_state::MIN_KEY_LENGTH;
        if self.state_key.as_ref().is_some_and(short) || self.previous_state_keys.iter().any(short) {
            return Err(ServerError::InvalidConfig {
                setting: "request_state_key",
                reason: "a requestState key must be at least 32 bytes",
            });
        }
        let state_signer = crate::request_state::StateSigner::new(
            self.state_key.clone(),
            self.previous_state_keys.clone(),
            self.state_ttl.unwrap_or(crate::request_state::DEFAULT_REQUEST_STATE_TTL),
        )
        .map_err(|_| ServerError::InvalidConfig {
            setting: "request_state_key",
            reason: "no key given and the OS random source failed",
        })?;
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

        let states = self.states;
        let check_states = |kind: &'static str, name: &str, needed: &Needs| {
            if needed.input_takers > 1 {
                return Err(ServerError::InputsTakenTwice { kind, name: name.to_owned() });
            }
            match needed.states.iter().find(|(id, _)| !states.contains(*id)) {
                Some((_, state)) => Err(ServerError::MissingState { kind, name: name.to_owned(), state }),
                None => Ok(()),
            }
        };
        let mut registry = Registry::default();
        for registration in self.registrations {
            match registration.kind {
                Kind::Tool { definition, handler, task_support, needs: needed } => {
                    check_states("tool", &definition.name, &needed)?;
                    registry.add_tool(definition, handler, task_support)?;
                }
                Kind::Prompt { definition, handler, needs: needed } => {
                    check_states("prompt", &definition.name, &needed)?;
                    if registry.prompts.insert(definition.name.clone(), handler).is_some() {
                        return Err(ServerError::Duplicate { kind: "prompt", name: definition.name });
                    }
                    registry.prompt_defs.push((definition.name.clone(), definition));
                }
                Kind::Resource { definition, handler, needs: needed } => {
                    check_states("resource", &definition.uri, &needed)?;
                    if registry.resources.insert(definition.uri.clone(), handler).is_some() {
                        return Err(ServerError::Duplicate { kind: "resource", name: definition.uri });
                    }
                    registry.resource_defs.push((definition.uri.clone(), definition));
                }
                Kind::Template { definition, handler, needs: needed } => {
                    check_states("resource template", &definition.uri_template, &needed)?;
                    registry.add_template(definition, handler)?;
                }
                Kind::Completion { handler, needs: needed } => {
                    check_states("completion", "completion/complete", &needed)?;
                    registry.completion = Some(handler);
                }
            }
        }

        let capabilities = registry.capabilities();
        let modern_versions: Vec<_> = versions.iter().copied().filter(|v| v.is_modern()).collect();
        let discover = discover_bytes(&versions, &capabilities, self.instructions.as_deref(), list_hints, &server_meta);
        let list = |field, items| PagedList::new(field, items, page_size, list_hints, server_meta.clone());
        let bare = McpServer {
            inner: Arc::new(ServerInner {
                info,
                instructions: self.instructions,
                capabilities,
                versions,
                modern_versions,
                discover,
                tool_list: list("tools", registry.tool_defs),
                tools: registry.tools,
                prompt_list: PagedList::new(
                    "prompts",
                    registry.prompt_defs,
                    page_size,
                    list_hints,
                    server_meta.clone(),
                ),
                prompts: registry.prompts,
                resource_list: PagedList::new(
                    "resources",
                    registry.resource_defs,
                    page_size,
                    list_hints,
                    server_meta.clone(),
                ),
                resources: registry.resources,
                template_list: PagedList::new(
                    "resourceTemplates",
                    registry.template_defs,
                    page_size,
                    list_hints,
                    server_meta.clone(),
                ),
                templates: registry.templates,
                completion: registry.completion,
                states: Arc::new(states),
                read_hints,
                changes: crate::changes::ChangeNotifier::default(),
                tasks: crate::tasks::TaskStore::new(
                    self.limits.max_tasks,
                    self.limits.max_tasks_per_caller,
                    self.limits.task_ttl,
                ),
                state_signer,
                server_meta,
                limits: self.limits,
            }),
            layered: None,
        };
        if self.layers.is_empty() {
            return Ok(bare);
        }
        let mut extensions = Extensions::new();
        let mut stack = crate::layering::boxed(bare.clone());
        for make in self.layers {
            let mut cx = LayerContext { server: &bare, extensions: &mut extensions };
            stack = make(&mut cx, stack)?;
        }
        Ok(McpServer { inner: bare.inner, layered: Some(Arc::new(Layered { stack, extensions })) })
    }
}

/// The registries while they are being filled.
#[derive(Default)]
struct Registry {
    tools: HashMap<String, ToolEntry>,
    tool_defs: Vec<(String, Tool)>,
    any_task: bool,
    prompts: HashMap<String, crate::registration::ErasedPrompt>,
    prompt_defs: Vec<(String, Prompt)>,
    resources: HashMap<String, crate::registration::ErasedResource>,
    resource_defs: Vec<(String, Resource)>,
    templates: Vec<TemplateEntry>,
    template_defs: Vec<(String, ResourceTemplate)>,
    completion: Option<crate::registration::ErasedCompletion>,
}

impl Registry {
    fn add_tool(
        &mut self,
        def: Tool,
        handler: crate::registration::ErasedTool,
        task_support: Option<TaskSupport>,
    ) -> Result<(), ServerError> {
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
        let param_headers = mocopr_core::x_mcp_header::extract_param_headers(&Value::Object(def.input_schema.clone()))
            .map_err(|e| ServerError::InvalidSchema {
                tool: def.name.clone(),
                which: "input (x-mcp-header)",
                reason: e.to_string(),
            })?;
        self.any_task |= task_support.is_some();
        let entry = ToolEntry { handler, task_support, param_headers, input_validator, output_validator };
        if self.tools.insert(def.name.clone(), entry).is_some() {
            return Err(ServerError::Duplicate { kind: "tool", name: def.name });
        }
        self.tool_defs.push((def.name.clone(), def));
        Ok(())
    }

    fn add_template(
        &mut self,
        def: ResourceTemplate,
        handler: crate::registration::ErasedResource,
    ) -> Result<(), ServerError> {
        let template = UriTemplate::parse(&def.uri_template)
            .map_err(|_| ServerError::InvalidTemplate { template: def.uri_template.clone() })?;
        if self.template_defs.iter().any(|(k, _)| *k == def.uri_template) {
            return Err(ServerError::Duplicate { kind: "resource template", name: def.uri_template });
        }
        self.templates.push(TemplateEntry { template, handler });
        self.template_defs.push((def.uri_template.clone(), def));
        Ok(())
    }

    /// What the server advertises, from what was registered. Changes announced through
    /// `McpServer::changes` reach every listen stream, so list changes are always promised.
    fn capabilities(&self) -> ServerCapabilities {
        let mut capabilities = ServerCapabilities::default();
        if !self.tools.is_empty() {
            capabilities.tools = Some(ListChangedCapability::with_list_changed(true));
        }
        if !self.prompts.is_empty() {
            capabilities.prompts = Some(ListChangedCapability::with_list_changed(true));
        }
        if !self.resources.is_empty() || !self.templates.is_empty() {
            let mut caps = ResourcesCapability::default();
            caps.subscribe = Some(true);
            caps.list_changed = Some(true);
            capabilities.resources = Some(caps);
        }
        if self.completion.is_some() {
            capabilities.completions = Some(Default::default());
        }
        capabilities.logging = Some(Default::default());
        if self.any_task {
            capabilities.extensions =
                Some([(mocopr_core::meta::TASKS_EXTENSION.to_owned(), Default::default())].into());
        }
        capabilities
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
