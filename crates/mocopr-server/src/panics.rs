//! A handler that panics answers its request with an internal error, and the server goes on
//! serving: the panic is caught where the request is dispatched (and where a task runs), its
//! message logged here and never sent to the client.

use std::any::Any;

use mocopr_core::{ErrorCode, ErrorObject};

/// The error a request whose handler panicked gets; logs the panic's message.
pub(crate) fn panicked(panic: &(dyn Any + Send)) -> ErrorObject {
    let message = panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(not a string)");
    tracing::error!(panic = %message, "a handler panicked; its request gets an internal error");
    ErrorObject::new(ErrorCode::INTERNAL_ERROR, "internal error")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_answer_says_nothing_of_the_panic() {
        let error = panicked(&"secret in a panic");
        assert_eq!(error.code, ErrorCode::INTERNAL_ERROR);
        assert_eq!(error.message, "internal error");
        let owned: Box<dyn Any + Send> = Box::new(String::from("another secret"));
        assert_eq!(panicked(owned.as_ref()).message, "internal error");
    }
}
