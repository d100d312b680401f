//! [`RedisSessionStore`]: legacy sessions any server process sharing the Redis can serve.
//!
//! What a session negotiated lives in Redis: a hash `{prefix}:{{id}}` (the handshake as JSON,
//! `initialized`, the log level) and a set `{prefix}:{{id}}:subs` of subscribed URIs, both
//! expiring after the idle timeout (every use renews them). A sorted set `{prefix}:{index}` of
//! the ids, scored by when each expires, bounds how many there are: a new session past
//! `max_sessions` (expired ones dropped first) is refused, so one client cannot fill the Redis.
//! With the server's handshake and subscription limits that bounds the bytes too. Changes are written as deltas
//! (`HSET` of the fields that changed, `SADD` / `SREM` of the URIs), in one script that does
//! nothing when the session is gone, so requests through different processes at once each keep
//! their change, and a session ended elsewhere stays ended. What cannot leave the process (the
//! server-to-client requests a handler is waiting on) lives in a local [`Session`] object, made
//! from Redis the first time a process sees the session; each request refreshes its state.
//!
//! Redis being down costs no request a process can serve alone: sessions it created or has seen
//! keep working from its local copy (a warning says they are not shared), a session it created
//! is written once Redis is back, and a change Redis missed is written again before the next
//! read. A session this process has never seen cannot be served while Redis is unreachable: the
//! endpoint answers 503, not 404, so the client keeps its session.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use futures_util::future::BoxFuture;
use mocopr_core::ProtocolVersion;
use mocopr_core::types::{ClientCapabilities, Implementation, LoggingLevel};

use super::redis_connection::RedisConnection;
use super::sessions::{
    DEFAULT_SESSION_IDLE_TIMEOUT, DEFAULT_SESSION_MEMORY, SessionStore, SessionStoreError, new_session_id,
};
use crate::session::{Session, SessionMemory, SessionState};

/// Default number of sessions a process keeps local objects for.
pub(crate) const DEFAULT_LOCAL_SESSIONS: usize = 10_000;

/// Default most sessions in Redis, over every process.
pub(crate) const DEFAULT_REDIS_SESSIONS: usize = 10_000;

/// Admits a session into the index if there is room. KEYS: index. ARGV: id, most sessions,
/// idle ms. Times are Redis's own clock, so processes whose clocks differ agree on expiry.
const ADMIT: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1
";

/// Renews a session's index entry (`only` = `XX`: only one that is there; '' = enter it).
/// KEYS: index. ARGV: id, idle ms, `XX` or ''. Returns whether an entry was added or changed.
const RENEW: &str = r"
local t = redis.call('TIME')
local expires = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) + tonumber(ARGV[2])
local changed
if ARGV[3] == 'XX' then
  changed = redis.call('ZADD', KEYS[1], 'XX', 'CH', expires, ARGV[1])
else
  changed = redis.call('ZADD', KEYS[1], 'CH', expires, ARGV[1])
end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return changed
";

/// Whether `id` has the shape of the ids this store makes (32 lowercase hex digits): anything
/// else names no session, and never reaches a Redis key (an id `index` would name the index).
fn is_session_id(id: &str) -> bool {
    id.len() == 32 && id.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Reads a session and renews its expiry. KEYS: hash, subscriptions. ARGV: idle ms. Returns
/// the hash's fields and values, then the subscribed URIs.
const READ: &str = r"
local fields = redis.call('HGETALL', KEYS[1])
local subscriptions = redis.call('SMEMBERS', KEYS[2])
redis.call('PEXPIRE', KEYS[1], ARGV[1])
redis.call('PEXPIRE', KEYS[2], ARGV[1])
return {fields, subscriptions}
";

/// Applies a delta if the session still exists. KEYS: hash, subscriptions. ARGV: idle ms,
/// `initialized` ('' = unchanged), level JSON ('' = unchanged), number of URIs added, the added
/// URIs, then the removed ones.
const SAVE_DELTA: &str = r"
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if ARGV[2] ~= '' then redis.call('HSET', KEYS[1], 'initialized', ARGV[2]) end
if ARGV[3] ~= '' then redis.call('HSET', KEYS[1], 'level', ARGV[3]) end
local added = tonumber(ARGV[4])
for i = 5, 4 + added do redis.call('SADD', KEYS[2], ARGV[i]) end
for i = 5 + added, #ARGV do redis.call('SREM', KEYS[2], ARGV[i]) end
redis.call('PEXPIRE', KEYS[1], ARGV[1])
redis.call('PEXPIRE', KEYS[2], ARGV[1])
return 1
";

/// Legacy sessions in Redis. Cheap to clone.
#[derive(Clone)]
pub struct RedisSessionStore {
    connection: RedisConnection,
    prefix: String,
    idle_timeout: Duration,
    local: Arc<Mutex<HashMap<String, Local>>>,
    local_capacity: usize,
    local_memory: Arc<SessionMemory>,
    max_sessions: usize,
}

/// This process's object for a session.
struct Local {
    session: Arc<Session>,
    used: Instant,
    /// Whether Redis ever had it (false while Redis was down when it was created).
    written: bool,
    /// A change Redis missed: the state before it, to write the delta again.
    unsaved: Option<SessionState>,
}

impl std::fmt::Debug for RedisSessionStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisSessionStore")
            .field("prefix", &self.prefix)
            .field("idle_timeout", &self.idle_timeout)
            .finish_non_exhaustive()
    }
}

/// The handshake part of a state, which never changes.
#[derive(serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct Handshake {
    version: ProtocolVersion,
    capabilities: ClientCapabilities,
    client_info: Implementation,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    owner: Option<String>,
}

impl RedisSessionStore {
    /// Sessions in the Redis at `url` (`redis://host:port/db`) under `mcp:session`, dropped
    /// after 30 minutes unused, connecting on first use (a server starts
    /// while Redis is down). Commands time out after `timeout`.
    pub fn new(url: &str, timeout: Duration) -> Result<Self, redis::RedisError> {
        Ok(Self::on(RedisConnection::single(url, timeout)?))
    }

    /// Sessions in the Redis Cluster reached through any of `nodes` (`redis://host:port`; the
    /// client finds the rest and follows slots as they move), otherwise as [`new`](Self::new).
    /// Each session's keys share one hash tag, so they live in one slot; the index of all
    /// sessions is a key of its own. A command whose master is failing over is retried for
    /// about five seconds; past that the session is served from this process's copy, as when
    /// a single Redis is down.
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// use mocopr_transport::http::RedisSessionStore;
    ///
    /// let nodes = ["redis://10.0.0.1:7000", "redis://10.0.0.2:7000", "redis://10.0.0.3:7000"];
    /// let store = RedisSessionStore::cluster(nodes, Duration::from_millis(500))?;
    /// # Ok::<(), redis::RedisError>(())
    /// ```
    #[cfg(feature = "redis-cluster")]
    #[cfg_attr(docsrs, doc(cfg(feature = "redis-cluster")))]
    pub fn cluster(
        nodes: impl IntoIterator<Item = impl Into<String>>,
        timeout: Duration,
    ) -> Result<Self, redis::RedisError> {
        let nodes = nodes.into_iter().map(Into::into).collect();
        Ok(Self::on(RedisConnection::cluster(nodes, timeout)?))
    }

    fn on(connection: RedisConnection) -> Self {
        RedisSessionStore {
            connection,
            prefix: "mcp:session".into(),
            idle_timeout: DEFAULT_SESSION_IDLE_TIMEOUT,
            local: Arc::default(),
            local_capacity: DEFAULT_LOCAL_SESSIONS,
            local_memory: SessionMemory::new(DEFAULT_SESSION_MEMORY),
            max_sessions: DEFAULT_REDIS_SESSIONS,
        }
    }

    /// The most sessions in Redis, over every process sharing it (default 10,000); a new one
    /// past it (sessions that expired are dropped first) gets `503`.
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// use mocopr_transport::http::RedisSessionStore;
    ///
    /// let store = RedisSessionStore::new("redis://127.0.0.1:6379/0", Duration::from_secs(1))?
    ///     .with_max_sessions(50_000)
    ///     .with_local_max_bytes(32 * 1024 * 1024);
    /// # Ok::<(), redis::RedisError>(())
    /// ```
    pub fn with_max_sessions(mut self, sessions: usize) -> Self {
        self.max_sessions = sessions;
        self
    }

    /// The bytes this process's local session objects may hold together (default 64 MiB);
    /// past it the least recently used are dropped (and made again from Redis when needed).
    pub fn with_local_max_bytes(mut self, bytes: usize) -> Self {
        self.local_memory = SessionMemory::new(bytes);
        self
    }

    /// The key prefix (default `mcp:session`); every process serving the endpoint uses the same.
    pub fn with_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// How long a session may stay unused before Redis forgets it (default 30 minutes).
    pub fn with_idle_timeout(mut self, idle_timeout: Duration) -> Self {
        self.idle_timeout = idle_timeout.max(Duration::from_millis(1));
        self
    }

    /// How many sessions this process keeps local objects for (default
    /// 10,000); the least recently used without a request waiting on its
    /// client go first, and are made again from Redis when they come back.
    pub fn with_local_capacity(mut self, capacity: usize) -> Self {
        self.local_capacity = capacity.max(1);
        self
    }

    /// The hash and the subscription set; one hash tag, so one cluster slot.
    fn keys(&self, id: &str) -> (String, String) {
        let hash = format!("{}:{{{id}}}", self.prefix);
        let subs = format!("{hash}:subs");
        (hash, subs)
    }

    fn index_key(&self) -> String {
        format!("{}:{{index}}", self.prefix)
    }

    /// Enters `id` in the index; `Ok(false)` when Redis holds the most sessions allowed.
    async fn admit(&self, id: &str) -> redis::RedisResult<bool> {
        let admitted: i64 = redis::cmd("EVAL")
            .arg(ADMIT)
            .arg(1)
            .arg(self.index_key())
            .arg(id)
            .arg(self.max_sessions)
            .arg(self.idle_millis())
            .query_async(&mut self.connection.clone())
            .await?;
        Ok(admitted == 1)
    }

    /// The command renewing `id`'s index entry (`existing_only`: only if it is there).
    fn renew(&self, id: &str, existing_only: bool) -> redis::Cmd {
        let mut command = redis::cmd("EVAL");
        command.arg(RENEW).arg(1).arg(self.index_key()).arg(id).arg(self.idle_millis());
        command.arg(if existing_only { "XX" } else { "" });
        command
    }

    /// Sends `command` without waiting for its answer (an index update).
    fn in_background(&self, command: redis::Cmd) {
        let mut connection = self.connection.clone();
        tokio::spawn(async move {
            let _: redis::RedisResult<redis::Value> = command.query_async(&mut connection).await;
        });
    }

    fn idle_millis(&self) -> u64 {
        u64::try_from(self.idle_timeout.as_millis()).unwrap_or(u64::MAX)
    }

    fn local(&self) -> std::sync::MutexGuard<'_, HashMap<String, Local>> {
        self.local.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Keeps `session` locally unless the process already has an object for `id` (two first
    /// requests at once), which it returns instead; makes room by dropping the least recently
    /// used ones Redis has whole and nothing waits on. `None` when no room can be made (every
    /// copy is in use): the request is refused rather than served from a copy nobody keeps.
    fn keep(&self, id: &str, session: Arc<Session>, written: bool) -> Option<Arc<Session>> {
        let mut local = self.local();
        if let Some(existing) = local.get_mut(id) {
            existing.used = Instant::now();
            return Some(existing.session.clone());
        }
        if local.len() >= self.local_capacity && !self.drop_oldest(&mut local, id) {
            crate::limit_reached("redis_local_capacity");
            return None;
        }
        while !session.attach_memory(&self.local_memory) {
            if !self.drop_oldest(&mut local, id) {
                crate::limit_reached("redis_local_max_bytes");
                return None;
            }
        }
        local.insert(id.to_owned(), Local { session: session.clone(), used: Instant::now(), written, unsaved: None });
        self.keep_headroom(&mut local, id);
        Some(session)
    }

    /// Drops the least recently used local copy other than `except` that can go: no request
    /// holds it, and Redis has it whole (or it went unused past the idle timeout, so its
    /// client is gone); `false` when none can.
    fn drop_oldest(&self, local: &mut HashMap<String, Local>, except: &str) -> bool {
        let oldest = local
            .iter()
            .filter(|(id, l)| {
                id.as_str() != except
                    && Arc::strong_count(&l.session) == 1
                    && ((l.written && l.unsaved.is_none()) || l.used.elapsed() > self.idle_timeout)
            })
            .min_by_key(|(_, l)| l.used)
            .map(|(id, _)| id.clone());
        oldest.is_some_and(|oldest| local.remove(&oldest).is_some())
    }

    /// Keeps an eighth of the local budget free, so a subscription of a session in use finds
    /// room rather than being refused for copies that could go.
    fn keep_headroom(&self, local: &mut HashMap<String, Local>, except: &str) {
        let target = self.local_memory.max() - self.local_memory.max() / 8;
        while self.local_memory.used() > target && self.drop_oldest(local, except) {}
    }

    /// Writes a whole state (a new session).
    async fn write(&self, id: &str, state: &SessionState) -> redis::RedisResult<()> {
        let (hash, subs) = self.keys(id);
        let handshake = Handshake {
            version: state.version,
            capabilities: (*state.capabilities).clone(),
            client_info: state.client_info.clone(),
            owner: state.owner.clone(),
        };
        let mut pipe = redis::pipe();
        pipe.atomic();
        pipe.cmd("HSET")
            .arg(&hash)
            .arg("handshake")
            .arg(serde_json::to_vec(&handshake).unwrap_or_default())
            .arg("initialized")
            .arg(if state.initialized { "1" } else { "0" })
            .ignore();
        if let Some(level) = state.log_level {
            pipe.cmd("HSET").arg(&hash).arg("level").arg(serde_json::to_vec(&level).unwrap_or_default()).ignore();
        }
        if !state.subscriptions.is_empty() {
            pipe.cmd("SADD").arg(&subs).arg(state.subscriptions.iter().collect::<Vec<_>>()).ignore();
        }
        pipe.cmd("PEXPIRE").arg(&hash).arg(self.idle_millis()).ignore();
        pipe.cmd("PEXPIRE").arg(&subs).arg(self.idle_millis()).ignore();
        pipe.exec_async(&mut self.connection.clone()).await
    }

    /// Writes what changed from `before` to `after`; `false` when the session is gone.
    async fn write_delta(&self, id: &str, before: &SessionState, after: &SessionState) -> redis::RedisResult<bool> {
        let (hash, subs) = self.keys(id);
        let initialized = match (before.initialized, after.initialized) {
            (false, true) => "1",
            (true, false) => "0",
            _ => "",
        };
        let level = match after.log_level.filter(|l| Some(*l) != before.log_level) {
            Some(level) => serde_json::to_string(&level).unwrap_or_default(),
            None => String::new(),
        };
        let added: Vec<&String> = after.subscriptions.difference(&before.subscriptions).collect();
        let removed: Vec<&String> = before.subscriptions.difference(&after.subscriptions).collect();
        let mut command = redis::cmd("EVAL");
        command.arg(SAVE_DELTA).arg(2).arg(&hash).arg(&subs);
        command.arg(self.idle_millis()).arg(initialized).arg(level).arg(added.len()).arg(added).arg(removed);
        let applied: i64 = command.query_async(&mut self.connection.clone()).await?;
        Ok(applied == 1)
    }

    /// The stored state; `None` when the session is gone. Renews its idle timeout.
    async fn read(&self, id: &str) -> redis::RedisResult<Option<SessionState>> {
        let (hash, subs) = self.keys(id);
        // One command, not a pipeline: a cluster client retries a command its master's
        // failover refused (`CLUSTERDOWN`), not one inside a pipeline.
        let mut read = redis::cmd("EVAL");
        read.arg(READ).arg(2).arg(&hash).arg(&subs).arg(self.idle_millis());
        // Only an entry that is there: re-entering one here could bring back a session another
        // process just ended. A command of its own, not waited for: in a cluster the index
        // lives in another slot, whose failover must not hold up every read. Its failure
        // costs nothing the next read does not renew.
        self.in_background(self.renew(id, true));
        let (fields, subscriptions): (HashMap<String, Vec<u8>>, BTreeSet<String>) =
            read.query_async(&mut self.connection.clone()).await?;
        let Some(handshake) = fields.get("handshake") else { return Ok(None) };
        let Ok(handshake) = serde_json::from_slice::<Handshake>(handshake) else {
            // The id is a credential: it is never logged.
            tracing::warn!("a session in Redis is not one of ours; treating it as ended");
            return Ok(None);
        };
        let mut state = SessionState::new(handshake.version, Arc::new(handshake.capabilities), handshake.client_info);
        state.owner = handshake.owner;
        state.initialized = fields.get("initialized").is_some_and(|v| v == b"1");
        state.log_level = fields.get("level").and_then(|v| serde_json::from_slice::<LoggingLevel>(v).ok());
        state.subscriptions = Arc::new(subscriptions);
        Ok(Some(state))
    }

    /// Writes what Redis missed of a local session: all of it, or the change it missed.
    async fn settle(&self, id: &str, session: &Session, written: bool, unsaved: Option<SessionState>) {
        let Some(state) = session.state() else { return };
        let result = match (&unsaved, written) {
            (_, false) => match self.write(id, &state).await {
                // Created while Redis was down: the client has it already, so it is entered in
                // the index whatever the count.
                Ok(()) => {
                    let entered: redis::RedisResult<i64> =
                        self.renew(id, false).query_async(&mut self.connection.clone()).await;
                    entered.map(|_| true)
                }
                Err(error) => Err(error),
            },
            (Some(before), true) => self.write_delta(id, before, &state).await,
            (None, true) => return,
        };
        if let Some(local) = self.local().get_mut(id) {
            match result {
                Ok(_) => {
                    local.written = true;
                    local.unsaved = None;
                }
                Err(_) => local.unsaved = local.unsaved.take().or(unsaved),
            }
        }
    }
}

impl SessionStore for RedisSessionStore {
    fn create(&self, session: Arc<Session>) -> BoxFuture<'_, Option<String>> {
        Box::pin(async move {
            let id = new_session_id()?;
            // Kept here first (as not yet in Redis, so it cannot be dropped): a session this
            // process has no room for is refused before Redis counts it.
            let session = self.keep(&id, session, false)?;
            let admitted = self.admit(&id).await;
            if let Ok(false) = admitted {
                self.local().remove(&id);
                crate::limit_reached("redis_max_sessions");
                return None;
            }
            let written = match session.state().filter(|_| admitted.is_ok()) {
                Some(state) => match self.write(&id, &state).await {
                    Ok(()) => true,
                    Err(error) => {
                        tracing::warn!(%error, "session not saved in Redis; only this process can serve it for now");
                        false
                    }
                },
                None => {
                    if let Err(error) = &admitted {
                        tracing::warn!(%error, "session not saved in Redis; only this process can serve it for now");
                    }
                    false
                }
            };
            if written && let Some(local) = self.local().get_mut(&id) {
                local.written = true;
            }
            Some(id)
        })
    }

    fn get<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<Arc<Session>>, SessionStoreError>> {
        Box::pin(async move {
            if !is_session_id(id) {
                return Ok(None);
            }
            let known = self.local().get(id).map(|l| (l.session.clone(), l.written, l.unsaved.clone()));
            if let Some((session, written, unsaved)) = &known
                && (!written || unsaved.is_some())
            {
                self.settle(id, session, *written, unsaved.clone()).await;
            }
            match (self.read(id).await, known) {
                (Ok(Some(state)), Some((session, _, _))) => {
                    let mut local = self.local();
                    if let Some(kept) = local.get_mut(id) {
                        kept.used = Instant::now();
                    }
                    self.keep_headroom(&mut local, id);
                    drop(local);
                    if session.state().as_ref() != Some(&state) {
                        session.replace_state(state);
                    }
                    Ok(Some(session))
                }
                (Ok(Some(state)), None) => {
                    let session = Arc::new(Session::new());
                    session.begin(state);
                    // No room here (every local copy is in use): the client keeps its session
                    // and retries.
                    self.keep(id, session, true).map(Some).ok_or_else(|| {
                        SessionStoreError::new("this process holds as many sessions as it may; retry later")
                    })
                }
                // Still not in Redis (it is failing to write): served from the local copy.
                (Ok(None), Some((session, false, _))) => Ok(Some(session)),
                // Ended (or expired) in Redis: ended here too.
                (Ok(None), _) => {
                    self.local().remove(id);
                    Ok(None)
                }
                (Err(error), Some((session, _, _))) => {
                    tracing::warn!(%error, "cannot read the session from Redis; serving the local copy");
                    Ok(Some(session))
                }
                (Err(error), None) => {
                    Err(SessionStoreError::new(format!("cannot read the session from Redis: {error}")))
                }
            }
        })
    }

    fn remove<'a>(&'a self, id: &'a str) -> BoxFuture<'a, bool> {
        Box::pin(async move {
            if !is_session_id(id) {
                return false;
            }
            let local = self.local().remove(id).is_some();
            let (hash, subs) = self.keys(id);
            // Two commands: in a cluster the index lives in another slot than the session (an
            // entry left there expires from the count by itself).
            let mut unindex = redis::cmd("ZREM");
            unindex.arg(self.index_key()).arg(id);
            self.in_background(unindex);
            let mut delete = redis::cmd("DEL");
            delete.arg(&hash).arg(&subs);
            let deleted: redis::RedisResult<u64> = delete.query_async(&mut self.connection.clone()).await;
            match deleted {
                Ok(n) => n > 0 || local,
                Err(error) => {
                    tracing::warn!(%error, "session not removed from Redis; it expires when idle");
                    local
                }
            }
        })
    }

    fn save<'a>(&'a self, id: &'a str, session: &'a Session, before: &'a SessionState) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let Some(after) = session.state() else { return };
            let written = self.local().get(id).is_none_or(|l| l.written);
            if !written {
                // Redis never had it: the whole state goes when Redis is back.
                return;
            }
            match self.write_delta(id, before, &after).await {
                Ok(true) => {}
                // Ended elsewhere (DELETE through another process, or expired).
                Ok(false) => {
                    self.local().remove(id);
                }
                Err(error) => {
                    tracing::warn!(%error, "session change not saved in Redis yet; it is written again before the next read");
                    if let Some(local) = self.local().get_mut(id) {
                        // The oldest missed state: the delta from it covers every change since.
                        local.unsaved = local.unsaved.take().or_else(|| Some(before.clone()));
                    }
                }
            }
        })
    }
}
