//! The `Mcp-Name` / `Mcp-Param-*` header value codec: decoding any received value gives a value
//! or an error, never a panic; encoding any string gives a value that is safe to send and that
//! decodes back to the string.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mocopr_core::header::{decode_header_value, encode_header_value, is_plain_header_safe};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let _ = decode_header_value(text);
    let encoded = encode_header_value(text);
    assert!(encoded.chars().all(|c| c == '\t' || (' '..='~').contains(&c)), "unsafe header value {encoded:?}");
    let decoded = decode_header_value(&encoded).expect("an encoded value decodes");
    assert_eq!(decoded, text, "the value survives the round trip");
    if is_plain_header_safe(text) {
        assert_eq!(encoded, text, "a plain-safe value is sent as it is");
    }
});
