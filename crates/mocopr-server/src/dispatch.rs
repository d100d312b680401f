//! The era-aware dispatcher: [`McpServer`] as a `tower::Service<McpRequest>`.
//!
//! Per request: a modern `_meta` protocol version makes the request modern (stateless, checked
//! against the modern rules); otherwise it belongs to the legacy session that `initialize` opened
//! on its connection. Then the method is checked against the revision and routed.

use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use bytes::Bytes;
use serde::Serialize;
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use mocopr_core::error::HeaderProblem;
use mocopr_core::header::decode_header_value;
use mocopr_core::meta::PROTOCOL_VERSION_KEY;
use mocopr_core::service::{McpHeaders, McpRequest, McpResponse, RawJson, ResultBody};
use mocopr_core::types::*;
use mocopr_core::x_mcp_header::ParamHeader;
use mocopr_core::{ClientRequest, ErrorCode, ErrorObject, ProtocolError, ProtocolVersion};

use crate::context::{AskedPeer, CtxInner, RequestCtx};
use crate::error::HandlerError;
use crate::handler::{BodyKind, Input, RequestParts};
use crate::server::McpServer;
use crate::tasks::TaskEntry;
use futures_util::FutureExt;
use mocopr_transport::Notifier;
use mocopr_transport::{Session, SessionState};

/// The era and client facts a request is served under.
struct Served {
    /// The HTTP request headers of a modern request, checked further per tool (`Mcp-Param-*`).
    headers: Option<McpHeaders>,
    version: ProtocolVersion,
    capabilities: Arc<ClientCapabilities>,
    log_level: Option<LoggingLevel>,
    progress_token: Option<mocopr_core::RequestId>,
}

pub(crate) type Outcome = Result<RawJson, ErrorObject>;

/// The method and name (tool, prompt, URI) of a request that may ask for input.
/// The request a `requestState` belongs to: its method, its tool or prompt name (or resource
/// URI), and the digest binding it to the arguments and the caller.
pub(crate) type Origin = (&'static str, String, crate::request_state::BindingSource);

impl McpServer {
    /// Serves one request, without the layers (what the innermost layer calls).
    pub(crate) async fn dispatch_request(&self, mut request: McpRequest) -> McpResponse {
        let id = request.id.clone();
        // A panicking handler answers with an internal error; the server goes on.
        let dispatched = std::panic::AssertUnwindSafe(self.dispatch(&mut request)).catch_unwind().await;
        let mut response = match dispatched.unwrap_or_else(|panic| Err(crate::panics::panicked(panic.as_ref()))) {
            Ok(ResultBody::Json(result)) => McpResponse::result(id, result),
            Ok(ResultBody::Stream(stream)) => McpResponse::stream(id, stream),
            Ok(_) => McpResponse::error(id, ErrorObject::new(ErrorCode::INTERNAL_ERROR, "unsupported result body")),
            Err(error) => McpResponse::error(id, error),
        };
        response.version = request.version;
        let asked = request.extensions.get::<AskedPeer>();
        if asked.is_some_and(|a| a.0.load(std::sync::atomic::Ordering::Relaxed)) {
            response.extensions.insert(mocopr_core::service::InputWasRequested);
        }
        response
    }

    async fn dispatch(&self, request: &mut McpRequest) -> Result<ResultBody, ErrorObject> {
        let session = request.extensions.get::<Arc<Session>>().cloned();
        let params = request.params.as_ref().map(RawJson::as_str);
        let mut body = ClientRequest::decode_text(request.method.as_str(), params)
            .map_err(|e| self.undecodable(request.method.as_str(), params, e))?;
        // A server configured without the modern revision treats modern requests as the legacy
        // server it is would: by the legacy rules (so clients fall back to `initialize`).
        let declared = body
            .request_meta()
            .and_then(|m| m.protocol_version.as_deref())
            .filter(|_| !self.inner.modern_versions.is_empty());
        // Every legacy HTTP request shares the server's changes through its endpoint's log (a
        // no-op after the first), so a process that only serves sessions others created still
        // records its changes for them.
        #[cfg(feature = "http")]
        if session.is_some()
            && let Some(log) = request.extensions.get::<mocopr_transport::http::StandaloneEvents>()
        {
            self.inner.changes.share(log.0.clone());
        }
        let served = match declared {
            Some(_) => self.modern(&body, request.extensions.get::<McpHeaders>())?,
            None => match &body {
                ClientRequest::Initialize(params) => {
                    // Change notifications go to a byte-stream connection's output, or to the
                    // HTTP endpoint's event log its sessions' standalone streams are read from.
                    let changes = match request.extensions.get::<McpHeaders>() {
                        None => request.extensions.get::<Notifier>().cloned().map(SessionChanges::Stream),
                        #[cfg(feature = "http")]
                        Some(_) => request
                            .extensions
                            .get::<mocopr_transport::http::StandaloneEvents>()
                            .map(|_| SessionChanges::Shared),
                        #[cfg(not(feature = "http"))]
                        Some(_) => None,
                    };
                    // What a session keeps for its whole life is bounded before it is kept.
                    let size = request.params.as_ref().map_or(0, |p| p.as_bytes().len());
                    let limit = self.inner.limits.max_handshake_size;
                    if size > limit {
                        mocopr_transport::limit_reached("max_handshake_size");
                        return Err(ErrorObject::new(
                            ErrorCode::INVALID_PARAMS,
                            format!("initialize params of {size} bytes exceed the limit of {limit}"),
                        ));
                    }
                    return self.initialize(params, session.as_ref(), changes).map(ResultBody::Json);
                }
                ClientRequest::Ping(_) => return Ok(ResultBody::Json(empty_result(false))),
                _ => match session
                    .as_ref()
                    .and_then(|s| s.state())
                    .or_else(|| request.version.and_then(|v| self.stateless_legacy(v)))
                {
                    Some(state) => self.legacy(&body, state)?,
                    None => {
                        return Err(ProtocolError::MissingMeta { key: PROTOCOL_VERSION_KEY }.to_error_object());
                    }
                },
            },
        };
        request.version = Some(served.version);
        let principal = request.extensions.get::<mocopr_core::principal::Principal>().cloned();
        // What a requestState would be bound to (for the three requests that can carry one);
        // the digest is computed only when a state is signed or checked (rare), not on every call.
        let bind = |method: &'static str, name: &str| {
            let source = crate::request_state::BindingSource::new(request.params.clone(), principal.clone());
            Some((method, name.to_owned(), source))
        };
        let (origin, input_responses, token) = match &mut body {
            ClientRequest::CallTool(p) => {
                (bind("tools/call", &p.name), p.input_responses.take(), p.request_state.take())
            }
            ClientRequest::GetPrompt(p) => {
                (bind("prompts/get", &p.name), p.input_responses.take(), p.request_state.take())
            }
            ClientRequest::ReadResource(p) => {
                (bind("resources/read", &p.uri), p.input_responses.take(), p.request_state.take())
            }
            _ => (None, None, None),
        };
        // The state is verified before any handler sees it: tampered, expired or foreign
        // states are refused here.
        let request_state = match (token, &origin) {
            (Some(token), Some((method, name, source))) => self
                .inner
                .state_signer
                .verify(&token, method, name, &source.binding(method, name))
                .map_err(|e| ErrorObject::new(ErrorCode::INVALID_PARAMS, e.message()))?,
            _ => None,
        };
        let ctx = RequestCtx::new(CtxInner {
            id: request.id.clone(),
            version: served.version,
            capabilities: served.capabilities,
            progress_token: served.progress_token,
            log_level: served.log_level,
            cancel: request.extensions.remove::<CancellationToken>().unwrap_or_default(),
            notifier: request.extensions.get::<Notifier>().cloned(),
            input_responses,
            request_state,
            session: session.clone(),
            principal,
            #[cfg(feature = "http")]
            http: request.extensions.get::<mocopr_transport::http::HttpExtensions>().cloned(),
            origin,
            changes: self.inner.changes.clone(),
            task: Default::default(),
            asked_peer: {
                let asked = AskedPeer::default();
                request.extensions.insert(asked.clone());
                asked
            },
        });
        // Boxed, like the handlers under it: see `route`.
        Box::pin(self.route(body, ctx, session, served.headers)).await
    }

    /// The error for params that do not decode: a method that does not exist in the modern
    /// revision the request declares is `-32601` whatever its params look like; anything else
    /// keeps its decoding error. Only runs on the error path.
    fn undecodable(&self, method: &str, params: Option<&str>, error: ProtocolError) -> ErrorObject {
        #[derive(serde::Deserialize)]
        struct MetaOnly {
            #[serde(rename = "_meta")]
            meta: Option<mocopr_core::meta::RequestMeta>,
        }
        let declared = params
            .and_then(|p| serde_json::from_str::<MetaOnly>(p).ok())
            .and_then(|m| m.meta)
            .and_then(|m| m.protocol_version)
            .and_then(|v| ProtocolVersion::parse(&v))
            .filter(|v| v.is_modern() && self.inner.modern_versions.contains(v));
        match declared {
            Some(version)
                if !ClientRequest::method_available_in(method, version) && ClientRequest::METHODS.contains(&method) =>
            {
                ProtocolError::MethodNotInVersion { method: method.into(), version }.to_error_object()
            }
            _ => error.to_error_object(),
        }
    }

    /// A legacy request arriving without a session (stateless legacy HTTP): served as the
    /// revision its header named, with no client capabilities.
    fn stateless_legacy(&self, version: ProtocolVersion) -> Option<SessionState> {
        (!version.is_modern() && self.inner.versions.contains(&version)).then(|| {
            SessionState::new(version, Arc::new(ClientCapabilities::default()), Implementation::new("unknown", "0"))
        })
    }

    /// The modern rules, in the order the specification's HTTP binding implies: required
    /// `_meta` members, the version header, the version, the method header, the method, the
    /// name header.
    fn modern(&self, body: &ClientRequest, headers: Option<&McpHeaders>) -> Result<Served, ErrorObject> {
        let meta = body
            .request_meta()
            .ok_or_else(|| ProtocolError::MissingMeta { key: PROTOCOL_VERSION_KEY }.to_error_object())?;
        let requested = meta.require_modern_fields().map_err(|e| e.to_error_object())?;
        if let Some(headers) = headers {
            check_header("MCP-Protocol-Version", headers.protocol_version.as_deref(), requested, false)?;
        }
        let context = meta.validate_modern(&self.inner.modern_versions).map_err(|e| e.to_error_object())?;
        let method = mocopr_core::messages::MethodCall::method(body);
        if let Some(headers) = headers {
            check_header("Mcp-Method", headers.method.as_deref(), method, false)?;
        }
        if !body.available_in(context.version) {
            return Err(
                ProtocolError::MethodNotInVersion { method: method.into(), version: context.version }.to_error_object()
            );
        }
        if let (Some(headers), Some(name)) = (headers, body.name_header_value()) {
            check_header("Mcp-Name", headers.name.as_deref(), name, true)?;
        }
        Ok(Served {
            version: context.version,
            capabilities: Arc::clone(context.capabilities),
            log_level: meta.log_level,
            progress_token: meta.progress_token.clone(),
            headers: headers.cloned(),
        })
    }

    fn legacy(&self, body: &ClientRequest, state: SessionState) -> Result<Served, ErrorObject> {
        if !body.available_in(state.version) {
            let method = mocopr_core::messages::MethodCall::method(body);
            return Err(
                ProtocolError::MethodNotInVersion { method: method.into(), version: state.version }.to_error_object()
            );
        }
        Ok(Served {
            version: state.version,
            capabilities: state.capabilities,
            log_level: state.log_level,
            progress_token: body.request_meta().and_then(|m| m.progress_token.clone()),
            headers: None,
        })
    }

    /// A resource URI no longer than the limit.
    pub(crate) fn check_uri(&self, uri: &str) -> Result<(), ErrorObject> {
        let limit = self.inner.limits.max_uri_length;
        if uri.len() > limit {
            return Err(ErrorObject::new(
                ErrorCode::INVALID_PARAMS,
                format!("a resource URI of {} bytes exceeds the limit of {limit}", uri.len()),
            ));
        }
        Ok(())
    }

    fn initialize(
        &self,
        params: &InitializeRequestParams,
        session: Option<&Arc<Session>>,
        changes: Option<SessionChanges>,
    ) -> Outcome {
        let Some(session) = session else {
            return Err(ErrorObject::new(
                ErrorCode::INVALID_REQUEST,
                "initialize needs a connection that can hold a session",
            ));
        };
        // Answer with the client's revision when we speak it, else our newest legacy one.
        let version = ProtocolVersion::parse(&params.protocol_version)
            .filter(|v| !v.is_modern() && self.inner.versions.contains(v))
            .or_else(|| self.inner.versions.iter().copied().find(|v| !v.is_modern()))
            .ok_or_else(|| {
                ProtocolError::UnsupportedProtocolVersion {
                    requested: params.protocol_version.clone(),
                    supported: self.inner.versions.clone(),
                }
                .to_error_object()
            })?;
        let state = SessionState::new(version, Arc::new(params.capabilities.clone()), params.client_info.clone());
        if !session.begin(state) {
            return Err(ErrorObject::new(ErrorCode::INVALID_REQUEST, "the session is already initialized"));
        }
        let delivers_changes = changes.is_some();
        match changes {
            Some(SessionChanges::Stream(stream)) => {
                crate::listen::forward_to_session(self.inner.changes.subscribe(), session.clone(), stream);
            }
            // Shared through the endpoint's log before routing (see `dispatch`).
            #[cfg(feature = "http")]
            Some(SessionChanges::Shared) => {}
            None => {}
        }
        let mut result = serde_json::json!({
            "protocolVersion": version.as_str(),
            "capabilities": self.legacy_capabilities(version, delivers_changes),
            "serverInfo": &self.inner.info,
        });
        if let (Some(text), Some(map)) = (&self.inner.instructions, result.as_object_mut()) {
            map.insert("instructions".into(), Value::String(text.clone()));
        }
        RawJson::serialize(&result).map_err(internal)
    }

    /// The capabilities a legacy session is told: change notifications are promised only where
    /// the connection can carry them (`delivers_changes`).
    fn legacy_capabilities(&self, version: ProtocolVersion, delivers_changes: bool) -> ServerCapabilities {
        let mut caps = self.inner.capabilities.clone();
        caps.extensions = None;
        if !version.has_core_tasks() {
            caps.tasks = None;
        }
        if !delivers_changes {
            if let Some(tools) = caps.tools.as_mut() {
                tools.list_changed = Some(false);
            }
            if let Some(prompts) = caps.prompts.as_mut() {
                prompts.list_changed = Some(false);
            }
            if let Some(resources) = caps.resources.as_mut() {
                resources.list_changed = Some(false);
                resources.subscribe = Some(false);
            }
        }
        caps
    }

    async fn route(
        &self,
        body: ClientRequest,
        ctx: RequestCtx,
        session: Option<Arc<Session>>,
        headers: Option<McpHeaders>,
    ) -> Result<ResultBody, ErrorObject> {
        let modern = ctx.protocol_version().is_modern();
        let inner = &self.inner;
        // A method of a capability the server does not advertise is not found (not an empty
        // list or an unknown name): the client was told there is nothing of that kind.
        let caps = &inner.capabilities;
        let offered = match &body {
            ClientRequest::ListTools(_) | ClientRequest::CallTool(_) => caps.tools.is_some(),
            ClientRequest::ListPrompts(_) | ClientRequest::GetPrompt(_) => caps.prompts.is_some(),
            ClientRequest::ListResources(_)
            | ClientRequest::ListResourceTemplates(_)
            | ClientRequest::ReadResource(_)
            | ClientRequest::Unsubscribe(_) => caps.resources.is_some(),
            ClientRequest::Complete(_) => caps.completions.is_some(),
            _ => true,
        };
        if !offered {
            return Err(ProtocolError::MethodNotFound {
                method: mocopr_core::messages::MethodCall::method(&body).into(),
            }
            .to_error_object());
        }
        let outcome: Outcome = match body {
            ClientRequest::Discover(_) => Ok(RawJson::from_bytes(inner.discover.clone())),
            ClientRequest::Ping(_) => Ok(empty_result(modern)),
            ClientRequest::ListTools(p) => page(inner.tool_list.page(p.cursor.as_deref(), modern)),
            ClientRequest::ListPrompts(p) => page(inner.prompt_list.page(p.cursor.as_deref(), modern)),
            ClientRequest::ListResources(p) => page(inner.resource_list.page(p.cursor.as_deref(), modern)),
            ClientRequest::ListResourceTemplates(p) => page(inner.template_list.page(p.cursor.as_deref(), modern)),
            // Each handler's future is boxed on its own, as is this one in `dispatch`: one
            // future holding them all would be over 2 KB, past the size glibc's per-thread cache
            // takes (1,032 bytes), and every request would then allocate and free it through
            // the main heap, whose large allocations and frees next to the top of the heap
            // first merge the small chunks held in its fastbins (`malloc_consolidate`).
            ClientRequest::CallTool(p) => Box::pin(self.call_tool(p, ctx, headers.as_ref())).await,
            ClientRequest::GetPrompt(p) => Box::pin(self.get_prompt(p, ctx)).await,
            ClientRequest::ReadResource(p) => return Box::pin(self.read_resource(p, ctx)).await,
            ClientRequest::Complete(p) => Box::pin(self.complete(p, ctx)).await,
            ClientRequest::Listen(p) => Box::pin(self.listen(p.notifications, ctx)).await,
            body @ (ClientRequest::GetTask(_) | ClientRequest::UpdateTask(_) | ClientRequest::CancelTask(_))
                if modern =>
            {
                self.task_request(body, &ctx)
            }
            ClientRequest::SetLevel(p) => {
                if let Some(session) = session {
                    session.update(|s| s.log_level = Some(p.level));
                }
                Ok(empty_result(false))
            }
            ClientRequest::Subscribe(p) => {
                let offered = self.inner.capabilities.resources.as_ref().and_then(|r| r.subscribe) == Some(true);
                if !offered {
                    return Err(
                        ProtocolError::MethodNotFound { method: "resources/subscribe".into() }.to_error_object()
                    );
                }
                self.check_uri(&p.uri)?;
                let mut full = false;
                if let Some(session) = session {
                    if !session.has_room_for_subscription(&p.uri) {
                        mocopr_transport::limit_reached("max_session_bytes");
                        return Err(ErrorObject::new(
                            ErrorCode::INVALID_PARAMS,
                            "the server holds no more subscriptions now; unsubscribe or retry later",
                        ));
                    }
                    let max = self.inner.limits.max_subscriptions;
                    session.update(|s| {
                        if s.subscriptions.contains(&p.uri) {
                            return;
                        }
                        if s.subscriptions.len() >= max {
                            full = true;
                            return;
                        }
                        Arc::make_mut(&mut s.subscriptions).insert(p.uri.clone());
                    });
                }
                if full {
                    mocopr_transport::limit_reached("max_subscriptions");
                    let limit = self.inner.limits.max_subscriptions;
                    return Err(ErrorObject::new(
                        ErrorCode::INVALID_PARAMS,
                        format!("this session already has the most subscriptions allowed ({limit})"),
                    ));
                }
                Ok(empty_result(false))
            }
            ClientRequest::Unsubscribe(p) => {
                self.check_uri(&p.uri)?;
                if let Some(session) = session {
                    session.update(|s| {
                        if s.subscriptions.contains(&p.uri) {
                            Arc::make_mut(&mut s.subscriptions).remove(&p.uri);
                        }
                    });
                }
                Ok(empty_result(false))
            }
            other => {
                Err(ProtocolError::MethodNotFound { method: mocopr_core::messages::MethodCall::method(&other).into() }
                    .to_error_object())
            }
        };
        outcome.map(ResultBody::Json)
    }

    async fn call_tool(&self, params: CallToolRequestParams, ctx: RequestCtx, headers: Option<&McpHeaders>) -> Outcome {
        let Some(entry) = self.inner.tools.get(&params.name) else {
            return Err(ErrorObject::new(ErrorCode::INVALID_PARAMS, format!("unknown tool `{}`", params.name)));
        };
        let modern = ctx.protocol_version().is_modern();
        let args = Value::Object(params.arguments.unwrap_or_default());
        if let Some(headers) = headers {
            check_param_headers(&entry.param_headers, headers, &args)?;
        }
        if let Some(validator) = &entry.input_validator
            && let Err(error) = validator.validate(&args)
        {
            let message = format!("invalid arguments for tool `{}`: {error}", params.name);
            return self.tool_result(CallToolResult::error(message), modern);
        }
        let origin = ctx.origin().cloned();
        let declared_tasks = modern && ctx.client_capabilities().supports_tasks_extension();
        if entry.task_support == Some(TaskSupport::Required) && !declared_tasks {
            return Err(crate::tasks::tasks_required());
        }
        let parts = RequestParts::new(ctx.clone(), Input::Tool(Some(args)), self.inner.states.clone());
        let mut future = (entry.handler)(parts);
        if declared_tasks && entry.task_support.is_some() {
            let owner = ctx.principal().map(|p| p.subject().to_owned());
            let Some(task) = TaskEntry::new(self.inner.tasks.ttl, self.inner.tasks.poll_interval, owner) else {
                return Err(ErrorObject::new(ErrorCode::INTERNAL_ERROR, "the task could not be created"));
            };
            ctx.set_task(task.clone());
            // A handler that finishes at once answers directly; one that has to wait becomes a
            // task the client polls.
            if let Poll::Ready(outcome) = future.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
                return self.tool_outcome(outcome, &params.name, modern, origin.as_ref());
            }
            if !self.inner.tasks.insert(task.clone()) {
                mocopr_transport::limit_reached("max_tasks");
                return Err(ErrorObject::new(ErrorCode::INTERNAL_ERROR, "too many tasks; retry later"));
            }
            let server = self.clone();
            let name = params.name.clone();
            let runner = task.clone();
            tokio::spawn(async move {
                tokio::select! {
                    outcome = std::panic::AssertUnwindSafe(future).catch_unwind() => {
                        let settled = match outcome {
                            Ok(outcome) => server.tool_outcome(outcome, &name, true, None),
                            Err(panic) => Err(crate::panics::panicked(panic.as_ref())),
                        };
                        runner.finish(settled.and_then(|raw| raw.decode().map_err(internal)));
                    }
                    () = runner.cancel.cancelled() => {}
                    // Past its TTL the task is gone: a handler still running (or waiting for
                    // input nobody will give) is stopped, not left behind.
                    () = tokio::time::sleep_until(runner.expires.into()) => runner.cancel(),
                }
            });
            return self.serialize(&task.snapshot(ResultType::Task), true, true);
        }
        let outcome = future.await;
        self.tool_outcome(outcome, &params.name, modern, origin.as_ref())
    }

    /// Turns a tool handler's outcome into the `tools/call` answer.
    fn tool_outcome(
        &self,
        outcome: Result<CallToolResult, HandlerError>,
        name: &str,
        modern: bool,
        origin: Option<&Origin>,
    ) -> Outcome {
        let result = match outcome {
            Ok(result) => result,
            Err(HandlerError::Failed(message)) => CallToolResult::error(message),
            Err(HandlerError::Protocol(error)) => return Err(error),
            Err(HandlerError::InputRequired(result)) => {
                return match origin {
                    Some(_) => self.input_required(*result, modern, origin),
                    None => Err(ErrorObject::new(
                        ErrorCode::INTERNAL_ERROR,
                        "a task asks for input through RequestCtx, not with input_required",
                    )),
                };
            }
        };
        if let Some(entry) = self.inner.tools.get(name)
            && let (Some(validator), Some(structured)) = (&entry.output_validator, &result.structured_content)
            && let Err(error) = validator.validate(structured)
        {
            let message = format!("tool `{name}` produced output that does not match its outputSchema: {error}");
            return Err(ErrorObject::new(ErrorCode::INTERNAL_ERROR, message));
        }
        self.tool_result(result, modern)
    }

    fn tool_result(&self, mut result: CallToolResult, modern: bool) -> Outcome {
        if modern {
            result.result_type = Some(ResultType::Complete);
        } else if result.structured_content.as_ref().is_some_and(|value| !value.is_object()) {
            // Legacy `structuredContent` is an object; any other value reaches a legacy client
            // as the text content that carries it (`Structured` writes both).
            result.structured_content = None;
        }
        self.serialize(&result, modern, result.meta.is_none())
    }

    fn input_required(&self, mut result: InputRequiredResult, modern: bool, origin: Option<&Origin>) -> Outcome {
        // Only tools/call, prompts/get and resources/read may answer with input requests (they
        // are the requests with an origin); a completion handler that asks is a server error.
        let Some((method, name, source)) = origin else {
            return Err(ErrorObject::new(
                ErrorCode::INTERNAL_ERROR,
                "the handler asked for client input, which this request cannot carry",
            ));
        };
        if !modern {
            return Err(ErrorObject::new(
                ErrorCode::INTERNAL_ERROR,
                "the handler asked for client input, which this legacy session cannot provide",
            ));
        }
        let binding = source.binding(method, name);
        result.request_state = Some(self.inner.state_signer.sign(result.request_state.take(), method, name, &binding));
        self.serialize(&result, true, result.meta.is_none())
    }

    async fn get_prompt(&self, params: GetPromptRequestParams, ctx: RequestCtx) -> Outcome {
        let Some(handler) = self.inner.prompts.get(&params.name) else {
            return Err(ErrorObject::new(ErrorCode::INVALID_PARAMS, format!("unknown prompt `{}`", params.name)));
        };
        let modern = ctx.protocol_version().is_modern();
        let origin = ctx.origin().cloned();
        let parts = RequestParts::new(
            ctx,
            Input::Prompt(Some(params.arguments.unwrap_or_default())),
            self.inner.states.clone(),
        );
        match handler(parts).await {
            Ok(mut result) => {
                if modern {
                    result.result_type = Some(ResultType::Complete);
                }
                self.serialize(&result, modern, result.meta.is_none())
            }
            Err(e) => self.primitive_error(e, modern, origin.as_ref()),
        }
    }

    async fn read_resource(
        &self,
        params: ReadResourceRequestParams,
        ctx: RequestCtx,
    ) -> Result<ResultBody, ErrorObject> {
        self.check_uri(&params.uri)?;
        let modern = ctx.protocol_version().is_modern();
        let (handler, variables) = match self.inner.resources.get(&params.uri) {
            Some(handler) => (handler, Default::default()),
            None => {
                match self.inner.templates.iter().find_map(|t| t.template.matches(&params.uri).map(|v| (&t.handler, v)))
                {
                    Some(found) => found,
                    None => {
                        let code = ErrorCode(ctx.protocol_version().resource_not_found_code());
                        return Err(ErrorObject::new(code, format!("resource not found: {}", params.uri))
                            .with_data(serde_json::json!({ "uri": params.uri })));
                    }
                }
            }
        };
        let origin = ctx.origin().cloned();
        let hints = self.inner.read_hints;
        let input = Input::Resource { uri: params.uri.clone(), variables: Some(variables) };
        let parts = RequestParts::new(ctx, input, self.inner.states.clone());
        match handler(params.uri, parts).await.map(|body| body.0) {
            Ok(BodyKind::Contents(contents)) => {
                let mut result = ReadResourceResult::new(contents);
                if modern {
                    result.result_type = Some(ResultType::Complete);
                    result.ttl_ms = Some(hints.ttl_ms);
                    result.cache_scope = Some(hints.scope);
                }
                self.serialize(&result, modern, true).map(ResultBody::Json)
            }
            Ok(BodyKind::Stream(stream)) => {
                let mut extra = Vec::new();
                if modern {
                    let scope = if hints.scope == CacheScope::Public { "public" } else { "private" };
                    let members = format!(
                        ",\"ttlMs\":{},\"cacheScope\":\"{scope}\",\"resultType\":\"complete\",\"_meta\":",
                        hints.ttl_ms
                    );
                    extra.extend_from_slice(members.as_bytes());
                    extra.extend_from_slice(&self.inner.server_meta);
                }
                Ok(ResultBody::Stream(crate::streaming::encode_read_result(stream, &extra)))
            }
            Err(e) => self.primitive_error(e, modern, origin.as_ref()).map(ResultBody::Json),
        }
    }

    async fn complete(&self, params: CompleteRequestParams, ctx: RequestCtx) -> Outcome {
        let Some(handler) = &self.inner.completion else {
            return Err(ProtocolError::MethodNotFound { method: "completion/complete".into() }.to_error_object());
        };
        // What is completed must be something this server has: one of its prompts, or one of
        // its resources or templates (named by its template or by a URI it matches).
        let known = match &params.reference {
            mocopr_core::types::CompletionReference::Prompt { name, .. } => self.inner.prompts.contains_key(name),
            mocopr_core::types::CompletionReference::Resource { uri } => {
                self.check_uri(uri)?;
                self.inner.resources.contains_key(uri)
                    || self
                        .inner
                        .templates
                        .iter()
                        .any(|t| t.template.as_str() == uri || t.template.matches(uri).is_some())
            }
            _ => false,
        };
        if !known {
            return Err(ErrorObject::new(
                ErrorCode::INVALID_PARAMS,
                "the completion names no prompt or resource of this server",
            ));
        }
        let modern = ctx.protocol_version().is_modern();
        let origin = ctx.origin().cloned();
        let parts = RequestParts::new(ctx, Input::Completion(Some(Box::new(params))), self.inner.states.clone());
        match handler(parts).await {
            Ok(mut completion) => {
                completion.values.truncate(MAX_COMPLETION_VALUES);
                let mut result = serde_json::json!({ "completion": completion });
                if modern {
                    result["resultType"] = Value::from("complete");
                }
                self.serialize(&result, modern, true)
            }
            Err(e) => self.primitive_error(e, modern, origin.as_ref()),
        }
    }

    fn primitive_error(&self, error: HandlerError, modern: bool, origin: Option<&Origin>) -> Outcome {
        match error {
            HandlerError::Failed(message) => Err(ErrorObject::new(ErrorCode::INTERNAL_ERROR, message)),
            HandlerError::Protocol(error) => Err(error),
            HandlerError::InputRequired(result) => self.input_required(*result, modern, origin),
        }
    }

    /// Serializes a result; modern results without `_meta` get the server's `serverInfo`.
    pub(crate) fn serialize<T: Serialize>(&self, result: &T, modern: bool, add_server_meta: bool) -> Outcome {
        let mut out = serde_json::to_vec(result).map_err(internal)?;
        if modern && add_server_meta && out.last() == Some(&b'}') {
            out.pop();
            if out.len() > 1 {
                out.push(b',');
            }
            out.extend_from_slice(b"\"_meta\":");
            out.extend_from_slice(&self.inner.server_meta);
            out.push(b'}');
        }
        Ok(RawJson::from_bytes(Bytes::from(out)))
    }
}

/// Compares a request header with the body value it mirrors (`-32020` when missing, different,
/// or badly encoded). `encoded` headers may use the `=?base64?…?=` form.
fn check_header(name: &str, header: Option<&str>, body: &str, encoded: bool) -> Result<(), ErrorObject> {
    let mismatch = |problem| ProtocolError::HeaderMismatch { header: name.to_owned(), problem }.to_error_object();
    let Some(raw) = header else { return Err(mismatch(HeaderProblem::Missing)) };
    let value = if encoded {
        decode_header_value(raw)
            .map_err(|source| ProtocolError::InvalidHeaderValue { header: name.to_owned(), source }.to_error_object())?
    } else {
        raw.into()
    };
    if value == body { Ok(()) } else { Err(mismatch(HeaderProblem::Mismatch)) }
}

/// Checks the `Mcp-Param-*` headers of a tool call against its arguments.
fn check_param_headers(params: &[ParamHeader], headers: &McpHeaders, args: &Value) -> Result<(), ErrorObject> {
    for param in params {
        let name = param.header_name();
        let header = headers.params.iter().find(|(suffix, _)| suffix.eq_ignore_ascii_case(&param.name)).map(|(_, v)| v);
        let expected = param.value_from_arguments(args).ok().flatten();
        let mismatch = |problem| ProtocolError::HeaderMismatch { header: name.clone(), problem }.to_error_object();
        match (header, expected) {
            (None, None) => {}
            (None, Some(_)) => return Err(mismatch(HeaderProblem::Missing)),
            (Some(_), None) => return Err(mismatch(HeaderProblem::Mismatch)),
            (Some(raw), Some(_)) => {
                let decoded = decode_header_value(raw).map_err(|source| {
                    ProtocolError::InvalidHeaderValue { header: name.clone(), source }.to_error_object()
                })?;
                if !param.matches(&decoded, args) {
                    return Err(mismatch(HeaderProblem::Mismatch));
                }
            }
        }
    }
    Ok(())
}

pub(crate) fn page(page: Result<Bytes, ErrorObject>) -> Outcome {
    page.map(RawJson::from_bytes)
}

pub(crate) fn empty_result(modern: bool) -> RawJson {
    RawJson::from_bytes(Bytes::from_static(if modern { b"{\"resultType\":\"complete\"}" } else { b"{}" }))
}

pub(crate) fn internal(e: serde_json::Error) -> ErrorObject {
    ErrorObject::new(ErrorCode::INTERNAL_ERROR, format!("could not serialize the result: {e}"))
}

/// Where a legacy session's change notifications go.
enum SessionChanges {
    /// Written to the session's byte-stream connection by a task of its own.
    Stream(Notifier),
    /// Recorded in the HTTP endpoint's event log, which every standalone stream reads.
    #[cfg(feature = "http")]
    Shared,
}
