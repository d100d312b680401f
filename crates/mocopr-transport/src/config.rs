//! [`TransportConfig`]: buffer sizes, frame limit and queue bounds of a byte-stream transport.

use mocopr_core::framing::DEFAULT_MAX_FRAME_SIZE;

use crate::error::TransportError;

/// Default size of each read from the peer.
pub const DEFAULT_READ_BUFFER_SIZE: usize = 64 * 1024;
/// Default size above which the writer stops coalescing and writes.
pub const DEFAULT_WRITE_BUFFER_SIZE: usize = 64 * 1024;
/// Default number of outbound messages queued before senders wait.
pub const DEFAULT_OUTBOUND_QUEUE: usize = 1024;

/// Knobs of a byte-stream transport (stdio, child process, in-memory pair).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct TransportConfig {
    /// How many bytes to read at a time.
    pub read_buffer_size: usize,
    /// How many bytes of outbound messages to coalesce into one write.
    pub write_buffer_size: usize,
    /// Largest frame accepted or sent (16 MiB by default).
    pub max_frame_size: usize,
    /// Outbound messages queued before senders wait (back-pressure).
    pub outbound_queue: usize,
}

impl Default for TransportConfig {
    fn default() -> Self {
        TransportConfig {
            read_buffer_size: DEFAULT_READ_BUFFER_SIZE,
            write_buffer_size: DEFAULT_WRITE_BUFFER_SIZE,
            max_frame_size: DEFAULT_MAX_FRAME_SIZE,
            outbound_queue: DEFAULT_OUTBOUND_QUEUE,
        }
    }
}

impl TransportConfig {
    /// Sets the read size.
    pub fn with_read_buffer_size(mut self, bytes: usize) -> Self {
        self.read_buffer_size = bytes;
        self
    }

    /// Sets the write coalescing size.
    pub fn with_write_buffer_size(mut self, bytes: usize) -> Self {
        self.write_buffer_size = bytes;
        self
    }

    /// Sets the largest frame.
    pub fn with_max_frame_size(mut self, bytes: usize) -> Self {
        self.max_frame_size = bytes;
        self
    }

    /// Sets the outbound queue bound.
    pub fn with_outbound_queue(mut self, messages: usize) -> Self {
        self.outbound_queue = messages;
        self
    }

    /// Checks that every limit is usable.
    pub fn validate(&self) -> Result<(), TransportError> {
        let check = |name: &'static str, value: usize| {
            if value == 0 {
                Err(TransportError::InvalidConfig { setting: name, reason: "must be greater than zero" })
            } else {
                Ok(())
            }
        };
        check("read_buffer_size", self.read_buffer_size)?;
        check("write_buffer_size", self.write_buffer_size)?;
        check("max_frame_size", self.max_frame_size)?;
        check("outbound_queue", self.outbound_queue)
    }
}
