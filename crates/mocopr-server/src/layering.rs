//! Layers around a server: [`McpService`] (what they wrap), [`ServerLayer`] (a layer made when
//! the server is built), and the server's `tower::Service` implementation, which runs a
//! request through its layers.

use std::convert::Infallible;
use std::task::{Context, Poll};

use futures_util::future::BoxFuture;
use tower::ServiceExt as _;
use tower::util::BoxCloneSyncService;
use tower_layer::Layer;
use tower_service::Service;

use mocopr_core::service::{Extensions, McpRequest, McpResponse};

use crate::error::ServerError;
use crate::layer::ErrorResponse;
use crate::server::McpServer;

/// The service a server's layers wrap: the server (and the layers added before), boxed.
pub type McpService = BoxCloneSyncService<McpRequest, McpResponse, Infallible>;

/// How a layer is made when the server is built.
pub(crate) type MakeLayer =
    Box<dyn FnOnce(&mut LayerContext<'_>, McpService) -> Result<McpService, ServerError> + Send>;

pub(crate) fn boxed<S>(service: S) -> McpService
where
    S: Service<McpRequest, Response = McpResponse, Error = Infallible> + Clone + Send + Sync + 'static,
    S::Future: Send + 'static,
{
    BoxCloneSyncService::new(service)
}

/// What a [`ServerLayer`] sees when the server is built: the server without its layers (its
/// tools, its change notifier) and a place to leave handles for the application.
pub struct LayerContext<'a> {
    pub(crate) server: &'a McpServer,
    pub(crate) extensions: &'a mut Extensions,
}

impl std::fmt::Debug for LayerContext<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LayerContext").field("server", self.server).finish_non_exhaustive()
    }
}

impl LayerContext<'_> {
    /// The server being built, without its layers.
    pub fn server(&self) -> &McpServer {
        self.server
    }

    /// Leaves `value` for the application, which reads it with
    /// [`McpServer::extension`](crate::McpServer::extension).
    pub fn insert_extension<T: Send + Sync + 'static>(&mut self, value: T) {
        self.extensions.insert(value);
    }
}

/// A layer of a server, made when the server is built. Every tower `Layer` over
/// [`McpService`] is one (its errors answered as JSON-RPC errors); implement this trait for a
/// layer that needs to see the server it wraps, as the facade's cache layer does to learn which
/// tools are read-only and to hear of changes.
///
/// ```
/// use mocopr_server::{LayerContext, McpServer, McpService, ServerError, ServerLayer};
///
/// /// Logs how many tools the server has, and changes nothing else.
/// struct CountTools;
///
/// impl ServerLayer for CountTools {
///     fn wrap(self, cx: &mut LayerContext<'_>, inner: McpService) -> Result<McpService, ServerError> {
///         println!("{} tools", cx.server().tools().count());
///         Ok(inner)
///     }
/// }
///
/// let server = McpServer::builder().tool("hello", || async { "Hello!" }).layer(CountTools).build();
/// assert!(server.is_ok());
/// ```
pub trait ServerLayer: Send + 'static {
    /// Wraps `inner` (the server and the layers added before).
    fn wrap(self, cx: &mut LayerContext<'_>, inner: McpService) -> Result<McpService, ServerError>;
}

impl<L> ServerLayer for L
where
    L: Layer<McpService> + Send + 'static,
    L::Service: Service<McpRequest, Response = McpResponse> + Clone + Send + Sync + 'static,
    <L::Service as Service<McpRequest>>::Error: Into<tower::BoxError>,
    <L::Service as Service<McpRequest>>::Future: Send + 'static,
{
    fn wrap(self, _cx: &mut LayerContext<'_>, inner: McpService) -> Result<McpService, ServerError> {
        Ok(boxed(ErrorResponse::new(self.layer(inner))))
    }
}

impl Service<McpRequest> for McpServer {
    type Response = McpResponse;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<McpResponse, Infallible>>;

    /// Always ready: a layered server waits for its layers' readiness per request (as axum's
    /// routes do), so a transport may call it without polling readiness first.
    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: McpRequest) -> Self::Future {
        match &self.layered {
            None => {
                let server = self.clone();
                Box::pin(async move { Ok(server.dispatch_request(request).await) })
            }
            Some(layered) => Box::pin(layered.stack.clone().oneshot(request)),
        }
    }
}

impl McpServer {
    /// Serves one request, through the server's layers.
    ///
    /// ```
    /// use mocopr_core::service::{McpRequest, Method};
    /// use mocopr_server::McpServer;
    ///
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = McpServer::builder().build()?;
    /// let response = server.handle(McpRequest::new(1.into(), Method::new("ping"), None)).await;
    /// assert!(response.outcome.is_ok());
    /// # Ok(()) }
    /// ```
    pub async fn handle(&self, request: McpRequest) -> McpResponse {
        match &self.layered {
            None => self.dispatch_request(request).await,
            Some(layered) => match layered.stack.clone().oneshot(request).await {
                Ok(response) => response,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use mocopr_core::service::{McpRequest, Method};
    use tower_service::Service;

    use crate::McpServer;

    /// glibc's per-thread cache takes blocks of up to 1,032 bytes. The future `call` boxes for
    /// each request is kept under that (with `route`'s and the handlers' futures boxed apart in
    /// `dispatch.rs`): a larger block comes from the main heap, which then consolidates its
    /// fastbins on each request (5–6% of a pipelined stdio server's samples).
    #[test]
    fn a_requests_boxed_future_fits_the_allocators_thread_cache() {
        let mut server = McpServer::builder().tool("echo", || async { "hi" }).build().unwrap();
        let request = McpRequest::new(1.into(), Method::new("tools/call"), None);
        let boxed = Service::call(&mut server, request);
        let size = std::mem::size_of_val(&*boxed);
        assert!(size <= 1032, "the boxed request future is {size} bytes");
    }
}
