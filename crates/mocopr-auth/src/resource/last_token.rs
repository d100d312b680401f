//! The token a connection's client presented last and had accepted, kept in the connection's
//! [`ConnectionState`] (which `serve_http` gives every connection): a client sends the same
//! token on every request of a kept-alive connection, and recognizing it here costs a
//! comparison, where the verdict cache costs a SHA-256 of the token and a cache lookup. The
//! verdict is the cache's own, with the same end (the token's expiry or the cache lifetime);
//! the comparison is in constant time, as a connection may carry several callers' requests
//! (a proxy's).

use std::time::Instant;

use super::tokens::Accepted;
use mocopr_core::connection::ConnectionState;

/// The last accepted token of one connection.
#[derive(Default)]
struct LastToken {
    token: Vec<u8>,
    accepted: Option<Accepted>,
}

/// The verdict on `token`, when it is the token this connection had accepted last and that
/// verdict still holds.
pub(super) fn recall(connection: &ConnectionState, token: &str, now: Instant) -> Option<Accepted> {
    connection.with(|last: &mut LastToken| {
        let accepted = last.accepted.as_ref()?;
        let same = constant_time_eq::constant_time_eq(&last.token, token.as_bytes());
        (same && accepted.holds_at(now)).then(|| accepted.clone())
    })
}

/// Keeps `token`, just accepted, as this connection's last.
pub(super) fn remember(connection: &ConnectionState, token: &str, accepted: &Accepted) {
    connection.with(|last: &mut LastToken| {
        last.token.clear();
        last.token.extend_from_slice(token.as_bytes());
        last.accepted = Some(accepted.clone());
    });
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use mocopr_core::principal::Principal;

    use super::*;

    #[test]
    fn only_the_last_accepted_token_is_recognized_until_its_verdict_ends() {
        let connection = ConnectionState::new();
        let now = Instant::now();
        assert!(recall(&connection, "a", now).is_none(), "nothing accepted yet");
        let accepted =
            |subject: &str| Accepted { principal: Principal::new(subject), until: now + Duration::from_secs(60) };
        remember(&connection, "token-a", &accepted("alice"));
        assert_eq!(
            recall(&connection, "token-a", now).map(|a| a.principal.subject().to_owned()).as_deref(),
            Some("alice")
        );
        assert!(recall(&connection, "token-b", now).is_none());
        assert!(recall(&connection, "token-", now).is_none(), "a prefix is another token");
        assert!(recall(&connection, "token-a", now + Duration::from_secs(60)).is_none(), "the verdict ended");
        remember(&connection, "token-b", &accepted("bob"));
        assert!(recall(&connection, "token-a", now).is_none(), "only the last is kept");
        assert_eq!(
            recall(&connection, "token-b", now).map(|a| a.principal.subject().to_owned()).as_deref(),
            Some("bob")
        );
        assert!(recall(&ConnectionState::new(), "token-b", now).is_none(), "another connection has its own");
    }
}
