//! Streamable HTTP, server side: the MCP endpoint as a tower service, a listener for it, legacy
//! session storage, and the response bodies (JSON or server-sent events).

mod admission;
mod body;
mod compress;
mod config;
mod events;
mod origin;
mod post_stream;
#[cfg(feature = "redis")]
mod redis_connection;
#[cfg(feature = "redis")]
mod redis_events;
#[cfg(feature = "redis")]
mod redis_request_streams;
#[cfg(feature = "redis")]
mod redis_sessions;
mod replies;
mod request_head;
mod request_streams;
mod serve;
mod service;
mod sessions;
mod standalone;

pub use body::HttpBody;
pub use config::{
    AllowedOrigins, EndpointConfig, EndpointConfigBuilder, LOOPBACK_HOSTS, ListenerConfig, ListenerConfigBuilder,
};
pub use events::{
    Event, EventStore, EventStoreUnavailable, ForeignEventHook, InMemoryEventStore, LIVE_EVENTS_QUEUED, event_position,
};
pub use origin::{HostRefusal, check_host_and_origin};
#[cfg(feature = "redis")]
#[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
pub use redis_events::RedisEventStore;
#[cfg(feature = "redis")]
#[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
pub use redis_sessions::RedisSessionStore;
pub use request_head::{HttpExtensions, mcp_headers};
pub use request_streams::{RequestStream, StreamReplay, request_stream_position};
pub use serve::{ServeHttp, serve_http};
pub use service::{SESSION_ID_HEADER, StandaloneEvents, StreamableHttpService};
pub use sessions::{InMemorySessionStore, SessionStore, SessionStoreError, new_session_id};
