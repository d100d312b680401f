//! Tool handlers: plain async functions whose arguments are extractors.
//!
//! ```
//! use mocopr_server::{Args, RequestCtx, ToolError};
//! #[derive(serde::Deserialize)]
//! struct AddParams { a: f64, b: f64 }
//!
//! async fn add(Args(p): Args<AddParams>, _ctx: RequestCtx) -> Result<String, ToolError> {
//!     Ok((p.a + p.b).to_string())
//! }
//! ```
//!
//! A handler takes `Args<T>` (the arguments decoded as `T`), a [`RequestCtx`], both, or
//! neither, and returns anything that is [`IntoToolResult`].

use std::future::Future;
use std::sync::Arc;

use futures_util::future::BoxFuture;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use mocopr_core::types::{CallToolResult, ContentBlock};

use crate::context::RequestCtx;
use crate::error::ToolError;

/// The arguments of a tool call, decoded as `T`.
#[derive(Debug, Clone)]
pub struct Args<T>(pub T);

/// A structured tool result: `structuredContent` plus the same JSON as text, as the
/// specification recommends for clients that only read text.
#[derive(Debug, Clone)]
pub struct Structured<T>(pub T);

/// What a tool handler may return.
pub trait IntoToolResult {
    /// Converts into a tool result.
    fn into_tool_result(self) -> Result<CallToolResult, ToolError>;
}

impl IntoToolResult for CallToolResult {
    fn into_tool_result(self) -> Result<CallToolResult, ToolError> {
        Ok(self)
    }
}

impl IntoToolResult for String {
    fn into_tool_result(self) -> Result<CallToolResult, ToolError> {
        Ok(CallToolResult::success(vec![ContentBlock::text(self)]))
    }
}

impl IntoToolResult for &'static str {
    fn into_tool_result(self) -> Result<CallToolResult, ToolError> {
        Ok(CallToolResult::success(vec![ContentBlock::text(self)]))
    }
}

impl IntoToolResult for Vec<ContentBlock> {
    fn into_tool_result(self) -> Result<CallToolResult, ToolError> {
        Ok(CallToolResult::success(self))
    }
}

impl<T: Serialize> IntoToolResult for Structured<T> {
    fn into_tool_result(self) -> Result<CallToolResult, ToolError> {
        let value = serde_json::to_value(&self.0)?;
        let text = serde_json::to_string(&value)?;
        let mut result = CallToolResult::success(vec![ContentBlock::text(text)]);
        result.structured_content = Some(value);
        Ok(result)
    }
}

impl<T: IntoToolResult, E: Into<ToolError>> IntoToolResult for Result<T, E> {
    fn into_tool_result(self) -> Result<CallToolResult, ToolError> {
        self.map_err(Into::into).and_then(IntoToolResult::into_tool_result)
    }
}

/// The type-erased form every handler is stored as.
pub(crate) type ErasedTool =
    Arc<dyn Fn(&Value, RequestCtx) -> BoxFuture<'static, Result<CallToolResult, ToolError>> + Send + Sync>;

/// An async function usable as a tool. `M` only tells the implementations apart.
pub trait ToolHandler<M>: Send + Sync + 'static {
    /// Erases the handler's type.
    #[doc(hidden)]
    fn into_erased(self) -> ErasedToolHandler;
}

/// A tool handler with its types erased (what [`ToolHandler`] turns into).
#[derive(Clone)]
pub struct ErasedToolHandler(pub(crate) ErasedTool);

impl std::fmt::Debug for ErasedToolHandler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ErasedToolHandler")
    }
}

fn decode_args<T: DeserializeOwned>(args: &Value) -> Result<T, ToolError> {
    T::deserialize(args).map_err(|e| ToolError::new(format!("invalid arguments: {e}")))
}

fn boxed<Fut, R>(future: Fut) -> BoxFuture<'static, Result<CallToolResult, ToolError>>
where
    Fut: Future<Output = R> + Send + 'static,
    R: IntoToolResult,
{
    Box::pin(async move { future.await.into_tool_result() })
}

fn failed(error: ToolError) -> BoxFuture<'static, Result<CallToolResult, ToolError>> {
    Box::pin(std::future::ready(Err(error)))
}

/// Marker: `async fn(Args<T>, RequestCtx)`.
#[derive(Debug)]
pub struct WithArgsAndCtx<T>(std::marker::PhantomData<T>);
/// Marker: `async fn(Args<T>)`.
#[derive(Debug)]
pub struct WithArgs<T>(std::marker::PhantomData<T>);
/// Marker: `async fn(RequestCtx)`.
#[derive(Debug)]
pub struct WithCtx;
/// Marker: `async fn()`.
#[derive(Debug)]
pub struct WithNothing;

impl<F, Fut, T, R> ToolHandler<WithArgsAndCtx<T>> for F
where
    F: Fn(Args<T>, RequestCtx) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = R> + Send + 'static,
    T: DeserializeOwned + Send + 'static,
    R: IntoToolResult + 'static,
{
    fn into_erased(self) -> ErasedToolHandler {
        ErasedToolHandler(Arc::new(move |args, ctx| match decode_args(args) {
            Ok(args) => boxed(self(Args(args), ctx)),
            Err(e) => failed(e),
        }))
    }
}

impl<F, Fut, T, R> ToolHandler<WithArgs<T>> for F
where
    F: Fn(Args<T>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = R> + Send + 'static,
    T: DeserializeOwned + Send + 'static,
    R: IntoToolResult + 'static,
{
    fn into_erased(self) -> ErasedToolHandler {
        ErasedToolHandler(Arc::new(move |args, _ctx| match decode_args(args) {
            Ok(args) => boxed(self(Args(args))),
            Err(e) => failed(e),
        }))
    }
}

impl<F, Fut, R> ToolHandler<WithCtx> for F
where
    F: Fn(RequestCtx) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = R> + Send + 'static,
    R: IntoToolResult + 'static,
{
    fn into_erased(self) -> ErasedToolHandler {
        ErasedToolHandler(Arc::new(move |_args, ctx| boxed(self(ctx))))
    }
}

impl<F, Fut, R> ToolHandler<WithNothing> for F
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: Future<Output = R> + Send + 'static,
    R: IntoToolResult + 'static,
{
    fn into_erased(self) -> ErasedToolHandler {
        ErasedToolHandler(Arc::new(move |_args, _ctx| boxed(self())))
    }
}
