//! Request streams in Redis (for [`RedisEventStore`](super::RedisEventStore)): one Redis stream
//! per POST event stream, under `LOG_KEY:stream:{ID}`, whose entry ids are `0-(SEQ+1)` (so the
//! producer's own order is the log's, and any process replays it), each entry carrying its
//! session (`s`), message (`m`) and, on the last, `e`. The key expires five minutes after the
//! answer (an hour after the newest event while the answer has not come) and keeps the newest
//! `MAX_STREAM_EVENTS` entries within `MAX_STREAM_BYTES`, as the in-memory store does: a
//! counter beside it (`…:bytes`, the same hash tag, so the same cluster slot) holds the bytes
//! its entries carry, and each append drops the oldest past either bound.

use bytes::Bytes;

use super::redis_connection::RedisConnection;
use super::request_streams::{
    MAX_STREAM_BYTES, MAX_STREAM_EVENTS, RequestStream, STREAM_EVENTS_TTL, StreamReplay, UNFINISHED_STREAM_TTL,
    contiguous_after,
};

/// Most entries one `XRANGE` returns at once.
const READ_COUNT: usize = 256;

/// `XRANGE` entries: id and field-value pairs.
type Entries = Vec<(String, Vec<Vec<u8>>)>;

/// The Redis key of request stream `stream` of the log at `log_key`; its byte counter is
/// this with `:bytes` after it.
fn key(log_key: &str, stream: &str) -> String {
    format!("{log_key}:stream:{{{stream}}}")
}

/// Records one event, then drops the oldest while the stream holds more than its most bytes
/// or entries (as the in-memory store does: the newest are kept). KEYS: stream, byte counter.
/// ARGV: entry id, session, message, `1` for the last event ('' otherwise), expiry ms, most
/// bytes, most entries. The message alone fits (larger ones never reach Redis).
const APPEND: &str = r"
if ARGV[4] == '1' then
  redis.call('XADD', KEYS[1], ARGV[1], 's', ARGV[2], 'm', ARGV[3], 'e', '1')
else
  redis.call('XADD', KEYS[1], ARGV[1], 's', ARGV[2], 'm', ARGV[3])
end
local total = redis.call('INCRBY', KEYS[2], string.len(ARGV[3]))
while total > tonumber(ARGV[6]) or redis.call('XLEN', KEYS[1]) > tonumber(ARGV[7]) do
  local oldest = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', 1)[1]
  if not oldest then break end
  local size = 0
  local fields = oldest[2]
  for i = 1, #fields, 2 do
    if fields[i] == 'm' then size = string.len(fields[i + 1]) end
  end
  redis.call('XDEL', KEYS[1], oldest[1])
  total = redis.call('DECRBY', KEYS[2], size)
end
redis.call('PEXPIRE', KEYS[1], ARGV[5])
redis.call('PEXPIRE', KEYS[2], ARGV[5])
return 1
";

/// Records event `seq` of `stream` (`Ok(true)`), dropping its oldest events past the bounds.
pub(super) async fn append(
    connection: &mut RedisConnection,
    log_key: &str,
    stream: &RequestStream,
    seq: u64,
    message: &[u8],
    end: bool,
) -> redis::RedisResult<bool> {
    let key = key(log_key, &stream.id);
    let ttl = if end { STREAM_EVENTS_TTL } else { UNFINISHED_STREAM_TTL };
    let ttl = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX);
    // One script: a key is never left without its expiry, nor the counter out of step.
    let mut append = redis::cmd("EVAL");
    append.arg(APPEND).arg(2).arg(&key).arg(format!("{key}:bytes"));
    append.arg(format!("0-{}", seq + 1)).arg(&stream.session).arg(message).arg(if end { "1" } else { "" });
    append.arg(ttl).arg(MAX_STREAM_BYTES).arg(MAX_STREAM_EVENTS);
    let recorded: i64 = append.query_async(connection).await?;
    Ok(recorded == 1)
}

/// The events of `stream` after `after`; `Ok(None)` when the stream is unknown, or no longer
/// holds every event after `after`.
pub(super) async fn replay_after(
    connection: &mut RedisConnection,
    log_key: &str,
    stream: &str,
    after: u64,
) -> redis::RedisResult<Option<StreamReplay>> {
    let key = key(log_key, stream);
    let newest: Entries =
        redis::cmd("XREVRANGE").arg(&key).arg("+").arg("-").arg("COUNT").arg(1).query_async(connection).await?;
    let Some((newest_id, newest_fields)) = newest.into_iter().next() else { return Ok(None) };
    let (Some(newest_seq), Some(session)) = (seq_of(&newest_id), field(&newest_fields, b"s")) else {
        return Ok(None);
    };
    let session = String::from_utf8_lossy(session).into_owned();
    let ended = field(&newest_fields, b"e").is_some();
    // A position the stream never reached is not one of its ids.
    if after > newest_seq {
        return Ok(None);
    }
    let mut events = Vec::new();
    let mut from = format!("0-{}", after.saturating_add(1));
    // Nothing newer than `after`: nothing to read.
    let mut more = newest_seq > after;
    while more {
        // `(` makes the start exclusive: only what came after the client's last event.
        let entries: Entries = redis::cmd("XRANGE")
            .arg(&key)
            .arg(format!("({from}"))
            .arg("+")
            .arg("COUNT")
            .arg(READ_COUNT)
            .query_async(connection)
            .await?;
        let full = entries.len() == READ_COUNT;
        for (id, fields) in entries {
            let (Some(seq), Some(message)) = (seq_of(&id), field(&fields, b"m")) else { return Ok(None) };
            events.push((seq, Bytes::from(message.clone())));
            from = id;
        }
        // The stream is bounded, so this ends.
        more = full;
    }
    if !contiguous_after(after, &events) {
        return Ok(None);
    }
    Ok(Some(StreamReplay::new(session, events, ended)))
}

/// Deletes request stream `stream` of the log at `log_key`.
pub(super) async fn forget(connection: &mut RedisConnection, log_key: &str, stream: &str) -> redis::RedisResult<()> {
    let key = key(log_key, stream);
    redis::cmd("DEL").arg(&key).arg(format!("{key}:bytes")).exec_async(connection).await
}

/// The sequence number of entry id `0-(SEQ+1)`.
fn seq_of(id: &str) -> Option<u64> {
    id.strip_prefix("0-")?.parse::<u64>().ok()?.checked_sub(1)
}

fn field<'a>(fields: &'a [Vec<u8>], name: &[u8]) -> Option<&'a Vec<u8>> {
    fields.chunks(2).find(|pair| pair[0] == name).and_then(|pair| pair.get(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_ids_carry_the_sequence_number() {
        assert_eq!(seq_of("0-1"), Some(0));
        assert_eq!(seq_of("0-42"), Some(41));
        assert_eq!(seq_of("0-0"), None);
        assert_eq!(seq_of("1700000000000-1"), None);
        assert_eq!(key("mcp:events", "ab"), "mcp:events:stream:{ab}");
    }
}
