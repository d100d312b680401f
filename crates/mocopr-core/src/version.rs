//! Protocol revisions and eras.
//!
//! MoCoPr speaks the stateless **modern** era (2026-07-28) and the session-based **legacy** era
//! (2025-11-25, 2025-06-18, 2025-03-26). What differs between revisions is answered here, in one
//! place, so no other crate compares version strings.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A protocol revision MoCoPr can speak.
///
/// Ordered by date, so `v >= ProtocolVersion::V2025_06_18` reads as "at least that revision".
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum ProtocolVersion {
    /// `2025-03-26`: Streamable HTTP, JSON-RPC batches, tool annotations, audio content.
    V2025_03_26,
    /// `2025-06-18`: structured tool output, elicitation, resource links, `title`; no batches.
    V2025_06_18,
    /// `2025-11-25`: icons, URL elicitation, sampling with tools, experimental tasks.
    V2025_11_25,
    /// `2026-07-28`: the stateless revision (per-request `_meta`, `server/discover`, MRTR).
    V2026_07_28,
}

/// The two eras of the protocol: how a peer establishes version and capabilities.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Era {
    /// `initialize` handshake, sessions, server-to-client requests (2025-11-25 and earlier).
    Legacy,
    /// Every request carries its version and capabilities in `_meta` (2026-07-28 and later).
    Modern,
}

impl ProtocolVersion {
    /// Every supported revision, newest first (the order servers advertise them in).
    pub const ALL: [ProtocolVersion; 4] = [
        ProtocolVersion::V2026_07_28,
        ProtocolVersion::V2025_11_25,
        ProtocolVersion::V2025_06_18,
        ProtocolVersion::V2025_03_26,
    ];

    /// The newest supported revision.
    pub const LATEST: ProtocolVersion = ProtocolVersion::V2026_07_28;

    /// The newest legacy revision (what a dual-era client offers in `initialize`).
    pub const LATEST_LEGACY: ProtocolVersion = ProtocolVersion::V2025_11_25;

    /// The version string as it appears on the wire.
    pub const fn as_str(self) -> &'static str {
        match self {
            ProtocolVersion::V2025_03_26 => "2025-03-26",
            ProtocolVersion::V2025_06_18 => "2025-06-18",
            ProtocolVersion::V2025_11_25 => "2025-11-25",
            ProtocolVersion::V2026_07_28 => "2026-07-28",
        }
    }

    /// Parses a wire version string; `None` for revisions MoCoPr does not speak.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "2025-03-26" => Some(ProtocolVersion::V2025_03_26),
            "2025-06-18" => Some(ProtocolVersion::V2025_06_18),
            "2025-11-25" => Some(ProtocolVersion::V2025_11_25),
            "2026-07-28" => Some(ProtocolVersion::V2026_07_28),
            _ => None,
        }
    }

    /// The era this revision belongs to.
    pub const fn era(self) -> Era {
        match self {
            ProtocolVersion::V2026_07_28 => Era::Modern,
            _ => Era::Legacy,
        }
    }

    /// Whether this is a modern (stateless) revision.
    pub const fn is_modern(self) -> bool {
        matches!(self.era(), Era::Modern)
    }

    /// JSON-RPC batch arrays are allowed (2025-03-26 only; removed in 2025-06-18).
    pub const fn allows_batches(self) -> bool {
        matches!(self, ProtocolVersion::V2025_03_26)
    }

    /// `structuredContent` / `outputSchema`, elicitation, resource links and `title` exist
    /// (2025-06-18 and later).
    pub const fn has_structured_output(self) -> bool {
        !matches!(self, ProtocolVersion::V2025_03_26)
    }

    /// `structuredContent` may be any JSON value rather than an object (2026-07-28).
    pub const fn structured_content_any_value(self) -> bool {
        self.is_modern()
    }

    /// Icons, URL-mode elicitation and sampling with tools exist (2025-11-25 and later).
    pub const fn has_icons(self) -> bool {
        matches!(self, ProtocolVersion::V2025_11_25 | ProtocolVersion::V2026_07_28)
    }

    /// Tasks live in the core protocol as an experimental feature (2025-11-25 only; the modern
    /// era moved them to the `io.modelcontextprotocol/tasks` extension).
    pub const fn has_core_tasks(self) -> bool {
        matches!(self, ProtocolVersion::V2025_11_25)
    }

    /// Results carry `resultType` and cacheable results carry `ttlMs` / `cacheScope`.
    pub const fn has_result_type(self) -> bool {
        self.is_modern()
    }

    /// The `MCP-Protocol-Version` HTTP header is sent after negotiation (2025-06-18 and later).
    pub const fn requires_version_header(self) -> bool {
        !matches!(self, ProtocolVersion::V2025_03_26)
    }

    /// Resource-not-found is `-32002` (legacy) rather than `-32602` (modern).
    pub const fn resource_not_found_code(self) -> i32 {
        if self.is_modern() { -32602 } else { -32002 }
    }
}

impl fmt::Display for ProtocolVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A version string that is not one MoCoPr speaks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unsupported protocol version `{0}`")]
pub struct UnknownVersion(pub String);

impl FromStr for ProtocolVersion {
    type Err = UnknownVersion;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ProtocolVersion::parse(s).ok_or_else(|| UnknownVersion(s.to_owned()))
    }
}

impl Serialize for ProtocolVersion {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ProtocolVersion {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        ProtocolVersion::parse(&s).ok_or_else(|| serde::de::Error::custom(UnknownVersion(s.into_owned())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_strings_round_trip_and_order_by_date() {
        for v in ProtocolVersion::ALL {
            assert_eq!(ProtocolVersion::parse(v.as_str()), Some(v));
        }
        assert!(ProtocolVersion::V2025_03_26 < ProtocolVersion::V2026_07_28);
        assert_eq!(ProtocolVersion::parse("2024-11-05"), None);
    }

    #[test]
    fn only_2025_03_26_allows_batches_and_only_2026_is_modern() {
        let batch: Vec<_> = ProtocolVersion::ALL.into_iter().filter(|v| v.allows_batches()).collect();
        assert_eq!(batch, [ProtocolVersion::V2025_03_26]);
        let modern: Vec<_> = ProtocolVersion::ALL.into_iter().filter(|v| v.is_modern()).collect();
        assert_eq!(modern, [ProtocolVersion::V2026_07_28]);
    }
}
