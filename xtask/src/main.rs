//! MoCoPr's build system, run as `cargo xtask <command>` (see `.cargo/config.toml`).
//!
//! Commands are plain Rust so they behave the same on every machine: no shell scripts, no make.

mod bench;
mod compare;
mod conformance;
mod flamegraph;
mod fuzz;
mod install;
mod loadtest;
mod soak;
mod test;
#[cfg(test)]
mod tidy;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

const USAGE: &str = "\
usage: cargo xtask <command>

commands:
  test       everything CI checks: installs what is missing, then rustfmt, clippy -D warnings,
             rustdoc -D warnings, cargo-deny (when installed), doctests, the conformance
             suite, every fuzz target for 15 s and the nextest suite
  conformance [--server] [--client] [--scenario NAME] [--url URL]
             the official MCP conformance suite (0.1.16, and 0.2.0-alpha.12 at 2026-07-28 and
             at 2025-11-25), one scenario at a time; installs it with `npm ci` in conformance/,
             builds the examples and tests `conformance-server` (default, or with --server) and
             `conformance-client` (--client); --scenario runs one scenario in every suite that
             has it; --url tests an already running server instead of building and starting ours
  loadtest [--target stdio:CMD | http://…] [--scenario FILE] [--duration 10s] [--clients 50]
           [--rate 1000] [--ramp-up 1s] [--json FILE] [--server-arg ARG]…
             the load tester (mocopr-loadtest, release) with a progress bar and a report
             (table, and JSON in target/loadtest/report.json); without --target it builds and
             starts production-server (release) on loopback, passing it each --server-arg, and
             sends the realistic mix: 50 clients, 1,000 req/s, list_tools 10% / call_tool 70% /
             read_resource 20% (examples/production-server/scenario.json)
  bench [NAME…]
             the criterion suites (all, or the named benches), then a summary table of this
             run's medians and throughputs
  bench --compare [--peers] [--baseline NAME=PATH]… [--rounds 3] [--seconds 2]
             echo-server beside the bare limits (and, with --peers, rmcp's and tower-mcp's echo
             servers from benches/peers/): stdio and HTTP, serial and 32 in flight, both eras,
             100 B and 10 KB, subjects interleaved, medians of the rounds as shares of the
             limit; a markdown table and JSON in target/bench/
  flamegraph [--example production-server | --bench NAME [FILTER] | --test NAME [FILTER]] [--seconds 10]
             a CPU flamegraph sampled in process (no perf permissions needed): production-server
             under load (default; target/flamegraph/production-server.svg), each benchmark of
             a bench (criterion --profile-time), or a facade test that samples itself
             (`--test stress_tests`; target/flamegraph/stress_tests.svg); other examples
             through `cargo flamegraph` when perf is usable
  fuzz [TARGET…] [--time SECONDS] [--minimize] [--seed]
             the fuzz targets of fuzz/ (cargo fuzz on the nightly toolchain; installs cargo-fuzz),
             each for SECONDS (default 60) from the committed corpus fuzz/corpus/TARGET, then the
             executions per target; a crash fails with the input saved in fuzz/artifacts/TARGET;
             --minimize merges what runs found into the committed corpus; --seed adds the
             official 2026-07-28 examples and the malformed-input table to the corpora
  soak [--duration 60s] [--redis]
             production-server (release) under the realistic mix (50 clients, 1,000 req/s) for
             the duration, in windows (10 s each up to 2 min, then a minute each): requests,
             errors, p50 and p99 per window, and resident memory after the first window and at
             the end; fails on any failed request or memory growth of 10% or more; --redis
             gives the server's cache an L2 in a redis-server started for the run
  help       this text
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("test") => test::run_all(&args[1..]),
        Some("conformance") => conformance::run_all(&args[1..]),
        Some("loadtest") => loadtest::run(&args[1..]),
        Some("bench") if args[1..].iter().any(|a| a == "--compare") => {
            compare::run(&args[1..].iter().filter(|a| *a != "--compare").cloned().collect::<Vec<_>>())
        }
        Some("bench") => bench::run(&args[1..]),
        Some("flamegraph") => flamegraph::run(&args[1..]),
        Some("fuzz") => fuzz::run_all(&args[1..]),
        Some("soak") => soak::run(&args[1..]),
        Some("help" | "--help" | "-h") | None => {
            print!("{USAGE}");
            Ok(())
        }
        Some(other) => Err(format!("unknown command `{other}`\n\n{USAGE}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: {message}");
            ExitCode::FAILURE
        }
    }
}

/// The workspace root (the parent of this crate).
pub(crate) fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().map(Path::to_path_buf).unwrap_or_default()
}

/// Cargo's target directory: `$CARGO_TARGET_DIR` (relative to the workspace root), or `target/`.
pub(crate) fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => root().join(dir),
        None => root().join("target"),
    }
}

/// Runs a command (in the workspace root unless it has its own directory), echoing it first;
/// fails with its exit status.
pub(crate) fn run(step: &str, command: &mut Command) -> Result<(), String> {
    eprintln!("\n==> {step}: {}", describe(command));
    if command.get_current_dir().is_none() {
        command.current_dir(root());
    }
    let status = command.status().map_err(|e| format!("{step}: could not start `{}`: {e}", describe(command)))?;
    if status.success() { Ok(()) } else { Err(format!("{step} failed ({status})")) }
}

/// Whether `program args…` runs and exits successfully (used to probe for tools).
pub(crate) fn succeeds(program: &str, args: &[&str]) -> bool {
    Command::new(program)
        .args(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn describe(command: &Command) -> String {
    let mut text = command.get_program().to_string_lossy().into_owned();
    for arg in command.get_args() {
        text.push(' ');
        text.push_str(&arg.to_string_lossy());
    }
    text
}
