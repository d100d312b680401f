//! [`HttpConnector`]: HTTP/1.1 keep-alive connections for a [`ConnectionPool`](super::ConnectionPool).
//!
//! One connection carries one request at a time (HTTP/1.1 has no multiplexing), so the pool's
//! `max_connections` is the most requests in flight to the server.

use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use super::{Connector, PoolError};

/// How long a health check waits for an idle connection to say it is ready.
const CHECK_TIMEOUT: Duration = Duration::from_secs(1);

/// Opens plain-TCP HTTP/1.1 connections to one `host:port`.
#[derive(Debug, Clone)]
pub struct HttpConnector {
    authority: String,
}

impl HttpConnector {
    /// Connections to `authority` (`host:port`).
    pub fn new(authority: impl Into<String>) -> Self {
        HttpConnector { authority: authority.into() }
    }

    /// The `host:port` this connector reaches (also the `Host` header requests should carry).
    pub fn authority(&self) -> &str {
        &self.authority
    }
}

/// One HTTP/1.1 connection.
#[derive(Debug)]
pub struct HttpConnection {
    sender: SendRequest<Full<Bytes>>,
}

impl HttpConnection {
    /// Sends a request (its URI in origin form, with a `Host` header) once the connection is
    /// free, and returns the response head; read the body before sending the next request.
    /// A request the connection never sent (it had closed) comes back in the error, to be
    /// sent on another connection.
    pub async fn send(&mut self, request: Request<Full<Bytes>>) -> Result<Response<Incoming>, SendError> {
        if let Err(error) = self.sender.ready().await {
            return Err(SendError { error, unsent: Some(request) });
        }
        self.sender
            .try_send_request(request)
            .await
            .map_err(|mut e| SendError { unsent: e.take_message(), error: e.into_error() })
    }
}

/// A request that failed on its connection.
#[derive(Debug)]
#[non_exhaustive]
pub struct SendError {
    /// What went wrong.
    pub error: hyper::Error,
    /// The request, when it was never sent (safe to send again elsewhere).
    pub unsent: Option<Request<Full<Bytes>>>,
}

impl std::fmt::Display for SendError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.error.fmt(f)
    }
}

impl std::error::Error for SendError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.error)
    }
}

impl Connector for HttpConnector {
    type Connection = HttpConnection;

    async fn connect(&self) -> Result<HttpConnection, PoolError> {
        let stream = TcpStream::connect(&self.authority).await.map_err(|e| PoolError::Connect(Box::new(e)))?;
        // Small JSON-RPC messages: send them now rather than waiting for more.
        let _ = stream.set_nodelay(true);
        let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| PoolError::Connect(Box::new(e)))?;
        // The connection task ends when the peer closes; the sender then reports closed.
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::debug!(%error, "pooled HTTP connection ended");
            }
        });
        Ok(HttpConnection { sender })
    }

    async fn check(&self, connection: &mut HttpConnection) -> bool {
        matches!(tokio::time::timeout(CHECK_TIMEOUT, connection.sender.ready()).await, Ok(Ok(())))
    }

    fn is_broken(&self, connection: &HttpConnection) -> bool {
        connection.sender.is_closed()
    }
}
