//! Tests that need a program the machine may lack (`redis-server`, Chromium, Node): they skip
//! with a message naming it, unless `MOCOPR_NO_SKIP` is set (as `cargo xtask test` sets it), in
//! which case a missing program fails the test, so CI never skips silently.

use std::process::{Command, Stdio};

/// The variable that turns every skip for a missing program into a failure.
pub const NO_SKIP_VARIABLE: &str = "MOCOPR_NO_SKIP";

/// Whether `program` runs here (`program --version` succeeds). When it does not, prints that
/// the test is skipped and how to get `program` — or, with [`NO_SKIP_VARIABLE`] set, panics
/// saying so.
///
/// ```
/// # fn test_that_needs_redis() {
/// if !mocopr_testing::installed("redis-server", "apt-get install redis-server") {
///     return;
/// }
/// let redis = mocopr_testing::RedisServer::start().unwrap();
/// # let _ = redis; }
/// ```
pub fn installed(program: &str, how_to_install: &str) -> bool {
    let found = Command::new(program)
        .arg("--version")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    if found {
        return true;
    }
    let message =
        format!("`{program}` is not installed (install it with `{how_to_install}`, or run `cargo xtask test`)");
    if std::env::var_os(NO_SKIP_VARIABLE).is_some() {
        panic!("{message}; {NO_SKIP_VARIABLE} is set, so this test may not skip");
    }
    eprintln!("skipped: {message}");
    false
}
