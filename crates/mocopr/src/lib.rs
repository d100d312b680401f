//! # MoCoPr
//!
//! A Rust SDK for the [Model Context Protocol](https://modelcontextprotocol.io): the stateless
//! 2026-07-28 revision and the legacy 2025-11-25 / 2025-06-18 / 2025-03-26 revisions, served
//! dual-era. This crate is a thin facade: it re-exports the `mocopr-*` crates behind features
//! and offers a [`prelude`].
//!
//! ```no_run
//! use mocopr::prelude::*;
//!
//! #[derive(serde::Deserialize, schemars::JsonSchema)]
//! struct Echo {
//!     /// The text to send back.
//!     text: String,
//! }
//!
//! /// Sends its input back.
//! #[tool]
//! async fn echo(Args(p): Args<Echo>) -> String {
//!     p.text
//! }
//!
//! #[tokio::main]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     let server = McpServer::builder().with_name("echo").register(echo_tool()).build()?;
//!     serve_stdio(server, Default::default()).await?;
//!     Ok(())
//! }
//! ```
//!
//! | feature | enables | default |
//! |---|---|---|
//! | `server` | [`server`]: `McpServer`, handlers, middleware layers | yes |
//! | `client` | [`client`]: `McpClient` (era detection, MRTR loop) over stdio, in-memory pairs and HTTP (pooled connections) | yes |
//! | `cache` | [`cache`]: `MultiLevelCache` (L1 + Redis L2), `CacheLayer`, `McpServer::builder().with_cache(..)` | yes |
//! | `metrics` | [`metrics`]: `MetricsCollector` (Prometheus), `MetricsLayer`, `.with_metrics(..)` | yes |
//! | `profiling` | [`profiling`]: `Profiler` (CPU flamegraphs, allocation counting, request tracing), `.with_profiler(..)` | yes |
//! | `dashboard` | [`dashboard`]: `PerformanceDashboard` (`/metrics`, `/health`, `/debug/pprof/profile`, a live page) as an axum `Router` | yes |
//! | `auth` | `auth`: `ResourceServer` (OAuth 2.1 resource server layer: metadata, JWT / introspection verifiers, scopes) | no |
//! | `oauth` | `client::oauth`: the OAuth 2.1 client in `McpClientBuilder::with_oauth` (discovery, client registration, PKCE, refresh, step-up, DPoP, client credentials, token stores) | no |
//! | `tls` | HTTPS with rustls: `serve_http(..).with_tls(..)`, `https://` in `connect_http`, HTTP/2 by ALPN (`transport::tls`) | no |
//! | `opentelemetry` | the caller's W3C trace context (`_meta.traceparent`) as the parent of the server's request span; the client injects its span's context | no |
//! | `otlp` | `profiling::OtlpTracing`: spans exported over OTLP/HTTP (`opentelemetry-otlp`) | no |
//! | `redis` | Redis session and event stores: several server processes behind one endpoint | no |
//! | `batch` | [`batch`]: `BatchProcessor` (batch arrays for 2025-03-26, bounded pipelining otherwise) | yes |
//! | `stdio` | [`transport`]: stdio, child process, in-memory pair | yes |
//! | `http` | Streamable HTTP server (`McpServer::into_http`, `serve_http`) | yes |
//! | `macros` | `#[tool]`, `#[prompt]`, `#[resource]` | yes |
//! | `runtime` | [`runtime`]: `RuntimeConfig` (worker and blocking threads, stack size, keep-alive) | yes |
//! | `full` | everything available today | no |

#![deny(missing_docs)]
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

/// The protocol model (always available).
pub use mocopr_core as core;

/// Transports: stdio, child process, in-memory pair, and (feature `http`) Streamable HTTP.
#[cfg(feature = "stdio")]
#[cfg_attr(docsrs, doc(cfg(feature = "stdio")))]
pub use mocopr_transport as transport;

/// The server.
#[cfg(feature = "server")]
#[cfg_attr(docsrs, doc(cfg(feature = "server")))]
pub use mocopr_server as server;

/// The client.
#[cfg(feature = "client")]
#[cfg_attr(docsrs, doc(cfg(feature = "client")))]
pub use mocopr_client as client;

/// The batch processor.
#[cfg(feature = "batch")]
#[cfg_attr(docsrs, doc(cfg(feature = "batch")))]
pub use mocopr_batch as batch;

/// The multi-level cache and its layer (`with_cache` is on [`layers::ServerBuilderExt`]).
#[cfg(feature = "cache")]
#[cfg_attr(docsrs, doc(cfg(feature = "cache")))]
pub use mocopr_cache as cache;

#[cfg(feature = "auth")]
#[cfg_attr(docsrs, doc(cfg(feature = "auth")))]
pub use mocopr_auth as auth;

/// Prometheus metrics and their layer.
#[cfg(feature = "metrics")]
#[cfg_attr(docsrs, doc(cfg(feature = "metrics")))]
pub use mocopr_metrics as metrics;

/// The profiler: CPU flamegraphs, allocation counting, request tracing.
#[cfg(feature = "profiling")]
#[cfg_attr(docsrs, doc(cfg(feature = "profiling")))]
pub use mocopr_profiling as profiling;

/// The operations endpoints: `/metrics`, `/health`, CPU profiles, a live page.
#[cfg(feature = "dashboard")]
#[cfg_attr(docsrs, doc(cfg(feature = "dashboard")))]
pub mod dashboard;

/// The Tokio runtime, configured: `RuntimeConfig::builder()...build()?.block_on(main)`.
#[cfg(feature = "runtime")]
#[cfg_attr(docsrs, doc(cfg(feature = "runtime")))]
pub mod runtime;

/// The built-in layers in one call each: `McpServer::builder().with_cache(..).with_metrics(..)
/// .with_profiler(..)`.
#[cfg(feature = "layers")]
#[cfg_attr(docsrs, doc(cfg(feature = "layers")))]
pub mod layers;

/// `#[tool]`, `#[prompt]`, `#[resource]`.
#[cfg(feature = "macros")]
#[cfg_attr(docsrs, doc(cfg(feature = "macros")))]
pub use mocopr_macros::{prompt, resource, tool};

/// The guide (`docs/guide/`), one module per chapter.
#[cfg(any(doc, doctest))]
pub mod guide;

/// The README's programs, compiled (and the first run) as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
pub struct ReadmeDoctests;

/// JSON Schema derivation (the `JsonSchema` derive used by `Args<T>` and `Structured<T>`).
#[cfg(feature = "server")]
pub use schemars;

/// What a first server and client need.
pub mod prelude {
    pub use mocopr_core::types::{
        CallToolResult, CompleteRequestParams, Completion, ContentBlock, GetPromptResult, Prompt, PromptArgument,
        PromptMessage, Resource, ResourceContents, ResourceTemplate, Role, Tool, ToolAnnotations,
    };
    pub use mocopr_core::{ErrorCode, ErrorObject, ProtocolVersion};

    #[cfg(feature = "server")]
    pub use mocopr_server::{
        Args, HandlerError, McpServer, Principal, RequestCtx, ResourceStream, ResourceUri, ServerError, State,
        StdioConfig, Structured, TaskSupport, serve_stdio,
    };

    #[cfg(feature = "macros")]
    pub use mocopr_macros::{prompt, resource, tool};

    #[cfg(feature = "client")]
    pub use mocopr_client::{ClientError, InputHandler, McpClient};

    #[cfg(feature = "batch")]
    pub use mocopr_batch::{BatchProcessor, ToolCall};

    #[cfg(feature = "layers")]
    pub use crate::layers::ServerBuilderExt;
    #[cfg(feature = "cache")]
    pub use mocopr_cache::{CacheConfig, RedisConfig};
    #[cfg(feature = "metrics")]
    pub use mocopr_metrics::MetricsCollector;
    #[cfg(feature = "profiling")]
    pub use mocopr_profiling::Profiler;

    #[cfg(all(feature = "server", feature = "http"))]
    pub use mocopr_server::{EndpointConfig, ListenerConfig, serve_http};
}
