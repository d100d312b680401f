//! Cache key normalization: the key of arbitrary params is the same whatever their layout
//! (whitespace, key order) and whatever the top-level `_meta`, as the cache's invariant needs.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mocopr_cache::key::cache_key;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let Ok(params) = serde_json::from_slice::<Value>(data) else { return };
    let key = cache_key("tools", "tools/call", &params);
    let pretty = serde_json::to_string_pretty(&params).expect("a value serializes");
    let reparsed: Value = serde_json::from_str(&pretty).expect("its text parses");
    assert_eq!(cache_key("tools", "tools/call", &reparsed), key, "the layout changed the key");
    if let Value::Object(mut object) = params {
        object.insert("_meta".into(), serde_json::json!({"progressToken": 7}));
        assert_eq!(cache_key("tools", "tools/call", &Value::Object(object)), key, "`_meta` changed the key");
    }
});
