//! Wake-ups at a schedule's instants to well under a millisecond.
//!
//! Tokio's timer counts in whole milliseconds, so a request due at a given instant would start up
//! to a millisecond (and a scheduler tick) late, and a schedule-based latency would carry that
//! lateness as if the server had spent it. One thread holds every client's next instant and
//! sleeps on a channel with a timeout (a futex wait, precise to tens of microseconds on Linux),
//! then wakes the client whose instant has come.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::Instant;

use tokio::sync::oneshot;

/// A waiting client: its instant, and how to wake it.
struct Waiting {
    due: Instant,
    wake: oneshot::Sender<()>,
}

impl PartialEq for Waiting {
    fn eq(&self, other: &Self) -> bool {
        self.due == other.due
    }
}

impl Eq for Waiting {}

impl PartialOrd for Waiting {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Waiting {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.due.cmp(&other.due)
    }
}

/// The pacing thread's handle; the thread ends when the last handle is dropped.
#[derive(Debug, Clone)]
pub(crate) struct Pacer {
    waiting: mpsc::Sender<Waiting>,
}

impl Pacer {
    /// Starts the pacing thread.
    pub(crate) fn start() -> std::io::Result<Self> {
        let (waiting, arrivals) = mpsc::channel::<Waiting>();
        std::thread::Builder::new().name("mocopr-load-pacer".into()).spawn(move || pace(arrivals))?;
        Ok(Pacer { waiting })
    }

    /// Waits until `due` (not at all when it has passed).
    pub(crate) async fn until(&self, due: Instant) {
        if due <= Instant::now() {
            return;
        }
        let (wake, woken) = oneshot::channel();
        if self.waiting.send(Waiting { due, wake }).is_err() {
            // The thread is gone (it cannot be while a handle lives): fall back to the timer.
            return tokio::time::sleep_until(due.into()).await;
        }
        let _ = woken.await;
    }
}

fn pace(arrivals: mpsc::Receiver<Waiting>) {
    let mut heap: BinaryHeap<Reverse<Waiting>> = BinaryHeap::new();
    loop {
        let now = Instant::now();
        while heap.peek().is_some_and(|Reverse(w)| w.due <= now) {
            if let Some(Reverse(waiting)) = heap.pop() {
                let _ = waiting.wake.send(());
            }
        }
        let arrived = match heap.peek() {
            None => arrivals.recv().map_err(|_| RecvTimeoutError::Disconnected),
            Some(Reverse(next)) => arrivals.recv_timeout(next.due.saturating_duration_since(now)),
        };
        match arrived {
            Ok(waiting) => heap.push(Reverse(waiting)),
            Err(RecvTimeoutError::Timeout) => {}
            // No handle is left, so nobody waits.
            Err(RecvTimeoutError::Disconnected) => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn clients_wake_at_their_instants_in_order_never_before() {
        let pacer = Pacer::start().expect("thread");
        let start = Instant::now();
        let dues: Vec<Instant> = [30u64, 10, 20].iter().map(|ms| start + Duration::from_millis(*ms)).collect();
        let woke = |due: Instant| {
            let pacer = &pacer;
            async move {
                pacer.until(due).await;
                Instant::now()
            }
        };
        let (a, b, c) = tokio::join!(woke(dues[0]), woke(dues[1]), woke(dues[2]));
        let woken = [a, b, c];
        for (due, woke) in dues.iter().zip(&woken) {
            assert!(woke >= due, "woke {:?} before its instant", due.duration_since(*woke));
        }
        assert!(woken[1] <= woken[2] && woken[2] <= woken[0], "in the order of their instants");
    }

    #[tokio::test]
    async fn an_instant_already_past_returns_at_once() {
        let pacer = Pacer::start().expect("thread");
        let past = Instant::now();
        // A wait that went through the thread would never end: nothing else runs it here.
        drop(pacer.clone());
        tokio::time::timeout(Duration::from_secs(5), pacer.until(past)).await.expect("at once");
    }
}
