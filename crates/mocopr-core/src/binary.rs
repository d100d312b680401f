//! Fixed-layout binary records for internal storage (caches, event logs).
//!
//! Some MoCoPr components persist small internal records: cache entries and
//! the JSON-RPC messages an event store keeps per stream. Those records use
//! bincode 2 rather than JSON for compactness, and every crate must agree on
//! one wire configuration or stored bytes become unreadable. This module is
//! the single place that configuration lives; all encoding and decoding of
//! such records goes through [`encode_record`] and [`decode_record`].
//!
//! bincode is not self-describing, so it cannot carry `serde_json::Value`;
//! JSON payloads are stored as already-serialized bytes instead. Decoding is
//! hardened for corrupt input: a size limit caps how much a length prefix may
//! claim, so garbage fails cleanly instead of exhausting memory.

use bincode::config::{Configuration, Limit, LittleEndian, Varint};
use bincode::error::DecodeError;
use bincode::{Decode, Encode};

/// Largest record, in encoded bytes, that may be written or decoded.
pub const MAX_RECORD_SIZE: usize = 64 * 1024 * 1024;

/// Current [`CacheEntryHeader::format_version`]; bump it whenever the header
/// layout changes so old entries are rejected rather than misread.
pub const CACHE_ENTRY_FORMAT_VERSION: u8 = 1;

/// The one bincode configuration: standard, little endian, variable-length
/// integers, and a cap on the bytes a record may claim while decoding.
const CONFIG: Configuration<LittleEndian, Varint, Limit<MAX_RECORD_SIZE>> =
    bincode::config::standard().with_little_endian().with_variable_int_encoding().with_limit::<MAX_RECORD_SIZE>();

/// Why a record could not be encoded or decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BinaryError {
    /// The encoded record would exceed [`MAX_RECORD_SIZE`].
    #[error("record of {size} bytes exceeds the limit of {limit} bytes")]
    RecordTooLarge {
        /// Encoded size in bytes.
        size: usize,
        /// The limit in bytes.
        limit: usize,
    },
    /// The input ended in the middle of a record.
    #[error("record is truncated; at least {additional} more bytes were needed")]
    Truncated {
        /// Minimum number of missing bytes.
        additional: usize,
    },
    /// Length prefixes in the input claim more than the size limit.
    #[error("record claims more than {limit} bytes of content")]
    LimitExceeded {
        /// The limit in bytes.
        limit: usize,
    },
    /// An enum discriminant is not one this build knows.
    #[error("unknown variant {found} for {type_name}")]
    UnknownVariant {
        /// Name of the enum being decoded.
        type_name: &'static str,
        /// The discriminant found.
        found: u32,
    },
    /// A string field holds invalid UTF-8.
    #[error("string field is not UTF-8 (valid up to byte {valid_up_to})")]
    InvalidUtf8 {
        /// Number of leading bytes that formed valid UTF-8.
        valid_up_to: usize,
    },
    /// A boolean field holds a byte other than 0 or 1.
    #[error("boolean field holds {value}")]
    InvalidBool {
        /// The byte found.
        value: u8,
    },
    /// An integer is malformed or does not fit its target type.
    #[error("integer field is malformed or out of range")]
    InvalidInteger,
    /// The input is malformed in some other way.
    #[error("record bytes are malformed")]
    Malformed,
    /// The record's own `Encode` implementation failed.
    #[error("record could not be encoded")]
    EncodeFailed,
    /// A cache entry was written with a layout this build does not read.
    #[error("cache entry format version {found} is not supported (expected {supported})")]
    UnsupportedFormatVersion {
        /// Version byte found.
        found: u8,
        /// Version this build reads and writes.
        supported: u8,
    },
    /// A [`ValueEncoding::Plain`] entry's payload length disagrees with its
    /// header.
    #[error("plain cache entry declares {declared} bytes but carries {actual}")]
    PayloadLengthMismatch {
        /// Length declared in the header.
        declared: u32,
        /// Length of the payload present.
        actual: usize,
    },
}

fn map_decode_error(error: DecodeError) -> BinaryError {
    match error {
        DecodeError::UnexpectedEnd { additional } => BinaryError::Truncated { additional },
        DecodeError::LimitExceeded => BinaryError::LimitExceeded { limit: MAX_RECORD_SIZE },
        DecodeError::UnexpectedVariant { type_name, found, .. } => BinaryError::UnknownVariant { type_name, found },
        DecodeError::Utf8 { inner } => BinaryError::InvalidUtf8 { valid_up_to: inner.valid_up_to() },
        DecodeError::InvalidBooleanValue(value) => BinaryError::InvalidBool { value },
        DecodeError::InvalidIntegerType { .. }
        | DecodeError::OutsideUsizeRange(_)
        | DecodeError::NonZeroTypeIsZero { .. } => BinaryError::InvalidInteger,
        _ => BinaryError::Malformed,
    }
}

/// Appends the encoding of `record` to `out`.
///
/// On error `out` is left as it was.
pub fn encode_record<T: Encode>(record: &T, out: &mut Vec<u8>) -> Result<(), BinaryError> {
    let start = out.len();
    let result = bincode::encode_into_std_write(record, out, CONFIG);
    let size = out.len().saturating_sub(start);
    let error = match result {
        Ok(_) if size <= MAX_RECORD_SIZE => return Ok(()),
        Ok(_) => BinaryError::RecordTooLarge { size, limit: MAX_RECORD_SIZE },
        Err(_) => BinaryError::EncodeFailed,
    };
    out.truncate(start);
    Err(error)
}

/// Decodes one record from the front of `bytes`.
///
/// Returns the record and the number of bytes it occupied, so records can be
/// stored back to back. A corrupt length prefix may cause one transient
/// allocation of at most [`MAX_RECORD_SIZE`] bytes before it is detected.
pub fn decode_record<T: Decode<()>>(bytes: &[u8]) -> Result<(T, usize), BinaryError> {
    bincode::decode_from_slice(bytes, CONFIG).map_err(map_decode_error)
}

/// How a cache entry's payload is stored.
#[derive(Encode, Decode, Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ValueEncoding {
    /// The payload is the value itself.
    Plain,
    /// The payload is an LZ4 block; decompressed it has
    /// [`CacheEntryHeader::uncompressed_len`] bytes.
    Lz4,
}

/// Header stored in front of every cache entry's payload.
#[derive(Encode, Decode, Debug, Clone, PartialEq, Eq)]
pub struct CacheEntryHeader {
    /// Layout version; always the first byte of the entry.
    pub format_version: u8,
    /// Expiry as milliseconds since the Unix epoch.
    pub expires_at_unix_ms: u64,
    /// How the payload is stored.
    pub encoding: ValueEncoding,
    /// Length of the value once decoded; equals the payload length for
    /// [`ValueEncoding::Plain`].
    pub uncompressed_len: u32,
}

impl CacheEntryHeader {
    /// A header for the current format version.
    pub fn new(expires_at_unix_ms: u64, encoding: ValueEncoding, uncompressed_len: u32) -> Self {
        Self { format_version: CACHE_ENTRY_FORMAT_VERSION, expires_at_unix_ms, encoding, uncompressed_len }
    }

    /// Checks the invariants shared by writing and reading an entry.
    fn check(&self, payload: &[u8]) -> Result<(), BinaryError> {
        if self.format_version != CACHE_ENTRY_FORMAT_VERSION {
            return Err(BinaryError::UnsupportedFormatVersion {
                found: self.format_version,
                supported: CACHE_ENTRY_FORMAT_VERSION,
            });
        }
        let plain = self.encoding == ValueEncoding::Plain;
        if plain && u64::from(self.uncompressed_len) != payload.len() as u64 {
            return Err(BinaryError::PayloadLengthMismatch { declared: self.uncompressed_len, actual: payload.len() });
        }
        Ok(())
    }
}

/// Appends `header ++ payload` to `out`, the layout [`split_cache_entry`]
/// reads. On error `out` is left as it was.
pub fn encode_cache_entry(header: &CacheEntryHeader, payload: &[u8], out: &mut Vec<u8>) -> Result<(), BinaryError> {
    header.check(payload)?;
    let start = out.len();
    encode_record(header, out)?;
    let size = out.len().saturating_sub(start).saturating_add(payload.len());
    if size > MAX_RECORD_SIZE {
        out.truncate(start);
        return Err(BinaryError::RecordTooLarge { size, limit: MAX_RECORD_SIZE });
    }
    out.extend_from_slice(payload);
    Ok(())
}

/// Splits a stored cache entry into its header and payload.
///
/// The version byte is checked before anything else is decoded, so a future
/// layout is reported as [`BinaryError::UnsupportedFormatVersion`] instead of
/// being misread.
pub fn split_cache_entry(bytes: &[u8]) -> Result<(CacheEntryHeader, &[u8]), BinaryError> {
    match bytes.first() {
        None => return Err(BinaryError::Truncated { additional: 1 }),
        Some(&found) if found != CACHE_ENTRY_FORMAT_VERSION => {
            return Err(BinaryError::UnsupportedFormatVersion { found, supported: CACHE_ENTRY_FORMAT_VERSION });
        }
        Some(_) => {}
    }
    let (header, used) = decode_record::<CacheEntryHeader>(bytes)?;
    let payload = bytes.get(used..).ok_or(BinaryError::Malformed)?;
    header.check(payload)?;
    Ok((header, payload))
}

/// One message kept by an event store, addressed by stream and sequence.
#[derive(Encode, Decode, Debug, Clone, PartialEq, Eq)]
pub struct StoredEvent {
    /// The stream the message was sent on.
    pub stream_id: String,
    /// Position of the message within its stream.
    pub sequence: u64,
    /// The serialized JSON-RPC message bytes.
    pub message: Vec<u8>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn event() -> StoredEvent {
        StoredEvent {
            stream_id: "stream-1".into(),
            sequence: 300,
            message: br#"{"jsonrpc":"2.0","method":"x"}"#.to_vec(),
        }
    }

    #[test]
    fn header_layout_is_stable() {
        let mut out = Vec::new();
        let header = CacheEntryHeader::new(1000, ValueEncoding::Lz4, 300);
        assert_eq!(encode_record(&header, &mut out), Ok(()));
        // version, varint 1000, variant 1, varint 300: pins endianness and
        // integer encoding so a config change cannot slip through.
        assert_eq!(out, [1, 251, 0xE8, 0x03, 1, 251, 0x2C, 0x01]);
    }

    #[test]
    fn decode_reports_consumed_bytes() {
        let mut out = Vec::new();
        assert_eq!(encode_record(&event(), &mut out), Ok(()));
        let len = out.len();
        assert_eq!(encode_record(&event(), &mut out), Ok(()));
        assert_eq!(decode_record::<StoredEvent>(&out), Ok((event(), len)));
        assert_eq!(decode_record::<StoredEvent>(&out[len..]), Ok((event(), len)));
    }

    #[test]
    fn every_truncation_is_an_error() {
        let mut out = Vec::new();
        assert_eq!(encode_record(&event(), &mut out), Ok(()));
        for cut in 0..out.len() {
            let result = decode_record::<StoredEvent>(&out[..cut]);
            assert!(matches!(result, Err(BinaryError::Truncated { .. })), "cut {cut}: {result:?}");
        }
    }

    #[test]
    fn corrupt_fields_are_typed_errors() {
        // stream_id length claims 2^40 bytes.
        let huge = [253, 0, 0, 0, 0, 0, 1, 0, 0];
        assert_eq!(decode_record::<StoredEvent>(&huge), Err(BinaryError::LimitExceeded { limit: MAX_RECORD_SIZE }));
        let bad_utf8 = [2, b'a', 0xFF, 0, 0];
        assert_eq!(decode_record::<StoredEvent>(&bad_utf8), Err(BinaryError::InvalidUtf8 { valid_up_to: 1 }));
        let bad_variant = [1, 0, 7, 0];
        assert!(matches!(split_cache_entry(&bad_variant), Err(BinaryError::UnknownVariant { found: 7, .. })));
    }

    #[test]
    fn cache_entry_round_trip_and_checks() {
        let header = CacheEntryHeader::new(42, ValueEncoding::Plain, 5);
        let mut out = Vec::new();
        assert_eq!(encode_cache_entry(&header, b"hello", &mut out), Ok(()));
        assert_eq!(split_cache_entry(&out), Ok((header.clone(), &b"hello"[..])));
        assert_eq!(
            split_cache_entry(&out[..out.len() - 1]),
            Err(BinaryError::PayloadLengthMismatch { declared: 5, actual: 4 })
        );
        let mut wrong = Vec::new();
        assert_eq!(
            encode_cache_entry(&header, b"hi", &mut wrong),
            Err(BinaryError::PayloadLengthMismatch { declared: 5, actual: 2 })
        );
        assert!(wrong.is_empty());
    }

    #[test]
    fn unknown_versions_are_rejected_both_ways() {
        assert_eq!(split_cache_entry(&[]), Err(BinaryError::Truncated { additional: 1 }));
        for found in [0u8, 2, 255] {
            let error = BinaryError::UnsupportedFormatVersion { found, supported: 1 };
            assert_eq!(split_cache_entry(&[found, 0, 0, 0]), Err(error.clone()));
            let header = CacheEntryHeader { format_version: found, ..CacheEntryHeader::new(0, ValueEncoding::Lz4, 0) };
            let mut out = Vec::new();
            assert_eq!(encode_cache_entry(&header, b"", &mut out), Err(error));
            assert!(out.is_empty());
        }
    }

    #[test]
    fn oversized_records_are_refused_without_output() {
        let big = StoredEvent { message: vec![0; MAX_RECORD_SIZE], ..event() };
        let mut out = vec![9];
        let result = encode_record(&big, &mut out);
        assert!(matches!(result, Err(BinaryError::RecordTooLarge { size, .. }) if size > MAX_RECORD_SIZE));
        assert_eq!(out, [9]);
    }

    fn encoding() -> impl Strategy<Value = ValueEncoding> {
        prop_oneof![Just(ValueEncoding::Plain), Just(ValueEncoding::Lz4)]
    }

    proptest! {
        #[test]
        fn stored_events_round_trip(stream_id in any::<String>(), sequence in any::<u64>(),
            message in proptest::collection::vec(any::<u8>(), 0..300)) {
            let record = StoredEvent { stream_id, sequence, message };
            let mut out = Vec::new();
            prop_assert_eq!(encode_record(&record, &mut out), Ok(()));
            prop_assert_eq!(decode_record::<StoredEvent>(&out), Ok((record, out.len())));
        }

        #[test]
        fn cache_entries_round_trip(expires in any::<u64>(), encoding in encoding(),
            payload in proptest::collection::vec(any::<u8>(), 0..300), len in any::<u32>()) {
            let declared = if encoding == ValueEncoding::Plain { payload.len() as u32 } else { len };
            let header = CacheEntryHeader::new(expires, encoding, declared);
            let mut out = Vec::new();
            prop_assert_eq!(encode_cache_entry(&header, &payload, &mut out), Ok(()));
            prop_assert_eq!(split_cache_entry(&out), Ok((header, payload.as_slice())));
        }

        #[test]
        fn garbage_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            if let Ok((_, used)) = decode_record::<StoredEvent>(&bytes) {
                prop_assert!(used <= bytes.len());
            }
            if let Ok((_, used)) = decode_record::<CacheEntryHeader>(&bytes) {
                prop_assert!(used <= bytes.len());
            }
            if let Ok((header, payload)) = split_cache_entry(&bytes) {
                prop_assert_eq!(header.format_version, CACHE_ENTRY_FORMAT_VERSION);
                prop_assert!(payload.len() <= bytes.len());
            }
        }
    }
}
