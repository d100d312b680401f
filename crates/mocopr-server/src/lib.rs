//! # mocopr-server
//!
//! A dual-era MCP server: the stateless 2026-07-28 revision and the legacy 2025-11-25 /
//! 2025-06-18 / 2025-03-26 revisions on the same connection, with tools, resources, resource
//! templates, prompts and completions. Handlers are plain async functions whose arguments are
//! extractors ([`handler`]); schemas come from their types. The server is a
//! `tower::Service<McpRequest>` with its layers inside ([`McpServerBuilder::layer`]), and
//! transports drive it: stdio ([`serve_stdio`]) and Streamable HTTP ([`McpServer::into_http`]
//! gives a `tower::Service<http::Request<_>>` to mount in an axum `Router`, or serve with
//! [`serve_http`]).
//!
//! ```no_run
//! use mocopr_server::{Args, McpServer};
//!
//! #[derive(serde::Deserialize, schemars::JsonSchema)]
//! struct Echo {
//!     /// The text to send back.
//!     text: String,
//! }
//!
//! async fn echo(Args(p): Args<Echo>) -> String {
//!     p.text
//! }
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let server = McpServer::builder().with_name("echo").tool("echo", echo).build()?;
//! mocopr_server::serve_stdio(server, Default::default()).await?;
//! # Ok(()) }
//! ```

#![deny(missing_docs)]
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod builder;
mod changes;
mod context;
mod dispatch;
mod error;
#[cfg(fuzzing)]
#[doc(hidden)]
pub mod fuzzing;
pub mod handler;
mod input;
pub mod layer;
mod layering;
mod limits;
mod listen;
mod paging;
mod panics;
pub mod registration;
mod request_state;
mod server;
mod signal;
mod stream;
mod streaming;
mod tasks;
pub mod uri_template;

pub use changes::{Change, ChangeNotifier};
pub use context::RequestCtx;
pub use error::{HandlerError, ServerError};
pub use handler::{
    Args, FromRequestParts, Handler, HandlerKind, HandlerSignature, IntoCompletion, IntoPromptResult,
    IntoResourceResult, IntoToolResult, RequestParts, ResourceBody, ResourceUri, State, Structured,
};
pub use layering::{LayerContext, McpService, ServerLayer};
pub use limits::{ServerLimits, ServerLimitsBuilder};
pub use mocopr_core::principal::Principal;
pub use mocopr_core::types::TaskSupport;
#[cfg(feature = "http")]
pub use mocopr_transport::http::{EndpointConfig, ListenerConfig, ServeHttp, StreamableHttpService, serve_http};
pub use mocopr_transport::{Notifier, Session, SessionState};
pub use registration::{Registration, ResourceDefinition};
pub use server::{McpServer, McpServerBuilder};
pub use signal::shutdown_signal;
pub use stream::{StdioConfig, StdioConfigBuilder, serve_connection, serve_stdio, serve_stdio_until};
pub use streaming::{ResourceStream, StreamEncoding};

/// What the `mocopr-macros` expansions name; not a stable API.
#[doc(hidden)]
pub mod __private {
    pub use mocopr_core::types::{Prompt, Resource, TaskSupport, Tool, ToolAnnotations};
}
