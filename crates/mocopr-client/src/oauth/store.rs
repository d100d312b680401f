//! [`TokenStore`]: where the OAuth client keeps what outlives one connection: the tokens of
//! each server and the client registrations each authorization server issued. In memory by
//! default ([`MemoryTokenStore`]); [`FileTokenStore`] keeps them in files only the user can
//! read, so a restarted application does not ask the user again.

use std::collections::HashMap;
use std::io;
use std::path::PathBuf;
use std::sync::{Mutex, PoisonError};

use futures_util::future::BoxFuture;
use serde_json::Value;
use sha2::{Digest, Sha256};

/// Keeps the OAuth client's credentials between connections, as JSON values under string keys:
/// `tokens {resource}` holds a server's tokens (with the issuer that issued them), `client
/// {issuer}` a dynamic registration at that authorization server. Values hold secrets (refresh
/// tokens, client secrets): a store must keep them from other users.
///
/// ```
/// use futures_util::future::BoxFuture;
/// use mocopr_client::oauth::TokenStore;
/// use serde_json::Value;
///
/// /// Remembers nothing: every connection authorizes afresh.
/// struct Forgetful;
///
/// impl TokenStore for Forgetful {
///     fn load<'a>(&'a self, _: &'a str) -> BoxFuture<'a, std::io::Result<Option<Value>>> {
///         Box::pin(async { Ok(None) })
///     }
///     fn save<'a>(&'a self, _: &'a str, _: Option<Value>) -> BoxFuture<'a, std::io::Result<()>> {
///         Box::pin(async { Ok(()) })
///     }
/// }
/// ```
pub trait TokenStore: Send + Sync + 'static {
    /// The value kept under `key`.
    fn load<'a>(&'a self, key: &'a str) -> BoxFuture<'a, io::Result<Option<Value>>>;

    /// Keeps `value` under `key` (`None`: forgets it).
    fn save<'a>(&'a self, key: &'a str, value: Option<Value>) -> BoxFuture<'a, io::Result<()>>;
}

/// Most entries a [`MemoryTokenStore`] keeps; a new key beyond it replaces an arbitrary one.
pub const MEMORY_STORE_CAPACITY: usize = 1024;

/// Keeps credentials in memory, for the life of the process (the default).
///
/// ```
/// use mocopr_client::oauth::{MemoryTokenStore, TokenStore};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> std::io::Result<()> {
/// let store = MemoryTokenStore::new();
/// store.save("tokens https://mcp.example.com/mcp", Some(serde_json::json!({"access_token": "t"}))).await?;
/// assert!(store.load("tokens https://mcp.example.com/mcp").await?.is_some());
/// # Ok(()) }
/// ```
#[derive(Debug, Default)]
pub struct MemoryTokenStore {
    entries: Mutex<HashMap<String, Value>>,
}

impl MemoryTokenStore {
    /// An empty store.
    pub fn new() -> Self {
        MemoryTokenStore::default()
    }
}

impl TokenStore for MemoryTokenStore {
    fn load<'a>(&'a self, key: &'a str) -> BoxFuture<'a, io::Result<Option<Value>>> {
        let value = self.entries.lock().unwrap_or_else(PoisonError::into_inner).get(key).cloned();
        Box::pin(async move { Ok(value) })
    }

    fn save<'a>(&'a self, key: &'a str, value: Option<Value>) -> BoxFuture<'a, io::Result<()>> {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        match value {
            Some(value) => {
                if entries.len() >= MEMORY_STORE_CAPACITY
                    && !entries.contains_key(key)
                    && let Some(any) = entries.keys().next().cloned()
                {
                    entries.remove(&any);
                }
                entries.insert(key.to_owned(), value);
            }
            None => {
                entries.remove(key);
            }
        }
        Box::pin(async { Ok(()) })
    }
}

/// Keeps credentials in a directory, one file per key (named by the key's SHA-256), readable
/// by the user only (mode `0600` in a `0700` directory on Unix). Each file is replaced whole
/// (written beside, then renamed), so a crash never leaves half a token.
///
/// ```
/// use mocopr_client::oauth::{ClientRegistration, FileTokenStore, Grant, OAuthConfig};
///
/// let oauth = OAuthConfig::builder()
///     .with_grant(Grant::ClientCredentials)
///     .with_client(ClientRegistration::new("nightly-report").with_secret("s3cret"))
///     .with_token_store(FileTokenStore::new("/home/me/.config/my-agent/tokens"))
///     .build()?;
/// # let _ = oauth;
/// # Ok::<(), mocopr_client::ClientError>(())
/// ```
#[derive(Debug, Clone)]
pub struct FileTokenStore {
    directory: PathBuf,
}

/// Largest file a [`FileTokenStore`] reads back.
const MAX_FILE_BYTES: u64 = 256 * 1024;

impl FileTokenStore {
    /// Keeps credentials under `directory` (made when first written to).
    pub fn new(directory: impl Into<PathBuf>) -> Self {
        FileTokenStore { directory: directory.into() }
    }

    fn path(&self, key: &str) -> PathBuf {
        let digest = Sha256::digest(key.as_bytes());
        let name: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        self.directory.join(format!("{name}.json"))
    }
}

impl TokenStore for FileTokenStore {
    fn load<'a>(&'a self, key: &'a str) -> BoxFuture<'a, io::Result<Option<Value>>> {
        let path = self.path(key);
        Box::pin(async move {
            tokio::task::spawn_blocking(move || {
                let file = match std::fs::File::open(&path) {
                    Ok(file) => file,
                    Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
                    Err(e) => return Err(e),
                };
                if file.metadata()?.len() > MAX_FILE_BYTES {
                    return Err(io::Error::new(io::ErrorKind::InvalidData, "token file too large"));
                }
                let value = serde_json::from_reader(io::BufReader::new(file))
                    .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
                Ok(Some(value))
            })
            .await
            .map_err(io::Error::other)?
        })
    }

    fn save<'a>(&'a self, key: &'a str, value: Option<Value>) -> BoxFuture<'a, io::Result<()>> {
        let path = self.path(key);
        let directory = self.directory.clone();
        Box::pin(async move {
            tokio::task::spawn_blocking(move || {
                let Some(value) = value else {
                    return match std::fs::remove_file(&path) {
                        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
                        _ => Ok(()),
                    };
                };
                create_private_dir(&directory)?;
                let temporary = path.with_extension(format!("tmp{}", std::process::id()));
                let bytes = serde_json::to_vec(&value).map_err(io::Error::other)?;
                write_private(&temporary, &bytes)?;
                std::fs::rename(&temporary, &path)
            })
            .await
            .map_err(io::Error::other)?
        })
    }
}

#[cfg(unix)]
fn create_private_dir(directory: &std::path::Path) -> io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new().recursive(true).mode(0o700).create(directory)
}

#[cfg(not(unix))]
fn create_private_dir(directory: &std::path::Path) -> io::Result<()> {
    std::fs::create_dir_all(directory)
}

#[cfg(unix)]
fn write_private(path: &std::path::Path, bytes: &[u8]) -> io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

#[cfg(not(unix))]
fn write_private(path: &std::path::Path, bytes: &[u8]) -> io::Result<()> {
    std::fs::write(path, bytes)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[tokio::test]
    async fn files_are_private_and_replaced_whole() {
        let directory = std::env::temp_dir().join(format!("mocopr-token-store-{}", fastrand_suffix()));
        let store = FileTokenStore::new(&directory);
        assert_eq!(store.load("tokens a").await.unwrap(), None);
        store.save("tokens a", Some(json!({"access_token": "one"}))).await.unwrap();
        store.save("tokens a", Some(json!({"access_token": "two"}))).await.unwrap();
        assert_eq!(store.load("tokens a").await.unwrap(), Some(json!({"access_token": "two"})));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(store.path("tokens a")).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert_eq!(std::fs::read_dir(&directory).unwrap().count(), 1, "no temporary file is left");
        store.save("tokens a", None).await.unwrap();
        assert_eq!(store.load("tokens a").await.unwrap(), None);
        std::fs::remove_dir_all(&directory).unwrap();
    }

    fn fastrand_suffix() -> String {
        format!("{}-{:?}", std::process::id(), std::time::SystemTime::now())
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .collect()
    }

    #[tokio::test]
    async fn the_memory_store_is_bounded() {
        let store = MemoryTokenStore::new();
        for i in 0..MEMORY_STORE_CAPACITY + 10 {
            store.save(&format!("k{i}"), Some(json!(i))).await.unwrap();
        }
        assert_eq!(store.entries.lock().unwrap().len(), MEMORY_STORE_CAPACITY);
    }
}
