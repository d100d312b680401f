//! Listing with pagination: each list as a [`Stream`] of items that fetches the next page when
//! the current one is used up (following `nextCursor`; an empty-string cursor is a cursor),
//! and `list_*` helpers that collect everything.

use futures_util::stream::{self, BoxStream};
use futures_util::{Stream, StreamExt, TryStreamExt};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use mocopr_core::types::{Prompt, Resource, ResourceTemplate, Tool};

use crate::client::McpClient;
use crate::error::ClientError;

/// The most pages one listing follows, so a server whose cursors never end cannot keep a
/// client busy forever.
pub const MAX_PAGES: usize = 10_000;

/// Where a listing is: the first page, a cursor, or done.
enum Cursor {
    First,
    Next(String),
    Done,
}

impl McpClient {
    /// Every tool, page by page. Each page's `x-mcp-header` parameters are learned (for the
    /// `Mcp-Param-*` headers of HTTP calls); tools with invalid annotations are left out.
    pub fn tools(&self) -> BoxStream<'_, Result<Tool, ClientError>> {
        self.pages::<Tool>("tools/list", "tools")
            .map_ok(move |mut page| {
                crate::client::learn_tool_headers(&self.inner, &mut page);
                stream::iter(page.into_iter().map(Ok))
            })
            .try_flatten()
            .boxed()
    }

    /// Every prompt, page by page.
    pub fn prompts(&self) -> BoxStream<'_, Result<Prompt, ClientError>> {
        self.items("prompts/list", "prompts")
    }

    /// Every resource, page by page.
    pub fn resources(&self) -> BoxStream<'_, Result<Resource, ClientError>> {
        self.items("resources/list", "resources")
    }

    /// Every resource template, page by page.
    pub fn resource_templates(&self) -> BoxStream<'_, Result<ResourceTemplate, ClientError>> {
        self.items("resources/templates/list", "resourceTemplates")
    }

    /// Every tool.
    pub async fn list_tools(&self) -> Result<Vec<Tool>, ClientError> {
        self.tools().try_collect().await
    }

    /// Every prompt.
    pub async fn list_prompts(&self) -> Result<Vec<Prompt>, ClientError> {
        self.prompts().try_collect().await
    }

    /// Every resource.
    pub async fn list_resources(&self) -> Result<Vec<Resource>, ClientError> {
        self.resources().try_collect().await
    }

    /// Every resource template.
    pub async fn list_resource_templates(&self) -> Result<Vec<ResourceTemplate>, ClientError> {
        self.resource_templates().try_collect().await
    }

    fn items<T: DeserializeOwned + Send + 'static>(
        &self,
        method: &'static str,
        field: &'static str,
    ) -> BoxStream<'_, Result<T, ClientError>> {
        self.pages(method, field).map_ok(|page| stream::iter(page.into_iter().map(Ok))).try_flatten().boxed()
    }

    /// The pages of a listing, fetched one at a time as the stream is polled.
    fn pages<T: DeserializeOwned + Send + 'static>(
        &self,
        method: &'static str,
        field: &'static str,
    ) -> impl Stream<Item = Result<Vec<T>, ClientError>> + Send + '_ {
        stream::try_unfold((Cursor::First, 0usize), move |(cursor, fetched)| async move {
            let params = match cursor {
                Cursor::Done => return Ok(None),
                Cursor::First => json!({}),
                Cursor::Next(cursor) => json!({ "cursor": cursor }),
            };
            if fetched >= MAX_PAGES {
                return Err(ClientError::TooManyPages(MAX_PAGES));
            }
            let mut page = self.request(method, params).await?;
            let items: Vec<T> = serde_json::from_value(page.get_mut(field).map(Value::take).unwrap_or(Value::Null))?;
            let next = match page.get("nextCursor").and_then(Value::as_str) {
                Some(next) => Cursor::Next(next.to_owned()),
                None => Cursor::Done,
            };
            Ok(Some((items, (next, fetched + 1))))
        })
    }
}
