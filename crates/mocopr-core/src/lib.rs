//! # mocopr-core
//!
//! The protocol model of [MoCoPr](https://github.com/mocopr/mocopr), a Rust SDK for the Model
//! Context Protocol: the types of every message of revisions **2026-07-28** (stateless) and
//! **2025-11-25 / 2025-06-18 / 2025-03-26** (legacy), the JSON-RPC envelope, error codes, and the
//! pure helpers every transport needs (newline framing, HTTP header encoding, `x-mcp-header`,
//! name and `_meta` key rules, fixed-layout binary records).
//!
//! It does no I/O and depends on no runtime: every other MoCoPr crate builds on it, and a user
//! who only needs the types can depend on it alone.
//!
//! ```
//! use mocopr_core::jsonrpc::{decode, DecodeOptions, Envelope, Frame};
//! use mocopr_core::{ClientRequest, ProtocolVersion};
//!
//! let bytes = br#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{
//!     "name":"echo","arguments":{"text":"hi"},
//!     "_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28",
//!              "io.modelcontextprotocol/clientCapabilities":{}}}}"#;
//!
//! // The envelope is decoded once; params stay raw until asked for.
//! let Frame::Single(Envelope::Request(request)) = decode(bytes, &DecodeOptions::default())? else {
//!     unreachable!("a request");
//! };
//! let body = ClientRequest::decode(&request.method, request.params)?;
//! let ClientRequest::CallTool(call) = &body else { unreachable!("tools/call") };
//! assert_eq!(call.name, "echo");
//!
//! // Modern requests carry their version and capabilities in `_meta`.
//! let context = body.request_meta().unwrap().validate_modern(&ProtocolVersion::ALL)?;
//! assert_eq!(context.version, ProtocolVersion::V2026_07_28);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! | module | what it holds |
//! |---|---|
//! | [`types`] | every protocol object, one type per concept across revisions |
//! | [`messages`] | the method enums of each direction, and which revision has which method |
//! | [`jsonrpc`] | ids, the borrowed envelope decoder, owned messages |
//! | [`error`] | [`ErrorCode`], [`ProtocolError`] and the one table mapping them |
//! | [`meta`] | `_meta` keys and per-request metadata |
//! | [`version`] | [`ProtocolVersion`], [`Era`] and what differs between revisions |
//! | [`framing`] | newline-delimited framing for stdio |
//! | [`header`], [`x_mcp_header`] | HTTP header encoding and `Mcp-Param-*` headers |
//! | [`names`], [`meta_key`] | tool, method and `_meta` key rules |
//! | [`binary`] | bincode records for caches and event stores |
//! | [`service`], [`principal`] | the request/response vocabulary of tower services; who is calling |
//! | [`connection`] | what layers keep for one connection, across its requests |

#![deny(missing_docs)]
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod binary;
pub mod connection;
pub mod error;
pub mod framing;
pub mod header;
pub mod jsonrpc;
pub mod messages;
pub mod meta;
pub mod meta_key;
pub mod names;
pub mod principal;
pub mod service;
pub mod types;
pub mod version;
pub mod x_mcp_header;

pub use error::{ErrorCode, ErrorObject, ProtocolError, Rejection};
pub use jsonrpc::RequestId;
pub use messages::{CallToolOutcome, ClientNotification, ClientRequest, Outcome, ServerNotification, ServerRequest};
pub use types::*;
pub use version::{Era, ProtocolVersion};
