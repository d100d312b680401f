//! # mocopr-client
//!
//! A dual-era MCP client. It works out the server's revision (a `server/discover` probe, then
//! `initialize` for legacy servers), adds the per-request `_meta` modern servers need, runs the
//! MRTR loop for calls that ask for input, answers legacy server-to-client requests through the
//! same [`InputHandler`], and cancels calls that time out.
//!
//! Connects to a child process over stdio, to any framed connection (the in-memory pair), or
//! (feature `http`) to a Streamable HTTP endpoint through a bounded, health-checked connection
//! pool. Lists come as streams that fetch page by page ([`McpClient::tools`]) or collected
//! ([`McpClient::list_tools`]); [`McpClient::listen`] turns change notifications into a stream
//! in both eras; [`CallOptions`] give a call its own timeout and a progress callback; an
//! [`EraCache`] remembers each server's era; a [`ResultCache`] (off by default) keeps results
//! for their `ttlMs`; an expired legacy HTTP session is re-initialized.
//!
//! Every request has a `tracing` span `mcp.request` named and attributed after OpenTelemetry's
//! conventions for MCP clients (`tools/call get_weather`, kind `client`); with the
//! `opentelemetry` feature its W3C trace context travels in `params._meta` (`traceparent`,
//! `tracestate`), so the server's span is its child in the same trace. (The entries of a
//! [`McpClient::request_batch`] carry the caller's context and have no span of their own.)
//!
//! ```no_run
//! # async fn run() -> Result<(), mocopr_client::ClientError> {
//! let mut command = tokio::process::Command::new("my-mcp-server");
//! command.arg("stdio");
//! let (client, child) = mocopr_client::McpClient::builder().connect_child(command).await?;
//! for tool in client.list_tools().await? {
//!     println!("{}", tool.name);
//! }
//! let result = client.call_tool("echo", serde_json::json!({"text": "hi"})).await?;
//! # let _ = (result, child);
//! # Ok(()) }
//! ```

#![deny(missing_docs)]
#![forbid(unsafe_code)]

#[cfg(feature = "http")]
mod authorizer;
mod builder;
mod cache;
mod calls;
mod client;
mod era;
mod error;
mod handler;
#[cfg(feature = "http")]
mod http;
#[cfg(feature = "oauth")]
#[cfg_attr(docsrs, doc(cfg(feature = "oauth")))]
pub mod oauth;
mod options;
mod paging;
mod routes;
mod span;
mod subscription;

#[cfg(feature = "http")]
pub use authorizer::{Authorizer, BearerToken, Challenge};
pub use builder::McpClientBuilder;
pub use cache::ResultCache;
pub use calls::MAX_INPUT_ROUNDS;
pub use client::{MAX_PENDING, McpClient, ServerFacts};
pub use era::{ERA_CACHE_CAPACITY, EraCache};
pub use error::ClientError;
pub use handler::{InputHandler, NoInput};
pub use options::CallOptions;
pub use paging::MAX_PAGES;
pub use subscription::Subscription;
