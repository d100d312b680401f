//! Metrics for MCP servers, on the [`prometheus`] crate.
//!
//! [`MetricsCollector`] owns a Prometheus registry with the request metrics every server wants
//! and any metrics of your own; [`MetricsLayer`] is the tower layer that records them for every
//! request passing through it; [`MetricsCollector::encode`] gives the Prometheus text format to
//! serve at `/metrics`.
//!
//! | metric | kind | labels |
//! |---|---|---|
//! | `{ns}_requests_total` | counter | `method`, `status` (`ok` / `error` / `cancelled`: dropped unanswered, e.g. by a timeout) |
//! | `{ns}_request_duration_seconds` | histogram | `method`, `status` |
//! | `{ns}_errors_total` | counter | `method`, `code` (JSON-RPC error code) |
//! | `{ns}_requests_in_flight` | gauge | |
//! | `{ns}_active_connections` | gauge (sampled at scrape) | |
//! | `{ns}_active_sessions` | gauge (sampled at scrape) | |
//! | `{ns}_received_bytes_total` | counter (request params) | |
//! | `{ns}_sent_bytes_total` | counter (JSON results) | |
//!
//! `method` is one of the protocol's method names, or `other` for anything else, so a client
//! cannot grow the label set.
//!
//! ```
//! use mocopr_metrics::{MetricsCollector, MetricsLayer};
//! use tower_layer::Layer;
//!
//! let metrics = MetricsCollector::builder()
//!     .with_counter("cache_refills_total", "Times the warm cache was refilled.")
//!     .build()
//!     .expect("valid metrics");
//! # let server = tower::service_fn(|r: mocopr_core::service::McpRequest| async move {
//! #     Ok::<_, std::convert::Infallible>(mocopr_core::service::McpResponse::error(r.id, mocopr_core::ErrorObject::new(mocopr_core::ErrorCode::INTERNAL_ERROR, "x")))
//! # });
//! let service = MetricsLayer::new(metrics.clone()).layer(server);
//! metrics.counter("cache_refills_total").expect("registered").inc();
//! assert!(metrics.encode().contains("mcp_cache_refills_total 1"));
//! # let _ = service;
//! ```
#![deny(missing_docs)]

mod collector;
mod layer;
mod snapshot;

pub use collector::{MetricsCollector, MetricsCollectorBuilder, MetricsError};
pub use layer::{MetricsFuture, MetricsLayer, MetricsService};
pub use prometheus;
pub use snapshot::{MetricsSnapshot, quantile};
