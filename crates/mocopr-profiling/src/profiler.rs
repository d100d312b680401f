//! [`Profiler`]: what is profiled, and CPU profiles on demand.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::alloc::{MemoryStats, memory_stats};
use crate::cpu::CpuProfile;
use crate::tracing_layer::RequestTracingLayer;

/// Longest CPU profile taken at once.
const MAX_PROFILE: Duration = Duration::from_secs(300);

/// Why a profile could not be taken.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProfileError {
    /// CPU profiling is off in this profiler.
    #[error("CPU profiling is not enabled")]
    CpuProfilingOff,
    /// Another CPU profile is being taken (the sampler is process-wide).
    #[error("a CPU profile is already being taken")]
    Busy,
    /// The sampler could not start or report.
    #[error("profiler: {0}")]
    Sampler(String),
    /// Nothing was sampled (the process was idle).
    #[error("no samples: the process was idle")]
    NoSamples,
    /// The flamegraph could not be drawn.
    #[error("flamegraph: {0}")]
    Flamegraph(String),
}

/// What a server profiles. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Profiler {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    cpu_frequency: Option<u32>,
    memory: bool,
    slow_request: Option<Duration>,
}

/// The sampler is process-wide: one CPU profile at a time, whichever profiler asks.
static SAMPLING: AtomicBool = AtomicBool::new(false);

/// Builds a [`Profiler`].
#[derive(Debug, Default)]
pub struct ProfilerBuilder {
    cpu_frequency: Option<u32>,
    memory: bool,
    slow_request: Option<Duration>,
}

impl ProfilerBuilder {
    /// CPU profiles on demand, sampling `frequency` times a second (99 is customary: it stays
    /// out of step with periodic work).
    pub fn with_cpu_profiling(mut self, frequency: u32) -> Self {
        self.cpu_frequency = Some(frequency.clamp(1, 10_000));
        self
    }

    /// Memory accounting (needs [`CountingAllocator`](crate::CountingAllocator) as the global
    /// allocator): [`Profiler::memory`], and allocations per request in request tracing.
    pub fn with_memory_profiling(mut self) -> Self {
        self.memory = true;
        self
    }

    /// A `tracing` span per request, and a warning for requests slower than `slow_request`.
    pub fn with_request_tracing(mut self, slow_request: Duration) -> Self {
        self.slow_request = Some(slow_request);
        self
    }

    /// The profiler.
    pub fn build(self) -> Profiler {
        Profiler {
            inner: Arc::new(Inner {
                cpu_frequency: self.cpu_frequency,
                memory: self.memory,
                slow_request: self.slow_request,
            }),
        }
    }
}

impl Profiler {
    /// Starts building a profiler (everything off).
    ///
    /// ```
    /// use std::time::Duration;
    /// use mocopr_profiling::Profiler;
    ///
    /// let profiler = Profiler::builder()
    ///     .with_cpu_profiling(99)
    ///     .with_request_tracing(Duration::from_millis(250))
    ///     .build();
    /// assert!(profiler.request_tracing().is_some());
    /// assert!(!profiler.memory_profiling());
    /// ```
    pub fn builder() -> ProfilerBuilder {
        ProfilerBuilder::default()
    }

    /// Samples the CPU for `duration` (at most 5 minutes) and returns what was on it. One at a
    /// time per process; dropping the future stops sampling. Needs a Tokio runtime.
    pub async fn cpu_profile(&self, duration: Duration) -> Result<CpuProfile, ProfileError> {
        let frequency = self.inner.cpu_frequency.ok_or(ProfileError::CpuProfilingOff)?;
        let sampler = CpuSampler::start(frequency)?;
        // Dropping this future (the client went away) drops the sampler, which stops sampling.
        tokio::time::sleep(duration.min(MAX_PROFILE)).await;
        // Naming the sampled frames reads debug info: off the async threads.
        tokio::task::spawn_blocking(move || sampler.stop())
            .await
            .unwrap_or_else(|e| Err(ProfileError::Sampler(e.to_string())))
    }

    /// The allocator's counts, when memory profiling is on (and the counting allocator is
    /// installed: otherwise every count is 0).
    pub fn memory(&self) -> Option<MemoryStats> {
        self.inner.memory.then(memory_stats)
    }

    /// Whether memory profiling is on.
    pub fn memory_profiling(&self) -> bool {
        self.inner.memory
    }

    /// The request tracing layer, when request tracing is on.
    pub fn request_tracing(&self) -> Option<RequestTracingLayer> {
        let slow = self.inner.slow_request?;
        Some(RequestTracingLayer::new(slow).with_allocations(self.inner.memory))
    }
}

/// CPU sampling from [`start`](Self::start) to [`stop`](Self::stop), for callers that decide
/// when to stop (a benchmark harness, a test). One per process at a time; dropping it without
/// stopping ends the sampling too.
pub struct CpuSampler {
    guard: Option<pprof::ProfilerGuard<'static>>,
    started: std::time::Instant,
    frequency: u32,
}

impl std::fmt::Debug for CpuSampler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CpuSampler").field("frequency", &self.frequency).field("started", &self.started).finish()
    }
}

impl CpuSampler {
    /// Starts sampling every thread `frequency` times a second; [`ProfileError::Busy`] while
    /// another sampler runs.
    pub fn start(frequency: u32) -> Result<CpuSampler, ProfileError> {
        if SAMPLING.swap(true, Ordering::AcqRel) {
            return Err(ProfileError::Busy);
        }
        let frequency = frequency.clamp(1, 10_000);
        let guard = pprof::ProfilerGuardBuilder::default()
            .frequency(i32::try_from(frequency).unwrap_or(99))
            // Frames of the C library and the signal trampoline say nothing about our code.
            .blocklist(&["libc", "libgcc", "pthread", "vdso"])
            .build()
            .map_err(|e| {
                SAMPLING.store(false, Ordering::Release);
                ProfileError::Sampler(e.to_string())
            })?;
        Ok(CpuSampler { guard: Some(guard), started: std::time::Instant::now(), frequency })
    }

    /// Stops sampling and returns what was on the CPU.
    pub fn stop(mut self) -> Result<CpuProfile, ProfileError> {
        let duration = self.started.elapsed();
        let guard = self.guard.take().ok_or_else(|| ProfileError::Sampler("already stopped".into()))?;
        let report = guard.report().build().map_err(|e| ProfileError::Sampler(e.to_string()));
        drop(guard);
        SAMPLING.store(false, Ordering::Release);
        Ok(CpuProfile::from_report(&report?, duration, self.frequency))
    }
}

impl Drop for CpuSampler {
    fn drop(&mut self) {
        if self.guard.take().is_some() {
            SAMPLING.store(false, Ordering::Release);
        }
    }
}
