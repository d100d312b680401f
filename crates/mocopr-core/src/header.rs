//! HTTP header value encoding for MCP request metadata headers.
//!
//! The Streamable HTTP transport mirrors body fields such as `params.name`
//! (`Mcp-Name`) and `x-mcp-header` tool parameters (`Mcp-Param-{Name}`) into
//! HTTP headers so intermediaries can route without parsing the body. RFC 9110
//! only allows visible ASCII, space and horizontal tab in a field value, so
//! the MCP specification (revision 2026-07-28, "Value Encoding") defines a
//! Base64 sentinel form `=?base64?{base64}?=` for values that cannot travel as
//! plain ASCII. Both directions live in one module so the client that encodes
//! and the server that compares can never disagree about the rule.

use std::borrow::Cow;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

/// Marker that opens a Base64-encoded header value; case-sensitive per spec.
pub const SENTINEL_PREFIX: &str = "=?base64?";

/// Marker that closes a Base64-encoded header value; case-sensitive per spec.
pub const SENTINEL_SUFFIX: &str = "?=";

/// Why a raw header value could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HeaderValueError {
    /// The raw value holds a character RFC 9110 (and therefore MCP) does not
    /// allow in a field value: a control character or anything non-ASCII.
    #[error("header value contains disallowed character {character:?} at byte offset {offset}")]
    InvalidCharacter {
        /// Byte offset of the offending character in the raw value.
        offset: usize,
        /// The offending character.
        character: char,
    },
    /// The value starts with the prefix and ends with the suffix, but they
    /// overlap, so there is no payload slot between them.
    #[error("header value of {length} bytes matches the sentinel pattern but has no payload slot")]
    MalformedSentinel {
        /// Length of the raw value in bytes.
        length: usize,
    },
    /// The sentinel payload is not canonical standard Base64.
    #[error("sentinel-encoded header value carries invalid base64")]
    InvalidBase64 {
        /// The underlying Base64 decoding failure.
        #[source]
        source: base64::DecodeError,
    },
    /// The Base64 payload decoded to bytes that are not UTF-8.
    #[error("sentinel-encoded header value is not UTF-8 (valid up to byte {valid_up_to})")]
    InvalidUtf8 {
        /// Number of leading bytes that formed valid UTF-8.
        valid_up_to: usize,
    },
}

/// RFC 9110 field-value characters: HTAB, SP and VCHAR (0x21-0x7E).
fn is_field_value_char(c: char) -> bool {
    c == '\t' || (' '..='~').contains(&c)
}

/// Whether a value has the shape the spec reserves for encoded values.
///
/// Overlapping markers (`=?base64?=`) count: the spec's test is only "starts
/// with `=?base64?` and ends with `?=`", and such a value must not be sent raw.
fn looks_like_sentinel(value: &str) -> bool {
    value.starts_with(SENTINEL_PREFIX) && value.ends_with(SENTINEL_SUFFIX)
}

/// Whether `value` may be sent as a plain header value without encoding.
///
/// True when every character is HTAB, SP or visible ASCII, the value neither
/// starts nor ends with whitespace (HTTP parsers strip it, which would change
/// the value), and it does not look like the Base64 sentinel. The empty string
/// is plain-safe: the spec lists no reason to encode it.
pub fn is_plain_header_safe(value: &str) -> bool {
    let edge_is_space = |c: Option<char>| matches!(c, Some(' ' | '\t'));
    value.chars().all(is_field_value_char)
        && !edge_is_space(value.chars().next())
        && !edge_is_space(value.chars().next_back())
        && !looks_like_sentinel(value)
}

/// Encodes a value for an `Mcp-Name` or `Mcp-Param-*` header.
///
/// Returns the value unchanged when [`is_plain_header_safe`] holds, and the
/// sentinel form `=?base64?{standard base64 of the UTF-8 bytes}?=` otherwise.
pub fn encode_header_value(value: &str) -> Cow<'_, str> {
    if is_plain_header_safe(value) {
        return Cow::Borrowed(value);
    }
    let payload = STANDARD.encode(value.as_bytes());
    let mut out = String::with_capacity(SENTINEL_PREFIX.len() + payload.len() + SENTINEL_SUFFIX.len());
    out.push_str(SENTINEL_PREFIX);
    out.push_str(&payload);
    out.push_str(SENTINEL_SUFFIX);
    Cow::Owned(out)
}

/// Decodes a received `Mcp-Name` or `Mcp-Param-*` header value.
///
/// The raw value is first checked for characters that are never legal in a
/// header value (servers MUST reject those). A value carrying the exact,
/// lowercase sentinel markers is then Base64-decoded and must yield UTF-8;
/// any other value is returned unchanged.
pub fn decode_header_value(raw: &str) -> Result<Cow<'_, str>, HeaderValueError> {
    if let Some((offset, character)) = raw.char_indices().find(|&(_, c)| !is_field_value_char(c)) {
        return Err(HeaderValueError::InvalidCharacter { offset, character });
    }
    if !looks_like_sentinel(raw) {
        return Ok(Cow::Borrowed(raw));
    }
    let payload = raw
        .strip_prefix(SENTINEL_PREFIX)
        .and_then(|rest| rest.strip_suffix(SENTINEL_SUFFIX))
        .ok_or(HeaderValueError::MalformedSentinel { length: raw.len() })?;
    let bytes = STANDARD.decode(payload).map_err(|source| HeaderValueError::InvalidBase64 { source })?;
    String::from_utf8(bytes)
        .map(Cow::Owned)
        .map_err(|e| HeaderValueError::InvalidUtf8 { valid_up_to: e.utf8_error().valid_up_to() })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The encoding table from the specification's "Value Encoding" section.
    const SPEC_EXAMPLES: &[(&str, &str)] = &[
        ("us-west1", "us-west1"),
        ("Hello, 世界", "=?base64?SGVsbG8sIOS4lueVjA==?="),
        (" padded ", "=?base64?IHBhZGRlZCA=?="),
        ("line1\nline2", "=?base64?bGluZTEKbGluZTI=?="),
        ("=?base64?literal?=", "=?base64?PT9iYXNlNjQ/bGl0ZXJhbD89?="),
    ];

    fn assert_header_safe(encoded: &str) {
        assert!(encoded.chars().all(is_field_value_char), "{encoded:?}");
        assert!(!encoded.starts_with([' ', '\t']), "{encoded:?}");
        assert!(!encoded.ends_with([' ', '\t']), "{encoded:?}");
    }

    #[test]
    fn spec_examples_encode_exactly() {
        for (plain, encoded) in SPEC_EXAMPLES {
            assert_eq!(encode_header_value(plain), *encoded, "encoding {plain:?}");
        }
    }

    #[test]
    fn spec_examples_decode_exactly() {
        for (plain, encoded) in SPEC_EXAMPLES {
            assert_eq!(decode_header_value(encoded).as_deref(), Ok(*plain));
        }
    }

    #[test]
    fn plain_values_are_borrowed() {
        assert!(matches!(encode_header_value("get_weather"), Cow::Borrowed(_)));
        assert!(matches!(decode_header_value("file:///a b.json"), Ok(Cow::Borrowed("file:///a b.json"))));
    }

    #[test]
    fn interior_whitespace_stays_plain_edges_do_not() {
        assert_eq!(encode_header_value("a b\tc"), "a b\tc");
        for v in ["\ta", "a\t", " a", "a ", " ", "\t"] {
            assert!(encode_header_value(v).starts_with(SENTINEL_PREFIX), "{v:?}");
        }
    }

    #[test]
    fn controls_and_non_ascii_are_encoded() {
        for v in ["a\0b", "a\rb", "del\u{7f}", "c1\u{85}", "é", "tab\u{b}"] {
            let encoded = encode_header_value(v);
            assert!(encoded.starts_with(SENTINEL_PREFIX), "{v:?}");
            assert_eq!(decode_header_value(&encoded).as_deref(), Ok(v));
        }
    }

    #[test]
    fn empty_value_is_plain() {
        assert_eq!(encode_header_value(""), "");
        assert_eq!(decode_header_value("").as_deref(), Ok(""));
    }

    #[test]
    fn sentinel_lookalikes_are_encoded_even_when_overlapping() {
        for v in ["=?base64?=", "=?base64??=", "=?base64?SGk=?="] {
            let encoded = encode_header_value(v);
            assert_ne!(encoded, v);
            assert_eq!(decode_header_value(&encoded).as_deref(), Ok(v));
        }
    }

    #[test]
    fn markers_are_case_sensitive() {
        assert_eq!(encode_header_value("=?BASE64?SGk=?="), "=?BASE64?SGk=?=");
        assert_eq!(decode_header_value("=?BASE64?SGk=?=").as_deref(), Ok("=?BASE64?SGk=?="));
    }

    #[test]
    fn decode_rejects_illegal_raw_characters() {
        for (raw, offset, character) in [
            ("a\rb", 1, '\r'),
            ("a\nb", 1, '\n'),
            ("\0", 0, '\0'),
            ("x\u{7f}", 1, '\u{7f}'),
            ("ab\u{1b}", 2, '\u{1b}'),
            ("é", 0, 'é'),
        ] {
            assert_eq!(decode_header_value(raw), Err(HeaderValueError::InvalidCharacter { offset, character }));
        }
    }

    #[test]
    fn decode_rejects_overlapping_markers() {
        assert_eq!(decode_header_value("=?base64?="), Err(HeaderValueError::MalformedSentinel { length: 10 }));
    }

    #[test]
    fn decode_rejects_bad_base64() {
        for raw in ["=?base64?###?=", "=?base64?SGk?=", "=?base64? SGk=?=", "=?base64?S?="] {
            assert!(matches!(decode_header_value(raw), Err(HeaderValueError::InvalidBase64 { .. })), "{raw:?}");
        }
    }

    #[test]
    fn decode_rejects_non_utf8_payload() {
        // "/w==" is the single byte 0xFF, which never starts a UTF-8 sequence.
        assert_eq!(decode_header_value("=?base64?/w==?="), Err(HeaderValueError::InvalidUtf8 { valid_up_to: 0 }));
        // "YWL/" is "ab" followed by 0xFF.
        assert_eq!(decode_header_value("=?base64?YWL/?="), Err(HeaderValueError::InvalidUtf8 { valid_up_to: 2 }));
    }

    #[test]
    fn decode_accepts_unnecessary_encoding() {
        assert_eq!(decode_header_value("=?base64?YWJj?=").as_deref(), Ok("abc"));
        assert_eq!(decode_header_value("=?base64??=").as_deref(), Ok(""));
    }

    proptest! {
        #[test]
        fn round_trip_any_string(s in any::<String>()) {
            let encoded = encode_header_value(&s);
            assert_header_safe(&encoded);
            let decoded = decode_header_value(&encoded);
            prop_assert_eq!(decoded.as_deref(), Ok(s.as_str()));
        }

        #[test]
        fn round_trip_near_sentinel(s in "(=\\?base64\\?)?[ -~\t\n]{0,12}(\\?=)?") {
            let encoded = encode_header_value(&s);
            assert_header_safe(&encoded);
            let decoded = decode_header_value(&encoded);
            prop_assert_eq!(decoded.as_deref(), Ok(s.as_str()));
        }

        #[test]
        fn safe_values_pass_through(s in "[!-~]([ -~\t]{0,30}[!-~])?") {
            prop_assume!(!looks_like_sentinel(&s));
            prop_assert!(matches!(encode_header_value(&s), Cow::Borrowed(v) if v == s));
        }

        #[test]
        fn decode_never_panics(s in any::<String>()) {
            let _ = decode_header_value(&s);
            let prefixed = format!("{SENTINEL_PREFIX}{s}{SENTINEL_SUFFIX}");
            let _ = decode_header_value(&prefixed);
        }
    }
}
