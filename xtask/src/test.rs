//! `cargo xtask test`: everything CI checks, in the order that fails fastest.

use std::process::Command;

use crate::install::{Install, Tool, ensure};
use crate::{run, succeeds};

const TOOLS: &[Tool] = &[
    Tool { name: "rustfmt", probe: ("cargo", &["fmt", "--version"]), install: Install::RustupComponent("rustfmt") },
    Tool { name: "clippy", probe: ("cargo", &["clippy", "--version"]), install: Install::RustupComponent("clippy") },
    // The cache and store tests start their own `redis-server` on a free loopback port.
    Tool { name: "redis-server", probe: ("redis-server", &["--version"]), install: Install::Apt(&["redis-server"]) },
    // The dashboard's live page is tested in headless Chromium.
    Tool { name: "chromium", probe: ("chromium", &["--version"]), install: Install::Apt(&["chromium"]) },
];

/// How long `cargo xtask test` runs each fuzz target.
const SHORT_FUZZ_SECONDS: &str = "15";

/// Turns every test's skip for a missing program into a failure (`mocopr_testing::NO_SKIP_VARIABLE`).
const NO_SKIP: &str = "MOCOPR_NO_SKIP";

/// `cargo`, without incremental compilation unless the caller asked for it: a test run builds
/// every target once, and incremental state would only add gigabytes to target/.
fn cargo() -> Command {
    let mut command = Command::new("cargo");
    if std::env::var_os("CARGO_INCREMENTAL").is_none() {
        command.env("CARGO_INCREMENTAL", "0");
    }
    command
}

pub(crate) fn run_all(_args: &[String]) -> Result<(), String> {
    ensure(TOOLS)?;
    run("rustfmt", cargo().args(["fmt", "--all", "--", "--check"]))?;
    run("clippy", cargo().args(["clippy", "--workspace", "--all-targets", "--locked", "--", "-D", "warnings"]))?;
    // The load tester's command line is behind a feature the workspace build leaves off.
    run(
        "clippy (mocopr-loadtest)",
        cargo().args([
            "clippy",
            "-p",
            "mocopr-testing",
            "--features",
            "cli",
            "--all-targets",
            "--locked",
            "--",
            "-D",
            "warnings",
        ]),
    )?;
    run("rustdoc", cargo().args(["doc", "--workspace", "--no-deps", "--locked"]).env("RUSTDOCFLAGS", "-D warnings"))?;
    if succeeds("cargo", &["deny", "--version"]) {
        run("cargo-deny", cargo().args(["deny", "--locked", "check", "licenses", "bans", "sources"]))?;
    } else {
        eprintln!("\n==> cargo-deny: not installed, skipped (install with `cargo install cargo-deny --locked`)");
    }
    // Everything the tests need was installed above: a test that would skip for a missing
    // program fails instead (`mocopr_testing::installed`).
    run("doctests", cargo().args(["test", "--workspace", "--doc", "--locked"]).env(NO_SKIP, "1"))?;
    // The official conformance suite, one scenario at a time: server scenarios against the
    // `conformance-server` example, every client scenario (auth/ included) with `conformance-client` as the
    // client under test. It installs its pinned Node packages with `npm ci`.
    eprintln!("\n==> conformance: cargo xtask conformance --server --client");
    crate::conformance::run_all(&["--server".to_owned(), "--client".to_owned()])?;
    // Every fuzz target for a short time from the committed corpus (a nightly build with
    // AddressSanitizer): a crash fails the run with its input saved in fuzz/artifacts/.
    crate::fuzz::run_all(&["--time".to_owned(), SHORT_FUZZ_SECONDS.to_owned()])?;
    // nextest runs last so its summary is the suite's closing line.
    if succeeds("cargo", &["nextest", "--version"]) {
        run("tests", cargo().args(["nextest", "run", "--workspace", "--locked", "--no-fail-fast"]).env(NO_SKIP, "1"))
    } else {
        eprintln!("\n==> cargo-nextest not installed: falling back to cargo test");
        run("tests", cargo().args(["test", "--workspace", "--locked", "--no-fail-fast"]).env(NO_SKIP, "1"))
    }
}
