//! # mocopr-macros
//!
//! `#[tool]`, `#[prompt]` and `#[resource]` turn a typed async function into an MCP primitive.
//! Each keeps the function as written and adds a sibling function `<name>_tool()`,
//! `<name>_prompt()` or `<name>_resource()` returning a `Registration` for
//! `McpServer::builder().register(...)`. Schemas (JSON Schema 2020-12) come from the types via
//! `schemars`: the tool's `inputSchema` from `T` in its `Args<T>` parameter, its `outputSchema`
//! from `T` in a `Structured<T>` return type, a prompt's arguments from its `Args<T>` struct.
//! Descriptions default to the doc comment.
//!
//! ```text
//! /// Adds two numbers.
//! #[tool(read_only, idempotent)]
//! async fn add(Args(p): Args<AddParams>) -> Result<Structured<Sum>, ToolError> { ... }
//!
//! let server = McpServer::builder().register(add_tool()).build()?;
//! ```

#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod attrs;
mod expand;
mod types;

use proc_macro::TokenStream;

/// Makes an async fn a tool. Arguments (all optional): `name = "…"`, `description = "…"`,
/// `title = "…"`, `task = "optional" | "required"`, and the hints `read_only`, `destructive`,
/// `idempotent`, `open_world`.
#[proc_macro_attribute]
pub fn tool(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::tool(args.into(), item.into()).unwrap_or_else(syn::Error::into_compile_error).into()
}

/// Makes an async fn a prompt. Arguments: `name = "…"`, `description = "…"`, `title = "…"`.
/// The function returns `Result<GetPromptResult, ToolError>`; its `Args<T>` struct lists the
/// prompt's arguments.
#[proc_macro_attribute]
pub fn prompt(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::prompt(args.into(), item.into()).unwrap_or_else(syn::Error::into_compile_error).into()
}

/// Makes an async fn a resource (or a resource template, when `uri` has `{variables}`).
/// Arguments: `uri = "…"` (required), `name = "…"`, `mime_type = "…"`, `description = "…"`.
/// The function returns `Result<Vec<ResourceContents>, ToolError>`.
#[proc_macro_attribute]
pub fn resource(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::resource(args.into(), item.into()).unwrap_or_else(syn::Error::into_compile_error).into()
}
