//! `Host` and `Origin` validation against DNS rebinding: a browser page from another site that
//! resolves its own name to 127.0.0.1 still sends its own `Host`/`Origin`, which is refused.

use http::HeaderMap;
use http::header::{HOST, ORIGIN};

/// Whether the request's `Host` and (when present) `Origin` name an allowed host (`None`:
/// any host).
pub fn allowed(headers: &HeaderMap, allowed_hosts: Option<&[String]>) -> bool {
    let Some(allowed_hosts) = allowed_hosts else { return true };
    let host_ok = headers
        .get(HOST)
        .and_then(|v| v.to_str().ok())
        .map(host_name)
        .is_some_and(|name| allowed_hosts.iter().any(|a| a.eq_ignore_ascii_case(name)));
    let origin_ok = match headers.get(ORIGIN) {
        None => true,
        Some(origin) => origin
            .to_str()
            .ok()
            .and_then(|o| o.split_once("://").map(|(_, rest)| rest))
            .map(|rest| host_name(rest.split('/').next().unwrap_or(rest)))
            .is_some_and(|name| allowed_hosts.iter().any(|a| a.eq_ignore_ascii_case(name))),
    };
    host_ok && origin_ok
}

/// `host[:port]` without the port; IPv6 literals keep their brackets.
fn host_name(authority: &str) -> &str {
    if let Some(end) = authority.find(']') {
        return &authority[..=end];
    }
    authority.rsplit_once(':').map_or(authority, |(host, _)| host)
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn check(host: Option<&str>, origin: Option<&str>) -> bool {
        let mut headers = HeaderMap::new();
        if let Some(h) = host {
            headers.insert(HOST, HeaderValue::from_str(h).unwrap());
        }
        if let Some(o) = origin {
            headers.insert(ORIGIN, HeaderValue::from_str(o).unwrap());
        }
        let hosts: Vec<String> = crate::http::config::LOOPBACK_HOSTS.iter().map(|s| s.to_string()).collect();
        allowed(&headers, Some(&hosts))
    }

    #[test]
    fn loopback_hosts_pass_and_foreign_ones_do_not() {
        assert!(check(Some("127.0.0.1:8080"), None));
        assert!(check(Some("localhost:3000"), Some("http://localhost:3000")));
        assert!(check(Some("[::1]:9"), Some("http://[::1]:9")));
        assert!(!check(Some("evil.example.com"), Some("http://evil.example.com")));
        assert!(!check(Some("127.0.0.1:8080"), Some("http://evil.example.com")));
        assert!(!check(None, None));
        assert!(!check(Some("localhost.evil.com"), None));
    }
}
