//! Newline-delimited framing over any async byte stream: a [`FrameReader`] that hands out every
//! complete frame of a read at once, and a writer task fed by a bounded [`FrameSink`] that
//! coalesces queued messages into as few writes as possible.
//!
//! Reading in batches and writing coalesced is what makes a stdio server fast: one `read` of many
//! requests becomes one `write` of many responses.

use std::collections::VecDeque;

use bytes::{Bytes, BytesMut};
use mocopr_core::framing::{FrameDecoder, FrameError};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::config::FramingConfig;
use crate::error::TransportError;

/// One item read from the peer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inbound {
    /// A complete frame (one JSON-RPC message or batch), without its newline.
    Frame(Bytes),
    /// A line that broke the framing rules (too large); the stream continues after it.
    Invalid(FrameError),
}

/// A read buffer larger than this (and than four reads) is given back once empty.
const SHRINK_ABOVE: usize = 1024 * 1024;

/// Reads newline-delimited frames from `R`.
#[derive(Debug)]
pub struct FrameReader<R> {
    io: R,
    buf: BytesMut,
    decoder: FrameDecoder,
    read_size: usize,
    done: bool,
    /// Items decoded by a batch read but not yet handed out by [`FrameReader::next`].
    pending: VecDeque<Inbound>,
}

impl<R: AsyncRead + Unpin> FrameReader<R> {
    /// A reader over `io` with the limits of `config`.
    pub fn new(io: R, config: &FramingConfig) -> Self {
        FrameReader {
            io,
            buf: BytesMut::with_capacity(config.read_buffer_size),
            decoder: FrameDecoder::new(config.max_frame_size),
            read_size: config.read_buffer_size,
            done: false,
            pending: VecDeque::new(),
        }
    }

    /// Waits until at least one item is available, then appends every item available now to
    /// `out`. Returns `Ok(false)` once the peer closed its side and nothing is left.
    pub async fn read_batch(&mut self, out: &mut Vec<Inbound>) -> Result<bool, TransportError> {
        loop {
            let before = out.len();
            out.extend(self.pending.drain(..));
            self.drain(out);
            if out.len() > before {
                return Ok(true);
            }
            if self.done {
                return Ok(false);
            }
            // A large line grew the buffer; once it is handed out (or skipped), the memory goes
            // back rather than staying at the largest line ever seen.
            if self.buf.is_empty() && self.buf.capacity() > SHRINK_ABOVE.max(4 * self.read_size) {
                self.buf = BytesMut::with_capacity(self.read_size);
            }
            self.buf.reserve(self.read_size);
            if self.io.read_buf(&mut self.buf).await? == 0 {
                self.done = true;
                match self.decoder.decode_eof(&mut self.buf) {
                    Ok(Some(frame)) => out.push(Inbound::Frame(frame)),
                    Ok(None) => {}
                    Err(e) => out.push(Inbound::Invalid(e)),
                }
            }
        }
    }

    /// The next item, or `None` at the end of input.
    pub async fn next(&mut self) -> Option<Result<Inbound, TransportError>> {
        if self.pending.is_empty() {
            let mut batch = Vec::new();
            match self.read_batch(&mut batch).await {
                Err(e) => return Some(Err(e)),
                Ok(false) => return None,
                Ok(true) => self.pending.extend(batch),
            }
        }
        self.pending.pop_front().map(Ok)
    }

    fn drain(&mut self, out: &mut Vec<Inbound>) {
        loop {
            match self.decoder.decode(&mut self.buf) {
                Ok(Some(frame)) => out.push(Inbound::Frame(frame)),
                Ok(None) => return,
                Err(e) => out.push(Inbound::Invalid(e)),
            }
        }
    }

    /// The underlying stream.
    pub fn get_ref(&self) -> &R {
        &self.io
    }
}

/// What the writer task writes: complete frames, or one frame whose bytes arrive in pieces
/// (a streamed result), which it writes through before anything else.
#[derive(Debug)]
enum Outbound {
    Frames(Bytes),
    Stream(mpsc::Receiver<Bytes>),
}

/// Sends frames to the writer task. Cheap to clone; bounded, so a slow peer slows its senders
/// instead of growing memory.
#[derive(Debug, Clone)]
pub struct FrameSink {
    tx: mpsc::Sender<Outbound>,
}

impl FrameSink {
    /// Queues bytes holding one or more complete frames, each ending in `\n`.
    pub async fn send(&self, frames: Bytes) -> Result<(), TransportError> {
        self.tx.send(Outbound::Frames(frames)).await.map_err(|_| TransportError::Closed)
    }

    /// Queues without waiting; fails when the queue is full or closed.
    pub fn try_send(&self, frames: Bytes) -> Result<(), TransportError> {
        self.tx.try_send(Outbound::Frames(frames)).map_err(|_| TransportError::Closed)
    }

    /// Queues one frame that arrives in pieces on `chunks` (the last piece ends in `\n`). The
    /// writer writes the pieces as they come and nothing else until `chunks` closes, so frames
    /// never interleave.
    pub async fn send_stream(&self, chunks: mpsc::Receiver<Bytes>) -> Result<(), TransportError> {
        self.tx.send(Outbound::Stream(chunks)).await.map_err(|_| TransportError::Closed)
    }

    /// Whether the writer is gone.
    pub fn is_closed(&self) -> bool {
        self.tx.is_closed()
    }
}

/// Starts the writer task for `io`: it writes queued frames, coalescing whatever is queued into
/// one write of up to `write_buffer_size` bytes, and ends (flushing and shutting `io` down) when
/// every [`FrameSink`] is dropped.
pub fn spawn_writer<W>(io: W, config: &FramingConfig) -> (FrameSink, JoinHandle<Result<(), TransportError>>)
where
    W: AsyncWrite + Unpin + Send + 'static,
{
    let (tx, rx) = mpsc::channel(config.outbound_queue);
    let handle = tokio::spawn(write_loop(io, rx, config.write_buffer_size));
    (FrameSink { tx }, handle)
}

async fn write_loop<W: AsyncWrite + Unpin>(
    mut io: W,
    mut rx: mpsc::Receiver<Outbound>,
    coalesce: usize,
) -> Result<(), TransportError> {
    let mut buf = BytesMut::with_capacity(coalesce);
    let mut next: Option<Outbound> = None;
    loop {
        let item = match next.take() {
            Some(item) => item,
            None => match rx.recv().await {
                Some(item) => item,
                None => break,
            },
        };
        match item {
            Outbound::Stream(mut chunks) => {
                while let Some(chunk) = chunks.recv().await {
                    io.write_all(&chunk).await?;
                }
                io.flush().await?;
            }
            Outbound::Frames(first) => {
                // A lone message goes out as is; several queued ones are gathered into one write.
                match rx.try_recv() {
                    Ok(Outbound::Frames(second)) => {
                        buf.extend_from_slice(&first);
                        buf.extend_from_slice(&second);
                        while buf.len() < coalesce {
                            match rx.try_recv() {
                                Ok(Outbound::Frames(more)) => buf.extend_from_slice(&more),
                                Ok(stream) => {
                                    next = Some(stream);
                                    break;
                                }
                                Err(_) => break,
                            }
                        }
                        io.write_all(&buf).await?;
                        buf.clear();
                    }
                    Ok(stream) => {
                        next = Some(stream);
                        io.write_all(&first).await?;
                    }
                    Err(_) => io.write_all(&first).await?,
                }
                io.flush().await?;
            }
        }
    }
    io.shutdown().await?;
    Ok(())
}

#[cfg(test)]
#[path = "framed_tests.rs"]
mod tests;
