//! Serving a byte-stream connection (stdio, a child's pipes, an in-memory pair).
//!
//! One loop reads every frame available, decodes each once, and calls the service. A request
//! whose future completes on its first poll (most of them: no I/O in the handler) is answered
//! inline, into a buffer that goes out as one write after the whole read is processed; the rest
//! run as tasks, bounded by `max_in_flight`, and answer through the same coalescing writer.
//! `notifications/cancelled` stops a running request (and suppresses its response).

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use bytes::Bytes;
use tokio::io::AsyncRead;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tower_service::Service;

use mocopr_core::jsonrpc::{DecodeOptions, Envelope, Frame, JsonRpcErrorResponse, decode};
use mocopr_core::service::{McpRequest, McpResponse};
use mocopr_core::types::CancelledNotificationParams;
use mocopr_core::{ProtocolError, RequestId};
use mocopr_transport::result_stream::{STREAM_CHUNKS_QUEUED, response_bytes, send_response};
use mocopr_transport::{FrameReader, FrameSink, FramingConfig, Inbound, TransportError, spawn_writer, stdio};

use mocopr_transport::Notifier;
use mocopr_transport::Session;

/// Requests running at once on one connection, unless set with
/// [`StdioConfigBuilder::with_max_in_flight`].
pub(crate) const DEFAULT_MAX_IN_FLIGHT: usize = 1024;
/// Time running requests get to finish after the input closes, unless set with
/// [`StdioConfigBuilder::with_drain_timeout`].
pub(crate) const DEFAULT_DRAIN_TIMEOUT: Duration = Duration::from_secs(5);

/// How a byte-stream connection (stdio, a child's pipes, an in-memory pair) is served. Made
/// with [`StdioConfig::builder`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct StdioConfig {
    /// Framing and buffers.
    pub framing: FramingConfig,
    /// Requests running at once; reading pauses while the bound is reached.
    pub max_in_flight: usize,
    /// Time running requests get to finish after the peer closes its side.
    pub drain_timeout: Duration,
}

impl Default for StdioConfig {
    fn default() -> Self {
        StdioConfig {
            framing: FramingConfig::default(),
            max_in_flight: DEFAULT_MAX_IN_FLIGHT,
            drain_timeout: DEFAULT_DRAIN_TIMEOUT,
        }
    }
}

impl StdioConfig {
    /// Starts from the defaults.
    ///
    /// ```
    /// use mocopr_server::StdioConfig;
    ///
    /// let config = StdioConfig::builder().with_max_in_flight(64).build();
    /// assert_eq!(config.max_in_flight, 64);
    /// ```
    pub fn builder() -> StdioConfigBuilder {
        StdioConfigBuilder { config: StdioConfig::default() }
    }
}

/// Builds a [`StdioConfig`].
#[derive(Debug, Clone)]
pub struct StdioConfigBuilder {
    config: StdioConfig,
}

impl StdioConfigBuilder {
    /// Sets the requests running at once (default 1,024; at least 1).
    pub fn with_max_in_flight(mut self, requests: usize) -> Self {
        self.config.max_in_flight = requests.max(1);
        self
    }

    /// Sets the framing and buffers (default [`FramingConfig::default`]).
    pub fn with_framing(mut self, framing: FramingConfig) -> Self {
        self.config.framing = framing;
        self
    }

    /// Sets the time running requests get to finish after the peer closes its side (default
    /// 5 s).
    pub fn with_drain_timeout(mut self, timeout: Duration) -> Self {
        self.config.drain_timeout = timeout;
        self
    }

    /// The configuration.
    pub fn build(self) -> StdioConfig {
        self.config
    }
}

/// Serves `service` on this process's stdin and stdout until stdin closes.
///
/// ```no_run
/// use mocopr_server::{McpServer, StdioConfig, serve_stdio};
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let server = McpServer::builder().tool("hello", || async { "Hello!" }).build()?;
/// serve_stdio(server, StdioConfig::default()).await?;
/// # Ok(()) }
/// ```
pub async fn serve_stdio<S>(service: S, config: StdioConfig) -> Result<(), TransportError>
where
    S: Service<McpRequest, Response = McpResponse, Error = std::convert::Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    serve_stdio_until(service, config, std::future::pending()).await
}

/// Serves `service` over stdin/stdout until stdin closes or `shutdown` resolves (e.g.
/// [`shutdown_signal`](crate::shutdown_signal)): then it reads nothing more, lets the requests
/// in flight finish and be answered (up to the drain timeout; listen streams end at once),
/// and returns.
///
/// ```no_run
/// use std::time::Duration;
/// use mocopr_server::{McpServer, StdioConfig, serve_stdio_until};
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let server = McpServer::builder().tool("hello", || async { "Hello!" }).build()?;
/// serve_stdio_until(server, StdioConfig::default(), tokio::time::sleep(Duration::from_secs(60))).await?;
/// # Ok(()) }
/// ```
pub async fn serve_stdio_until<S, F>(service: S, config: StdioConfig, shutdown: F) -> Result<(), TransportError>
where
    S: Service<McpRequest, Response = McpResponse, Error = std::convert::Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
    F: Future<Output = ()>,
{
    config.framing.validate()?;
    let reader = FrameReader::new(stdio::stdin(), &config.framing);
    let (sink, writer) = spawn_writer(stdio::stdout(), &config.framing);
    serve_connection_until(service, reader, sink, config, shutdown).await?;
    writer.await.map_err(|e| TransportError::Io { source: std::io::Error::other(e) })?
}

type InFlight = Arc<Mutex<HashMap<RequestId, CancellationToken>>>;

/// Serves `service` on one framed connection until its input ends, then lets running requests
/// finish (up to the drain timeout).
///
/// ```
/// use mocopr_server::{McpServer, StdioConfig, serve_connection};
/// use mocopr_transport::{FramingConfig, memory};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let server = McpServer::builder().tool("hello", || async { "Hello!" }).build().unwrap();
/// let (client_end, server_end) = memory::pair(&FramingConfig::default());
/// tokio::spawn(serve_connection(server, server_end.reader, server_end.sink, StdioConfig::default()));
/// # drop(client_end);
/// # }
/// ```
pub async fn serve_connection<S, R>(
    service: S,
    reader: FrameReader<R>,
    sink: FrameSink,
    config: StdioConfig,
) -> Result<(), TransportError>
where
    S: Service<McpRequest, Response = McpResponse, Error = std::convert::Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
    R: AsyncRead + Unpin,
{
    serve_connection_until(service, reader, sink, config, std::future::pending()).await
}

/// [`serve_connection`], reading no more once `shutdown` resolves.
async fn serve_connection_until<S, R, F>(
    service: S,
    mut reader: FrameReader<R>,
    sink: FrameSink,
    config: StdioConfig,
    shutdown: F,
) -> Result<(), TransportError>
where
    S: Service<McpRequest, Response = McpResponse, Error = std::convert::Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
    R: AsyncRead + Unpin,
    F: Future<Output = ()>,
{
    let session = Arc::new(Session::new());
    // However the connection ends (input over, a read or write error), its session ends too.
    let _ends = EndsSession(session.clone());
    let connection = CancellationToken::new();
    // Listen streams never end by themselves: once the input is over, nobody can cancel them,
    // so they end with it instead of holding the drain up.
    let listens = connection.child_token();
    let in_flight: InFlight = Arc::default();
    let permits = Arc::new(Semaphore::new(config.max_in_flight.max(1)));
    let mut tasks = JoinSet::new();
    let mut batch = Vec::new();
    let mut out = Vec::with_capacity(config.framing.write_buffer_size);

    let mut conn =
        Connection { service, session, sink, connection: connection.clone(), listens: listens.clone(), in_flight };
    tokio::pin!(shutdown);
    loop {
        let more = tokio::select! {
            biased;
            // Asked to stop: what was read is served, nothing more is read.
            () = &mut shutdown => false,
            more = reader.read_batch(&mut batch) => more?,
        };
        if !more {
            break;
        }
        for item in batch.drain(..) {
            match item {
                Inbound::Frame(frame) => conn.frame(frame, &mut out, &permits, &mut tasks).await,
                Inbound::Invalid(error) => write_rejection(&mut out, None, error.into()),
            }
            // Reap finished tasks so the set stays small.
            while tasks.try_join_next().is_some() {}
        }
        if !out.is_empty() {
            let bytes = Bytes::from(std::mem::replace(&mut out, Vec::with_capacity(config.framing.write_buffer_size)));
            conn.sink.send(bytes).await?;
        }
    }
    // The peer closed its side (or the server is stopping): end its listen streams, give
    // running requests a moment, then stop them.
    listens.cancel();
    if tokio::time::timeout(config.drain_timeout, async { while tasks.join_next().await.is_some() {} }).await.is_err() {
        connection.cancel();
        tasks.abort_all();
    }
    Ok(())
}

/// Ends a session when dropped.
struct EndsSession(Arc<Session>);

impl Drop for EndsSession {
    fn drop(&mut self) {
        self.0.end();
    }
}

struct Connection<S> {
    service: S,
    session: Arc<Session>,
    sink: FrameSink,
    connection: CancellationToken,
    listens: CancellationToken,
    in_flight: InFlight,
}

impl<S> Connection<S>
where
    S: Service<McpRequest, Response = McpResponse, Error = std::convert::Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    async fn frame(&mut self, frame: Bytes, out: &mut Vec<u8>, permits: &Arc<Semaphore>, tasks: &mut JoinSet<()>) {
        let batches = self.session.state().is_some_and(|s| s.version.allows_batches());
        let options = DecodeOptions::default().with_batches(batches);
        match decode(&frame, &options) {
            // A notification is never answered, whatever is wrong with it.
            Err(rejection) if rejection.notification => {
                tracing::debug!(error = %rejection.error, "a malformed notification was dropped");
            }
            Err(rejection) => write_rejection(out, rejection.id, rejection.error),
            Ok(Frame::Single(envelope)) => self.envelope(envelope, &frame, out, permits, tasks).await,
            Ok(Frame::Batch(entries)) => self.batch(entries, &frame, out).await,
        }
    }

    async fn envelope(
        &mut self,
        envelope: Envelope<'_>,
        frame: &Bytes,
        out: &mut Vec<u8>,
        permits: &Arc<Semaphore>,
        tasks: &mut JoinSet<()>,
    ) {
        match envelope {
            Envelope::Request(raw) => {
                let parent = if raw.method == "subscriptions/listen" { &self.listens } else { &self.connection };
                let token = parent.child_token();
                let request = self.request(McpRequest::from_raw(&raw, frame), token.clone());
                let id = request.id.clone();
                // The permit comes first: even the first poll starts the handler. While the bound
                // is reached, reading waits here.
                let permit = match permits.clone().try_acquire_owned() {
                    Ok(permit) => permit,
                    Err(_) => match permits.clone().acquire_owned().await {
                        Ok(permit) => permit,
                        Err(_) => return,
                    },
                };
                let mut future = Box::pin(self.service.call(request));
                // Most handlers finish without waiting on anything: answer those inline.
                if let Poll::Ready(Ok(response)) = future.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
                    drop(permit);
                    if response.result_json().is_some() || response.outcome.is_err() {
                        write_response(out, &response);
                    } else {
                        tasks.spawn(send_streamed(self.sink.clone(), response));
                    }
                    return;
                }
                lock(&self.in_flight).insert(id.clone(), token.clone());
                let sink = self.sink.clone();
                let in_flight = self.in_flight.clone();
                tasks.spawn(async move {
                    let _permit = permit;
                    tokio::select! {
                        Ok(response) = future => {
                            lock(&in_flight).remove(&id);
                            if !token.is_cancelled() {
                                send_streamed(sink, response).await;
                            }
                        }
                        () = token.cancelled() => {
                            lock(&in_flight).remove(&id);
                        }
                    }
                });
            }
            Envelope::Notification(n) => match n.method.as_ref() {
                "notifications/cancelled" => {
                    if let Ok(params) = n.params::<CancelledNotificationParams>()
                        && let Some(token) = params.request_id.and_then(|id| lock(&self.in_flight).remove(&id))
                    {
                        token.cancel();
                    }
                }
                "notifications/initialized" => self.session.update(|s| s.initialized = true),
                _ => {}
            },
            // Answers to this session's server-to-client requests.
            Envelope::Response(response) => {
                let value = serde_json::from_str(response.result.get()).unwrap_or_default();
                self.session.complete_request(&response.id, Ok(value));
            }
            Envelope::Error(error) => {
                if let Some(id) = &error.id {
                    self.session.complete_request(id, Err(error.error));
                }
            }
        }
    }

    /// A 2025-03-26 batch: every request answered, in one array, once all are done.
    async fn batch(
        &mut self,
        entries: Vec<Result<Envelope<'_>, mocopr_core::Rejection>>,
        frame: &Bytes,
        out: &mut Vec<u8>,
    ) {
        let mut responses = Vec::new();
        for entry in entries {
            match entry {
                Err(rejection) if rejection.notification => {}
                Err(rejection) => {
                    let mut one = Vec::new();
                    write_rejection_body(&mut one, rejection.id, rejection.error);
                    responses.push(one);
                }
                Ok(Envelope::Request(raw)) => {
                    let request = self.request(McpRequest::from_raw(&raw, frame), self.connection.child_token());
                    let Ok(response) = self.service.call(request).await;
                    responses.push(response_bytes(response).await);
                }
                Ok(Envelope::Notification(_)) | Ok(Envelope::Response(_)) | Ok(Envelope::Error(_)) => {}
            }
        }
        if responses.is_empty() {
            return;
        }
        out.push(b'[');
        for (i, response) in responses.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.extend_from_slice(response);
        }
        out.extend_from_slice(b"]\n");
    }

    fn request(&self, mut request: McpRequest, token: CancellationToken) -> McpRequest {
        request.extensions.insert(self.session.clone());
        request.extensions.insert(Notifier::stream(self.sink.clone()));
        request.extensions.insert(token);
        request
    }
}

fn lock(map: &InFlight) -> std::sync::MutexGuard<'_, HashMap<RequestId, CancellationToken>> {
    map.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Sends one response: whole results as one frame, streamed results piece by piece as one
/// frame the writer keeps together.
async fn send_streamed(sink: FrameSink, response: McpResponse) {
    let (tx, rx) = tokio::sync::mpsc::channel(STREAM_CHUNKS_QUEUED);
    if sink.send_stream(rx).await.is_ok() {
        send_response(response, b"", b"\n", &tx).await;
    }
}

fn write_response(out: &mut Vec<u8>, response: &McpResponse) {
    response.write_message(out);
    out.push(b'\n');
}

fn write_rejection(out: &mut Vec<u8>, id: Option<RequestId>, error: ProtocolError) {
    write_rejection_body(out, id, error);
    out.push(b'\n');
}

fn write_rejection_body(out: &mut Vec<u8>, id: Option<RequestId>, error: ProtocolError) {
    let response = JsonRpcErrorResponse::new(id, error.to_error_object());
    // An error object of plain fields always serializes.
    let _ = serde_json::to_writer(&mut *out, &response);
}
