//! [`MultiLevelCache`]: L1 (moka, per-entry expiry) in front of the optional Redis L2.
//!
//! A lookup tries L1, then L2 (a hit there is copied into L1 for the time it has left), then
//! runs the caller's work. Concurrent misses for one key share one run (moka's `try_get_with`):
//! the first caller runs it, the others wait for its value. Work whose outcome is not to be
//! cached (an error, an MRTR result) is not shared: each waiter then runs its own.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use moka::future::Cache;

use crate::config::CacheConfig;
use crate::entry::{self, Decoded};
use crate::l2::{L2, L2Error};

/// One cached value, as L1 keeps it.
#[derive(Debug)]
struct Entry {
    value: Bytes,
    expires: Instant,
    /// The invalidation tag it was stored under.
    tag: Option<Arc<str>>,
}

/// What an L1 entry costs beside its key and value (the entry, its `Arc`, moka's node).
const ENTRY_OVERHEAD: usize = 128;

struct ExpireAtEntry;

impl moka::Expiry<String, Arc<Entry>> for ExpireAtEntry {
    fn expire_after_create(&self, _key: &String, entry: &Arc<Entry>, created_at: Instant) -> Option<Duration> {
        Some(entry.expires.saturating_duration_since(created_at))
    }

    fn expire_after_update(
        &self,
        _key: &String,
        entry: &Arc<Entry>,
        updated_at: Instant,
        _current: Option<Duration>,
    ) -> Option<Duration> {
        // A replaced value lives as long as the new one says.
        Some(entry.expires.saturating_duration_since(updated_at))
    }
}

/// The longest an entry lives, whatever it asks for.
pub const MAX_TTL: Duration = Duration::from_secs(365 * 24 * 3600);

/// A value found in the cache.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    /// The value.
    pub value: Bytes,
    /// When it expires.
    pub expires: Instant,
}

impl Hit {
    /// Time left before it expires.
    pub fn remaining(&self) -> Duration {
        self.expires.saturating_duration_since(Instant::now())
    }
}

/// What the caller's work produced.
#[derive(Debug)]
pub struct Computed<T> {
    /// The value's bytes, when it may be cached, with its lifetime (`None`: the default TTL).
    pub cache: Option<(Bytes, Option<Duration>)>,
    /// What the caller gets back.
    pub output: T,
}

/// Where an answer came from.
#[derive(Debug)]
pub enum Lookup<T> {
    /// From L1 or L2.
    Hit(Hit),
    /// From the work, run by this caller.
    Computed(T),
}

/// Counters of what the cache did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct CacheStats {
    /// Answers from L1.
    pub l1_hits: u64,
    /// Answers from L2.
    pub l2_hits: u64,
    /// Lookups that ran the work.
    pub misses: u64,
    /// Values stored.
    pub stores: u64,
    /// Values not stored because they exceed `max_value_size`.
    pub oversized: u64,
    /// L2 commands that failed or timed out.
    pub l2_errors: u64,
    /// Entries in L1 now (approximate).
    pub l1_entries: u64,
    /// What L1 holds now as it is weighed against `l1_max_bytes` (approximate; an entry weighs
    /// at least `l1_max_bytes / l1_max_entries`).
    pub l1_weight: u64,
}

#[derive(Default)]
struct Counters {
    l1_hits: AtomicU64,
    l2_hits: AtomicU64,
    misses: AtomicU64,
    stores: AtomicU64,
    oversized: AtomicU64,
}

/// Generation counters for tags, striped: a tag's counter moves when the tag is invalidated,
/// so work that started before an invalidation does not store its (stale) result after it.
/// Two tags sharing a stripe only cost an extra miss.
const GENERATION_STRIPES: usize = 1024;

struct Inner {
    generations: Vec<AtomicU64>,
    l1: Cache<String, Arc<Entry>>,
    l2: Option<L2>,
    config: CacheConfig,
    counters: Counters,
}

/// The multi-level cache. Cheap to clone; clones share everything.
#[derive(Clone)]
pub struct MultiLevelCache {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for MultiLevelCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MultiLevelCache").field("stats", &self.stats()).finish_non_exhaustive()
    }
}

/// Why a cache could not be set up.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CacheError {
    /// The Redis configuration is unusable (a bad URL, cluster without the feature).
    #[error(transparent)]
    Redis(#[from] L2Error),
}

/// Whether a store waits for Redis.
#[derive(Clone, Copy)]
enum L2Write {
    /// `insert`: done when Redis has it (or gave up).
    Await,
    /// A lookup's result: written while the caller already has its answer.
    Background,
}

/// The work's outcome was not cacheable, so waiters do not get it.
#[derive(Debug)]
struct NotShared;

impl MultiLevelCache {
    /// A cache as `config` says. Does not connect to Redis yet (the first command does), so it
    /// starts even while Redis is down. Needs a Tokio runtime when Redis is configured.
    pub fn new(config: CacheConfig) -> Result<Self, CacheError> {
        let l2 = config.redis.clone().map(|redis| L2::new(redis, &config.namespace)).transpose()?;
        // Weighed in bytes, each entry at least `floor`: the total stays under `l1_max_bytes`
        // and the count under `l1_max_entries`.
        let floor =
            if config.l1_max_entries == 0 { u64::MAX } else { config.l1_max_bytes.div_ceil(config.l1_max_entries) };
        let floor = floor.max(1);
        let capacity = if config.l1_max_entries == 0 { 0 } else { config.l1_max_bytes };
        let floor = u32::try_from(floor).unwrap_or(u32::MAX);
        let l1 = Cache::builder()
            .max_capacity(capacity)
            .weigher(move |key: &String, entry: &Arc<Entry>| {
                let size = key.len() + entry.value.len() + ENTRY_OVERHEAD;
                u32::try_from(size).unwrap_or(u32::MAX).max(floor)
            })
            .expire_after(ExpireAtEntry)
            .support_invalidation_closures()
            .build();
        let generations = (0..GENERATION_STRIPES).map(|_| AtomicU64::new(0)).collect();
        Ok(MultiLevelCache { inner: Arc::new(Inner { generations, l1, l2, config, counters: Counters::default() }) })
    }

    /// The configuration.
    pub fn config(&self) -> &CacheConfig {
        &self.inner.config
    }

    /// The key of `method` with `params`: `{namespace}:{method}:{hash of normalized params}`.
    pub fn key(&self, method: &str, params: &serde_json::Value) -> String {
        crate::key::cache_key(&self.inner.config.namespace, method, params)
    }

    /// The value under `key`, from L1 or L2.
    pub async fn get(&self, key: &str) -> Option<Hit> {
        if let Some(hit) = self.l1_get(key).await {
            return Some(hit);
        }
        let entry = self.l2_get(key, None).await?;
        Some(self.hit(&entry))
    }

    async fn l1_get(&self, key: &str) -> Option<Hit> {
        // L1 does not hand out expired entries (each expires at its own `expires`).
        let entry = self.inner.l1.get(key).await?;
        self.inner.counters.l1_hits.fetch_add(1, Ordering::Relaxed);
        Some(self.hit(&entry))
    }

    /// Looks `key` up in L2; a hit is counted and becomes an L1 entry under `tag`, so
    /// invalidating the tag drops it from L1 too.
    async fn l2_get(&self, key: &str, tag: Option<&str>) -> Option<Arc<Entry>> {
        let stored = self.inner.l2.as_ref()?.get(key).await?;
        let decoded = match entry::decode(&stored, self.inner.config.max_value_size) {
            Ok(decoded) => decoded,
            Err(error) => {
                tracing::warn!(%error, key, "unreadable L2 entry ignored");
                return None;
            }
        };
        let entry = self.entry_from(decoded, tag.map(Arc::from))?;
        self.inner.counters.l2_hits.fetch_add(1, Ordering::Relaxed);
        self.inner.l1.insert(key.to_owned(), entry.clone()).await;
        Some(entry)
    }

    fn entry_from(&self, decoded: Decoded, tag: Option<Arc<str>>) -> Option<Arc<Entry>> {
        let remaining = decoded.remaining();
        (!remaining.is_zero())
            .then(|| Arc::new(Entry { value: decoded.value, expires: Instant::now() + remaining, tag }))
    }

    fn hit(&self, entry: &Entry) -> Hit {
        Hit { value: entry.value.clone(), expires: entry.expires }
    }

    /// Stores `value` under `key` for `ttl` (default TTL when `None`) in both levels, tagged
    /// for [`invalidate_tag`](Self::invalidate_tag). A value over `max_value_size` is not stored.
    pub async fn insert(&self, key: &str, value: Bytes, ttl: Option<Duration>, tag: Option<&str>) {
        if let Some(entry) = self.store(key, value, ttl, tag, L2Write::Await).await {
            self.inner.l1.insert(key.to_owned(), entry).await;
        }
    }

    /// Writes L2 and returns the L1 entry, unless the value may not be cached.
    async fn store(
        &self,
        key: &str,
        value: Bytes,
        ttl: Option<Duration>,
        tag: Option<&str>,
        write_mode: L2Write,
    ) -> Option<Arc<Entry>> {
        let config = &self.inner.config;
        // A year is "long"; longer would overflow clocks and Redis' PX.
        let ttl = ttl.unwrap_or(config.default_ttl).min(MAX_TTL);
        if ttl.is_zero() {
            return None;
        }
        if value.len() > config.max_value_size {
            self.inner.counters.oversized.fetch_add(1, Ordering::Relaxed);
            tracing::info!(key, size = value.len(), limit = config.max_value_size, "value too large to cache");
            return None;
        }
        if self.inner.l2.is_some() {
            match entry::encode(&value, ttl, config.compression_threshold) {
                Ok(stored) => {
                    let (inner, key, tag) = (self.inner.clone(), key.to_owned(), tag.map(str::to_owned));
                    let write = async move {
                        if let Some(l2) = &inner.l2 {
                            l2.set(&key, &stored, ttl, tag.as_deref()).await;
                        }
                    };
                    match write_mode {
                        L2Write::Await => write.await,
                        // Off the response path: a slow Redis delays nobody's answer.
                        L2Write::Background => drop(tokio::spawn(write)),
                    }
                }
                Err(error) => tracing::warn!(%error, key, "value not stored in L2"),
            }
        }
        self.inner.counters.stores.fetch_add(1, Ordering::Relaxed);
        Some(Arc::new(Entry { value, expires: Instant::now() + ttl, tag: tag.map(Arc::from) }))
    }

    /// The value under `key`, or `work`'s: concurrent misses for one key run `work` once and
    /// share its cacheable value. An outcome `work` marks as not cacheable goes to this
    /// caller only; callers that were waiting for it run their own `work`.
    pub async fn get_or_compute<T, W, Fut>(&self, key: &str, tag: Option<&str>, work: W) -> Lookup<T>
    where
        W: Fn() -> Fut,
        Fut: std::future::Future<Output = Computed<T>>,
    {
        if let Some(hit) = self.l1_get(key).await {
            return Lookup::Hit(hit);
        }
        let own: std::sync::Mutex<Option<T>> = std::sync::Mutex::new(None);
        let shared = self
            .inner
            .l1
            .try_get_with(key.to_owned(), async {
                let generation = tag.map(|t| self.generation(t));
                if let Some(entry) = self.l2_get(key, tag).await {
                    return Ok(entry);
                }
                self.inner.counters.misses.fetch_add(1, Ordering::Relaxed);
                let computed = work().await;
                let stored = match computed.cache {
                    Some((value, ttl)) if self.still(tag, generation) => {
                        self.store(key, value, ttl, tag, L2Write::Background).await
                    }
                    _ => None,
                };
                *own.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(computed.output);
                stored.ok_or(NotShared)
            })
            .await;
        if let Some(output) = own.into_inner().unwrap_or_else(std::sync::PoisonError::into_inner) {
            return Lookup::Computed(output);
        }
        match shared {
            Ok(entry) => Lookup::Hit(self.hit(&entry)),
            // Another caller's outcome that was not for sharing: do the work here.
            Err(_) => {
                self.inner.counters.misses.fetch_add(1, Ordering::Relaxed);
                let generation = tag.map(|t| self.generation(t));
                let computed = work().await;
                if let Some((value, ttl)) = computed.cache
                    && self.still(tag, generation)
                    && let Some(entry) = self.store(key, value, ttl, tag, L2Write::Background).await
                {
                    self.inner.l1.insert(key.to_owned(), entry).await;
                }
                Lookup::Computed(computed.output)
            }
        }
    }

    /// Drops `key` from L1 (L2 entries expire or are dropped by tag).
    pub async fn invalidate(&self, key: &str) {
        self.inner.l1.invalidate(key).await;
    }

    /// Drops every L1 entry (L2 entries expire, or go by tag).
    pub fn clear(&self) {
        self.inner.l1.invalidate_all();
    }

    /// Drops every entry stored under `tag`, in L1 and L2.
    pub async fn invalidate_tag(&self, tag: &str) {
        self.forget_tag(tag);
        if let Some(l2) = &self.inner.l2 {
            l2.invalidate_tag(tag).await;
        }
    }

    /// Drops `tag`'s entries from L1 at once (no waiting), and from L2 in the background
    /// (needs a Tokio runtime for that part). For callers that cannot wait, such as a change
    /// hook that must act before the change is announced.
    pub fn invalidate_tag_now(&self, tag: &str) {
        self.forget_tag(tag);
        if self.inner.l2.is_some()
            && let Ok(runtime) = tokio::runtime::Handle::try_current()
        {
            let (inner, tag) = (self.inner.clone(), tag.to_owned());
            runtime.spawn(async move {
                if let Some(l2) = &inner.l2 {
                    l2.invalidate_tag(&tag).await;
                }
            });
        }
    }

    /// Moves `tag`'s generation first (so work in flight does not store after this), then
    /// drops its L1 entries.
    fn forget_tag(&self, tag: &str) {
        self.stripe(tag).fetch_add(1, Ordering::SeqCst);
        let wanted: Arc<str> = Arc::from(tag);
        let _ = self.inner.l1.invalidate_entries_if(move |_, entry| entry.tag.as_deref() == Some(&*wanted));
    }

    fn stripe(&self, tag: &str) -> &AtomicU64 {
        use std::hash::{Hash, Hasher};
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        tag.hash(&mut hasher);
        let index = (hasher.finish() % GENERATION_STRIPES as u64) as usize;
        &self.inner.generations[index]
    }

    fn generation(&self, tag: &str) -> u64 {
        self.stripe(tag).load(Ordering::SeqCst)
    }

    /// Whether `tag` was not invalidated since `generation` was read.
    fn still(&self, tag: Option<&str>, generation: Option<u64>) -> bool {
        match (tag, generation) {
            (Some(tag), Some(generation)) => self.generation(tag) == generation,
            _ => true,
        }
    }

    /// Whether the L2 answers now (`None` without an L2).
    pub async fn l2_healthy(&self) -> Option<bool> {
        match &self.inner.l2 {
            Some(l2) => Some(l2.ping().await),
            None => None,
        }
    }

    /// What the cache has done so far.
    pub fn stats(&self) -> CacheStats {
        let c = &self.inner.counters;
        CacheStats {
            l1_hits: c.l1_hits.load(Ordering::Relaxed),
            l2_hits: c.l2_hits.load(Ordering::Relaxed),
            misses: c.misses.load(Ordering::Relaxed),
            stores: c.stores.load(Ordering::Relaxed),
            oversized: c.oversized.load(Ordering::Relaxed),
            l2_errors: self.inner.l2.as_ref().map_or(0, |l2| l2.errors.load(Ordering::Relaxed)),
            l1_entries: self.inner.l1.entry_count(),
            l1_weight: self.inner.l1.weighted_size(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn l1_is_bounded_in_bytes_and_in_entries() {
        let config = CacheConfig::builder().with_l1_max_bytes(1024 * 1024).with_l1_max_entries(100).build();
        let cache = MultiLevelCache::new(config).expect("cache");
        // 50 values of 100 KB: about 5 MB offered, 1 MiB allowed.
        for n in 0..50 {
            cache.insert(&format!("big{n}"), Bytes::from(vec![b'x'; 100_000]), None, None).await;
        }
        cache.inner.l1.run_pending_tasks().await;
        let stats = cache.stats();
        assert!(stats.l1_weight <= 1024 * 1024, "{stats:?}");
        assert!(stats.l1_entries <= 10, "{stats:?}");
        // 1,000 small values: the count bounds them (which ones moka admits is its business).
        for n in 0..1000 {
            cache.insert(&format!("small{n}"), Bytes::from_static(b"v"), None, None).await;
        }
        cache.inner.l1.run_pending_tasks().await;
        let stats = cache.stats();
        assert!(stats.l1_entries <= 100 && stats.l1_weight <= 1024 * 1024, "{stats:?}");
    }
}
