//! Profiling for MCP servers: "profile first, optimize second".
//!
//! - **CPU**: [`Profiler::cpu_profile`] samples every thread of the process (pprof, `SIGPROF`, no
//!   `perf` permissions needed) for a while and gives a [`CpuProfile`]: folded stacks, a
//!   flamegraph SVG (inferno), and pprof's protobuf format.
//! - **Memory**: [`CountingAllocator`] wraps the global allocator and counts allocated, freed,
//!   live and peak bytes and allocations ([`memory_stats`]); with it installed, request tracing
//!   also counts each request's allocations.
//! - **Requests**: [`RequestTracingLayer`] gives every request a `tracing` span named and
//!   attributed after OpenTelemetry's conventions for MCP (method, tool, protocol version, error
//!   type, duration) and logs requests slower than a threshold as warnings. With the
//!   `opentelemetry` feature the caller's W3C trace context (`_meta.traceparent`) is the span's
//!   parent; with `otlp`, `OtlpTracing` exports the spans to an OpenTelemetry collector.
//!
//! ```no_run
//! use std::time::Duration;
//! use mocopr_profiling::{CountingAllocator, Profiler};
//!
//! #[global_allocator]
//! static ALLOCATOR: CountingAllocator = CountingAllocator::system();
//!
//! # async fn run() -> Result<(), mocopr_profiling::ProfileError> {
//! let profiler = Profiler::builder()
//!     .with_cpu_profiling(99)
//!     .with_memory_profiling()
//!     .with_request_tracing(Duration::from_millis(100))
//!     .build();
//! let profile = profiler.cpu_profile(Duration::from_secs(5)).await?;
//! std::fs::write("flamegraph.svg", profile.flamegraph_svg("my server")?).ok();
//! # Ok(()) }
//! ```
#![deny(missing_docs)]

mod alloc;
mod cpu;
#[cfg(feature = "otlp")]
mod otlp;
mod pprof_format;
mod profiler;
mod request_facts;
#[cfg(feature = "opentelemetry")]
mod trace_context;
mod tracing_layer;

pub use alloc::{CountingAllocator, MemoryStats, memory_stats, thread_allocations};
pub use cpu::CpuProfile;
#[cfg(feature = "otlp")]
pub use otlp::{OtlpError, OtlpTracing, OtlpTracingBuilder};
pub use profiler::{CpuSampler, ProfileError, Profiler, ProfilerBuilder};
pub use tracing_layer::{RequestTracingFuture, RequestTracingLayer, RequestTracingService};
/// The OpenTelemetry crates these features are built against: a `tracing-opentelemetry` layer of
/// another version does not see the spans' parents, so use these.
#[cfg(feature = "opentelemetry")]
pub use {opentelemetry, opentelemetry_sdk, tracing_opentelemetry};
