//! [`FramingConfig`]: buffer sizes, frame limit and queue bound of a byte-stream transport.

use mocopr_core::framing::DEFAULT_MAX_FRAME_SIZE;

use crate::error::TransportError;

/// How a byte-stream transport (stdio, a child's pipes, an in-memory pair) frames and buffers
/// messages. Made with [`FramingConfig::builder`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct FramingConfig {
    /// How many bytes to read at a time.
    pub read_buffer_size: usize,
    /// How many bytes of outbound messages to coalesce into one write.
    pub write_buffer_size: usize,
    /// Largest frame accepted or sent.
    pub max_frame_size: usize,
    /// Outbound messages queued before senders wait (back-pressure).
    pub outbound_queue: usize,
}

impl Default for FramingConfig {
    fn default() -> Self {
        FramingConfig {
            read_buffer_size: 64 * 1024,
            write_buffer_size: 64 * 1024,
            max_frame_size: DEFAULT_MAX_FRAME_SIZE,
            outbound_queue: 1024,
        }
    }
}

impl FramingConfig {
    /// Starts from the defaults.
    ///
    /// ```
    /// use mocopr_transport::FramingConfig;
    ///
    /// let config = FramingConfig::builder()
    ///     .with_read_buffer_size(64 * 1024)
    ///     .with_write_buffer_size(64 * 1024)
    ///     .with_max_frame_size(16 * 1024 * 1024)
    ///     .build()
    ///     .unwrap();
    /// assert_eq!(config.max_frame_size, 16 * 1024 * 1024);
    /// ```
    pub fn builder() -> FramingConfigBuilder {
        FramingConfigBuilder { config: FramingConfig::default() }
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

/// Builds a [`FramingConfig`].
#[derive(Debug, Clone)]
pub struct FramingConfigBuilder {
    config: FramingConfig,
}

impl FramingConfigBuilder {
    /// Sets how many bytes are read at a time (default 64 KiB).
    pub fn with_read_buffer_size(mut self, bytes: usize) -> Self {
        self.config.read_buffer_size = bytes;
        self
    }

    /// Sets how many bytes of outbound messages are coalesced into one write (default 64 KiB).
    pub fn with_write_buffer_size(mut self, bytes: usize) -> Self {
        self.config.write_buffer_size = bytes;
        self
    }

    /// Sets the largest frame accepted or sent (default 16 MiB).
    pub fn with_max_frame_size(mut self, bytes: usize) -> Self {
        self.config.max_frame_size = bytes;
        self
    }

    /// Sets how many outbound messages are queued before senders wait (default 1,024).
    pub fn with_outbound_queue(mut self, messages: usize) -> Self {
        self.config.outbound_queue = messages;
        self
    }

    /// The configuration, or why a limit is unusable (zero).
    pub fn build(self) -> Result<FramingConfig, TransportError> {
        self.config.validate()?;
        Ok(self.config)
    }
}
