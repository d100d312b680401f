//! [`CachePolicy`]: which requests the cache layer may answer from the cache, and how each is
//! keyed and tagged.

use std::collections::HashSet;
use std::time::Duration;

use serde_json::{Value, json};

use mocopr_core::header::decode_header_value;
use mocopr_core::meta::{CLIENT_CAPABILITIES_KEY, PROTOCOL_VERSION_KEY};
use mocopr_core::service::{McpHeaders, McpRequest};
use mocopr_core::types::Tool;

/// Keeps cached results apart between authorization contexts: results are only shared between
/// requests carrying the same value. A request with a
/// [`Principal`](mocopr_core::principal::Principal) (set by an authorization layer) is
/// partitioned by its subject without one; a layer may insert its own (a tenant, say) to
/// partition otherwise.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CachePartition(pub String);

/// What the cache layer caches.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct CachePolicy {
    /// Tools whose results may be cached (read-only and idempotent, or marked by the user).
    pub tools: HashSet<String>,
    /// Tools the user vouched for ([`with_cached_tool`](Self::with_cached_tool)): their results
    /// depend on the arguments alone, so one entry serves every caller.
    pub shared_tools: HashSet<String>,
    /// `tools/list`, `prompts/list`, `resources/list`, `resources/templates/list`.
    pub lists: bool,
    /// `resources/read`.
    pub resource_reads: bool,
    /// How long results are kept (`None`: the cache's default TTL).
    pub ttl: Option<Duration>,
}

impl Default for CachePolicy {
    fn default() -> Self {
        CachePolicy {
            tools: HashSet::new(),
            shared_tools: HashSet::new(),
            lists: true,
            resource_reads: true,
            ttl: None,
        }
    }
}

const LISTS: [&str; 4] = ["tools/list", "prompts/list", "resources/list", "resources/templates/list"];

/// How one request is cached.
pub(crate) struct Plan {
    pub(crate) key: String,
    /// The invalidation tag (`None` for tool calls, which nothing invalidates).
    pub(crate) tag: Option<String>,
    pub(crate) is_tool_call: bool,
    /// Whether the request has a partition (a [`CachePartition`] or a principal): a result not
    /// marked public is kept only then.
    pub(crate) partitioned: bool,
    /// A call of a tool the user vouched for: its results are shared like public ones.
    pub(crate) shared: bool,
}

impl CachePolicy {
    /// Lists and resource reads, and the tools among `tools` that declare both `readOnlyHint`
    /// and `idempotentHint`.
    pub fn for_tools<'a>(tools: impl IntoIterator<Item = &'a Tool>) -> Self {
        let mut policy = CachePolicy::default();
        for tool in tools {
            let hints = tool.annotations.as_ref();
            let safe = hints.is_some_and(|a| a.read_only_hint == Some(true) && a.idempotent_hint == Some(true));
            // Calls of tools with `x-mcp-header` parameters are checked against their headers by
            // the server on every request; a cache hit would skip that check.
            let header_params = serde_json::to_string(&tool.input_schema).is_ok_and(|s| s.contains("x-mcp-header"));
            if safe && !header_params {
                policy.tools.insert(tool.name.clone());
            }
        }
        policy
    }

    /// Also caches `tool`'s results, shared between every caller (the user vouches that they
    /// depend only on the arguments).
    pub fn with_cached_tool(mut self, tool: impl Into<String>) -> Self {
        let tool = tool.into();
        self.tools.insert(tool.clone());
        self.shared_tools.insert(tool);
        self
    }

    /// How long results are kept.
    pub fn with_ttl(mut self, ttl: Duration) -> Self {
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
        let name = if call {
            let name = object.get("name").and_then(Value::as_str)?;
            if !self.tools.contains(name) {
                return None;
            }
            Some(name)
        } else if read {
            Some(object.get("uri").and_then(Value::as_str)?)
        } else {
            None
        };
        let tag = match (call, name) {
            (true, _) => None,
            (false, Some(uri)) => Some(format!("resources/read:{uri}")),
            (false, None) => Some(method.to_owned()),
        };
        let version = served_version(request, object, method, name)?;
        // Results differ by revision (modern results carry `resultType` and hints) and, for
        // private data, by authorization context: both are part of the key.
        let principal = request.extensions.get::<mocopr_core::principal::Principal>();
        let partition = match request.extensions.get::<CachePartition>() {
            Some(partition) => Some(format!("partition:{}", partition.0)),
            None => principal.map(|p| format!("principal:{}", p.subject())),
        };
        // `_meta` (progress token, client info) does not shape the result.
        let mut shaping = object.clone();
        shaping.remove("_meta");
        // A vouched-for tool's results are everyone's: one entry for all callers.
        let shared = call && name.is_some_and(|n| self.shared_tools.contains(n));
        let keyed_partition = if shared { None } else { partition.as_deref() };
        let keyed = json!({ "params": shaping, "version": version, "partition": keyed_partition });
        Some(Plan { key: cache.key(method, &keyed), tag, is_tool_call: call, partitioned: partition.is_some(), shared })
    }
}

/// The revision a request would be served under, when the server would serve it at all: a
/// cache hit must not answer what the server would refuse. Modern requests need their
/// per-request `_meta` and, over HTTP, `Mcp-Method` / `Mcp-Name` matching the body (and no
/// `Mcp-Param-*`, which only the server checks); legacy requests are cached only inside an
/// HTTP session that names its revision (the transport has checked the session). Anything
/// else goes to the server.
fn served_version<'a>(
    request: &'a McpRequest,
    params: &'a serde_json::Map<String, Value>,
    method: &str,
    name: Option<&str>,
) -> Option<&'a str> {
    let headers = request.extensions.get::<McpHeaders>();
    let meta = params.get("_meta").and_then(Value::as_object);
    match meta.and_then(|m| m.get(PROTOCOL_VERSION_KEY)).and_then(Value::as_str) {
        Some(version) => {
            meta.filter(|m| m.contains_key(CLIENT_CAPABILITIES_KEY))?;
            if let Some(headers) = headers {
                let named = |header: Option<&str>| match (header, name) {
                    (_, None) => true,
                    (Some(raw), Some(body)) => decode_header_value(raw).is_ok_and(|v| v == body),
                    (None, Some(_)) => false,
                };
                if headers.method.as_deref() != Some(method)
                    || !named(headers.name.as_deref())
                    || !headers.params.is_empty()
                {
                    return None;
                }
            }
            Some(version)
        }
        None => headers?.protocol_version.as_deref(),
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
        let meta = |token: u32| json!({PROTOCOL_VERSION_KEY: "2026-07-28", CLIENT_CAPABILITIES_KEY: {}, "progressToken": token});
        let modern = json!({"uri": "mem://a", "_meta": meta(1)});
        let modern_again = json!({"uri": "mem://a", "_meta": meta(2)});
        assert_eq!(key(modern.clone(), None), key(modern_again, None), "progress tokens do not split entries");
        assert_eq!(key(json!({"uri": "mem://a"}), None), None, "legacy outside an HTTP session goes to the server");
        let incomplete = json!({"uri": "mem://a", "_meta": {PROTOCOL_VERSION_KEY: "2026-07-28"}});
        assert_eq!(key(incomplete, None), None, "the server would refuse missing capabilities");
        assert_ne!(
            key(modern.clone(), Some("alice")),
            key(modern.clone(), Some("bob")),
            "authorization contexts apart"
        );
        assert_eq!(key(json!({"uri": "mem://a", "requestState": "s"}), None), None, "MRTR retries bypass the cache");
        let plan = policy.plan(&request(modern, None), &cache).expect("plan");
        assert_eq!(plan.tag.as_deref(), Some("resources/read:mem://a"));
        assert!(plan.key.starts_with("mcp:resources/read:"));
    }
}
