//! The verdicts of a verifier, kept so that a signature is checked or an introspection made
//! once per token rather than per request: an accepted token until it expires (or for at most
//! the cache lifetime), a refused one briefly, so that a client repeating a bad token does not
//! turn each request into work for the issuer. Concurrent requests with the same unseen token
//! share one verification. Keyed by the token's SHA-256, so no token is kept in memory; bounded
//! in bytes.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use mocopr_core::principal::Principal;
use sha2::{Digest, Sha256};

use crate::error::TokenError;
use crate::verifier::{TokenVerifier, Verified};

/// Bytes an entry is counted at beyond its claims.
const ENTRY_OVERHEAD: u32 = 256;

/// How long a refused token stays refused without asking the verifier again.
const REFUSAL_LIFETIME: Duration = Duration::from_secs(10);

/// A token the verifier accepted, and until when that verdict holds: the token's expiry or the
/// cache lifetime after the verification, whichever comes first.
#[derive(Debug, Clone)]
pub(crate) struct Accepted {
    pub(crate) principal: Principal,
    pub(crate) until: Instant,
}

impl Accepted {
    /// Whether the verdict still holds at `now`.
    pub(crate) fn holds_at(&self, now: Instant) -> bool {
        now < self.until
    }
}

type Verdict = Result<Accepted, TokenError>;

/// How long each verdict is kept.
struct Lifetimes;

impl moka::Expiry<[u8; 32], Verdict> for Lifetimes {
    fn expire_after_create(&self, _: &[u8; 32], verdict: &Verdict, now: Instant) -> Option<Duration> {
        Some(match verdict {
            Ok(accepted) => accepted.until.saturating_duration_since(now),
            Err(TokenError::Invalid(why)) if *why == crate::jwt::UNKNOWN_KEY => Duration::ZERO,
            Err(TokenError::Invalid(_)) => REFUSAL_LIFETIME,
            // Not judged (the issuer did not answer): the next request asks again.
            Err(_) => Duration::ZERO,
        })
    }
}

/// A verifier with a cache in front.
pub(crate) struct CachedVerifier {
    verifier: Arc<dyn TokenVerifier>,
    cache: moka::future::Cache<[u8; 32], Verdict>,
    lifetime: Duration,
}

impl std::fmt::Debug for CachedVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CachedVerifier").field("entries", &self.cache.entry_count()).finish_non_exhaustive()
    }
}

/// How long until `exp` (seconds since the Unix epoch), to the clock's precision: a verdict
/// must not outlive its token by the fraction of a second whole seconds would add.
fn time_left(exp: u64) -> Duration {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    Duration::from_secs(exp).saturating_sub(now)
}

impl CachedVerifier {
    pub(crate) fn new(verifier: Arc<dyn TokenVerifier>, max_bytes: u64, lifetime: Duration) -> Self {
        let cache = moka::future::Cache::builder()
            .max_capacity(max_bytes)
            .weigher(|_, verdict: &Verdict| {
                let claims = match verdict {
                    Ok(accepted) => serde_json::to_vec(accepted.principal.claims()).map_or(0, |v| v.len()),
                    Err(_) => 0,
                };
                ENTRY_OVERHEAD.saturating_add(u32::try_from(claims).unwrap_or(u32::MAX))
            })
            .expire_after(Lifetimes)
            .build();
        CachedVerifier { verifier, cache, lifetime }
    }

    /// The principal `token` stands for, and until when.
    pub(crate) async fn verify(&self, token: &str) -> Result<Accepted, TokenError> {
        let key: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        // A plain read first: a token seen before (nearly every request) builds no initializer.
        let verdict = match self.cache.get(&key).await {
            Some(verdict) => verdict,
            // Boxed: `get_with`'s future is large, and would make every request's future (the
            // layer's, allocated per request) as large, hits included.
            None => {
                Box::pin(self.cache.get_with(key, async {
                    let Verified { principal, expires_at } = self.verifier.verify(token).await?;
                    let lifetime = expires_at.map_or(self.lifetime, |exp| time_left(exp).min(self.lifetime));
                    Ok(Accepted { principal, until: Instant::now() + lifetime })
                }))
                .await
            }
        };
        // A verdict read back a moment before its expiry may be for a token just expired.
        if verdict.as_ref().is_ok_and(|accepted| !accepted.holds_at(Instant::now())) {
            Box::pin(self.cache.invalidate(&key)).await;
            return Err(TokenError::Invalid("token expired"));
        }
        verdict
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use futures_util::future::BoxFuture;

    use super::*;

    /// Accepts `good` (slowly, so that concurrent requests overlap), refuses anything else, and
    /// counts its calls.
    struct Counting(AtomicUsize);

    impl TokenVerifier for Counting {
        fn verify<'a>(&'a self, token: &'a str) -> BoxFuture<'a, Result<Verified, TokenError>> {
            Box::pin(async move {
                self.0.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(20)).await;
                match token {
                    "good" => Ok(Verified::new(Principal::new("alice"), None)),
                    "expired" => Ok(Verified::new(Principal::new("alice"), Some(1))),
                    "down" => Err(TokenError::Unavailable("issuer down")),
                    _ => Err(TokenError::Invalid("unknown token")),
                }
            })
        }
    }

    #[tokio::test]
    async fn each_token_is_verified_once_and_refusals_are_kept_briefly() {
        let counting = Arc::new(Counting(AtomicUsize::new(0)));
        let cached = CachedVerifier::new(counting.clone(), 1 << 20, Duration::from_secs(60));
        let calls = || counting.0.load(Ordering::SeqCst);
        let (a, b) = tokio::join!(cached.verify("good"), cached.verify("good"));
        assert!(a.is_ok() && b.is_ok());
        assert_eq!(calls(), 1, "concurrent requests with one token share one verification");
        assert!(cached.verify("good").await.is_ok());
        assert_eq!(calls(), 1);
        for _ in 0..3 {
            assert_eq!(cached.verify("bad").await.err(), Some(TokenError::Invalid("unknown token")));
        }
        assert_eq!(calls(), 2, "a refusal is kept");
        for _ in 0..2 {
            assert!(matches!(cached.verify("down").await, Err(TokenError::Unavailable(_))));
        }
        assert_eq!(calls(), 4, "an unavailable issuer is asked again");
        assert_eq!(cached.verify("expired").await.err(), Some(TokenError::Invalid("token expired")));
    }
}
