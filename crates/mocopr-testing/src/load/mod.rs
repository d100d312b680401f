//! [`LoadTester`]: simulated clients sending a weighted mix of requests to an MCP server over
//! stdio or Streamable HTTP, at a target rate, for a duration, with ramp-up; latency in an HDR
//! histogram. Any server will do: the clients detect its era like any MoCoPr client.
//!
//! Over HTTP every simulated client is an [`McpClient`] of its own (its own connections); over
//! stdio the server is one child process, and the clients share its one connection with their
//! requests in flight together, as several agents behind one host would.

mod report;
mod scenario;
mod target;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use mocopr_client::McpClient;
use serde_json::json;
use tokio::time::MissedTickBehavior;

pub use report::{LatencySummary, LoadReport, OperationReport};
pub use scenario::{LoadScenario, LoadScenarioBuilder, Operation, WeightedOperation};
pub use target::Target;

/// Why a load test could not run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    /// The scenario is not usable.
    #[error("scenario: {0}")]
    Scenario(String),
    /// The target is not usable (bad spec, cannot start or connect).
    #[error("target: {0}")]
    Target(String),
    /// The settings are not usable.
    #[error("{0}")]
    Config(String),
}

/// Where a load test is, for progress displays.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct Progress {
    /// Since the first request.
    pub elapsed: Duration,
    /// How long requests are started for.
    pub duration: Duration,
    /// Requests completed so far.
    pub requests: u64,
    /// Of which failed.
    pub errors: u64,
}

/// Runs a load test. Build one with [`LoadTester::builder`].
#[derive(Debug, Clone)]
pub struct LoadTester {
    target: Target,
    scenario: LoadScenario,
    clients: usize,
    rate: Option<f64>,
    duration: Duration,
    ramp_up: Duration,
    request_timeout: Duration,
}

/// Builds a [`LoadTester`].
#[derive(Debug)]
pub struct LoadTesterBuilder {
    tester: LoadTester,
}

impl LoadTester {
    /// Starts building a load test of `target` with `scenario`: by default 10 clients, as fast
    /// as the server answers, for 10 seconds, no ramp-up, requests timing out after 30 s.
    pub fn builder(target: Target, scenario: LoadScenario) -> LoadTesterBuilder {
        LoadTesterBuilder {
            tester: LoadTester {
                target,
                scenario,
                clients: 10,
                rate: None,
                duration: Duration::from_secs(10),
                ramp_up: Duration::ZERO,
                request_timeout: Duration::from_secs(30),
            },
        }
    }

    /// Runs the test.
    pub async fn run(self) -> Result<LoadReport, LoadError> {
        self.run_with_progress(|_| {}).await
    }

    /// Runs the test, calling `on_progress` about five times a second.
    pub async fn run_with_progress(self, mut on_progress: impl FnMut(&Progress)) -> Result<LoadReport, LoadError> {
        let connected = self.target.connect(self.clients, self.request_timeout).await?;
        let shared = Arc::new(Shared {
            scenario: self.scenario.clone(),
            requests: AtomicU64::new(0),
            errors: AtomicU64::new(0),
        });
        let started = Instant::now();
        let deadline = started + self.duration;
        // Each client's share of the rate, as a period between its requests.
        let period = self.rate.map(|rate| Duration::from_secs_f64(self.clients as f64 / rate));
        let mut workers = tokio::task::JoinSet::new();
        for (index, client) in connected.clients.iter().cloned().enumerate() {
            let start_after = self.ramp_up.mul_f64(index as f64 / self.clients as f64);
            let shared = shared.clone();
            workers.spawn(worker(client, shared, index as u64, started + start_after, deadline, period));
        }
        let mut tick = tokio::time::interval(Duration::from_millis(200));
        let mut results = Vec::with_capacity(self.clients);
        loop {
            tokio::select! {
                done = workers.join_next() => match done {
                    Some(Ok(result)) => results.push(result),
                    Some(Err(e)) => return Err(LoadError::Target(format!("a client task failed: {e}"))),
                    None => break,
                },
                _ = tick.tick() => on_progress(&shared.progress(started, self.duration)),
            }
        }
        let elapsed = started.elapsed();
        on_progress(&shared.progress(started, self.duration));
        let server_peak_rss_bytes = connected.peak_rss();
        connected.close().await;
        Ok(self.report(results, elapsed, server_peak_rss_bytes))
    }

    fn report(&self, results: Vec<Vec<OpStats>>, elapsed: Duration, rss: Option<u64>) -> LoadReport {
        let mut per_op: Vec<OpStats> = self.scenario.operations().iter().map(|_| OpStats::new()).collect();
        for result in results {
            for (total, part) in per_op.iter_mut().zip(result) {
                total.merge(&part);
            }
        }
        let mut all = OpStats::new();
        for op in &per_op {
            all.merge(op);
        }
        let requests = all.latency.len();
        let operations = self
            .scenario
            .operations()
            .iter()
            .zip(&per_op)
            .map(|(op, stats)| OperationReport {
                operation: op.operation.label(),
                requests: stats.latency.len(),
                errors: stats.errors,
                latency: LatencySummary::of(&stats.latency),
            })
            .collect();
        let secs = elapsed.as_secs_f64().max(f64::EPSILON);
        LoadReport {
            target: self.target.to_string(),
            clients: self.clients,
            target_rate: self.rate,
            duration_secs: self.duration.as_secs_f64(),
            elapsed_secs: elapsed.as_secs_f64(),
            requests,
            errors: all.errors,
            error_rate: if requests == 0 { 0.0 } else { all.errors as f64 / requests as f64 },
            throughput: requests as f64 / secs,
            latency: LatencySummary::of(&all.latency),
            operations,
            server_peak_rss_bytes: rss,
        }
    }
}

impl LoadTesterBuilder {
    /// Concurrent clients (at least 1).
    pub fn clients(mut self, clients: usize) -> Self {
        self.tester.clients = clients.max(1);
        self
    }

    /// Target rate in requests per second, all clients together (each client sends its share
    /// at an even pace, and never more than one request at a time). Without it, each client
    /// sends its next request as soon as the last is answered.
    pub fn rate(mut self, requests_per_second: f64) -> Self {
        self.tester.rate = Some(requests_per_second);
        self
    }

    /// How long requests are started for (ramp-up included).
    pub fn duration(mut self, duration: Duration) -> Self {
        self.tester.duration = duration;
        self
    }

    /// Clients start one after another over this time instead of all at once.
    pub fn ramp_up(mut self, ramp_up: Duration) -> Self {
        self.tester.ramp_up = ramp_up;
        self
    }

    /// How long one request may take before it counts as an error.
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.tester.request_timeout = timeout;
        self
    }

    /// The load test; an error when the rate is not a positive number or the ramp-up is longer
    /// than the duration.
    pub fn build(self) -> Result<LoadTester, LoadError> {
        let tester = self.tester;
        if tester.rate.is_some_and(|r| !(r.is_finite() && r > 0.0)) {
            return Err(LoadError::Config("the rate must be a positive number of requests per second".into()));
        }
        if tester.ramp_up > tester.duration {
            return Err(LoadError::Config("the ramp-up is longer than the test".into()));
        }
        Ok(tester)
    }
}

struct Shared {
    scenario: LoadScenario,
    requests: AtomicU64,
    errors: AtomicU64,
}

impl Shared {
    fn progress(&self, started: Instant, duration: Duration) -> Progress {
        Progress {
            elapsed: started.elapsed(),
            duration,
            requests: self.requests.load(Ordering::Relaxed),
            errors: self.errors.load(Ordering::Relaxed),
        }
    }
}

/// One operation's measurements in one client (merged at the end).
struct OpStats {
    latency: Histogram<u64>,
    errors: u64,
}

impl OpStats {
    fn new() -> Self {
        // 1 µs to 10 minutes at 3 significant digits; larger values saturate.
        let latency = Histogram::new_with_bounds(1, 600_000_000, 3).expect("constant, valid bounds");
        OpStats { latency, errors: 0 }
    }

    fn merge(&mut self, other: &OpStats) {
        // Same bounds on both sides: adding cannot fail.
        let _ = self.latency.add(&other.latency);
        self.errors += other.errors;
    }
}

/// One simulated client: requests drawn from the scenario until the deadline.
async fn worker(
    client: McpClient,
    shared: Arc<Shared>,
    seed: u64,
    start: Instant,
    deadline: Instant,
    period: Option<Duration>,
) -> Vec<OpStats> {
    let mut stats: Vec<OpStats> = shared.scenario.operations().iter().map(|_| OpStats::new()).collect();
    let mut rng = fastrand::Rng::with_seed(seed);
    let total = shared.scenario.total_weight();
    tokio::time::sleep_until(start.into()).await;
    let mut pace = period.map(|p| {
        let mut interval = tokio::time::interval(p);
        // A client that fell behind does not burst to catch up: the report shows the rate
        // reached.
        interval.set_missed_tick_behavior(MissedTickBehavior::Delay);
        interval
    });
    while Instant::now() < deadline {
        if let Some(pace) = pace.as_mut() {
            pace.tick().await;
            if Instant::now() >= deadline {
                break;
            }
        }
        let index = shared.scenario.pick(rng.u64(0..total));
        let operation = &shared.scenario.operations()[index].operation;
        let sent = Instant::now();
        let ok = perform(&client, operation).await;
        let micros = u64::try_from(sent.elapsed().as_micros()).unwrap_or(u64::MAX);
        let op = &mut stats[index];
        op.latency.saturating_record(micros.max(1));
        shared.requests.fetch_add(1, Ordering::Relaxed);
        if !ok {
            op.errors += 1;
            shared.errors.fetch_add(1, Ordering::Relaxed);
        }
    }
    stats
}

/// Sends one request; `true` when it succeeded.
async fn perform(client: &McpClient, operation: &Operation) -> bool {
    match operation {
        Operation::ListTools => client.request("tools/list", json!({})).await.is_ok(),
        Operation::ListResources => client.request("resources/list", json!({})).await.is_ok(),
        Operation::ListPrompts => client.request("prompts/list", json!({})).await.is_ok(),
        Operation::Ping => client.ping().await.is_ok(),
        Operation::CallTool { name, arguments } => {
            client.call_tool(name, arguments.clone()).await.is_ok_and(|r| r.is_error != Some(true))
        }
        Operation::ReadResource { uri } => client.read_resource(uri).await.is_ok(),
        Operation::GetPrompt { name, arguments } => client.get_prompt(name, arguments.clone()).await.is_ok(),
    }
}
