//! Integrity-protected `requestState` for multi round-trip requests.
//!
//! The specification makes the client echo `requestState` untouched and makes the server treat
//! it as attacker-controlled. MoCoPr wraps whatever state a handler wants to carry in a token
//! `v2.<payload>.<tag>`: the payload (base64url JSON) binds the handler's state to the method and
//! name of the originating request, to a SHA-256 digest of its arguments and its caller (the
//! principal's subject), and to an expiry; the tag is HMAC-SHA256 over it with the server's
//! current key. A retry whose token fails verification against the current key and the
//! previous ones (rotation), has expired, or belongs to another request or caller is rejected
//! before the handler runs.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// How long a request state stays valid by default.
pub(crate) const DEFAULT_REQUEST_STATE_TTL: Duration = Duration::from_secs(600);

/// The shortest signing key accepted, in bytes (HMAC-SHA256's output size).
pub(crate) const MIN_KEY_LENGTH: usize = 32;

/// A digest of what a request state is bound to besides its method and name.
pub(crate) type Binding = [u8; 32];

/// The digest of `method`, `name`, the serialized `arguments` and the `caller`, each framed by
/// its length so no two different requests share one.
pub(crate) fn binding(method: &str, name: &str, arguments: Option<&[u8]>, caller: Option<&str>) -> Binding {
    let mut hasher = Sha256::new();
    for part in [Some(method.as_bytes()), Some(name.as_bytes()), arguments, caller.map(str::as_bytes)] {
        match part {
            Some(bytes) => {
                hasher.update([1]);
                hasher.update((bytes.len() as u64).to_be_bytes());
                hasher.update(bytes);
            }
            None => hasher.update([0]),
        }
    }
    hasher.finalize().into()
}

/// What a request state is bound to besides its method and name: the request's params (their
/// `arguments`) and its caller. Cheap to keep (the params are a slice of the received frame);
/// the digest is made only when a state is signed or checked.
#[derive(Debug, Clone)]
pub(crate) struct BindingSource {
    params: Option<mocopr_core::service::RawJson>,
    caller: Option<mocopr_core::principal::Principal>,
}

impl BindingSource {
    pub(crate) fn new(
        params: Option<mocopr_core::service::RawJson>,
        caller: Option<mocopr_core::principal::Principal>,
    ) -> Self {
        BindingSource { params, caller }
    }

    /// The binding of a request of `method` on `name` with these params and caller. The
    /// arguments are taken as the handler sees them (none is `{}`) and in canonical form (keys
    /// sorted), so a retry that serializes them otherwise is the same request.
    pub(crate) fn binding(&self, method: &str, name: &str) -> Binding {
        #[derive(Deserialize)]
        struct Arguments {
            #[serde(default)]
            arguments: Option<serde_json::Map<String, serde_json::Value>>,
        }
        let arguments = self
            .params
            .as_ref()
            .and_then(|p| serde_json::from_slice::<Arguments>(p.as_bytes()).ok())
            .and_then(|a| a.arguments)
            .unwrap_or_default();
        let canonical = serde_json::to_vec(&arguments).unwrap_or_default();
        binding(method, name, Some(&canonical), self.caller.as_ref().map(|p| p.subject()))
    }
}

/// Signs request states with the current key and verifies them against it and the previous
/// ones.
#[derive(Clone)]
pub(crate) struct StateSigner {
    key: Vec<u8>,
    previous: Vec<Vec<u8>>,
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
    /// The binding to its arguments and caller (base64url).
    d: String,
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
    /// A signer with `key`, or a fresh random key (valid for this process only), also
    /// accepting states signed with the `previous` keys; an error when the OS random source
    /// fails (a known key would let anyone forge states).
    pub(crate) fn new(key: Option<Vec<u8>>, previous: Vec<Vec<u8>>, ttl: Duration) -> Result<Self, getrandom::Error> {
        let key = match key {
            Some(key) => key,
            None => {
                let mut key = vec![0u8; MIN_KEY_LENGTH];
                getrandom::fill(&mut key)?;
                key
            }
        };
        Ok(StateSigner { key, previous, ttl })
    }

    fn mac(key: &[u8], payload: &str) -> Option<Hmac<Sha256>> {
        let mut mac = Hmac::<Sha256>::new_from_slice(key).ok()?;
        mac.update(b"mocopr-request-state-v2.");
        mac.update(payload.as_bytes());
        Some(mac)
    }

    /// The token carrying `state` for a request of `method` on `name` with `binding`.
    pub(crate) fn sign(&self, state: Option<String>, method: &str, name: &str, binding: &Binding) -> String {
        let payload = Payload {
            s: state,
            m: method.to_owned(),
            n: name.to_owned(),
            d: URL_SAFE_NO_PAD.encode(binding),
            e: now_ms().saturating_add(u64::try_from(self.ttl.as_millis()).unwrap_or(u64::MAX)),
        };
        let json = serde_json::to_vec(&payload).unwrap_or_default();
        self.token_for(&URL_SAFE_NO_PAD.encode(json))
    }

    /// The token of an encoded `payload`, tagged with the current key.
    pub(crate) fn token_for(&self, payload: &str) -> String {
        let tag = Self::mac(&self.key, payload).map(|mac| mac.finalize().into_bytes().to_vec()).unwrap_or_default();
        format!("v2.{payload}.{}", URL_SAFE_NO_PAD.encode(tag))
    }

    /// The handler's state inside a token, when the token is authentic (under the current key
    /// or a previous one), unexpired and issued for a request of `method` on `name` with
    /// `binding`.
    pub(crate) fn verify(
        &self,
        token: &str,
        method: &str,
        name: &str,
        binding: &Binding,
    ) -> Result<Option<String>, StateError> {
        let mut parts = token.splitn(3, '.');
        let (Some("v2"), Some(payload), Some(tag)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(StateError::Invalid);
        };
        let tag = URL_SAFE_NO_PAD.decode(tag).map_err(|_| StateError::Invalid)?;
        // Constant-time comparison: the tag must not leak through timing.
        let authentic = std::iter::once(&self.key)
            .chain(&self.previous)
            .any(|key| Self::mac(key, payload).is_some_and(|mac| mac.verify_slice(&tag).is_ok()));
        if !authentic {
            return Err(StateError::Invalid);
        }
        let json = URL_SAFE_NO_PAD.decode(payload).map_err(|_| StateError::Invalid)?;
        let payload: Payload = serde_json::from_slice(&json).map_err(|_| StateError::Invalid)?;
        if payload.m != method || payload.n != name || payload.d != URL_SAFE_NO_PAD.encode(binding) {
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

    const KEY: &[u8] = b"0123456789abcdef0123456789abcdef";

    fn bound(arguments: &str, caller: Option<&str>) -> Binding {
        binding("tools/call", "wizard", Some(arguments.as_bytes()), caller)
    }

    #[test]
    fn states_round_trip_and_any_tampering_is_refused() {
        let signer = StateSigner::new(None, Vec::new(), DEFAULT_REQUEST_STATE_TTL).expect("random");
        let this = bound(r#"{"a":1}"#, Some("alice"));
        let token = signer.sign(Some("step=2".into()), "tools/call", "wizard", &this);
        assert_eq!(signer.verify(&token, "tools/call", "wizard", &this), Ok(Some("step=2".into())));
        assert_eq!(
            signer.verify(&format!("{token}-TAMPERED"), "tools/call", "wizard", &this),
            Err(StateError::Invalid)
        );
        let other_tool = binding("tools/call", "other", Some(br#"{"a":1}"#), Some("alice"));
        assert_eq!(signer.verify(&token, "tools/call", "other", &other_tool), Err(StateError::WrongRequest));
        let other = StateSigner::new(None, Vec::new(), DEFAULT_REQUEST_STATE_TTL).expect("random");
        assert_eq!(other.verify(&token, "tools/call", "wizard", &this), Err(StateError::Invalid), "another key");
        for i in 0..token.len() {
            let mut bytes = token.clone().into_bytes();
            bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
            if let Ok(altered) = String::from_utf8(bytes)
                && altered != token
            {
                assert!(signer.verify(&altered, "tools/call", "wizard", &this).is_err(), "byte {i}");
            }
        }
        assert_eq!(signer.verify("garbage", "tools/call", "wizard", &this), Err(StateError::Invalid));
    }

    #[test]
    fn a_state_is_bound_to_the_arguments_and_the_caller() {
        let signer = StateSigner::new(Some(KEY.to_vec()), Vec::new(), DEFAULT_REQUEST_STATE_TTL).expect("key");
        let token = signer.sign(None, "tools/call", "wizard", &bound(r#"{"a":1}"#, Some("alice")));
        for (arguments, caller) in [(r#"{"a":2}"#, Some("alice")), (r#"{"a":1}"#, Some("bob")), (r#"{"a":1}"#, None)] {
            assert_eq!(
                signer.verify(&token, "tools/call", "wizard", &bound(arguments, caller)),
                Err(StateError::WrongRequest),
                "{arguments} {caller:?}"
            );
        }
        // Framing: moving bytes between the parts makes another binding.
        assert_ne!(binding("a", "bc", None, None), binding("ab", "c", None, None));
    }

    #[test]
    fn states_signed_with_a_previous_key_still_verify() {
        let old = StateSigner::new(Some(KEY.to_vec()), Vec::new(), DEFAULT_REQUEST_STATE_TTL).expect("key");
        let this = bound("{}", None);
        let token = old.sign(None, "tools/call", "wizard", &this);
        let rotated = StateSigner::new(Some(vec![7; 32]), vec![KEY.to_vec()], DEFAULT_REQUEST_STATE_TTL).expect("key");
        assert_eq!(rotated.verify(&token, "tools/call", "wizard", &this), Ok(None));
        let retired = StateSigner::new(Some(vec![7; 32]), Vec::new(), DEFAULT_REQUEST_STATE_TTL).expect("key");
        assert_eq!(retired.verify(&token, "tools/call", "wizard", &this), Err(StateError::Invalid));
    }

    #[test]
    fn expired_states_are_refused() {
        let signer = StateSigner::new(Some(KEY.to_vec()), Vec::new(), Duration::ZERO).expect("key");
        let this = binding("prompts/get", "p", None, None);
        let token = signer.sign(None, "prompts/get", "p", &this);
        std::thread::sleep(Duration::from_millis(5));
        assert_eq!(signer.verify(&token, "prompts/get", "p", &this), Err(StateError::Expired));
    }
}
