//! Testing tools for MoCoPr and the servers built with it.
//!
//! - [`LoadTester`]: simulated clients sending a weighted [`LoadScenario`] to any MCP server
//!   over stdio or Streamable HTTP, at a target rate, with ramp-up; a [`LoadReport`] with
//!   throughput, latency percentiles (HDR histogram), error rate and the server's peak RSS.
//!   `cargo xtask loadtest` is its command line.
//! - [`MemoryStability`]: checks that a process's memory stays bounded over many iterations.
//! - [`RedisServer`]: a real `redis-server` (the Debian package; `cargo xtask test` installs it
//!   when missing) on a free loopback port without persistence, stopped when dropped.
#![deny(missing_docs)]

mod load;
mod memory;
mod redis;

pub use load::{
    DEFAULT_GRACE, LatencySummary, LoadError, LoadReport, LoadScenario, LoadScenarioBuilder, LoadTester,
    LoadTesterBuilder, Operation, OperationReport, Progress, Target, WeightedOperation,
};
pub use memory::{MemoryGrowth, MemoryStability, peak_rss_bytes, rss_bytes};
pub use redis::{RedisServer, free_port};
