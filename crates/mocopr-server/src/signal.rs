//! [`shutdown_signal`]: the signal a server process stops on, for
//! [`serve_stdio_until`](crate::serve_stdio_until) and `serve_http(..).with_graceful_shutdown(..)`.

/// Resolves when the process is asked to stop: `SIGTERM` (what process managers and container
/// runtimes send) or `SIGINT` (Ctrl-C) on Unix, Ctrl-C elsewhere. A signal that cannot be
/// listened for is simply never heard.
///
/// ```no_run
/// use mocopr_server::{McpServer, StdioConfig, serve_stdio_until, shutdown_signal};
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let server = McpServer::builder().tool("hello", || async { "Hello!" }).build()?;
/// // Stops reading at SIGTERM, answers what is in flight (up to the drain timeout), returns.
/// serve_stdio_until(server, StdioConfig::default(), shutdown_signal()).await?;
/// # Ok(()) }
/// ```
pub async fn shutdown_signal() {
    let interrupt = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let terminate = async {
            match signal(SignalKind::terminate()) {
                Ok(mut terminate) => {
                    terminate.recv().await;
                }
                Err(_) => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            () = interrupt => {}
            () = terminate => {}
        }
    }
    #[cfg(not(unix))]
    interrupt.await;
}
