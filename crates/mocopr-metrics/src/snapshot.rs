//! [`MetricsSnapshot`]: the request metrics summed over methods, for dashboards and reports.

use prometheus::proto::MetricFamily;

use crate::collector::MetricsCollector;

/// The request metrics right now, over all methods.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct MetricsSnapshot {
    /// Requests answered.
    pub requests: u64,
    /// Of which with an error.
    pub errors: u64,
    /// Requests being handled.
    pub in_flight: i64,
    /// Open connections (as last sampled).
    pub connections: i64,
    /// Open legacy sessions (as last sampled).
    pub sessions: i64,
    /// Request durations: `(upper bound in seconds, requests at most that long)`, cumulative,
    /// the last bound `+Inf`.
    pub duration_buckets: Vec<(f64, u64)>,
}

impl MetricsSnapshot {
    /// The `q` quantile (0..=1) of request durations in seconds, interpolated within its
    /// bucket; `None` before the first request.
    pub fn duration_quantile(&self, q: f64) -> Option<f64> {
        quantile(&self.duration_buckets, q)
    }
}

/// The `q` quantile of cumulative `buckets`, interpolated linearly within the bucket it falls in
/// (the `+Inf` bucket answers with the largest finite bound).
pub fn quantile(buckets: &[(f64, u64)], q: f64) -> Option<f64> {
    let total = buckets.last()?.1;
    if total == 0 {
        return None;
    }
    let rank = q.clamp(0.0, 1.0) * total as f64;
    let mut lower = (0.0, 0u64);
    for &(bound, count) in buckets {
        if count as f64 >= rank {
            if bound.is_infinite() {
                return Some(lower.0);
            }
            let inside = (count - lower.1) as f64;
            let fraction = if inside == 0.0 { 1.0 } else { (rank - lower.1 as f64) / inside };
            return Some(lower.0 + (bound - lower.0) * fraction);
        }
        lower = (bound, count);
    }
    Some(lower.0)
}

impl MetricsCollector {
    /// The request metrics now, summed over methods and statuses.
    pub fn snapshot(&self) -> MetricsSnapshot {
        self.run_samplers();
        let families = self.registry().gather();
        // As prometheus names them: no prefix for an empty namespace.
        let name = |suffix: &str| match self.namespace() {
            "" => suffix.to_owned(),
            ns => format!("{ns}_{suffix}"),
        };
        let find = |suffix: &str| -> Option<&MetricFamily> { families.iter().find(|f| f.name() == name(suffix)) };
        let mut snapshot = MetricsSnapshot::default();
        if let Some(family) = find("requests_total") {
            for metric in family.get_metric() {
                let count = metric.get_counter().get_value() as u64;
                snapshot.requests += count;
                if metric.get_label().iter().any(|l| l.name() == "status" && l.value() == "error") {
                    snapshot.errors += count;
                }
            }
        }
        let gauge = |suffix: &str| {
            find(suffix).and_then(|f| f.get_metric().first()).map_or(0, |m| m.get_gauge().get_value() as i64)
        };
        snapshot.in_flight = gauge("requests_in_flight");
        snapshot.connections = gauge("active_connections");
        snapshot.sessions = gauge("active_sessions");
        if let Some(family) = find("request_duration_seconds") {
            let mut buckets: Vec<(f64, u64)> = Vec::new();
            for metric in family.get_metric() {
                let histogram = metric.get_histogram();
                for (index, bucket) in histogram.get_bucket().iter().enumerate() {
                    match buckets.get_mut(index) {
                        Some(slot) => slot.1 += bucket.cumulative_count(),
                        None => buckets.push((bucket.upper_bound(), bucket.cumulative_count())),
                    }
                }
                let total = histogram.get_sample_count();
                match buckets.iter_mut().find(|(bound, _)| bound.is_infinite()) {
                    Some(slot) => slot.1 += total,
                    None => buckets.push((f64::INFINITY, total)),
                }
            }
            snapshot.duration_buckets = buckets;
        }
        snapshot
    }
}

#[cfg(test)]
mod tests {
    use super::quantile;

    #[test]
    fn quantiles_interpolate_within_buckets() {
        let buckets = [(0.001, 50), (0.01, 90), (0.1, 100), (f64::INFINITY, 100)];
        assert_eq!(quantile(&buckets, 0.5), Some(0.001));
        let p70 = quantile(&buckets, 0.7).unwrap();
        assert!((p70 - 0.0055).abs() < 1e-9, "{p70}");
        assert_eq!(quantile(&buckets, 1.0), Some(0.1));
        assert_eq!(quantile(&[(0.1, 0), (f64::INFINITY, 0)], 0.5), None);
        assert_eq!(quantile(&[(0.1, 1), (f64::INFINITY, 3)], 0.99), Some(0.1), "+Inf answers with the last bound");
    }
}
