//! Our `conformance-server` example as a child process, for the length of the server suites.

use std::fs::File;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long the server may take to accept TCP connections.
const START_TIMEOUT: Duration = Duration::from_secs(10);

/// Our `conformance-server` example on a free loopback port, killed when dropped.
pub(super) struct Server {
    child: Child,
    port: u16,
}

impl Server {
    /// Starts `<program> --port PORT`, its output going to `<out>/server.log`, and waits until
    /// it accepts connections.
    pub(super) fn start(program: &Path, out: &Path) -> Result<Self, String> {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| format!("no free loopback port: {e}"))?
            .port();
        let log_path = out.join("server.log");
        let log = File::create(&log_path).map_err(|e| format!("{}: {e}", log_path.display()))?;
        let stdout = log.try_clone().map_err(|e| e.to_string())?;
        eprintln!("\n==> start server: {} --port {port}", program.display());
        let child = Command::new(program)
            .args(["--port", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(log)
            .spawn()
            .map_err(|e| format!("could not start {}: {e}", program.display()))?;
        let mut server = Self { child, port };
        let address = SocketAddr::from(([127, 0, 0, 1], port));
        let start = Instant::now();
        while TcpStream::connect_timeout(&address, Duration::from_millis(200)).is_err() {
            let log = log_path.display();
            if let Ok(Some(status)) = server.child.try_wait() {
                return Err(format!("conformance-server exited ({status}); see {log}"));
            }
            if start.elapsed() > START_TIMEOUT {
                let secs = START_TIMEOUT.as_secs();
                return Err(format!("conformance-server did not listen on {address} within {secs} s; see {log}"));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(server)
    }

    /// The MCP endpoint the suites test.
    pub(super) fn url(&self) -> String {
        format!("http://127.0.0.1:{}/mcp", self.port)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
