//! # mocopr-macros
//!
//! `#[tool]`, `#[prompt]` and `#[resource]` turn a typed async function into an MCP primitive.
//! Each keeps the function as written and adds a sibling function `<name>_tool()`,
//! `<name>_prompt()` or `<name>_resource()` returning a `Registration` for
//! `McpServer::builder().register(...)`. The function is an ordinary handler: its arguments
//! are any extractors (`Args<T>`, `RequestCtx`, `State<T>`, …) and its schemas come from its
//! types exactly as for `McpServer::builder().tool(name, f)`; the macros add the name, the
//! description (the doc comment by default), the title and the tool's hints.
//!
//! ```
//! use mocopr_macros::tool;
//! use mocopr_server::{Args, HandlerError, McpServer, Structured};
//!
//! #[derive(serde::Deserialize, schemars::JsonSchema)]
//! struct AddParams {
//!     a: f64,
//!     b: f64,
//! }
//!
//! #[derive(serde::Serialize, schemars::JsonSchema)]
//! struct Sum {
//!     sum: f64,
//! }
//!
//! /// Adds two numbers.
//! #[tool(read_only, idempotent)]
//! async fn add(Args(p): Args<AddParams>) -> Result<Structured<Sum>, HandlerError> {
//!     Ok(Structured(Sum { sum: p.a + p.b }))
//! }
//!
//! let server = McpServer::builder().register(add_tool()).build().unwrap();
//! let add = server.tools().next().unwrap();
//! assert_eq!(add.description.as_deref(), Some("Adds two numbers."));
//! ```

#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod attrs;
mod expand;

use proc_macro::TokenStream;

/// Makes an async fn a tool. Arguments (all optional): `name = "…"`, `description = "…"`,
/// `title = "…"`, `task = "optional" | "required"`, and the hints `read_only`, `destructive`,
/// `idempotent`, `open_world`.
#[proc_macro_attribute]
pub fn tool(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::tool(args.into(), item.into()).unwrap_or_else(syn::Error::into_compile_error).into()
}

/// Makes an async fn a prompt. Arguments: `name = "…"`, `description = "…"`, `title = "…"`.
/// The prompt's arguments come from the function's `Args<T>` struct.
#[proc_macro_attribute]
pub fn prompt(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::prompt(args.into(), item.into()).unwrap_or_else(syn::Error::into_compile_error).into()
}

/// Makes an async fn a resource (or a resource template, when `uri` has `{variables}`, which
/// the function takes as `Args<T>`). Arguments: `uri = "…"` (required), `name = "…"`,
/// `mime_type = "…"`, `description = "…"`, `title = "…"`.
#[proc_macro_attribute]
pub fn resource(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::resource(args.into(), item.into()).unwrap_or_else(syn::Error::into_compile_error).into()
}
