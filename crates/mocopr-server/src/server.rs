//! [`McpServer`]: the registries, validated and pre-serialized when the server was built, and
//! the layers around them.

use std::collections::HashMap;
use std::sync::Arc;

use bytes::Bytes;

use mocopr_core::ProtocolVersion;
use mocopr_core::service::Extensions;
use mocopr_core::types::{Implementation, Prompt, Resource, ResourceTemplate, ServerCapabilities, TaskSupport, Tool};

use crate::handler::StateMap;
use crate::layering::McpService;
use crate::paging::{CacheHints, PagedList};
use crate::registration::{ErasedCompletion, ErasedPrompt, ErasedResource, ErasedTool};
use crate::uri_template::UriTemplate;

pub use crate::builder::McpServerBuilder;

/// An MCP server: a tower `Service<McpRequest>` (its layers included), cheap to clone. Serve it
/// over stdio ([`serve_stdio`](crate::serve_stdio)), as a Streamable HTTP endpoint
/// ([`into_http`](McpServer::into_http), mountable in an axum `Router`), or over any framed
/// connection ([`serve_connection`](crate::serve_connection)).
#[derive(Clone)]
pub struct McpServer {
    pub(crate) inner: Arc<ServerInner>,
    /// The layers, outermost first; `None` for a bare server.
    pub(crate) layered: Option<Arc<Layered>>,
}

/// The service stack of a server with layers, and what the layers left behind for the
/// application.
pub(crate) struct Layered {
    pub(crate) stack: McpService,
    pub(crate) extensions: Extensions,
}

impl std::fmt::Debug for McpServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("McpServer").field("registry", &self.inner).field("layered", &self.layered.is_some()).finish()
    }
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

/// Items per list page, unless set with
/// [`with_page_size`](McpServerBuilder::with_page_size).
pub(crate) const DEFAULT_PAGE_SIZE: usize = 100;
/// Freshness of list results and `server/discover`, unless set with
/// [`with_list_cache_hints`](McpServerBuilder::with_list_cache_hints).
pub(crate) const DEFAULT_LIST_TTL_MS: u64 = 60_000;

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
    pub(crate) states: Arc<StateMap>,
    pub(crate) read_hints: CacheHints,
    pub(crate) state_signer: crate::request_state::StateSigner,
    pub(crate) limits: crate::limits::ServerLimits,
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
    ///
    /// ```
    /// use mocopr_server::McpServer;
    ///
    /// let server = McpServer::builder()
    ///     .with_name("hello")
    ///     .tool("hello", || async { "Hello, world!" })
    ///     .build()
    ///     .unwrap();
    /// assert_eq!(server.info().name, "hello");
    /// ```
    pub fn builder() -> McpServerBuilder {
        McpServerBuilder::default()
    }

    /// What a layer left for the application, by type (e.g. the `MultiLevelCache` of the
    /// facade's `with_cache`).
    pub fn extension<T: Send + Sync + 'static>(&self) -> Option<&T> {
        self.layered.as_ref()?.extensions.get::<T>()
    }

    /// The server's implementation info.
    pub fn info(&self) -> &Implementation {
        &self.inner.info
    }

    /// The Streamable HTTP endpoint serving this server, with in-memory legacy sessions: a
    /// `tower::Service<http::Request<_>>` to mount in an axum `Router` or serve with
    /// [`serve_http`](crate::serve_http).
    ///
    /// ```
    /// use mocopr_server::{EndpointConfig, McpServer};
    ///
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = McpServer::builder().tool("hello", || async { "Hello!" }).build()?;
    /// let app: axum::Router = axum::Router::new().route_service("/mcp", server.into_http(EndpointConfig::default()));
    /// # let _ = app; Ok(()) }
    /// ```
    #[cfg(feature = "http")]
    pub fn into_http(
        self,
        config: mocopr_transport::http::EndpointConfig,
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
    ///
    /// ```
    /// use std::sync::Arc;
    /// use mocopr_server::{EndpointConfig, McpServer};
    /// use mocopr_transport::http::{InMemoryEventStore, InMemorySessionStore};
    ///
    /// # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = McpServer::builder().tool("hello", || async { "Hello!" }).build()?;
    /// // In production: RedisSessionStore / RedisEventStore (feature `redis`), shared by every process.
    /// let sessions = Arc::new(InMemorySessionStore::new(10_000));
    /// let events = Arc::new(InMemoryEventStore::new(1_000));
    /// let endpoint = server.into_http_with_stores(EndpointConfig::default(), sessions, events);
    /// let app: axum::Router = axum::Router::new().route_service("/mcp", endpoint);
    /// # let _ = app; Ok(()) }
    /// ```
    #[cfg(feature = "http")]
    pub fn into_http_with_stores(
        self,
        config: mocopr_transport::http::EndpointConfig,
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
