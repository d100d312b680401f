//! Streamable HTTP, server side: the MCP endpoint as a tower service, a listener for it, legacy
//! session storage, and the response bodies (JSON or server-sent events).

mod body;
mod config;
mod events;
mod origin;
#[cfg(feature = "redis")]
mod redis_events;
#[cfg(feature = "redis")]
mod redis_sessions;
mod serve;
mod service;
mod sessions;

pub use body::HttpBody;
pub use config::{
    DEFAULT_HEADER_TIMEOUT, DEFAULT_MAX_BODY_SIZE, DEFAULT_MAX_CONNECTIONS, DEFAULT_MAX_SESSIONS,
    DEFAULT_SSE_KEEP_ALIVE, DEFAULT_STREAM_QUEUE, DEFAULT_TCP_KEEPALIVE, HttpConfig, LOOPBACK_HOSTS, ServerConfig,
};
pub use events::{
    DEFAULT_EVENTS_KEPT, Event, EventStore, ForeignEventHook, InMemoryEventStore, LIVE_EVENTS_QUEUED, event_position,
};
pub use origin::allowed as host_allowed;
#[cfg(feature = "redis")]
#[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
pub use redis_events::RedisEventStore;
#[cfg(feature = "redis")]
#[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
pub use redis_sessions::{DEFAULT_LOCAL_SESSIONS, RedisSessionStore};
pub use serve::{DEFAULT_PATH, serve_http, serve_http_service};
pub use service::{SESSION_ID_HEADER, StandaloneEvents, StreamableHttpService, mcp_headers};
pub use sessions::{
    DEFAULT_SESSION_IDLE_TIMEOUT, InMemorySessionStore, SessionStore, SessionStoreError, new_session_id,
};
