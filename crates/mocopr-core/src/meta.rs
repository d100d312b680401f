//! `_meta`: the reserved keys, a round-tripping map for every object that carries one, and the
//! typed per-request metadata of the modern era.
//!
//! Unknown keys always round-trip: `_meta` is the protocol's extension point.

use std::fmt;
use std::sync::Arc;

use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use crate::error::ProtocolError;
use crate::jsonrpc::{ProgressToken, RequestId};
use crate::meta_key::validate_meta_key;
use crate::types::{ClientCapabilities, Implementation, LoggingLevel};
use crate::version::ProtocolVersion;

/// `_meta` key: the protocol version of a modern request (required).
pub const PROTOCOL_VERSION_KEY: &str = "io.modelcontextprotocol/protocolVersion";
/// `_meta` key: the client's capabilities for this request (required in the modern era).
pub const CLIENT_CAPABILITIES_KEY: &str = "io.modelcontextprotocol/clientCapabilities";
/// `_meta` key: the client's implementation info (should be on every modern request).
pub const CLIENT_INFO_KEY: &str = "io.modelcontextprotocol/clientInfo";
/// `_meta` key: the log level wanted for this request (deprecated logging feature).
pub const LOG_LEVEL_KEY: &str = "io.modelcontextprotocol/logLevel";
/// `_meta` key: the server's implementation info on results.
pub const SERVER_INFO_KEY: &str = "io.modelcontextprotocol/serverInfo";
/// `_meta` key: on notifications of a `subscriptions/listen` stream, the listen request's id.
pub const SUBSCRIPTION_ID_KEY: &str = "io.modelcontextprotocol/subscriptionId";
/// `_meta` key: the progress token of a request.
pub const PROGRESS_TOKEN_KEY: &str = "progressToken";
/// `_meta` key: W3C Trace Context `traceparent`.
pub const TRACEPARENT_KEY: &str = "traceparent";
/// `_meta` key: W3C Trace Context `tracestate`.
pub const TRACESTATE_KEY: &str = "tracestate";
/// `_meta` key: W3C Baggage.
pub const BAGGAGE_KEY: &str = "baggage";
/// Extension identifier of the tasks extension.
pub const TASKS_EXTENSION: &str = "io.modelcontextprotocol/tasks";

/// The `_meta` members every 2026-07-28 request carries: its protocol version, the client's
/// capabilities and (when given) the client's implementation info.
///
/// ```
/// use mocopr_core::ProtocolVersion;
/// use mocopr_core::meta::{PROTOCOL_VERSION_KEY, modern_request_meta};
/// use mocopr_core::types::{ClientCapabilities, Implementation};
///
/// let info = Implementation::new("my-client", "1.0");
/// let meta = modern_request_meta(ProtocolVersion::V2026_07_28, &ClientCapabilities::default(), Some(&info));
/// assert_eq!(meta[PROTOCOL_VERSION_KEY], "2026-07-28");
/// ```
pub fn modern_request_meta(
    version: ProtocolVersion,
    capabilities: &ClientCapabilities,
    info: Option<&Implementation>,
) -> Map<String, Value> {
    let mut meta = Map::new();
    meta.insert(PROTOCOL_VERSION_KEY.into(), Value::from(version.as_str()));
    // Capabilities and implementation info are plain data: serializing them cannot fail.
    meta.insert(CLIENT_CAPABILITIES_KEY.into(), serde_json::to_value(capabilities).unwrap_or_default());
    if let Some(info) = info {
        meta.insert(CLIENT_INFO_KEY.into(), serde_json::to_value(info).unwrap_or_default());
    }
    meta
}

/// A `_meta` object: any keys, kept exactly as received.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Meta(pub Map<String, Value>);

impl Meta {
    /// An empty `_meta`.
    pub fn new() -> Self {
        Meta(Map::new())
    }

    /// The value at `key`.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.0.get(key)
    }

    /// Sets `key`, returning the previous value.
    pub fn insert(&mut self, key: impl Into<String>, value: Value) -> Option<Value> {
        self.0.insert(key.into(), value)
    }

    /// Whether there are no keys.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The progress token, when present and well-formed.
    pub fn progress_token(&self) -> Option<ProgressToken> {
        self.get(PROGRESS_TOKEN_KEY).and_then(|v| RequestId::deserialize(v).ok())
    }

    /// The `subscriptionId` of a listen-stream notification, when present and well-formed.
    pub fn subscription_id(&self) -> Option<RequestId> {
        self.get(SUBSCRIPTION_ID_KEY).and_then(|v| RequestId::deserialize(v).ok())
    }

    /// The server info of a result, when present and well-formed.
    pub fn server_info(&self) -> Option<Implementation> {
        self.get(SERVER_INFO_KEY).and_then(|v| Implementation::deserialize(v).ok())
    }

    /// Checks every key against the `_meta` key grammar.
    pub fn validate_keys(&self) -> Result<(), ProtocolError> {
        validate_keys(self.0.keys())
    }
}

fn validate_keys<'a>(keys: impl IntoIterator<Item = &'a String>) -> Result<(), ProtocolError> {
    for key in keys {
        validate_meta_key(key).map_err(|source| ProtocolError::InvalidMetaKey { key: key.clone(), source })?;
    }
    Ok(())
}

/// The `_meta` of a request, with the reserved keys decoded.
///
/// In the modern era `protocol_version` and `client_capabilities` are required; legacy requests
/// carry at most a progress token. [`RequestMeta::validate_modern`] checks the modern rules.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct RequestMeta {
    /// `io.modelcontextprotocol/protocolVersion`, as sent (kept as text so an unsupported value
    /// can be reported back).
    pub protocol_version: Option<String>,
    /// `io.modelcontextprotocol/clientCapabilities`, shared: the server hands it to the request's
    /// context without a copy. (Behind a pointer, it also keeps every request type small: each
    /// is moved through a few futures on its way to the handler.) `Arc::make_mut` edits it.
    pub client_capabilities: Option<Arc<ClientCapabilities>>,
    /// `io.modelcontextprotocol/clientInfo`, boxed for the same size reason.
    pub client_info: Option<Box<Implementation>>,
    /// `io.modelcontextprotocol/logLevel`.
    pub log_level: Option<LoggingLevel>,
    /// `progressToken`.
    pub progress_token: Option<ProgressToken>,
    /// Every other key, unchanged.
    pub other: Meta,
}

/// What a valid modern request's `_meta` establishes.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct ModernContext<'a> {
    /// The protocol revision of the request.
    pub version: ProtocolVersion,
    /// The client's capabilities for this request.
    pub capabilities: &'a Arc<ClientCapabilities>,
}

impl RequestMeta {
    /// `_meta` for a modern request: version and capabilities set (capabilities shared by
    /// several requests may be given as the same `Arc`).
    ///
    /// ```
    /// use std::sync::Arc;
    /// use mocopr_core::meta::RequestMeta;
    /// use mocopr_core::types::ClientCapabilities;
    /// use mocopr_core::ProtocolVersion;
    ///
    /// let shared = Arc::new(ClientCapabilities::default());
    /// let meta = RequestMeta::modern(ProtocolVersion::V2026_07_28, shared.clone());
    /// assert!(Arc::ptr_eq(meta.client_capabilities.as_ref().unwrap(), &shared));
    /// assert!(meta.validate_modern(&[ProtocolVersion::V2026_07_28]).is_ok());
    /// ```
    pub fn modern(version: ProtocolVersion, capabilities: impl Into<Arc<ClientCapabilities>>) -> Self {
        RequestMeta {
            protocol_version: Some(version.as_str().to_owned()),
            client_capabilities: Some(capabilities.into()),
            ..RequestMeta::default()
        }
    }

    /// Checks that both members a modern request must carry are present (`-32602` otherwise).
    pub fn require_modern_fields(&self) -> Result<&str, ProtocolError> {
        let version =
            self.protocol_version.as_deref().ok_or(ProtocolError::MissingMeta { key: PROTOCOL_VERSION_KEY })?;
        if self.client_capabilities.is_none() {
            return Err(ProtocolError::MissingMeta { key: CLIENT_CAPABILITIES_KEY });
        }
        Ok(version)
    }

    /// Checks the modern-era rules: required keys present (`-32602` otherwise), the version one
    /// of `supported` (`-32022` otherwise), and every other key well-formed.
    pub fn validate_modern(&self, supported: &[ProtocolVersion]) -> Result<ModernContext<'_>, ProtocolError> {
        let requested = self.require_modern_fields()?;
        let version = ProtocolVersion::parse(requested).filter(|v| supported.contains(v)).ok_or_else(|| {
            ProtocolError::UnsupportedProtocolVersion { requested: requested.to_owned(), supported: supported.to_vec() }
        })?;
        let capabilities =
            self.client_capabilities.as_ref().ok_or(ProtocolError::MissingMeta { key: CLIENT_CAPABILITIES_KEY })?;
        self.other.validate_keys()?;
        Ok(ModernContext { version, capabilities })
    }
}

impl Serialize for RequestMeta {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        if let Some(v) = &self.protocol_version {
            map.serialize_entry(PROTOCOL_VERSION_KEY, v)?;
        }
        if let Some(v) = &self.client_capabilities {
            map.serialize_entry(CLIENT_CAPABILITIES_KEY, &**v)?;
        }
        if let Some(v) = &self.client_info {
            map.serialize_entry(CLIENT_INFO_KEY, v)?;
        }
        if let Some(v) = &self.log_level {
            map.serialize_entry(LOG_LEVEL_KEY, v)?;
        }
        if let Some(v) = &self.progress_token {
            map.serialize_entry(PROGRESS_TOKEN_KEY, v)?;
        }
        for (k, v) in &self.other.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for RequestMeta {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(RequestMetaVisitor)
    }
}

struct RequestMetaVisitor;

impl<'de> Visitor<'de> for RequestMetaVisitor {
    type Value = RequestMeta;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a `_meta` object")
    }

    // One pass over the keys, decoding the reserved ones in place: `_meta` is on every modern
    // request, so no intermediate map is built.
    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<RequestMeta, A::Error> {
        let mut meta = RequestMeta::default();
        while let Some(key) = access.next_key::<std::borrow::Cow<'de, str>>()? {
            match key.as_ref() {
                PROTOCOL_VERSION_KEY => meta.protocol_version = Some(access.next_value()?),
                CLIENT_CAPABILITIES_KEY => {
                    meta.client_capabilities = Some(Arc::new(access.next_value::<ObjectOnly<_>>()?.0));
                }
                CLIENT_INFO_KEY => meta.client_info = Some(Box::new(access.next_value::<ObjectOnly<_>>()?.0)),
                LOG_LEVEL_KEY => meta.log_level = Some(access.next_value()?),
                PROGRESS_TOKEN_KEY => meta.progress_token = Some(access.next_value()?),
                _ => {
                    let value: Value = access.next_value()?;
                    meta.other.0.insert(key.into_owned(), value);
                }
            }
        }
        Ok(meta)
    }
}

/// Decodes `T` from a JSON object only. Derived struct decoders also accept arrays
/// (positionally), which would let `"clientCapabilities": []` through as "no capabilities".
struct ObjectOnly<T>(T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for ObjectOnly<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ObjectVisitor<T>(std::marker::PhantomData<T>);

        impl<'de, T: Deserialize<'de>> Visitor<'de> for ObjectVisitor<T> {
            type Value = ObjectOnly<T>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object")
            }

            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                T::deserialize(serde::de::value::MapAccessDeserializer::new(map)).map(ObjectOnly)
            }
        }

        deserializer.deserialize_map(ObjectVisitor(std::marker::PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_meta_round_trips_unknown_keys() {
        let json = serde_json::json!({
            PROTOCOL_VERSION_KEY: "2026-07-28",
            CLIENT_CAPABILITIES_KEY: {},
            "com.example/trace": {"a": 1},
            "progressToken": 5
        });
        let meta: RequestMeta = serde_json::from_value(json.clone()).unwrap();
        assert_eq!(meta.progress_token, Some(RequestId::Number(5)));
        assert_eq!(serde_json::to_value(&meta).unwrap(), json);
        assert!(meta.validate_modern(&ProtocolVersion::ALL).is_ok());
    }

    #[test]
    fn modern_validation_names_the_missing_key_and_the_bad_version() {
        let meta = RequestMeta::default();
        assert!(matches!(
            meta.validate_modern(&ProtocolVersion::ALL),
            Err(ProtocolError::MissingMeta { key: PROTOCOL_VERSION_KEY })
        ));
        let meta = RequestMeta {
            protocol_version: Some("1999-01-01".into()),
            client_capabilities: Some(Arc::default()),
            ..Default::default()
        };
        assert!(matches!(
            meta.validate_modern(&ProtocolVersion::ALL),
            Err(ProtocolError::UnsupportedProtocolVersion { .. })
        ));
    }
}
