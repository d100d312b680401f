//! Starting an example binary (or any server) as a child process and learning where it
//! listens: what the project's own tests of its examples do.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// The path of example `name` of the workspace, beside the running test binary
/// (`target/<profile>/examples/<name>`): cargo builds a package's examples before its
/// integration tests.
///
/// ```no_run
/// use mocopr_testing::example_path;
///
/// // In an integration test of the package that has `examples/echo-server.rs`:
/// let program = example_path("echo-server");
/// let child = std::process::Command::new(&program).spawn();
/// # let _ = child;
/// ```
pub fn example_path(name: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap_or_default();
    // target/<profile>/deps/<test binary>
    let profile_dir = exe.parent().and_then(|deps| deps.parent()).map(PathBuf::from).unwrap_or_default();
    profile_dir.join("examples").join(name)
}

/// A server child process that said where it listens (a line on its stderr naming an
/// `http://` or `https://` URL, as MoCoPr's examples print). Killed when dropped.
#[derive(Debug)]
pub struct ListeningServer {
    child: Child,
    url: String,
}

impl ListeningServer {
    /// Starts `command` (its stderr piped) and waits up to ten seconds for the line naming its
    /// URL; the rest of its stderr is passed on to this process's stderr.
    ///
    /// ```no_run
    /// use mocopr_testing::{ListeningServer, example_path};
    ///
    /// # async fn run() -> std::io::Result<()> {
    /// let mut command = tokio::process::Command::new(example_path("echo-server"));
    /// command.args(["http", "--bind", "127.0.0.1:0"]);
    /// let server = ListeningServer::start(command).await?;
    /// println!("MCP endpoint at {}", server.url());
    /// # Ok(()) }
    /// ```
    pub async fn start(mut command: Command) -> std::io::Result<Self> {
        let mut child = command.stderr(Stdio::piped()).kill_on_drop(true).spawn()?;
        let stderr = child.stderr.take().ok_or_else(|| std::io::Error::other("no stderr"))?;
        let mut lines = BufReader::new(stderr).lines();
        let url = tokio::time::timeout(Duration::from_secs(10), async {
            while let Some(line) = lines.next_line().await? {
                if let Some(at) = line.find("http://").or_else(|| line.find("https://")) {
                    let url = line[at..].split_whitespace().next().unwrap_or_default().to_owned();
                    return Ok(url);
                }
                eprintln!("{line}");
            }
            Err(std::io::Error::other("the server exited before saying where it listens"))
        })
        .await
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "the server did not say where it listens"))??;
        tokio::spawn(async move {
            while let Ok(Some(line)) = lines.next_line().await {
                eprintln!("{line}");
            }
        });
        Ok(ListeningServer { child, url })
    }

    /// The URL it printed (for MoCoPr's examples, the MCP endpoint).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The URL without its path: `http://host:port` (or `https://`).
    pub fn base_url(&self) -> &str {
        let after_scheme = self.url.find("://").map_or(0, |i| i + 3);
        match self.url[after_scheme..].find('/') {
            Some(slash) => &self.url[..after_scheme + slash],
            None => &self.url,
        }
    }

    /// The child process (to kill or signal it).
    pub fn child_mut(&mut self) -> &mut Child {
        &mut self.child
    }

    /// Its process id, while it runs.
    pub fn id(&self) -> Option<u32> {
        self.child.id()
    }
}
