//! Validation of tool names and JSON-RPC method names.
//!
//! The MCP specification (revision 2026-07-28, `server/tools.mdx`, "Tool
//! Names") says tool names SHOULD be 1-128 characters drawn from
//! `[A-Za-z0-9_.-]`. Names that satisfy this travel as plain `Mcp-Name`
//! header values and survive aggregation by proxies, so SDK code that mints
//! names checks them here. Because the rule is only a SHOULD, callers that
//! *receive* names from a peer should treat a failure as a warning, not as a
//! reason to drop the tool. Method names get a looser, defensive check: the
//! JSON-RPC 2.0 specification reserves the `rpc.` prefix, and a length cap
//! keeps hostile input from inflating logs and routing tables.

/// Maximum tool name length in characters recommended by the specification.
pub const MAX_TOOL_NAME_LEN: usize = 128;

/// Maximum method name length in bytes accepted by [`validate_method_name`].
///
/// Not a protocol rule: the longest method the specification defines is
/// under 50 bytes, so 256 leaves room for extensions while bounding input.
pub const MAX_METHOD_NAME_LEN: usize = 256;

/// Method-name prefix JSON-RPC 2.0 reserves for rpc-internal methods.
pub const RESERVED_METHOD_PREFIX: &str = "rpc.";

/// Why a tool or method name was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NameError {
    /// The name is the empty string.
    #[error("name is empty")]
    Empty,
    /// The name is longer than the applicable limit.
    #[error("name is {length} long, limit is {limit}")]
    TooLong {
        /// Length of the name (characters for tools, bytes for methods).
        length: usize,
        /// The limit that was exceeded.
        limit: usize,
    },
    /// The name contains a character outside the allowed set.
    #[error("name contains disallowed character {character:?} at byte offset {offset}")]
    InvalidCharacter {
        /// Byte offset of the offending character.
        offset: usize,
        /// The offending character.
        character: char,
    },
    /// The method name starts with the prefix JSON-RPC reserves.
    #[error("method names starting with \"rpc.\" are reserved by JSON-RPC 2.0")]
    ReservedPrefix,
}

fn is_tool_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')
}

/// Checks a tool name against the specification's recommended format.
///
/// Accepts 1 to [`MAX_TOOL_NAME_LEN`] characters from `A-Z`, `a-z`, `0-9`,
/// `_`, `-` and `.`. Names are case-sensitive, so no case folding happens.
pub fn validate_tool_name(name: &str) -> Result<(), NameError> {
    if name.is_empty() {
        return Err(NameError::Empty);
    }
    if let Some((offset, character)) = name.char_indices().find(|&(_, c)| !is_tool_name_char(c)) {
        return Err(NameError::InvalidCharacter { offset, character });
    }
    // Every accepted character is ASCII, so the byte length is the
    // character count here.
    if name.len() > MAX_TOOL_NAME_LEN {
        return Err(NameError::TooLong { length: name.len(), limit: MAX_TOOL_NAME_LEN });
    }
    Ok(())
}

/// Checks a JSON-RPC method name received from or sent to a peer.
///
/// Rejects empty names, names longer than [`MAX_METHOD_NAME_LEN`] bytes,
/// names with control characters (they corrupt logs and cannot be mirrored
/// into the `Mcp-Method` header), and names in the `rpc.` namespace, which
/// JSON-RPC 2.0 reserves and which MCP never uses.
pub fn validate_method_name(method: &str) -> Result<(), NameError> {
    if method.is_empty() {
        return Err(NameError::Empty);
    }
    if method.len() > MAX_METHOD_NAME_LEN {
        return Err(NameError::TooLong { length: method.len(), limit: MAX_METHOD_NAME_LEN });
    }
    if let Some((offset, character)) = method.char_indices().find(|&(_, c)| c.is_control()) {
        return Err(NameError::InvalidCharacter { offset, character });
    }
    if method.starts_with(RESERVED_METHOD_PREFIX) {
        return Err(NameError::ReservedPrefix);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn spec_example_tool_names_are_valid() {
        for name in ["getUser", "DATA_EXPORT_v2", "admin.tools.list", "a", "-", "x.y-z_9"] {
            assert_eq!(validate_tool_name(name), Ok(()), "{name:?}");
        }
    }

    #[test]
    fn tool_name_length_bounds() {
        assert_eq!(validate_tool_name(""), Err(NameError::Empty));
        assert_eq!(validate_tool_name(&"a".repeat(MAX_TOOL_NAME_LEN)), Ok(()));
        assert_eq!(
            validate_tool_name(&"a".repeat(MAX_TOOL_NAME_LEN + 1)),
            Err(NameError::TooLong { length: 129, limit: 128 })
        );
    }

    #[test]
    fn tool_name_rejects_specials() {
        for (name, offset, character) in [
            ("get user", 3, ' '),
            ("a,b", 1, ','),
            ("tools/call", 5, '/'),
            ("naïve", 2, 'ï'),
            ("x\n", 1, '\n'),
            ("a:b", 1, ':'),
        ] {
            assert_eq!(validate_tool_name(name), Err(NameError::InvalidCharacter { offset, character }));
        }
    }

    #[test]
    fn mcp_methods_are_valid() {
        for m in [
            "tools/call",
            "server/discover",
            "notifications/subscriptions/acknowledged",
            "resources/templates/list",
            "rpc",
            "rpcx.foo",
        ] {
            assert_eq!(validate_method_name(m), Ok(()), "{m:?}");
        }
    }

    #[test]
    fn method_rejections() {
        assert_eq!(validate_method_name(""), Err(NameError::Empty));
        assert_eq!(validate_method_name("rpc.discover"), Err(NameError::ReservedPrefix));
        assert_eq!(
            validate_method_name("tools/\u{0}call"),
            Err(NameError::InvalidCharacter { offset: 6, character: '\0' })
        );
        assert_eq!(
            validate_method_name("a\u{85}"),
            Err(NameError::InvalidCharacter { offset: 1, character: '\u{85}' })
        );
        assert_eq!(
            validate_method_name(&"m".repeat(MAX_METHOD_NAME_LEN + 1)),
            Err(NameError::TooLong { length: 257, limit: 256 })
        );
        assert_eq!(validate_method_name(&"m".repeat(MAX_METHOD_NAME_LEN)), Ok(()));
    }

    proptest! {
        #[test]
        fn generated_valid_tool_names_pass(name in "[A-Za-z0-9_.-]{1,128}") {
            prop_assert_eq!(validate_tool_name(&name), Ok(()));
        }

        #[test]
        fn tool_name_verdict_matches_definition(name in any::<String>()) {
            let expected = !name.is_empty()
                && name.chars().count() <= MAX_TOOL_NAME_LEN
                && name.chars().all(is_tool_name_char);
            prop_assert_eq!(validate_tool_name(&name).is_ok(), expected);
        }

        #[test]
        fn method_verdict_matches_definition(name in any::<String>()) {
            let expected = !name.is_empty()
                && name.len() <= MAX_METHOD_NAME_LEN
                && !name.chars().any(char::is_control)
                && !name.starts_with("rpc.");
            prop_assert_eq!(validate_method_name(&name).is_ok(), expected);
        }
    }
}
