//! The tokens a connection's client presented last and had accepted, kept in the connection's
//! [`ConnectionState`] (which `serve_http` gives every connection): a client sends the same
//! token on every request of a kept-alive connection, and recognizing it here costs a
//! comparison, where the verdict cache costs a SHA-256 of the token and a cache lookup.
//!
//! Each entry names the cache whose verdict it is (one resource server's: a token accepted by
//! one is nothing to another, with its own audience, behind the same listener). The verdict is
//! the cache's own, with the same end (the token's expiry or the cache lifetime), and a cache
//! that keeps no verdicts has none kept here either. The comparison is in constant time, as a
//! connection may carry several callers' requests (a proxy's). Bounded: one token per
//! resource server, at most [`MAX_SERVERS`] of them, none longer than [`MAX_TOKEN_LENGTH`].

use std::time::Instant;

use mocopr_core::connection::ConnectionState;

use super::tokens::Accepted;

/// Most resource servers whose last token one connection keeps.
const MAX_SERVERS: usize = 4;

/// Longest token kept (a JWT is a few hundred bytes to a few KiB).
const MAX_TOKEN_LENGTH: usize = 8 * 1024;

/// The last accepted token of one resource server on one connection.
struct Entry {
    server: u64,
    token: Box<[u8]>,
    accepted: Accepted,
}

/// The connection's last accepted tokens, the most recent last.
#[derive(Default)]
struct LastTokens(Vec<Entry>);

/// The verdict of resource server `server` on `token`, when it is the token this connection
/// had it accept last and that verdict still holds.
pub(super) fn recall(connection: &ConnectionState, server: u64, token: &str, now: Instant) -> Option<Accepted> {
    connection.with(|last: &mut LastTokens| {
        let entry = last.0.iter().find(|entry| entry.server == server)?;
        let same = constant_time_eq::constant_time_eq(&entry.token, token.as_bytes());
        (same && entry.accepted.holds_at(now)).then(|| entry.accepted.clone())
    })
}

/// Keeps `token`, just accepted by resource server `server`, as this connection's last for it.
pub(super) fn remember(connection: &ConnectionState, server: u64, token: &str, accepted: &Accepted) {
    if token.len() > MAX_TOKEN_LENGTH {
        return;
    }
    connection.with(|last: &mut LastTokens| {
        last.0.retain(|entry| entry.server != server);
        if last.0.len() >= MAX_SERVERS {
            last.0.remove(0);
        }
        last.0.push(Entry { server, token: token.as_bytes().into(), accepted: accepted.clone() });
    });
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use mocopr_core::principal::Principal;

    use super::*;

    fn accepted(subject: &str, now: Instant) -> Accepted {
        Accepted { principal: Principal::new(subject), until: now + Duration::from_secs(60), expires_at: None }
    }

    fn subject(accepted: Option<Accepted>) -> Option<String> {
        accepted.map(|a| a.principal.subject().to_owned())
    }

    #[test]
    fn only_the_last_accepted_token_is_recognized_until_its_verdict_ends() {
        let connection = ConnectionState::new();
        let now = Instant::now();
        assert!(recall(&connection, 1, "a", now).is_none(), "nothing accepted yet");
        remember(&connection, 1, "token-a", &accepted("alice", now));
        assert_eq!(subject(recall(&connection, 1, "token-a", now)).as_deref(), Some("alice"));
        assert!(recall(&connection, 1, "token-b", now).is_none());
        assert!(recall(&connection, 1, "token-", now).is_none(), "a prefix is another token");
        assert!(recall(&connection, 1, "token-a", now + Duration::from_secs(60)).is_none(), "the verdict ended");
        remember(&connection, 1, "token-b", &accepted("bob", now));
        assert!(recall(&connection, 1, "token-a", now).is_none(), "only the last is kept");
        assert_eq!(subject(recall(&connection, 1, "token-b", now)).as_deref(), Some("bob"));
        assert!(recall(&ConnectionState::new(), 1, "token-b", now).is_none(), "another connection has its own");
        let expired = Accepted { expires_at: Some(1), ..accepted("carol", now) };
        remember(&connection, 1, "token-c", &expired);
        assert!(recall(&connection, 1, "token-c", now).is_none(), "an expired token is not recognized");
    }

    #[test]
    fn a_token_is_recognized_only_by_the_resource_server_that_accepted_it() {
        let connection = ConnectionState::new();
        let now = Instant::now();
        remember(&connection, 1, "token-a", &accepted("alice", now));
        assert!(recall(&connection, 2, "token-a", now).is_none(), "another resource server judges it itself");
        remember(&connection, 2, "token-b", &accepted("bob", now));
        assert_eq!(subject(recall(&connection, 1, "token-a", now)).as_deref(), Some("alice"));
        for server in 3..=(MAX_SERVERS as u64 + 1) {
            remember(&connection, server, "token-x", &accepted("x", now));
        }
        assert!(recall(&connection, 1, "token-a", now).is_none(), "the oldest went when the bound was reached");
        assert!(recall(&connection, 2, "token-b", now).is_some());
        let long = "x".repeat(MAX_TOKEN_LENGTH + 1);
        remember(&connection, 9, &long, &accepted("long", now));
        assert!(recall(&connection, 9, &long, now).is_none(), "a very long token is not kept");
    }
}
