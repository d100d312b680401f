//! Request streams in Redis (for [`RedisEventStore`](super::RedisEventStore)): one Redis stream
//! per POST event stream, under `LOG_KEY:stream:ID`, whose entry ids are `0-(SEQ+1)` (so the
//! producer's own order is the log's, and any process replays it), each entry carrying its
//! session (`s`), message (`m`) and, on the last, `e`. The key expires five minutes after the
//! answer (an hour after the newest event while the answer has not come), keeps at most about
//! `MAX_STREAM_EVENTS` entries, and takes no message over `MAX_STREAM_BYTES`.

use bytes::Bytes;

use super::redis_connection::RedisConnection;
use super::request_streams::{
    MAX_STREAM_EVENTS, RequestStream, STREAM_EVENTS_TTL, StreamReplay, UNFINISHED_STREAM_TTL, contiguous_after,
};

/// Most entries one `XRANGE` returns at once.
const READ_COUNT: usize = 256;

/// `XRANGE` entries: id and field-value pairs.
type Entries = Vec<(String, Vec<Vec<u8>>)>;

/// The Redis key of request stream `stream` of the log at `log_key`.
fn key(log_key: &str, stream: &str) -> String {
    format!("{log_key}:stream:{stream}")
}

/// Records event `seq` of `stream`.
pub(super) async fn append(
    connection: &mut RedisConnection,
    log_key: &str,
    stream: &RequestStream,
    seq: u64,
    message: &[u8],
    end: bool,
) -> redis::RedisResult<()> {
    let key = key(log_key, &stream.id);
    let mut add = redis::cmd("XADD");
    add.arg(&key).arg("MAXLEN").arg("~").arg(MAX_STREAM_EVENTS).arg(format!("0-{}", seq + 1));
    add.arg("s").arg(&stream.session).arg("m").arg(message);
    if end {
        add.arg("e").arg(1);
    }
    let ttl = if end { STREAM_EVENTS_TTL } else { UNFINISHED_STREAM_TTL };
    let ttl = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX);
    // One transaction: a key is never left without its expiry.
    redis::pipe()
        .atomic()
        .add_command(add)
        .ignore()
        .cmd("PEXPIRE")
        .arg(&key)
        .arg(ttl)
        .ignore()
        .exec_async(connection)
        .await
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
        assert_eq!(key("mcp:events", "ab"), "mcp:events:stream:ab");
    }
}
