//! `Host` and `Origin` validation against DNS rebinding: a browser page from another site that
//! resolves its own name to 127.0.0.1 still sends its own `Host`/`Origin`, which is refused.
//! The two are separate checks: `Host` against host names, `Origin` as an RFC 6454 origin
//! (scheme, host and port).

use http::HeaderMap;
use http::header::{HOST, ORIGIN};

use super::config::{AllowedOrigins, LOOPBACK_HOSTS};

/// Why a request's `Host` or `Origin` was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum HostRefusal {
    /// No `Host`, or one that names a host not allowed: `403`.
    Host,
    /// More than one `Host` header: `400` (RFC 9112 §3.2).
    DuplicateHost,
    /// An `Origin` that is not an allowed origin, is malformed (userinfo, a path, a scheme
    /// other than `http`/`https`), or is sent twice: `403`.
    Origin,
}

/// Checks the request's `Host` against `hosts` (`None`: any host) and, when present, its
/// `Origin` against `origins`.
///
/// ```
/// use http::HeaderMap;
/// use mocopr_transport::http::{AllowedOrigins, HostRefusal, check_host_and_origin};
///
/// let mut headers = HeaderMap::new();
/// headers.insert("host", "127.0.0.1:3000".parse().unwrap());
/// headers.insert("origin", "http://localhost:5173".parse().unwrap());
/// let loopback = ["localhost".to_owned(), "127.0.0.1".to_owned()];
/// assert_eq!(check_host_and_origin(&headers, Some(&loopback), &AllowedOrigins::AllowedHosts), Ok(()));
///
/// headers.insert("origin", "http://localhost@evil.example".parse().unwrap());
/// assert_eq!(
///     check_host_and_origin(&headers, Some(&loopback), &AllowedOrigins::AllowedHosts),
///     Err(HostRefusal::Origin)
/// );
/// ```
pub fn check_host_and_origin(
    headers: &HeaderMap,
    hosts: Option<&[String]>,
    origins: &AllowedOrigins,
) -> Result<(), HostRefusal> {
    let mut host_values = headers.get_all(HOST).iter();
    let host = host_values.next();
    if host_values.next().is_some() {
        return Err(HostRefusal::DuplicateHost);
    }
    if let Some(hosts) = hosts {
        let host_ok = host
            .and_then(|v| v.to_str().ok())
            .and_then(host_name)
            .is_some_and(|name| hosts.iter().any(|a| a.eq_ignore_ascii_case(name)));
        if !host_ok {
            return Err(HostRefusal::Host);
        }
    }
    let mut origin_values = headers.get_all(ORIGIN).iter();
    let Some(origin) = origin_values.next() else { return Ok(()) };
    if origin_values.next().is_some() {
        return Err(HostRefusal::Origin);
    }
    let allowed = match origins {
        AllowedOrigins::Any => true,
        // Not the request's own `Host` when any is accepted: under DNS rebinding the attacker's
        // page and its `Host` name the same foreign host.
        AllowedOrigins::AllowedHosts => origin.to_str().ok().and_then(Origin::parse).is_some_and(|o| match hosts {
            Some(hosts) => hosts.iter().any(|h| h.eq_ignore_ascii_case(&o.host)),
            None => LOOPBACK_HOSTS.iter().any(|h| h.eq_ignore_ascii_case(&o.host)),
        }),
        AllowedOrigins::Exactly(list) => origin
            .to_str()
            .ok()
            .and_then(Origin::parse)
            .is_some_and(|o| list.iter().filter_map(|a| Origin::parse(a)).any(|a| a == o)),
    };
    if allowed { Ok(()) } else { Err(HostRefusal::Origin) }
}

/// Whether `text` is a serialized origin [`check_host_and_origin`] can match.
pub(crate) fn is_origin(text: &str) -> bool {
    Origin::parse(text).is_some()
}

/// An RFC 6454 origin of a web page: `http` or `https`, a host, and a port (the scheme's default
/// when the text names none). Names compare case-insensitively (they are kept lowercase).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Origin {
    scheme: &'static str,
    host: String,
    port: u16,
}

impl Origin {
    /// Parses a serialized origin (`scheme "://" host [ ":" port ]`); `None` for anything else,
    /// including userinfo, a path, a query, `null` and other schemes.
    pub(crate) fn parse(text: &str) -> Option<Origin> {
        let (scheme, rest) = text.split_once("://")?;
        let (scheme, default_port) = if scheme.eq_ignore_ascii_case("http") {
            ("http", 80)
        } else if scheme.eq_ignore_ascii_case("https") {
            ("https", 443)
        } else {
            return None;
        };
        let (host, port) = match rest.strip_prefix('[') {
            Some(inner) => {
                let (address, after) = inner.split_once(']')?;
                if address.is_empty() || !address.bytes().all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.') {
                    return None;
                }
                let port = if after.is_empty() { None } else { Some(after.strip_prefix(':')?) };
                (&rest[..address.len() + 2], port)
            }
            None => match rest.split_once(':') {
                Some((host, port)) => (host, Some(port)),
                None => (rest, None),
            },
        };
        let name_ok = host.starts_with('[')
            || (!host.is_empty()
                && host.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-' || b == b'_'));
        if !name_ok {
            return None;
        }
        let port = match port {
            None => default_port,
            Some(digits) if (1..=5).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()) => {
                digits.parse().ok()?
            }
            Some(_) => return None,
        };
        Some(Origin { scheme, host: host.to_ascii_lowercase(), port })
    }
}

/// `host[:port]` without the port; IPv6 literals keep their brackets. `None` when malformed.
fn host_name(authority: &str) -> Option<&str> {
    if authority.starts_with('[') {
        let end = authority.find(']')?;
        return Some(&authority[..=end]);
    }
    let name = authority.rsplit_once(':').map_or(authority, |(host, _)| host);
    (!name.is_empty() && !name.contains(['@', '/', ' '])).then_some(name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn check(host: Option<&str>, origin: Option<&str>, origins: &AllowedOrigins) -> Result<(), HostRefusal> {
        let mut headers = HeaderMap::new();
        if let Some(h) = host {
            headers.insert(HOST, HeaderValue::from_str(h).unwrap());
        }
        if let Some(o) = origin {
            headers.insert(ORIGIN, HeaderValue::from_str(o).unwrap());
        }
        let hosts: Vec<String> = LOOPBACK_HOSTS.iter().map(|s| s.to_string()).collect();
        check_host_and_origin(&headers, Some(&hosts), origins)
    }

    #[test]
    fn loopback_hosts_pass_and_foreign_ones_do_not() {
        let loopback = &AllowedOrigins::AllowedHosts;
        assert_eq!(check(Some("127.0.0.1:8080"), None, loopback), Ok(()));
        assert_eq!(check(Some("localhost:3000"), Some("http://localhost:3000"), loopback), Ok(()));
        assert_eq!(check(Some("[::1]:9"), Some("http://[::1]:9"), loopback), Ok(()));
        assert_eq!(check(Some("[::1]:9"), Some("https://[::1]"), loopback), Ok(()));
        assert_eq!(check(Some("evil.example.com"), Some("http://evil.example.com"), loopback), Err(HostRefusal::Host));
        assert_eq!(check(Some("127.0.0.1:8080"), Some("http://evil.example.com"), loopback), Err(HostRefusal::Origin));
        assert_eq!(check(None, None, loopback), Err(HostRefusal::Host));
        assert_eq!(check(Some("localhost.evil.com"), None, loopback), Err(HostRefusal::Host));
    }

    #[test]
    fn malformed_origins_are_refused() {
        let loopback = &AllowedOrigins::AllowedHosts;
        for origin in [
            "http://localhost:1@evil.com",
            "http://[::1]@evil.com",
            "http://localhost@evil.com",
            "ftp://localhost",
            "http://localhost/path",
            "http://localhost:port",
            "http://localhost:",
            "http://localhost:99999",
            "null",
            "localhost",
            "http://",
            "http://[]",
            "http://[::1",
        ] {
            assert_eq!(check(Some("localhost"), Some(origin), loopback), Err(HostRefusal::Origin), "{origin}");
        }
    }

    #[test]
    fn origins_on_an_allowed_host_pass_and_any_host_means_loopback_origins() {
        let mut headers = HeaderMap::new();
        headers.insert(HOST, HeaderValue::from_static("mcp.example.com"));
        headers.insert(ORIGIN, HeaderValue::from_static("https://mcp.example.com"));
        let hosts = vec!["mcp.example.com".to_owned()];
        let default = &AllowedOrigins::AllowedHosts;
        assert_eq!(check_host_and_origin(&headers, Some(&hosts), default), Ok(()));
        // With any Host accepted, the page's own host is not enough (DNS rebinding).
        assert_eq!(check_host_and_origin(&headers, None, default), Err(HostRefusal::Origin));
        headers.insert(ORIGIN, HeaderValue::from_static("http://localhost:3000"));
        assert_eq!(check_host_and_origin(&headers, None, default), Ok(()));
        assert_eq!(check_host_and_origin(&headers, Some(&hosts), default), Err(HostRefusal::Origin));
    }

    #[test]
    fn exact_origins_match_scheme_host_and_port() {
        let list = &AllowedOrigins::Exactly(vec!["https://app.example.com".into(), "http://localhost:5173".into()]);
        assert_eq!(check(Some("localhost"), Some("https://app.example.com"), list), Ok(()));
        assert_eq!(check(Some("localhost"), Some("HTTPS://APP.example.com:443"), list), Ok(()));
        assert_eq!(check(Some("localhost"), Some("http://app.example.com"), list), Err(HostRefusal::Origin));
        assert_eq!(check(Some("localhost"), Some("https://app.example.com:8443"), list), Err(HostRefusal::Origin));
        assert_eq!(check(Some("localhost"), Some("http://localhost:5173"), list), Ok(()));
        assert_eq!(check(Some("localhost"), Some("http://localhost:3000"), list), Err(HostRefusal::Origin));
        assert_eq!(check(Some("localhost"), Some("http://anything"), &AllowedOrigins::Any), Ok(()));
    }

    #[test]
    fn doubled_host_or_origin_is_refused() {
        let mut headers = HeaderMap::new();
        headers.append(HOST, HeaderValue::from_static("localhost"));
        headers.append(HOST, HeaderValue::from_static("localhost"));
        let hosts = vec!["localhost".to_owned()];
        assert_eq!(
            check_host_and_origin(&headers, Some(&hosts), &AllowedOrigins::Any),
            Err(HostRefusal::DuplicateHost)
        );
        let mut headers = HeaderMap::new();
        headers.append(HOST, HeaderValue::from_static("localhost"));
        headers.append(ORIGIN, HeaderValue::from_static("http://localhost"));
        headers.append(ORIGIN, HeaderValue::from_static("http://evil.example"));
        assert_eq!(check_host_and_origin(&headers, None, &AllowedOrigins::Any), Err(HostRefusal::Origin));
    }
}
