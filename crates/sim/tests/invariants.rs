//! Properties of every simulation, checked on random settings: no worker runs two steps at once,
//! simulated time never goes backwards, a trial's steps follow each other, and compute overshoots
//! its budget by less than one step per worker.
#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests and benchmarks fail loudly on purpose.

use hposim_core::Budget;
use hposim_core::{Rng, TrialOutcome};
use hposim_curves::Benchmark;
use hposim_curves::synthetic::{DivergenceSpec, Family, Synthetic, SyntheticSpec};
use hposim_samplers::random::RandomSampler;
use hposim_schedulers::fifo::Fifo;
use hposim_sim::{SimSettings, simulate};
use proptest::prelude::{Just, ProptestConfig, Strategy, prop_assert, prop_assert_eq, prop_oneof, proptest};
use rand::SeedableRng;

/// The largest cost factor of the default space: width 1024 against a centre of 128, batch
/// size 16 against a centre of sqrt(16·512): 8 · (16 / 90.51)^-0.5 = 19.03.
const MAX_COST_FACTOR: f64 = 19.03;

fn family() -> impl Strategy<Value = Family> {
    prop_oneof![Just(Family::Exponential), Just(Family::PowerLaw), Just(Family::Crossing)]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]
    #[test]
    fn simulations_respect_time_workers_and_budget(
        workers in 1u32..7,
        family in family(),
        max_epochs in 1u32..25,
        epoch_seconds in 1.0f64..100.0,
        compute in 100.0f64..50_000.0,
        wallclock in proptest::option::of(100.0f64..20_000.0),
        diverge in 0.0f64..0.3,
        checkpointing in proptest::bool::ANY,
        seed in 0u64..1_000_000,
    ) {
        let spec = SyntheticSpec {
            family,
            max_epochs,
            epoch_seconds,
            divergence: Some(DivergenceSpec { fraction: diverge, mode: Default::default() }),
            ..SyntheticSpec::default()
        };
        let bench = Synthetic::new("p".into(), &spec).unwrap();
        let mut scheduler = Fifo::new(Box::new(RandomSampler::new(bench.space().clone())), max_epochs);
        let budget = Budget { compute_seconds: Some(compute), wallclock_seconds: wallclock, ..Budget::default() };
        let settings = SimSettings { workers, budget, checkpointing, launch_overhead: true, trace: hposim_core::TraceLevel::Steps };
        let out = simulate(&bench, &mut scheduler, &settings, &mut Rng::seed_from_u64(seed), seed).unwrap();
        let t = &out.trace;

        // Simulated time never goes backwards: rows are recorded in completion order.
        for row in 0..t.len() {
            prop_assert!(t.start[row] <= t.end[row]);
            if row > 0 {
                prop_assert!(t.end[row - 1] <= t.end[row]);
            }
            if let Some(deadline) = wallclock {
                prop_assert!(t.end[row] <= deadline);
            }
        }
        // No worker ever runs two steps (hence two trials) at once.
        for w in 0..workers {
            let mut last_end = 0.0;
            for row in (0..t.len()).filter(|&r| t.worker[r] == w) {
                prop_assert!(t.start[row] >= last_end, "worker {w} overlaps at row {row}");
                last_end = t.end[row];
            }
        }
        // A trial's steps follow each other: epoch k+1 after epoch k, never overlapping, and
        // nothing after it stopped or finished.
        for trial in 0..t.configs.len() as u32 {
            let rows: Vec<usize> = (0..t.len()).filter(|&r| t.trial[r] == trial).collect();
            for pair in rows.windows(2) {
                prop_assert_eq!(t.epoch[pair[1]], t.epoch[pair[0]] + 1);
                prop_assert!(t.start[pair[1]] >= t.end[pair[0]]);
                prop_assert!(matches!(t.outcome[pair[0]], TrialOutcome::Continue));
            }
        }
        // Compute exceeds the budget by at most one step per worker.
        let slack = f64::from(workers) * epoch_seconds * MAX_COST_FACTOR;
        prop_assert!(out.stats.compute_seconds <= compute + slack, "{} > {} + {}", out.stats.compute_seconds, compute, slack);
        prop_assert!(out.stats.compute_seconds <= f64::from(workers) * out.stats.wallclock_seconds + 1e-6);
        let paid: f64 = (0..t.len()).map(|r| t.end[r] - t.start[r]).sum();
        prop_assert!(paid <= out.stats.compute_seconds + 1e-6);
    }
}
