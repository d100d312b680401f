//! [`serve_http`]: a hyper HTTP/1.1 listener for the MCP endpoint, with the connection knobs of
//! [`ServerConfig`]. Users with their own axum app mount [`StreamableHttpService`] instead.

use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;

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
    let permits = Arc::new(Semaphore::new(config.max_connections.max(1)));
    let path: Arc<str> = Arc::from(path);
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
                // A failed accept (e.g. the peer reset before we got to it) affects one
                // connection only; keep serving.
                Err(_) => continue,
            },
        };
        let _ = stream.set_nodelay(config.tcp_nodelay);
        if let Some(interval) = config.tcp_keepalive {
            let _ = rustix::net::sockopt::set_socket_keepalive(&stream, true);
            let _ = rustix::net::sockopt::set_tcp_keepidle(&stream, interval);
        }
        let endpoint = endpoint.clone();
        let path = path.clone();
        let mut builder = http1::Builder::new();
        builder.keep_alive(config.keep_alive).timer(TokioTimer::new()).header_read_timeout(config.header_timeout);
        tokio::spawn(async move {
            let _permit = permit;
            let service = hyper::service::service_fn(move |request: Request<Incoming>| {
                let mut endpoint = endpoint.clone();
                let on_path = request.uri().path() == &*path;
                async move {
                    if on_path {
                        endpoint.call(request).await
                    } else {
                        let mut response = Response::new(HttpBody::full(Bytes::from_static(b"not found")));
                        *response.status_mut() = StatusCode::NOT_FOUND;
                        Ok::<_, Infallible>(response)
                    }
                }
            });
            // A connection error (reset, timeout) ends this connection only.
            let _ = builder.serve_connection(TokioIo::new(stream), service).await;
        });
    }
}
