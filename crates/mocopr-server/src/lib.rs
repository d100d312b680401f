//! # mocopr-server
//!
//! A dual-era MCP server: the stateless 2026-07-28 revision and the legacy 2025-11-25 /
//! 2025-06-18 / 2025-03-26 revisions on the same connection, with tools, resources, resource
//! templates, prompts and completions. The server is a `tower::Service<McpRequest>`, so any
//! tower layer wraps it; transports drive it: stdio ([`serve_stdio`]) and Streamable HTTP
//! ([`McpServer::into_http`] gives a `tower::Service<http::Request<_>>` to mount in an axum
//! `Router`, or serve with [`serve_http`]).
//!
//! ```no_run
//! use mocopr_server::{Args, McpServer, ToolError};
//! use mocopr_core::types::Tool;
//!
//! #[derive(serde::Deserialize)]
//! struct Echo { text: String }
//!
//! async fn echo(Args(p): Args<Echo>) -> Result<String, ToolError> {
//!     Ok(p.text)
//! }
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let schema = serde_json::json!({"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]});
//! let server = McpServer::builder()
//!     .name("echo")
//!     .tool(Tool::new("echo", schema.as_object().cloned().unwrap_or_default()), echo)
//!     .build()?;
//! mocopr_server::serve_stdio(server, Default::default()).await?;
//! # Ok(()) }
//! ```

#![deny(missing_docs)]
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod changes;
mod context;
mod dispatch;
mod error;
mod input;
pub mod layer;
mod listen;
mod paging;
mod primitives;
pub mod registration;
mod request_state;
mod server;
mod stream;
mod streaming;
mod tasks;
pub mod tool;
pub mod uri_template;

pub use changes::{CHANGE_QUEUE, Change, ChangeNotifier};
pub use context::RequestCtx;
pub use error::{ServerError, ToolError};
pub use input::DEFAULT_PEER_TIMEOUT;
pub use mocopr_core::types::TaskSupport;
#[cfg(feature = "http")]
pub use mocopr_transport::http::{HttpConfig, ServerConfig, StreamableHttpService, serve_http};
pub use mocopr_transport::{Notifier, Session, SessionState};
pub use primitives::{PromptArgs, ResourceRequest};
pub use registration::Registration;
pub use request_state::DEFAULT_REQUEST_STATE_TTL;
pub use server::{DEFAULT_LIST_TTL_MS, DEFAULT_PAGE_SIZE, McpServer, McpServerBuilder};
pub use stream::{ConnectionConfig, DEFAULT_DRAIN_TIMEOUT, DEFAULT_MAX_IN_FLIGHT, serve_connection, serve_stdio};
pub use streaming::{ResourceStream, StreamEncoding};
pub use tasks::{DEFAULT_MAX_TASKS, DEFAULT_POLL_INTERVAL, DEFAULT_TASK_TTL};
pub use tool::{Args, IntoToolResult, Structured, ToolHandler};

/// What the `mocopr-macros` expansions name; not a stable API.
#[doc(hidden)]
pub mod __private {
    pub use mocopr_core::types::{GetPromptResult, Prompt, ResourceContents, TaskSupport, Tool, ToolAnnotations};
    pub use schemars;
    pub use serde_json;
}
