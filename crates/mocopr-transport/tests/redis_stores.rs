//! `RedisEventStore` and `RedisSessionStore` against a real `redis-server` on a free loopback
//! port. Two stores on one Redis stand for two server processes: events recorded by one reach
//! the other live and by replay, sessions created by one are served by the other, and a Redis
//! that is down costs no request.
#![cfg(feature = "redis")]

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use mocopr_core::ProtocolVersion;
use mocopr_core::types::{ClientCapabilities, Implementation};
use mocopr_testing::{RedisServer, free_port};
use mocopr_transport::http::{Event, EventStore, RedisEventStore, RedisSessionStore, RequestStream, SessionStore};
use mocopr_transport::{Session, SessionState};

const TIMEOUT: Duration = Duration::from_millis(300);

fn redis() -> RedisServer {
    RedisServer::start().expect("redis-server (cargo xtask test installs it)")
}

fn events(url: &str) -> RedisEventStore {
    RedisEventStore::new(url, TIMEOUT).expect("store")
}

async fn next(live: &mut tokio::sync::broadcast::Receiver<Event>) -> Event {
    tokio::time::timeout(Duration::from_secs(5), live.recv()).await.expect("an event in time").expect("open")
}

#[tokio::test]
async fn events_recorded_by_one_process_reach_the_other_live_and_by_replay() {
    if !mocopr_testing::installed("redis-server", "apt-get install redis-server") {
        return;
    }
    let redis = redis();
    let (first, second) = (events(&redis.url()), events(&redis.url()));
    let mut here = first.subscribe();
    let mut there = second.subscribe();
    second.ready().await;
    for n in 1..=3 {
        first.append(Bytes::from(format!("{{\"n\":{n}}}"))).await;
    }
    let mut ids = Vec::new();
    for n in 1..=3 {
        let (mine, theirs) = (next(&mut here).await, next(&mut there).await);
        assert_eq!(mine.message, Bytes::from(format!("{{\"n\":{n}}}")));
        assert_eq!((mine.local, theirs.local), (true, false), "each process knows its own events");
        assert_eq!(mine.id, theirs.id, "one log, one id");
        ids.push(mine.id.expect("recorded"));
    }
    let replayed = second.replay_after(&ids[0]).await.expect("a Redis id");
    let messages: Vec<Bytes> = replayed.iter().map(|e| e.message.clone()).collect();
    assert_eq!(messages, [Bytes::from_static(b"{\"n\":2}"), Bytes::from_static(b"{\"n\":3}")]);
    assert_eq!(replayed.last().and_then(|e| e.id.clone()), Some(ids[2].clone()), "ids round-trip");
    assert_eq!(second.replay_after(&ids[2]).await.expect("known").len(), 0, "nothing after the newest");
    assert!(second.replay_after("garbage").await.is_none());
    assert!(second.replay_after("7").await.is_none(), "an in-memory id is not one of this log's");
}

#[tokio::test]
async fn the_log_stays_bounded() {
    if !mocopr_testing::installed("redis-server", "apt-get install redis-server") {
        return;
    }
    let redis = redis();
    let store = events(&redis.url()).with_max_len(10);
    let mut live = store.subscribe();
    store.append(Bytes::from_static(b"0")).await;
    let first = next(&mut live).await.id.expect("recorded");
    for i in 1..500 {
        store.append(Bytes::from(i.to_string())).await;
    }
    let kept = store.replay_after(&first).await.expect("known");
    // `MAXLEN ~` trims in whole nodes: about the bound, never the whole history.
    assert!(kept.len() < 250, "{} events kept", kept.len());
    assert_eq!(kept.last().map(|e| e.message.clone()), Some(Bytes::from("499")));
}

#[tokio::test]
async fn a_redis_that_is_down_costs_no_request_and_events_still_go_out_live() {
    if !mocopr_testing::installed("redis-server", "apt-get install redis-server") {
        return;
    }
    let store = events(&format!("redis://127.0.0.1:{}/", free_port().expect("port")));
    let mut live = store.subscribe();
    let started = Instant::now();
    store.append(Bytes::from_static(b"{}")).await;
    let event = next(&mut live).await;
    assert_eq!((event.id, event.local, event.message), (None, true, Bytes::from_static(b"{}")));
    assert!(store.replay_after("1-0").await.is_none());
    assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
}

#[tokio::test]
async fn the_tail_goes_on_after_redis_comes_back() {
    if !mocopr_testing::installed("redis-server", "apt-get install redis-server") {
        return;
    }
    let redis = redis();
    let port = redis.port();
    let (first, second) = (events(&redis.url()), events(&redis.url()));
    let mut there = second.subscribe();
    second.ready().await;
    first.append(Bytes::from_static(b"before")).await;
    assert_eq!(next(&mut there).await.message, Bytes::from_static(b"before"));
    drop(redis);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let _back = RedisServer::start_on(port).expect("restarted");
    // The reconnecting writer and tail both need a moment; keep writing until one arrives.
    let started = Instant::now();
    loop {
        first.append(Bytes::from_static(b"after")).await;
        if let Ok(Ok(event)) = tokio::time::timeout(Duration::from_millis(500), there.recv()).await {
            assert_eq!(event.message, Bytes::from_static(b"after"));
            assert!(event.id.is_some() && !event.local);
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(15), "the tail never came back");
    }
}

fn sessions(url: &str) -> RedisSessionStore {
    RedisSessionStore::new(url, TIMEOUT).expect("store")
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

#[tokio::test]
async fn a_session_made_by_one_process_is_served_and_changed_by_another() {
    if !mocopr_testing::installed("redis-server", "apt-get install redis-server") {
        return;
    }
    let redis = redis();
    let (first, second) = (sessions(&redis.url()), sessions(&redis.url()));
    let created = initialized();
    let id = first.create(created.clone()).await.expect("created");

    let adopted = second.get(&id).await.expect("read").expect("another process finds it");
    assert!(!Arc::ptr_eq(&adopted, &created));
    assert_eq!(adopted.state(), created.state());

    let before = adopted.state().expect("state");
    adopted.update(|s| {
        s.initialized = true;
        std::sync::Arc::make_mut(&mut s.subscriptions).insert("file:///a".into());
    });
    second.save(&id, &adopted, &before).await;
    let again = first.get(&id).await.expect("read").expect("still there");
    assert!(Arc::ptr_eq(&again, &created), "the process keeps its own object");
    let state = again.state().expect("state");
    assert!(state.initialized && state.subscriptions.contains("file:///a"), "{state:?}");

    assert!(second.remove(&id).await);
    assert!(first.get(&id).await.expect("read").is_none(), "ended everywhere");
    assert!(!first.remove(&id).await);
    assert!(second.get("0123456789abcdef0123456789abcdef").await.expect("read").is_none());

    // A change saved after the session ended elsewhere does not bring it back.
    let ended = second.create(initialized()).await.expect("created");
    let local = first.get(&ended).await.expect("read").expect("found");
    assert!(second.remove(&ended).await);
    let before = local.state().expect("state");
    local.update(|s| s.initialized = true);
    first.save(&ended, &local, &before).await;
    assert!(second.get(&ended).await.expect("read").is_none(), "still ended");
}

#[tokio::test]
async fn changes_made_at_once_through_two_processes_are_all_kept() {
    if !mocopr_testing::installed("redis-server", "apt-get install redis-server") {
        return;
    }
    let redis = redis();
    let (first, second) = (sessions(&redis.url()), sessions(&redis.url()));
    let id = first.create(initialized()).await.expect("created");
    let here = first.get(&id).await.expect("read").expect("found");
    let there = second.get(&id).await.expect("read").expect("found");
    // Both read the same state, then each subscribes to a different URI.
    let (before_here, before_there) = (here.state().expect("state"), there.state().expect("state"));
    here.update(|s| {
        std::sync::Arc::make_mut(&mut s.subscriptions).insert("file:///a".into());
    });
    there.update(|s| {
        std::sync::Arc::make_mut(&mut s.subscriptions).insert("file:///b".into());
        s.initialized = true;
    });
    tokio::join!(first.save(&id, &here, &before_here), second.save(&id, &there, &before_there));
    let state = first.get(&id).await.expect("read").expect("found").state().expect("state");
    assert_eq!(state.subscriptions.iter().map(String::as_str).collect::<Vec<_>>(), ["file:///a", "file:///b"]);
    assert!(state.initialized);

    // An unsubscribe (a request: it reads the session first) removes only its URI.
    let there = second.get(&id).await.expect("read").expect("found");
    let before = there.state().expect("state");
    there.update(|s| {
        std::sync::Arc::make_mut(&mut s.subscriptions).remove("file:///a");
    });
    second.save(&id, &there, &before).await;
    let state = first.get(&id).await.expect("read").expect("found").state().expect("state");
    assert_eq!(state.subscriptions.iter().map(String::as_str).collect::<Vec<_>>(), ["file:///b"]);
}

#[tokio::test]
async fn sessions_expire_when_idle_and_use_keeps_them() {
    if !mocopr_testing::installed("redis-server", "apt-get install redis-server") {
        return;
    }
    let redis = redis();
    let store = sessions(&redis.url()).with_idle_timeout(Duration::from_millis(400));
    let other = sessions(&redis.url()).with_idle_timeout(Duration::from_millis(400));
    let used = store.create(initialized()).await.expect("created");
    let idle = store.create(initialized()).await.expect("created");
    for _ in 0..6 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(other.get(&used).await.expect("read").is_some(), "each use renews it");
    }
    assert!(other.get(&idle).await.expect("read").is_none(), "the idle one expired");
    assert!(store.get(&idle).await.expect("read").is_none(), "and its local copy is dropped");
}

#[tokio::test]
async fn a_session_made_while_redis_is_down_works_locally_and_is_shared_once_redis_is_back() {
    if !mocopr_testing::installed("redis-server", "apt-get install redis-server") {
        return;
    }
    let port = free_port().expect("port");
    let url = format!("redis://127.0.0.1:{port}/");
    let (first, second) = (sessions(&url), sessions(&url));
    let started = Instant::now();
    let id = first.create(initialized()).await.expect("created without Redis");
    assert!(first.get(&id).await.expect("local").is_some(), "served from the local copy");
    assert!(second.get(&id).await.is_err(), "another process cannot tell: unavailable, not ended");
    assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());

    let _redis = RedisServer::start_on(port).expect("redis-server");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        // A use through the creating process writes it to Redis.
        assert!(first.get(&id).await.expect("local").is_some());
        if second.get(&id).await.is_ok_and(|found| found.is_some()) {
            break;
        }
        assert!(Instant::now() < deadline, "never shared");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn redis_holds_at_most_max_sessions_over_every_process() {
    if !mocopr_testing::installed("redis-server", "apt-get install redis-server") {
        return;
    }
    let redis = redis();
    let idle = Duration::from_secs(2);
    let first = sessions(&redis.url()).with_max_sessions(2).with_idle_timeout(idle);
    let second = sessions(&redis.url()).with_max_sessions(2).with_idle_timeout(idle);
    let a = first.create(initialized()).await.expect("room");
    let _b = second.create(initialized()).await.expect("room");
    assert!(first.create(initialized()).await.is_none(), "two in Redis, counted over both processes");
    assert!(second.create(initialized()).await.is_none());
    assert!(second.remove(&a).await, "ended through the other process");
    let c = first.create(initialized()).await.expect("the ended one made room");
    // An id of another shape names no session: it cannot reach the index (`index` would).
    assert!(!first.remove("index").await);
    assert!(first.get("index").await.unwrap().is_none());
    assert!(second.create(initialized()).await.is_none(), "still counted after the forged DELETE");
    // Used sessions stay; unused ones expire and make room.
    for _ in 0..5 {
        tokio::time::sleep(idle / 4).await;
        assert!(first.get(&c).await.unwrap().is_some(), "in use, so kept");
    }
    let d = second.create(initialized()).await.expect("the unused one expired and made room");
    assert!(first.create(initialized()).await.is_none(), "c (used) and d");
    assert!(second.get(&d).await.unwrap().is_some());
}

#[tokio::test]
async fn local_session_objects_are_bounded_in_bytes() {
    if !mocopr_testing::installed("redis-server", "apt-get install redis-server") {
        return;
    }
    let redis = redis();
    // Room for about two sessions' objects in this process.
    let store = sessions(&redis.url()).with_local_max_bytes(2 * initialized().state().unwrap().memory_size() + 100);
    // One at a time: a copy is kept until Redis has it, so concurrent first requests could
    // find no copy that may go.
    let mut ids = Vec::new();
    for _ in 0..5 {
        ids.push(store.create(initialized()).await.expect("older copies make room"));
    }
    for id in &ids {
        assert!(store.get(id).await.unwrap().is_some(), "each served, made again from Redis when dropped here");
    }
}

#[tokio::test]
async fn copies_redis_never_had_go_once_unused_past_the_idle_timeout() {
    if !mocopr_testing::installed("redis-server", "apt-get install redis-server") {
        return;
    }
    // Redis is down: a session lives only in this process, and its copy cannot go while its
    // client may come back; once unused past the idle timeout it makes room.
    let url = format!("redis://127.0.0.1:{}/", free_port().expect("port"));
    let idle = Duration::from_millis(300);
    let store =
        sessions(&url).with_idle_timeout(idle).with_local_max_bytes(initialized().state().unwrap().memory_size() + 100);
    let first = store.create(initialized()).await.expect("served locally while Redis is down");
    assert!(store.create(initialized()).await.is_none(), "no room: the only copy is the first session's");
    tokio::time::sleep(idle * 2).await;
    assert!(store.create(initialized()).await.is_some(), "the abandoned copy made room");
    assert!(store.get(&first).await.is_err() || store.get(&first).await.unwrap().is_none());
}

/// A POST's event stream recorded by one process is replayed by another after any of its
/// event ids, once each and in order, says when it ended, and belongs to its session.
#[tokio::test]
async fn a_request_stream_recorded_by_one_process_is_replayed_by_another() {
    if !mocopr_testing::installed("redis-server", "apt-get install redis-server") {
        return;
    }
    let redis = redis();
    let (producer, resumer) = (events(&redis.url()), events(&redis.url()));
    let stream = RequestStream::new("ab12", "session-1");
    assert!(producer.append_to_stream(&stream, 0, Bytes::new(), false).await, "the priming event");
    for seq in 1..=3 {
        assert!(producer.append_to_stream(&stream, seq, Bytes::from(format!("m{seq}")), false).await);
    }
    let replay = resumer.replay_stream_after("ab12", 1).await.expect("Redis answers").expect("a known stream");
    assert_eq!(replay.session, "session-1");
    assert_eq!(replay.events, [(2, Bytes::from("m2")), (3, Bytes::from("m3"))]);
    assert!(!replay.ended);
    assert!(producer.append_to_stream(&stream, 4, Bytes::from_static(b"answer"), true).await);
    let replay = resumer.replay_stream_after("ab12", 3).await.expect("Redis answers").expect("a known stream");
    assert_eq!((replay.events, replay.ended), (vec![(4, Bytes::from("answer"))], true));
    let replay = resumer.replay_stream_after("ab12", 4).await.expect("Redis answers").expect("a known stream");
    assert!(replay.events.is_empty() && replay.ended);
    assert!(resumer.replay_stream_after("cd34", 0).await.expect("Redis answers").is_none(), "an unknown stream");
    // An event that could not be recorded leaves a hole no replay skips.
    let holed = RequestStream::new("ef56", "session-1");
    producer.append_to_stream(&holed, 0, Bytes::new(), false).await;
    producer.append_to_stream(&holed, 2, Bytes::from_static(b"after a hole"), false).await;
    assert!(resumer.replay_stream_after("ef56", 0).await.expect("Redis answers").is_none());
}

/// A request stream keeps its newest events within `MAX_STREAM_BYTES` (a resume from before
/// them is refused, one after them works), a forgotten stream is refused, and a Redis that does
/// not answer is told apart from a stream that is not there.
#[tokio::test]
async fn a_request_stream_is_bounded_in_bytes_forgotten_on_demand_and_redis_down_is_an_error() {
    if !mocopr_testing::installed("redis-server", "apt-get install redis-server") {
        return;
    }
    let redis = redis();
    let store = events(&redis.url());
    let stream = RequestStream::new("big1", "session-1");
    let mib = Bytes::from(vec![b'x'; 1024 * 1024]);
    for seq in 0..6 {
        assert!(store.append_to_stream(&stream, seq, mib.clone(), false).await, "event {seq} recorded");
    }
    assert!(store.append_to_stream(&stream, 6, Bytes::from_static(b"{}"), true).await, "the answer");
    // Kept: the newest that fit in 4 MiB (events 3, 4, 5 and the answer).
    assert!(store.replay_stream_after("big1", 0).await.expect("Redis answers").is_none(), "events 1, 2 are gone");
    let replay = store.replay_stream_after("big1", 2).await.expect("Redis answers").expect("a known stream");
    let kept: Vec<u64> = replay.events.iter().map(|(seq, _)| *seq).collect();
    assert_eq!((kept, replay.ended), (vec![3, 4, 5, 6], true));
    let client = redis::Client::open(redis.url()).expect("client");
    let mut connection = client.get_multiplexed_async_connection().await.expect("connect");
    let counted: u64 =
        redis::cmd("GET").arg("mcp:events:stream:{big1}:bytes").query_async(&mut connection).await.expect("GET");
    assert_eq!(counted, 3 * 1024 * 1024 + 2, "the counter holds what the entries carry");
    store.forget_stream("big1").await;
    assert!(store.replay_stream_after("big1", 0).await.expect("Redis answers").is_none(), "forgotten");
    drop(redis);
    assert!(store.replay_stream_after("big1", 0).await.is_err(), "Redis is gone: an error, not 'no such stream'");
}
