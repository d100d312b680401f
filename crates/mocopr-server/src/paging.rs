//! Pre-serialized, paginated list results (`tools/list`, `prompts/list`, `resources/list`,
//! `resources/templates/list`).
//!
//! Pages are serialized once when the server is built, in both shapes: modern (with `resultType`,
//! caching hints and `serverInfo`) and legacy. A cursor is the opaque (base64url) key of the last
//! item of the previous page, so it stays valid, and means the same position, even if the list
//! is rebuilt in between; a cursor that falls between pre-built pages is served by serializing
//! that page on the fly.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bytes::Bytes;
use serde::Serialize;

use mocopr_core::types::{Prompt, Resource, ResourceTemplate, Tool};
use mocopr_core::{CacheScope, ErrorCode, ErrorObject};

/// An item of a list, whose legacy shape may differ from its modern one.
pub(crate) trait Listed: Serialize + Sized {
    /// The item as legacy clients see it, when that differs from the modern shape.
    fn legacy(&self) -> Option<Self> {
        None
    }
}

/// Before 2026-07-28 an `outputSchema` has `"type": "object"` at its root; a tool whose output
/// is another JSON value (`Structured<Vec<T>>`) is listed to legacy clients without one (its
/// results carry the value as text, see `Dispatcher::tool_result`).
impl Listed for Tool {
    fn legacy(&self) -> Option<Self> {
        let schema = self.output_schema.as_ref()?;
        if schema.get("type").and_then(serde_json::Value::as_str) == Some("object") {
            return None;
        }
        let mut tool = self.clone();
        tool.output_schema = None;
        Some(tool)
    }
}

impl Listed for Prompt {}
impl Listed for Resource {}
impl Listed for ResourceTemplate {}
#[cfg(test)]
impl Listed for String {}

/// Caching hints attached to modern list results.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CacheHints {
    pub(crate) ttl_ms: u64,
    pub(crate) scope: CacheScope,
}

/// A sorted list of `T`, with its pages pre-serialized.
#[derive(Debug)]
pub(crate) struct PagedList<T> {
    field: &'static str,
    items: Vec<(String, T)>,
    page_size: usize,
    hints: CacheHints,
    server_meta: Bytes,
    modern: Vec<Bytes>,
    legacy: Vec<Bytes>,
}

impl<T: Listed> PagedList<T> {
    /// `items` as pages of `page_size` under `field`; `server_meta` is the serialized `_meta`
    /// object carried by modern results.
    pub(crate) fn new(
        field: &'static str,
        mut items: Vec<(String, T)>,
        page_size: usize,
        hints: CacheHints,
        server_meta: Bytes,
    ) -> Self {
        items.sort_by(|a, b| a.0.cmp(&b.0));
        let mut list = PagedList {
            field,
            items,
            page_size: page_size.max(1),
            hints,
            server_meta,
            modern: Vec::new(),
            legacy: Vec::new(),
        };
        let mut start = 0;
        loop {
            list.modern.push(list.render(start, true));
            list.legacy.push(list.render(start, false));
            start += list.page_size;
            if start >= list.items.len() {
                break;
            }
        }
        list
    }

    /// The page after `cursor` (the first page without one).
    /// Every item, in list order.
    pub(crate) fn items(&self) -> impl Iterator<Item = &T> {
        self.items.iter().map(|(_, item)| item)
    }

    pub(crate) fn page(&self, cursor: Option<&str>, modern: bool) -> Result<Bytes, ErrorObject> {
        let start = match cursor {
            None => 0,
            Some(cursor) => {
                let invalid = || ErrorObject::new(ErrorCode::INVALID_PARAMS, "invalid cursor");
                let key =
                    URL_SAFE_NO_PAD.decode(cursor).ok().and_then(|k| String::from_utf8(k).ok()).ok_or_else(invalid)?;
                self.items.partition_point(|(k, _)| *k <= key)
            }
        };
        let pages = if modern { &self.modern } else { &self.legacy };
        if start.is_multiple_of(self.page_size)
            && let Some(page) = pages.get(start / self.page_size)
        {
            return Ok(page.clone());
        }
        Ok(self.render(start, modern))
    }

    fn render(&self, start: usize, modern: bool) -> Bytes {
        let end = (start + self.page_size).min(self.items.len());
        let start = start.min(end);
        let mut out = Vec::with_capacity(256 * (end - start) + 128);
        out.extend_from_slice(b"{\"");
        out.extend_from_slice(self.field.as_bytes());
        out.extend_from_slice(b"\":[");
        for (i, (_, item)) in self.items[start..end].iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            // Serializing registered definitions (strings, maps, numbers) cannot fail.
            let _ = match item.legacy().filter(|_| !modern) {
                Some(legacy) => serde_json::to_writer(&mut out, &legacy),
                None => serde_json::to_writer(&mut out, item),
            };
        }
        out.push(b']');
        if end < self.items.len() && end > 0 {
            out.extend_from_slice(b",\"nextCursor\":\"");
            out.extend_from_slice(URL_SAFE_NO_PAD.encode(&self.items[end - 1].0).as_bytes());
            out.push(b'"');
        }
        if modern {
            let scope = match self.hints.scope {
                CacheScope::Private => "private",
                _ => "public",
            };
            out.extend_from_slice(
                format!(
                    ",\"ttlMs\":{},\"cacheScope\":\"{scope}\",\"resultType\":\"complete\",\"_meta\":",
                    self.hints.ttl_ms
                )
                .as_bytes(),
            );
            out.extend_from_slice(&self.server_meta);
        }
        out.push(b'}');
        Bytes::from(out)
    }
}

#[cfg(test)]
#[path = "paging_tests.rs"]
mod tests;
