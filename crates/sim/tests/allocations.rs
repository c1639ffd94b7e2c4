//! The event loop must not allocate per step. A counting global allocator measures the
//! allocations of a whole simulation: what is left after one per trial (its configuration) and
//! the logarithmic growth of the trace's columns must be tiny compared with the step count.
#![allow(clippy::unwrap_used, clippy::expect_used)]
// Tests and benchmarks fail loudly on purpose.
// A global allocator needs `unsafe impl GlobalAlloc`; it only forwards to the system allocator.
#![allow(unsafe_code)]

use hposim_core::Rng;
use hposim_curves::Benchmark;
use hposim_curves::synthetic::{Synthetic, SyntheticSpec};
use hposim_samplers::random::RandomSampler;
use hposim_schedulers::fifo::Fifo;
use hposim_sim::{Budget, SimSettings, simulate};
use rand::SeedableRng;
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU64, Ordering};

struct Counting;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn the_event_loop_does_not_allocate_per_epoch() {
    let bench = Synthetic::new("alloc".into(), &SyntheticSpec { max_epochs: 50, ..SyntheticSpec::default() }).unwrap();
    let mut scheduler = Fifo::new(Box::new(RandomSampler::new(bench.space().clone())), 50);
    let settings = SimSettings { workers: 4, budget: Budget { compute_seconds: Some(3.0e7), ..Budget::default() }, checkpointing: true };
    let mut rng = Rng::seed_from_u64(1);
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    let out = simulate(&bench, &mut scheduler, &settings, &mut rng, 7).unwrap();
    let allocations = ALLOCATIONS.load(Ordering::Relaxed) - before;
    let (epochs, trials) = (out.stats.epochs, out.stats.trials);
    assert!(epochs > 100_000, "{epochs}");
    // Per trial: its configuration (one vector). Per run: O(log epochs) growth of the trace's
    // columns and of the trials table, and a few fixed buffers.
    let per_trial = trials;
    let fixed = 40 * (64 - epochs.leading_zeros() as u64);
    assert!(allocations <= per_trial + fixed, "{allocations} allocations for {epochs} epochs and {trials} trials");
    eprintln!("{allocations} allocations for {epochs} epochs and {trials} trials");
}
