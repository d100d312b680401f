//! Process memory as Linux reports it (`/proc/<pid>/status`), and a check that memory stays
//! bounded over many iterations of something (a leak shows as growth proportional to them).

use std::future::Future;

/// A process's resident memory now (`VmRSS`), in bytes; `None` where `/proc` does not say.
pub fn rss_bytes(pid: u32) -> Option<u64> {
    status_kib(pid, "VmRSS:").map(|kib| kib * 1024)
}

/// A process's peak resident memory (`VmHWM`), in bytes.
pub fn peak_rss_bytes(pid: u32) -> Option<u64> {
    status_kib(pid, "VmHWM:").map(|kib| kib * 1024)
}

/// The CPU time a process has used so far (user and system), from `/proc/<pid>/stat`; `None`
/// where `/proc` does not say. A test that expects a server to be idle compares two readings.
///
/// ```
/// let used = mocopr_testing::cpu_time(std::process::id()).expect("Linux reports it");
/// # let _ = used;
/// ```
pub fn cpu_time(pid: u32) -> Option<std::time::Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) is in parentheses and may hold spaces: count from after it.
    let fields: Vec<&str> = stat.get(stat.rfind(')')? + 1..)?.split_whitespace().collect();
    // utime and stime are fields 14 and 15, in USER_HZ ticks, which Linux fixes at 100 a second.
    let ticks = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(std::time::Duration::from_millis(ticks * 10))
}

fn status_kib(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status.lines().find_map(|line| line.strip_prefix(field))?.split_whitespace().next()?.parse().ok()
}

/// What [`MemoryStability::check`] saw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct MemoryGrowth {
    /// Resident memory after the warm-up.
    pub baseline_bytes: u64,
    /// Resident memory after the iterations.
    pub after_bytes: u64,
    /// The bound it was held to.
    pub bound_bytes: u64,
}

impl MemoryGrowth {
    /// How much resident memory grew (0 when it shrank).
    pub fn growth_bytes(&self) -> u64 {
        self.after_bytes.saturating_sub(self.baseline_bytes)
    }

    /// Whether the growth stayed within the bound.
    pub fn is_bounded(&self) -> bool {
        self.growth_bytes() <= self.bound_bytes
    }
}

impl std::fmt::Display for MemoryGrowth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mib = |b: u64| b as f64 / (1024.0 * 1024.0);
        write!(
            f,
            "resident memory {:.1} MiB -> {:.1} MiB (+{:.2} MiB, bound {:.2} MiB)",
            mib(self.baseline_bytes),
            mib(self.after_bytes),
            mib(self.growth_bytes()),
            mib(self.bound_bytes)
        )
    }
}

/// Runs something many times and checks that a process's resident memory grew by at most a
/// bound: a warm-up first (caches, pools and allocator arenas fill up), then the baseline, then
/// the iterations, then the measure.
#[derive(Debug, Clone, Copy)]
pub struct MemoryStability {
    warmup: usize,
    iterations: usize,
    bound_bytes: u64,
}

impl MemoryStability {
    /// `iterations` runs after `warmup` runs, growth allowed up to `bound_bytes`.
    pub fn new(warmup: usize, iterations: usize, bound_bytes: u64) -> Self {
        MemoryStability { warmup, iterations, bound_bytes }
    }

    /// Runs `step(i)` for every iteration and measures process `pid` (`std::process::id()`
    /// for this one). `None` when the platform does not report memory.
    pub async fn check<F, Fut>(&self, pid: u32, mut step: F) -> Option<MemoryGrowth>
    where
        F: FnMut(usize) -> Fut,
        Fut: Future<Output = ()>,
    {
        for i in 0..self.warmup {
            step(i).await;
        }
        let baseline_bytes = rss_bytes(pid)?;
        for i in 0..self.iterations {
            step(self.warmup + i).await;
        }
        let after_bytes = rss_bytes(pid)?;
        Some(MemoryGrowth { baseline_bytes, after_bytes, bound_bytes: self.bound_bytes })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_reports_its_memory() {
        let pid = std::process::id();
        let (rss, peak) = (rss_bytes(pid).unwrap(), peak_rss_bytes(pid).unwrap());
        assert!(rss > 0 && peak >= rss, "{rss} {peak}");
        assert!(rss_bytes(u32::MAX).is_none());
        let before = cpu_time(pid).unwrap();
        let started = std::time::Instant::now();
        while started.elapsed() < std::time::Duration::from_millis(200) {
            std::hint::black_box(started.elapsed());
        }
        assert!(cpu_time(pid).unwrap() > before, "spinning used CPU");
        assert!(cpu_time(u32::MAX).is_none());
    }

    #[tokio::test]
    async fn a_leak_is_caught_and_steady_work_is_not() {
        let pid = std::process::id();
        let steady = MemoryStability::new(10, 200, 4 << 20);
        let growth = steady
            .check(pid, |_| async {
                let buffer = vec![1u8; 64 * 1024];
                std::hint::black_box(&buffer);
            })
            .await
            .unwrap();
        assert!(growth.is_bounded(), "{growth}");

        let mut leaked: Vec<Vec<u8>> = Vec::new();
        let leaky = MemoryStability::new(0, 100, 4 << 20);
        let growth = leaky
            .check(pid, |_| {
                // 128 KiB per iteration, touched so it is resident: 12.5 MiB in all.
                leaked.push(vec![1u8; 128 * 1024]);
                async {}
            })
            .await
            .unwrap();
        assert!(!growth.is_bounded(), "{growth}");
    }
}
