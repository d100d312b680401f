//! The Redis L2. Every command has a deadline; a failure marks L2 down for the retry interval,
//! during which the cache answers from L1 alone (no request waits on a dead Redis), and the
//! next command after it tries again (the connection manager reconnects by itself).

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use redis::aio::ConnectionManager;

use crate::config::RedisConfig;

/// How long an index set (the keys stored under one invalidation tag) outlives its entries.
const INDEX_SLACK: Duration = Duration::from_secs(60);

/// A connection to the L2.
// One per cache, cloned per command: boxing the larger variant would cost an allocation per
// clone for nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Clone)]
enum Connection {
    Single(ConnectionManager),
    #[cfg(feature = "cluster")]
    Cluster(
        std::sync::Arc<tokio::sync::OnceCell<redis::cluster_async::ClusterConnection>>,
        redis::cluster::ClusterClient,
    ),
}

pub(crate) struct L2 {
    connection: Connection,
    config: RedisConfig,
    /// The cache's key namespace, for the index sets.
    namespace: String,
    down_until: Mutex<Option<Instant>>,
    pub(crate) errors: AtomicU64,
    /// Tags whose invalidation Redis did not take (it was down or resting).
    owed: Mutex<Vec<String>>,
}

/// The most tag invalidations remembered while Redis is away.
const MAX_OWED_INVALIDATIONS: usize = 1024;

/// Why the L2 could not be set up.
#[derive(Debug, thiserror::Error)]
#[error("redis: {0}")]
pub struct L2Error(#[from] redis::RedisError);

impl L2 {
    /// Sets up the L2 without connecting: the first command connects, so a Redis that is down
    /// at start does not stop the cache (or the server) from starting.
    pub(crate) fn new(config: RedisConfig, namespace: &str) -> Result<Self, L2Error> {
        let connection = if config.cluster {
            cluster(&config)?
        } else {
            let url = config.urls.first().map(String::as_str).unwrap_or_default();
            let client = redis::Client::open(url)?;
            let manager = redis::aio::ConnectionManagerConfig::new()
                .set_connection_timeout(Some(config.connection_timeout))
                .set_response_timeout(Some(config.response_timeout))
                .set_number_of_retries(1)
                .set_max_delay(config.retry_interval);
            Connection::Single(ConnectionManager::new_lazy_with_config(client, manager)?)
        };
        Ok(L2 {
            connection,
            config,
            namespace: namespace.to_owned(),
            down_until: Mutex::new(None),
            errors: AtomicU64::new(0),
            owed: Mutex::new(Vec::new()),
        })
    }

    /// Whether L2 is worth asking now.
    fn available(&self) -> bool {
        let down = self.down_until.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        down.is_none_or(|until| Instant::now() >= until)
    }

    fn failed(&self, what: &str, error: &str) {
        self.errors.fetch_add(1, Ordering::Relaxed);
        let mut down = self.down_until.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if down.is_none_or(|until| Instant::now() >= until) {
            tracing::warn!(%error, what, retry_in = ?self.config.retry_interval, "L2 cache unavailable; serving from L1");
        }
        *down = Some(Instant::now() + self.config.retry_interval);
    }

    fn recovered(&self) {
        let mut down = self.down_until.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if down.take().is_some() {
            tracing::info!("L2 cache reachable again");
        }
    }

    /// Runs `command` with the deadline; `None` when L2 is down, slow or failing.
    async fn run<T: redis::FromRedisValue>(&self, what: &str, command: redis::Pipeline) -> Option<T> {
        if !self.available() {
            return None;
        }
        self.command(what, command).await
    }

    /// Runs `command` with the deadline whether or not L2 rests.
    async fn command<T: redis::FromRedisValue>(&self, what: &str, command: redis::Pipeline) -> Option<T> {
        // The connection's own timeouts bound each step; this bounds the whole command.
        let deadline = self.config.connection_timeout + self.config.response_timeout;
        let result = match self.connection.clone() {
            Connection::Single(mut connection) => {
                tokio::time::timeout(deadline, command.query_async::<T>(&mut connection)).await
            }
            #[cfg(feature = "cluster")]
            Connection::Cluster(cell, client) => {
                tokio::time::timeout(deadline, async {
                    let connection = cell.get_or_try_init(|| client.get_async_connection()).await?;
                    command.query_async::<T>(&mut connection.clone()).await
                })
                .await
            }
        };
        match result {
            Ok(Ok(value)) => {
                self.recovered();
                Some(value)
            }
            Ok(Err(error)) => {
                self.failed(what, &error.to_string());
                None
            }
            Err(_) => {
                self.failed(what, "timed out");
                None
            }
        }
    }

    pub(crate) async fn get(&self, key: &str) -> Option<Vec<u8>> {
        // An invalidation Redis missed (it was down) is settled before anything is read back,
        // so a stale entry is never served after Redis returns.
        if !self.settle_owed().await {
            return None;
        }
        let mut pipe = redis::pipe();
        pipe.cmd("GET").arg(key);
        self.run::<(Option<Vec<u8>>,)>("GET", pipe).await.and_then(|(value,)| value)
    }

    /// Stores `value` for `ttl`, and records `key` under the invalidation `tag`.
    pub(crate) async fn set(&self, key: &str, value: &[u8], ttl: Duration, tag: Option<&str>) {
        let millis = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1);
        let mut pipe = redis::pipe();
        pipe.cmd("SET").arg(key).arg(value).arg("PX").arg(millis).ignore();
        if self.run::<()>("SET", pipe).await.is_none() {
            return;
        }
        // The index is a command of its own: in a cluster it lives in another slot.
        if let Some(tag) = tag {
            let index = self.index_key(tag);
            let keep = millis.saturating_add(u64::try_from(INDEX_SLACK.as_millis()).unwrap_or(0));
            let mut pipe = redis::pipe();
            pipe.cmd("SADD").arg(&index).arg(key).ignore();
            // Only ever lengthened: a short-lived entry must not cut the index's life short.
            pipe.cmd("PEXPIRE").arg(&index).arg(keep).arg("GT").ignore();
            pipe.cmd("PEXPIRE").arg(&index).arg(keep).arg("NX").ignore();
            let _ = self.run::<()>("SADD", pipe).await;
        }
    }

    /// Deletes every key stored under `tag`.
    pub(crate) async fn invalidate_tag(&self, tag: &str) {
        if !self.try_invalidate(tag).await {
            // Owed: L2 is not read again until it is done (see `get`).
            let mut owed = self.owed.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            if !owed.iter().any(|t| t == tag) {
                if owed.len() >= MAX_OWED_INVALIDATIONS {
                    tracing::warn!(tag = %owed[0], "too many L2 invalidations owed; the oldest is dropped");
                    owed.remove(0);
                }
                owed.push(tag.to_owned());
            }
        }
    }

    /// Deletes `tag`'s keys and index; `false` when Redis did not take it all.
    async fn try_invalidate(&self, tag: &str) -> bool {
        let index = self.index_key(tag);
        let mut pipe = redis::pipe();
        pipe.cmd("SMEMBERS").arg(&index);
        let Some((keys,)) = self.run::<(Vec<String>,)>("SMEMBERS", pipe).await else { return false };
        // One key per command in a cluster: the keys live in different slots.
        let per_command = if self.config.cluster { 1 } else { 512 };
        for chunk in keys.chunks(per_command) {
            let mut pipe = redis::pipe();
            for key in chunk {
                pipe.cmd("DEL").arg(key).ignore();
            }
            if self.run::<()>("DEL", pipe).await.is_none() {
                return false;
            }
        }
        let mut pipe = redis::pipe();
        pipe.cmd("DEL").arg(&index).ignore();
        self.run::<()>("DEL", pipe).await.is_some()
    }

    /// Settles invalidations that failed earlier; `false` while some are still owed.
    async fn settle_owed(&self) -> bool {
        let owed: Vec<String> = self.owed.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
        for tag in owed {
            if !self.try_invalidate(&tag).await {
                return false;
            }
            self.owed.lock().unwrap_or_else(std::sync::PoisonError::into_inner).retain(|t| *t != tag);
        }
        true
    }

    /// Whether Redis answers `PING` now (asked even while L2 rests; a success ends the rest).
    pub(crate) async fn ping(&self) -> bool {
        let mut pipe = redis::pipe();
        pipe.cmd("PING");
        self.command::<(String,)>("PING", pipe).await.is_some()
    }

    fn index_key(&self, tag: &str) -> String {
        format!("{}:index:{tag}", self.namespace)
    }
}

#[cfg(feature = "cluster")]
fn cluster(config: &RedisConfig) -> Result<Connection, L2Error> {
    let client = redis::cluster::ClusterClientBuilder::new(config.urls.clone())
        .connection_timeout(config.connection_timeout)
        .response_timeout(config.response_timeout)
        .build()?;
    Ok(Connection::Cluster(std::sync::Arc::new(tokio::sync::OnceCell::new()), client))
}

#[cfg(not(feature = "cluster"))]
fn cluster(_: &RedisConfig) -> Result<Connection, L2Error> {
    Err(L2Error(redis::RedisError::from((
        redis::ErrorKind::Client,
        "Redis Cluster needs mocopr-cache's `cluster` feature",
    ))))
}
