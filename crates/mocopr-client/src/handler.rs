//! [`InputHandler`]: how the client answers what a server asks (elicitation, sampling, roots),
//! whether the server asks through MRTR `inputRequests` (modern) or with server-to-client
//! requests (legacy). One implementation serves both.

use futures_util::future::BoxFuture;

use mocopr_core::types::{
    ClientCapabilities, CreateMessageRequestParams, CreateMessageResult, ElicitRequestParams, ElicitResult,
    ListRootsResult,
};
use mocopr_core::{ErrorCode, ErrorObject};

/// Answers a server's requests for input. Every method has a default that declines, so an
/// implementation overrides what it supports and declares it in [`InputHandler::capabilities`].
pub trait InputHandler: Send + Sync + 'static {
    /// The client capabilities this handler provides (sent on every modern request).
    fn capabilities(&self) -> ClientCapabilities {
        ClientCapabilities::default()
    }

    /// `elicitation/create`.
    fn elicit(&self, _params: ElicitRequestParams) -> BoxFuture<'_, Result<ElicitResult, ErrorObject>> {
        Box::pin(async { Err(unsupported("elicitation/create")) })
    }

    /// `sampling/createMessage`.
    fn sample(&self, _params: CreateMessageRequestParams) -> BoxFuture<'_, Result<CreateMessageResult, ErrorObject>> {
        Box::pin(async { Err(unsupported("sampling/createMessage")) })
    }

    /// `roots/list`.
    fn list_roots(&self) -> BoxFuture<'_, Result<ListRootsResult, ErrorObject>> {
        Box::pin(async { Err(unsupported("roots/list")) })
    }
}

fn unsupported(method: &str) -> ErrorObject {
    ErrorObject::new(ErrorCode::METHOD_NOT_FOUND, format!("this client does not support {method}"))
}

/// A handler that supports nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoInput;

impl InputHandler for NoInput {}
