//! Test helpers for MoCoPr and the servers built with it: real services started for a test and
//! stopped after it.
//!
//! [`RedisServer`] runs `redis-server` (the Debian package; `cargo xtask test` installs it when
//! missing) on a free loopback port without persistence, and stops it when dropped.
#![deny(missing_docs)]

mod redis;

pub use redis::{RedisServer, free_port};
