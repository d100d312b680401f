//! Spawning an MCP server as a child process and talking to it over its stdin/stdout.
//!
//! Shutdown follows the stdio transport's advice: close the child's stdin, give it a grace
//! period to exit, then SIGTERM, then SIGKILL.

use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use tokio::process::{Child, ChildStdout, Command};

use crate::config::FramingConfig;
use crate::error::TransportError;
use crate::framed::{FrameReader, FrameSink, spawn_writer};

/// Default time a child gets to exit after its stdin is closed, and again after SIGTERM.
pub(crate) const DEFAULT_SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

/// What to do with the child's stderr.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Stderr {
    /// Share ours (the default: a server's logs stay visible).
    #[default]
    Inherit,
    /// Discard.
    Null,
}

/// A running child process speaking MCP on its stdio.
#[derive(Debug)]
pub struct ChildProcess {
    child: Child,
    /// Frames from the child's stdout.
    pub reader: FrameReader<ChildStdout>,
    /// Frames to the child's stdin. Dropping every clone closes the child's stdin.
    pub sink: FrameSink,
    grace: Duration,
}

impl ChildProcess {
    /// Spawns `command` with piped stdin/stdout.
    pub fn spawn(mut command: Command, stderr: Stderr, config: &FramingConfig) -> Result<Self, TransportError> {
        config.validate()?;
        let program = command.as_std().get_program().to_string_lossy().into_owned();
        command.stdin(Stdio::piped()).stdout(Stdio::piped()).kill_on_drop(true);
        command.stderr(match stderr {
            Stderr::Inherit => Stdio::inherit(),
            Stderr::Null => Stdio::null(),
        });
        let mut child = command.spawn().map_err(|source| TransportError::Spawn { program: program.clone(), source })?;
        let missing =
            || TransportError::Spawn { program: program.clone(), source: std::io::Error::other("stdio not piped") };
        let stdin = child.stdin.take().ok_or_else(missing)?;
        let stdout = child.stdout.take().ok_or_else(missing)?;
        let (sink, _writer) = spawn_writer(stdin, config);
        Ok(ChildProcess { child, reader: FrameReader::new(stdout, config), sink, grace: DEFAULT_SHUTDOWN_GRACE })
    }

    /// Sets the grace period used by [`ChildProcess::shutdown`].
    pub fn with_shutdown_grace(mut self, grace: Duration) -> Self {
        self.grace = grace;
        self
    }

    /// The child's process id, while it runs.
    pub fn id(&self) -> Option<u32> {
        self.child.id()
    }

    /// Splits into the frame reader, the frame sink and a handle that shuts the child down (for
    /// clients that run their own read loop).
    pub fn into_parts(self) -> (FrameReader<ChildStdout>, FrameSink, ChildHandle) {
        let ChildProcess { child, reader, sink, grace } = self;
        (reader, sink, ChildHandle { child, grace })
    }

    /// Closes the child's stdin, waits for it to exit, and escalates to SIGTERM and SIGKILL.
    pub async fn shutdown(self) -> Result<ExitStatus, TransportError> {
        let (reader, sink, handle) = self.into_parts();
        drop(sink);
        drop(reader);
        handle.shutdown().await
    }
}

/// The process side of a [`ChildProcess`] split with [`ChildProcess::into_parts`].
#[derive(Debug)]
pub struct ChildHandle {
    child: Child,
    grace: Duration,
}

impl ChildHandle {
    /// The child's process id, while it runs.
    pub fn id(&self) -> Option<u32> {
        self.child.id()
    }

    /// Waits for the child to exit once its stdin is closed (every sink dropped), escalating to
    /// SIGTERM and SIGKILL after the grace period.
    pub async fn shutdown(self) -> Result<ExitStatus, TransportError> {
        let ChildHandle { mut child, grace } = self;
        if let Ok(status) = tokio::time::timeout(grace, child.wait()).await {
            return Ok(status?);
        }
        if let Some(pid) = child.id().and_then(|id| rustix::process::Pid::from_raw(id as i32)) {
            let _ = rustix::process::kill_process(pid, rustix::process::Signal::TERM);
            if let Ok(status) = tokio::time::timeout(grace, child.wait()).await {
                return Ok(status?);
            }
        }
        child.kill().await?;
        Ok(child.wait().await?)
    }
}

#[cfg(test)]
#[path = "child_tests.rs"]
mod tests;
