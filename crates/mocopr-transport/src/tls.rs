//! TLS with rustls (the aws-lc-rs provider; no OpenSSL): [`ServerTls`] for
//! [`ServeHttp::with_tls`](crate::http::ServeHttp::with_tls), [`ClientTls`] for
//! [`HttpConnector::with_tls`](crate::pool::HttpConnector::with_tls). Both offer HTTP/2 and
//! HTTP/1.1 by ALPN unless a config of the user's already names its protocols.
//!
//! [`rustls`] is re-exported, so a custom `ServerConfig` or `ClientConfig` is built with the
//! same version.

use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use rustls;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::{ClientConfig, RootCertStore, ServerConfig};

/// The ALPN protocols offered when a config names none: HTTP/2 first.
const ALPN: [&[u8]; 2] = [b"h2", b"http/1.1"];

/// Why a TLS configuration could not be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlsError {
    /// A certificate or key file could not be read or held no PEM of the kind needed.
    #[error("{path}: {reason}")]
    File {
        /// The file.
        path: PathBuf,
        /// What was wrong with it.
        reason: String,
    },
    /// PEM text held no certificate, no key, or a malformed one.
    #[error("bad PEM: {0}")]
    Pem(String),
    /// rustls refused the configuration (a key that does not match the certificate, no usable
    /// root, the platform's verifier unavailable).
    #[error(transparent)]
    Rustls(#[from] rustls::Error),
    /// The host of a URL is no valid TLS server name.
    #[error("not a TLS server name: {0}")]
    ServerName(String),
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

fn alpn() -> Vec<Vec<u8>> {
    ALPN.iter().map(|p| p.to_vec()).collect()
}

/// The server side: a certificate chain and its key, or a rustls `ServerConfig`.
///
/// ```no_run
/// use mocopr_transport::tls::ServerTls;
///
/// # fn run() -> Result<(), mocopr_transport::tls::TlsError> {
/// let tls = ServerTls::from_pem_files("/etc/mcp/cert.pem", "/etc/mcp/key.pem")?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct ServerTls {
    config: Arc<ServerConfig>,
}

impl std::fmt::Debug for ServerTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerTls").field("alpn", &self.config.alpn_protocols).finish_non_exhaustive()
    }
}

impl ServerTls {
    /// From PEM files: the certificate chain (leaf first) and its private key (PKCS #8,
    /// PKCS #1 or SEC1).
    pub fn from_pem_files(cert_chain: impl AsRef<Path>, key: impl AsRef<Path>) -> Result<Self, TlsError> {
        let read = |path: &Path| {
            std::fs::read(path).map_err(|e| TlsError::File { path: path.to_owned(), reason: e.to_string() })
        };
        let (cert_path, key_path) = (cert_chain.as_ref(), key.as_ref());
        let (certs, key) = (read(cert_path)?, read(key_path)?);
        ServerTls::from_pem(&certs, &key).map_err(|e| match e {
            TlsError::Pem(reason) => {
                TlsError::File { path: format!("{} / {}", cert_path.display(), key_path.display()).into(), reason }
            }
            other => other,
        })
    }

    /// From PEM text: the certificate chain (leaf first) and its private key.
    ///
    /// ```
    /// let certificates = mocopr_testing::TestCertificates::localhost()?;
    /// let tls = mocopr_transport::tls::ServerTls::from_pem(
    ///     certificates.cert_pem().as_bytes(),
    ///     certificates.key_pem().as_bytes(),
    /// )?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_pem(cert_chain: &[u8], key: &[u8]) -> Result<Self, TlsError> {
        let certs = CertificateDer::pem_slice_iter(cert_chain)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| TlsError::Pem(format!("certificate: {e}")))?;
        if certs.is_empty() {
            return Err(TlsError::Pem("no certificate".into()));
        }
        let key = PrivateKeyDer::from_pem_slice(key).map_err(|e| TlsError::Pem(format!("private key: {e}")))?;
        let mut config = ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_single_cert(certs, key)?;
        config.alpn_protocols = alpn();
        Ok(ServerTls { config: Arc::new(config) })
    }

    /// A `ServerConfig` of the user's (client certificates, certificate resolvers, session
    /// tickets): used as it is, with HTTP/2 and HTTP/1.1 offered when it names no ALPN
    /// protocol.
    pub fn from_config(config: Arc<ServerConfig>) -> Self {
        if config.alpn_protocols.is_empty() {
            let mut config = (*config).clone();
            config.alpn_protocols = alpn();
            return ServerTls { config: Arc::new(config) };
        }
        ServerTls { config }
    }

    pub(crate) fn acceptor(&self) -> tokio_rustls::TlsAcceptor {
        tokio_rustls::TlsAcceptor::from(self.config.clone())
    }
}

/// The client side: which roots a server's certificate must chain to.
///
/// ```
/// use mocopr_transport::tls::ClientTls;
///
/// // The Mozilla roots compiled into the program; `ClientTls::platform()` asks the OS.
/// let tls = ClientTls::webpki_roots();
/// ```
#[derive(Clone)]
pub struct ClientTls {
    config: Arc<ClientConfig>,
}

impl std::fmt::Debug for ClientTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientTls").field("alpn", &self.config.alpn_protocols).finish_non_exhaustive()
    }
}

impl ClientTls {
    /// The operating system's verifier and roots (rustls-platform-verifier): what a browser on
    /// the machine would trust. The default for `https://` URLs.
    pub fn platform() -> Result<Self, TlsError> {
        use rustls_platform_verifier::BuilderVerifierExt as _;
        let config = ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()?
            .with_platform_verifier()?
            .with_no_client_auth();
        Ok(ClientTls::finish(config))
    }

    /// The Mozilla root programme's roots, compiled in (webpki-roots): the same on every
    /// machine, for containers without a CA bundle.
    pub fn webpki_roots() -> Self {
        let roots = RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() };
        ClientTls::from_roots(roots).unwrap_or_else(|_| unreachable!("the aws-lc-rs provider supports the defaults"))
    }

    /// Only the roots in `pem` (one or more certificates): a private CA, or the CA a test made.
    ///
    /// ```
    /// let certificates = mocopr_testing::TestCertificates::localhost()?;
    /// let tls = mocopr_transport::tls::ClientTls::from_root_pem(certificates.ca_pem().as_bytes())?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_root_pem(pem: &[u8]) -> Result<Self, TlsError> {
        let mut roots = RootCertStore::empty();
        for cert in CertificateDer::pem_slice_iter(pem) {
            let cert = cert.map_err(|e| TlsError::Pem(format!("certificate: {e}")))?;
            roots.add(cert)?;
        }
        if roots.is_empty() {
            return Err(TlsError::Pem("no certificate".into()));
        }
        ClientTls::from_roots(roots)
    }

    /// Only the roots in `roots`.
    pub fn from_roots(roots: RootCertStore) -> Result<Self, TlsError> {
        let config = ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()?
            .with_root_certificates(roots)
            .with_no_client_auth();
        Ok(ClientTls::finish(config))
    }

    /// A `ClientConfig` of the user's (client certificates, a custom verifier): used as it is,
    /// with HTTP/2 and HTTP/1.1 offered when it names no ALPN protocol.
    pub fn from_config(config: Arc<ClientConfig>) -> Self {
        if config.alpn_protocols.is_empty() {
            return ClientTls::finish((*config).clone());
        }
        ClientTls { config }
    }

    /// Offers HTTP/1.1 alone (a server whose HTTP/2 misbehaves, or to compare the two).
    #[must_use]
    pub fn http1_only(self) -> Self {
        let mut config = (*self.config).clone();
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        ClientTls { config: Arc::new(config) }
    }

    fn finish(mut config: ClientConfig) -> Self {
        config.alpn_protocols = alpn();
        ClientTls { config: Arc::new(config) }
    }

    pub(crate) fn connector(&self) -> tokio_rustls::TlsConnector {
        tokio_rustls::TlsConnector::from(self.config.clone())
    }
}

/// The TLS server name of a URL's host (`[::1]` as the address `::1`).
pub(crate) fn server_name(host: &str) -> Result<ServerName<'static>, TlsError> {
    let bare = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host);
    ServerName::try_from(bare.to_owned()).map_err(|_| TlsError::ServerName(host.to_owned()))
}
