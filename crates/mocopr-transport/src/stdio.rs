//! Non-blocking stdin and stdout.
//!
//! tokio's own `stdin()`/`stdout()` hand every read and write to a blocking thread, a thread hop
//! per message. When stdin/stdout are pipes or sockets (the normal case for an MCP server started
//! by a client), MoCoPr instead registers duplicates of them with the reactor in non-blocking
//! mode, like a socket. When that is impossible (a regular file, which epoll refuses), it falls
//! back to tokio's blocking handles. The original file status flags are restored on drop, since
//! `O_NONBLOCK` belongs to the file description shared with the parent process.

use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::pin::Pin;
use std::task::{Context, Poll};

use rustix::fs::{OFlags, fcntl_getfl, fcntl_setfl};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::unix::pipe;

/// Restores a standard stream's file status flags when dropped.
#[derive(Debug)]
struct RestoreFlags {
    fd: OwnedFd,
    original: OFlags,
}

impl RestoreFlags {
    fn capture(fd: impl AsFd) -> io::Result<Self> {
        let fd = rustix::io::dup(fd)?;
        let original = fcntl_getfl(&fd)?;
        Ok(RestoreFlags { fd, original })
    }
}

impl Drop for RestoreFlags {
    fn drop(&mut self) {
        // Best effort: the process may be exiting and the peer gone.
        let _ = fcntl_setfl(&self.fd, self.original);
    }
}

/// The process's stdin, readable without a blocking thread where the OS allows.
#[derive(Debug)]
pub struct Stdin {
    inner: StdinInner,
}

#[derive(Debug)]
enum StdinInner {
    /// The flags guard lives as long as the registered pipe.
    Reactor(pipe::Receiver, #[allow(dead_code)] RestoreFlags),
    Blocking(tokio::io::Stdin),
}

/// The process's stdout, writable without a blocking thread where the OS allows.
#[derive(Debug)]
pub struct Stdout {
    inner: StdoutInner,
}

#[derive(Debug)]
enum StdoutInner {
    /// The flags guard lives as long as the registered pipe.
    Reactor(pipe::Sender, #[allow(dead_code)] RestoreFlags),
    Blocking(tokio::io::Stdout),
}

fn reactor_stdin() -> io::Result<StdinInner> {
    let restore = RestoreFlags::capture(std::io::stdin())?;
    let fd = rustix::io::dup(std::io::stdin())?;
    // Accepts pipes, sockets and terminals; a regular file fails registration and falls back.
    Ok(StdinInner::Reactor(pipe::Receiver::from_owned_fd_unchecked(fd)?, restore))
}

fn reactor_stdout() -> io::Result<StdoutInner> {
    let restore = RestoreFlags::capture(std::io::stdout())?;
    let fd = rustix::io::dup(std::io::stdout())?;
    Ok(StdoutInner::Reactor(pipe::Sender::from_owned_fd_unchecked(fd)?, restore))
}

/// Opens stdin. Must be called within a tokio runtime with I/O enabled.
pub fn stdin() -> Stdin {
    Stdin { inner: reactor_stdin().unwrap_or_else(|_| StdinInner::Blocking(tokio::io::stdin())) }
}

/// Opens stdout. Must be called within a tokio runtime with I/O enabled.
pub fn stdout() -> Stdout {
    Stdout { inner: reactor_stdout().unwrap_or_else(|_| StdoutInner::Blocking(tokio::io::stdout())) }
}

impl Stdin {
    /// Whether reads go through the reactor (no blocking thread).
    pub fn is_non_blocking(&self) -> bool {
        matches!(self.inner, StdinInner::Reactor(..))
    }
}

impl Stdout {
    /// Whether writes go through the reactor (no blocking thread).
    pub fn is_non_blocking(&self) -> bool {
        matches!(self.inner, StdoutInner::Reactor(..))
    }
}

impl AsyncRead for Stdin {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        match &mut self.get_mut().inner {
            StdinInner::Reactor(pipe, _) => Pin::new(pipe).poll_read(cx, buf),
            StdinInner::Blocking(stdin) => Pin::new(stdin).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Stdout {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
        match &mut self.get_mut().inner {
            StdoutInner::Reactor(pipe, _) => Pin::new(pipe).poll_write(cx, data),
            StdoutInner::Blocking(stdout) => Pin::new(stdout).poll_write(cx, data),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match &mut self.get_mut().inner {
            StdoutInner::Reactor(pipe, _) => Pin::new(pipe).poll_flush(cx),
            StdoutInner::Blocking(stdout) => Pin::new(stdout).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match &mut self.get_mut().inner {
            StdoutInner::Reactor(pipe, _) => Pin::new(pipe).poll_shutdown(cx),
            StdoutInner::Blocking(stdout) => Pin::new(stdout).poll_shutdown(cx),
        }
    }
}
