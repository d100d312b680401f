//! RFC 6570 template parsing and matching: an arbitrary template parses or is refused, and
//! matching an arbitrary URI gives its variables or nothing, never a panic (the matcher does
//! not backtrack, so no input makes it slow: libFuzzer's timeout holds that).
#![no_main]

use libfuzzer_sys::fuzz_target;
use mocopr_server::uri_template::UriTemplate;

fuzz_target!(|input: (&str, &str)| {
    let (template, uri) = input;
    let Ok(template) = UriTemplate::parse(template) else { return };
    let _ = template.matches(uri);
    let _ = template.matches(template.as_str());
});
