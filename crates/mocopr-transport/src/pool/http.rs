//! [`HttpConnector`]: HTTP connections for a [`ConnectionPool`](super::ConnectionPool), over
//! plain TCP or (with the `tls` feature) TLS.
//!
//! Over HTTP/1.1 a connection carries one request at a time, so the pool's `max_connections`
//! is the most requests in flight to the server. Over TLS the server may pick HTTP/2 by ALPN;
//! then every pooled "connection" is a stream slot on one shared TCP connection (HTTP/2
//! multiplexes), `max_connections` is still the most requests in flight, and a new TCP
//! connection is opened only when the shared one has closed.

use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::client::conn::http1;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use super::{Connector, PoolError};

/// How long a health check waits for an idle connection to say it is ready.
const CHECK_TIMEOUT: Duration = Duration::from_secs(1);

/// Opens HTTP connections to one `host:port`: plain HTTP/1.1, or HTTPS after
/// [`with_tls`](Self::with_tls).
///
/// ```
/// use mocopr_transport::pool::{ConnectionPool, HttpConnector, PoolConfig};
///
/// # async fn run() {
/// let pool = ConnectionPool::new(HttpConnector::new("127.0.0.1:8080"), PoolConfig::default());
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct HttpConnector {
    authority: String,
    #[cfg(feature = "tls")]
    tls: Option<std::sync::Arc<tls::TlsDial>>,
}

impl HttpConnector {
    /// Plain-TCP connections to `authority` (`host:port`).
    pub fn new(authority: impl Into<String>) -> Self {
        HttpConnector {
            authority: authority.into(),
            #[cfg(feature = "tls")]
            tls: None,
        }
    }

    /// Connects over TLS, checking the server's certificate for `host` (the URL's host: a
    /// name, an IPv4 address or a bracketed IPv6 one) against `tls`'s roots, and speaks HTTP/2
    /// when the server picks it by ALPN.
    ///
    /// ```
    /// use mocopr_transport::pool::HttpConnector;
    /// use mocopr_transport::tls::ClientTls;
    ///
    /// let connector = HttpConnector::new("mcp.example.com:443")
    ///     .with_tls("mcp.example.com", &ClientTls::webpki_roots())?;
    /// # Ok::<(), mocopr_transport::tls::TlsError>(())
    /// ```
    #[cfg(feature = "tls")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
    pub fn with_tls(mut self, host: &str, tls: &crate::tls::ClientTls) -> Result<Self, crate::tls::TlsError> {
        self.tls = Some(std::sync::Arc::new(tls::TlsDial::new(host, tls, &self.authority)?));
        Ok(self)
    }

    /// The `host:port` this connector reaches (also the `Host` header requests should carry).
    pub fn authority(&self) -> &str {
        &self.authority
    }

    /// Whether connections use TLS.
    pub fn is_tls(&self) -> bool {
        #[cfg(feature = "tls")]
        return self.tls.is_some();
        #[cfg(not(feature = "tls"))]
        false
    }

    async fn tcp(&self) -> Result<TcpStream, PoolError> {
        let stream = TcpStream::connect(&self.authority).await.map_err(|e| PoolError::Connect(Box::new(e)))?;
        // Small JSON-RPC messages: send them now rather than waiting for more.
        let _ = stream.set_nodelay(true);
        Ok(stream)
    }
}

/// One HTTP connection: an HTTP/1.1 connection of its own, or a stream slot on a shared
/// HTTP/2 connection.
#[derive(Debug)]
pub struct HttpConnection {
    sender: Sender,
}

#[derive(Debug)]
enum Sender {
    Http1(http1::SendRequest<Full<Bytes>>),
    #[cfg(feature = "tls")]
    Http2(tls::Http2Slot),
}

impl HttpConnection {
    /// Sends a request (its URI in origin form, with a `Host` header) once the connection is
    /// free, and returns the response head; read the body before sending the next request.
    /// A request the connection never sent (it had closed) comes back in the error, to be
    /// sent on another connection.
    pub async fn send(&mut self, request: Request<Full<Bytes>>) -> Result<Response<Incoming>, SendError> {
        match &mut self.sender {
            Sender::Http1(sender) => {
                if let Err(error) = sender.ready().await {
                    return Err(SendError { error, unsent: Some(request) });
                }
                sender
                    .try_send_request(request)
                    .await
                    .map_err(|mut e| SendError { unsent: e.take_message(), error: e.into_error() })
            }
            #[cfg(feature = "tls")]
            Sender::Http2(slot) => slot.send(request).await,
        }
    }

    /// Whether this connection speaks HTTP/2.
    pub fn is_http2(&self) -> bool {
        #[cfg(feature = "tls")]
        return matches!(self.sender, Sender::Http2(_));
        #[cfg(not(feature = "tls"))]
        false
    }

    async fn ready(&mut self) -> bool {
        let ready = match &mut self.sender {
            Sender::Http1(sender) => tokio::time::timeout(CHECK_TIMEOUT, sender.ready()).await,
            #[cfg(feature = "tls")]
            Sender::Http2(slot) => tokio::time::timeout(CHECK_TIMEOUT, slot.sender.ready()).await,
        };
        matches!(ready, Ok(Ok(())))
    }

    fn is_closed(&self) -> bool {
        match &self.sender {
            Sender::Http1(sender) => sender.is_closed(),
            #[cfg(feature = "tls")]
            Sender::Http2(slot) => slot.sender.is_closed(),
        }
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

/// Runs an HTTP/1.1 connection over `io` until the peer closes it.
async fn http1_over<I>(io: I) -> Result<HttpConnection, PoolError>
where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (sender, connection) = http1::handshake(TokioIo::new(io)).await.map_err(|e| PoolError::Connect(Box::new(e)))?;
    // The connection task ends when the peer closes; the sender then reports closed.
    tokio::spawn(async move {
        if let Err(error) = connection.await {
            tracing::debug!(%error, "pooled HTTP connection ended");
        }
    });
    Ok(HttpConnection { sender: Sender::Http1(sender) })
}

impl Connector for HttpConnector {
    type Connection = HttpConnection;

    async fn connect(&self) -> Result<HttpConnection, PoolError> {
        #[cfg(feature = "tls")]
        if let Some(tls) = &self.tls {
            return tls.connect(|| self.tcp()).await;
        }
        http1_over(self.tcp().await?).await
    }

    async fn check(&self, connection: &mut HttpConnection) -> bool {
        connection.ready().await
    }

    fn is_broken(&self, connection: &HttpConnection) -> bool {
        connection.is_closed()
    }
}

#[cfg(feature = "tls")]
mod tls {
    //! The TLS side of [`HttpConnector`]: the handshake, ALPN, and the shared HTTP/2
    //! connection.

    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, Weak};

    use bytes::Bytes;
    use http::uri::{Authority, Scheme};
    use http::{Request, Response, Uri};
    use http_body_util::Full;
    use hyper::body::Incoming;
    use hyper::client::conn::http2;
    use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
    use rustls::pki_types::ServerName;
    use tokio::net::TcpStream;

    use super::{HttpConnection, PoolError, SendError, Sender, http1_over};
    use crate::tls::{ClientTls, TlsError, server_name};

    /// How a connector reaches its server over TLS.
    pub(super) struct TlsDial {
        connector: tokio_rustls::TlsConnector,
        server_name: ServerName<'static>,
        authority: Authority,
        /// The HTTP/2 connection the stream slots share, while any slot holds it. Locked while
        /// one is opened, so concurrent callers share it instead of each opening their own.
        shared: tokio::sync::Mutex<Weak<Http2Connection>>,
        /// Set once the server answered with HTTP/1.1: connections are then opened without
        /// waiting for the lock.
        http1_peer: AtomicBool,
    }

    impl std::fmt::Debug for TlsDial {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.debug_struct("TlsDial").field("server_name", &self.server_name).finish_non_exhaustive()
        }
    }

    /// One HTTP/2 connection; it closes when the last slot holding it is gone.
    struct Http2Connection {
        sender: http2::SendRequest<Full<Bytes>>,
    }

    /// A stream slot on a shared HTTP/2 connection.
    pub(super) struct Http2Slot {
        pub(super) sender: http2::SendRequest<Full<Bytes>>,
        authority: Authority,
        _connection: Arc<Http2Connection>,
    }

    impl std::fmt::Debug for Http2Slot {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.debug_struct("Http2Slot").finish_non_exhaustive()
        }
    }

    impl Http2Slot {
        /// HTTP/2 carries the target as `:scheme`, `:authority` and `:path`: the request's
        /// origin-form URI becomes absolute, and its `Host` header (the same authority) goes.
        pub(super) async fn send(
            &mut self,
            mut request: Request<Full<Bytes>>,
        ) -> Result<Response<Incoming>, SendError> {
            let mut parts = request.uri().clone().into_parts();
            parts.scheme = Some(Scheme::HTTPS);
            parts.authority = Some(self.authority.clone());
            if let Ok(uri) = Uri::from_parts(parts) {
                *request.uri_mut() = uri;
            }
            request.headers_mut().remove(http::header::HOST);
            if let Err(error) = self.sender.ready().await {
                return Err(SendError { error, unsent: Some(request) });
            }
            self.sender
                .try_send_request(request)
                .await
                .map_err(|mut e| SendError { unsent: e.take_message(), error: e.into_error() })
        }
    }

    impl TlsDial {
        pub(super) fn new(host: &str, tls: &ClientTls, authority: &str) -> Result<Self, TlsError> {
            let authority: Authority = authority.parse().map_err(|_| TlsError::ServerName(authority.to_owned()))?;
            Ok(TlsDial {
                connector: tls.connector(),
                server_name: server_name(host)?,
                authority,
                shared: tokio::sync::Mutex::new(Weak::new()),
                http1_peer: AtomicBool::new(false),
            })
        }

        pub(super) async fn connect<F, Fut>(&self, tcp: F) -> Result<HttpConnection, PoolError>
        where
            F: FnOnce() -> Fut,
            Fut: Future<Output = Result<TcpStream, PoolError>>,
        {
            if self.http1_peer.load(Ordering::Relaxed) {
                return match self.handshake(tcp().await?).await? {
                    Opened::Http1(connection) => Ok(connection),
                    // The server changed its mind: share this connection from now on.
                    Opened::Http2(sender) => {
                        self.http1_peer.store(false, Ordering::Relaxed);
                        Ok(self.share(&mut *self.shared.lock().await, sender))
                    }
                };
            }
            let mut shared = self.shared.lock().await;
            if let Some(connection) = shared.upgrade().filter(|c| !c.sender.is_closed()) {
                return Ok(self.slot(connection));
            }
            match self.handshake(tcp().await?).await? {
                Opened::Http2(sender) => Ok(self.share(&mut shared, sender)),
                Opened::Http1(connection) => {
                    self.http1_peer.store(true, Ordering::Relaxed);
                    Ok(connection)
                }
            }
        }

        fn share(&self, shared: &mut Weak<Http2Connection>, sender: http2::SendRequest<Full<Bytes>>) -> HttpConnection {
            let connection = Arc::new(Http2Connection { sender });
            *shared = Arc::downgrade(&connection);
            self.slot(connection)
        }

        fn slot(&self, connection: Arc<Http2Connection>) -> HttpConnection {
            let slot = Http2Slot {
                sender: connection.sender.clone(),
                authority: self.authority.clone(),
                _connection: connection,
            };
            HttpConnection { sender: Sender::Http2(slot) }
        }

        async fn handshake(&self, tcp: TcpStream) -> Result<Opened, PoolError> {
            let stream = self
                .connector
                .connect(self.server_name.clone(), tcp)
                .await
                .map_err(|e| PoolError::Connect(Box::new(e)))?;
            if stream.get_ref().1.alpn_protocol() != Some(b"h2") {
                return http1_over(stream).await.map(Opened::Http1);
            }
            let (sender, connection) = http2::Builder::new(TokioExecutor::new())
                .timer(TokioTimer::new())
                .handshake(TokioIo::new(stream))
                .await
                .map_err(|e| PoolError::Connect(Box::new(e)))?;
            tokio::spawn(async move {
                if let Err(error) = connection.await {
                    tracing::debug!(%error, "pooled HTTP/2 connection ended");
                }
            });
            Ok(Opened::Http2(sender))
        }
    }

    enum Opened {
        Http1(HttpConnection),
        Http2(http2::SendRequest<Full<Bytes>>),
    }
}
