//! [`McpClientBuilder`]: who the client is, how it answers servers, its timeouts, and what it
//! connects to (a child process speaking stdio, or any framed connection).

use std::sync::Arc;
use std::time::Duration;

use tokio::io::AsyncRead;
use tokio::process::Command;

use mocopr_core::types::Implementation;
use mocopr_transport::child::{ChildHandle, ChildProcess, Stderr};
use mocopr_transport::{FrameReader, FrameSink, FramingConfig};

use crate::cache::ResultCache;
use crate::client::{DEFAULT_PROBE_TIMEOUT, DEFAULT_REQUEST_TIMEOUT, McpClient};
use crate::era::{EraCache, Settings};
use crate::error::ClientError;
use crate::handler::{InputHandler, NoInput};

/// Builds an [`McpClient`].
pub struct McpClientBuilder {
    info: Implementation,
    handler: Arc<dyn InputHandler>,
    timeout: Duration,
    probe_timeout: Duration,
    transport: FramingConfig,
    #[cfg(feature = "http")]
    pool: mocopr_transport::PoolConfig,
    #[cfg(feature = "tls")]
    tls: Option<mocopr_transport::tls::ClientTls>,
    #[cfg(feature = "http")]
    authorizer: Option<Arc<dyn crate::authorizer::Authorizer>>,
    #[cfg(feature = "oauth")]
    oauth: Option<crate::oauth::OAuthConfig>,
    era_cache: Option<EraCache>,
    result_cache: Option<ResultCache>,
    max_server_requests: usize,
}

impl std::fmt::Debug for McpClientBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("McpClientBuilder").field("info", &self.info).field("timeout", &self.timeout).finish()
    }
}

impl McpClient {
    /// Starts building a client: identity `mocopr-client`, no input handler (no client
    /// capabilities), 60 s per call, 5 s for the era probe, the default framing and pool.
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// use mocopr_client::{EraCache, McpClient, ResultCache};
    /// use mocopr_transport::PoolConfig;
    ///
    /// # async fn run() -> Result<(), mocopr_client::ClientError> {
    /// let client = McpClient::builder()
    ///     .with_info("my-agent", "1.0")
    ///     .with_timeout(Duration::from_secs(30))
    ///     .with_connection_pool(PoolConfig::builder().with_max_connections(8).build())
    ///     .with_era_cache(EraCache::new())
    ///     .with_result_cache(ResultCache::new(1_000))
    ///     .connect_http("http://127.0.0.1:8080/mcp")
    ///     .await?;
    /// let tools = client.list_tools().await?;
    /// # let _ = tools; Ok(()) }
    /// ```
    pub fn builder() -> McpClientBuilder {
        McpClientBuilder {
            info: Implementation::new("mocopr-client", env!("CARGO_PKG_VERSION")),
            handler: Arc::new(NoInput),
            timeout: DEFAULT_REQUEST_TIMEOUT,
            probe_timeout: DEFAULT_PROBE_TIMEOUT,
            max_server_requests: 16,
            transport: FramingConfig::default(),
            #[cfg(feature = "http")]
            pool: mocopr_transport::PoolConfig::default(),
            #[cfg(feature = "tls")]
            tls: None,
            #[cfg(feature = "http")]
            authorizer: None,
            #[cfg(feature = "oauth")]
            oauth: None,
            era_cache: None,
            result_cache: None,
        }
    }
}

impl McpClientBuilder {
    /// The client's name and version (`clientInfo`).
    pub fn with_info(mut self, name: impl Into<String>, version: impl Into<String>) -> Self {
        self.info = Implementation::new(name, version);
        self
    }

    /// How the client answers the server's requests for input (and which capabilities it declares).
    pub fn with_input_handler(mut self, handler: impl InputHandler) -> Self {
        self.handler = Arc::new(handler);
        self
    }

    /// Sets how long each call waits for its answer (default 60 s).
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sets how long the `server/discover` probe waits before assuming a legacy server
    /// (default 5 s).
    pub fn with_probe_timeout(mut self, timeout: Duration) -> Self {
        self.probe_timeout = timeout;
        self
    }

    /// Sets how many of a legacy server's requests for input (elicitation, sampling, roots)
    /// are being answered at once (default 16, at least 1); one that arrives beyond it is
    /// answered with an error at once, so a server cannot make the client start unbounded
    /// work. `ping` is always answered.
    ///
    /// ```
    /// let builder = mocopr_client::McpClient::builder().with_max_server_requests(4);
    /// # let _ = builder;
    /// ```
    pub fn with_max_server_requests(mut self, requests: usize) -> Self {
        self.max_server_requests = requests;
        self
    }

    /// Framing and buffer knobs; `max_frame_size` is also the largest HTTP response body or
    /// server-sent event accepted (default 16 MiB).
    pub fn with_framing(mut self, transport: FramingConfig) -> Self {
        self.transport = transport;
        self
    }

    /// How HTTP connections to the server are pooled (default: [`PoolConfig::default`]).
    /// `max_connections` bounds the requests in flight; keep it at 2 or more for legacy
    /// servers that ask for input while a call is open (the answer needs a second connection).
    ///
    /// [`PoolConfig::default`]: mocopr_transport::PoolConfig
    #[cfg(feature = "http")]
    pub fn with_connection_pool(mut self, pool: mocopr_transport::PoolConfig) -> Self {
        self.pool = pool;
        self
    }

    /// Remembers each server's era in `cache` (shared by the clients given the same cache), so
    /// the next connection to the same URL or command skips the `server/discover` probe when
    /// the server was legacy, and probes with the right version when it was modern.
    pub fn with_era_cache(mut self, cache: EraCache) -> Self {
        self.era_cache = Some(cache);
        self
    }

    /// Keeps cacheable results (lists, resource reads) in `cache` for as long as the server's
    /// `ttlMs` allows, dropping them on change notifications. Off by default. Clients given the
    /// same cache share `public` results of the same server; `private` ones stay per client.
    pub fn with_result_cache(mut self, cache: ResultCache) -> Self {
        self.result_cache = Some(cache);
        self
    }

    fn settings(self, server_key: Option<String>) -> (Settings, FramingConfig) {
        let era = self.era_cache.zip(server_key.clone());
        let settings = Settings {
            info: self.info,
            handler: self.handler,
            timeout: self.timeout,
            probe_timeout: self.probe_timeout,
            era,
            cache: self.result_cache,
            server_key,
            max_server_requests: self.max_server_requests,
        };
        (settings, self.transport)
    }

    /// Connects over a framed connection (e.g. one end of `mocopr_transport::memory::pair`).
    ///
    /// ```
    /// use mocopr_client::McpClient;
    /// use mocopr_server::{McpServer, StdioConfig, serve_connection};
    /// use mocopr_transport::{FramingConfig, memory};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = McpServer::builder().tool("hello", || async { "Hello!" }).build()?;
    /// let (client_end, server_end) = memory::pair(&FramingConfig::default());
    /// tokio::spawn(serve_connection(server, server_end.reader, server_end.sink, StdioConfig::default()));
    /// let client = McpClient::builder().connect(client_end.reader, client_end.sink).await?;
    /// let result = client.call_tool("hello", serde_json::json!({})).await?;
    /// assert_eq!(result.text_content(), "Hello!");
    /// # Ok(()) }
    /// ```
    pub async fn connect<R>(self, reader: FrameReader<R>, sink: FrameSink) -> Result<McpClient, ClientError>
    where
        R: AsyncRead + Unpin + Send + 'static,
    {
        McpClient::start(reader, sink, self.settings(None).0).await
    }

    /// Which certificates an `https://` server must present (default:
    /// [`ClientTls::platform`], the operating system's roots). HTTP/2 is used when the server
    /// offers it, its requests multiplexed on one connection.
    ///
    /// ```no_run
    /// use mocopr_client::McpClient;
    /// use mocopr_transport::tls::ClientTls;
    ///
    /// # async fn run(ca_pem: &[u8]) -> Result<(), Box<dyn std::error::Error>> {
    /// let client = McpClient::builder()
    ///     .with_tls(ClientTls::from_root_pem(ca_pem)?)
    ///     .connect_http("https://mcp.internal.example:8443/mcp")
    ///     .await?;
    /// # Ok(()) }
    /// ```
    ///
    /// [`ClientTls::platform`]: mocopr_transport::tls::ClientTls::platform
    #[cfg(feature = "tls")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
    pub fn with_tls(mut self, tls: mocopr_transport::tls::ClientTls) -> Self {
        self.tls = Some(tls);
        self
    }

    /// Puts `authorizer`'s credentials on every HTTP request and lets it answer the server's
    /// `401` / `403` challenges (e.g. [`BearerToken`](crate::BearerToken) for a token obtained
    /// elsewhere). Replaces an OAuth configuration given before.
    ///
    /// ```
    /// use mocopr_client::{BearerToken, McpClient};
    ///
    /// let builder = McpClient::builder().with_authorizer(BearerToken::new("my-token")?);
    /// # let _ = builder;
    /// # Ok::<(), mocopr_client::ClientError>(())
    /// ```
    #[cfg(feature = "http")]
    pub fn with_authorizer(mut self, authorizer: impl crate::authorizer::Authorizer) -> Self {
        self.authorizer = Some(Arc::new(authorizer));
        #[cfg(feature = "oauth")]
        {
            self.oauth = None;
        }
        self
    }

    /// Authorizes with OAuth 2.1 as MCP specifies: when the server asks for a token, finds its
    /// authorization server, gets the client registered or identified, obtains a token
    /// (authorization code with PKCE through `oauth`'s handler, or client credentials),
    /// refreshes it and steps up its scopes as the server asks. Replaces an authorizer given
    /// before. See [`OAuthConfig`](crate::oauth::OAuthConfig).
    ///
    /// ```no_run
    /// use mocopr_client::McpClient;
    /// use mocopr_client::oauth::{AuthorizationHandler, OAuthConfig};
    ///
    /// # async fn run(handler: impl AuthorizationHandler) -> Result<(), Box<dyn std::error::Error>> {
    /// let oauth = OAuthConfig::builder()
    ///     .with_redirect_uri("http://127.0.0.1:33418/callback")
    ///     .with_client_name("my-agent")
    ///     .with_authorization_handler(handler)
    ///     .build()?;
    /// let client = McpClient::builder().with_oauth(oauth).connect_http("https://mcp.example.com/mcp").await?;
    /// # let _ = client; Ok(()) }
    /// ```
    #[cfg(feature = "oauth")]
    #[cfg_attr(docsrs, doc(cfg(feature = "oauth")))]
    pub fn with_oauth(mut self, oauth: crate::oauth::OAuthConfig) -> Self {
        self.oauth = Some(oauth);
        self.authorizer = None;
        self
    }

    /// Connects to a Streamable HTTP endpoint (e.g. `http://127.0.0.1:8080/mcp`, or with the
    /// `tls` feature `https://mcp.example.com/mcp`).
    ///
    /// ```no_run
    /// use mocopr_client::McpClient;
    ///
    /// # async fn run() -> Result<(), mocopr_client::ClientError> {
    /// let client = McpClient::builder().connect_http("http://127.0.0.1:8080/mcp").await?;
    /// let result = client.call_tool("greet", serde_json::json!({ "name": "Ada" })).await?;
    /// println!("{}", result.text_content());
    /// # Ok(()) }
    /// ```
    #[cfg(feature = "http")]
    pub async fn connect_http(self, url: &str) -> Result<McpClient, ClientError> {
        #[cfg(feature = "tls")]
        let tls = self.tls.clone();
        #[cfg(not(feature = "tls"))]
        let tls = None;
        let authorizer = self.authorizer.clone();
        #[cfg(feature = "oauth")]
        let authorizer = match &self.oauth {
            Some(oauth) => Some(oauth.authorizer_for(url)?),
            None => authorizer,
        };
        let link = crate::http::HttpLink::new(url, self.pool.clone(), self.transport.max_frame_size, tls, authorizer)?;
        McpClient::start_http(link, self.settings(Some(url.to_owned())).0).await
    }

    /// Spawns `command` and connects to it over its stdio. The handle shuts the child down.
    ///
    /// ```no_run
    /// use mocopr_client::McpClient;
    ///
    /// # async fn run() -> Result<(), mocopr_client::ClientError> {
    /// let mut command = tokio::process::Command::new("my-mcp-server");
    /// command.arg("stdio");
    /// let (client, child) = McpClient::builder().connect_child(command).await?;
    /// println!("speaking {:?}", client.server().map(|facts| facts.version));
    /// # drop(child); Ok(()) }
    /// ```
    pub async fn connect_child(self, command: Command) -> Result<(McpClient, ChildHandle), ClientError> {
        let key = format!("{:?}", command.as_std());
        let (settings, transport) = self.settings(Some(key));
        let child = ChildProcess::spawn(command, Stderr::Inherit, &transport)?;
        let (reader, sink, handle) = child.into_parts();
        let client = McpClient::start(reader, sink, settings).await?;
        Ok((client, handle))
    }
}
