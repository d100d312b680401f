//! `cargo xtask flamegraph [--example NAME | --bench NAME [FILTER] | --test NAME [FILTER]]
//! [--seconds N]`: a CPU
//! flamegraph, sampled in process (pprof through `mocopr-profiling`), so it works without `perf`
//! permissions.
//!
//! - `--example production-server` (the default): the server (release) under the load tester's
//!   realistic mix, profiled from inside with `--cpu-profile-to`; the SVG goes to
//!   `target/flamegraph/production-server.svg`.
//! - `--bench NAME [FILTER]`: criterion's `--profile-time N` with the benches' in-process
//!   profiler; one `flamegraph.svg` per benchmark under `target/criterion/<id>/profile/`.
//! - `--test NAME [FILTER]`: an integration test of the facade (`stress_tests` is made for it),
//!   built in release and run with `MOCOPR_FLAMEGRAPH` set, so it samples itself while it
//!   works; the SVG goes to `target/flamegraph/NAME.svg`. (`cargo flamegraph --test NAME`
//!   profiles the same test with perf where perf may be used.)
//! - Any other example has no profiler inside: it is run under `cargo flamegraph` (perf) when
//!   perf may be used here and `cargo-flamegraph` is installed.

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, SystemTime};

use crate::loadtest::Server;

pub(crate) fn run(args: &[String]) -> Result<(), String> {
    let mut example = None;
    let mut bench = None;
    let mut test = None;
    let mut filter = None;
    let mut seconds = 10u64;
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--example" => example = Some(args.next().ok_or("--example needs a name")?.clone()),
            "--bench" => bench = Some(args.next().ok_or("--bench needs a name")?.clone()),
            "--test" => test = Some(args.next().ok_or("--test needs a name")?.clone()),
            "--seconds" => {
                let value = args.next().ok_or("--seconds needs a number")?;
                seconds = value.parse().ok().filter(|s| (1..=300).contains(s)).ok_or("--seconds: 1 to 300")?;
            }
            other if (bench.is_some() || test.is_some()) && filter.is_none() && !other.starts_with('-') => {
                filter = Some(other.to_owned())
            }
            other => return Err(format!("flamegraph: unexpected argument {other:?}")),
        }
    }
    if let Some(test) = test {
        if example.is_some() || bench.is_some() {
            return Err("flamegraph: one of --example, --bench, --test".into());
        }
        return test_flamegraph(&test, filter.as_deref());
    }
    match (example, bench) {
        (Some(_), Some(_)) => Err("flamegraph: --example or --bench, not both".into()),
        (None, Some(bench)) => bench_flamegraphs(&bench, filter.as_deref(), seconds),
        (Some(example), None) if example != "production-server" => with_perf(&example),
        _ => production_server(seconds),
    }
}

fn production_server(seconds: u64) -> Result<(), String> {
    crate::loadtest::build_release(true)?;
    let out = crate::target_dir().join("flamegraph");
    std::fs::create_dir_all(&out).map_err(|e| format!("{}: {e}", out.display()))?;
    let svg = out.join("production-server.svg");
    let _ = std::fs::remove_file(&svg);
    let release = crate::target_dir().join("release");
    let server_args: Vec<String> = [
        "--cpu-profile-to",
        &svg.display().to_string(),
        "--cpu-profile-delay-ms",
        "1500",
        "--cpu-profile-seconds",
        &seconds.to_string(),
    ]
    .map(String::from)
    .to_vec();
    let server =
        Server::start(&release.join("examples").join("production-server"), &server_args, &out.join("server.log"))?;
    let scenario = crate::root().join("examples").join("production-server").join("scenario.json");
    let load = (seconds + 3).to_string();
    crate::run(
        "load while sampling",
        Command::new(release.join("mocopr-loadtest")).args([
            "--target",
            &server.url,
            "--scenario",
            &scenario.display().to_string(),
            "--duration",
            &format!("{load}s"),
            "--rate",
            "0",
            "--clients",
            "16",
            "--ramp-up",
            "0s",
        ]),
    )?;
    // The profile is written when its sampling ends; name resolution takes a moment more.
    for _ in 0..100 {
        if svg.exists() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    drop(server);
    if !svg.exists() {
        return Err(format!("no flamegraph was written; see {}", out.join("server.log").display()));
    }
    println!("flamegraph: {}", svg.display());
    Ok(())
}

fn test_flamegraph(test: &str, filter: Option<&str>) -> Result<(), String> {
    let out = crate::target_dir().join("flamegraph");
    std::fs::create_dir_all(&out).map_err(|e| format!("{}: {e}", out.display()))?;
    let svg = out.join(format!("{test}.svg"));
    let _ = std::fs::remove_file(&svg);
    let mut command = Command::new("cargo");
    command.args(["test", "--release", "-p", "mocopr", "--test", test, "--", "--nocapture"]);
    command.args(filter);
    command.env("MOCOPR_FLAMEGRAPH", &svg);
    crate::run("test sampling itself", &mut command)?;
    if !svg.exists() {
        return Err(format!("{test} wrote no flamegraph (does it read MOCOPR_FLAMEGRAPH?)"));
    }
    println!("flamegraph: {}", svg.display());
    Ok(())
}

fn bench_flamegraphs(bench: &str, filter: Option<&str>, seconds: u64) -> Result<(), String> {
    let started = SystemTime::now();
    let mut command = Command::new("cargo");
    command.args(["bench", "-p", "mocopr-benches", "--bench", bench, "--", "--profile-time", &seconds.to_string()]);
    command.args(filter);
    crate::run("criterion --profile-time", &mut command)?;
    let mut written = Vec::new();
    find_svgs(&crate::target_dir().join("criterion"), started, &mut written);
    if written.is_empty() {
        return Err("no flamegraph was written (does the filter match a benchmark?)".into());
    }
    written.sort();
    for svg in written {
        println!("flamegraph: {}", svg.display());
    }
    Ok(())
}

fn find_svgs(dir: &std::path::Path, since: SystemTime, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            find_svgs(&path, since, out);
        } else if path.file_name().is_some_and(|n| n == "flamegraph.svg")
            && std::fs::metadata(&path).and_then(|m| m.modified()).is_ok_and(|t| t >= since)
        {
            out.push(path);
        }
    }
}

/// Whether `perf` may sample here: installed, and allowed (root, or a paranoid level ≤ 1).
fn perf_usable() -> bool {
    let paranoid = std::fs::read_to_string("/proc/sys/kernel/perf_event_paranoid")
        .ok()
        .and_then(|s| s.trim().parse::<i32>().ok())
        .unwrap_or(2);
    let root =
        std::env::var("USER").is_ok_and(|u| u == "root") || crate::succeeds("sh", &["-c", "test $(id -u) -eq 0"]);
    crate::succeeds("perf", &["--version"]) && (root || paranoid <= 1)
}

fn with_perf(example: &str) -> Result<(), String> {
    if !perf_usable() {
        return Err(format!(
            "{example} has no profiler inside, and perf cannot be used here (missing, or \
             /proc/sys/kernel/perf_event_paranoid > 1 without root); profile production-server or a bench instead"
        ));
    }
    if !crate::succeeds("cargo", &["flamegraph", "--version"]) {
        return Err("perf is usable: install cargo-flamegraph (`cargo install flamegraph --locked`)".into());
    }
    crate::run(
        "cargo flamegraph",
        Command::new("cargo").args(["flamegraph", "-p", "mocopr-examples", "--example", example]),
    )
}
