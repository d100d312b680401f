//! `cargo xtask soak [--duration 60s] [--redis]`: the performance guide's realistic scenario
//! (50 clients, 1,000 requests per second, list_tools 10% / call_tool 70% / read_resource 20%)
//! against `production-server` (release) for the duration, in consecutive windows (a minute
//! each; ten seconds each in runs of two minutes or less, so a short run still has a warm
//! baseline), each run by the load tester with its progress bar. The report gives each
//! window's requests, errors, p50 and p99, and the server's resident memory at the end of the
//! first window and at the end; the command fails when any request failed or that memory grew
//! by 10% or more. With `--redis` the server's cache has an L2 in a `redis-server` started for
//! the run (and stopped after). Windows' JSON reports go to `target/soak/`.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::install::{Install, Tool, ensure};
use crate::loadtest::{Server, build_release};

/// RSS growth from the end of the first window to the end that fails the run, in percent.
const MAX_RSS_GROWTH_PERCENT: f64 = 10.0;

const REDIS: &[Tool] =
    &[Tool { name: "redis-server", probe: ("redis-server", &["--version"]), install: Install::Apt(&["redis-server"]) }];

/// What to run.
#[derive(Debug, PartialEq)]
struct Options {
    duration: Duration,
    redis: bool,
}

fn parse(args: &[String]) -> Result<Options, String> {
    let mut options = Options { duration: Duration::from_secs(60), redis: false };
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--duration" => {
                let value = args.next().ok_or("--duration needs a time, e.g. 60s or 10m")?;
                options.duration = parse_duration(value)?;
            }
            "--redis" => options.redis = true,
            other => return Err(format!("unknown soak option `{other}` (--duration TIME, --redis)")),
        }
    }
    // Two windows at least: memory is compared between the first and the last.
    if options.duration < Duration::from_secs(20) {
        return Err("a soak runs for 20 s at least".into());
    }
    Ok(options)
}

/// `90`, `90s`, `15m` or `2h`.
fn parse_duration(text: &str) -> Result<Duration, String> {
    let (number, unit) = text.find(|c: char| !c.is_ascii_digit()).map_or((text, "s"), |at| text.split_at(at));
    let n: u64 = number.parse().map_err(|_| format!("--duration {text}: not a time"))?;
    let seconds = match unit {
        "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        _ => return Err(format!("--duration {text}: the unit is s, m or h")),
    };
    Ok(Duration::from_secs(seconds))
}

/// The windows of a run: a minute each, or ten seconds each in runs of two minutes or less.
fn windows(duration: Duration) -> Vec<Duration> {
    let window = if duration > Duration::from_secs(120) { Duration::from_secs(60) } else { Duration::from_secs(10) };
    let mut left = duration;
    let mut out = Vec::new();
    while !left.is_zero() {
        let this = left.min(window);
        out.push(this);
        left -= this;
    }
    out
}

/// What one window's report says.
#[derive(Debug, PartialEq)]
struct Window {
    requests: u64,
    errors: u64,
    p50_us: u64,
    p99_us: u64,
}

fn read_window(json: &str) -> Result<Window, String> {
    let report: serde_json::Value = serde_json::from_str(json).map_err(|e| format!("the load report: {e}"))?;
    let number = |value: &serde_json::Value, name: &str| {
        value.as_u64().ok_or_else(|| format!("the load report has no `{name}`"))
    };
    Ok(Window {
        requests: number(&report["requests"], "requests")?,
        errors: number(&report["errors"], "errors")?,
        p50_us: number(&report["latency"]["p50_us"], "latency.p50_us")?,
        p99_us: number(&report["latency"]["p99_us"], "latency.p99_us")?,
    })
}

/// A process's resident memory now, in bytes.
fn rss_bytes(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse::<u64>().ok().map(|kib| kib * 1024)
}

/// A `redis-server` on a free loopback port, stopped when dropped.
struct Redis {
    child: Child,
    url: String,
}

impl Redis {
    fn start() -> Result<Redis, String> {
        let port = TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map_err(|e| e.to_string())?.port();
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start redis-server: {e}"))?;
        let redis = Redis { child, url: format!("redis://127.0.0.1:{port}/") };
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Ok(redis);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Err("redis-server did not start".into())
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn megabytes(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1e6)
}

pub(crate) fn run(args: &[String]) -> Result<(), String> {
    let options = parse(args)?;
    let redis = if options.redis {
        ensure(REDIS)?;
        Some(Redis::start()?)
    } else {
        None
    };
    build_release(true)?;
    let release = crate::target_dir().join("release");
    let out = crate::target_dir().join("soak");
    std::fs::create_dir_all(&out).map_err(|e| format!("{}: {e}", out.display()))?;
    let mut server_args = Vec::new();
    if let Some(redis) = &redis {
        server_args.extend(["--redis".to_owned(), redis.url.clone()]);
    }
    let server =
        Server::start(&release.join("examples").join("production-server"), &server_args, &out.join("server.log"))?;
    let scenario = crate::root().join("examples").join("production-server").join("scenario.json");
    let windows = windows(options.duration);
    let mut rows = Vec::new();
    let (mut first_rss, mut last_rss) = (None, None);
    for (n, window) in windows.iter().enumerate() {
        eprintln!("\n==> soak window {} of {} ({} s)", n + 1, windows.len(), window.as_secs());
        let json = out.join(format!("window-{}.json", n + 1));
        let ramp_up = if n == 0 { "1s" } else { "0s" };
        let status = Command::new(release.join("mocopr-loadtest"))
            .args(["--target", &server.url, "--scenario"])
            .arg(&scenario)
            .args(["--duration", &format!("{}s", window.as_secs()), "--clients", "50", "--rate", "1000"])
            .args(["--ramp-up", ramp_up, "--json"])
            .arg(&json)
            .stdout(Stdio::null())
            .status()
            .map_err(|e| format!("cannot run mocopr-loadtest: {e}"))?;
        if !status.success() {
            return Err(format!("the load tester failed in window {} ({status})", n + 1));
        }
        let text = std::fs::read_to_string(&json).map_err(|e| format!("{}: {e}", json.display()))?;
        rows.push(read_window(&text)?);
        let rss = rss_bytes(server.pid());
        if n == 0 {
            first_rss = rss;
        }
        last_rss = rss;
    }
    drop(server);
    drop(redis);

    println!("\nsoak: production-server, 50 clients, 1,000 req/s, the realistic mix, {} s", options.duration.as_secs());
    println!("{:<8} {:>10} {:>8} {:>10} {:>10}", "window", "requests", "errors", "p50", "p99");
    let mut start = 0;
    for (window, row) in windows.iter().zip(&rows) {
        let end = start + window.as_secs();
        let span = format!("{start}-{end}s");
        let (p50, p99) = (format!("{} µs", row.p50_us), format!("{} µs", row.p99_us));
        println!("{span:<8} {:>10} {:>8} {p50:>10} {p99:>10}", row.requests, row.errors);
        start = end;
    }
    let errors: u64 = rows.iter().map(|r| r.errors).sum();
    let requests: u64 = rows.iter().map(|r| r.requests).sum();
    println!("total    {requests:>10} {errors:>8}");
    let growth = match (first_rss, last_rss) {
        (Some(first), Some(last)) => {
            let percent = (last as f64 - first as f64) / first as f64 * 100.0;
            println!(
                "RSS: {} after the first window, {} at the end ({percent:+.1}%)",
                megabytes(first),
                megabytes(last)
            );
            Some(percent)
        }
        (None, _) => {
            println!("RSS: not reported on this platform");
            None
        }
        // Read once, then no more: the server is gone.
        (Some(_), None) => return Err("production-server exited during the soak".into()),
    };
    println!("window reports: {}", out.display());
    if errors > 0 {
        return Err(format!("{errors} of {requests} requests failed"));
    }
    if let Some(percent) = growth.filter(|p| *p >= MAX_RSS_GROWTH_PERCENT) {
        return Err(format!("resident memory grew by {percent:.1}% (the bound is {MAX_RSS_GROWTH_PERCENT}%)"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_and_durations_are_read() {
        let args = |list: &[&str]| list.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert_eq!(parse(&[]).unwrap(), Options { duration: Duration::from_secs(60), redis: false });
        let long = parse(&args(&["--duration", "15m", "--redis"])).unwrap();
        assert_eq!(long, Options { duration: Duration::from_secs(900), redis: true });
        assert_eq!(parse_duration("90").unwrap(), Duration::from_secs(90));
        assert!(parse(&args(&["--duration", "15s"])).is_err(), "too short for two windows");
        assert!(parse(&args(&["--duration", "soon"])).is_err());
        assert!(parse(&args(&["--fast"])).is_err());
    }

    #[test]
    fn runs_are_cut_in_windows() {
        assert_eq!(windows(Duration::from_secs(60)), vec![Duration::from_secs(10); 6]);
        assert_eq!(windows(Duration::from_secs(25)), [10, 10, 5].map(Duration::from_secs));
        assert_eq!(windows(Duration::from_secs(150)), [60, 60, 30].map(Duration::from_secs));
    }

    #[test]
    fn a_window_is_read_from_the_load_report() {
        let json = r#"{"requests": 10000, "errors": 2, "latency": {"p50_us": 180, "p99_us": 950}}"#;
        assert_eq!(read_window(json).unwrap(), Window { requests: 10_000, errors: 2, p50_us: 180, p99_us: 950 });
        assert!(read_window(r#"{"requests": 1}"#).is_err());
    }
}
