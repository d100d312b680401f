//! The JSON-RPC envelope decoder under every revision's options (batches allowed or not, a
//! small size limit), then the typed request decode for each revision: an error or a value,
//! never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mocopr_core::jsonrpc::{DecodeOptions, Envelope, Frame, decode};
use mocopr_core::{ClientRequest, ProtocolVersion};

fuzz_target!(|data: &[u8]| {
    let mut options = vec![DecodeOptions::default(), DecodeOptions::default().with_max_message_size(64)];
    for version in ProtocolVersion::ALL {
        options.push(DecodeOptions::for_version(version).with_batches(true));
    }
    for options in &options {
        let requests = match decode(data, options) {
            Ok(Frame::Single(envelope)) => vec![envelope],
            Ok(Frame::Batch(entries)) => entries.into_iter().filter_map(Result::ok).collect(),
            Err(_) => continue,
        };
        for envelope in requests {
            let Envelope::Request(request) = envelope else { continue };
            for version in ProtocolVersion::ALL {
                if let Ok(body) = ClientRequest::decode_for(version, &request.method, request.params) {
                    if let Some(meta) = body.request_meta() {
                        let _ = meta.validate_modern(&ProtocolVersion::ALL);
                    }
                }
            }
        }
    }
});
