//! Testing tools for MoCoPr and the servers built with it.
//!
//! - [`LoadTester`]: simulated clients sending a weighted [`LoadScenario`] to any MCP server
//!   over stdio or Streamable HTTP, at a target rate, with ramp-up; a [`LoadReport`] with
//!   throughput, latency percentiles (HDR histogram), error rate and the server's peak RSS.
//!   `cargo xtask loadtest` is its command line.
//! - [`MemoryStability`]: checks that a process's memory stays bounded over many iterations.
//! - [`RedisServer`]: a real `redis-server` (the Debian package; `cargo xtask test` installs it
//!   when missing) on a free loopback port without persistence, stopped when dropped.
//! - [`RedisCluster`]: a real Redis Cluster of three masters and three replicas on loopback, whose
//!   masters a test can kill to watch a failover.
//! - [`TestClient`]: calls a server in process, with no transport, in either era.
//! - [`ListeningServer`] and [`example_path`]: an example binary (or any server) started as a
//!   child process, and the URL it printed.
//! - [`TestAuthorizationServer`]: an OAuth authorization server on a loopback port that signs
//!   real JWT access tokens with a key it generated, and publishes its metadata and JWKS.
//! - [`TestCertificates`]: a certificate authority made for the test and a server certificate
//!   it signed for the loopback names, for HTTPS tests.
//! - [`installed`]: skip a test that needs a program the machine lacks, naming it (a failure
//!   instead when `MOCOPR_NO_SKIP` is set, as in `cargo xtask test`).
#![deny(missing_docs)]

mod approve;
mod auth_server;
mod certificates;
mod load;
mod memory;
mod process;
mod proxy;
mod redis;
mod redis_cluster;
mod test_client;
mod tools;

pub use approve::ApproveByRedirect;
pub use auth_server::{INTROSPECTION_CLIENT, TestAuthorizationServer};
pub use certificates::TestCertificates;
pub use load::{
    LatencySummary, LoadError, LoadReport, LoadScenario, LoadScenarioBuilder, LoadTester, LoadTesterBuilder, Operation,
    OperationReport, Progress, Target, WeightedOperation,
};
pub use memory::{MemoryGrowth, MemoryStability, cpu_time, peak_rss_bytes, rss_bytes};
pub use process::{ListeningServer, example_path};
pub use proxy::CountingProxy;
pub use redis::{RedisServer, free_port};
pub use redis_cluster::RedisCluster;
pub use test_client::{TestClient, TestError};
pub use tools::{NO_SKIP_VARIABLE, installed};
