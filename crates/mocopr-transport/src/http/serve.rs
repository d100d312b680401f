//! [`serve_http`]: a hyper HTTP/1.1 listener for the MCP endpoint, with the connection knobs of
//! [`ServerConfig`]. Users with their own axum app mount [`StreamableHttpService`] instead.

use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower_service::Service;

use mocopr_core::service::{McpRequest, McpResponse};

use super::body::HttpBody;
use super::config::ServerConfig;
use super::service::StreamableHttpService;
use crate::error::TransportError;

/// The default path of the MCP endpoint.
pub const DEFAULT_PATH: &str = "/mcp";

/// Serves `endpoint` at `path` on `listener` until `shutdown` resolves; other paths get `404`.
pub async fn serve_http<S>(
    listener: TcpListener,
    endpoint: StreamableHttpService<S>,
    path: &str,
    config: ServerConfig,
    shutdown: impl Future<Output = ()>,
) -> Result<(), TransportError>
where
    S: Service<McpRequest, Response = McpResponse, Error = Infallible> + Clone + Send + Sync + 'static,
    S::Future: Send + 'static,
{
    let service = OnPath { endpoint, path: Arc::from(path) };
    serve_http_service(listener, service, config, shutdown).await
}

/// Serves any HTTP service (e.g. an axum `Router` with the MCP endpoint beside other routes) on
/// `listener` with the connection knobs of `config`, until `shutdown` resolves.
pub async fn serve_http_service<S, B>(
    listener: TcpListener,
    service: S,
    config: ServerConfig,
    shutdown: impl Future<Output = ()>,
) -> Result<(), TransportError>
where
    S: Service<Request<Incoming>, Response = Response<B>, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let permits = Arc::new(Semaphore::new(config.max_connections.max(1)));
    let open = config.open_connections();
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            () = &mut shutdown => return Ok(()),
            permit = permits.clone().acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => return Ok(()),
            },
        };
        let (stream, _peer) = tokio::select! {
            () = &mut shutdown => return Ok(()),
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                // A failed accept affects one connection (a peer that reset) or says the process
                // is out of descriptors: keep serving, after a pause so the latter is no busy
                // loop.
                Err(_) => {
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(config.tcp_nodelay);
        if let Some(interval) = config.tcp_keepalive {
            let _ = rustix::net::sockopt::set_socket_keepalive(&stream, true);
            let _ = rustix::net::sockopt::set_tcp_keepidle(&stream, interval);
        }
        let service = hyper_util::service::TowerToHyperService::new(service.clone());
        let mut builder = http1::Builder::new();
        builder.keep_alive(config.keep_alive).timer(TokioTimer::new()).header_read_timeout(config.header_timeout);
        let open = OpenConnection::enter(open.clone());
        tokio::spawn(async move {
            let (_permit, _open) = (permit, open);
            // A connection error (reset, timeout) ends this connection only.
            let _ = builder.serve_connection(TokioIo::new(stream), service).await;
        });
    }
}

/// The endpoint at one path; `404` elsewhere.
struct OnPath<S> {
    endpoint: StreamableHttpService<S>,
    path: Arc<str>,
}

impl<S> Clone for OnPath<S> {
    fn clone(&self) -> Self {
        OnPath { endpoint: self.endpoint.clone(), path: self.path.clone() }
    }
}

impl<S> Service<Request<Incoming>> for OnPath<S>
where
    S: Service<McpRequest, Response = McpResponse, Error = Infallible> + Clone + Send + Sync + 'static,
    S::Future: Send + 'static,
{
    type Response = Response<HttpBody>;
    type Error = Infallible;
    type Future = futures_util::future::Either<
        <StreamableHttpService<S> as Service<Request<Incoming>>>::Future,
        std::future::Ready<Result<Response<HttpBody>, Infallible>>,
    >;

    fn poll_ready(&mut self, _cx: &mut std::task::Context<'_>) -> std::task::Poll<Result<(), Infallible>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<Incoming>) -> Self::Future {
        if request.uri().path() == &*self.path {
            futures_util::future::Either::Left(self.endpoint.call(request))
        } else {
            let mut response = Response::new(HttpBody::full(Bytes::from_static(b"not found")));
            *response.status_mut() = StatusCode::NOT_FOUND;
            futures_util::future::Either::Right(std::future::ready(Ok(response)))
        }
    }
}

/// Counts a connection as open until dropped.
struct OpenConnection(Arc<AtomicUsize>);

impl OpenConnection {
    fn enter(count: Arc<AtomicUsize>) -> Self {
        count.fetch_add(1, Ordering::Relaxed);
        OpenConnection(count)
    }
}

impl Drop for OpenConnection {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}
