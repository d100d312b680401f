//! The tokens a verifier accepted, kept until they expire (or for at most the cache lifetime),
//! so a signature is checked or an introspection made once per token rather than per request.
//! Keyed by the token's SHA-256, so no token is kept in memory; bounded in bytes.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use mocopr_core::principal::Principal;
use sha2::{Digest, Sha256};

use crate::error::TokenError;
use crate::verifier::{TokenVerifier, Verified};

/// Bytes an entry is counted at beyond its claims.
const ENTRY_OVERHEAD: u32 = 256;

#[derive(Clone)]
struct Entry {
    principal: Principal,
    expires_at: Option<u64>,
}

/// A verifier with a cache in front.
pub(crate) struct CachedVerifier {
    verifier: Arc<dyn TokenVerifier>,
    cache: moka::sync::Cache<[u8; 32], Entry>,
}

impl std::fmt::Debug for CachedVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CachedVerifier").field("entries", &self.cache.entry_count()).finish_non_exhaustive()
    }
}

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

impl CachedVerifier {
    pub(crate) fn new(verifier: Arc<dyn TokenVerifier>, max_bytes: u64, lifetime: Duration) -> Self {
        let cache = moka::sync::Cache::builder()
            .max_capacity(max_bytes)
            .weigher(|_, entry: &Entry| {
                let claims = serde_json::to_vec(entry.principal.claims()).map_or(0, |v| v.len());
                ENTRY_OVERHEAD.saturating_add(u32::try_from(claims).unwrap_or(u32::MAX))
            })
            .time_to_live(lifetime)
            .build();
        CachedVerifier { verifier, cache }
    }

    /// The principal `token` stands for.
    pub(crate) async fn verify(&self, token: &str) -> Result<Principal, TokenError> {
        let key: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        if let Some(entry) = self.cache.get(&key) {
            if entry.expires_at.is_none_or(|exp| exp > now()) {
                return Ok(entry.principal);
            }
            self.cache.invalidate(&key);
        }
        let Verified { principal, expires_at } = self.verifier.verify(token).await?;
        self.cache.insert(key, Entry { principal: principal.clone(), expires_at });
        Ok(principal)
    }
}
