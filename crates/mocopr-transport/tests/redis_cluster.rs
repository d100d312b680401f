//! `RedisSessionStore` and `RedisEventStore` on a real Redis Cluster (three masters, three
//! replicas, started here on loopback ports). Stores made separately stand for server processes:
//! what one writes, another serves, across every master's slots; and a master killed while
//! requests run costs no session and no request.
#![cfg(feature = "redis-cluster")]

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use mocopr_core::ProtocolVersion;
use mocopr_core::types::{ClientCapabilities, Implementation};
use mocopr_testing::RedisCluster;
use mocopr_transport::http::{Event, EventStore, RedisEventStore, RedisSessionStore, RequestStream, SessionStore};
use mocopr_transport::{Session, SessionState};

const TIMEOUT: Duration = Duration::from_millis(500);

fn cluster() -> Option<RedisCluster> {
    if !mocopr_testing::installed("redis-server", "apt-get install redis-server") {
        return None;
    }
    Some(RedisCluster::start().expect("a Redis Cluster on loopback"))
}

fn sessions(cluster: &RedisCluster) -> RedisSessionStore {
    RedisSessionStore::cluster(cluster.urls(), TIMEOUT).expect("store")
}

fn events(cluster: &RedisCluster) -> RedisEventStore {
    RedisEventStore::cluster(cluster.urls(), TIMEOUT).expect("store")
}

fn initialized() -> Arc<Session> {
    let session = Arc::new(Session::new());
    let state = SessionState::new(
        ProtocolVersion::V2025_11_25,
        Arc::new(ClientCapabilities::default()),
        Implementation::new("client", "1.0"),
    );
    assert!(session.begin(state));
    session
}

/// The Redis key holding session `id` (the store's default prefix; its hash tag is the id).
fn session_key(id: &str) -> String {
    format!("mcp:session:{{{id}}}")
}

async fn next(live: &mut tokio::sync::broadcast::Receiver<Event>) -> Event {
    tokio::time::timeout(Duration::from_secs(10), live.recv()).await.expect("an event in time").expect("open")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_and_streams_are_shared_across_every_master() {
    let Some(cluster) = cluster() else { return };
    let (first, second) = (sessions(&cluster), sessions(&cluster));
    let mut ids = Vec::new();
    for _ in 0..60 {
        ids.push(first.create(initialized()).await.expect("created"));
    }
    let masters: HashSet<u16> = ids.iter().map(|id| cluster.master_for(&session_key(id)).expect("served")).collect();
    assert_eq!(masters.len(), 3, "sixty sessions spread over the three masters");
    for id in &ids {
        let adopted = second.get(id).await.expect("read").expect("another process finds it");
        let before = adopted.state().expect("state");
        adopted.update(|s| {
            s.initialized = true;
            Arc::make_mut(&mut s.subscriptions).insert("file:///a".into());
        });
        second.save(id, &adopted, &before).await;
    }
    let third = sessions(&cluster);
    for id in &ids {
        let state = third.get(id).await.expect("read").expect("kept").state().expect("state");
        assert!(state.initialized && state.subscriptions.contains("file:///a"), "{state:?}");
    }
    assert!(second.remove(&ids[0]).await);
    assert!(third.get(&ids[0]).await.expect("read").is_none(), "ended everywhere");

    // The standalone stream's log: recorded by one process, live in the other, replayed by it.
    let (producer, consumer) = (events(&cluster), events(&cluster));
    let mut there = consumer.subscribe();
    consumer.ready().await;
    for n in 1..=3 {
        producer.append(Bytes::from(format!("{n}"))).await;
    }
    let mut received = Vec::new();
    for _ in 0..3 {
        let event = next(&mut there).await;
        assert!(!event.local && event.id.is_some());
        received.push(event);
    }
    let first_id = received[0].id.clone().expect("recorded");
    let replayed = consumer.replay_after(&first_id).await.expect("one of the log's ids");
    let messages: Vec<Bytes> = replayed.iter().map(|e| e.message.clone()).collect();
    assert_eq!(messages, [Bytes::from_static(b"2"), Bytes::from_static(b"3")]);

    // A POST's stream: each is a key of its own, so streams land on different masters.
    for n in 0..12 {
        let stream = RequestStream::new(format!("stream{n}"), "session-1");
        assert!(producer.append_to_stream(&stream, 0, Bytes::new(), false).await);
        assert!(producer.append_to_stream(&stream, 1, Bytes::from(format!("m{n}")), true).await);
        let replay = consumer
            .replay_stream_after(&format!("stream{n}"), 0)
            .await
            .expect("Redis answers")
            .expect("a known stream");
        assert_eq!((replay.events, replay.ended), (vec![(1, Bytes::from(format!("m{n}")))], true));
    }
}

/// The master holding some sessions is killed while four tasks read and change sessions
/// through processes that hold no copy of them: every request is answered (those for the dead
/// master's slots wait the failover out), and afterwards a new process finds every session on
/// the promoted replica.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_master_failover_under_load_loses_no_session_and_fails_no_request() {
    let Some(mut cluster) = cluster() else { return };
    let creator = sessions(&cluster);
    let mut ids = Vec::new();
    for _ in 0..90 {
        ids.push(creator.create(initialized()).await.expect("created"));
    }
    let ids = Arc::new(ids);
    let stop = Arc::new(AtomicBool::new(false));
    let (served, failed) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let mut load = Vec::new();
    for task in 0..4 {
        // Each task is a process of its own that keeps one session's copy at most: nearly
        // every read is of a session it does not hold, so it must come from the cluster,
        // failover or not.
        let store = sessions(&cluster).with_local_capacity(1);
        let (ids, stop, served, failed) = (ids.clone(), stop.clone(), served.clone(), failed.clone());
        load.push(tokio::spawn(async move {
            let mut n = task;
            while !stop.load(Ordering::Relaxed) {
                let id = &ids[n % ids.len()];
                n += 1;
                match store.get(id).await {
                    Ok(Some(session)) => {
                        let before = session.state().expect("state");
                        session.update(|s| s.initialized = true);
                        store.save(id, &session, &before).await;
                        served.fetch_add(1, Ordering::Relaxed);
                    }
                    Ok(None) => panic!("a session was lost"),
                    Err(error) => {
                        eprintln!("request failed: {error}");
                        failed.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let killed = cluster.kill_master_for(&session_key(&ids[0])).expect("a master to kill");
    let before_failover = served.load(Ordering::Relaxed);
    let waited = tokio::task::block_in_place(|| cluster.wait_for_failover());
    waited.expect("the replica took over");
    assert_ne!(cluster.master_for(&session_key(&ids[0])).expect("served again"), killed);
    // Keep the load going a while on the new master.
    tokio::time::sleep(Duration::from_secs(1)).await;
    stop.store(true, Ordering::Relaxed);
    for task in load {
        task.await.expect("no session was lost");
    }
    let (served, failed) = (served.load(Ordering::Relaxed), failed.load(Ordering::Relaxed));
    eprintln!("{served} requests served ({before_failover} before the kill), {failed} failed");
    assert_eq!(failed, 0, "no request failed");
    assert!(served > before_failover, "requests went on after the failover");

    let fresh = sessions(&cluster);
    for id in ids.iter() {
        let state = fresh.get(id).await.expect("read").expect("no session lost").state().expect("state");
        assert!(state.initialized, "a change made during the load was kept");
    }
}
