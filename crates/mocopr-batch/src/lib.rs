//! # mocopr-batch
//!
//! Many tool calls through one [`McpClient`](mocopr_client::McpClient): a
//! [`BatchProcessor`] runs a slice of calls and returns one result per call, in input order;
//! one call failing never fails the others. With a server on 2025-03-26 (the only revision
//! with JSON-RPC batches) calls travel as batch arrays of at most `max_batch_size`; with any
//! other they are pipelined: sent concurrently on the one connection, at most
//! `concurrency_limit` in flight.
//!
//! The submit side ([`BatchProcessor::submit`]) takes calls one at a time from many callers
//! and groups them until `max_batch_size` calls are waiting or `batch_timeout` has passed
//! since the first, then runs the group as one batch.
//!
//! ```no_run
//! # async fn run(client: mocopr_client::McpClient) {
//! use mocopr_batch::{BatchProcessor, ToolCall};
//! use serde_json::json;
//!
//! let processor = BatchProcessor::builder().with_max_batch_size(50).with_concurrency_limit(32).build(client);
//! let calls: Vec<ToolCall> = (0..1000).map(|i| ToolCall::new("echo", json!({ "text": i.to_string() }))).collect();
//! for (call, result) in calls.iter().zip(processor.execute_batch(&calls).await) {
//!     match result {
//!         Ok(result) => println!("{}: {:?}", call.name, result.content),
//!         Err(error) => eprintln!("{}: {error}", call.name),
//!     }
//! }
//! # }
//! ```

#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod collector;
mod processor;

pub use processor::{BatchProcessor, BatchProcessorBuilder, ToolCall};
