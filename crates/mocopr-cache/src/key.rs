//! Cache keys: `{namespace}:{method}:{hash}`, the hash taken over the params in a normalized
//! form (object keys sorted at every depth, no insignificant whitespace, `_meta` left out), so
//! equal JSON up to key order gives one key and different values give different keys.

use std::fmt::Write as _;

use serde_json::Value;
use sha2::{Digest, Sha256};

/// The key of `method` called with `params` (`_meta` at the top level does not take part:
/// it carries the version, client info and progress tokens, not what the result depends on).
pub fn cache_key(namespace: &str, method: &str, params: &Value) -> String {
    let mut normalized = Vec::with_capacity(128);
    match params {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().filter(|k| *k != "_meta").collect();
            keys.sort_unstable();
            write_object(&mut normalized, keys.into_iter().map(|k| (k, &map[k])));
        }
        other => write_normalized(&mut normalized, other),
    }
    let digest = Sha256::digest(&normalized);
    let mut key = String::with_capacity(namespace.len() + method.len() + 2 + 32);
    let _ = write!(key, "{namespace}:{method}:");
    // 128 bits of the digest: collisions are out of reach, keys stay short.
    for byte in &digest[..16] {
        let _ = write!(key, "{byte:02x}");
    }
    key
}

/// Writes `value` with object keys sorted at every depth. Numbers and strings are written as
/// serde_json writes them, so equal values give equal bytes.
pub fn write_normalized(out: &mut Vec<u8>, value: &Value) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort_unstable();
            write_object(out, keys.into_iter().map(|k| (k, &map[k])));
        }
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_normalized(out, item);
            }
            out.push(b']');
        }
        scalar => {
            // Scalars serialize infallibly into a Vec.
            let _ = serde_json::to_writer(&mut *out, scalar);
        }
    }
}

fn write_object<'a>(out: &mut Vec<u8>, entries: impl Iterator<Item = (&'a String, &'a Value)>) {
    out.push(b'{');
    for (i, (key, value)) in entries.enumerate() {
        if i > 0 {
            out.push(b',');
        }
        let _ = serde_json::to_writer(&mut *out, key);
        out.push(b':');
        write_normalized(out, value);
    }
    out.push(b'}');
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn arb_json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(|n| json!(n)),
            "[a-z0-9 ]{0,8}".prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 32, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
                prop::collection::btree_map("[a-e]{1,3}", inner, 0..5)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    /// The same object with its keys inserted in reverse order, at every depth.
    fn reversed(value: &Value) -> Value {
        match value {
            Value::Object(map) => {
                let mut out = serde_json::Map::new();
                for (k, v) in map.iter().rev() {
                    out.insert(k.clone(), reversed(v));
                }
                Value::Object(out)
            }
            Value::Array(items) => Value::Array(items.iter().map(reversed).collect()),
            other => other.clone(),
        }
    }

    proptest! {
        #[test]
        fn equal_json_up_to_key_order_gives_one_key(value in arb_json()) {
            let params = json!({ "arguments": value.clone(), "name": "t" });
            prop_assert_eq!(cache_key("mcp", "tools/call", &params), cache_key("mcp", "tools/call", &reversed(&params)));
            let mut normalized = Vec::new();
            write_normalized(&mut normalized, &value);
            let reparsed: Value = serde_json::from_slice(&normalized).expect("normalized JSON parses");
            prop_assert_eq!(reparsed, value);
        }

        #[test]
        fn different_values_give_different_keys(a in arb_json(), b in arb_json()) {
            prop_assume!(a != b);
            let key = |v: &Value| cache_key("mcp", "tools/call", &json!({ "arguments": v }));
            prop_assert_ne!(key(&a), key(&b));
        }
    }

    #[test]
    fn the_key_has_the_namespaced_shape_and_ignores_meta() {
        let key = cache_key("mcp", "resources/read", &json!({"uri": "mem://a", "_meta": {"progressToken": 1}}));
        assert_eq!(key, cache_key("mcp", "resources/read", &json!({"uri": "mem://a"})));
        let parts: Vec<&str> = key.splitn(3, ':').collect();
        assert_eq!(parts[..2], ["mcp", "resources/read"]);
        assert_eq!(parts[2].len(), 32);
        assert_ne!(key, cache_key("mcp", "resources/read", &json!({"uri": "mem://b"})));
        assert_ne!(key, cache_key("mcp", "tools/list", &json!({"uri": "mem://a"})));
    }
}
