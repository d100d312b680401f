//! [`ConnectionState`]: what layers keep for one connection, across its requests.
//!
//! A transport serving requests over long-lived connections (HTTP/1.1 keep-alive, HTTP/2)
//! makes one `ConnectionState` per connection and puts a handle to it in every request's
//! extensions. A layer keeps one value of each type there: the authorization layer keeps the
//! token it accepted last, so that a client repeating it on the same connection (every request
//! after its first) is recognized without looking the token up again. What is kept lives as
//! long as the connection, one value per type, so it is bounded by the layers that keep it.

use std::any::Any;
use std::sync::{Arc, Mutex, PoisonError};

/// The state layers keep for one connection: one value per type, shared by every request on
/// the connection. Cheap to clone (one `Arc`); clones are the same state.
///
/// ```
/// use mocopr_core::connection::ConnectionState;
///
/// #[derive(Default)]
/// struct Requests(u32);
///
/// let connection = ConnectionState::new();
/// let same = connection.clone();
/// connection.with(|seen: &mut Requests| seen.0 += 1);
/// same.with(|seen: &mut Requests| seen.0 += 1);
/// assert_eq!(connection.with(|seen: &mut Requests| seen.0), 2);
/// ```
#[derive(Clone, Default)]
pub struct ConnectionState {
    values: Arc<Mutex<Vec<Box<dyn Any + Send>>>>,
}

impl std::fmt::Debug for ConnectionState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let values = self.values.lock().unwrap_or_else(PoisonError::into_inner).len();
        f.debug_struct("ConnectionState").field("values", &values).finish()
    }
}

impl ConnectionState {
    /// A connection's state, with nothing kept yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Calls `f` with this connection's `T` (a default one, the first time), and returns what
    /// `f` returns. The connection's requests are served concurrently (HTTP/2), so `f` runs
    /// under a lock: keep it short, and do not use this state inside it (the lock is not
    /// reentrant: that would deadlock).
    pub fn with<T: Default + Send + 'static, R>(&self, f: impl FnOnce(&mut T) -> R) -> R {
        // A panic in another `f` leaves values that are still values: the lock is taken over.
        let mut values = self.values.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(value) = values.iter_mut().find_map(|value| value.downcast_mut::<T>()) {
            return f(value);
        }
        let mut value = T::default();
        let answer = f(&mut value);
        values.push(Box::new(value));
        answer
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_type_has_one_value_per_connection() {
        let (one, other) = (ConnectionState::new(), ConnectionState::new());
        one.with(|n: &mut u32| *n = 7);
        one.with(|s: &mut String| s.push('x'));
        assert_eq!(one.with(|n: &mut u32| *n), 7);
        assert_eq!(one.with(|s: &mut String| s.clone()), "x");
        assert_eq!(other.with(|n: &mut u32| *n), 0, "another connection keeps its own");
        assert_eq!(format!("{one:?}"), "ConnectionState { values: 2 }");
    }
}
