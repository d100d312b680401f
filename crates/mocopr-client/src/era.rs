//! Working out the server's era, as the specification describes: probe `server/discover`
//! with the modern version; a result or a modern-only error means modern (one retry with the
//! newest modern version the server lists on -32022); anything else, or silence past the probe
//! timeout, means legacy and the client `initialize`s. What was learned can be kept per server
//! in an [`EraCache`] shared by clients, so the next connection skips the probe.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use serde_json::{Value, json};

use mocopr_core::types::Implementation;
use mocopr_core::{ErrorCode, ProtocolVersion};

use crate::client::{McpClient, ServerFacts};
use crate::error::ClientError;
use crate::handler::InputHandler;

/// The most servers an [`EraCache`] remembers (it forgets everything when full).
pub const ERA_CACHE_CAPACITY: usize = 4096;

/// The revision each server spoke, by server key (the URL, or the command line of a child
/// process). Cheap to clone; clones share the entries.
#[derive(Debug, Clone, Default)]
pub struct EraCache {
    versions: Arc<Mutex<HashMap<String, ProtocolVersion>>>,
}

impl EraCache {
    /// An empty cache.
    pub fn new() -> Self {
        Self::default()
    }

    /// The revision `server` spoke last time.
    pub fn get(&self, server: &str) -> Option<ProtocolVersion> {
        self.versions.lock().unwrap_or_else(PoisonError::into_inner).get(server).copied()
    }

    fn set(&self, server: &str, version: ProtocolVersion) {
        let mut versions = self.versions.lock().unwrap_or_else(PoisonError::into_inner);
        if versions.len() >= ERA_CACHE_CAPACITY && !versions.contains_key(server) {
            versions.clear();
        }
        versions.insert(server.to_owned(), version);
    }

    fn forget(&self, server: &str) {
        self.versions.lock().unwrap_or_else(PoisonError::into_inner).remove(server);
    }
}

/// The longest `initialize` waits for a legacy HTTP server to answer the standalone GET.
const STANDALONE_WAIT: Duration = Duration::from_secs(5);

/// What a connection starts with.
pub(crate) struct Settings {
    pub(crate) info: Implementation,
    pub(crate) handler: Arc<dyn InputHandler>,
    pub(crate) timeout: Duration,
    pub(crate) probe_timeout: Duration,
    /// The era cache and this server's key in it.
    pub(crate) era: Option<(EraCache, String)>,
    /// The result cache.
    pub(crate) cache: Option<crate::ResultCache>,
    /// The server's key (its URL or command line) in the caches.
    pub(crate) server_key: Option<String>,
    /// Server-to-client requests answered at once.
    pub(crate) max_server_requests: usize,
}

impl McpClient {
    pub(crate) async fn detect_era(&self, settings: &Settings) -> Result<(), ClientError> {
        let cached = settings.era.as_ref().and_then(|(cache, key)| cache.get(key));
        let result = match cached {
            // Known legacy: no probe. If the server changed, initialize fails and the full
            // detection runs.
            Some(version) if !version.is_modern() => match self.initialize().await {
                Err(ClientError::Server(_)) => self.probe_then_initialize(settings.probe_timeout, None).await,
                other => other,
            },
            _ => self.probe_then_initialize(settings.probe_timeout, cached).await,
        };
        if let Some((cache, key)) = &settings.era {
            match (&result, self.server()) {
                (Ok(()), Some(facts)) => cache.set(key, facts.version),
                _ => cache.forget(key),
            }
        }
        result
    }

    async fn probe_then_initialize(
        &self,
        probe_timeout: Duration,
        cached: Option<ProtocolVersion>,
    ) -> Result<(), ClientError> {
        let mut modern = cached.filter(|v| v.is_modern()).unwrap_or(ProtocolVersion::LATEST);
        // A server that rejects the version names the ones it supports: retry once with the
        // newest of those this client speaks (a modern one; a legacy one means `initialize`).
        for attempt in 0..2 {
            match self.raw_request("server/discover", json!({}), Some(modern), probe_timeout).await {
                Ok(result) => {
                    let capabilities = serde_json::from_value(result["capabilities"].clone()).unwrap_or_default();
                    let info = result["_meta"]["io.modelcontextprotocol/serverInfo"].clone();
                    let facts = ServerFacts { version: modern, capabilities, info: serde_json::from_value(info).ok() };
                    let _ = self.inner.facts.set(facts);
                    return Ok(());
                }
                Err(ClientError::Server(e)) if e.code == ErrorCode::UNSUPPORTED_PROTOCOL_VERSION && attempt == 0 => {
                    let supported: Vec<ProtocolVersion> = e
                        .data
                        .as_ref()
                        .and_then(|d| d.get("supported"))
                        .and_then(Value::as_array)
                        .map(|v| v.iter().filter_map(Value::as_str).filter_map(ProtocolVersion::parse).collect())
                        .unwrap_or_default();
                    match supported.iter().copied().filter(|v| v.is_modern()).max() {
                        Some(version) => modern = version,
                        None if supported.iter().any(|v| !v.is_modern()) => break,
                        None => return Err(ClientError::Server(e)),
                    }
                }
                // These errors only exist in the modern revision: the server is modern.
                Err(ClientError::Server(e))
                    if [
                        ErrorCode::UNSUPPORTED_PROTOCOL_VERSION,
                        ErrorCode::HEADER_MISMATCH,
                        ErrorCode::MISSING_REQUIRED_CLIENT_CAPABILITY,
                    ]
                    .contains(&e.code) =>
                {
                    return Err(ClientError::Server(e));
                }
                Err(ClientError::Closed) => return Err(ClientError::Closed),
                Err(_) => break,
            }
        }
        self.initialize().await
    }

    /// The legacy handshake: `initialize`, then `notifications/initialized`; over HTTP the
    /// session's standalone stream is opened.
    pub(crate) async fn initialize(&self) -> Result<(), ClientError> {
        let legacy = ProtocolVersion::LATEST_LEGACY;
        let params = json!({
            "protocolVersion": legacy.as_str(),
            "capabilities": self.inner.handler.capabilities(),
            "clientInfo": &self.inner.info,
        });
        let result = self.raw_request("initialize", params, None, self.inner.timeout).await?;
        let version = result["protocolVersion"].as_str().and_then(ProtocolVersion::parse).unwrap_or(legacy);
        let facts = ServerFacts {
            version,
            capabilities: serde_json::from_value(result["capabilities"].clone()).unwrap_or_default(),
            info: serde_json::from_value(result["serverInfo"].clone()).ok(),
        };
        // A re-initialized session keeps what the first handshake learned.
        let _ = self.inner.facts.set(facts);
        self.notify("notifications/initialized", json!({})).await?;
        #[cfg(feature = "http")]
        if let crate::client::Outbound::Http(link) = &self.inner.out {
            *link.legacy_version.lock().unwrap_or_else(PoisonError::into_inner) = Some(version.as_str().to_owned());
            link.open_standalone(Arc::downgrade(&self.inner), self.inner.timeout.min(STANDALONE_WAIT)).await;
        }
        Ok(())
    }
}
