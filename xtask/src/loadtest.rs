//! `cargo xtask loadtest`: builds the load tester (`mocopr-loadtest`, release, so the load
//! generator is not the bottleneck) and runs it, by default against `production-server`
//! (release) started on a free loopback port with embedded defaults and the performance guide's
//! realistic mix (`examples/production-server/scenario.json`: list_tools 10% / call_tool 70% /
//! read_resource 20%), 50 clients at 1,000 requests per second. The JSON report goes to
//! `target/loadtest/report.json`, the server's log to `target/loadtest/server.log`.
//!
//! Every argument but `--server-arg` goes to `mocopr-loadtest` (see its `--help`); with
//! `--target` no server is started.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// How long the server may take to say where it listens.
const START_TIMEOUT: Duration = Duration::from_secs(30);

pub(crate) fn run(args: &[String]) -> Result<(), String> {
    let (server_args, args) = split_server_args(args);
    // The load tester runs in the workspace root: paths given relative to where the command was
    // typed are made absolute first.
    let mut args = absolute_paths(args, &["--scenario", "--json"]);
    let targeted = has(&args, "--target");
    build_release(!targeted)?;
    let release = crate::target_dir().join("release");
    let out = crate::target_dir().join("loadtest");
    std::fs::create_dir_all(&out).map_err(|e| format!("{}: {e}", out.display()))?;
    let mut server = None;
    if !targeted {
        let binary = release.join("examples").join("production-server");
        let started = Server::start(&binary, &server_args, &out.join("server.log"))?;
        args.extend(["--target".into(), started.url.clone(), "--server-pid".into(), started.child.id().to_string()]);
        if !has(&args, "--scenario") {
            let scenario = crate::root().join("examples").join("production-server").join("scenario.json");
            args.extend(["--scenario".into(), scenario.display().to_string()]);
        }
        server = Some(started);
    }
    if !has(&args, "--json") {
        args.extend(["--json".into(), out.join("report.json").display().to_string()]);
    }
    let result = crate::run("load test", Command::new(release.join("mocopr-loadtest")).args(&args));
    if server.is_some() {
        println!("dashboard, metrics and profiles (while the server runs): the admin address in the server log");
        println!("flamegraph: GET <admin>/debug/pprof/profile?seconds=10 during a run, or `cargo xtask flamegraph`");
        println!("server log: {}", out.join("server.log").display());
    }
    drop(server);
    result
}

/// Builds `mocopr-loadtest` (and `production-server` when `server`) in release.
pub(crate) fn build_release(server: bool) -> Result<(), String> {
    let mut build = Command::new("cargo");
    build.args([
        "build",
        "--release",
        "--quiet",
        "-p",
        "mocopr-testing",
        "--features",
        "cli",
        "--bin",
        "mocopr-loadtest",
    ]);
    if server {
        build.args(["-p", "mocopr-examples", "--example", "production-server"]);
    }
    crate::run("build the load tester", &mut build)
}

fn has(args: &[String], flag: &str) -> bool {
    args.iter().any(|a| a == flag || a.starts_with(&format!("{flag}=")))
}

/// `--server-arg X` / `--server-arg=X` pairs (for the started server), and the rest.
fn split_server_args(args: &[String]) -> (Vec<String>, Vec<String>) {
    let (mut server, mut rest) = (Vec::new(), Vec::new());
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        if let Some(value) = arg.strip_prefix("--server-arg=") {
            server.push(value.to_owned());
        } else if arg == "--server-arg" {
            server.extend(args.next().cloned());
        } else {
            rest.push(arg.clone());
        }
    }
    (server, rest)
}

/// The values of `flags` made absolute against the current directory.
fn absolute_paths(args: Vec<String>, flags: &[&str]) -> Vec<String> {
    let absolute =
        |value: &str| std::path::absolute(value).map_or_else(|_| value.to_owned(), |p| p.display().to_string());
    let mut out = Vec::with_capacity(args.len());
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        match flags.iter().find_map(|flag| arg.strip_prefix(&format!("{flag}=")).map(|value| (flag, value))) {
            Some((flag, value)) => out.push(format!("{flag}={}", absolute(value))),
            None if flags.contains(&arg.as_str()) => {
                out.push(arg);
                out.extend(args.next().map(|value| absolute(&value)));
            }
            None => out.push(arg),
        }
    }
    out
}

/// The started `production-server`, killed when dropped (also when the load test fails).
pub(crate) struct Server {
    child: Child,
    pub(crate) url: String,
}

impl Server {
    /// Starts it over HTTP on a free loopback port; its stderr goes to `log`.
    pub(crate) fn start(binary: &Path, extra: &[String], log: &PathBuf) -> Result<Server, String> {
        let mut child = Command::new(binary)
            .args(["--transport", "http", "--bind", "127.0.0.1:0"])
            .args(extra)
            .stdin(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", binary.display()))?;
        let stderr = child.stderr.take();
        let mut file = std::fs::File::create(log).map_err(|e| format!("{}: {e}", log.display()))?;
        let (tx, rx) = mpsc::channel();
        // Every line goes to the log; the first that says where it listens also comes here.
        std::thread::spawn(move || {
            let Some(stderr) = stderr else { return };
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = writeln!(file, "{line}");
                if let Some(url) = line.strip_prefix("production-server: listening on ") {
                    let _ = tx.send(url.trim().to_owned());
                }
            }
        });
        let mut server = Server { child, url: String::new() };
        match rx.recv_timeout(START_TIMEOUT) {
            Ok(url) => server.url = url,
            Err(_) => return Err(format!("production-server did not start; see {}", log.display())),
        }
        eprintln!("production-server (pid {}) at {}", server.child.id(), server.url);
        Ok(server)
    }
}

impl Server {
    /// The server's process id.
    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[cfg(test)]
mod tests {
    use super::{absolute_paths, split_server_args};

    #[test]
    fn server_arguments_are_taken_out() {
        let args: Vec<String> =
            ["--duration", "5s", "--server-arg", "--no-cache", "--server-arg=--cache-entries=10", "--rate", "0"]
                .map(String::from)
                .to_vec();
        let (server, rest) = split_server_args(&args);
        assert_eq!(server, ["--no-cache", "--cache-entries=10"]);
        assert_eq!(rest, ["--duration", "5s", "--rate", "0"]);
    }

    #[test]
    fn relative_paths_become_absolute() {
        let args = ["--scenario", "a.json", "--json=out/r.json", "--rate", "5"].map(String::from).to_vec();
        let out = absolute_paths(args, &["--scenario", "--json"]);
        assert!(out[1].starts_with('/') && out[1].ends_with("/a.json"), "{out:?}");
        assert!(out[2].starts_with("--json=/") && out[2].ends_with("/out/r.json"), "{out:?}");
        assert_eq!(&out[3..], ["--rate", "5"]);
    }
}
