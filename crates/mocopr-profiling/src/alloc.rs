//! [`CountingAllocator`]: a global allocator wrapper that counts what goes through it.
//!
//! Counting costs a few relaxed atomic adds per allocation; the counts are process-wide, plus a
//! per-thread allocation count that request tracing reads around each poll of a request.
// A `GlobalAlloc` implementation is unsafe by definition; this one only forwards to the wrapped
// allocator and counts.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};

static ALLOCATED: AtomicU64 = AtomicU64::new(0);
static FREED: AtomicU64 = AtomicU64::new(0);
static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);
static DEALLOCATIONS: AtomicU64 = AtomicU64::new(0);
static PEAK: AtomicU64 = AtomicU64::new(0);
static LIVE: AtomicU64 = AtomicU64::new(0);

thread_local! {
    // `const`-initialized: reading it never allocates (no recursion into the allocator).
    static THREAD_ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

/// Wraps an allocator (the system one by default) and counts bytes and allocations.
///
/// ```no_run
/// #[global_allocator]
/// static ALLOCATOR: mocopr_profiling::CountingAllocator = mocopr_profiling::CountingAllocator::system();
/// ```
#[derive(Debug, Default, Clone, Copy)]
pub struct CountingAllocator<A = System> {
    inner: A,
}

impl CountingAllocator<System> {
    /// Counting over the system allocator.
    pub const fn system() -> Self {
        CountingAllocator { inner: System }
    }
}

impl<A> CountingAllocator<A> {
    /// Counting over `inner` (e.g. another global allocator).
    pub const fn new(inner: A) -> Self {
        CountingAllocator { inner }
    }
}

fn allocated(size: usize) {
    let size = size as u64;
    ALLOCATED.fetch_add(size, Ordering::Relaxed);
    ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
    let live = LIVE.fetch_add(size, Ordering::Relaxed).wrapping_add(size);
    PEAK.fetch_max(live, Ordering::Relaxed);
    // During thread teardown the slot may be gone: that allocation is only not counted per thread.
    let _ = THREAD_ALLOCATIONS.try_with(|count| count.set(count.get() + 1));
}

fn freed(size: usize) {
    FREED.fetch_add(size as u64, Ordering::Relaxed);
    LIVE.fetch_sub(size as u64, Ordering::Relaxed);
    DEALLOCATIONS.fetch_add(1, Ordering::Relaxed);
}

// SAFETY: every method forwards to `inner` with the caller's arguments unchanged and returns
// its result; counting touches only atomics and a const-initialized thread-local `Cell`, which
// never allocate.
unsafe impl<A: GlobalAlloc> GlobalAlloc for CountingAllocator<A> {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller upholds `alloc`'s contract, which we pass on unchanged.
        let pointer = unsafe { self.inner.alloc(layout) };
        if !pointer.is_null() {
            allocated(layout.size());
        }
        pointer
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as for `alloc`.
        let pointer = unsafe { self.inner.alloc_zeroed(layout) };
        if !pointer.is_null() {
            allocated(layout.size());
        }
        pointer
    }

    unsafe fn dealloc(&self, pointer: *mut u8, layout: Layout) {
        // SAFETY: `pointer` was allocated by `inner` with `layout` (the caller's contract).
        unsafe { self.inner.dealloc(pointer, layout) };
        freed(layout.size());
    }

    unsafe fn realloc(&self, pointer: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller upholds `realloc`'s contract, passed on unchanged.
        let moved = unsafe { self.inner.realloc(pointer, layout, new_size) };
        if !moved.is_null() {
            freed(layout.size());
            allocated(new_size);
        }
        moved
    }
}

/// What the [`CountingAllocator`] counted since the process started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct MemoryStats {
    /// Bytes allocated in all.
    pub allocated_bytes: u64,
    /// Bytes freed in all.
    pub freed_bytes: u64,
    /// Bytes allocated and not yet freed.
    pub live_bytes: u64,
    /// The most bytes live at once.
    pub peak_bytes: u64,
    /// Allocations made.
    pub allocations: u64,
    /// Allocations freed.
    pub deallocations: u64,
}

/// The counts so far; all zero when no [`CountingAllocator`] is the global allocator.
pub fn memory_stats() -> MemoryStats {
    let freed_bytes = FREED.load(Ordering::Relaxed);
    let allocated_bytes = ALLOCATED.load(Ordering::Relaxed);
    MemoryStats {
        allocated_bytes,
        freed_bytes,
        live_bytes: allocated_bytes.saturating_sub(freed_bytes),
        // (Each counter is read on its own: under concurrent allocation the figures are a
        // moment apart.)
        peak_bytes: PEAK.load(Ordering::Relaxed),
        allocations: ALLOCATIONS.load(Ordering::Relaxed),
        deallocations: DEALLOCATIONS.load(Ordering::Relaxed),
    }
}

/// Allocations made by the current thread so far (0 without a [`CountingAllocator`]).
pub fn thread_allocations() -> u64 {
    THREAD_ALLOCATIONS.try_with(Cell::get).unwrap_or(0)
}

/// Whether a [`CountingAllocator`] has counted anything (it is the global allocator).
pub(crate) fn installed() -> bool {
    ALLOCATIONS.load(Ordering::Relaxed) > 0
}
