//! [`TestCertificates`]: a certificate authority made for one test, and a server certificate it
//! signed for the loopback names.

use std::io;
use std::path::{Path, PathBuf};

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, KeyUsagePurpose};

/// The names the server certificate is valid for.
const LOOPBACK_NAMES: [&str; 3] = ["localhost", "127.0.0.1", "::1"];

/// A fresh certificate authority and a server certificate it signed for `localhost`,
/// `127.0.0.1` and `::1`, all in PEM: the server serves [`cert_pem`](Self::cert_pem) with
/// [`key_pem`](Self::key_pem), the client trusts [`ca_pem`](Self::ca_pem) alone. Nothing is
/// trusted by the machine, so a client that does not use the CA refuses the server.
///
/// ```
/// let certificates = mocopr_testing::TestCertificates::localhost()?;
/// assert!(certificates.ca_pem().starts_with("-----BEGIN CERTIFICATE-----"));
/// assert!(certificates.key_pem().contains("PRIVATE KEY"));
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone)]
pub struct TestCertificates {
    ca_pem: String,
    cert_pem: String,
    key_pem: String,
}

impl std::fmt::Debug for TestCertificates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The private key stays out of test output.
        f.debug_struct("TestCertificates").field("ca_pem", &self.ca_pem).finish_non_exhaustive()
    }
}

impl TestCertificates {
    /// Makes the authority (ECDSA P-256) and the server certificate.
    pub fn localhost() -> io::Result<Self> {
        let mut ca = CertificateParams::new(Vec::<String>::new()).map_err(io::Error::other)?;
        ca.distinguished_name.push(DnType::CommonName, "MoCoPr test CA");
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca = CertifiedIssuer::self_signed(ca, KeyPair::generate().map_err(io::Error::other)?)
            .map_err(io::Error::other)?;

        let names: Vec<String> = LOOPBACK_NAMES.iter().map(|n| (*n).to_owned()).collect();
        let mut server = CertificateParams::new(names).map_err(io::Error::other)?;
        server.distinguished_name.push(DnType::CommonName, "localhost");
        let key = KeyPair::generate().map_err(io::Error::other)?;
        let cert = server.signed_by(&key, &ca).map_err(io::Error::other)?;
        Ok(TestCertificates { ca_pem: ca.pem(), cert_pem: cert.pem(), key_pem: key.serialize_pem() })
    }

    /// The authority's certificate: the one root a client of the test trusts.
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// The server's certificate.
    pub fn cert_pem(&self) -> &str {
        &self.cert_pem
    }

    /// The server's private key (PKCS #8).
    pub fn key_pem(&self) -> &str {
        &self.key_pem
    }

    /// Writes `ca.pem`, `cert.pem` and `key.pem` into `dir` (for a server configured with
    /// files) and returns their paths in that order.
    pub fn write_to(&self, dir: &Path) -> io::Result<[PathBuf; 3]> {
        let paths = [dir.join("ca.pem"), dir.join("cert.pem"), dir.join("key.pem")];
        for (path, pem) in paths.iter().zip([&self.ca_pem, &self.cert_pem, &self.key_pem]) {
            std::fs::write(path, pem)?;
        }
        Ok(paths)
    }
}
