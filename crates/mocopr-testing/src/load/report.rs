//! What a load test measured: throughput, latency percentiles (from an HDR histogram), errors,
//! per-operation counts, and the server's peak memory when it was a child process.

use std::fmt;
use std::time::Duration;

use hdrhistogram::Histogram;
use serde::Serialize;

/// Latency figures, in microseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
#[non_exhaustive]
pub struct LatencySummary {
    /// Mean.
    pub mean_us: f64,
    /// Fastest.
    pub min_us: u64,
    /// Median.
    pub p50_us: u64,
    /// 90th percentile.
    pub p90_us: u64,
    /// 99th percentile.
    pub p99_us: u64,
    /// Slowest.
    pub max_us: u64,
}

impl LatencySummary {
    pub(crate) fn of(histogram: &Histogram<u64>) -> Self {
        if histogram.is_empty() {
            return LatencySummary::default();
        }
        LatencySummary {
            mean_us: histogram.mean(),
            min_us: histogram.min(),
            p50_us: histogram.value_at_quantile(0.50),
            p90_us: histogram.value_at_quantile(0.90),
            p99_us: histogram.value_at_quantile(0.99),
            max_us: histogram.max(),
        }
    }
}

/// Requests and errors of one operation of the scenario.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct OperationReport {
    /// The operation's label (e.g. `tools/call echo`).
    pub operation: String,
    /// Requests completed (answered or failed).
    pub requests: u64,
    /// Of which failed: a transport or JSON-RPC error, a timeout, or a tool result with
    /// `isError`.
    pub errors: u64,
    /// Its successful requests' latency.
    pub latency: LatencySummary,
}

/// The result of a load test.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct LoadReport {
    /// What was tested (`stdio:<command>` or the URL).
    pub target: String,
    /// Concurrent clients.
    pub clients: usize,
    /// The requested rate (requests per second, all clients together); `None`: as fast as
    /// the server answers.
    pub target_rate: Option<f64>,
    /// How long requests were started for, in seconds (ramp-up included).
    pub duration_secs: f64,
    /// Over how long the clients started, in seconds.
    pub ramp_up_secs: f64,
    /// From the first request to the last answer, in seconds.
    pub elapsed_secs: f64,
    /// Requests completed.
    pub requests: u64,
    /// Of which failed (including `unfinished`).
    pub errors: u64,
    /// Requests still running a grace period after the duration, cut off (and counted as
    /// errors).
    pub unfinished: u64,
    /// `errors / requests`.
    pub error_rate: f64,
    /// The headline rate: requests completed per second after the ramp-up, up to the duration,
    /// i.e. with every client running (the whole test's rate when there is no steady part).
    pub throughput: f64,
    /// Requests completed per second of `elapsed_secs`, the ramp-up included.
    pub overall_throughput: f64,
    /// Whether `throughput` excludes a ramp-up (`false` when the ramp-up is the whole test).
    pub steady: bool,
    /// Latency of the successful requests (at a target rate, from when each was due: the
    /// schedule delay plus the service time).
    pub latency: LatencySummary,
    /// Every request's service time: from when it was sent to its answer.
    pub service_time: LatencySummary,
    /// Every request's schedule delay: from when it was due to when it was sent (a client
    /// waiting for its previous answer, or the generator late). Zero without a target rate.
    pub schedule_delay: LatencySummary,
    /// Of the schedule delay, the part the generator itself was late: after both the due
    /// instant and the client's previous answer. (A generator whose own runtime is saturated
    /// also resumes late after an answer arrives; that part shows in the service time.)
    pub generator_lateness: LatencySummary,
    /// Requests the generator started more than 1 ms late; over 1% of the requests, the report
    /// says the generator fell behind (its latency is then not the server's alone).
    pub generator_late: u64,
    /// Latency of the failed ones.
    pub error_latency: LatencySummary,
    /// Per operation, in scenario order.
    pub operations: Vec<OperationReport>,
    /// The server's peak resident memory (`VmHWM`) in bytes, when it was a child process of
    /// the load tester (stdio) and the platform reports it.
    pub server_peak_rss_bytes: Option<u64>,
}

impl LoadReport {
    /// Whether more than 1% of the requests started over 1 ms late through the generator's own
    /// fault (not waiting for an answer).
    pub fn generator_fell_behind(&self) -> bool {
        self.generator_late * 100 > self.requests
    }

    /// The report as pretty-printed JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }
}

fn micros(us: u64) -> String {
    let d = Duration::from_micros(us);
    if us >= 10_000 { format!("{:.1} ms", d.as_secs_f64() * 1e3) } else { format!("{us} µs") }
}

impl fmt::Display for LoadReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rate = self.target_rate.map_or_else(|| "unlimited".to_owned(), |r| format!("{r:.0} req/s"));
        writeln!(f, "target      {}", self.target)?;
        writeln!(f, "clients     {} (rate {rate}, {:.1} s)", self.clients, self.duration_secs)?;
        match (self.steady, self.ramp_up_secs > 0.0) {
            (true, true) => writeln!(
                f,
                "throughput  {:.0} req/s after the {:.1} s ramp-up ({} requests in {:.2} s: {:.0} req/s overall)",
                self.throughput, self.ramp_up_secs, self.requests, self.elapsed_secs, self.overall_throughput
            )?,
            _ => writeln!(
                f,
                "throughput  {:.0} req/s ({} requests in {:.2} s)",
                self.throughput, self.requests, self.elapsed_secs
            )?,
        }
        let steady = self.throughput;
        if let Some(target) = self.target_rate
            && self.steady
            && steady < 0.95 * target
        {
            writeln!(
                f,
                "            the target rate was not reached: {steady:.0} of {target:.0} req/s (each client sends one request at a time)"
            )?;
        }
        write!(f, "errors      {} ({:.2}%)", self.errors, self.error_rate * 100.0)?;
        if self.unfinished > 0 {
            write!(f, ", {} cut off unfinished", self.unfinished)?;
        }
        writeln!(f)?;
        let l = &self.latency;
        writeln!(
            f,
            "latency     mean {} | p50 {} | p90 {} | p99 {} | max {}",
            micros(l.mean_us.round() as u64),
            micros(l.p50_us),
            micros(l.p90_us),
            micros(l.p99_us),
            micros(l.max_us)
        )?;
        let (service, delay) = (&self.service_time, &self.schedule_delay);
        writeln!(
            f,
            "service     p50 {} | p99 {} | max {}   (sent to answered)",
            micros(service.p50_us),
            micros(service.p99_us),
            micros(service.max_us)
        )?;
        if self.target_rate.is_some() {
            writeln!(
                f,
                "delay       p50 {} | p99 {} | max {}   (due to sent)",
                micros(delay.p50_us),
                micros(delay.p99_us),
                micros(delay.max_us)
            )?;
            if self.generator_fell_behind() {
                writeln!(
                    f,
                    "            the generator fell behind: {} requests ({:.1}%) started over 1 ms late (p99 {}); latency is not the server's alone",
                    self.generator_late,
                    self.generator_late as f64 * 100.0 / self.requests.max(1) as f64,
                    micros(self.generator_lateness.p99_us)
                )?;
            }
        }
        if let Some(rss) = self.server_peak_rss_bytes {
            writeln!(f, "server RSS  peak {:.1} MiB", rss as f64 / (1024.0 * 1024.0))?;
        }
        writeln!(f)?;
        let width = self.operations.iter().map(|o| o.operation.chars().count()).max().unwrap_or(9).max(9);
        writeln!(
            f,
            "{:<width$}  {:>9}  {:>7}  {:>9}  {:>9}  {:>9}",
            "operation", "requests", "errors", "p50", "p99", "max"
        )?;
        for op in &self.operations {
            writeln!(
                f,
                "{:<width$}  {:>9}  {:>7}  {:>9}  {:>9}  {:>9}",
                op.operation,
                op.requests,
                op.errors,
                micros(op.latency.p50_us),
                micros(op.latency.p99_us),
                micros(op.latency.max_us)
            )?;
        }
        Ok(())
    }
}
