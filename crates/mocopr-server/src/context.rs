//! [`RequestCtx`]: what a handler knows about the request it serves and what it can do besides
//! returning a result (report progress, log, notice cancellation, ask the client for input).

use std::sync::Arc;

use mocopr_core::jsonrpc::RequestId;
use mocopr_core::types::{
    ClientCapabilities, InputCall, InputRequest, InputRequests, InputRequiredResult, InputResponse, InputResponses,
    LoggingLevel, LoggingMessageNotificationParams, ProgressNotificationParams,
};
use mocopr_core::{ProtocolVersion, RequestId as Id, ServerNotification};
use tokio_util::sync::CancellationToken;

use crate::error::HandlerError;
use mocopr_transport::{Notifier, Session};

/// The context of one request. Cheap to clone.
#[derive(Debug, Clone)]
pub struct RequestCtx {
    inner: Arc<CtxInner>,
}

#[derive(Debug)]
pub(crate) struct CtxInner {
    pub(crate) id: RequestId,
    pub(crate) version: ProtocolVersion,
    pub(crate) capabilities: Arc<ClientCapabilities>,
    pub(crate) progress_token: Option<Id>,
    pub(crate) log_level: Option<LoggingLevel>,
    pub(crate) cancel: CancellationToken,
    pub(crate) notifier: Option<Notifier>,
    pub(crate) input_responses: Option<InputResponses>,
    pub(crate) request_state: Option<String>,
    pub(crate) session: Option<Arc<Session>>,
    /// The authenticated caller, when an authorization layer established one.
    pub(crate) principal: Option<mocopr_core::principal::Principal>,
    /// What the layers in front of an HTTP endpoint left in the HTTP request.
    #[cfg(feature = "http")]
    pub(crate) http: Option<mocopr_transport::http::HttpExtensions>,
    pub(crate) origin: Option<crate::dispatch::Origin>,
    pub(crate) changes: crate::changes::ChangeNotifier,
    /// Set when the request became a task.
    pub(crate) task: std::sync::OnceLock<Arc<crate::tasks::TaskEntry>>,
    /// Set when the handler sent the client a (legacy) request for input.
    pub(crate) asked_peer: AskedPeer,
}

/// Whether a request's handler asked the client for input; shared between the context and
/// the request's extensions, so the response can be marked [`InputWasRequested`](mocopr_core::service::InputWasRequested).
#[derive(Debug, Clone, Default)]
pub(crate) struct AskedPeer(pub(crate) Arc<std::sync::atomic::AtomicBool>);

impl RequestCtx {
    /// Records that the handler sent the client a request for input.
    pub(crate) fn mark_asked_peer(&self) {
        self.inner.asked_peer.0.store(true, std::sync::atomic::Ordering::Relaxed);
    }

    pub(crate) fn new(inner: CtxInner) -> Self {
        RequestCtx { inner: Arc::new(inner) }
    }

    /// The JSON-RPC id of the request.
    pub fn request_id(&self) -> &RequestId {
        &self.inner.id
    }

    /// The protocol revision the request is served under.
    pub fn protocol_version(&self) -> ProtocolVersion {
        self.inner.version
    }

    /// The client's capabilities for this request (modern: from its `_meta`; legacy: from
    /// `initialize`).
    pub fn client_capabilities(&self) -> &ClientCapabilities {
        &self.inner.capabilities
    }

    /// The authenticated caller, when an authorization layer in front of the endpoint
    /// established one (see [`Principal`](mocopr_core::principal::Principal)).
    pub fn principal(&self) -> Option<&mocopr_core::principal::Principal> {
        self.inner.principal.as_ref()
    }

    /// A value of type `T` a layer in front of the HTTP endpoint put in the HTTP request's
    /// extensions (axum's `ConnectInfo`, a request id, your own); `None` over stdio.
    ///
    /// ```
    /// use mocopr_server::{McpServer, RequestCtx};
    ///
    /// #[derive(Clone)]
    /// struct Tenant(String);
    ///
    /// let server = McpServer::builder()
    ///     .tool("tenant", |ctx: RequestCtx| async move {
    ///         ctx.http_extension::<Tenant>().map_or_else(|| "none".to_owned(), |t| t.0.clone())
    ///     })
    ///     .build()
    ///     .expect("server");
    /// # let _ = server;
    /// ```
    #[cfg(feature = "http")]
    pub fn http_extension<T: Send + Sync + 'static>(&self) -> Option<&T> {
        self.inner.http.as_ref()?.get::<T>()
    }

    /// Resolves when the client cancels the request (stdio `notifications/cancelled`, HTTP stream
    /// closed) or the connection goes away.
    pub async fn cancelled(&self) {
        self.inner.cancel.cancelled().await
    }

    /// Whether the request was cancelled.
    pub fn is_cancelled(&self) -> bool {
        self.inner.cancel.is_cancelled()
    }

    /// Reports progress, when the client asked for it with a progress token. `progress` must
    /// increase from one call to the next.
    ///
    /// ```
    /// use mocopr_server::RequestCtx;
    ///
    /// async fn crunch(ctx: RequestCtx) -> &'static str {
    ///     for step in 1..=4 {
    ///         ctx.progress(f64::from(step), Some(4.0), Some(format!("step {step} of 4"))).await;
    ///     }
    ///     "done"
    /// }
    /// # let _ = mocopr_server::McpServer::builder().tool("crunch", crunch).build().unwrap();
    /// ```
    pub async fn progress(&self, progress: f64, total: Option<f64>, message: Option<String>) {
        let (Some(token), Some(notifier)) = (&self.inner.progress_token, &self.inner.notifier) else {
            return;
        };
        let mut params = ProgressNotificationParams::new(token.clone(), progress);
        if let Some(total) = total {
            params = params.with_total(total);
        }
        params.message = message;
        notifier.send(ServerNotification::Progress(params)).await;
    }

    /// Sends a log message, when the client asked for this level or a more verbose one
    /// (modern: `_meta` `logLevel` of the request; legacy: `logging/setLevel`).
    ///
    /// ```
    /// use mocopr_core::types::LoggingLevel;
    /// use mocopr_server::RequestCtx;
    ///
    /// async fn work(ctx: RequestCtx) -> &'static str {
    ///     ctx.log(LoggingLevel::Info, Some("work"), serde_json::json!("starting")).await;
    ///     "done"
    /// }
    /// # let _ = mocopr_server::McpServer::builder().tool("work", work).build().unwrap();
    /// ```
    pub async fn log(&self, level: LoggingLevel, logger: Option<&str>, data: serde_json::Value) {
        let (Some(min), Some(notifier)) = (self.inner.log_level, &self.inner.notifier) else {
            return;
        };
        if level < min {
            return;
        }
        let mut params = LoggingMessageNotificationParams::new(level, data);
        params.logger = logger.map(str::to_owned);
        notifier.send(ServerNotification::LoggingMessage(params)).await;
    }

    /// Ends the connection carrying this request's event stream without ending the request
    /// (SSE polling, legacy Streamable HTTP from 2025-11-25 on): the client reconnects after the
    /// server's `retry` delay and resumes after the last event it got, and what the handler
    /// sends meanwhile waits, recorded. Returns `false` where that is not possible (stdio,
    /// 2026-07-28, a request without a session or of an earlier revision); the stream then
    /// simply stays open, as it does when the endpoint's store records no request streams.
    ///
    /// ```
    /// use std::time::Duration;
    /// use mocopr_server::RequestCtx;
    ///
    /// async fn long_job(ctx: RequestCtx) -> &'static str {
    ///     ctx.progress(1.0, Some(2.0), None).await;
    ///     // Nothing to say for a while: let the client poll instead of holding a connection.
    ///     ctx.close_stream();
    ///     tokio::time::sleep(Duration::from_millis(50)).await;
    ///     "done"
    /// }
    /// # let _ = mocopr_server::McpServer::builder().tool("long_job", long_job).build().unwrap();
    /// ```
    pub fn close_stream(&self) -> bool {
        self.inner.notifier.as_ref().is_some_and(Notifier::close_stream)
    }

    /// Announces server changes (e.g. a tool added) to every listen stream.
    pub fn changes(&self) -> &crate::changes::ChangeNotifier {
        &self.inner.changes
    }

    pub(crate) fn task(&self) -> Option<&Arc<crate::tasks::TaskEntry>> {
        self.inner.task.get()
    }

    pub(crate) fn set_task(&self, task: Arc<crate::tasks::TaskEntry>) {
        let _ = self.inner.task.set(task);
    }

    pub(crate) fn origin(&self) -> Option<&crate::dispatch::Origin> {
        self.inner.origin.as_ref()
    }

    pub(crate) fn session(&self) -> Option<&Arc<Session>> {
        self.inner.session.as_ref()
    }

    pub(crate) fn notifier(&self) -> Option<&Notifier> {
        self.inner.notifier.as_ref()
    }

    /// The client's answer under `key`, when this request is a retry carrying `inputResponses`.
    pub fn input_response(&self, key: &str) -> Option<&InputResponse> {
        self.inner.input_responses.as_ref()?.get(key)
    }

    /// The verified `requestState` of this retry, if any.
    pub fn request_state(&self) -> Option<&str> {
        self.inner.request_state.as_deref()
    }

    /// An error that asks the client for `requests` and carries `state` to the retry: return it
    /// from a handler (with `?` or `Err`) to answer with an `InputRequiredResult`. A request
    /// the client has no capability for makes it the `-32021` error instead: the client was
    /// never asked for what it cannot give.
    pub fn input_required(&self, requests: Vec<(String, InputCall)>, state: Option<String>) -> HandlerError {
        for (_, call) in &requests {
            if let Err(error) =
                crate::input::require_capability(self.client_capabilities(), self.protocol_version(), call)
            {
                return error;
            }
        }
        let requests: InputRequests = requests.into_iter().map(|(k, call)| (k, InputRequest::from(call))).collect();
        let requests = (!requests.is_empty()).then_some(requests);
        HandlerError::InputRequired(Box::new(InputRequiredResult::new(requests, state)))
    }
}
