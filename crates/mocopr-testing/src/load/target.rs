//! The server under test: a command run as a child process (stdio) or a Streamable HTTP URL.

use std::fmt;
use std::time::Duration;

use mocopr_client::McpClient;
use mocopr_transport::child::ChildHandle;

use super::LoadError;
use crate::memory;

/// The server a load test sends to.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Target {
    /// A server started as a child process, spoken to over its stdio.
    Stdio {
        /// The program.
        program: String,
        /// Its arguments.
        args: Vec<String>,
    },
    /// A Streamable HTTP endpoint.
    Http(String),
}

impl Target {
    /// `stdio:PROGRAM ARG…` (split at whitespace, no shell quoting) or an `http://` URL.
    pub fn parse(spec: &str) -> Result<Self, LoadError> {
        if let Some(command) = spec.strip_prefix("stdio:") {
            let mut words = command.split_whitespace().map(str::to_owned);
            let program = words.next().ok_or_else(|| LoadError::Target("stdio: needs a command".into()))?;
            return Ok(Target::Stdio { program, args: words.collect() });
        }
        if spec.starts_with("http://") {
            return Ok(Target::Http(spec.to_owned()));
        }
        Err(LoadError::Target(format!("{spec:?}: expected stdio:COMMAND or an http:// URL")))
    }

    /// Connects `clients` simulated clients.
    pub(crate) async fn connect(&self, clients: usize, timeout: Duration) -> Result<Connected, LoadError> {
        let builder =
            || McpClient::builder().with_info("mocopr-loadtest", env!("CARGO_PKG_VERSION")).with_timeout(timeout);
        match self {
            Target::Stdio { program, args } => {
                let mut command = tokio::process::Command::new(program);
                command.args(args);
                let (client, child) = builder()
                    .connect_child(command)
                    .await
                    .map_err(|e| LoadError::Target(format!("cannot start or reach {self}: {e}")))?;
                Ok(Connected { clients: vec![client; clients], child: Some(child) })
            }
            Target::Http(url) => {
                let mut connected = Vec::with_capacity(clients);
                for _ in 0..clients {
                    let client = builder()
                        .connect_http(url)
                        .await
                        .map_err(|e| LoadError::Target(format!("cannot reach {url}: {e}")))?;
                    connected.push(client);
                }
                Ok(Connected { clients: connected, child: None })
            }
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Stdio { program, args } => {
                write!(f, "stdio:{program}")?;
                args.iter().try_for_each(|a| write!(f, " {a}"))
            }
            Target::Http(url) => f.write_str(url),
        }
    }
}

/// The simulated clients, and the server process when the test started it.
pub(crate) struct Connected {
    pub(crate) clients: Vec<McpClient>,
    child: Option<ChildHandle>,
}

impl Connected {
    /// The child server's peak resident memory so far.
    pub(crate) fn peak_rss(&self) -> Option<u64> {
        memory::peak_rss_bytes(self.child.as_ref()?.id()?)
    }

    /// Lets the clients go and stops the child server.
    pub(crate) async fn close(self) {
        drop(self.clients);
        if let Some(child) = self.child {
            let _ = child.shutdown().await;
        }
    }
}
