//! Properties of the early-termination schedulers on random settings: synchronous rungs never
//! promote more than ⌊n/η⌋, ASHA never promotes a trial twice, every trial's fidelities
//! increase, and checkpointing never costs more compute than restarting.
#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests and benchmarks fail loudly on purpose.

use hposim_core::{Budget, CellOutcome};
use hposim_core::{Rng, TrialOutcome};
use hposim_curves::Benchmark;
use hposim_curves::synthetic::{DivergenceSpec, Family, Synthetic, SyntheticSpec};
use hposim_samplers::SamplerSpec;
use hposim_samplers::random::RandomSampler;
use hposim_samplers::trial_limit::TrialLimit;
use hposim_schedulers::asha::AshaVariant;
use hposim_schedulers::brackets::Sizing;
use hposim_schedulers::{SchedulerSpec, build};
use hposim_sim::{SimSettings, simulate};
use proptest::prelude::{Just, ProptestConfig, Strategy, prop_assert, prop_assert_eq, prop_oneof, proptest};
use rand::SeedableRng;

fn scheduler() -> impl Strategy<Value = SchedulerSpec> {
    let eta = prop_oneof![Just(2.0), Just(3.0), Just(4.0)];
    prop_oneof![
        (eta.clone(), 1u64..40, proptest::bool::ANY).prop_map(|(eta, extra, overlap)| SchedulerSpec::SuccessiveHalving {
            eta,
            min_fidelity: None,
            max_fidelity: None,
            configs: Some(eta as u64 + extra),
            overlap,
            max_brackets: Some(1),
            ranking: hposim_schedulers::Ranking::First,
        }),
        (eta.clone(), proptest::bool::ANY, proptest::bool::ANY).prop_map(|(eta, hp, overlap)| SchedulerSpec::Hyperband {
            eta,
            min_fidelity: None,
            max_fidelity: None,
            sizing: if hp { Sizing::Hpbandster } else { Sizing::Li },
            overlap,
            max_brackets: None,
            ranking: hposim_schedulers::Ranking::First,
        }),
        (eta, proptest::bool::ANY, 1u32..4).prop_map(|(eta, promotion, brackets)| SchedulerSpec::Asha {
            eta,
            min_fidelity: None,
            max_fidelity: None,
            variant: if promotion { AshaVariant::Promotion } else { AshaVariant::Stopping },
            brackets,
        }),
        (1u32..5, 1u32..4).prop_map(|(grace, min_trials)| SchedulerSpec::MedianStopping { grace_period: Some(grace), min_trials }),
    ]
}

/// Runs `spec` behind random search, or behind a shuffled grid when `seed` is odd (a sampler
/// that runs out, so that brackets close early).
fn run(bench: &Synthetic, spec: &SchedulerSpec, workers: u32, checkpointing: bool, trials: u64, seed: u64) -> CellOutcome {
    let inner: Box<dyn hposim_samplers::Sampler> = if seed % 2 == 1 {
        let grid = SamplerSpec::Grid { resolution: 2, resolutions: Default::default(), shuffle: true };
        hposim_samplers::build(&grid, bench.space(), bench.objectives(), &mut Rng::seed_from_u64(seed)).unwrap()
    } else {
        Box::new(RandomSampler::new(bench.space().clone()))
    };
    let sampler = TrialLimit::new(inner, trials);
    let mut scheduler = build(spec, Box::new(sampler), bench.space(), bench.fidelity(), bench.objectives()).unwrap();
    let settings = SimSettings {
        workers,
        budget: Budget { trials: Some(trials), ..Budget::default() },
        checkpointing,
        launch_overhead: true,
        trace: hposim_core::TraceLevel::Steps,
    };
    simulate(bench, scheduler.as_mut(), &settings, &mut Rng::seed_from_u64(seed), seed).unwrap()
}

/// Rows of `trial` in order.
fn trial_rows(out: &CellOutcome, trial: u32) -> Vec<usize> {
    (0..out.trace.len()).filter(|&r| out.trace.trial[r] == trial).collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]
    #[test]
    fn early_termination_invariants(
        spec in scheduler(),
        workers in 1u32..6,
        max_epochs in 4u32..40,
        trials in 5u64..120,
        diverge in 0.0f64..0.3,
        checkpointing in proptest::bool::ANY,
        seed in 0u64..1_000_000,
    ) {
        let bench = Synthetic::new("p".into(), &SyntheticSpec {
            family: Family::Crossing,
            max_epochs,
            divergence: Some(DivergenceSpec { fraction: diverge, mode: Default::default() }),
            ..SyntheticSpec::default()
        }).unwrap();
        let mut spec = spec;
        // Sometimes stop below the benchmark's full fidelity.
        let top = if seed % 4 == 0 { Some(max_epochs - 1) } else { None };
        match &mut spec {
            SchedulerSpec::Hyperband { max_fidelity, .. } | SchedulerSpec::Asha { max_fidelity, .. } => *max_fidelity = top,
            _ => {}
        }
        if let SchedulerSpec::Asha { eta, brackets, max_fidelity, .. } = &mut spec {
            let max_epochs = max_fidelity.unwrap_or(max_epochs);
            // Only as many brackets as have a rung below the maximum fidelity.
            while *brackets > 1 && hposim_schedulers::brackets::rung_levels(1, max_epochs, *eta, *brackets - 1).is_empty() {
                *brackets -= 1;
            }
        }
        let out = run(&bench, &spec, workers, checkpointing, trials, seed);
        let t = &out.trace;
        // The invariants every trace satisfies, simulated or live (the runner's tests check
        // live traces with the same function).
        prop_assert_eq!(t.check_invariants(checkpointing), Ok(()));
        let mut reached = vec![0u32; t.configs.len()];
        for trial in 0..t.configs.len() as u32 {
            let rows = trial_rows(&out, trial);
            // Fidelities increase: step by step within a segment; a new segment starts after a
            // pause, from the next step with a checkpoint or from step 1 without.
            let mut segment_ends = Vec::new();
            for pair in rows.windows(2) {
                let (a, b) = (pair[0], pair[1]);
                if t.outcome[a] == TrialOutcome::Continue {
                    prop_assert_eq!(t.epoch[b], t.epoch[a] + 1);
                } else {
                    prop_assert_eq!(t.outcome[a], TrialOutcome::Pause);
                    prop_assert_eq!(t.epoch[b], if checkpointing { t.epoch[a] + 1 } else { 1 });
                    segment_ends.push(t.epoch[a]);
                }
            }
            // No trial is promoted twice from the same rung: its pauses are at rising fidelities.
            prop_assert!(segment_ends.windows(2).all(|w| w[0] < w[1]), "trial {} paused at {:?}", trial, segment_ends);
            reached[trial as usize] = rows.iter().map(|&r| t.epoch[r]).max().unwrap_or(0);
        }
        if let SchedulerSpec::SuccessiveHalving { eta, configs, .. } = spec {
            // One bracket: the trials promoted out of a rung (those that went past its fidelity)
            // are at most ⌊n/η⌋ of the n that entered it (those that went past the rung below;
            // all started trials for the first). A trial that diverges on its way still entered.
            let bracket = hposim_schedulers::brackets::successive_halving(1.0, f64::from(max_epochs), eta, configs.unwrap_or(trials));
            let mut entered = t.configs.len() as u64;
            for rung in &bracket.rungs {
                let level = hposim_schedulers::brackets::steps(rung.fidelity);
                let promoted = reached.iter().filter(|&&e| e > level).count() as u64;
                prop_assert!(promoted <= hposim_schedulers::brackets::promotions(entered, eta), "{} promoted past {} of {}", promoted, level, entered);
                entered = promoted;
            }
        }
        // Checkpointing never costs more: the same strategy restarting paused trials pays at
        // least as much (synchronous decisions and one-worker runs see the same results).
        let comparable = workers == 1 || matches!(spec, SchedulerSpec::SuccessiveHalving { overlap: false, .. } | SchedulerSpec::Hyperband { overlap: false, .. });
        if comparable {
            let with = run(&bench, &spec, workers, true, trials, seed);
            let without = run(&bench, &spec, workers, false, trials, seed);
            prop_assert!(with.stats.compute_seconds <= without.stats.compute_seconds + 1e-6 * without.stats.compute_seconds,
                "{} > {}", with.stats.compute_seconds, without.stats.compute_seconds);
            prop_assert!(with.stats.compute_seconds <= with.stats.full_training_seconds * (1.0 + 1e-12));
            // Each run's accounting of the other setting matches the other run.
            let close = |a: f64, b: f64| (a - b).abs() <= 1e-9 * b.max(1.0);
            prop_assert!(close(with.stats.compute_without_checkpointing_seconds, without.stats.compute_seconds),
                "{} vs {}", with.stats.compute_without_checkpointing_seconds, without.stats.compute_seconds);
            prop_assert!(close(without.stats.compute_with_checkpointing_seconds, with.stats.compute_seconds),
                "{} vs {}", without.stats.compute_with_checkpointing_seconds, with.stats.compute_seconds);
        }
    }
}
