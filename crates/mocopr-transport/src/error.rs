//! [`TransportError`]: what can go wrong below the protocol.

use std::io;

/// A transport failure.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TransportError {
    /// Reading from or writing to the peer failed.
    #[error("transport I/O failed: {source}")]
    Io {
        /// The I/O error.
        #[from]
        source: io::Error,
    },
    /// The peer is gone: the outbound queue or the connection is closed.
    #[error("the connection is closed")]
    Closed,
    /// A configuration value is unusable.
    #[error("invalid transport setting `{setting}`: {reason}")]
    InvalidConfig {
        /// The setting.
        setting: &'static str,
        /// Why.
        reason: &'static str,
    },
    /// A child process could not be started.
    #[error("could not start `{program}`: {source}")]
    Spawn {
        /// The program.
        program: String,
        /// The cause.
        #[source]
        source: io::Error,
    },
}
