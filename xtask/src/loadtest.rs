//! `cargo xtask loadtest`: builds the load tester (`mocopr-loadtest`, release, so the load
//! generator is not the bottleneck) and runs it, by default against `production-server`
//! (release) started on a free loopback port with embedded defaults and the performance guide's
//! realistic mix (`examples/production-server/scenario.json`: list_tools 10% / call_tool 70% /
//! read_resource 20%), 50 clients at 1,000 requests per second. The JSON report goes to
//! `target/loadtest/report.json`.
//!
//! Every argument but `--server-arg` goes to `mocopr-loadtest` (see its `--help`); with
//! `--target` no server is started.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

pub(crate) fn run(args: &[String]) -> Result<(), String> {
    let (server_args, mut args): (Vec<String>, Vec<String>) = split_server_args(args);
    let targeted = args.iter().any(|a| a == "--target" || a.starts_with("--target="));
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
    if !targeted {
        build.args(["-p", "mocopr-examples", "--example", "production-server"]);
    }
    crate::run("build the load tester", &mut build)?;
    let release = crate::target_dir().join("release");
    let mut server = None;
    if !targeted {
        let (child, url) = start_production_server(&release.join("examples").join("production-server"), &server_args)?;
        args.extend(["--target".into(), url, "--server-pid".into(), child.id().to_string()]);
        if !args.iter().any(|a| a == "--scenario" || a.starts_with("--scenario=")) {
            let scenario = crate::root().join("examples").join("production-server").join("scenario.json");
            args.extend(["--scenario".into(), scenario.display().to_string()]);
        }
        server = Some(child);
    }
    if !args.iter().any(|a| a == "--json" || a.starts_with("--json=")) {
        let report = crate::target_dir().join("loadtest").join("report.json");
        args.extend(["--json".into(), report.display().to_string()]);
    }
    let result = crate::run("load test", Command::new(release.join("mocopr-loadtest")).args(&args));
    if let Some(mut child) = server {
        let _ = child.kill();
        let _ = child.wait();
    }
    result
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

/// Starts `production-server` over HTTP on a free loopback port; returns it and its URL.
fn start_production_server(binary: &std::path::Path, extra: &[String]) -> Result<(Child, String), String> {
    let mut child = Command::new(binary)
        .args(["--transport", "http", "--bind", "127.0.0.1:0"])
        .args(extra)
        .stdin(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", binary.display()))?;
    let Some(stderr) = child.stderr.take() else { return Err("no stderr".into()) };
    let mut lines = BufReader::new(stderr).lines();
    let url = loop {
        match lines.next() {
            Some(Ok(line)) => match line.strip_prefix("production-server: listening on ") {
                Some(url) => break url.trim().to_owned(),
                None => eprintln!("{line}"),
            },
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return Err("production-server exited before it listened".into());
            }
        }
    };
    // Keep draining its stderr so it never blocks on a full pipe.
    std::thread::spawn(move || lines.for_each(drop));
    eprintln!("production-server (pid {}) at {url}", child.id());
    Ok((child, url))
}

#[cfg(test)]
mod tests {
    use super::split_server_args;

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
}
