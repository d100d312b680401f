//! A server with a CPU-bound tool and a cheap one, on an in-memory connection.

use mocopr_client::McpClient;
use mocopr_core::service::{McpRequest, McpResponse};
use mocopr_core::types::Tool;
use mocopr_server::{HandlerError, McpServer, StdioConfig, serve_connection};
use mocopr_transport::FramingConfig;
use mocopr_transport::memory::pair;

/// Work the profiler should find: counts primes below `limit` by trial division.
#[inline(never)]
pub(crate) fn count_primes_slowly(limit: u64) -> u64 {
    (2..limit).filter(|n| (2..*n).take_while(|d| d * d <= *n).all(|d| n % d != 0)).count() as u64
}

pub(crate) fn server() -> McpServer {
    McpServer::builder()
        .tool(Tool::new("primes"), || async {
            Ok::<_, HandlerError>(count_primes_slowly(std::hint::black_box(20_000)).to_string())
        })
        .tool(Tool::new("nap"), || async {
            tokio::time::sleep(std::time::Duration::from_millis(1000)).await;
            Ok::<_, HandlerError>("rested")
        })
        .tool(Tool::new("echo"), || async { Ok::<_, HandlerError>("echo".repeat(64)) })
        .build()
        .expect("server")
}

/// A client connected to `service` over an in-memory pair.
pub(crate) async fn connect<S>(service: S) -> McpClient
where
    S: tower_service::Service<McpRequest, Response = McpResponse, Error = std::convert::Infallible>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
{
    let (client_end, server_end) = pair(&FramingConfig::default());
    tokio::spawn(serve_connection(service, server_end.reader, server_end.sink, StdioConfig::default()));
    McpClient::builder().connect(client_end.reader, client_end.sink).await.expect("connect")
}
