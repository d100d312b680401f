//! [`ClientError`]: what a client call can fail with.

use mocopr_core::ErrorObject;

/// A failed client call.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The server answered with a JSON-RPC error.
    #[error("server error {}: {}", .0.code, .0.message)]
    Server(ErrorObject),
    /// No answer within the request's timeout (the request was cancelled).
    #[error("no answer within {0:?}")]
    Timeout(std::time::Duration),
    /// The connection is closed.
    #[error("the connection is closed")]
    Closed,
    /// The server's answer is not what the method returns.
    #[error("unexpected answer: {0}")]
    Decode(#[from] serde_json::Error),
    /// The transport failed.
    #[error(transparent)]
    Transport(#[from] mocopr_transport::TransportError),
    /// The server kept asking for input beyond the retry limit.
    #[error("gave up after {0} rounds of input requests")]
    TooManyRounds(usize),
    /// A listing went on beyond the page limit.
    #[error("gave up listing after {0} pages")]
    TooManyPages(usize),
    /// The server requires credentials the client could not obtain (no authorization
    /// configured, discovery or the authorization server failed, the user declined).
    #[error("authorization failed: {0}")]
    Authorization(String),
    /// The result's `resultType` is none this client supports (`complete`, `input_required`,
    /// and `task` when its input handler declares the tasks extension): the result is
    /// invalid, whatever else it carries.
    #[error("the result's resultType `{0}` is not one this client supports")]
    UnsupportedResultType(String),
}
