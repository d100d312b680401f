//! Cache key normalization: the key of arbitrary params is the same whatever their layout
//! (whitespace, key order) and whatever the top-level `_meta`, as the cache's invariant needs.
//! The params reach the key as they do in a server: inside a message the envelope decoder took.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mocopr_cache::key::cache_key;
use mocopr_core::jsonrpc::{DecodeOptions, Envelope, decode_single};
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let mut message = br#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":"#.to_vec();
    message.extend_from_slice(data);
    message.push(b'}');
    let Ok(Envelope::Request(request)) = decode_single(&message, &DecodeOptions::default()) else { return };
    let Some(raw) = request.params else { return };
    // Raw params can still hold what a `Value` refuses (a number out of range): the typed
    // decode answers that one.
    let Ok(params) = serde_json::from_str::<Value>(raw.get()) else { return };
    let key = cache_key("tools", "tools/call", &params);
    let pretty = serde_json::to_string_pretty(&params).expect("a value serializes");
    let reparsed: Value = serde_json::from_str(&pretty).expect("its text parses");
    assert_eq!(reparsed, params, "the params did not read back as themselves");
    assert_eq!(cache_key("tools", "tools/call", &reparsed), key, "the layout changed the key");
    if let Value::Object(mut object) = params {
        object.insert("_meta".into(), serde_json::json!({"progressToken": 7}));
        assert_eq!(cache_key("tools", "tools/call", &Value::Object(object)), key, "`_meta` changed the key");
    }
});
