//! `bench-compare`: MoCoPr's echo-server side by side with the bare limits (a newline-JSON loop
//! for stdio, a hyper echo for HTTP) and, when given, peer SDKs' echo servers. Every path a user
//! feels: stdio and HTTP, one request at a time and 32 in flight (32 connections over HTTP), both
//! eras, 100 B and 10 KB payloads. Each round runs every cell once, subjects interleaved, so a
//! noisy machine disturbs them alike; the report takes the median of the rounds and gives every
//! figure as a share of the limit, and the server's CPU time per request (the figure a busy
//! machine disturbs least: stolen time slows a server down, it does not make a request cost more). Writes `compare.md` and `compare.json` to `--out`.
//!
//! `cargo xtask bench --compare [--peers]` builds the programs and runs this; by hand:
//!
//! ```text
//! bench-compare --limit-stdio target/release/bare-stdio-echo --limit-http target/release/bare-http-echo \
//!     --mocopr target/release/examples/echo-server [--baseline NAME=PATH]… [--peer rmcp=PATH]… \
//!     [--rounds 3] [--seconds 2] [--out DIR]
//! ```
//!
//! `--baseline` adds another build of the echo-server (both eras) under its own name: a change's
//! before and after, measured side by side in one run.

mod http;
mod report;
mod stdio;
mod subject;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use report::{Cell, Report, Round};
use subject::{Era, Subject};

/// Requests in flight (stdio) or connections (HTTP) in the concurrent mode.
const IN_FLIGHT: usize = 32;
/// The payloads: the performance guide's 100 bytes, and 10 KB.
const PAYLOADS: [usize; 2] = [100, 10 * 1024];
/// Time each cell runs before it is measured (at most as long as it is measured).
const WARM_UP: Duration = Duration::from_millis(250);

/// One request at a time, or [`IN_FLIGHT`] at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Serial,
    Concurrent,
}

/// What one measured run of a cell saw.
#[derive(Debug, Default)]
struct Sample {
    requests: u64,
    elapsed: Duration,
    /// Each request's time, in nanoseconds (serial runs only).
    latencies: Vec<u64>,
    /// The server's CPU time (user and system) over the run.
    cpu: Option<Duration>,
}

impl Sample {
    fn round(mut self) -> Round {
        self.latencies.sort_unstable();
        let at = |q: f64| {
            let n = self.latencies.len();
            (n > 0).then(|| self.latencies[((n - 1) as f64 * q).round() as usize] as f64 / 1e3)
        };
        Round {
            per_second: self.requests as f64 / self.elapsed.as_secs_f64().max(1e-9),
            p50_us: at(0.5),
            p99_us: at(0.99),
            cpu_us: self.cpu.filter(|_| self.requests > 0).map(|cpu| cpu.as_secs_f64() * 1e6),
            requests: self.requests,
        }
    }
}

struct Options {
    subjects: Vec<Subject>,
    rounds: usize,
    seconds: f64,
    out: PathBuf,
}

fn options() -> Result<Options, String> {
    let mut args = std::env::args().skip(1);
    let (mut limit_stdio, mut limit_http, mut mocopr) = (None, None, None);
    let (mut baselines, mut peers) = (Vec::new(), Vec::new());
    let mut options = Options { subjects: Vec::new(), rounds: 3, seconds: 2.0, out: PathBuf::from("target/bench") };
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "--limit-stdio" => limit_stdio = Some(PathBuf::from(value()?)),
            "--limit-http" => limit_http = Some(PathBuf::from(value()?)),
            "--mocopr" => mocopr = Some(PathBuf::from(value()?)),
            "--baseline" | "--peer" => {
                let spec = value()?;
                let (name, path) = spec.split_once('=').ok_or_else(|| format!("{arg} takes NAME=PATH"))?;
                if name == "mocopr" || name == "limit" {
                    return Err(format!("{arg}: the name {name} is taken"));
                }
                // The name heads a column of the markdown tables.
                if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c)) {
                    return Err(format!("{arg}: a name is letters, digits, `.`, `_` and `-`, not {name:?}"));
                }
                match arg.as_str() {
                    "--baseline" => baselines.push(Subject::mocopr(name, PathBuf::from(path))),
                    _ => peers.push(Subject::peer(name, PathBuf::from(path))),
                }
            }
            "--rounds" => options.rounds = value()?.parse().map_err(|e| format!("--rounds: {e}"))?,
            "--seconds" => options.seconds = value()?.parse().map_err(|e| format!("--seconds: {e}"))?,
            "--out" => options.out = PathBuf::from(value()?),
            other => return Err(format!("unknown argument {other}")),
        }
    }
    let missing = |what: &str| format!("{what} is required");
    options.subjects.push(Subject::limit(
        limit_stdio.ok_or_else(|| missing("--limit-stdio"))?,
        limit_http.ok_or_else(|| missing("--limit-http"))?,
    ));
    options.subjects.push(Subject::mocopr("mocopr", mocopr.ok_or_else(|| missing("--mocopr"))?));
    options.subjects.extend(baselines);
    options.subjects.extend(peers);
    let mut names: Vec<&str> = options.subjects.iter().map(|s| s.name.as_str()).collect();
    names.sort_unstable();
    if let Some(pair) = names.windows(2).find(|pair| pair[0] == pair[1]) {
        return Err(format!("two subjects are named {}", pair[0]));
    }
    if options.rounds == 0 || options.seconds.is_nan() || options.seconds <= 0.0 {
        return Err("--rounds and --seconds must be positive".into());
    }
    Ok(options)
}

fn main() {
    let result = options().and_then(|options| {
        let runtime =
            tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| format!("runtime: {e}"))?;
        let report = runtime.block_on(measure(&options))?;
        report.write(&options.out)
    });
    if let Err(e) = result {
        eprintln!("bench-compare: {e}");
        std::process::exit(1);
    }
}

/// Runs every cell `options.rounds` times, stdio first, then HTTP.
async fn measure(options: &Options) -> Result<Report, String> {
    let measured = Duration::from_secs_f64(options.seconds);
    let warm_up = WARM_UP.min(measured);
    let mut report = Report::new(options.rounds, options.seconds);
    let started = Instant::now();
    let pairs: Vec<(&Subject, Era)> =
        options.subjects.iter().flat_map(|s| s.eras.iter().map(move |era| (s, *era))).collect();

    let mut stdio_servers = Vec::new();
    for (subject, era) in &pairs {
        stdio_servers.push(stdio::Server::start(subject, *era).await?);
    }
    for round in 0..options.rounds {
        for mode in [Mode::Serial, Mode::Concurrent] {
            for payload in PAYLOADS {
                for server in &mut stdio_servers {
                    let cell = Cell::new("stdio", mode, payload, &server.subject, server.era);
                    let _ = server.run(mode, payload, warm_up).await?;
                    let before = server_cpu(server.pid());
                    let mut sample = server.run(mode, payload, measured).await?;
                    sample.cpu = cpu_since(before, server.pid());
                    report.add(cell, sample.round());
                }
            }
        }
        eprintln!("stdio round {} of {} done ({:.0} s)", round + 1, options.rounds, started.elapsed().as_secs_f64());
    }
    for server in stdio_servers {
        let (subject, era) = (server.subject.clone(), server.era);
        report.peak_rss("stdio", &subject, Some(era), server.stop().await);
    }

    let mut http_servers = Vec::new();
    for subject in &options.subjects {
        http_servers.push(http::Server::start(subject).await?);
    }
    for round in 0..options.rounds {
        for mode in [Mode::Serial, Mode::Concurrent] {
            for payload in PAYLOADS {
                for server in &http_servers {
                    for era in &server.subject.eras {
                        let cell = Cell::new("http", mode, payload, &server.subject, *era);
                        let _ = server.run(*era, mode, payload, warm_up).await?;
                        let before = server_cpu(server.pid());
                        let mut sample = server.run(*era, mode, payload, measured).await?;
                        sample.cpu = cpu_since(before, server.pid());
                        report.add(cell, sample.round());
                    }
                }
            }
        }
        eprintln!("HTTP round {} of {} done ({:.0} s)", round + 1, options.rounds, started.elapsed().as_secs_f64());
    }
    for server in http_servers {
        let subject = server.subject.clone();
        report.peak_rss("http", &subject, None, server.stop());
    }
    Ok(report)
}

/// A server's CPU time so far (user and system).
fn server_cpu(pid: u32) -> Option<Duration> {
    mocopr_benches::cpu_time(pid).map(|t| t.user + t.system)
}

/// The CPU time `pid` used since `before`.
fn cpu_since(before: Option<Duration>, pid: u32) -> Option<Duration> {
    Some(server_cpu(pid)?.saturating_sub(before?))
}
