//! # mocopr-cache
//!
//! A multi-level cache for MCP results: L1 in process (bounded, per-entry expiry), L2 in Redis
//! (optional), values above a size threshold stored LZ4-compressed, keys made from the method
//! and the normalized params, and single-flight: concurrent misses for one key run the work once.

#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod cache;
mod config;
pub mod entry;
pub mod key;
mod l2;
mod layer;
mod policy;

pub use cache::{CacheError, CacheStats, Computed, Hit, Lookup, MAX_TTL, MultiLevelCache};
pub use config::{CacheConfig, CacheConfigBuilder, RedisConfig};
pub use l2::L2Error;
pub use layer::{CacheLayer, CacheService};
pub use policy::{CachePartition, CachePolicy};
