//! One handler model for tools, prompts, resources and completions: plain async functions
//! whose arguments are extractors ([`FromRequestParts`]) and whose return value converts into
//! the primitive's result.
//!
//! ```
//! use mocopr_server::{Args, HandlerError, McpServer, RequestCtx, State, Structured};
//!
//! #[derive(serde::Deserialize, schemars::JsonSchema)]
//! struct AddParams {
//!     /// The first number.
//!     a: f64,
//!     /// The second number.
//!     b: f64,
//! }
//!
//! #[derive(serde::Serialize, schemars::JsonSchema)]
//! struct Sum {
//!     sum: f64,
//! }
//!
//! #[derive(Clone)]
//! struct Config {
//!     precision: usize,
//! }
//!
//! async fn add(Args(p): Args<AddParams>, State(config): State<Config>, _ctx: RequestCtx) -> Result<Structured<Sum>, HandlerError> {
//!     let sum = format!("{:.*}", config.precision, p.a + p.b).parse()?;
//!     Ok(Structured(Sum { sum }))
//! }
//!
//! let server = McpServer::builder()
//!     .with_state(Config { precision: 2 })
//!     .tool("add", add) // inputSchema from `AddParams`, outputSchema from `Sum`
//!     .build()
//!     .unwrap();
//! let tool = server.tools().next().unwrap();
//! assert_eq!(tool.input_schema["required"], serde_json::json!(["a", "b"]));
//! assert!(tool.output_schema.is_some());
//! ```
//!
//! | extractor | gives | for |
//! |---|---|---|
//! | [`Args<T>`] | the inputs decoded as `T`: a tool's arguments, a prompt's arguments, a resource template's variables | tools, prompts, resources |
//! | [`RequestCtx`](crate::RequestCtx) | version, client capabilities, progress, logging, cancellation, input from the client | all |
//! | [`State<T>`] | application state given to [`with_state`](crate::McpServerBuilder::with_state) | all |
//! | [`Principal`](mocopr_core::principal::Principal) / `Option<Principal>` | the authenticated caller | all |
//! | [`ResourceUri`] | the URI read | resources |
//! | [`CompleteRequestParams`](mocopr_core::types::CompleteRequestParams) | what to complete | completions |
//!
//! A handler takes up to eight extractors, in any order; only one of them may take the inputs
//! (`Args<T>`). The return values each primitive accepts are those of [`IntoToolResult`],
//! [`IntoPromptResult`], [`IntoResourceResult`] and [`IntoCompletion`], and `Result`s of them
//! with any error that converts into [`HandlerError`].

mod extract;
mod output;

use std::future::Future;

pub use extract::{Args, FromRequestParts, HandlerKind, HandlerSignature, RequestParts, ResourceUri, State};
pub(crate) use extract::{Input, StateMap};
pub(crate) use output::BodyKind;
pub use output::{IntoCompletion, IntoPromptResult, IntoResourceResult, IntoToolResult, ResourceBody, Structured};

use crate::error::HandlerError;

/// An async function whose arguments are all extractors. `T` is the tuple of their types; it
/// only tells the implementations apart, and is always inferred.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a handler",
    label = "not a handler",
    note = "a handler is an async fn (or closure) taking up to eight extractors (`Args<T>`, `RequestCtx`, `State<T>`, `ResourceUri`, `Principal`, ...)",
    note = "`Args<T>` needs `T: serde::Deserialize + schemars::JsonSchema`; `State<T>` needs `T: Clone + Send + Sync`",
    note = "the future must be `Send`, and its output a tool, prompt, resource or completion result"
)]
pub trait Handler<T>: Clone + Send + Sync + 'static {
    /// What the function returns.
    type Output: Send + 'static;

    /// Extracts the arguments from `parts` and calls the function.
    fn call(self, parts: RequestParts) -> impl Future<Output = Result<Self::Output, HandlerError>> + Send + 'static;

    /// What the arguments need and tell (input schema, states required), read at registration.
    fn signature() -> HandlerSignature;
}

macro_rules! impl_handler {
    ($($ty:ident),*) => {
        #[allow(non_snake_case, unused_mut, unused_variables)]
        impl<F, Fut, R, $($ty,)*> Handler<($($ty,)*)> for F
        where
            F: FnOnce($($ty),*) -> Fut + Clone + Send + Sync + 'static,
            Fut: Future<Output = R> + Send,
            R: Send + 'static,
            $($ty: FromRequestParts,)*
        {
            type Output = R;

            fn call(self, mut parts: RequestParts) -> impl Future<Output = Result<R, HandlerError>> + Send + 'static {
                async move {
                    $(let $ty = $ty::from_request_parts(&mut parts).await?;)*
                    Ok(self($($ty),*).await)
                }
            }

            fn signature() -> HandlerSignature {
                let mut signature = HandlerSignature::default();
                $($ty::describe(&mut signature);)*
                signature
            }
        }
    };
}

impl_handler!();
impl_handler!(T1);
impl_handler!(T1, T2);
impl_handler!(T1, T2, T3);
impl_handler!(T1, T2, T3, T4);
impl_handler!(T1, T2, T3, T4, T5);
impl_handler!(T1, T2, T3, T4, T5, T6);
impl_handler!(T1, T2, T3, T4, T5, T6, T7);
impl_handler!(T1, T2, T3, T4, T5, T6, T7, T8);
