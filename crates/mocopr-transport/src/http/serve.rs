//! [`serve_http`]: a hyper listener for any HTTP service (the MCP endpoint alone, or an axum
//! `Router` with it beside other routes), with the connection knobs of [`ListenerConfig`]: a
//! bound on connections, header and idle-connection timeouts, TCP options, response
//! compression. HTTP/1.1 over plain TCP; with [`ServeHttp::with_tls`] (the `tls` feature),
//! HTTPS with HTTP/2 or HTTP/1.1 as the client picks by ALPN.

use std::convert::Infallible;
use std::future::{Future, IntoFuture, Pending};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures_util::future::BoxFuture;
use http::{Request, Response, StatusCode};
use http_body_util::{Either, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use mocopr_core::connection::ConnectionState;
use tokio::net::TcpListener;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower_service::Service;

use super::admission::{Admission, SlowWriteGuard};
use super::compress::{CompressAbove, CompressPicked};
use super::config::ListenerConfig;
use crate::error::TransportError;

/// Serves `service` on `listener`: every path reaches it unless [`ServeHttp::with_path`] names
/// the ones that do. Await the returned [`ServeHttp`] (after its `with_*` settings) to run the server.
///
/// ```no_run
/// use mocopr_transport::http::{ListenerConfig, serve_http};
///
/// # async fn run(app: axum::Router) -> Result<(), Box<dyn std::error::Error>> {
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
/// serve_http(listener, app)
///     .with_config(ListenerConfig::builder().with_max_connections(1_000).build())
///     .with_graceful_shutdown(async { tokio::time::sleep(std::time::Duration::from_secs(3600)).await })
///     .await?;
/// # Ok(()) }
/// ```
pub fn serve_http<S>(listener: TcpListener, service: S) -> ServeHttp<S, Pending<()>> {
    ServeHttp {
        listener,
        service,
        config: ListenerConfig::default(),
        paths: Vec::new(),
        #[cfg(feature = "tls")]
        tls: None,
        shutdown: std::future::pending(),
    }
}

/// A server not yet started: set it up with the `with_*` methods, then `.await` it. Made by
/// [`serve_http`].
#[must_use = "a server does nothing until it is awaited"]
pub struct ServeHttp<S, F> {
    listener: TcpListener,
    service: S,
    config: ListenerConfig,
    paths: Vec<Box<str>>,
    #[cfg(feature = "tls")]
    tls: Option<crate::tls::ServerTls>,
    shutdown: F,
}

impl<S, F> std::fmt::Debug for ServeHttp<S, F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServeHttp").field("config", &self.config).field("paths", &self.paths).finish_non_exhaustive()
    }
}

impl<S, F> ServeHttp<S, F> {
    /// Sets the connection knobs (default [`ListenerConfig::default`]).
    pub fn with_config(mut self, config: ListenerConfig) -> Self {
        self.config = config;
        self
    }

    /// Serves `path`; once a path is named, the paths not named get `404` (call once per path:
    /// the MCP endpoint's, and its metadata's when a resource-server layer answers those). An
    /// axum `Router` routes by itself.
    pub fn with_path(mut self, path: &str) -> Self {
        self.paths.push(Box::from(path));
        self
    }

    /// Serves HTTPS: every connection starts with a TLS handshake (bounded by the header
    /// timeout), then speaks HTTP/2 or HTTP/1.1 as ALPN settled.
    ///
    /// ```no_run
    /// use mocopr_transport::http::serve_http;
    /// use mocopr_transport::tls::ServerTls;
    ///
    /// # async fn run(app: axum::Router) -> Result<(), Box<dyn std::error::Error>> {
    /// let listener = tokio::net::TcpListener::bind("0.0.0.0:8443").await?;
    /// let tls = ServerTls::from_pem_files("/etc/mcp/cert.pem", "/etc/mcp/key.pem")?;
    /// serve_http(listener, app).with_tls(tls).await?;
    /// # Ok(()) }
    /// ```
    #[cfg(feature = "tls")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
    pub fn with_tls(mut self, tls: crate::tls::ServerTls) -> Self {
        self.tls = Some(tls);
        self
    }

    /// When `signal` resolves: stops accepting connections, closes idle ones, ends the
    /// endpoint's never-ending streams (legacy GET streams, `subscriptions/listen`), lets the
    /// other connections finish the requests in progress (up to
    /// [`ListenerConfig::shutdown_grace`]; what is left then is cut, its connection closed),
    /// then returns.
    pub fn with_graceful_shutdown<G: Future<Output = ()> + Send + 'static>(self, signal: G) -> ServeHttp<S, G> {
        ServeHttp {
            listener: self.listener,
            service: self.service,
            config: self.config,
            paths: self.paths,
            #[cfg(feature = "tls")]
            tls: self.tls,
            shutdown: signal,
        }
    }
}

impl<S, B, F> IntoFuture for ServeHttp<S, F>
where
    S: Service<Request<Incoming>, Response = Response<B>, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    F: Future<Output = ()> + Send + 'static,
{
    type Output = Result<(), TransportError>;
    type IntoFuture = BoxFuture<'static, Result<(), TransportError>>;

    fn into_future(self) -> Self::IntoFuture {
        let service = CompressPicked {
            inner: OnPath { inner: self.service, paths: Arc::from(self.paths) },
            predicate: CompressAbove(self.config.compression_threshold),
        };
        #[cfg(feature = "tls")]
        let tls = self.tls.map(|tls| tls.acceptor());
        #[cfg(not(feature = "tls"))]
        let tls = None;
        Box::pin(accept_loop(self.listener, service, self.config, tls, self.shutdown))
    }
}

#[cfg(not(feature = "tls"))]
type Acceptor = std::convert::Infallible;
#[cfg(feature = "tls")]
type Acceptor = tokio_rustls::TlsAcceptor;

async fn accept_loop<S, B>(
    listener: TcpListener,
    service: S,
    config: ListenerConfig,
    tls: Option<Acceptor>,
    shutdown: impl Future<Output = ()>,
) -> Result<(), TransportError>
where
    S: Service<Request<Incoming>, Response = Response<B>, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let admission = Admission::new(config.max_connections, config.max_connections_per_peer);
    let open = config.open_connections();
    // Told to every connection (and, through the requests' extensions, to the endpoint's
    // listen streams) at shutdown; `force` when the grace is over; the tracker says when the
    // connections have all finished.
    let closing = CancellationToken::new();
    let force = CancellationToken::new();
    let connections = TaskTracker::new();
    // Zero would make the idle check a busy loop.
    let idle_limit = config.connection_timeout.map(|limit| limit.max(Duration::from_millis(1)));
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                // A failed accept affects one connection (a peer that reset) or says the process
                // is out of descriptors: keep serving, after a pause so the latter is no busy
                // loop.
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        // Over a bound: answered 503 and closed now, not queued.
        let Some(admitted) = admission.admit(peer.ip()) else {
            admission.refuse(stream);
            continue;
        };
        let _ = stream.set_nodelay(config.tcp_nodelay);
        if let Some(interval) = config.tcp_keepalive {
            let _ = rustix::net::sockopt::set_socket_keepalive(&stream, true);
            let _ = rustix::net::sockopt::set_tcp_keepidle(&stream, interval);
        }
        let activity = Arc::new(Activity::new());
        let tracked = Tracked {
            inner: service.clone(),
            activity: activity.clone(),
            closing: ListenerClosing(closing.clone()),
            connection: ConnectionState::new(),
        };
        let service = hyper_util::service::TowerToHyperService::new(tracked);
        let mut http1 = http1::Builder::new();
        http1.keep_alive(config.keep_alive).timer(TokioTimer::new()).header_read_timeout(config.header_timeout);
        let open = OpenConnection::enter(open.clone());
        let drive = Drive { activity, idle_limit, closing: closing.clone(), force: force.clone() };
        let write_timeout = config.write_timeout;
        #[cfg(feature = "tls")]
        let (header_timeout, max_streams, tracker) =
            (config.header_timeout, config.max_concurrent_streams, connections.clone());
        // (Without the feature, `Option<Infallible>` is `Copy`.)
        #[cfg(feature = "tls")]
        let tls = tls.clone();
        connections.spawn(async move {
            let (_admitted, _open) = (admitted, open);
            let stream = SlowWriteGuard::new(stream, write_timeout);
            let Some(acceptor) = tls else {
                let connection = http1.serve_connection(TokioIo::new(stream), service);
                return drive.run(connection, |c| c.graceful_shutdown()).await;
            };
            #[cfg(not(feature = "tls"))]
            match acceptor {};
            #[cfg(feature = "tls")]
            {
                // A peer that stalls its handshake is dropped like one that stalls its headers.
                let stream = tokio::select! {
                    accepted = tokio::time::timeout(header_timeout, acceptor.accept(stream)) => match accepted {
                        Ok(Ok(stream)) => stream,
                        _ => return,
                    },
                    () = drive.closing.cancelled() => return,
                };
                if stream.get_ref().1.alpn_protocol() == Some(b"h2") {
                    let executor = StreamExecutor { tracker, force: drive.force.clone() };
                    let mut http2 = hyper::server::conn::http2::Builder::new(executor);
                    http2.timer(TokioTimer::new()).max_concurrent_streams(max_streams);
                    let connection = http2.serve_connection(TokioIo::new(stream), service);
                    drive.run(connection, |c| c.graceful_shutdown()).await;
                } else {
                    let connection = http1.serve_connection(TokioIo::new(stream), service);
                    drive.run(connection, |c| c.graceful_shutdown()).await;
                }
            }
        });
    }
    // New connections are refused from here on, not left waiting in the backlog.
    drop(listener);
    closing.cancel();
    connections.close();
    if tokio::time::timeout(config.shutdown_grace, connections.wait()).await.is_err() {
        force.cancel();
        connections.wait().await;
    }
    Ok(())
}

/// What a connection task watches while it serves: the idle limit, and the listener's shutdown
/// (graceful, then forced).
struct Drive {
    activity: Arc<Activity>,
    idle_limit: Option<Duration>,
    closing: CancellationToken,
    force: CancellationToken,
}

impl Drive {
    /// Serves `connection` (HTTP/1.1 or HTTP/2; `graceful` starts its graceful shutdown) until
    /// it ends, is idle past the limit, or the listener shuts down.
    async fn run<C: Future>(self, connection: C, graceful: impl Fn(Pin<&mut C>)) {
        tokio::pin!(connection);
        // A connection error (reset, timeout) ends this connection only.
        loop {
            // Without an idle limit, the timer never fires.
            let deadline = self.idle_limit.map(|limit| self.activity.next_check(limit));
            let idle = async move {
                match deadline {
                    Some(deadline) => tokio::time::sleep_until(deadline).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                _ = connection.as_mut() => return,
                // hyper's graceful shutdown answers the requests in progress, then closes; once
                // the grace is over, dropping the connection closes its socket.
                () = self.closing.cancelled() => {
                    graceful(connection.as_mut());
                    tokio::select! {
                        _ = connection => {}
                        () = self.force.cancelled() => {}
                    }
                    return;
                }
                () = idle => {
                    let Some(limit) = self.idle_limit else { continue };
                    if self.activity.is_idle_for(limit) {
                        graceful(connection.as_mut());
                        let _ = connection.await;
                        return;
                    }
                }
            }
        }
    }
}

/// Runs the requests of HTTP/2 connections (hyper gives each stream a task) among the
/// listener's tasks, so shutdown waits for them, and cuts them when the grace is over.
#[cfg(feature = "tls")]
#[derive(Clone)]
struct StreamExecutor {
    tracker: TaskTracker,
    force: CancellationToken,
}

#[cfg(feature = "tls")]
impl<F> hyper::rt::Executor<F> for StreamExecutor
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    fn execute(&self, stream: F) {
        let force = self.force.clone();
        self.tracker.spawn(async move {
            tokio::select! {
                _ = stream => {}
                () = force.cancelled() => {}
            }
        });
    }
}

/// When a connection last finished a request, and how many it has in progress (a request is in
/// progress from the call of the service until its response body is done or dropped).
struct Activity {
    started: Instant,
    /// Milliseconds after `started` of the last change.
    last: AtomicU64,
    in_progress: AtomicUsize,
}

impl Activity {
    fn new() -> Self {
        Activity { started: Instant::now(), last: AtomicU64::new(0), in_progress: AtomicUsize::new(0) }
    }

    fn touch(&self) {
        let now = u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last.store(now, Ordering::Relaxed);
    }

    fn idle_deadline(&self, limit: Duration) -> Instant {
        later(self.started, Duration::from_millis(self.last.load(Ordering::Relaxed)).saturating_add(limit))
    }

    /// When to look again: when the connection would become idle, or, while a request is in
    /// progress (and the last change may be long past), one `limit` from now, so a long
    /// request or event stream is not a busy loop.
    fn next_check(&self, limit: Duration) -> Instant {
        if self.in_progress.load(Ordering::Acquire) > 0 {
            later(Instant::now(), limit)
        } else {
            self.idle_deadline(limit)
        }
    }

    fn is_idle_for(&self, limit: Duration) -> bool {
        self.in_progress.load(Ordering::Acquire) == 0 && Instant::now() >= self.idle_deadline(limit)
    }
}

/// `from + by`, or about thirty years from now when that is past what an `Instant` holds (a
/// timeout of `Duration::MAX` means never).
fn later(from: Instant, by: Duration) -> Instant {
    from.checked_add(by).unwrap_or_else(|| Instant::now() + Duration::from_secs(30 * 365 * 86_400))
}

/// Put in every request's extensions by [`serve_http`]: cancelled when the listener starts
/// shutting down, so streams that would never end by themselves (a legacy GET stream, a
/// 2026-07-28 `subscriptions/listen`) end then instead of holding the shutdown for the whole
/// grace.
#[derive(Debug, Clone)]
pub(crate) struct ListenerClosing(pub(crate) CancellationToken);

/// One request in progress on a connection, until dropped.
struct InProgress(Arc<Activity>);

impl InProgress {
    fn enter(activity: &Arc<Activity>) -> Self {
        activity.in_progress.fetch_add(1, Ordering::AcqRel);
        activity.touch();
        InProgress(activity.clone())
    }
}

impl Drop for InProgress {
    fn drop(&mut self) {
        self.0.touch();
        self.0.in_progress.fetch_sub(1, Ordering::AcqRel);
    }
}

/// The service of one connection, counting its requests in progress and handing each the
/// connection's [`ConnectionState`].
#[derive(Clone)]
struct Tracked<S> {
    inner: S,
    activity: Arc<Activity>,
    closing: ListenerClosing,
    connection: ConnectionState,
}

impl<S, B> Service<Request<Incoming>> for Tracked<S>
where
    S: Service<Request<Incoming>, Response = Response<B>, Error = Infallible>,
{
    type Response = Response<TrackedBody<B>>;
    type Error = Infallible;
    type Future = TrackedFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<Incoming>) -> Self::Future {
        request.extensions_mut().insert(self.closing.clone());
        request.extensions_mut().insert(self.connection.clone());
        // HTTP/2 names the target host in `:authority`; the endpoint's checks (and a user's
        // routes) read `Host`, which an HTTP/2 client need not send (RFC 9113 §8.3.1).
        if request.version() == http::Version::HTTP_2 && !request.headers().contains_key(http::header::HOST) {
            let host = request.uri().authority().and_then(|a| http::HeaderValue::from_str(a.as_str()).ok());
            if let Some(host) = host {
                request.headers_mut().insert(http::header::HOST, host);
            }
        }
        let guard = InProgress::enter(&self.activity);
        TrackedFuture { inner: self.inner.call(request), guard: Some(guard) }
    }
}

pin_project_lite::pin_project! {
    /// The response future of [`Tracked`]: the request stays in progress in its body.
    struct TrackedFuture<F> {
        #[pin]
        inner: F,
        guard: Option<InProgress>,
    }
}

impl<F, B> Future for TrackedFuture<F>
where
    F: Future<Output = Result<Response<B>, Infallible>>,
{
    type Output = Result<Response<TrackedBody<B>>, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let response = match this.inner.poll(cx) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(Ok(response)) => response,
            Poll::Ready(Err(never)) => match never {},
        };
        let guard = this.guard.take();
        Poll::Ready(Ok(response.map(|inner| TrackedBody { inner, _guard: guard })))
    }
}

pin_project_lite::pin_project! {
    /// A response body that keeps its request in progress until it is done or dropped.
    struct TrackedBody<B> {
        #[pin]
        inner: B,
        _guard: Option<InProgress>,
    }
}

impl<B: http_body::Body> http_body::Body for TrackedBody<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        self.project().inner.poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

/// A response of [`OnPath`]: the service's, or the `404`.
type PathResponse<B> = Response<Either<B, Full<Bytes>>>;

/// The service at the paths named (`404` elsewhere), or at every path when none is.
#[derive(Clone)]
struct OnPath<S> {
    inner: S,
    paths: Arc<[Box<str>]>,
}

impl<S, B> Service<Request<Incoming>> for OnPath<S>
where
    S: Service<Request<Incoming>, Response = Response<B>, Error = Infallible>,
{
    type Response = PathResponse<B>;
    type Error = Infallible;
    type Future = futures_util::future::Either<
        futures_util::future::MapOk<S::Future, fn(Response<B>) -> PathResponse<B>>,
        std::future::Ready<Result<PathResponse<B>, Infallible>>,
    >;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<Incoming>) -> Self::Future {
        use futures_util::TryFutureExt as _;
        let path = request.uri().path();
        if self.paths.is_empty() || self.paths.iter().any(|p| **p == *path) {
            let left: fn(Response<B>) -> PathResponse<B> = |r| r.map(Either::Left);
            futures_util::future::Either::Left(self.inner.call(request).map_ok(left))
        } else {
            let mut response = Response::new(Either::Right(Full::new(Bytes::from_static(b"not found"))));
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
