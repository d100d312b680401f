//! JSON-RPC 2.0 as MCP uses it: ids, the borrowed envelope decoder, and owned messages.

mod envelope;
mod id;
mod message;
mod reserved_member;

pub use envelope::{
    DEFAULT_MAX_BATCH_LEN, DEFAULT_MAX_MESSAGE_SIZE, DecodeOptions, Envelope, Frame, RawErrorResponse, RawNotification,
    RawRequest, RawResponse, decode, decode_single, recover_id,
};
pub use id::{ProgressToken, RequestId};
pub use message::{JsonRpcErrorResponse, JsonRpcNotification, JsonRpcRequest, JsonRpcResponse, JsonRpcVersion};
pub use reserved_member::RESERVED_MEMBER;
