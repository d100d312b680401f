//! [`LoadTester`]: simulated clients sending a weighted mix of requests to an MCP server over
//! stdio or Streamable HTTP, at a target rate, for a duration, with ramp-up; latency in an HDR
//! histogram. Any server will do: the clients detect its era like any MoCoPr client.
//!
//! Over HTTP every simulated client is an [`McpClient`] of its own (its own connections); over
//! stdio the server is one child process, and the clients share its one connection with their
//! requests in flight together, as several agents behind one host would.

mod pacer;
mod report;
mod scenario;
mod target;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use mocopr_client::McpClient;
use pacer::Pacer;
use serde_json::json;

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
    grace: Duration,
}

/// Builds a [`LoadTester`].
#[derive(Debug)]
pub struct LoadTesterBuilder {
    tester: LoadTester,
}

impl LoadTester {
    /// Starts building a load test of `target` with `scenario`: by default 10 clients, as fast
    /// as the server answers, for 10 seconds, no ramp-up, requests timing out after 30 s.
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// use mocopr_testing::{LoadScenario, LoadTester, Operation, Target};
    ///
    /// # async fn run() -> Result<(), mocopr_testing::LoadError> {
    /// let scenario = LoadScenario::builder().with_operation(1, Operation::call_tool("echo", serde_json::json!({}))).build()?;
    /// let report = LoadTester::builder(Target::Http("http://127.0.0.1:8080/mcp".into()), scenario)
    ///     .with_concurrent_clients(32)
    ///     .with_duration(Duration::from_secs(30))
    ///     .build()?
    ///     .run()
    ///     .await?;
    /// println!("{report}");
    /// # Ok(()) }
    /// ```
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
                grace: DEFAULT_GRACE,
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
        let window = Window {
            deadline: started + self.duration,
            // Requests still running this long after the deadline are cut off.
            cutoff: started + self.duration + self.grace.min(self.request_timeout),
            steady_from: started + self.ramp_up,
        };
        let period = self.period();
        let pace = match period {
            Some(period) => {
                Some((Pacer::start().map_err(|e| LoadError::Config(format!("the pacing thread: {e}")))?, period))
            }
            None => None,
        };
        let mut workers = tokio::task::JoinSet::new();
        for (index, client) in connected.clients.iter().cloned().enumerate() {
            let share = index as f64 / self.clients as f64;
            let mut first = started + self.ramp_up.mul_f64(share);
            if let Some(period) = period {
                // Each client on its own phase of the period: an even pace, not bursts.
                first += period.mul_f64(share);
            }
            let shared = shared.clone();
            workers.spawn(worker(client, shared, index as u64, first, window, pace.clone()));
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

    /// Each client's share of the rate, as a period between its requests.
    fn period(&self) -> Option<Duration> {
        self.rate.and_then(|rate| Duration::try_from_secs_f64(self.clients as f64 / rate).ok())
    }

    fn report(&self, results: Vec<ClientStats>, elapsed: Duration, rss: Option<u64>) -> LoadReport {
        let mut per_op: Vec<OpStats> = self.scenario.operations().iter().map(|_| OpStats::new()).collect();
        let (mut steady, mut unfinished, mut late) = (0, 0, 0);
        let mut timing = Timing::new();
        for result in results {
            timing.merge(&result.timing);
            late += result.late;
            for (total, part) in per_op.iter_mut().zip(&result.operations) {
                total.merge(part);
            }
            steady += result.steady;
            unfinished += result.unfinished;
        }
        let mut all = OpStats::new();
        for op in &per_op {
            all.merge(op);
        }
        let operations = self
            .scenario
            .operations()
            .iter()
            .zip(&per_op)
            .map(|(op, stats)| OperationReport {
                operation: op.operation.label(),
                requests: stats.requests(),
                errors: stats.errors(),
                latency: LatencySummary::of(&stats.ok),
            })
            .collect();
        let requests = all.requests();
        let errors = all.errors();
        let secs = elapsed.as_secs_f64().max(f64::EPSILON);
        let steady_secs = self.duration.saturating_sub(self.ramp_up).as_secs_f64();
        LoadReport {
            target: self.target.to_string(),
            clients: self.clients,
            target_rate: self.rate,
            duration_secs: self.duration.as_secs_f64(),
            ramp_up_secs: self.ramp_up.as_secs_f64(),
            elapsed_secs: elapsed.as_secs_f64(),
            requests,
            errors,
            unfinished,
            error_rate: if requests == 0 { 0.0 } else { errors as f64 / requests as f64 },
            throughput: if steady_secs > 0.0 { steady as f64 / steady_secs } else { requests as f64 / secs },
            overall_throughput: requests as f64 / secs,
            steady: steady_secs > 0.0,
            latency: LatencySummary::of(&all.ok),
            error_latency: LatencySummary::of(&all.failed),
            operations,
            server_peak_rss_bytes: rss,
            service_time: LatencySummary::of(&timing.service),
            schedule_delay: LatencySummary::of(&timing.delay),
            generator_lateness: LatencySummary::of(&timing.lateness),
            generator_late: late,
        }
    }
}

/// How long requests running at the deadline may still finish, by default.
pub(crate) const DEFAULT_GRACE: Duration = Duration::from_secs(5);

/// When a test starts requests, when it stops waiting for them, and its steady part.
#[derive(Debug, Clone, Copy)]
struct Window {
    deadline: Instant,
    cutoff: Instant,
    steady_from: Instant,
}

impl LoadTesterBuilder {
    /// Concurrent clients (at least 1).
    pub fn with_concurrent_clients(mut self, clients: usize) -> Self {
        self.tester.clients = clients.max(1);
        self
    }

    /// Target rate in requests per second, all clients together (each client sends its share
    /// at an even pace, and never more than one request at a time). Without it, each client
    /// sends its next request as soon as the last is answered.
    pub fn with_requests_per_second(mut self, requests_per_second: f64) -> Self {
        self.tester.rate = Some(requests_per_second);
        self
    }

    /// How long requests are started for (ramp-up included).
    pub fn with_duration(mut self, duration: Duration) -> Self {
        self.tester.duration = duration;
        self
    }

    /// Clients start one after another over this time instead of all at once.
    pub fn with_ramp_up(mut self, ramp_up: Duration) -> Self {
        self.tester.ramp_up = ramp_up;
        self
    }

    /// How long one request may take before it counts as an error.
    pub fn with_request_timeout(mut self, timeout: Duration) -> Self {
        self.tester.request_timeout = timeout;
        self
    }

    /// How long requests still running at the end of the duration may take to finish before
    /// they are cut off and counted as unfinished errors (default 5 s, never more
    /// than the request timeout).
    pub fn with_grace(mut self, grace: Duration) -> Self {
        self.tester.grace = grace;
        self
    }

    /// The load test; an error when the rate is not a positive number (or so high a client's
    /// period would be under a microsecond), the ramp-up is longer than the duration, or the
    /// scenario is unusable.
    pub fn build(self) -> Result<LoadTester, LoadError> {
        let tester = self.tester;
        tester.scenario.validate()?;
        if let Some(rate) = tester.rate {
            let usable =
                rate.is_finite() && rate > 0.0 && tester.period().is_some_and(|p| p >= Duration::from_micros(1));
            if !usable {
                return Err(LoadError::Config(format!(
                    "rate {rate}: must be a positive number of requests per second, at most 1,000,000 per client"
                )));
            }
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

/// One operation's measurements in one client (merged at the end): successes and failures
/// apart, so fast failures do not flatter the latency.
struct OpStats {
    ok: Histogram<u64>,
    failed: Histogram<u64>,
}

impl OpStats {
    fn new() -> Self {
        // Auto-resizing at 3 significant digits: small until long latencies are seen.
        let histogram = || Histogram::new(3).expect("3 significant digits are valid");
        OpStats { ok: histogram(), failed: histogram() }
    }

    fn requests(&self) -> u64 {
        self.ok.len() + self.failed.len()
    }

    fn errors(&self) -> u64 {
        self.failed.len()
    }

    fn merge(&mut self, other: &OpStats) {
        // Auto-resizing histograms take any values.
        let _ = self.ok.add(&other.ok);
        let _ = self.failed.add(&other.failed);
    }
}

/// Where each request's time went, all operations together: answering (from sending to the
/// answer), waiting to be sent (from when it was due), and of that wait the part the generator
/// itself was late (after both the due instant and the client's previous answer).
struct Timing {
    service: Histogram<u64>,
    delay: Histogram<u64>,
    lateness: Histogram<u64>,
}

impl Timing {
    fn new() -> Self {
        let histogram = || Histogram::new(3).expect("3 significant digits are valid");
        Timing { service: histogram(), delay: histogram(), lateness: histogram() }
    }

    fn merge(&mut self, other: &Timing) {
        let _ = self.service.add(&other.service);
        let _ = self.delay.add(&other.delay);
        let _ = self.lateness.add(&other.lateness);
    }
}

/// A request the generator started later than this after it could have is counted late: the
/// report then says the generator, not the server, fell behind.
pub(crate) const GENERATOR_SLACK: Duration = Duration::from_millis(1);

/// Records `value` in microseconds into an auto-resizing `histogram`.
fn record(histogram: &mut Histogram<u64>, value: Duration) {
    let micros = u64::try_from(value.as_micros()).unwrap_or(u64::MAX);
    // `record` grows the histogram to fit (saturating would not).
    if histogram.record(micros).is_err() {
        histogram.saturating_record(micros);
    }
}

/// What one client measured.
struct ClientStats {
    operations: Vec<OpStats>,
    timing: Timing,
    /// Requests the generator started over [`GENERATOR_SLACK`] late.
    late: u64,
    /// Requests completed in the steady part (after the ramp-up, before the deadline).
    steady: u64,
    /// Requests cut off after the deadline's grace.
    unfinished: u64,
}

/// One simulated client: requests drawn from the scenario until the deadline. At a target rate
/// it keeps a fixed schedule (`first`, then every period; the pacer wakes it to well under a
/// millisecond) and measures each request from when it was due, so a slow server shows in the
/// latency rather than in requests never sent (behind schedule, it sends what was due at once).
async fn worker(
    client: McpClient,
    shared: Arc<Shared>,
    seed: u64,
    first: Instant,
    window: Window,
    pace: Option<(Pacer, Duration)>,
) -> ClientStats {
    let mut stats = ClientStats {
        operations: shared.scenario.operations().iter().map(|_| OpStats::new()).collect(),
        timing: Timing::new(),
        late: 0,
        steady: 0,
        unfinished: 0,
    };
    let mut rng = fastrand::Rng::with_seed(seed);
    let total = shared.scenario.total_weight();
    if pace.is_none() {
        tokio::time::sleep_until(first.into()).await;
    }
    let mut next_due = first;
    let mut previous_done = first;
    loop {
        let due = match &pace {
            Some((pacer, period)) => {
                let due = next_due;
                next_due += *period;
                // Nothing due after the deadline is waited for.
                if due >= window.deadline {
                    break;
                }
                pacer.until(due).await;
                due
            }
            None => Instant::now(),
        };
        if due >= window.deadline || Instant::now() >= window.deadline {
            break;
        }
        let index = shared.scenario.pick(rng.u64(0..total));
        let operation = &shared.scenario.operations()[index].operation;
        let sent = Instant::now();
        let ok = match tokio::time::timeout_at(window.cutoff.into(), perform(&client, operation)).await {
            Ok(ok) => ok,
            Err(_) => {
                stats.unfinished += 1;
                false
            }
        };
        let done = Instant::now();
        record(&mut stats.timing.service, done.saturating_duration_since(sent));
        record(&mut stats.timing.delay, sent.saturating_duration_since(due));
        // Waiting for the previous answer is the server's time; only what follows both is ours.
        let lateness = sent.saturating_duration_since(due.max(previous_done));
        record(&mut stats.timing.lateness, lateness);
        if lateness > GENERATOR_SLACK {
            stats.late += 1;
        }
        previous_done = done;
        let micros = u64::try_from(done.saturating_duration_since(due).as_micros()).unwrap_or(u64::MAX).max(1);
        let op = &mut stats.operations[index];
        let histogram = if ok { &mut op.ok } else { &mut op.failed };
        // Auto-resizing: `record` grows the histogram to fit (saturating would not).
        if histogram.record(micros).is_err() {
            histogram.saturating_record(micros);
        }
        if (window.steady_from..=window.deadline).contains(&done) {
            stats.steady += 1;
        }
        shared.requests.fetch_add(1, Ordering::Relaxed);
        if !ok {
            shared.errors.fetch_add(1, Ordering::Relaxed);
        }
        if done >= window.cutoff {
            break;
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
