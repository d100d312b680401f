//! `RedisEventStore` against a real `redis-server` on a free loopback port: events recorded by
//! one store (one server process) are replayed by another after a `Last-Event-ID`, streams
//! stay bounded, and a Redis that is down costs no request.
#![cfg(feature = "redis")]

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use bytes::Bytes;
use mocopr_transport::http::{EventStore, RedisEventStore};

struct RedisServer(Child, u16);

impl RedisServer {
    fn start() -> Self {
        let port = TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("port");
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server is installed (cargo xtask test installs it)");
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(started.elapsed() < Duration::from_secs(10), "redis-server did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
        RedisServer(child, port)
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.1)
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn store(url: &str) -> RedisEventStore {
    RedisEventStore::new(url, Duration::from_millis(300)).expect("store")
}

#[tokio::test]
async fn another_process_replays_what_came_after_the_last_event() {
    let redis = RedisServer::start();
    let first = store(&redis.url());
    let second = store(&redis.url());
    let a1 = first.append("0a1b", Bytes::from_static(b"{\"n\":1}")).await;
    let _a2 = first.append("0a1b", Bytes::from_static(b"{\"n\":2}")).await;
    let a3 = first.append("0a1b", Bytes::from_static(b"{\"n\":3}")).await;
    first.append("ffee", Bytes::from_static(b"{\"other\":true}")).await;

    let (stream, events) = second.replay_after(&a1).await.expect("known stream");
    assert_eq!(stream, "0a1b");
    let messages: Vec<Bytes> = events.iter().map(|(_, m)| m.clone()).collect();
    assert_eq!(messages, [Bytes::from_static(b"{\"n\":2}"), Bytes::from_static(b"{\"n\":3}")]);
    assert_eq!(events.last().map(|(id, _)| id.as_str()), Some(a3.as_str()), "ids round-trip");
    assert_eq!(second.replay_after(&a3).await.expect("known").1.len(), 0, "nothing after the newest");
    assert!(second.replay_after("0a1b.garbage").await.is_none());
    assert!(second.replay_after("cafe.1-0").await.is_none(), "an unknown stream");

    second.remove("0a1b").await;
    assert!(first.replay_after(&a1).await.is_none(), "removed everywhere");
}

#[tokio::test]
async fn streams_stay_bounded() {
    let redis = RedisServer::start();
    let store = store(&redis.url()).with_max_len(10);
    let first = store.append("b0", Bytes::from_static(b"0")).await;
    for i in 1..500 {
        store.append("b0", Bytes::from(i.to_string())).await;
    }
    let (_, events) = store.replay_after(&first).await.expect("known");
    // `MAXLEN ~` trims in whole nodes: about the bound, never the whole history.
    assert!(events.len() < 250, "{} events kept", events.len());
    assert_eq!(events.last().map(|(_, m)| m.clone()), Some(Bytes::from("499")));
}

#[tokio::test]
async fn a_redis_that_is_down_costs_no_request() {
    let port = TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("port");
    let store = store(&format!("redis://127.0.0.1:{port}/"));
    let started = Instant::now();
    let id = store.append("dead", Bytes::from_static(b"{}")).await;
    assert!(id.ends_with(".unrecorded"), "{id}");
    assert!(store.replay_after(&id).await.is_none());
    store.remove("dead").await;
    assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
}
