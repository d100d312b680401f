//! [`CountingProxy`]: a TCP proxy on loopback that counts the connections it carries, so a
//! test can tell how many connections a client opened (one for HTTP/2, several for HTTP/1.1).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::net::{TcpListener, TcpStream};

/// Forwards every connection to `127.0.0.1:target`, counting them. Stops accepting when dropped.
///
/// ```no_run
/// use mocopr_testing::CountingProxy;
///
/// # async fn run() -> std::io::Result<()> {
/// let proxy = CountingProxy::start(8443).await?;
/// let url = format!("https://localhost:{}/mcp", proxy.port());
/// // ... connect a client to `url`, make requests ...
/// println!("{} TCP connections", proxy.accepted());
/// # let _ = url; Ok(()) }
/// ```
#[derive(Debug)]
pub struct CountingProxy {
    port: u16,
    accepted: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl CountingProxy {
    /// A proxy on a free loopback port to the loopback port `target`.
    pub async fn start(target: u16) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let port = listener.local_addr()?.port();
        let accepted = Arc::new(AtomicUsize::new(0));
        let count = accepted.clone();
        let task = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                count.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(("127.0.0.1", target)).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
            }
        });
        Ok(CountingProxy { port, accepted, task })
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// How many connections it accepted.
    pub fn accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }
}

impl Drop for CountingProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}
