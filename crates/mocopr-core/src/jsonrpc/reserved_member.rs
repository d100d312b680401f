//! The one object member name JSON from a peer may not use.
//!
//! With serde_json's `raw_value` feature (the envelope decoder needs it), an object whose first
//! member is named [`RESERVED_MEMBER`] is read into a `serde_json::Value` as the JSON *text* held
//! in that member's string, and a `Value` object holding that member anywhere writes out text
//! that reads back as something else (or as nothing: the member sorts first). A peer's params
//! that hold it would not survive a trip through a store, a cache or a log. The decoder refuses
//! such a message outright, so nothing past it meets the name.

use std::sync::LazyLock;

use memchr::memmem::Finder;
use serde::de::{DeserializeSeed, MapAccess, SeqAccess, Visitor};

/// The member name serde_json reserves for raw values.
pub const RESERVED_MEMBER: &str = "$serde_json::private::RawValue";

/// Whether the JSON text `bytes` has an object member named [`RESERVED_MEMBER`] at any depth.
///
/// A byte scan settles almost every message: the name can only be there if its tail `RawValue`
/// is there literally or one of that tail's letters is written as a `\u005X`, `\u006X` or
/// `\u007X` escape. Only then is the text walked. The caller has already parsed the message,
/// so a walk that fails (a lone surrogate or nesting too deep in a member the envelope skipped)
/// means the two parsers disagree: the answer is then `true`, refused, since the name could be
/// anywhere in what the walk did not reach.
pub(crate) fn holds_reserved_member(bytes: &[u8]) -> bool {
    static TAIL: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new("RawValue"));
    if TAIL.find(bytes).is_none() && !has_ascii_escape(bytes) {
        return false;
    }
    let mut reader = serde_json::Deserializer::from_slice(bytes);
    Scan.deserialize(&mut reader).unwrap_or(true)
}

/// Whether `bytes` holds `\u00XX` with XX between 0x50 and 0x7F: the escapes that can spell a
/// letter of `RawValue` (others, such as the `\u003c` some encoders write for `<`, cannot).
fn has_ascii_escape(bytes: &[u8]) -> bool {
    memchr::memchr_iter(b'\\', bytes).any(|at| match bytes.get(at + 1..at + 6) {
        Some([b'u', b'0', b'0', high, low]) => matches!(high, b'5'..=b'7') && low.is_ascii_hexdigit(),
        _ => false,
    })
}

/// Walks one JSON value; `true` when some object in it has the reserved member.
struct Scan;

impl<'de> DeserializeSeed<'de> for Scan {
    type Value = bool;

    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<bool, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Scan {
    type Value = bool;

    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("any JSON value")
    }

    fn visit_bool<E: serde::de::Error>(self, _: bool) -> Result<bool, E> {
        Ok(false)
    }

    fn visit_i64<E: serde::de::Error>(self, _: i64) -> Result<bool, E> {
        Ok(false)
    }

    fn visit_u64<E: serde::de::Error>(self, _: u64) -> Result<bool, E> {
        Ok(false)
    }

    fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<bool, E> {
        Ok(false)
    }

    fn visit_str<E: serde::de::Error>(self, _: &str) -> Result<bool, E> {
        Ok(false)
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<bool, E> {
        Ok(false)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<bool, A::Error> {
        let mut found = false;
        while let Some(inner) = seq.next_element_seed(Scan)? {
            found |= inner;
        }
        Ok(found)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<bool, A::Error> {
        let mut found = false;
        while let Some(reserved) = map.next_key_seed(IsReserved)? {
            found |= reserved;
            found |= map.next_value_seed(Scan)?;
        }
        Ok(found)
    }
}

/// Reads a member name; `true` when it is the reserved one.
struct IsReserved;

impl<'de> DeserializeSeed<'de> for IsReserved {
    type Value = bool;

    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<bool, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for IsReserved {
    type Value = bool;

    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("a member name")
    }

    fn visit_str<E: serde::de::Error>(self, name: &str) -> Result<bool, E> {
        Ok(name == RESERVED_MEMBER)
    }

    fn visit_bytes<E: serde::de::Error>(self, _: &[u8]) -> Result<bool, E> {
        Err(E::custom("a member name that is not UTF-8"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_name_is_found_wherever_and_however_it_is_written() {
        let found = [
            // The input the cache_key fuzz target found: a member in the middle of an object.
            r#"{"id":"c","$serde_json::private::RawValue":"t_wher","ype":"tood_use"}"#,
            r#"{"$serde_json::private::RawValue":"1"}"#,
            r#"{"a":[1,{"b":{"$serde_json::private::RawValue":"{}"}}]}"#,
            r#"{"\u0024serde_json::private::RawValu\u0065":"1"}"#,
            // Text the walk cannot finish is refused, wherever the name may be.
            r#"{"a":{"$serde_json::private::RawValue":"{}"},"z":"\udc00"}"#,
            "not json RawValue",
        ];
        for text in found {
            assert!(holds_reserved_member(text.as_bytes()), "{text}");
        }
        let not_found = [
            r#"{"a":"$serde_json::private::RawValue"}"#,
            r#"["$serde_json::private::RawValue"]"#,
            r#"{"$serde_json::private::RawValue2":"1","x":"RawValue"}"#,
            r#"{"caf\u00e9":"\u0041","\\u0024":1}"#,
            r#"{"a":1}"#,
            r#"{"html":"\u003cb\u003e \u0026"}"#,
        ];
        for text in not_found {
            assert!(!holds_reserved_member(text.as_bytes()), "{text}");
        }
    }

    #[test]
    fn the_byte_scan_passes_ordinary_text_without_walking_it() {
        assert!(!has_ascii_escape(br#"{"text":"caf\u00e9 \n \" \\ \u2028"}"#));
        assert!(has_ascii_escape(br#"{"text":"\u0065"}"#));
        assert!(!has_ascii_escape(br#"{"text":"\u0041 \u003c"}"#));
        assert!(!has_ascii_escape(br#"{"text":"\u00"}"#));
    }
}
