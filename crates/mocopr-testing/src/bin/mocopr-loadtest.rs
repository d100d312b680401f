//! `mocopr-loadtest`: the load tester from the command line, against any MCP server over stdio
//! or Streamable HTTP, with a progress bar and a final report (a table, and JSON).
//!
//! ```text
//! mocopr-loadtest --target http://127.0.0.1:8080/mcp --scenario scenario.json --duration 30s
//! mocopr-loadtest --target "stdio:my-server --flag" --clients 8 --rate 0
//! ```
//!
//! `cargo xtask loadtest` builds it (release) and runs it against `production-server`.

use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use indicatif::{ProgressBar, ProgressStyle};
use mocopr_testing::{LoadScenario, LoadTester, Operation, Target, peak_rss_bytes};

/// Load-tests an MCP server.
#[derive(Debug, Parser)]
#[command(name = "mocopr-loadtest", version)]
struct Args {
    /// The server: `stdio:COMMAND ARGS…` (split at whitespace) or an `http://` URL.
    #[arg(long)]
    target: String,
    /// A JSON scenario file (`{"operations": [{"weight": 70, "op": "call_tool", "name": …}]}`).
    /// Default: list_tools and ping, half each (any server with tools has them).
    #[arg(long)]
    scenario: Option<PathBuf>,
    /// How long requests are started for (e.g. `10s`, `1m`).
    #[arg(long, default_value = "10s", value_parser = humantime::parse_duration)]
    duration: Duration,
    /// Concurrent clients.
    #[arg(long, default_value_t = 50)]
    clients: usize,
    /// Requests per second, all clients together; 0 = as fast as the server answers.
    #[arg(long, default_value_t = 1000.0, value_parser = rate)]
    rate: f64,
    /// How long one request may take before it counts as an error (e.g. `30s`).
    #[arg(long, default_value = "30s", value_parser = humantime::parse_duration)]
    request_timeout: Duration,
    /// Clients start one after another over this time.
    #[arg(long, default_value = "1s", value_parser = humantime::parse_duration)]
    ramp_up: Duration,
    /// Where the JSON report goes (default: not written).
    #[arg(long)]
    json: Option<PathBuf>,
    /// The server's process id, to report its peak memory when it is not a stdio target.
    #[arg(long)]
    server_pid: Option<u32>,
}

/// A rate: a finite number, 0 or more.
fn rate(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(rate) if rate.is_finite() && rate >= 0.0 => Ok(rate),
        _ => Err(format!("{text:?} is not a rate (requests per second, 0 for unlimited)")),
    }
}

fn main() {
    let args = Args::parse();
    if let Err(message) = run(args) {
        eprintln!("mocopr-loadtest: {message}");
        std::process::exit(1);
    }
}

fn run(args: Args) -> Result<(), String> {
    let scenario = match &args.scenario {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
            LoadScenario::from_json(&text).map_err(|e| format!("{}: {e}", path.display()))?
        }
        None => LoadScenario::builder()
            .with_operation(1, Operation::ListTools)
            .with_operation(1, Operation::Ping)
            .build()
            .map_err(|e| e.to_string())?,
    };
    let target = Target::parse(&args.target).map_err(|e| e.to_string())?;
    let mut tester = LoadTester::builder(target, scenario)
        .with_concurrent_clients(args.clients)
        .with_duration(args.duration)
        .with_ramp_up(args.ramp_up.min(args.duration))
        .with_request_timeout(args.request_timeout);
    if args.rate > 0.0 {
        tester = tester.with_requests_per_second(args.rate);
    }
    let tester = tester.build().map_err(|e| e.to_string())?;
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(|e| e.to_string())?;
    let bar = ProgressBar::new(u64::try_from(args.duration.as_millis()).unwrap_or(u64::MAX));
    if let Ok(style) = ProgressStyle::with_template("{elapsed:>4} [{bar:40}] {msg}") {
        bar.set_style(style.progress_chars("=> "));
    }
    let result = runtime.block_on(tester.run_with_progress(|p| {
        bar.set_position(u64::try_from(p.elapsed.min(p.duration).as_millis()).unwrap_or(u64::MAX));
        let rate = p.requests as f64 / p.elapsed.as_secs_f64().max(0.001);
        bar.set_message(format!("{} requests, {} errors, {rate:.0} req/s", p.requests, p.errors));
    }));
    bar.finish_and_clear();
    let mut report = result.map_err(|e| e.to_string())?;
    if let Some(pid) = args.server_pid {
        report.server_peak_rss_bytes = peak_rss_bytes(pid);
    }
    print!("{report}");
    if let Some(path) = &args.json {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        }
        std::fs::write(path, report.to_json()).map_err(|e| format!("{}: {e}", path.display()))?;
        println!("\nJSON report: {}", path.display());
    }
    Ok(())
}
