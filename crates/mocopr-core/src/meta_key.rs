//! Validation of `_meta` keys and extension identifiers.
//!
//! The MCP specification (revision 2026-07-28, `basic/index.mdx`, "`_meta`")
//! fixes the grammar of `_meta` key names: an optional prefix made of
//! dot-separated labels followed by `/`, then a name. Extension identifiers
//! in `capabilities.extensions` (`basic/versioning.mdx`) follow the same
//! grammar with the prefix made mandatory. Prefixes whose second label is
//! `modelcontextprotocol` or `mcp` belong to MCP itself; code that accepts
//! keys from users needs to tell those apart so it never shadows a protocol
//! field. Parsing is borrow-only so it can run on every inbound request.

use std::fmt;

/// Maximum accepted key length in bytes.
///
/// Not a protocol rule: it bounds the work spent on hostile input while being
/// far above any key the specification or known extensions define.
pub const MAX_META_KEY_LEN: usize = 256;

/// Second prefix labels that mark a prefix as reserved for MCP.
const RESERVED_SECOND_LABELS: [&str; 2] = ["modelcontextprotocol", "mcp"];

/// A `_meta` key split into its prefix and name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MetaKey<'a> {
    /// The dot-separated labels before the `/`, without the `/` itself;
    /// `None` when the key has no prefix.
    pub prefix: Option<&'a str>,
    /// The part after the `/` (or the whole key without a prefix); may be
    /// empty, which the specification allows.
    pub name: &'a str,
}

impl MetaKey<'_> {
    /// Whether the key lives in a namespace MCP reserves for itself.
    ///
    /// True when the prefix's second label is `modelcontextprotocol` or
    /// `mcp`, e.g. `io.modelcontextprotocol/` or `dev.mcp/`, but not
    /// `com.example.mcp/`. Labels are compared ASCII case-insensitively,
    /// since reverse-DNS labels are case-insensitive and treating `io.MCP/`
    /// as user space would let it masquerade as a protocol field.
    pub fn is_reserved(&self) -> bool {
        self.prefix
            .and_then(|prefix| prefix.split('.').nth(1))
            .is_some_and(|label| RESERVED_SECOND_LABELS.iter().any(|reserved| label.eq_ignore_ascii_case(reserved)))
    }
}

impl fmt::Display for MetaKey<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(prefix) = self.prefix {
            write!(f, "{prefix}/")?;
        }
        f.write_str(self.name)
    }
}

/// Why a `_meta` key or extension identifier was rejected.
///
/// Offsets are byte offsets into the whole key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MetaKeyError {
    /// The key is longer than [`MAX_META_KEY_LEN`].
    #[error("key is {length} bytes long, limit is {limit}")]
    TooLong {
        /// Length of the key in bytes.
        length: usize,
        /// The limit that was exceeded.
        limit: usize,
    },
    /// A prefix label is empty (leading, trailing or doubled dot, or `/` at
    /// the start of the key).
    #[error("empty prefix label at byte offset {offset}")]
    EmptyLabel {
        /// Where the empty label would start.
        offset: usize,
    },
    /// A prefix label does not start with an ASCII letter.
    #[error("prefix label starts with {character:?} at byte offset {offset}, expected a letter")]
    InvalidLabelStart {
        /// Byte offset of the character.
        offset: usize,
        /// The offending character.
        character: char,
    },
    /// A prefix label does not end with an ASCII letter or digit.
    #[error("prefix label ends with {character:?} at byte offset {offset}, expected a letter or digit")]
    InvalidLabelEnd {
        /// Byte offset of the character.
        offset: usize,
        /// The offending character.
        character: char,
    },
    /// A prefix label contains something other than letters, digits, `-`.
    #[error("prefix label contains {character:?} at byte offset {offset}")]
    InvalidLabelCharacter {
        /// Byte offset of the character.
        offset: usize,
        /// The offending character.
        character: char,
    },
    /// A non-empty name does not start with an ASCII alphanumeric.
    #[error("name starts with {character:?} at byte offset {offset}, expected alphanumeric")]
    InvalidNameStart {
        /// Byte offset of the character.
        offset: usize,
        /// The offending character.
        character: char,
    },
    /// A non-empty name does not end with an ASCII alphanumeric.
    #[error("name ends with {character:?} at byte offset {offset}, expected alphanumeric")]
    InvalidNameEnd {
        /// Byte offset of the character.
        offset: usize,
        /// The offending character.
        character: char,
    },
    /// A name contains something other than alphanumerics, `-`, `_`, `.`.
    #[error("name contains {character:?} at byte offset {offset}")]
    InvalidNameCharacter {
        /// Byte offset of the character.
        offset: usize,
        /// The offending character.
        character: char,
    },
    /// An extension identifier has no prefix.
    #[error("extension identifiers need a prefix such as \"com.example/\"")]
    MissingPrefix,
}

/// Checks one prefix label; `base` is its byte offset in the key.
fn validate_label(label: &str, base: usize) -> Result<(), MetaKeyError> {
    let last = label.char_indices().next_back();
    let Some((_, first_char)) = label.char_indices().next() else {
        return Err(MetaKeyError::EmptyLabel { offset: base });
    };
    if !first_char.is_ascii_alphabetic() {
        return Err(MetaKeyError::InvalidLabelStart { offset: base, character: first_char });
    }
    if let Some((i, c)) = last.filter(|&(_, c)| !c.is_ascii_alphanumeric()) {
        return Err(MetaKeyError::InvalidLabelEnd { offset: base + i, character: c });
    }
    match label.char_indices().find(|&(_, c)| !(c.is_ascii_alphanumeric() || c == '-')) {
        Some((i, c)) => Err(MetaKeyError::InvalidLabelCharacter { offset: base + i, character: c }),
        None => Ok(()),
    }
}

/// Checks the name part; `base` is its byte offset in the key.
fn validate_name(name: &str, base: usize) -> Result<(), MetaKeyError> {
    let (Some((_, first)), Some((last_i, last))) = (name.char_indices().next(), name.char_indices().next_back()) else {
        return Ok(());
    };
    if !first.is_ascii_alphanumeric() {
        return Err(MetaKeyError::InvalidNameStart { offset: base, character: first });
    }
    if !last.is_ascii_alphanumeric() {
        return Err(MetaKeyError::InvalidNameEnd { offset: base + last_i, character: last });
    }
    match name.char_indices().find(|&(_, c)| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))) {
        Some((i, c)) => Err(MetaKeyError::InvalidNameCharacter { offset: base + i, character: c }),
        None => Ok(()),
    }
}

/// Parses and validates a `_meta` key.
///
/// The first `/` ends the prefix; a second `/` is therefore an invalid name
/// character. Unprefixed keys such as `progressToken` or `traceparent` are
/// accepted, as is the empty name the specification permits.
pub fn validate_meta_key(key: &str) -> Result<MetaKey<'_>, MetaKeyError> {
    if key.len() > MAX_META_KEY_LEN {
        return Err(MetaKeyError::TooLong { length: key.len(), limit: MAX_META_KEY_LEN });
    }
    let Some((prefix, name)) = key.split_once('/') else {
        validate_name(key, 0)?;
        return Ok(MetaKey { prefix: None, name: key });
    };
    let mut offset = 0;
    for label in prefix.split('.') {
        validate_label(label, offset)?;
        offset += label.len() + 1;
    }
    validate_name(name, prefix.len() + 1)?;
    Ok(MetaKey { prefix: Some(prefix), name })
}

/// Validates an extension identifier such as `io.modelcontextprotocol/tasks`.
///
/// Same grammar as [`validate_meta_key`], but the prefix is mandatory.
pub fn validate_extension_key(key: &str) -> Result<(), MetaKeyError> {
    match validate_meta_key(key)?.prefix {
        Some(_) => Ok(()),
        None => Err(MetaKeyError::MissingPrefix),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn key(prefix: Option<&'static str>, name: &'static str) -> MetaKey<'static> {
        MetaKey { prefix, name }
    }

    #[test]
    fn spec_reserved_keys_parse() {
        let parsed = validate_meta_key("io.modelcontextprotocol/protocolVersion");
        assert_eq!(parsed, Ok(key(Some("io.modelcontextprotocol"), "protocolVersion")));
        for k in ["progressToken", "traceparent", "tracestate", "baggage"] {
            assert_eq!(validate_meta_key(k), Ok(key(None, k)));
        }
    }

    #[test]
    fn empty_names_are_allowed() {
        assert_eq!(validate_meta_key(""), Ok(key(None, "")));
        assert_eq!(validate_meta_key("com.example/"), Ok(key(Some("com.example"), "")));
    }

    #[test]
    fn reserved_prefixes_follow_second_label_rule() {
        for k in
            ["io.modelcontextprotocol/x", "dev.mcp/x", "org.modelcontextprotocol.api/x", "com.mcp.tools/x", "io.MCP/x"]
        {
            assert_eq!(validate_meta_key(k).map(|m| m.is_reserved()), Ok(true), "{k}");
        }
        for k in ["com.example.mcp/x", "mcp/x", "modelcontextprotocol/x", "x", "com.mcpx/y"] {
            assert_eq!(validate_meta_key(k).map(|m| m.is_reserved()), Ok(false), "{k}");
        }
    }

    #[test]
    fn label_errors() {
        use MetaKeyError::*;
        let cases = [
            ("/x", EmptyLabel { offset: 0 }),
            ("a..b/x", EmptyLabel { offset: 2 }),
            ("a./x", EmptyLabel { offset: 2 }),
            (".a/x", EmptyLabel { offset: 0 }),
            ("1a/x", InvalidLabelStart { offset: 0, character: '1' }),
            ("a.-b/x", InvalidLabelStart { offset: 2, character: '-' }),
            ("ab-/x", InvalidLabelEnd { offset: 2, character: '-' }),
            ("a_b/x", InvalidLabelCharacter { offset: 1, character: '_' }),
            ("aéb/x", InvalidLabelCharacter { offset: 1, character: 'é' }),
        ];
        for (k, err) in cases {
            assert_eq!(validate_meta_key(k), Err(err), "{k}");
        }
    }

    #[test]
    fn name_errors() {
        use MetaKeyError::*;
        let cases = [
            ("-x", InvalidNameStart { offset: 0, character: '-' }),
            ("a/_x", InvalidNameStart { offset: 2, character: '_' }),
            ("x.", InvalidNameEnd { offset: 1, character: '.' }),
            ("a/b/c", InvalidNameCharacter { offset: 3, character: '/' }),
            ("a b", InvalidNameCharacter { offset: 1, character: ' ' }),
            ("é", InvalidNameStart { offset: 0, character: 'é' }),
        ];
        for (k, err) in cases {
            assert_eq!(validate_meta_key(k), Err(err), "{k}");
        }
    }

    #[test]
    fn length_limit() {
        let long = "a".repeat(MAX_META_KEY_LEN + 1);
        assert_eq!(validate_meta_key(&long), Err(MetaKeyError::TooLong { length: 257, limit: 256 }));
        assert!(validate_meta_key(&long[1..]).is_ok());
    }

    #[test]
    fn extension_keys_need_prefix() {
        assert_eq!(validate_extension_key("io.modelcontextprotocol/tasks"), Ok(()));
        assert_eq!(validate_extension_key("com.example/my-ext"), Ok(()));
        assert_eq!(validate_extension_key("tasks"), Err(MetaKeyError::MissingPrefix));
        assert_eq!(
            validate_extension_key("com.example/-x"),
            Err(MetaKeyError::InvalidNameStart { offset: 12, character: '-' })
        );
    }

    const LABEL: &str = "[a-zA-Z]([a-zA-Z0-9-]{0,6}[a-zA-Z0-9])?";
    const NAME: &str = "([a-zA-Z0-9]([a-zA-Z0-9._-]{0,8}[a-zA-Z0-9])?)?";

    proptest! {
        #[test]
        fn valid_keys_parse_and_display_back(
            labels in proptest::collection::vec(LABEL, 0..4),
            name in NAME,
        ) {
            let prefix = labels.join(".");
            let k = if labels.is_empty() { name.clone() } else { format!("{prefix}/{name}") };
            let parsed = validate_meta_key(&k);
            prop_assert!(parsed.is_ok(), "{:?} -> {:?}", k, parsed);
            if let Ok(parsed) = parsed {
                prop_assert_eq!(parsed.prefix, (!labels.is_empty()).then_some(prefix.as_str()));
                prop_assert_eq!(parsed.name, name.as_str());
                prop_assert_eq!(parsed.to_string(), k);
            }
        }

        #[test]
        fn bad_character_in_name_is_rejected(
            name in "[a-z0-9]{1,8}",
            bad in "[ !@#$%^&*()+=,;:é~\\\\\n\t]",
            at in 0usize..9,
        ) {
            let mut k = name.clone();
            k.insert_str(at.min(name.len()), &bad);
            prop_assert!(validate_meta_key(&k).is_err(), "{:?}", k);
        }

        #[test]
        fn arbitrary_input_never_panics(k in any::<String>()) {
            if let Ok(parsed) = validate_meta_key(&k) {
                prop_assert_eq!(parsed.to_string(), k);
            }
        }
    }
}
