//! [`CachePolicy`]: which requests the cache layer may answer from the cache, and how each is
//! keyed and tagged.

use std::collections::HashSet;
use std::time::Duration;

use serde_json::{Value, json};

use mocopr_core::meta::PROTOCOL_VERSION_KEY;
use mocopr_core::service::McpRequest;
use mocopr_core::types::Tool;

/// Keeps cached results apart between authorization contexts: a layer that authenticates
/// requests inserts one into the request's extensions, and results are then only shared
/// between requests carrying the same value.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CachePartition(pub String);

/// What the cache layer caches.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct CachePolicy {
    /// Tools whose results may be cached (read-only and idempotent, or marked by the user).
    pub tools: HashSet<String>,
    /// `tools/list`, `prompts/list`, `resources/list`, `resources/templates/list`.
    pub lists: bool,
    /// `resources/read`.
    pub resource_reads: bool,
    /// How long results are kept (`None`: the cache's default TTL).
    pub ttl: Option<Duration>,
}

impl Default for CachePolicy {
    fn default() -> Self {
        CachePolicy { tools: HashSet::new(), lists: true, resource_reads: true, ttl: None }
    }
}

const LISTS: [&str; 4] = ["tools/list", "prompts/list", "resources/list", "resources/templates/list"];

/// How one request is cached.
pub(crate) struct Plan {
    pub(crate) key: String,
    pub(crate) tag: String,
    pub(crate) is_tool_call: bool,
}

impl CachePolicy {
    /// Lists and resource reads, and the tools among `tools` that declare both `readOnlyHint`
    /// and `idempotentHint`.
    pub fn for_tools<'a>(tools: impl IntoIterator<Item = &'a Tool>) -> Self {
        let mut policy = CachePolicy::default();
        for tool in tools {
            let hints = tool.annotations.as_ref();
            let safe = hints.is_some_and(|a| a.read_only_hint == Some(true) && a.idempotent_hint == Some(true));
            if safe {
                policy.tools.insert(tool.name.clone());
            }
        }
        policy
    }

    /// Also caches `tool`'s results (the user vouches that they depend only on the arguments).
    pub fn cache_tool(mut self, tool: impl Into<String>) -> Self {
        self.tools.insert(tool.into());
        self
    }

    /// How long results are kept.
    pub fn ttl(mut self, ttl: Duration) -> Self {
        self.ttl = Some(ttl);
        self
    }

    /// The plan for `request`, when it may be answered from the cache. Never MRTR retries
    /// (`inputResponses`, `requestState`): their results belong to one exchange.
    pub(crate) fn plan(&self, request: &McpRequest, cache: &crate::MultiLevelCache) -> Option<Plan> {
        let method = request.method.as_str();
        let list = self.lists && LISTS.contains(&method);
        let read = self.resource_reads && method == "resources/read";
        let call = method == "tools/call";
        if !(list || read || call) {
            return None;
        }
        if call {
            // Most calls are of tools that are not cached: look at the name before parsing
            // the (possibly large) arguments.
            #[derive(serde::Deserialize)]
            struct Named<'a> {
                #[serde(borrow)]
                name: std::borrow::Cow<'a, str>,
            }
            let raw = request.params.as_ref()?;
            let named: Named<'_> = serde_json::from_slice(raw.as_bytes()).ok()?;
            if !self.tools.contains(named.name.as_ref()) {
                return None;
            }
        }
        let params: Value = match &request.params {
            Some(raw) => serde_json::from_slice(raw.as_bytes()).ok()?,
            None => json!({}),
        };
        let object = params.as_object()?;
        if object.contains_key("inputResponses") || object.contains_key("requestState") {
            return None;
        }
        let tag = if call {
            let name = object.get("name").and_then(Value::as_str)?;
            if !self.tools.contains(name) {
                return None;
            }
            format!("tools/call:{name}")
        } else if read {
            format!("resources/read:{}", object.get("uri").and_then(Value::as_str)?)
        } else {
            method.to_owned()
        };
        // Results differ by revision (modern results carry `resultType` and hints) and, for
        // private data, by authorization context: both are part of the key.
        let version = object
            .get("_meta")
            .and_then(|m| m.get(PROTOCOL_VERSION_KEY))
            .and_then(Value::as_str)
            .or_else(|| request.extensions.get::<mocopr_core::service::McpHeaders>()?.protocol_version.as_deref())
            .unwrap_or("legacy");
        let partition = request.extensions.get::<CachePartition>().map(|p| p.0.as_str());
        // `_meta` (progress token, client info) does not shape the result.
        let mut shaping = object.clone();
        shaping.remove("_meta");
        let keyed = json!({ "params": shaping, "version": version, "partition": partition });
        Some(Plan { key: cache.key(method, &keyed), tag, is_tool_call: call })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mocopr_core::RequestId;
    use mocopr_core::service::{Method, RawJson};

    fn request(params: Value, partition: Option<&str>) -> McpRequest {
        let raw = RawJson::serialize(&params).expect("params");
        let mut request = McpRequest::new(RequestId::Number(1), Method::new("resources/read"), Some(raw));
        if let Some(partition) = partition {
            request.extensions.insert(CachePartition(partition.to_owned()));
        }
        request
    }

    #[test]
    fn keys_differ_by_partition_and_revision_but_not_by_request_meta() {
        let cache = crate::MultiLevelCache::new(crate::CacheConfig::default()).expect("cache");
        let policy = CachePolicy::default();
        let key = |params: Value, partition| policy.plan(&request(params, partition), &cache).map(|p| p.key);
        let modern = json!({"uri": "mem://a", "_meta": {PROTOCOL_VERSION_KEY: "2026-07-28", "progressToken": 1}});
        let modern_again = json!({"uri": "mem://a", "_meta": {PROTOCOL_VERSION_KEY: "2026-07-28", "progressToken": 2}});
        assert_eq!(key(modern.clone(), None), key(modern_again, None), "progress tokens do not split entries");
        assert_ne!(key(modern.clone(), None), key(json!({"uri": "mem://a"}), None), "modern and legacy apart");
        assert_ne!(
            key(modern.clone(), Some("alice")),
            key(modern.clone(), Some("bob")),
            "authorization contexts apart"
        );
        assert_eq!(key(json!({"uri": "mem://a", "requestState": "s"}), None), None, "MRTR retries bypass the cache");
        let plan = policy.plan(&request(modern, None), &cache).expect("plan");
        assert_eq!(plan.tag, "resources/read:mem://a");
        assert!(plan.key.starts_with("mcp:resources/read:"));
    }
}
