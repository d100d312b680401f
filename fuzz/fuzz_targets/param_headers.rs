//! `x-mcp-header` extraction from an arbitrary tool `inputSchema`, then each header's value
//! from arbitrary arguments and the server's check of it: errors or values, never a panic; a
//! value taken from the arguments matches those arguments.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mocopr_core::header::{decode_header_value, encode_header_value};
use mocopr_core::x_mcp_header::extract_param_headers;
use serde_json::Value;

fuzz_target!(|input: (&str, &str)| {
    let (schema, arguments) = input;
    let Ok(schema) = serde_json::from_str::<Value>(schema) else { return };
    let Ok(headers) = extract_param_headers(&schema) else { return };
    let arguments = serde_json::from_str::<Value>(arguments).unwrap_or(Value::Null);
    for header in headers {
        let _ = header.header_name();
        if let Ok(Some(value)) = header.value_from_arguments(&arguments) {
            let sent = encode_header_value(&value);
            let received = decode_header_value(&sent).expect("an encoded value decodes");
            assert!(header.matches(&received, &arguments), "{value:?} does not match its own arguments");
        }
    }
});
