//! [`MetricsCollector`]: the registry, the request metrics, and user-defined metrics.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use mocopr_core::messages::{ClientNotification, ClientRequest};
use prometheus::{
    Encoder, Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, Opts, Registry,
};

/// Request-duration buckets, in seconds (100 µs to 10 s), unless set with
/// [`MetricsCollectorBuilder::with_request_duration_buckets`].
pub(crate) const DEFAULT_DURATION_BUCKETS: &[f64] =
    &[0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

/// A metric could not be made or registered.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MetricsError {
    /// A metric of your own has the name (or a series name) of a built-in one, or of another of
    /// yours.
    #[error("metrics: `{name}` is already {taken_by}; choose another name for your metric")]
    NameTaken {
        /// The full name (`{namespace}_{name}`).
        name: String,
        /// What has it: a built-in metric, or another of yours.
        taken_by: String,
    },
    /// Prometheus refused the metric (an invalid name, buckets that are not increasing).
    #[error("metrics: {0}")]
    Prometheus(#[from] prometheus::Error),
}

/// The built-in metrics: name (without namespace) and what it is.
const BUILT_IN: &[(&str, &str, bool)] = &[
    ("requests_total", "the built-in count of requests by method and status", false),
    ("request_duration_seconds", "the built-in histogram of request durations", true),
    ("errors_total", "the built-in count of errors by method and code", false),
    ("requests_in_flight", "the built-in gauge of requests in flight", false),
    ("active_connections", "the built-in gauge of open connections", false),
    ("active_sessions", "the built-in gauge of open legacy sessions", false),
    ("received_bytes_total", "the built-in count of request bytes", false),
    ("sent_bytes_total", "the built-in count of result bytes", false),
];

/// The names a metric takes: its own (the registry's key), and a histogram's `_bucket`, `_sum`
/// and `_count` series too.
fn series(name: &str, histogram: bool) -> Vec<String> {
    let suffixes: &[&str] = if histogram { &["", "_bucket", "_sum", "_count"] } else { &[""] };
    suffixes.iter().map(|suffix| format!("{name}{suffix}")).collect()
}

/// Refuses user metrics whose series would collide with a built-in one or with each other,
/// naming both (prometheus's own error says only "duplicate metrics collector registration").
fn check_names<'a>(ns: &str, user: impl Iterator<Item = (&'a str, bool)>) -> Result<(), MetricsError> {
    let full = |name: &str| if ns.is_empty() { name.to_owned() } else { format!("{ns}_{name}") };
    let mut taken: HashMap<String, String> = HashMap::new();
    for (name, what, histogram) in BUILT_IN {
        for series in series(&full(name), *histogram) {
            taken.insert(series, (*what).to_owned());
        }
    }
    for (name, histogram) in user {
        let metric = full(name);
        for series in series(&metric, histogram) {
            if let Some(taken_by) = taken.get(&series) {
                return Err(MetricsError::NameTaken { name: metric, taken_by: taken_by.clone() });
            }
        }
        for series in series(&metric, histogram) {
            taken.insert(series, format!("your metric `{metric}`"));
        }
    }
    Ok(())
}

/// The registry and its metrics. Cheap to clone: clones share everything.
#[derive(Clone)]
pub struct MetricsCollector {
    inner: Arc<Inner>,
}

struct Inner {
    namespace: String,
    registry: Registry,
    /// The children for each protocol method (and `other`), made once: recording a request is
    /// a map lookup by method and atomic adds, no label hashing.
    methods: HashMap<&'static str, MethodMetrics>,
    errors: IntCounterVec,
    in_flight: IntGauge,
    connections: IntGauge,
    sessions: IntGauge,
    received: IntCounter,
    sent: IntCounter,
    samplers: Mutex<Vec<Sampler>>,
    counters: HashMap<String, IntCounter>,
    gauges: HashMap<String, IntGauge>,
    histograms: HashMap<String, Histogram>,
}

type Sampler = Box<dyn Fn() + Send + Sync>;

/// One method's request counts and durations, by status.
pub(crate) struct MethodMetrics {
    pub(crate) ok: IntCounter,
    pub(crate) error: IntCounter,
    pub(crate) ok_duration: Histogram,
    pub(crate) error_duration: Histogram,
    /// Requests dropped before an answer (a timeout layer above, a client that went away).
    pub(crate) cancelled: IntCounter,
    pub(crate) cancelled_duration: Histogram,
    pub(crate) label: &'static str,
}

impl std::fmt::Debug for MetricsCollector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MetricsCollector").field("namespace", &self.inner.namespace).finish_non_exhaustive()
    }
}

/// The label for requests of no protocol method.
const OTHER: &str = "other";

impl MetricsCollector {
    /// Starts building a collector.
    ///
    /// ```
    /// use mocopr_metrics::MetricsCollector;
    ///
    /// let metrics = MetricsCollector::builder()
    ///     .with_namespace("myapp")
    ///     .with_counter("orders_total", "Orders placed.")
    ///     .build()
    ///     .unwrap();
    /// metrics.counter("orders_total").unwrap().inc();
    /// assert!(metrics.encode().contains("myapp_orders_total 1"));
    /// ```
    pub fn builder() -> MetricsCollectorBuilder {
        MetricsCollectorBuilder {
            namespace: "mcp".into(),
            buckets: DEFAULT_DURATION_BUCKETS.to_vec(),
            counters: Vec::new(),
            gauges: Vec::new(),
            histograms: Vec::new(),
        }
    }

    /// The registry, to register metrics of your own kinds on.
    pub fn registry(&self) -> &Registry {
        &self.inner.registry
    }

    /// A counter registered with [`MetricsCollectorBuilder::with_counter`] (by its name without
    /// the namespace).
    pub fn counter(&self, name: &str) -> Option<&IntCounter> {
        self.inner.counters.get(name)
    }

    /// A gauge registered with [`MetricsCollectorBuilder::with_gauge`].
    pub fn gauge(&self, name: &str) -> Option<&IntGauge> {
        self.inner.gauges.get(name)
    }

    /// A histogram registered with [`MetricsCollectorBuilder::with_histogram`].
    pub fn histogram(&self, name: &str) -> Option<&Histogram> {
        self.inner.histograms.get(name)
    }

    /// Samples `open` into `{ns}_active_connections` at each scrape (e.g.
    /// `ListenerConfig::open_connections` of the HTTP listener).
    pub fn track_connections(&self, open: impl Fn() -> usize + Send + Sync + 'static) {
        let gauge = self.inner.connections.clone();
        self.sample(move || gauge.set(i64::try_from(open()).unwrap_or(i64::MAX)));
    }

    /// Samples `open` into `{ns}_active_sessions` at each scrape (e.g. the HTTP endpoint's
    /// session count).
    pub fn track_sessions(&self, open: impl Fn() -> usize + Send + Sync + 'static) {
        let gauge = self.inner.sessions.clone();
        self.sample(move || gauge.set(i64::try_from(open()).unwrap_or(i64::MAX)));
    }

    /// Runs `sampler` before each scrape (to set gauges read from elsewhere).
    pub fn sample(&self, sampler: impl Fn() + Send + Sync + 'static) {
        self.inner.samplers.lock().unwrap_or_else(PoisonError::into_inner).push(Box::new(sampler));
    }

    /// The prefix of every metric name.
    pub fn namespace(&self) -> &str {
        &self.inner.namespace
    }

    pub(crate) fn run_samplers(&self) {
        for sampler in self.inner.samplers.lock().unwrap_or_else(PoisonError::into_inner).iter() {
            sampler();
        }
    }

    /// Every metric in the Prometheus text format (what `/metrics` serves).
    pub fn encode(&self) -> String {
        self.run_samplers();
        let mut out = Vec::with_capacity(8 * 1024);
        // Encoding our own registry's families into a Vec does not fail.
        let _ = prometheus::TextEncoder::new().encode(&self.inner.registry.gather(), &mut out);
        String::from_utf8(out).unwrap_or_default()
    }

    /// The counts and durations of `method` (`other` for non-protocol methods).
    pub(crate) fn method(&self, method: &str) -> &MethodMetrics {
        let methods = &self.inner.methods;
        // `other` is always present: made at build.
        methods.get(method).or_else(|| methods.get(OTHER)).unwrap_or_else(|| unreachable!("`other` is made at build"))
    }

    /// Counts an error of `method` under its code: the codes the protocol defines by number,
    /// any other (a peer can choose it) as `other`, so the label set stays fixed.
    pub(crate) fn error(&self, method: &'static str, code: mocopr_core::ErrorCode) {
        let number;
        let label = if code.name() == "other" {
            "other"
        } else {
            number = code.0.to_string();
            number.as_str()
        };
        self.inner.errors.with_label_values(&[method, label]).inc();
    }

    pub(crate) fn in_flight(&self) -> &IntGauge {
        &self.inner.in_flight
    }

    pub(crate) fn bytes(&self, received: usize, sent: usize) {
        self.inner.received.inc_by(received as u64);
        self.inner.sent.inc_by(sent as u64);
    }
}

/// Builds a [`MetricsCollector`].
#[derive(Debug)]
pub struct MetricsCollectorBuilder {
    namespace: String,
    buckets: Vec<f64>,
    counters: Vec<(String, String)>,
    gauges: Vec<(String, String)>,
    histograms: Vec<(String, String, Vec<f64>)>,
}

impl MetricsCollectorBuilder {
    /// The prefix of every metric name (default `mcp`).
    pub fn with_namespace(mut self, namespace: impl Into<String>) -> Self {
        self.namespace = namespace.into();
        self
    }

    /// Sets the request-duration buckets in seconds (default 100 µs, 250 µs, 500 µs, 1 ms,
    /// 2.5 ms, 5 ms, 10 ms, 25 ms, 50 ms, 100 ms, 250 ms, 500 ms, 1 s, 2.5 s, 5 s, 10 s).
    pub fn with_request_duration_buckets(mut self, buckets: impl Into<Vec<f64>>) -> Self {
        self.buckets = buckets.into();
        self
    }

    /// A counter of your own, `{ns}_{name}`.
    pub fn with_counter(mut self, name: impl Into<String>, help: impl Into<String>) -> Self {
        self.counters.push((name.into(), help.into()));
        self
    }

    /// A gauge of your own.
    pub fn with_gauge(mut self, name: impl Into<String>, help: impl Into<String>) -> Self {
        self.gauges.push((name.into(), help.into()));
        self
    }

    /// A histogram of your own with the given buckets.
    pub fn with_histogram(
        mut self,
        name: impl Into<String>,
        help: impl Into<String>,
        buckets: impl Into<Vec<f64>>,
    ) -> Self {
        self.histograms.push((name.into(), help.into(), buckets.into()));
        self
    }

    /// The collector; an error for an invalid name, a name the built-in metrics or another of
    /// yours already have ([`MetricsError::NameTaken`] names both), or buckets that are not
    /// increasing.
    ///
    /// ```
    /// use mocopr_metrics::{MetricsCollector, MetricsError};
    ///
    /// let taken = MetricsCollector::builder().with_gauge("active_connections", "Open connections.").build();
    /// assert!(matches!(taken, Err(MetricsError::NameTaken { .. })));
    /// let ok = MetricsCollector::builder().with_gauge("app_active_connections", "Open connections.").build();
    /// assert!(ok.is_ok());
    /// ```
    pub fn build(self) -> Result<MetricsCollector, MetricsError> {
        let registry = Registry::new();
        let ns = self.namespace.as_str();
        let user = self.counters.iter().map(|(n, _)| (n.as_str(), false));
        let user = user.chain(self.gauges.iter().map(|(n, _)| (n.as_str(), false)));
        check_names(ns, user.chain(self.histograms.iter().map(|(n, _, _)| (n.as_str(), true))))?;
        let opts = |name: &str, help: &str| Opts::new(name, help).namespace(ns);
        let requests = IntCounterVec::new(opts("requests_total", "MCP requests answered."), &["method", "status"])?;
        let duration = HistogramVec::new(
            HistogramOpts::new("request_duration_seconds", "Time from request to answer.")
                .namespace(ns)
                .buckets(self.buckets.clone()),
            &["method", "status"],
        )?;
        let errors =
            IntCounterVec::new(opts("errors_total", "MCP requests answered with an error."), &["method", "code"])?;
        let in_flight = IntGauge::with_opts(opts("requests_in_flight", "MCP requests being handled."))?;
        let connections = IntGauge::with_opts(opts("active_connections", "Open client connections."))?;
        let sessions = IntGauge::with_opts(opts("active_sessions", "Open legacy sessions."))?;
        let received = IntCounter::with_opts(opts("received_bytes_total", "Bytes of request params received."))?;
        let sent = IntCounter::with_opts(opts("sent_bytes_total", "Bytes of JSON results sent."))?;
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(duration.clone()))?;
        registry.register(Box::new(errors.clone()))?;
        for gauge in [&in_flight, &connections, &sessions] {
            registry.register(Box::new(gauge.clone()))?;
        }
        registry.register(Box::new(received.clone()))?;
        registry.register(Box::new(sent.clone()))?;

        let mut methods = HashMap::new();
        let names = ClientRequest::METHODS.iter().chain(ClientNotification::METHODS).copied().chain([OTHER]);
        for label in names {
            methods.insert(
                label,
                MethodMetrics {
                    ok: requests.with_label_values(&[label, "ok"]),
                    error: requests.with_label_values(&[label, "error"]),
                    ok_duration: duration.with_label_values(&[label, "ok"]),
                    error_duration: duration.with_label_values(&[label, "error"]),
                    cancelled: requests.with_label_values(&[label, "cancelled"]),
                    cancelled_duration: duration.with_label_values(&[label, "cancelled"]),
                    label,
                },
            );
        }

        let mut counters = HashMap::new();
        for (name, help) in self.counters {
            let counter = IntCounter::with_opts(opts(&name, &help))?;
            registry.register(Box::new(counter.clone()))?;
            counters.insert(name, counter);
        }
        let mut gauges = HashMap::new();
        for (name, help) in self.gauges {
            let gauge = IntGauge::with_opts(opts(&name, &help))?;
            registry.register(Box::new(gauge.clone()))?;
            gauges.insert(name, gauge);
        }
        let mut histograms = HashMap::new();
        for (name, help, buckets) in self.histograms {
            let histogram =
                Histogram::with_opts(HistogramOpts::new(name.clone(), help).namespace(ns).buckets(buckets))?;
            registry.register(Box::new(histogram.clone()))?;
            histograms.insert(name, histogram);
        }
        Ok(MetricsCollector {
            inner: Arc::new(Inner {
                namespace: self.namespace,
                registry,
                methods,
                errors,
                in_flight,
                connections,
                sessions,
                received,
                sent,
                samplers: Mutex::default(),
                counters,
                gauges,
                histograms,
            }),
        })
    }
}
