//! Prompt, resource and completion handlers: async closures over typed inputs.
//!
//! Tools have extractors (see [`crate::tool`]); the other primitives take one typed request
//! and the [`RequestCtx`].

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;

use futures_util::future::BoxFuture;

use mocopr_core::types::{CompleteRequestParams, Completion, GetPromptResult, ResourceContents};

use crate::context::RequestCtx;
use crate::error::ToolError;
use crate::streaming::ResourceStream;

/// The arguments of `prompts/get`.
pub type PromptArgs = BTreeMap<String, String>;

/// What `resources/read` asks for.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ResourceRequest {
    /// The URI requested.
    pub uri: String,
    /// For templated resources, the template variables taken from the URI.
    pub variables: BTreeMap<String, String>,
}

pub(crate) type ErasedPrompt =
    Arc<dyn Fn(PromptArgs, RequestCtx) -> BoxFuture<'static, Result<GetPromptResult, ToolError>> + Send + Sync>;
/// What a resource handler produced: whole contents, or a stream.
pub(crate) enum ResourceBody {
    Contents(Vec<ResourceContents>),
    Stream(ResourceStream),
}

pub(crate) type ErasedResource =
    Arc<dyn Fn(ResourceRequest, RequestCtx) -> BoxFuture<'static, Result<ResourceBody, ToolError>> + Send + Sync>;
pub(crate) type ErasedCompletion =
    Arc<dyn Fn(CompleteRequestParams, RequestCtx) -> BoxFuture<'static, Result<Completion, ToolError>> + Send + Sync>;

pub(crate) fn erase_prompt<F, Fut>(f: F) -> ErasedPrompt
where
    F: Fn(PromptArgs, RequestCtx) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<GetPromptResult, ToolError>> + Send + 'static,
{
    Arc::new(move |args, ctx| Box::pin(f(args, ctx)))
}

pub(crate) fn erase_resource<F, Fut>(f: F) -> ErasedResource
where
    F: Fn(ResourceRequest, RequestCtx) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Vec<ResourceContents>, ToolError>> + Send + 'static,
{
    Arc::new(move |req, ctx| {
        let future = f(req, ctx);
        Box::pin(async move { future.await.map(ResourceBody::Contents) })
    })
}

pub(crate) fn erase_streaming_resource<F, Fut>(f: F) -> ErasedResource
where
    F: Fn(ResourceRequest, RequestCtx) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<ResourceStream, ToolError>> + Send + 'static,
{
    Arc::new(move |req, ctx| {
        let future = f(req, ctx);
        Box::pin(async move { future.await.map(ResourceBody::Stream) })
    })
}

pub(crate) fn erase_completion<F, Fut>(f: F) -> ErasedCompletion
where
    F: Fn(CompleteRequestParams, RequestCtx) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Completion, ToolError>> + Send + 'static,
{
    Arc::new(move |req, ctx| Box::pin(f(req, ctx)))
}
