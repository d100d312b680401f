//! [`TestClient`]: calls a server's `tower::Service` directly, in process, with no transport,
//! in either era, and collects the notifications the handlers send.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use bytes::Bytes;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};
use tokio::sync::{Mutex, mpsc};
use tower_service::Service;

use mocopr_core::meta::modern_request_meta;
use mocopr_core::service::{McpRequest, McpResponse, Method, RawJson, ResultBody};
use mocopr_core::types::{
    CallToolResult, ClientCapabilities, CompleteRequestParams, Completion, GetPromptResult, Implementation,
    InputRequiredResult, Prompt, ReadResourceResult, Resource, ResourceTemplate, Tool,
};
use mocopr_core::{ErrorObject, ProtocolVersion, RequestId};
use mocopr_transport::{Notifier, Session};

/// Why a [`TestClient`] call did not produce the result asked for.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TestError {
    /// The server answered with a JSON-RPC error.
    #[error("JSON-RPC error {}: {}", .0.code, .0.message)]
    Rpc(ErrorObject),
    /// The server asks for input first (2026-07-28 MRTR): answer with
    /// [`TestClient::request`] and `inputResponses`.
    #[error("the server asks for input first")]
    InputRequired(Box<InputRequiredResult>),
    /// The result does not decode as the type asked for.
    #[error("the result does not decode: {0}")]
    Decode(#[from] serde_json::Error),
    /// The result was streamed; read it over a real transport.
    #[error("the result was streamed")]
    Streamed,
}

impl TestError {
    /// The JSON-RPC error, when that is what the server answered.
    pub fn rpc(&self) -> Option<&ErrorObject> {
        match self {
            TestError::Rpc(error) => Some(error),
            _ => None,
        }
    }
}

/// Which era the client speaks, and its session in the legacy one.
enum Era {
    Modern(ProtocolVersion),
    Legacy(Arc<Session>),
}

/// A client for tests that calls a server in process: no transport, no framing, either era.
/// It adds the per-request `_meta` of 2026-07-28 (or runs the `initialize` handshake of a legacy
/// revision), decodes results into their types and keeps the notifications handlers send.
///
/// ```
/// use mocopr_server::{Args, McpServer};
/// use mocopr_testing::TestClient;
///
/// #[derive(serde::Deserialize, schemars::JsonSchema)]
/// struct Greet {
///     name: String,
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let server = McpServer::builder()
///     .tool("greet", |Args(g): Args<Greet>| async move { format!("Hello, {}!", g.name) })
///     .build()?;
///
/// let modern = TestClient::new(server.clone());
/// let result = modern.call_tool("greet", serde_json::json!({"name": "Ada"})).await?;
/// assert_eq!(result.text_content(), "Hello, Ada!");
///
/// let legacy = TestClient::legacy(server, mocopr_core::ProtocolVersion::V2025_06_18).await?;
/// assert_eq!(legacy.list_tools().await?.len(), 1);
/// # Ok(()) }
/// ```
pub struct TestClient<S> {
    service: S,
    era: Era,
    capabilities: ClientCapabilities,
    info: Implementation,
    next_id: AtomicI64,
    notifications: Mutex<Vec<Value>>,
}

impl<S> std::fmt::Debug for TestClient<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let era = match &self.era {
            Era::Modern(version) => version.as_str().to_owned(),
            Era::Legacy(session) => session.state().map_or("legacy".into(), |s| s.version.as_str().to_owned()),
        };
        f.debug_struct("TestClient").field("era", &era).finish_non_exhaustive()
    }
}

impl<S> TestClient<S>
where
    S: Service<McpRequest, Response = McpResponse, Error = std::convert::Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    /// A 2026-07-28 client of `service`, declaring no client capabilities.
    pub fn new(service: S) -> Self {
        TestClient {
            service,
            era: Era::Modern(ProtocolVersion::LATEST),
            capabilities: ClientCapabilities::default(),
            info: Implementation::new("mocopr-test-client", env!("CARGO_PKG_VERSION")),
            next_id: AtomicI64::new(1),
            notifications: Mutex::new(Vec::new()),
        }
    }

    /// A legacy client of `service` that has completed the `initialize` handshake at `version`
    /// (declaring no client capabilities).
    pub async fn legacy(service: S, version: ProtocolVersion) -> Result<Self, TestError> {
        TestClient::legacy_with_capabilities(service, version, ClientCapabilities::default()).await
    }

    /// A legacy client declaring `capabilities` in its `initialize`.
    pub async fn legacy_with_capabilities(
        service: S,
        version: ProtocolVersion,
        capabilities: ClientCapabilities,
    ) -> Result<Self, TestError> {
        let session = Arc::new(Session::new());
        let mut client = TestClient::new(service).with_capabilities(capabilities);
        client.era = Era::Legacy(session.clone());
        let params = json!({
            "protocolVersion": version.as_str(),
            "capabilities": client.capabilities,
            "clientInfo": client.info,
        });
        client.request("initialize", params).await?;
        // What a transport does on `notifications/initialized`.
        session.update(|state| state.initialized = true);
        Ok(client)
    }

    /// Declares `capabilities` on the requests of a 2026-07-28 client (for a legacy one, pass
    /// them to [`legacy_with_capabilities`](TestClient::legacy_with_capabilities)).
    pub fn with_capabilities(mut self, capabilities: ClientCapabilities) -> Self {
        self.capabilities = capabilities;
        self
    }

    /// The revision the client speaks.
    pub fn protocol_version(&self) -> Option<ProtocolVersion> {
        match &self.era {
            Era::Modern(version) => Some(*version),
            Era::Legacy(session) => session.state().map(|s| s.version),
        }
    }

    /// Sends `method` with `params` (an object; `_meta` is added in the modern era) and returns
    /// the raw result.
    pub async fn request(&self, method: &str, params: Value) -> Result<Value, TestError> {
        let mut params = match params {
            Value::Object(map) => map,
            _ => Map::new(),
        };
        if let Era::Modern(version) = &self.era {
            let meta = modern_request_meta(*version, &self.capabilities, Some(&self.info));
            match params.get_mut("_meta").and_then(Value::as_object_mut) {
                Some(existing) => existing.extend(meta),
                None => {
                    params.insert("_meta".into(), Value::Object(meta));
                }
            }
        }
        let id = RequestId::Number(self.next_id.fetch_add(1, Ordering::Relaxed));
        let raw = RawJson::from_bytes(Bytes::from(serde_json::to_vec(&params)?));
        let mut request = McpRequest::new(id, Method::new(method), Some(raw));
        let (tx, mut rx) = mpsc::channel::<Bytes>(1024);
        request.extensions.insert(Notifier::messages(tx));
        if let Era::Legacy(session) = &self.era {
            request.extensions.insert(session.clone());
        }
        let mut service = self.service.clone();
        let call = async move {
            match std::future::poll_fn(|cx| service.poll_ready(cx)).await {
                Ok(()) => service.call(request).await,
                Err(never) => match never {},
            }
        };
        tokio::pin!(call);
        // The notifications are collected while the handler runs, so a handler that sends more
        // of them than the channel holds is not stopped by a full channel.
        let mut received = Vec::new();
        let response = loop {
            tokio::select! {
                response = &mut call => break response,
                Some(message) = rx.recv() => received.push(message),
            }
        };
        let response = match response {
            Ok(response) => response,
            Err(never) => match never {},
        };
        while let Ok(message) = rx.try_recv() {
            received.push(message);
        }
        let mut sent = self.notifications.lock().await;
        sent.extend(received.iter().filter_map(|message| serde_json::from_slice::<Value>(message).ok()));
        drop(sent);
        match response.outcome {
            Ok(ResultBody::Json(result)) => {
                let value: Value = serde_json::from_slice(result.as_bytes())?;
                if value.get("resultType").and_then(Value::as_str) == Some("input_required") {
                    return Err(TestError::InputRequired(Box::new(serde_json::from_value(value)?)));
                }
                Ok(value)
            }
            Ok(_) => Err(TestError::Streamed),
            Err(error) => Err(TestError::Rpc(error)),
        }
    }

    async fn typed<T: DeserializeOwned>(&self, method: &str, params: Value) -> Result<T, TestError> {
        Ok(serde_json::from_value(self.request(method, params).await?)?)
    }

    /// Calls tool `name` with `arguments`.
    pub async fn call_tool(&self, name: &str, arguments: Value) -> Result<CallToolResult, TestError> {
        self.typed("tools/call", json!({ "name": name, "arguments": arguments })).await
    }

    /// Gets prompt `name` with `arguments`.
    pub async fn get_prompt(&self, name: &str, arguments: Value) -> Result<GetPromptResult, TestError> {
        self.typed("prompts/get", json!({ "name": name, "arguments": arguments })).await
    }

    /// Reads the resource at `uri`.
    pub async fn read_resource(&self, uri: &str) -> Result<ReadResourceResult, TestError> {
        self.typed("resources/read", json!({ "uri": uri })).await
    }

    /// Asks for completions.
    pub async fn complete(&self, params: CompleteRequestParams) -> Result<Completion, TestError> {
        let result: Value = self.request("completion/complete", serde_json::to_value(params)?).await?;
        Ok(serde_json::from_value(result.get("completion").cloned().unwrap_or(Value::Null))?)
    }

    /// Every tool, all pages.
    pub async fn list_tools(&self) -> Result<Vec<Tool>, TestError> {
        self.list("tools/list", "tools").await
    }

    /// Every prompt, all pages.
    pub async fn list_prompts(&self) -> Result<Vec<Prompt>, TestError> {
        self.list("prompts/list", "prompts").await
    }

    /// Every resource, all pages.
    pub async fn list_resources(&self) -> Result<Vec<Resource>, TestError> {
        self.list("resources/list", "resources").await
    }

    /// Every resource template, all pages.
    pub async fn list_resource_templates(&self) -> Result<Vec<ResourceTemplate>, TestError> {
        self.list("resources/templates/list", "resourceTemplates").await
    }

    async fn list<T: DeserializeOwned>(&self, method: &str, field: &str) -> Result<Vec<T>, TestError> {
        let mut items = Vec::new();
        let mut cursor: Option<String> = None;
        // A server's pages end; a bound keeps a broken cursor from looping for ever.
        for _ in 0..10_000 {
            let params = match &cursor {
                Some(cursor) => json!({ "cursor": cursor }),
                None => json!({}),
            };
            let mut page = self.request(method, params).await?;
            let batch: Vec<T> = serde_json::from_value(page.get_mut(field).map(Value::take).unwrap_or_default())?;
            items.extend(batch);
            cursor = page.get("nextCursor").and_then(Value::as_str).map(str::to_owned);
            if cursor.is_none() {
                break;
            }
        }
        Ok(items)
    }

    /// The notifications handlers sent since the last call of this method (progress, log
    /// messages), oldest first, as JSON-RPC messages.
    pub async fn take_notifications(&self) -> Vec<Value> {
        std::mem::take(&mut *self.notifications.lock().await)
    }
}
