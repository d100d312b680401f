//! Test support: a MoCoPr server over loopback HTTP that records the method of every request
//! it serves.

use std::sync::{Arc, Mutex};

use mocopr_core::service::McpRequest;
use mocopr_server::{EndpointConfig, McpServer};

/// The methods a server saw, in order.
#[derive(Clone, Default)]
pub(crate) struct Seen(Arc<Mutex<Vec<String>>>);

impl Seen {
    /// How many requests of `method` arrived.
    pub(crate) fn count(&self, method: &str) -> usize {
        self.0.lock().expect("lock").iter().filter(|m| *m == method).count()
    }
}

/// Serves `server` at `http://127.0.0.1:<free port>/mcp`, recording each request's method.
pub(crate) async fn serve_http(server: McpServer, config: EndpointConfig) -> (String, Seen) {
    let seen = Seen::default();
    let recorder = seen.clone();
    let counting = tower::service_fn(move |request: McpRequest| {
        recorder.0.lock().expect("lock").push(request.method.as_str().to_owned());
        let mut server = server.clone();
        async move { tower::Service::call(&mut server, request).await }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}/mcp", listener.local_addr().expect("addr"));
    let endpoint = mocopr_transport::http::StreamableHttpService::new(counting, config);
    tokio::spawn(mocopr_server::serve_http(listener, endpoint).with_path("/mcp").into_future());
    (url, seen)
}
