//! The verdicts of a verifier, kept so that a signature is checked or an introspection made
//! once per token rather than per request: an accepted token until it expires (or for at most
//! the cache lifetime), a refused one briefly, so that a client repeating a bad token does not
//! turn each request into work for the issuer. Concurrent requests with the same unseen token
//! share one verification. Keyed by the token's SHA-256, so the cache keeps no token; bounded
//! in bytes. (A connection keeps its last token: see `last_token`.)

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use mocopr_core::principal::Principal;
use sha2::{Digest, Sha256};

use crate::error::TokenError;
use crate::verifier::{TokenVerifier, Verified};

/// Bytes an entry is counted at beyond its claims.
const ENTRY_OVERHEAD: u32 = 256;

/// How long a refused token stays refused without asking the verifier again.
const REFUSAL_LIFETIME: Duration = Duration::from_secs(10);

/// Longest a verdict is kept, whatever the cache lifetime asked for.
const MAX_LIFETIME: Duration = Duration::from_secs(24 * 3600);

/// A token the verifier accepted, and until when that verdict holds: the token's expiry (on
/// the wall clock, as `exp` is) or the cache lifetime after the verification (on the monotonic
/// clock), whichever comes first.
#[derive(Debug, Clone)]
pub(crate) struct Accepted {
    pub(crate) principal: Principal,
    /// When the cache lifetime ends.
    pub(crate) until: Instant,
    /// The token's `exp` (seconds since the Unix epoch).
    pub(crate) expires_at: Option<u64>,
}

impl Accepted {
    /// Whether the token has expired.
    pub(crate) fn expired(&self) -> bool {
        self.expires_at.is_some_and(|exp| time_left(exp).is_zero())
    }

    /// Whether the verdict still holds at `now`: neither the cache lifetime nor the token is
    /// over.
    pub(crate) fn holds_at(&self, now: Instant) -> bool {
        now < self.until && !self.expired()
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
    /// This cache's own number, that a connection's last token names (see `last_token`):
    /// unique in the process; `None` when verdicts are not kept at all.
    id: Option<u64>,
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
        // A verdict kept nowhere (no bytes or no time) is kept on no connection either.
        static NEXT_ID: AtomicU64 = AtomicU64::new(0);
        let id = (max_bytes > 0 && !lifetime.is_zero()).then(|| NEXT_ID.fetch_add(1, Ordering::Relaxed));
        CachedVerifier { verifier, cache, lifetime: lifetime.min(MAX_LIFETIME), id }
    }

    /// Which verdicts a connection's last token may stand for: this cache's, unless it keeps
    /// none.
    pub(crate) fn id(&self) -> Option<u64> {
        self.id
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
                    // (`lifetime` is at most a day: no overflow; the fallback is for the
                    // impossible.)
                    let now = Instant::now();
                    Ok(Accepted { principal, until: now.checked_add(lifetime).unwrap_or(now), expires_at })
                }))
                .await
            }
        };
        // A verdict read back a moment before its expiry may be for a token just expired. (One
        // whose cache lifetime just ended is still this moment's verdict: served.)
        if verdict.as_ref().is_ok_and(Accepted::expired) {
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

    #[tokio::test]
    async fn a_cache_that_keeps_nothing_verifies_every_request_and_accepts_good_tokens() {
        let counting = Arc::new(Counting(AtomicUsize::new(0)));
        let uncached = CachedVerifier::new(counting.clone(), 1 << 20, Duration::ZERO);
        for _ in 0..3 {
            assert!(uncached.verify("good").await.is_ok(), "a zero lifetime verifies, it does not refuse");
        }
        assert_eq!(counting.0.load(Ordering::SeqCst), 3);
        assert_eq!(uncached.id(), None, "and no connection keeps its verdicts");
        assert_eq!(CachedVerifier::new(counting.clone(), 0, Duration::from_secs(60)).id(), None);
        let (a, b) = (
            CachedVerifier::new(counting.clone(), 1 << 20, Duration::MAX),
            CachedVerifier::new(counting.clone(), 1 << 20, Duration::MAX),
        );
        assert!(a.id().is_some() && a.id() != b.id(), "each cache has its own number");
        let accepted = a.verify("good").await.expect("no overflow for an endless lifetime");
        assert!(accepted.holds_at(Instant::now()));
        assert!(accepted.until <= Instant::now() + MAX_LIFETIME);
    }
}
