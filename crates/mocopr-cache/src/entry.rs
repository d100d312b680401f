//! Stored entries: the core's binary [`CacheEntryHeader`] (format version, expiry, encoding,
//! length) in front of the value, which is an LZ4 block when the value was at least the
//! compression threshold and compressing made it smaller.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use mocopr_core::binary::{BinaryError, CacheEntryHeader, ValueEncoding, encode_cache_entry, split_cache_entry};

/// Why stored bytes could not be read back.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EntryError {
    /// The header is malformed or from another format version.
    #[error(transparent)]
    Header(#[from] BinaryError),
    /// The LZ4 block does not decompress to the declared length.
    #[error("the compressed value is corrupt: {0}")]
    Corrupt(String),
}

/// Milliseconds since the Unix epoch, now.
pub fn now_unix_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// The stored form of `value`, expiring `ttl` from now; compressed when it is at least
/// `threshold` bytes and compression helps.
pub fn encode(value: &[u8], ttl: Duration, threshold: usize) -> Result<Vec<u8>, BinaryError> {
    let expires = now_unix_ms().saturating_add(u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX));
    let length = u32::try_from(value.len())
        .map_err(|_| BinaryError::RecordTooLarge { size: value.len(), limit: mocopr_core::binary::MAX_RECORD_SIZE })?;
    let mut out = Vec::with_capacity(value.len() / 2 + 16);
    if value.len() >= threshold {
        let compressed = lz4_flex::block::compress(value);
        if compressed.len() < value.len() {
            encode_cache_entry(&CacheEntryHeader::new(expires, ValueEncoding::Lz4, length), &compressed, &mut out)?;
            return Ok(out);
        }
    }
    encode_cache_entry(&CacheEntryHeader::new(expires, ValueEncoding::Plain, length), value, &mut out)?;
    Ok(out)
}

/// A value read back, with its expiry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded {
    /// The value.
    pub value: Bytes,
    /// When it expires, in milliseconds since the Unix epoch.
    pub expires_at_unix_ms: u64,
}

impl Decoded {
    /// The time left before expiry (zero when expired).
    pub fn remaining(&self) -> Duration {
        Duration::from_millis(self.expires_at_unix_ms.saturating_sub(now_unix_ms()))
    }
}

/// Reads a stored entry back; a value declared larger than `max_len` is refused before any
/// memory is set aside for it (corrupt or hostile bytes cannot make it allocate gigabytes).
pub fn decode(stored: &[u8], max_len: usize) -> Result<Decoded, EntryError> {
    let (header, payload) = split_cache_entry(stored)?;
    if header.uncompressed_len as usize > max_len {
        return Err(EntryError::Corrupt(format!(
            "{} bytes declared, at most {max_len} allowed",
            header.uncompressed_len
        )));
    }
    let value = match header.encoding {
        ValueEncoding::Lz4 => {
            let value = lz4_flex::block::decompress(payload, header.uncompressed_len as usize)
                .map_err(|e| EntryError::Corrupt(e.to_string()))?;
            if value.len() != header.uncompressed_len as usize {
                return Err(EntryError::Corrupt(format!(
                    "{} bytes, {} declared",
                    value.len(),
                    header.uncompressed_len
                )));
            }
            Bytes::from(value)
        }
        _ => Bytes::copy_from_slice(payload),
    };
    Ok(Decoded { value, expires_at_unix_ms: header.expires_at_unix_ms })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_values_stay_plain_and_large_ones_are_compressed() {
        let small = br#"{"a":1}"#;
        let stored = encode(small, Duration::from_secs(60), 1024).expect("encode");
        let (header, _) = split_cache_entry(&stored).expect("header");
        assert_eq!(header.encoding, ValueEncoding::Plain);
        assert_eq!(decode(&stored, 1 << 20).expect("decode").value.as_ref(), small);

        let large = "x".repeat(100_000);
        let stored = encode(large.as_bytes(), Duration::from_secs(60), 1024).expect("encode");
        let (header, _) = split_cache_entry(&stored).expect("header");
        assert_eq!(header.encoding, ValueEncoding::Lz4);
        assert!(stored.len() < 1_000, "compressed: {} bytes", stored.len());
        let decoded = decode(&stored, 1 << 20).expect("decode");
        assert!(decode(&stored, 1000).is_err(), "larger than allowed");
        assert_eq!(decoded.value.as_ref(), large.as_bytes());
        assert!(decoded.remaining() > Duration::from_secs(55));
    }

    #[test]
    fn corrupt_entries_fail_cleanly() {
        let stored = encode("y".repeat(10_000).as_bytes(), Duration::from_secs(60), 16).expect("encode");
        let mut broken = stored.clone();
        let last = broken.len() - 1;
        broken.truncate(last / 2);
        assert!(decode(&broken, 1 << 20).is_err());
        assert!(decode(&[], 1 << 20).is_err());
        assert!(decode(&[9, 9, 9], 1 << 20).is_err(), "an unknown format version");
    }
}
