//! Middleware: tower's own timeout, concurrency-limit and load-shed layers, and
//! [`ErrorResponseLayer`], which turns their errors into JSON-RPC error responses so the stack
//! stays a `Service<McpRequest, Error = Infallible>` that any transport can drive.
//!
//! ```
//! use std::time::Duration;
//! use mocopr_server::layer::{ConcurrencyLimitLayer, ErrorResponseLayer, TimeoutLayer};
//! use tower::ServiceBuilder;
//!
//! # fn wrap(server: mocopr_server::McpServer) {
//! // The first layer listed sees a request first.
//! let service = ServiceBuilder::new()
//!     .layer(ErrorResponseLayer)
//!     .layer(TimeoutLayer::new(Duration::from_secs(30)))
//!     .layer(ConcurrencyLimitLayer::new(256))
//!     .service(server);
//! # let _ = service;
//! # }
//! ```

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use mocopr_core::RequestId;
use mocopr_core::error::LayerFailure;
use mocopr_core::service::{McpRequest, McpResponse};
use tower_layer::Layer;
use tower_service::Service;

pub use tower::limit::ConcurrencyLimitLayer;
pub use tower::load_shed::LoadShedLayer;
pub use tower::timeout::TimeoutLayer;

/// Answers errors of the layers below with a JSON-RPC error response.
#[derive(Debug, Clone, Copy, Default)]
pub struct ErrorResponseLayer;

impl<S> Layer<S> for ErrorResponseLayer {
    type Service = ErrorResponse<S>;

    fn layer(&self, inner: S) -> ErrorResponse<S> {
        ErrorResponse { inner }
    }
}

/// The service of [`ErrorResponseLayer`].
#[derive(Debug, Clone)]
pub struct ErrorResponse<S> {
    inner: S,
}

impl<S> ErrorResponse<S> {
    pub(crate) fn new(inner: S) -> Self {
        ErrorResponse { inner }
    }
}

/// Which middleware error `error` is, by the table in `mocopr-core`.
fn classify(error: &(dyn std::error::Error + 'static)) -> LayerFailure {
    if error.is::<tower::timeout::error::Elapsed>() {
        LayerFailure::Timeout
    } else if error.is::<tower::load_shed::error::Overloaded>() {
        LayerFailure::Overloaded
    } else {
        LayerFailure::Other
    }
}

impl<S> Service<McpRequest> for ErrorResponse<S>
where
    S: Service<McpRequest, Response = McpResponse>,
    S::Error: Into<tower::BoxError>,
{
    type Response = McpResponse;
    type Error = Infallible;
    type Future = ErrorResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        // A failing readiness (e.g. load shedding) is reported per request, in `call`.
        match self.inner.poll_ready(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(_) => Poll::Ready(Ok(())),
        }
    }

    fn call(&mut self, request: McpRequest) -> Self::Future {
        let id = request.id.clone();
        ErrorResponseFuture { inner: self.inner.call(request), id: Some(id) }
    }
}

pin_project_lite::pin_project! {
    /// The future of [`ErrorResponse`].
    #[derive(Debug)]
    pub struct ErrorResponseFuture<F> {
        #[pin]
        inner: F,
        id: Option<RequestId>,
    }
}

impl<F, E> Future for ErrorResponseFuture<F>
where
    F: Future<Output = Result<McpResponse, E>>,
    E: Into<tower::BoxError>,
{
    type Output = Result<McpResponse, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let result = ready!(this.inner.poll(cx));
        Poll::Ready(Ok(match result {
            Ok(response) => response,
            Err(error) => {
                let error: tower::BoxError = error.into();
                let id = this.id.take().unwrap_or(RequestId::Number(0));
                McpResponse::error(id, classify(error.as_ref()).to_error_object())
            }
        }))
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use mocopr_core::service::{McpRequest, Method};
    use tower::{ServiceBuilder, ServiceExt};

    use super::*;

    fn slow() -> impl Service<McpRequest, Response = McpResponse, Error = Infallible, Future: Send> + Clone {
        tower::service_fn(|request: McpRequest| async move {
            tokio::time::sleep(Duration::from_millis(200)).await;
            Ok::<_, Infallible>(McpResponse::error(
                request.id,
                mocopr_core::ErrorObject::new(mocopr_core::ErrorCode(1), "late"),
            ))
        })
    }

    #[tokio::test]
    async fn a_timeout_becomes_a_json_rpc_error_for_the_same_request() {
        let service = ServiceBuilder::new()
            .layer(ErrorResponseLayer)
            .layer(TimeoutLayer::new(Duration::from_millis(10)))
            .service(slow());
        let request = McpRequest::new(RequestId::from("r"), Method::new("tools/call"), None);
        let response = service.oneshot(request).await.unwrap_or_else(|never| match never {});
        assert_eq!(response.id, RequestId::from("r"));
        let error = response.outcome.expect_err("timed out");
        assert_eq!(error.code, mocopr_core::ErrorCode::INTERNAL_ERROR);
        assert_eq!(error.data.unwrap()["reason"], "timeout");
    }

    #[tokio::test]
    async fn shed_load_is_reported_as_overloaded() {
        let service = ServiceBuilder::new()
            .layer(ErrorResponseLayer)
            .layer(LoadShedLayer::new())
            .layer(ConcurrencyLimitLayer::new(1))
            .service(slow());
        let mut first = service.clone();
        let mut second = service;
        let a = first.ready().await.unwrap_or_else(|never| match never {}).call(McpRequest::new(
            RequestId::Number(1),
            Method::new("ping"),
            None,
        ));
        let b = second.ready().await.unwrap_or_else(|never| match never {}).call(McpRequest::new(
            RequestId::Number(2),
            Method::new("ping"),
            None,
        ));
        let (_, b) = tokio::join!(a, b);
        let b = b.unwrap_or_else(|never| match never {});
        assert_eq!(b.outcome.expect_err("shed").data.unwrap()["reason"], "overloaded");
    }
}
