//! The event loop must not allocate per step. A counting global allocator measures the
//! allocations of a whole simulation: what is left after one per trial (its configuration) and
//! the logarithmic growth of the trace's columns must be tiny compared with the step count.
#![allow(clippy::unwrap_used, clippy::expect_used)]
// Tests and benchmarks fail loudly on purpose.
// A global allocator needs `unsafe impl GlobalAlloc`; it only forwards to the system allocator.
#![allow(unsafe_code)]

use hposim_core::Budget;
use hposim_core::Rng;
use hposim_curves::Benchmark;
use hposim_curves::synthetic::{Synthetic, SyntheticSpec};
use hposim_samplers::random::RandomSampler;
use hposim_schedulers::fifo::Fifo;
use hposim_sim::{SimSettings, simulate};
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

/// The counter is global: tests that read it must not run at the same time.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

#[test]
fn the_event_loop_does_not_allocate_per_epoch() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let bench = Synthetic::new("alloc".into(), &SyntheticSpec { max_epochs: 50, ..SyntheticSpec::default() }).unwrap();
    let mut scheduler = Fifo::new(Box::new(RandomSampler::new(bench.space().clone())), 50);
    let settings = SimSettings {
        workers: 4,
        budget: Budget { compute_seconds: Some(3.0e7), ..Budget::default() },
        checkpointing: true,
        launch_overhead: true,
    };
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

/// The same bound with the early-termination schedulers: one configuration per trial (and the
/// median rule's per-trial history), rung structures that only grow geometrically.
#[test]
fn early_termination_does_not_allocate_per_epoch() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    use hposim_schedulers::SchedulerSpec;
    use hposim_schedulers::asha::AshaVariant;
    use hposim_schedulers::brackets::Sizing;
    let bench = Synthetic::new("alloc".into(), &SyntheticSpec { max_epochs: 81, ..SyntheticSpec::default() }).unwrap();
    let asha = |variant| SchedulerSpec::Asha { eta: 3.0, min_fidelity: None, max_fidelity: None, variant, brackets: 1 };
    let specs = [
        asha(AshaVariant::Stopping),
        asha(AshaVariant::Promotion),
        SchedulerSpec::Hyperband {
            eta: 3.0,
            min_fidelity: None,
            max_fidelity: None,
            sizing: Sizing::Li,
            overlap: true,
            max_brackets: None,
            ranking: hposim_schedulers::Ranking::First,
        },
        SchedulerSpec::MedianStopping { grace_period: None, min_trials: 3 },
    ];
    for spec in specs {
        let sampler = Box::new(RandomSampler::new(bench.space().clone()));
        let mut scheduler = hposim_schedulers::build(&spec, sampler, bench.space(), bench.fidelity(), bench.objectives()).unwrap();
        let settings = SimSettings {
            workers: 4,
            budget: Budget { compute_seconds: Some(6.0e6), ..Budget::default() },
            checkpointing: true,
            launch_overhead: true,
        };
        let mut rng = Rng::seed_from_u64(1);
        let before = ALLOCATIONS.load(Ordering::Relaxed);
        let out = simulate(&bench, scheduler.as_mut(), &settings, &mut rng, 7).unwrap();
        let allocations = ALLOCATIONS.load(Ordering::Relaxed) - before;
        let (epochs, trials) = (out.stats.epochs, out.stats.trials);
        assert!(epochs > 40_000, "{spec:?}: only {epochs} epochs");
        let fixed = 80 * (64 - epochs.leading_zeros() as u64);
        assert!(allocations <= 2 * trials + fixed, "{spec:?}: {allocations} allocations for {epochs} epochs and {trials} trials");
        eprintln!("{spec:?}: {allocations} allocations for {epochs} epochs and {trials} trials");
    }
}

/// Population-based training allocates per trial (a configuration, an explored copy, the
/// donors it may copy), never per step: ready points rank the population in a reused buffer.
#[test]
fn population_based_training_does_not_allocate_per_epoch() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    use hposim_curves::training_dynamics::{TrainingDynamics, TrainingDynamicsSpec};
    let bench =
        TrainingDynamics::new("alloc".into(), &TrainingDynamicsSpec { name: None, epochs: 1000, seconds_per_epoch: 1.0, noise: 0.01 })
            .unwrap();
    for synchronous in [false, true] {
        let spec: hposim_schedulers::SchedulerSpec =
            toml::from_str(&format!("type = \"pbt\"\npopulation = 16\nperturbation_interval = 50\nsynchronous = {synchronous}\n")).unwrap();
        let sampler = Box::new(RandomSampler::new(bench.space().clone()));
        let mut scheduler = hposim_schedulers::build(&spec, sampler, bench.space(), bench.fidelity(), bench.objectives()).unwrap();
        let settings = SimSettings { workers: 4, budget: Budget::default(), checkpointing: true, launch_overhead: true };
        let mut rng = Rng::seed_from_u64(1);
        let before = ALLOCATIONS.load(Ordering::Relaxed);
        let out = simulate(&bench, scheduler.as_mut(), &settings, &mut rng, 7).unwrap();
        let allocations = ALLOCATIONS.load(Ordering::Relaxed) - before;
        let (epochs, trials) = (out.stats.epochs, out.stats.trials);
        assert!(epochs >= 15_000 && trials > 16, "{epochs} epochs, {trials} trials");
        let fixed = 80 * (64 - epochs.leading_zeros() as u64);
        assert!(
            allocations <= 8 * trials + fixed,
            "synchronous {synchronous}: {allocations} allocations for {epochs} epochs and {trials} trials"
        );
        eprintln!("synchronous {synchronous}: {allocations} allocations for {epochs} epochs and {trials} trials");
    }
}
