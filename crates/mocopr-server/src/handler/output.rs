//! What handlers may return: one conversion trait per primitive kind.

use schemars::JsonSchema;
use serde::Serialize;

use mocopr_core::types::{
    CallToolResult, Completion, ContentBlock, GetPromptResult, JsonObject, PromptMessage, ResourceContents,
};

use crate::error::HandlerError;
use crate::streaming::ResourceStream;

/// A structured tool result: `structuredContent` plus the same JSON as text, as the
/// specification recommends for clients that only read text. `T`'s JSON Schema becomes the
/// tool's `outputSchema`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Structured<T>(pub T);

/// What a tool handler may return.
pub trait IntoToolResult: Send + 'static {
    /// Converts into a tool result.
    fn into_tool_result(self) -> Result<CallToolResult, HandlerError>;

    /// The JSON Schema of the `structuredContent` this type produces, when it has one.
    fn output_schema() -> Option<JsonObject> {
        None
    }
}

impl IntoToolResult for CallToolResult {
    fn into_tool_result(self) -> Result<CallToolResult, HandlerError> {
        Ok(self)
    }
}

impl IntoToolResult for String {
    fn into_tool_result(self) -> Result<CallToolResult, HandlerError> {
        Ok(CallToolResult::text(self))
    }
}

impl IntoToolResult for &'static str {
    fn into_tool_result(self) -> Result<CallToolResult, HandlerError> {
        Ok(CallToolResult::text(self))
    }
}

impl IntoToolResult for ContentBlock {
    fn into_tool_result(self) -> Result<CallToolResult, HandlerError> {
        Ok(CallToolResult::success(vec![self]))
    }
}

impl IntoToolResult for Vec<ContentBlock> {
    fn into_tool_result(self) -> Result<CallToolResult, HandlerError> {
        Ok(CallToolResult::success(self))
    }
}

impl IntoToolResult for () {
    fn into_tool_result(self) -> Result<CallToolResult, HandlerError> {
        Ok(CallToolResult::success(Vec::new()))
    }
}

impl<T: Serialize + JsonSchema + Send + 'static> IntoToolResult for Structured<T> {
    fn into_tool_result(self) -> Result<CallToolResult, HandlerError> {
        Ok(CallToolResult::structured(serde_json::to_value(&self.0)?))
    }

    fn output_schema() -> Option<JsonObject> {
        Some(crate::registration::output_schema::<T>())
    }
}

impl<T: IntoToolResult, E: Into<HandlerError> + Send + 'static> IntoToolResult for Result<T, E> {
    fn into_tool_result(self) -> Result<CallToolResult, HandlerError> {
        self.map_err(Into::into).and_then(IntoToolResult::into_tool_result)
    }

    fn output_schema() -> Option<JsonObject> {
        T::output_schema()
    }
}

/// What a prompt handler may return: the whole result, its messages, or one user message.
pub trait IntoPromptResult: Send + 'static {
    /// Converts into a prompt result.
    fn into_prompt_result(self) -> Result<GetPromptResult, HandlerError>;
}

impl IntoPromptResult for GetPromptResult {
    fn into_prompt_result(self) -> Result<GetPromptResult, HandlerError> {
        Ok(self)
    }
}

impl IntoPromptResult for Vec<PromptMessage> {
    fn into_prompt_result(self) -> Result<GetPromptResult, HandlerError> {
        Ok(GetPromptResult::from(self))
    }
}

impl IntoPromptResult for PromptMessage {
    fn into_prompt_result(self) -> Result<GetPromptResult, HandlerError> {
        Ok(GetPromptResult::new().message(self))
    }
}

impl IntoPromptResult for String {
    fn into_prompt_result(self) -> Result<GetPromptResult, HandlerError> {
        Ok(GetPromptResult::new().user(self))
    }
}

impl IntoPromptResult for &'static str {
    fn into_prompt_result(self) -> Result<GetPromptResult, HandlerError> {
        Ok(GetPromptResult::new().user(self))
    }
}

impl<T: IntoPromptResult, E: Into<HandlerError> + Send + 'static> IntoPromptResult for Result<T, E> {
    fn into_prompt_result(self) -> Result<GetPromptResult, HandlerError> {
        self.map_err(Into::into).and_then(IntoPromptResult::into_prompt_result)
    }
}

/// A resource handler's result: whole contents, or a stream encoded as it is read.
#[derive(Debug)]
pub struct ResourceBody(pub(crate) BodyKind);

#[derive(Debug)]
pub(crate) enum BodyKind {
    Contents(Vec<ResourceContents>),
    Stream(ResourceStream),
}

/// What a resource handler may return: contents (one or several), a [`ResourceStream`], or text
/// (the contents of the URI read).
pub trait IntoResourceResult: Send + 'static {
    /// Converts into the result of reading `uri`.
    fn into_resource_result(self, uri: &str) -> Result<ResourceBody, HandlerError>;
}

impl IntoResourceResult for ResourceBody {
    fn into_resource_result(self, _uri: &str) -> Result<ResourceBody, HandlerError> {
        Ok(self)
    }
}

impl IntoResourceResult for Vec<ResourceContents> {
    fn into_resource_result(self, _uri: &str) -> Result<ResourceBody, HandlerError> {
        Ok(ResourceBody(BodyKind::Contents(self)))
    }
}

impl IntoResourceResult for ResourceContents {
    fn into_resource_result(self, _uri: &str) -> Result<ResourceBody, HandlerError> {
        Ok(ResourceBody(BodyKind::Contents(vec![self])))
    }
}

impl IntoResourceResult for ResourceStream {
    fn into_resource_result(self, _uri: &str) -> Result<ResourceBody, HandlerError> {
        Ok(ResourceBody(BodyKind::Stream(self)))
    }
}

impl IntoResourceResult for String {
    fn into_resource_result(self, uri: &str) -> Result<ResourceBody, HandlerError> {
        Ok(ResourceBody(BodyKind::Contents(vec![ResourceContents::text(uri, self)])))
    }
}

impl IntoResourceResult for &'static str {
    fn into_resource_result(self, uri: &str) -> Result<ResourceBody, HandlerError> {
        Ok(ResourceBody(BodyKind::Contents(vec![ResourceContents::text(uri, self)])))
    }
}

impl<T: IntoResourceResult, E: Into<HandlerError> + Send + 'static> IntoResourceResult for Result<T, E> {
    fn into_resource_result(self, uri: &str) -> Result<ResourceBody, HandlerError> {
        self.map_err(Into::into).and_then(|value| value.into_resource_result(uri))
    }
}

/// What a completion handler may return: a [`Completion`], or values (the first 100 are sent,
/// with `hasMore` when there were more).
pub trait IntoCompletion: Send + 'static {
    /// Converts into a completion.
    fn into_completion(self) -> Result<Completion, HandlerError>;
}

impl IntoCompletion for Completion {
    fn into_completion(self) -> Result<Completion, HandlerError> {
        Ok(self)
    }
}

impl IntoCompletion for Vec<String> {
    fn into_completion(self) -> Result<Completion, HandlerError> {
        Ok(Completion::new(self))
    }
}

impl<T: IntoCompletion, E: Into<HandlerError> + Send + 'static> IntoCompletion for Result<T, E> {
    fn into_completion(self) -> Result<Completion, HandlerError> {
        self.map_err(Into::into).and_then(IntoCompletion::into_completion)
    }
}
