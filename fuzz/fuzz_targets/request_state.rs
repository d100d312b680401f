//! `requestState` verification: arbitrary tokens, tokens with an authentic tag over arbitrary
//! payloads, and the round trip of arbitrary handler states (see
//! `mocopr_server::fuzzing::request_state`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    mocopr_server::fuzzing::request_state(data);
});
