//! [`RedisEventStore`]: the events of legacy sessions' resumable streams in Redis Streams, so a
//! client that reconnects with `Last-Event-ID` can be replayed what it missed by any server
//! process sharing the Redis.
//!
//! One Redis stream per event stream (`{prefix}:{stream}`), capped at about `max_len` entries
//! (`XADD ... MAXLEN ~`) and expiring `ttl` after its last event. Event ids are
//! `{stream}.{redis entry id}`. Redis being down costs no request: the event still goes out
//! live, only its replay is lost (and said so in a warning).

use std::time::Duration;

use bytes::Bytes;
use futures_util::future::BoxFuture;
use redis::aio::ConnectionManager;

use super::events::{DEFAULT_EVENTS_PER_STREAM, EventStore, Replay};

/// Default lifetime of a stream after its last event.
pub const DEFAULT_STREAM_TTL: Duration = Duration::from_secs(30 * 60);

/// Event stores in Redis Streams. Cheap to clone.
#[derive(Clone)]
pub struct RedisEventStore {
    connection: ConnectionManager,
    prefix: String,
    max_len: usize,
    ttl: Duration,
}

impl std::fmt::Debug for RedisEventStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisEventStore").field("prefix", &self.prefix).field("max_len", &self.max_len).finish()
    }
}

impl RedisEventStore {
    /// A store in the Redis at `url` (`redis://host:port/db`), connecting on first use (so a
    /// server starts while Redis is down). Commands time out after `timeout`. Needs a Tokio
    /// runtime.
    pub fn new(url: &str, timeout: Duration) -> Result<Self, redis::RedisError> {
        let client = redis::Client::open(url)?;
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(Some(timeout))
            .set_response_timeout(Some(timeout))
            .set_number_of_retries(1);
        Ok(RedisEventStore {
            connection: ConnectionManager::new_lazy_with_config(client, config)?,
            prefix: "mcp:events".into(),
            max_len: DEFAULT_EVENTS_PER_STREAM,
            ttl: DEFAULT_STREAM_TTL,
        })
    }

    /// The key prefix (default `mcp:events`).
    pub fn with_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// About how many events each stream keeps (default [`DEFAULT_EVENTS_PER_STREAM`]).
    pub fn with_max_len(mut self, max_len: usize) -> Self {
        self.max_len = max_len.max(1);
        self
    }

    /// How long a stream is kept after its last event (default 30 minutes).
    pub fn with_ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl;
        self
    }

    fn key(&self, stream: &str) -> String {
        format!("{}:{stream}", self.prefix)
    }

    async fn xadd(&self, stream: &str, message: &[u8]) -> redis::RedisResult<String> {
        let key = self.key(stream);
        let ttl = u64::try_from(self.ttl.as_millis()).unwrap_or(u64::MAX).max(1);
        let mut pipe = redis::pipe();
        pipe.cmd("XADD").arg(&key).arg("MAXLEN").arg("~").arg(self.max_len).arg("*").arg("m").arg(message);
        pipe.cmd("PEXPIRE").arg(&key).arg(ttl).ignore();
        let (id,): (String,) = pipe.query_async(&mut self.connection.clone()).await?;
        Ok(id)
    }

    async fn xrange_after(&self, stream: &str, after: &str) -> redis::RedisResult<Option<Vec<(String, Bytes)>>> {
        let key = self.key(stream);
        let mut connection = self.connection.clone();
        let exists: bool = redis::cmd("EXISTS").arg(&key).query_async(&mut connection).await?;
        if !exists {
            return Ok(None);
        }
        // `(` makes the start exclusive: only what came after the client's last event.
        let entries: Vec<(String, Vec<Vec<u8>>)> =
            redis::cmd("XRANGE").arg(&key).arg(format!("({after}")).arg("+").query_async(&mut connection).await?;
        let events = entries
            .into_iter()
            .filter_map(|(id, fields)| {
                let message = fields.chunks(2).find(|pair| pair.first().is_some_and(|f| f == b"m"))?.get(1)?.clone();
                Some((format!("{stream}.{id}"), Bytes::from(message)))
            })
            .collect();
        Ok(Some(events))
    }
}

/// `stream.entry-id`: stream ids never contain a `.` (session ids are hex).
fn split(id: &str) -> Option<(&str, &str)> {
    let (stream, entry) = id.rsplit_once('.')?;
    let (millis, seq) = entry.split_once('-')?;
    (millis.parse::<u64>().is_ok() && seq.parse::<u64>().is_ok()).then_some((stream, entry))
}

impl EventStore for RedisEventStore {
    fn append<'a>(&'a self, stream: &'a str, message: Bytes) -> BoxFuture<'a, String> {
        Box::pin(async move {
            match self.xadd(stream, &message).await {
                Ok(id) => format!("{stream}.{id}"),
                Err(error) => {
                    tracing::warn!(%error, stream, "event not recorded in Redis; it cannot be replayed");
                    // An id that replays nothing rather than something wrong.
                    format!("{stream}.unrecorded")
                }
            }
        })
    }

    fn replay_after<'a>(&'a self, last_event_id: &'a str) -> BoxFuture<'a, Option<Replay>> {
        Box::pin(async move {
            let (stream, after) = split(last_event_id)?;
            match self.xrange_after(stream, after).await {
                Ok(events) => events.map(|events| (stream.to_owned(), events)),
                Err(error) => {
                    tracing::warn!(%error, stream, "cannot replay from Redis");
                    None
                }
            }
        })
    }

    fn remove<'a>(&'a self, stream: &'a str) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let result: redis::RedisResult<()> =
                redis::cmd("DEL").arg(self.key(stream)).query_async(&mut self.connection.clone()).await;
            if let Err(error) = result {
                tracing::warn!(%error, stream, "stream not removed from Redis; it expires with its TTL");
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::split;

    #[test]
    fn event_ids_split_into_stream_and_entry() {
        assert_eq!(split("abc123.1700000000000-4"), Some(("abc123", "1700000000000-4")));
        assert_eq!(split("abc.unrecorded"), None);
        assert_eq!(split("no-dot"), None);
        assert_eq!(split("a.1-x"), None);
    }
}
