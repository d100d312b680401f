//! # mocopr-transport
//!
//! How MoCoPr moves MCP messages: newline-delimited framing over any async byte stream, with
//! batched reads and coalesced writes; non-blocking stdio; child processes; an in-memory pair;
//! Streamable HTTP (feature `http`); a bounded, health-checked [`ConnectionPool`].
//!
//! ```no_run
//! use mocopr_transport::{framed::Inbound, stdio, FrameReader, FramingConfig, spawn_writer};
//! use bytes::Bytes;
//!
//! # async fn run() -> Result<(), mocopr_transport::TransportError> {
//! let config = FramingConfig::default();
//! let mut input = FrameReader::new(stdio::stdin(), &config);
//! let (output, _writer) = spawn_writer(stdio::stdout(), &config);
//! while let Some(item) = input.next().await {
//!     if let Inbound::Frame(frame) = item? {
//!         let mut line = frame.to_vec();
//!         line.push(b'\n');
//!         output.send(Bytes::from(line)).await?; // echo
//!     }
//! }
//! # Ok(()) }
//! ```

#![deny(missing_docs)]
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod child;
pub mod config;
pub mod error;
pub mod framed;
#[cfg(feature = "http")]
#[cfg_attr(docsrs, doc(cfg(feature = "http")))]
pub mod http;
mod limit_log;
pub mod memory;
pub mod notify;
pub mod pool;
pub mod result_stream;
pub mod session;
pub mod stdio;
#[cfg(feature = "tls")]
#[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
pub mod tls;

pub use config::{FramingConfig, FramingConfigBuilder};
pub use error::TransportError;
pub use framed::{FrameReader, FrameSink, Inbound, spawn_writer};
pub use limit_log::limit_reached;
pub use notify::Notifier;
pub use pool::{ConnectionPool, PoolConfig, PoolMetrics};
pub use session::{Session, SessionState};
