//! The connection both Redis stores use: one Redis through a connection manager, or a Redis
//! Cluster through the `redis` crate's cluster client (feature `redis-cluster`). Either way it
//! connects on first use (a server starts while Redis is down), every command has the store's
//! timeout, and a broken connection is made again by the next command.
//!
//! A cluster routes each command by its key's slot, and refuses a pipeline or a script whose
//! keys live in different slots: the stores keep every multi-key step inside one hash tag.

use std::time::Duration;

use redis::aio::{ConnectionLike, ConnectionManager, MultiplexedConnection};
use redis::{Cmd, Pipeline, RedisFuture, Value};

/// A store's shared connection. Cheap to clone (clones share the connection).
#[derive(Clone)]
pub(super) enum RedisConnection {
    Single {
        connection: ConnectionManager,
        client: redis::Client,
        timeout: Duration,
    },
    /// Shared: the cluster client is large, and the connection is made once for all clones.
    #[cfg(feature = "redis-cluster")]
    Cluster(std::sync::Arc<Cluster>),
}

/// A cluster connection made on first use.
#[cfg(feature = "redis-cluster")]
pub(super) struct Cluster {
    nodes: Vec<String>,
    timeout: Duration,
    client: redis::cluster::ClusterClient,
    connection: tokio::sync::OnceCell<redis::cluster_async::ClusterConnection>,
}

/// A connection of its own, for a command that blocks (`XREAD BLOCK`): on the shared one it
/// would hold back every command queued behind it.
pub(super) enum DedicatedConnection {
    Single(MultiplexedConnection),
    #[cfg(feature = "redis-cluster")]
    Cluster(redis::cluster_async::ClusterConnection),
}

impl RedisConnection {
    /// The Redis at `url` (`redis://host:port/db`).
    pub(super) fn single(url: &str, timeout: Duration) -> redis::RedisResult<Self> {
        let client = redis::Client::open(url)?;
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(Some(timeout))
            .set_response_timeout(Some(timeout))
            .set_number_of_retries(1);
        let connection = ConnectionManager::new_lazy_with_config(client.clone(), config)?;
        Ok(RedisConnection::Single { connection, client, timeout })
    }

    /// The Redis Cluster reached through any of `nodes` (`redis://host:port`; the client finds
    /// the others and follows the slots as they move).
    #[cfg(feature = "redis-cluster")]
    pub(super) fn cluster(nodes: Vec<String>, timeout: Duration) -> redis::RedisResult<Self> {
        let client = cluster_client(&nodes, timeout, timeout)?;
        let connection = tokio::sync::OnceCell::new();
        Ok(RedisConnection::Cluster(std::sync::Arc::new(Cluster { nodes, timeout, client, connection })))
    }

    /// A new connection of its own whose replies may take `block` longer than the timeout.
    pub(super) async fn dedicated(&self, block: Duration) -> redis::RedisResult<DedicatedConnection> {
        match self {
            RedisConnection::Single { client, timeout, .. } => {
                let config = redis::AsyncConnectionConfig::new()
                    .set_connection_timeout(Some(*timeout))
                    .set_response_timeout(Some(block + *timeout));
                Ok(DedicatedConnection::Single(client.get_multiplexed_async_connection_with_config(&config).await?))
            }
            #[cfg(feature = "redis-cluster")]
            RedisConnection::Cluster(cluster) => {
                let client = cluster_client(&cluster.nodes, cluster.timeout, block + cluster.timeout)?;
                Ok(DedicatedConnection::Cluster(client.get_async_connection().await?))
            }
        }
    }
}

/// A cluster client with these timeouts. A command whose node is gone is retried, backing off
/// from 0.2 s to 1 s, for about five seconds in all: long enough to ride out a failover
/// (`cluster-node-timeout` plus an election); past it the command fails and the stores answer
/// from what this process holds.
/// How long a cluster command is retried while its master fails over.
#[cfg(feature = "redis-cluster")]
const FAILOVER_WAIT: Duration = Duration::from_secs(5);

#[cfg(feature = "redis-cluster")]
fn cluster_client(
    nodes: &[String],
    connection_timeout: Duration,
    response_timeout: Duration,
) -> redis::RedisResult<redis::cluster::ClusterClient> {
    redis::cluster::ClusterClientBuilder::new(nodes.to_vec())
        .connection_timeout(connection_timeout)
        .response_timeout(response_timeout)
        // The retries below all fit in it (by default it is one response timeout, which
        // would end them at the first).
        .overall_response_timeout(Some(FAILOVER_WAIT + response_timeout))
        .retries(30)
        .min_retry_wait(200)
        .max_retry_wait(1000)
        .build()
}

#[cfg(feature = "redis-cluster")]
impl Cluster {
    /// The connection, made by the first command that needs it; a command waits for it at
    /// most the timeout (the next one tries again), so commands do not queue behind a cluster
    /// that cannot be reached.
    async fn connection(&self) -> redis::RedisResult<redis::cluster_async::ClusterConnection> {
        let made =
            tokio::time::timeout(self.timeout, self.connection.get_or_try_init(|| self.client.get_async_connection()));
        match made.await {
            Ok(connection) => Ok(connection?.clone()),
            Err(_) => {
                Err(redis::RedisError::from((redis::ErrorKind::Io, "no connection to the Redis Cluster in time")))
            }
        }
    }
}

impl ConnectionLike for RedisConnection {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            RedisConnection::Single { connection, .. } => connection.req_packed_command(cmd),
            #[cfg(feature = "redis-cluster")]
            RedisConnection::Cluster(cluster) => {
                Box::pin(async move { cluster.connection().await?.req_packed_command(cmd).await })
            }
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        cmd: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            RedisConnection::Single { connection, .. } => connection.req_packed_commands(cmd, offset, count),
            #[cfg(feature = "redis-cluster")]
            RedisConnection::Cluster(cluster) => {
                Box::pin(async move { cluster.connection().await?.req_packed_commands(cmd, offset, count).await })
            }
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            RedisConnection::Single { connection, .. } => connection.get_db(),
            // A cluster has only database 0.
            #[cfg(feature = "redis-cluster")]
            RedisConnection::Cluster(_) => 0,
        }
    }
}

impl ConnectionLike for DedicatedConnection {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            DedicatedConnection::Single(connection) => connection.req_packed_command(cmd),
            #[cfg(feature = "redis-cluster")]
            DedicatedConnection::Cluster(connection) => connection.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        cmd: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            DedicatedConnection::Single(connection) => connection.req_packed_commands(cmd, offset, count),
            #[cfg(feature = "redis-cluster")]
            DedicatedConnection::Cluster(connection) => connection.req_packed_commands(cmd, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            DedicatedConnection::Single(connection) => connection.get_db(),
            #[cfg(feature = "redis-cluster")]
            DedicatedConnection::Cluster(_) => 0,
        }
    }
}
