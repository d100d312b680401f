//! Which scopes a request needs: those every request needs, those of its JSON-RPC method, and
//! for `tools/call` those of the tool it calls. The method and tool come from the body (one
//! message, or each message of a legacy batch), read without decoding anything else.

use std::borrow::Cow;
use std::collections::{BTreeSet, HashMap};

use serde::Deserialize;

/// The scope requirements of a resource server.
#[derive(Debug, Clone, Default)]
pub(crate) struct ScopePolicy {
    pub(crate) always: Vec<String>,
    pub(crate) methods: HashMap<String, Vec<String>>,
    pub(crate) tools: HashMap<String, Vec<String>>,
}

#[derive(Deserialize)]
struct Message<'a> {
    #[serde(borrow, default)]
    method: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    params: Option<Params<'a>>,
}

#[derive(Deserialize)]
struct Params<'a> {
    #[serde(borrow, default)]
    name: Option<Cow<'a, str>>,
}

impl ScopePolicy {
    /// Whether requests must be read to know what they need.
    pub(crate) fn reads_bodies(&self) -> bool {
        !self.methods.is_empty() || !self.tools.is_empty()
    }

    /// The scopes a request with `body` needs (`None` when the body is no JSON-RPC message or
    /// batch this policy can read: it is refused rather than let through unchecked).
    pub(crate) fn needed(&self, body: &[u8]) -> Option<BTreeSet<&str>> {
        let mut needed: BTreeSet<&str> = self.always.iter().map(String::as_str).collect();
        if !self.reads_bodies() {
            return Some(needed);
        }
        // A batch is an array, a message an object: the first byte that is not whitespace says
        // which, so the body is read once, and nothing but the method and name is kept.
        let messages: Vec<Message<'_>> = match body.iter().find(|b| !b.is_ascii_whitespace()) {
            Some(b'[') => serde_json::from_slice(body).ok()?,
            _ => vec![serde_json::from_slice(body).ok()?],
        };
        for message in &messages {
            let Some(method) = message.method.as_deref() else { continue };
            if let Some(scopes) = self.methods.get(method) {
                needed.extend(scopes.iter().map(String::as_str));
            }
            if method == "tools/call"
                && let Some(scopes) =
                    message.params.as_ref().and_then(|p| p.name.as_deref()).and_then(|n| self.tools.get(n))
            {
                needed.extend(scopes.iter().map(String::as_str));
            }
        }
        Some(needed)
    }

    /// The scopes a client should ask for at first: those every request needs and those of each
    /// method (a tool's own scopes are asked for when the tool is called: step-up).
    pub(crate) fn baseline(&self) -> BTreeSet<&str> {
        self.always.iter().chain(self.methods.values().flatten()).map(String::as_str).collect()
    }

    /// Every scope named anywhere.
    pub(crate) fn all(&self) -> BTreeSet<&str> {
        self.baseline().into_iter().chain(self.tools.values().flatten().map(String::as_str)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> ScopePolicy {
        ScopePolicy {
            always: vec!["mcp".into()],
            methods: HashMap::from([("tools/call".into(), vec!["tools".into()])]),
            tools: HashMap::from([("wipe".into(), vec!["admin".into()])]),
        }
    }

    fn needed(body: &str) -> Option<Vec<&'static str>> {
        let policy = Box::leak(Box::new(policy()));
        policy.needed(body.as_bytes()).map(|set| set.into_iter().collect())
    }

    #[test]
    fn needs_follow_method_and_tool() {
        assert_eq!(needed(r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#), Some(vec!["mcp"]));
        assert_eq!(
            needed(r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo"}}"#),
            Some(vec!["mcp", "tools"])
        );
        assert_eq!(
            needed(r#"{"jsonrpc":"2.0","id":1,"method":"tools\/call","params":{"name":"w\u0069pe","arguments":{}}}"#),
            Some(vec!["admin", "mcp", "tools"])
        );
        // A batch needs what each of its messages needs.
        assert_eq!(
            needed(
                r#"[{"jsonrpc":"2.0","method":"notifications/initialized"},{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"wipe"}}]"#
            ),
            Some(vec!["admin", "mcp", "tools"])
        );
        // Responses to the server's requests name no method.
        assert_eq!(needed(r#"{"jsonrpc":"2.0","id":1,"result":{}}"#), Some(vec!["mcp"]));
    }

    #[test]
    fn unreadable_bodies_are_not_let_through() {
        assert_eq!(needed("not json"), None);
        assert_eq!(needed(r#"{"method":"tools/call","method":"tools/list"}"#), None);
        assert_eq!(needed(r#"{"method":"tools/call","params":{"name":7}}"#), None);
    }

    #[test]
    fn the_baseline_leaves_tool_scopes_to_step_up() {
        let policy = policy();
        assert_eq!(policy.baseline().into_iter().collect::<Vec<_>>(), ["mcp", "tools"]);
        assert_eq!(policy.all().into_iter().collect::<Vec<_>>(), ["admin", "mcp", "tools"]);
    }

    /// The layer lets a token holding every scope of `all` skip reading the body: no body may
    /// need a scope outside it.
    #[test]
    fn no_request_needs_a_scope_beyond_all() {
        let policy = policy();
        let all = policy.all();
        for body in [
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"wipe"}}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"unknown"}}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":"resources/read","params":{"name":"wipe"}}"#,
            r#"[{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"wipe"}},{"jsonrpc":"2.0","id":2,"method":"x"}]"#,
        ] {
            let needed = policy.needed(body.as_bytes()).expect("a JSON-RPC body");
            assert!(needed.is_subset(&all), "{body}: {needed:?} beyond {all:?}");
        }
    }
}
