//! The typed calls that may ask for input, with the MRTR loop (answer `inputRequests` through
//! the [`InputHandler`](crate::InputHandler), echo `requestState` untouched, retry with a new
//! id), per-call options (timeout, progress), and completion.

use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::{Map, Value, json};

use mocopr_core::meta::PROGRESS_TOKEN_KEY;
use mocopr_core::types::{
    CallToolResult, CompleteResult, CompletionArgument, CompletionContext, CompletionReference, DiscoverResult,
    GetPromptResult, InputCall, InputRequest, ReadResourceResult,
};
use mocopr_core::{ErrorCode, ErrorObject, RequestId};

use crate::client::McpClient;
use crate::error::ClientError;
use crate::options::CallOptions;

/// The most input rounds one call may go through before the client gives up.
pub const MAX_INPUT_ROUNDS: usize = 16;

/// Progress tokens, unique within the process.
static NEXT_PROGRESS_TOKEN: AtomicU64 = AtomicU64::new(1);

impl McpClient {
    /// Calls a tool, answering any input the server asks for.
    pub async fn call_tool(&self, name: &str, arguments: Value) -> Result<CallToolResult, ClientError> {
        self.call_tool_with(name, arguments, &CallOptions::default()).await
    }

    /// Calls a tool with per-call options (timeout, progress callback).
    pub async fn call_tool_with(
        &self,
        name: &str,
        arguments: Value,
        options: &CallOptions,
    ) -> Result<CallToolResult, ClientError> {
        let result = self.with_input("tools/call", json!({ "name": name, "arguments": arguments }), options).await?;
        Ok(serde_json::from_value(result)?)
    }

    /// Gets a prompt, answering any input the server asks for.
    pub async fn get_prompt(&self, name: &str, arguments: Map<String, Value>) -> Result<GetPromptResult, ClientError> {
        let params = json!({ "name": name, "arguments": arguments });
        let result = self.with_input("prompts/get", params, &CallOptions::default()).await?;
        Ok(serde_json::from_value(result)?)
    }

    /// Reads a resource, answering any input the server asks for.
    pub async fn read_resource(&self, uri: &str) -> Result<ReadResourceResult, ClientError> {
        self.read_resource_with(uri, &CallOptions::default()).await
    }

    /// Reads a resource with per-call options.
    pub async fn read_resource_with(
        &self,
        uri: &str,
        options: &CallOptions,
    ) -> Result<ReadResourceResult, ClientError> {
        let result = self.with_input("resources/read", json!({ "uri": uri }), options).await?;
        Ok(serde_json::from_value(result)?)
    }

    /// Completion values for a prompt argument or a resource template variable.
    pub async fn complete(
        &self,
        reference: CompletionReference,
        argument: CompletionArgument,
        context: Option<CompletionContext>,
    ) -> Result<CompleteResult, ClientError> {
        let mut params = json!({ "ref": reference, "argument": argument });
        if let Some(context) = context {
            params["context"] = serde_json::to_value(context)?;
        }
        Ok(serde_json::from_value(self.request("completion/complete", params).await?)?)
    }

    /// `server/discover` (2026-07-28): the server's versions, capabilities and instructions,
    /// fetched again. A legacy server has no such method; what it said at `initialize` is in
    /// [`McpClient::server`].
    pub async fn discover(&self) -> Result<DiscoverResult, ClientError> {
        if self.modern().is_none() {
            return Err(ClientError::Server(ErrorObject::new(
                ErrorCode::METHOD_NOT_FOUND,
                format!("server/discover is a 2026-07-28 method; this server speaks {}", self.version()),
            )));
        }
        Ok(serde_json::from_value(self.request("server/discover", json!({})).await?)?)
    }

    /// Checks that the server answers: `ping` on a legacy server, `server/discover` on a modern
    /// one (2026-07-28 has no `ping`).
    pub async fn ping(&self) -> Result<(), ClientError> {
        let method = if self.modern().is_some() { "server/discover" } else { "ping" };
        self.request(method, json!({})).await.map(drop)
    }

    /// Sends a request with per-call options and returns its result (as JSON).
    pub async fn request_with(&self, method: &str, params: Value, options: &CallOptions) -> Result<Value, ClientError> {
        let token = options.progress.as_ref().map(|callback| {
            let token = RequestId::Number(NEXT_PROGRESS_TOKEN.fetch_add(1, Ordering::Relaxed) as i64);
            self.inner.routes.add_progress(token.clone(), callback.clone());
            token
        });
        let mut params = params;
        if let Some(token) = &token
            && let Some(object) = params.as_object_mut()
        {
            let meta = object.entry("_meta").or_insert_with(|| json!({}));
            meta[PROGRESS_TOKEN_KEY] = serde_json::to_value(token)?;
        }
        // Removes the callback however the call ends, even when its future is dropped.
        let _registered = token.map(|token| ProgressRegistration { client: self, token });
        let timeout = options.timeout.unwrap_or(self.inner.timeout);
        self.raw_request(method, params, self.modern(), timeout).await
    }

    /// The MRTR loop: while the result is `input_required`, answer its requests and retry.
    async fn with_input(&self, method: &str, params: Value, options: &CallOptions) -> Result<Value, ClientError> {
        let mut params = params;
        for _ in 0..MAX_INPUT_ROUNDS {
            let result = self.request_with(method, params.clone(), options).await?;
            if result.get("resultType").and_then(Value::as_str) != Some("input_required") {
                return Ok(result);
            }
            let mut answers = Map::new();
            if let Some(requests) = result.get("inputRequests").and_then(Value::as_object) {
                for (key, request) in requests {
                    let request: InputRequest = serde_json::from_value(request.clone())?;
                    let answer = self.answer(request).await?;
                    answers.insert(key.clone(), answer);
                }
            }
            let Some(object) = params.as_object_mut() else { return Ok(result) };
            object.remove("_meta");
            object.insert("inputResponses".into(), Value::Object(answers));
            // The state goes back exactly as received, and only when one was given.
            match result.get("requestState") {
                Some(state) => object.insert("requestState".into(), state.clone()),
                None => object.remove("requestState"),
            };
        }
        Err(ClientError::TooManyRounds(MAX_INPUT_ROUNDS))
    }

    async fn answer(&self, request: InputRequest) -> Result<Value, ClientError> {
        let handler = &self.inner.handler;
        let answer = match request.call().map_err(|e| ClientError::Server(e.to_error_object()))? {
            InputCall::Elicit(p) => handler.elicit(p).await.map(serde_json::to_value),
            InputCall::CreateMessage(p) => handler.sample(p).await.map(serde_json::to_value),
            InputCall::ListRoots(_) => handler.list_roots().await.map(serde_json::to_value),
            _ => {
                return Err(ClientError::Server(ErrorObject::new(
                    ErrorCode::METHOD_NOT_FOUND,
                    "unsupported input request",
                )));
            }
        };
        Ok(answer.map_err(ClientError::Server)??)
    }
}

/// A progress callback registered for one call.
struct ProgressRegistration<'a> {
    client: &'a McpClient,
    token: RequestId,
}

impl Drop for ProgressRegistration<'_> {
    fn drop(&mut self) {
        self.client.inner.routes.remove_progress(&self.token);
    }
}
