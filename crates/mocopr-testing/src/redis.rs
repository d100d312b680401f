//! A real `redis-server` for tests.

use std::io;
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long `redis-server` may take to accept connections.
const START_TIMEOUT: Duration = Duration::from_secs(10);

/// A loopback port nothing listens on right now.
pub fn free_port() -> io::Result<u16> {
    TcpListener::bind("127.0.0.1:0")?.local_addr().map(|a| a.port())
}

/// A `redis-server` child process on loopback, killed (and reaped) when dropped.
#[derive(Debug)]
pub struct RedisServer {
    child: Child,
    port: u16,
}

impl RedisServer {
    /// Starts `redis-server` on a free port and waits until it accepts connections.
    ///
    /// ```no_run
    /// use mocopr_testing::RedisServer;
    ///
    /// let redis = RedisServer::start().expect("redis-server is installed");
    /// let url = redis.url(); // redis://127.0.0.1:<port>
    /// # let _ = url;
    /// // stopped when `redis` is dropped
    /// ```
    pub fn start() -> io::Result<Self> {
        Self::start_on(free_port()?)
    }

    /// Starts `redis-server` on `port` (e.g. again on the port of one that was stopped).
    pub fn start_on(port: u16) -> io::Result<Self> {
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| io::Error::new(e.kind(), format!("cannot run redis-server (is it installed?): {e}")))?;
        // Dropped (and so killed) if it never answers.
        let mut server = RedisServer { child, port };
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Some(status) = server.child.try_wait()? {
                return Err(io::Error::other(format!("redis-server exited at start: {status}")));
            }
            if started.elapsed() > START_TIMEOUT {
                return Err(io::Error::new(io::ErrorKind::TimedOut, "redis-server did not start"));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(server)
    }

    /// Its port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `redis://127.0.0.1:<port>/`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// Freezes the server (SIGSTOP): connections stay open, nothing is answered.
    pub fn pause(&self) -> io::Result<()> {
        self.signal("-STOP")
    }

    /// Lets a paused server go on (SIGCONT).
    pub fn resume(&self) -> io::Result<()> {
        self.signal("-CONT")
    }

    fn signal(&self, which: &str) -> io::Result<()> {
        let status = Command::new("kill").args([which, &self.child.id().to_string()]).status()?;
        if status.success() { Ok(()) } else { Err(io::Error::other(format!("kill {which} failed: {status}"))) }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        // A paused server must be let go on before it can exit.
        let _ = self.signal("-CONT");
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
