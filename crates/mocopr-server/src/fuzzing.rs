//! Entry points for the fuzz targets in `fuzz/`, to the parts of the server a fuzzer must
//! reach that are not public. Compiled only under `cargo fuzz` (which sets `--cfg fuzzing`):
//! no release build has this module.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::request_state::{StateSigner, binding};

/// Verifies `data` as a `requestState` token; verifies a token whose payload is `data` with an
/// authentic tag (so that what follows the tag check is reached); and checks that any state
/// signed verifies to itself, for its own request only.
pub fn request_state(data: &[u8]) {
    let Ok(signer) = StateSigner::new(Some(vec![7; 32]), vec![vec![9; 32]], Duration::from_secs(60)) else {
        return;
    };
    let bound = binding("tools/call", "echo", Some(data), None);
    let text = String::from_utf8_lossy(data);
    let _ = signer.verify(&text, "tools/call", "echo", &bound);
    let payload = URL_SAFE_NO_PAD.encode(data);
    let _ = signer.verify(&signer.token_for(&payload), "tools/call", "echo", &bound);
    let state = text.into_owned();
    let token = signer.sign(Some(state.clone()), "tools/call", "echo", &bound);
    assert_eq!(signer.verify(&token, "tools/call", "echo", &bound), Ok(Some(state)));
    assert!(signer.verify(&token, "tools/call", "other", &bound).is_err());
    let other = binding("tools/call", "echo", Some(data), Some("mallory"));
    assert!(signer.verify(&token, "tools/call", "echo", &other).is_err());
}
