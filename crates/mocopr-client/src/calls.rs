//! The typed calls: listing with pagination, and the calls that may ask for input, with the
//! MRTR loop (answer `inputRequests` through the [`InputHandler`](crate::InputHandler), echo
//! `requestState` untouched, retry with a new id).

use serde_json::{Map, Value, json};

use mocopr_core::types::{
    CallToolResult, GetPromptResult, InputCall, InputRequest, Prompt, ReadResourceResult, Resource, Tool,
};

use crate::client::McpClient;
use crate::error::ClientError;

/// The most input rounds one call may go through before the client gives up.
pub const MAX_INPUT_ROUNDS: usize = 16;

impl McpClient {
    /// Every tool, following `nextCursor` to the end.
    pub async fn list_tools(&self) -> Result<Vec<Tool>, ClientError> {
        let mut tools = self.collect("tools/list", "tools").await?;
        crate::client::learn_tool_headers(&self.inner, &mut tools);
        Ok(tools)
    }

    /// Every prompt.
    pub async fn list_prompts(&self) -> Result<Vec<Prompt>, ClientError> {
        self.collect("prompts/list", "prompts").await
    }

    /// Every resource.
    pub async fn list_resources(&self) -> Result<Vec<Resource>, ClientError> {
        self.collect("resources/list", "resources").await
    }

    async fn collect<T: serde::de::DeserializeOwned>(&self, method: &str, field: &str) -> Result<Vec<T>, ClientError> {
        let mut items = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let params = match &cursor {
                Some(c) => json!({ "cursor": c }),
                None => json!({}),
            };
            let page = self.request(method, params).await?;
            let batch: Vec<T> = serde_json::from_value(page[field].clone())?;
            items.extend(batch);
            match page.get("nextCursor").and_then(Value::as_str) {
                Some(next) => cursor = Some(next.to_owned()),
                None => return Ok(items),
            }
        }
    }

    /// Calls a tool, answering any input the server asks for.
    pub async fn call_tool(&self, name: &str, arguments: Value) -> Result<CallToolResult, ClientError> {
        let result = self.with_input("tools/call", json!({ "name": name, "arguments": arguments })).await?;
        Ok(serde_json::from_value(result)?)
    }

    /// Gets a prompt, answering any input the server asks for.
    pub async fn get_prompt(&self, name: &str, arguments: Map<String, Value>) -> Result<GetPromptResult, ClientError> {
        let result = self.with_input("prompts/get", json!({ "name": name, "arguments": arguments })).await?;
        Ok(serde_json::from_value(result)?)
    }

    /// Reads a resource, answering any input the server asks for.
    pub async fn read_resource(&self, uri: &str) -> Result<ReadResourceResult, ClientError> {
        let result = self.with_input("resources/read", json!({ "uri": uri })).await?;
        Ok(serde_json::from_value(result)?)
    }

    /// The MRTR loop: while the result is `input_required`, answer its requests and retry.
    async fn with_input(&self, method: &str, params: Value) -> Result<Value, ClientError> {
        let mut params = params;
        for _ in 0..MAX_INPUT_ROUNDS {
            let result = self.request(method, params.clone()).await?;
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
                return Err(ClientError::Server(mocopr_core::ErrorObject::new(
                    mocopr_core::ErrorCode::METHOD_NOT_FOUND,
                    "unsupported input request",
                )));
            }
        };
        Ok(answer.map_err(ClientError::Server)??)
    }
}
