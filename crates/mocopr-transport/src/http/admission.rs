//! Which accepted connections the listener serves: at most `max_connections` in all and
//! `max_connections_per_peer` from one IP address. One over a bound is answered `503` and
//! closed at once, so a flood neither grows the accept queue nor waits there for room.
//! Also [`SlowWriteGuard`], the stream wrapper that closes a connection whose peer stops
//! reading.

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Sleep;

/// What a refused connection is told before it is closed.
const REFUSAL: &[u8] =
    b"HTTP/1.1 503 Service Unavailable\r\nconnection: close\r\nretry-after: 1\r\ncontent-length: 0\r\n\r\n";

/// Refusals being written at once; past that a refused connection is just closed.
const REFUSALS_IN_FLIGHT: usize = 64;

/// The bounds on connections, shared by the accept loop and every connection it serves.
pub(crate) struct Admission {
    connections: Arc<Semaphore>,
    per_peer: usize,
    peers: Arc<Mutex<HashMap<IpAddr, usize>>>,
    refusals: Arc<Semaphore>,
}

/// A served connection's place under the bounds, given back when it is dropped.
pub(crate) struct Admitted {
    _permit: OwnedSemaphorePermit,
    peer: IpAddr,
    peers: Arc<Mutex<HashMap<IpAddr, usize>>>,
}

impl Drop for Admitted {
    fn drop(&mut self) {
        let mut peers = self.peers.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(count) = peers.get_mut(&self.peer) {
            *count -= 1;
            if *count == 0 {
                peers.remove(&self.peer);
            }
        }
    }
}

impl Admission {
    pub(crate) fn new(max_connections: usize, per_peer: usize) -> Self {
        Admission {
            connections: Arc::new(Semaphore::new(max_connections.max(1))),
            per_peer: per_peer.max(1),
            peers: Arc::default(),
            refusals: Arc::new(Semaphore::new(REFUSALS_IN_FLIGHT)),
        }
    }

    /// A place for a connection from `peer`, or `None` when a bound is reached.
    pub(crate) fn admit(&self, peer: IpAddr) -> Option<Admitted> {
        let mut peers = self.peers.lock().unwrap_or_else(PoisonError::into_inner);
        let count = peers.get(&peer).copied().unwrap_or(0);
        if count >= self.per_peer {
            crate::limit_reached("max_connections_per_peer");
            return None;
        }
        let Ok(permit) = self.connections.clone().try_acquire_owned() else {
            crate::limit_reached("max_connections");
            return None;
        };
        peers.insert(peer, count + 1);
        Some(Admitted { _permit: permit, peer, peers: self.peers.clone() })
    }

    /// Tells `stream` the server is full and closes it, without holding up the accept loop.
    pub(crate) fn refuse(&self, mut stream: TcpStream) {
        let Ok(permit) = self.refusals.clone().try_acquire_owned() else { return };
        tokio::spawn(async move {
            let _permit = permit;
            let _ = tokio::time::timeout(Duration::from_secs(1), async {
                let _ = stream.write_all(REFUSAL).await;
                let _ = stream.shutdown().await;
                // Closing with the client's request unread would reset the connection and
                // lose the 503: read (a little of) what it sent first.
                let mut sink = [0u8; 4096];
                let mut left: usize = 64 * 1024;
                while left > 0 {
                    match stream.read(&mut sink).await {
                        Ok(0) | Err(_) => break,
                        Ok(read) => left = left.saturating_sub(read),
                    }
                }
            })
            .await;
        });
    }
}

/// A stream whose writes fail once one has waited `limit` for the peer to take bytes: a
/// client that stops reading its answers loses its connection instead of holding it.
pub(crate) struct SlowWriteGuard<T> {
    inner: T,
    limit: Option<Duration>,
    waiting: Option<Pin<Box<Sleep>>>,
}

impl<T> SlowWriteGuard<T> {
    pub(crate) fn new(inner: T, limit: Option<Duration>) -> Self {
        SlowWriteGuard { inner, limit, waiting: None }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for SlowWriteGuard<T> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> SlowWriteGuard<T> {
    /// Runs one write-side poll: ready ends the wait; pending starts (or checks) the timer.
    fn guard<R>(
        &mut self,
        cx: &mut Context<'_>,
        poll: impl FnOnce(Pin<&mut T>, &mut Context<'_>) -> Poll<io::Result<R>>,
    ) -> Poll<io::Result<R>> {
        match poll(Pin::new(&mut self.inner), cx) {
            Poll::Ready(result) => {
                self.waiting = None;
                Poll::Ready(result)
            }
            Poll::Pending => {
                let Some(limit) = self.limit else { return Poll::Pending };
                let waiting = self.waiting.get_or_insert_with(|| Box::pin(tokio::time::sleep(limit)));
                match waiting.as_mut().poll(cx) {
                    Poll::Ready(()) => {
                        Poll::Ready(Err(io::Error::new(io::ErrorKind::TimedOut, "the peer stopped reading")))
                    }
                    Poll::Pending => Poll::Pending,
                }
            }
        }
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for SlowWriteGuard<T> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.guard(cx, |inner, cx| inner.poll_write(cx, buf))
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.guard(cx, |inner, cx| inner.poll_flush(cx))
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.guard(cx, |inner, cx| inner.poll_write_vectored(cx, bufs))
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}
