//! Integrity-protected `requestState` for multi round-trip requests.
//!
//! The specification makes the client echo `requestState` untouched and makes the server treat
//! it as attacker-controlled. MoCoPr wraps whatever state a handler wants to carry in a token
//! `v1.<payload>.<tag>`: the payload (base64url JSON) binds the handler's state to the method and
//! name of the originating request and to an expiry; the tag is HMAC-SHA256 over it with the
//! server's key. A retry whose token fails verification, has expired, or belongs to another
//! request is rejected before the handler runs.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

/// How long a request state stays valid by default.
pub(crate) const DEFAULT_REQUEST_STATE_TTL: Duration = Duration::from_secs(600);

/// Signs and verifies request states with one key.
#[derive(Clone)]
pub(crate) struct StateSigner {
    key: Vec<u8>,
    ttl: Duration,
}

impl std::fmt::Debug for StateSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StateSigner").field("ttl", &self.ttl).finish_non_exhaustive()
    }
}

#[derive(Serialize, Deserialize)]
struct Payload {
    /// The handler's own state.
    s: Option<String>,
    /// Method of the originating request.
    m: String,
    /// Its tool or prompt name, or resource URI.
    n: String,
    /// Expiry, milliseconds since the Unix epoch.
    e: u64,
}

/// Why a request state was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StateError {
    /// Not a token this server issued, or altered.
    Invalid,
    /// Issued for another request.
    WrongRequest,
    /// Past its expiry.
    Expired,
}

impl StateError {
    pub(crate) fn message(self) -> &'static str {
        match self {
            StateError::Invalid => "requestState failed verification",
            StateError::WrongRequest => "requestState belongs to a different request",
            StateError::Expired => "requestState has expired",
        }
    }
}

fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

impl StateSigner {
    /// A signer with `key`, or a fresh random key (valid for this process only); an error when
    /// the OS random source fails (a known key would let anyone forge states).
    pub(crate) fn new(key: Option<Vec<u8>>, ttl: Duration) -> Result<Self, getrandom::Error> {
        let key = match key {
            Some(key) => key,
            None => {
                let mut key = vec![0u8; 32];
                getrandom::fill(&mut key)?;
                key
            }
        };
        Ok(StateSigner { key, ttl })
    }

    fn tag(&self, payload: &str) -> Vec<u8> {
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&self.key) else { return Vec::new() };
        mac.update(b"mocopr-request-state-v1.");
        mac.update(payload.as_bytes());
        mac.finalize().into_bytes().to_vec()
    }

    /// The token carrying `state` for a request of `method` on `name`.
    pub(crate) fn sign(&self, state: Option<String>, method: &str, name: &str) -> String {
        let payload =
            Payload { s: state, m: method.to_owned(), n: name.to_owned(), e: now_ms() + self.ttl.as_millis() as u64 };
        let json = serde_json::to_vec(&payload).unwrap_or_default();
        let payload = URL_SAFE_NO_PAD.encode(json);
        let tag = URL_SAFE_NO_PAD.encode(self.tag(&payload));
        format!("v1.{payload}.{tag}")
    }

    /// The handler's state inside a token, when the token is authentic, unexpired and issued
    /// for a request of `method` on `name`.
    pub(crate) fn verify(&self, token: &str, method: &str, name: &str) -> Result<Option<String>, StateError> {
        let mut parts = token.splitn(3, '.');
        let (Some("v1"), Some(payload), Some(tag)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(StateError::Invalid);
        };
        let tag = URL_SAFE_NO_PAD.decode(tag).map_err(|_| StateError::Invalid)?;
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&self.key) else { return Err(StateError::Invalid) };
        mac.update(b"mocopr-request-state-v1.");
        mac.update(payload.as_bytes());
        // Constant-time comparison: the tag must not leak through timing.
        mac.verify_slice(&tag).map_err(|_| StateError::Invalid)?;
        let json = URL_SAFE_NO_PAD.decode(payload).map_err(|_| StateError::Invalid)?;
        let payload: Payload = serde_json::from_slice(&json).map_err(|_| StateError::Invalid)?;
        if payload.m != method || payload.n != name {
            return Err(StateError::WrongRequest);
        }
        if payload.e < now_ms() {
            return Err(StateError::Expired);
        }
        Ok(payload.s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_round_trip_and_any_tampering_is_refused() {
        let signer = StateSigner::new(None, DEFAULT_REQUEST_STATE_TTL).expect("random");
        let token = signer.sign(Some("step=2".into()), "tools/call", "wizard");
        assert_eq!(signer.verify(&token, "tools/call", "wizard"), Ok(Some("step=2".into())));
        assert_eq!(signer.verify(&format!("{token}-TAMPERED"), "tools/call", "wizard"), Err(StateError::Invalid));
        assert_eq!(signer.verify(&token, "tools/call", "other"), Err(StateError::WrongRequest));
        let other = StateSigner::new(None, DEFAULT_REQUEST_STATE_TTL).expect("random");
        assert_eq!(other.verify(&token, "tools/call", "wizard"), Err(StateError::Invalid), "another key");
        for i in 0..token.len() {
            let mut bytes = token.clone().into_bytes();
            bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
            if let Ok(altered) = String::from_utf8(bytes)
                && altered != token
            {
                assert!(signer.verify(&altered, "tools/call", "wizard").is_err(), "byte {i}");
            }
        }
        assert_eq!(signer.verify("garbage", "tools/call", "wizard"), Err(StateError::Invalid));
    }

    #[test]
    fn expired_states_are_refused() {
        let signer = StateSigner::new(Some(b"k".to_vec()), Duration::ZERO).expect("key");
        let token = signer.sign(None, "prompts/get", "p");
        std::thread::sleep(Duration::from_millis(5));
        assert_eq!(signer.verify(&token, "prompts/get", "p"), Err(StateError::Expired));
    }
}
