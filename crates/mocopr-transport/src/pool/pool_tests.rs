//! The pool against a scripted connector: bounds, waiting, ageing, health checks.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use super::{ConnectionPool, Connector, PoolConfig, PoolError};

/// Connections that count how many are open and in use, and die when told.
#[derive(Default)]
struct Scripted {
    open: Arc<AtomicUsize>,
    in_use: Arc<AtomicUsize>,
    most_in_use: Arc<AtomicUsize>,
    server_down: Arc<AtomicBool>,
}

struct Conn {
    open: Arc<AtomicUsize>,
    broken: bool,
}

impl Drop for Conn {
    fn drop(&mut self) {
        self.open.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Connector for Scripted {
    type Connection = Conn;

    async fn connect(&self) -> Result<Conn, PoolError> {
        if self.server_down.load(Ordering::SeqCst) {
            return Err(PoolError::Connect("connection refused".into()));
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
        self.open.fetch_add(1, Ordering::SeqCst);
        Ok(Conn { open: self.open.clone(), broken: false })
    }

    async fn check(&self, _: &mut Conn) -> bool {
        !self.server_down.load(Ordering::SeqCst)
    }

    fn is_broken(&self, connection: &Conn) -> bool {
        connection.broken
    }
}

fn config(max: usize) -> super::PoolConfigBuilder {
    PoolConfig::builder().with_max_connections(max)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_times_oversubscribed_stays_within_the_bound_and_finishes() {
    let connector = Scripted::default();
    let (open, in_use, most) = (connector.open.clone(), connector.in_use.clone(), connector.most_in_use.clone());
    let pool = ConnectionPool::new(connector, config(4).with_connection_timeout(Duration::from_secs(20)).build());
    let mut tasks = Vec::new();
    for _ in 0..40 {
        let (pool, in_use, most, open) = (pool.clone(), in_use.clone(), most.clone(), open.clone());
        tasks.push(tokio::spawn(async move {
            for _ in 0..25 {
                let connection = pool.get().await.map_err(|e| e.to_string())?;
                let now = in_use.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(now, Ordering::SeqCst);
                assert!(open.load(Ordering::SeqCst) <= 4, "more than 4 connections open");
                tokio::task::yield_now().await;
                in_use.fetch_sub(1, Ordering::SeqCst);
                drop(connection);
            }
            Ok::<_, String>(())
        }));
    }
    let all = tokio::time::timeout(Duration::from_secs(30), futures_util::future::join_all(tasks)).await;
    for result in all.expect("40 callers on 4 connections finish (no deadlock)") {
        result.expect("task").expect("every get succeeds");
    }
    assert_eq!(most.load(Ordering::SeqCst), 4, "the pool is used to its bound, not beyond");
    let metrics = pool.metrics();
    assert_eq!((metrics.busy, metrics.waiting), (0, 0));
    assert!(metrics.opened <= 4, "connections are reused: {metrics:?}");
    assert_eq!(metrics.idle, open.load(Ordering::SeqCst));
}

#[tokio::test(start_paused = true)]
async fn a_caller_waits_at_most_the_connection_timeout() {
    let pool =
        ConnectionPool::new(Scripted::default(), config(1).with_connection_timeout(Duration::from_millis(200)).build());
    let held = pool.get().await.expect("first connection");
    let waiter = {
        let pool = pool.clone();
        tokio::spawn(async move { pool.get().await.map(drop) })
    };
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(pool.metrics().waiting, 1);
    assert_eq!(pool.metrics().busy, 1);
    assert!(matches!(waiter.await.expect("task"), Err(PoolError::Timeout(_))));
    assert_eq!(pool.metrics().waiting, 0);
    drop(held);
    // A waiter gets the connection the moment it is returned.
    let again = pool.get().await.expect("returned connection");
    drop(again);
    assert_eq!(pool.metrics().opened, 1);
}

#[tokio::test(start_paused = true)]
async fn a_returned_connection_wakes_a_waiter() {
    let pool =
        ConnectionPool::new(Scripted::default(), config(1).with_connection_timeout(Duration::from_secs(5)).build());
    let held = pool.get().await.expect("first connection");
    let waiter = {
        let pool = pool.clone();
        tokio::spawn(async move { pool.get().await.map(drop) })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    drop(held);
    waiter.await.expect("task").expect("the waiter gets the returned connection");
    assert_eq!(pool.metrics().opened, 1);
}

#[tokio::test(start_paused = true)]
async fn idle_connections_close_after_the_idle_timeout_down_to_min_idle() {
    let connector = Scripted::default();
    let open = connector.open.clone();
    let config = config(8)
        .with_min_idle_connections(1)
        .with_idle_timeout(Duration::from_millis(500))
        .with_health_check_interval(Duration::from_secs(60))
        .build();
    let pool = ConnectionPool::new(connector, config);
    let held: Vec<_> = futures_util::future::join_all((0..3).map(|_| pool.get())).await;
    drop(held);
    // Three returned, and perhaps one min_idle opened while all three were busy.
    tokio::time::sleep(Duration::from_millis(20)).await;
    let idle = pool.metrics().idle;
    assert!(idle == 3 || idle == 4, "{idle}");
    assert_eq!(open.load(Ordering::SeqCst), idle);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(pool.metrics().idle, idle, "not yet idle long enough");
    tokio::time::sleep(Duration::from_millis(1000)).await;
    assert_eq!(pool.metrics().idle, 1, "closed down to min_idle");
    assert_eq!(open.load(Ordering::SeqCst), 1, "the connections themselves were closed");
    assert_eq!(pool.metrics().closed as usize, idle - 1);
}

#[tokio::test(start_paused = true)]
async fn min_idle_connections_are_opened_ahead_of_demand() {
    let connector = Scripted::default();
    let open = connector.open.clone();
    let pool = ConnectionPool::new(
        connector,
        config(4).with_min_idle_connections(2).with_health_check_interval(Duration::from_millis(50)).build(),
    );
    tokio::time::sleep(Duration::from_millis(120)).await;
    assert_eq!(pool.metrics().idle, 2);
    assert_eq!(open.load(Ordering::SeqCst), 2);
}

#[tokio::test(start_paused = true)]
async fn the_health_check_closes_connections_to_a_dead_server() {
    let connector = Scripted::default();
    let (open, down) = (connector.open.clone(), connector.server_down.clone());
    let pool = ConnectionPool::new(
        connector,
        config(4).with_min_idle_connections(2).with_health_check_interval(Duration::from_millis(100)).build(),
    );
    let held: Vec<_> = futures_util::future::join_all((0..3).map(|_| pool.get())).await;
    drop(held);
    tokio::time::sleep(Duration::from_millis(20)).await;
    let idle = pool.metrics().idle;
    assert!(idle >= 3, "{idle}");
    down.store(true, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(350)).await;
    let metrics = pool.metrics();
    assert_eq!((metrics.idle, metrics.connections), (0, 0), "{metrics:?}");
    assert_eq!(metrics.failed_checks as usize, idle);
    assert_eq!(open.load(Ordering::SeqCst), 0);
    assert!(matches!(pool.get().await, Err(PoolError::Connect(_))), "a dead server fails fast");
    // The server comes back: min_idle is restored.
    down.store(false, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(250)).await;
    assert_eq!(pool.metrics().idle, 2);
}

#[tokio::test(start_paused = true)]
async fn broken_and_discarded_connections_are_not_reused() {
    let connector = Scripted::default();
    let open = connector.open.clone();
    let pool = ConnectionPool::new(connector, config(2).build());
    let mut first = pool.get().await.expect("connection");
    first.broken = true;
    drop(first);
    pool.get().await.expect("connection").discard();
    let metrics = pool.metrics();
    assert_eq!((metrics.idle, metrics.connections, metrics.opened, metrics.closed), (0, 0, 2, 2));
    assert_eq!(open.load(Ordering::SeqCst), 0);
}

#[tokio::test(start_paused = true)]
async fn a_caller_that_gives_up_is_no_longer_counted_as_waiting() {
    let pool =
        ConnectionPool::new(Scripted::default(), config(1).with_connection_timeout(Duration::from_secs(60)).build());
    let held = pool.get().await.expect("first connection");
    let gave_up = tokio::time::timeout(Duration::from_millis(10), pool.get()).await;
    assert!(gave_up.is_err());
    assert_eq!(pool.metrics().waiting, 0);
    drop(held);
}
