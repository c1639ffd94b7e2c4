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

/// Random search behind FIFO on the synthetic benchmark of `max_epochs` steps, 4 workers, under
/// `budget` at trace level `trace`: the allocations while it ran, and its outcome.
fn fifo_allocations(max_epochs: u32, budget: Budget, trace: hposim_core::TraceLevel) -> (u64, hposim_core::CellOutcome) {
    let bench = Synthetic::new("alloc".into(), &SyntheticSpec { max_epochs, ..SyntheticSpec::default() }).unwrap();
    let mut scheduler = Fifo::new(Box::new(RandomSampler::new(bench.space().clone())), max_epochs);
    let settings = SimSettings { workers: 4, budget, checkpointing: true, launch_overhead: true, trace };
    let mut rng = Rng::seed_from_u64(1);
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    let out = simulate(&bench, &mut scheduler, &settings, &mut rng, 7).unwrap();
    (ALLOCATIONS.load(Ordering::Relaxed) - before, out)
}

/// Requires a long cell (over 10^5 epochs) whose `allocations` stay within the bound: per trial
/// its configuration (one vector), per run O(log epochs) growth of the trace's columns and of the
/// trials table and a few fixed buffers.
fn assert_bounded(allocations: u64, out: &hposim_core::CellOutcome) {
    let (epochs, trials) = (out.stats.epochs, out.stats.trials);
    assert!(epochs > 100_000, "{epochs}");
    let bound = trials + 40 * (64 - epochs.leading_zeros() as u64);
    assert!(allocations <= bound, "{allocations} allocations for {epochs} epochs and {trials} trials");
    eprintln!("{allocations} allocations for {epochs} epochs and {trials} trials");
}

#[test]
fn the_event_loop_does_not_allocate_per_epoch() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let budget = Budget { compute_seconds: Some(3.0e7), ..Budget::default() };
    let (allocations, out) = fifo_allocations(50, budget, hposim_core::TraceLevel::Steps);
    assert_bounded(allocations, &out);
}

/// The same bound at the decisions trace level, where a trial's steps up to its scheduler's next
/// decision run as one event (a wall-clock budget, FIFO never waits): the run's steps live in a
/// fixed buffer per worker.
#[test]
fn runs_of_steps_do_not_allocate_per_epoch() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let budget = Budget { wallclock_seconds: Some(2.0e7), ..Budget::default() };
    let (allocations, out) = fifo_allocations(200, budget, hposim_core::TraceLevel::Decisions);
    assert_eq!(out.trace.len() as u64, out.stats.full_evaluations, "one row per trial that finished");
    assert_bounded(allocations, &out);
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
            trace: hposim_core::TraceLevel::Steps,
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
        let settings = SimSettings {
            workers: 4,
            budget: Budget::default(),
            checkpointing: true,
            launch_overhead: true,
            trace: hposim_core::TraceLevel::Steps,
        };
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
