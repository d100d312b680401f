//! [`ResultCache`]: cacheable results kept as long as the server's `ttlMs` says, off unless a
//! client is given one.
//!
//! What the specification asks of a client cache, and where it holds here:
//! - the key is the method and the params that shape the result (everything but `_meta`), so
//!   each page of a list is fresh on its own;
//! - `ttlMs` absent, zero or negative means stale at once: such results are not kept;
//! - MRTR results (`input_required`) and retries (`inputResponses`, `requestState`) are never
//!   cached;
//! - `private` results are kept for the client that fetched them only; `public` ones are
//!   shared by every client given the same cache for the same server (URL or command);
//! - a list_changed notification drops that list, `resources/updated` drops that resource, and
//!   an invalid-cursor error drops every page of its list.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use moka::sync::Cache;
use serde_json::Value;

use mocopr_core::{ErrorCode, ErrorObject, ServerNotification};

/// The methods whose results carry caching hints (`server/discover` is only sent at connect).
const CACHEABLE: [&str; 5] =
    ["tools/list", "prompts/list", "resources/list", "resources/templates/list", "resources/read"];

/// Results fetched by clients, kept for their `ttlMs`. Cheap to clone; clones share entries.
#[derive(Clone)]
pub struct ResultCache {
    entries: Cache<Key, Arc<Value>>,
}

impl std::fmt::Debug for ResultCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResultCache").field("entries", &self.entries.entry_count()).finish()
    }
}

#[derive(Clone, PartialEq, Eq, Hash)]
struct Key {
    /// The server (URL, command line, or a connection of its own).
    server: Arc<str>,
    /// `None` for public results; the client's own id for private ones.
    context: Option<u64>,
    method: &'static str,
    /// The params without `_meta`, as JSON with sorted keys.
    params: String,
    /// `resources/read`'s URI, so an update can find it.
    uri: Option<String>,
}

/// The lifetime each entry was given.
struct TtlFromEntry;

impl moka::Expiry<Key, Arc<Value>> for TtlFromEntry {
    fn expire_after_create(&self, _key: &Key, value: &Arc<Value>, _created_at: Instant) -> Option<Duration> {
        Some(ttl(value).unwrap_or(Duration::ZERO))
    }
}

/// The result's `ttlMs` as a duration, when positive.
fn ttl(result: &Value) -> Option<Duration> {
    // A huge value is a long time, not a panic.
    let ms = result.get("ttlMs").and_then(Value::as_f64).filter(|ms| *ms > 0.0)?;
    Some(Duration::try_from_secs_f64(ms / 1000.0).unwrap_or(Duration::MAX))
}

impl ResultCache {
    /// A cache of at most `max_entries` results (least recently used go first).
    pub fn new(max_entries: u64) -> Self {
        let entries = Cache::builder()
            .max_capacity(max_entries)
            .expire_after(TtlFromEntry)
            .support_invalidation_closures()
            .build();
        ResultCache { entries }
    }

    /// How many results are kept (approximate while entries are being evicted).
    pub fn entry_count(&self) -> u64 {
        self.entries.run_pending_tasks();
        self.entries.entry_count()
    }

    /// Drops every result.
    pub fn clear(&self) {
        self.entries.invalidate_all();
    }

    fn invalidate(&self, server: &Arc<str>, predicate: impl Fn(&Key) -> bool + Send + Sync + 'static) {
        let server = server.clone();
        // Only fails when closures are not enabled, and they are.
        let _ = self.entries.invalidate_entries_if(move |key, _| key.server == server && predicate(key));
    }
}

/// Ids that tell one client's private results from another's.
static NEXT_CONTEXT: AtomicU64 = AtomicU64::new(1);

/// One client's view of a [`ResultCache`].
pub(crate) struct ClientCache {
    cache: ResultCache,
    server: Arc<str>,
    context: u64,
}

impl ClientCache {
    /// `server` is the key under which public results are shared (`None`: not shared).
    pub(crate) fn new(cache: ResultCache, server: Option<String>) -> Self {
        let context = NEXT_CONTEXT.fetch_add(1, Ordering::Relaxed);
        let server = server.unwrap_or_else(|| format!("connection-{context}"));
        ClientCache { cache, server: Arc::from(server), context }
    }

    /// The key parts of a request, when its result may be cached.
    fn request_key(method: &str, params: &Value) -> Option<(&'static str, String, Option<String>)> {
        let method = CACHEABLE.iter().copied().find(|m| *m == method)?;
        let object = params.as_object()?;
        if object.contains_key("inputResponses") || object.contains_key("requestState") {
            return None;
        }
        let mut shaping = object.clone();
        shaping.remove("_meta");
        let uri = (method == "resources/read")
            .then(|| object.get("uri").and_then(Value::as_str).map(str::to_owned))
            .flatten();
        // serde_json's map keeps keys sorted, so equal params give equal text.
        Some((method, Value::Object(shaping).to_string(), uri))
    }

    fn key(&self, (method, params, uri): (&'static str, String, Option<String>), private: bool) -> Key {
        Key { server: self.server.clone(), context: private.then_some(self.context), method, params, uri }
    }

    /// A fresh cached result for this request.
    pub(crate) fn get(&self, method: &str, params: &Value) -> Option<Value> {
        let parts = Self::request_key(method, params)?;
        let public = self.key(parts.clone(), false);
        let found = self.cache.entries.get(&public).or_else(|| self.cache.entries.get(&self.key(parts, true)))?;
        Some(Value::clone(&found))
    }

    /// Keeps `result` for its `ttlMs`, under its `cacheScope`.
    pub(crate) fn put(&self, method: &str, params: &Value, result: &Value) {
        let Some(parts) = Self::request_key(method, params) else { return };
        // Only final results are kept: an input request or a task stands for work not done yet.
        let interim = matches!(result.get("resultType").and_then(Value::as_str), Some("input_required" | "task"));
        if ttl(result).is_none() || interim {
            return;
        }
        // A result without a scope is treated as private: never shared by mistake.
        let private = result.get("cacheScope").and_then(Value::as_str) != Some("public");
        self.cache.entries.insert(self.key(parts, private), Arc::new(result.clone()));
    }

    /// An invalid cursor means the list changed under it: every page of it goes.
    pub(crate) fn on_error(&self, method: &str, params: &Value, error: &ErrorObject) {
        if error.code == ErrorCode::INVALID_PARAMS && params.get("cursor").is_some() {
            self.drop_method(method);
        }
    }

    fn drop_method(&self, method: &str) {
        let Some(method) = CACHEABLE.iter().copied().find(|m| *m == method) else { return };
        self.cache.invalidate(&self.server, move |key| key.method == method);
    }

    /// Change notifications drop what they make stale.
    pub(crate) fn on_notification(&self, notification: &ServerNotification) {
        match notification {
            ServerNotification::ToolListChanged(_) => self.drop_method("tools/list"),
            ServerNotification::PromptListChanged(_) => self.drop_method("prompts/list"),
            ServerNotification::ResourceListChanged(_) => {
                self.drop_method("resources/list");
                self.drop_method("resources/templates/list");
            }
            ServerNotification::ResourceUpdated(updated) => {
                let uri = updated.uri.clone();
                self.cache.invalidate(&self.server, move |key| key.uri.as_deref() == Some(uri.as_str()));
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn cache() -> ClientCache {
        ClientCache::new(ResultCache::new(10), Some("server".into()))
    }

    #[test]
    fn mrtr_results_and_retries_are_never_kept() {
        let cache = cache();
        let fresh = json!({"contents": [], "ttlMs": 60_000, "cacheScope": "public"});
        let read = json!({"uri": "mem://r"});
        let retry = json!({"uri": "mem://r", "inputResponses": {}, "requestState": "s"});
        cache.put("resources/read", &retry, &fresh);
        assert_eq!(cache.get("resources/read", &retry), None, "a retry is not cacheable");
        assert_eq!(cache.get("resources/read", &read), None, "nor stored under the plain request");
        let interim = json!({"resultType": "input_required", "inputRequests": {}, "ttlMs": 60_000});
        cache.put("resources/read", &read, &interim);
        assert_eq!(cache.get("resources/read", &read), None, "an input_required result is not kept");
    }

    #[test]
    fn ttl_absent_zero_or_negative_is_stale_and_meta_is_not_part_of_the_key() {
        let cache = cache();
        for stale in [json!({"tools": []}), json!({"tools": [], "ttlMs": 0}), json!({"tools": [], "ttlMs": -5})] {
            cache.put("tools/list", &json!({}), &stale);
            assert_eq!(cache.get("tools/list", &json!({})), None, "{stale}");
        }
        let fresh = json!({"tools": [], "ttlMs": 60_000, "cacheScope": "public"});
        cache.put("tools/list", &json!({"_meta": {"progressToken": 1}}), &fresh);
        assert_eq!(cache.get("tools/list", &json!({})), Some(fresh.clone()));
        assert_eq!(cache.get("tools/list", &json!({"cursor": "2"})), None, "each page on its own");
        assert_eq!(cache.get("tools/call", &json!({})), None, "tool calls are never cached");
    }

    #[test]
    fn an_invalid_cursor_drops_every_page_of_its_list() {
        let cache = cache();
        let page = json!({"tools": [], "ttlMs": 60_000, "cacheScope": "public"});
        cache.put("tools/list", &json!({}), &page);
        cache.put("tools/list", &json!({"cursor": "2"}), &page);
        cache.on_error(
            "tools/list",
            &json!({"cursor": "3"}),
            &ErrorObject::new(ErrorCode::INVALID_PARAMS, "bad cursor"),
        );
        cache.cache.entries.run_pending_tasks();
        assert_eq!(cache.get("tools/list", &json!({})), None);
        assert_eq!(cache.get("tools/list", &json!({"cursor": "2"})), None);
    }
}
