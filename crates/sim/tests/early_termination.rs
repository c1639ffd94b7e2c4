//! Early-termination schedulers driven by the simulator on the Toy benchmark (metric `x + 1/t`,
//! minimised, so every rung ranks trials by `x`), with hand-derived expectations.
#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests and benchmarks fail loudly on purpose.

mod common;

use common::{Listed, Toy, rows, run_of};
use hposim_core::{Budget, StopReason};
use hposim_core::{Objective, Rng, TrialOutcome};
use hposim_schedulers::asha::{Asha, AshaVariant};
use hposim_schedulers::brackets::{self, Sizing};
use hposim_schedulers::median_stopping::MedianStopping;
use hposim_schedulers::{hyperband, successive_halving};
use hposim_sim::{SimSettings, simulate};
use rand::SeedableRng;

const XS: [f64; 9] = [0.5, 0.1, 0.9, 0.3, 0.7, 0.2, 0.8, 0.4, 0.6];

fn settings(workers: u32, checkpointing: bool) -> SimSettings {
    SimSettings {
        workers,
        budget: Budget { trials: Some(1000), ..Budget::default() },
        checkpointing,
        launch_overhead: true,
        trace: hposim_core::TraceLevel::Steps,
    }
}

fn loss() -> Objective {
    Objective::minimize("loss")
}

/// Successive halving, η = 3, 9 configurations from 1 to 9 epochs, one worker. Rung 0 (1
/// epoch) ranks x = 0.1 (trial 1), 0.2 (trial 5), 0.3 (trial 3) best; ⌊9/3⌋ = 3 of them are
/// resumed to 3 epochs, best first; rung 1 keeps ⌊3/3⌋ = 1, trial 1, trained to 9 epochs.
/// With checkpoints: 9 + 3·2 + 6 = 21 epochs; without: 9 + 3·3 + 9 = 27.
#[test]
fn successive_halving_promotes_exactly_the_best() {
    let bench = Toy::new(9, 1.0);
    let bracket = brackets::successive_halving(1.0, 9.0, 3.0, 9);
    for checkpointing in [true, false] {
        let mut sh = successive_halving::new(Box::new(Listed::new(&XS)), loss(), 3.0, &bracket, false).with_max_brackets(Some(1));
        let out = simulate(&bench, &mut sh, &settings(1, checkpointing), &mut Rng::seed_from_u64(0), 0).unwrap();
        let mut want: Vec<(u32, u32)> = (0..9).map(|t| (t, 1)).collect();
        let resumed_from = if checkpointing { 2 } else { 1 };
        for t in [1, 5, 3] {
            want.extend(run_of(t, resumed_from..=3));
        }
        want.extend(run_of(1, if checkpointing { 4 } else { 1 }..=9));
        assert_eq!(rows(&out.trace), want, "checkpointing {checkpointing}");
        assert_eq!(out.stats.epochs, if checkpointing { 21 } else { 27 });
        assert_eq!((out.stats.compute_with_checkpointing_seconds, out.stats.compute_without_checkpointing_seconds), (21.0, 27.0));
        assert_eq!(out.stats.full_training_seconds, 81.0);
        assert_eq!(out.stats.stop_reason, StopReason::StrategyFinished);
    }
}

/// Two workers, 1 s per epoch: rung 0's nine jobs end at t = 1, 1, 2, 2, 3, 3, 4, 4, 5, so
/// worker 1 waits from 4 to 5; rung 1's three jobs (2 epochs each) run 5–7, 5–7 and 7–9 while
/// worker 1 waits 7–9; the last trial runs 6 epochs, 9–15, while worker 1 waits again.
/// Wall-clock 15 s, compute 21 s, idle 2·15 − 21 = 9 s.
#[test]
fn synchronous_halving_leaves_workers_idle_and_accounts_for_it() {
    let bench = Toy::new(9, 1.0);
    let bracket = brackets::successive_halving(1.0, 9.0, 3.0, 9);
    let mut sh = successive_halving::new(Box::new(Listed::new(&XS)), loss(), 3.0, &bracket, false).with_max_brackets(Some(1));
    let out = simulate(&bench, &mut sh, &settings(2, true), &mut Rng::seed_from_u64(0), 0).unwrap();
    assert_eq!(out.stats.wallclock_seconds, 15.0);
    assert_eq!(out.stats.compute_seconds, 21.0);
    assert_eq!(out.stats.idle_seconds, 9.0);
}

/// HyperBand (Li sizing) from 1 to 9 epochs, η = 3: s_max = 2; bracket 2 runs 9, 3, 1
/// configurations at 1, 3, 9 epochs (9 + 3·2 + 1·6 = 21 epochs with checkpoints); bracket 1
/// runs ⌈3/2·3⌉ = 5 at 3 and 1 at 9 (5·3 + 6 = 21); bracket 0 runs 3 at 9 (27): 17 trials,
/// 69 epochs, and 17·9 = 153 epochs of full training.
#[test]
fn hyperband_runs_every_bracket() {
    let bench = Toy::new(9, 2.0);
    let table = brackets::hyperband(1.0, 9.0, 3.0, Sizing::Li);
    let sampler = hposim_samplers::random::RandomSampler::new(bench.space.clone());
    let mut hb = hyperband::new(Box::new(sampler), loss(), 3.0, &table, false).with_max_brackets(Some(3));
    let out = simulate(&bench, &mut hb, &settings(1, true), &mut Rng::seed_from_u64(3), 0).unwrap();
    assert_eq!((out.stats.trials, out.stats.epochs), (17, 69));
    assert_eq!(out.stats.compute_seconds, 138.0);
    assert_eq!(out.stats.full_training_seconds, 306.0);
}

/// Without `max_brackets`, HyperBand cycles through its brackets until the budget ends: with a
/// budget of 30 trials, trials 0–16 fill brackets 2, 1, 0 as above (first trained to 1, 3 and
/// 9 epochs) and trials 17–29 start the next cycle: bracket 2 (9 trials at 1 epoch), then
/// bracket 1 (the last 4 trials, at 3 epochs).
#[test]
fn hyperband_repeats_its_brackets() {
    let bench = Toy::new(9, 2.0);
    let table = brackets::hyperband(1.0, 9.0, 3.0, Sizing::Li);
    let sampler =
        hposim_samplers::trial_limit::TrialLimit::new(Box::new(hposim_samplers::random::RandomSampler::new(bench.space.clone())), 30);
    let mut hb = hyperband::new(Box::new(sampler), loss(), 3.0, &table, false);
    let out = simulate(&bench, &mut hb, &settings(1, true), &mut Rng::seed_from_u64(3), 0).unwrap();
    assert_eq!(out.stats.trials, 30);
    // The fidelity each trial is first trained to: where its first segment ends.
    let t = &out.trace;
    let first_epochs: Vec<u32> = (0..30)
        .map(|trial| (0..t.len()).find(|&r| t.trial[r] == trial && t.outcome[r] != TrialOutcome::Continue).map(|r| t.epoch[r]).unwrap())
        .collect();
    // Bracket 2 starts at 1 epoch, bracket 1 at 3, bracket 0 at 9, then bracket 2 again.
    let mut want = vec![1; 9];
    want.extend([3; 5]);
    want.extend([9; 3]);
    want.extend([1; 9]);
    want.extend([3; 4]);
    assert_eq!(first_epochs, want);
}

/// ASHA, promotion variant (the paper's Algorithm 2), η = 3, rungs at 1 and 3 below R = 9, one
/// worker. Each free worker promotes the best not-yet-promoted trial in the top ⌊n/3⌋ of the
/// highest rung it can, else starts the next configuration:
/// - trials 0, 1, 2 start; after the third result rung 0's top ⌊3/3⌋ = 1 is trial 1 (x = 0.1),
///   promoted to 3 epochs;
/// - trials 3, 4, 5 start; rung 0 then has 6 results, top 2 = {1, 5}: trial 5 is promoted;
/// - trials 6, 7, 8 start; top 3 = {1, 5, 3}: trial 3 is promoted; rung 1 now has 3 results,
///   top 1 = trial 1, promoted to 9;
/// - the sampler is exhausted and nothing is promotable: the worker finishes.
#[test]
fn asha_promotion_follows_the_papers_algorithm() {
    let bench = Toy::new(9, 1.0);
    let mut asha = Asha::new(Box::new(Listed::new(&XS)), loss(), AshaVariant::Promotion, 3.0, 1, 9, 1);
    let out = simulate(&bench, &mut asha, &settings(1, true), &mut Rng::seed_from_u64(0), 0).unwrap();
    let mut want =
        vec![(0, 1), (1, 1), (2, 1), (1, 2), (1, 3), (3, 1), (4, 1), (5, 1), (5, 2), (5, 3), (6, 1), (7, 1), (8, 1), (3, 2), (3, 3)];
    want.extend(run_of(1, 4..=9));
    assert_eq!(rows(&out.trace), want);
    assert_eq!(out.stats.stop_reason, StopReason::StrategyFinished);
}

/// ASHA, stopping variant (Syne Tune's rule), η = 3, rungs at 1 (q = 1/3) and 3 (q = 3/9):
/// - trial 0 (x = 0.5) is alone in each rung and continues to 9;
/// - trial 1 (0.1): rung 0 holds 1.5, 1.1 → cutoff 1.1 + (1/3)·0.4 = 1.233, 1.1 passes; rung 1
///   holds 0.833, 0.433 → cutoff 0.567, it passes: 9 epochs;
/// - trial 2 (0.9): rung 0 holds 1.1, 1.5, 1.9 → cutoff 1.1 + (2/3)·0.4 = 1.367 < 1.9: stopped
///   after 1 epoch;
/// - trial 3 (0.3): rung 0 holds 1.1, 1.3, 1.5, 1.9 → virt = 2, cutoff 1.3, and 1.3 ≤ 1.3
///   passes; rung 1 holds 0.433, 0.633, 0.833 → cutoff 0.567 < 0.633: stopped after 3.
#[test]
fn asha_stopping_follows_syne_tunes_rule() {
    let bench = Toy::new(9, 1.0);
    let mut asha = Asha::new(Box::new(Listed::new(&[0.5, 0.1, 0.9, 0.3])), loss(), AshaVariant::Stopping, 3.0, 1, 9, 1);
    let out = simulate(&bench, &mut asha, &settings(1, true), &mut Rng::seed_from_u64(0), 0).unwrap();
    let mut want = run_of(0, 1..=9);
    want.extend(run_of(1, 1..=9));
    want.push((2, 1));
    want.extend(run_of(3, 1..=3));
    assert_eq!(rows(&out.trace), want);
}

/// Median stopping, 2 completed trials needed, 4 epochs. Trials 0 (x = 0.5) and 1 (0.3)
/// complete; their running averages at step 1 are 1.5 and 1.3 (median 1.4). Trial 2 (0.9) has
/// best 1.9 > 1.4 at step 1: stopped. Trial 3 (0.1) has 1.1 at step 1; at step 2 its best is
/// 0.6 against the median of (1.5 + 1.0)/2 = 1.25 and (1.3 + 0.8)/2 = 1.05, i.e. 1.15; it runs on.
#[test]
fn median_stopping_compares_with_completed_running_averages() {
    let bench = Toy::new(4, 1.0);
    let mut median = MedianStopping::new(Box::new(Listed::new(&[0.5, 0.3, 0.9, 0.1])), loss(), 4, 1, 2);
    let out = simulate(&bench, &mut median, &settings(1, true), &mut Rng::seed_from_u64(0), 0).unwrap();
    let mut want = run_of(0, 1..=4);
    want.extend(run_of(1, 1..=4));
    want.push((2, 1));
    want.extend(run_of(3, 1..=4));
    assert_eq!(rows(&out.trace), want);
}

/// A trial whose metric turns NaN at a rung ranks last there and is never promoted: with
/// x = 0.95 and 0.92 diverging from epoch 1, successive halving over 9 configurations still
/// promotes the three best finite ones.
#[test]
fn nan_ranks_last_in_a_rung() {
    let mut bench = Toy::new(9, 1.0);
    bench.nan_from = 1;
    let xs = [0.95, 0.1, 0.92, 0.3, 0.7, 0.2, 0.8, 0.4, 0.6];
    let bracket = brackets::successive_halving(1.0, 9.0, 3.0, 9);
    let mut sh = successive_halving::new(Box::new(Listed::new(&xs)), loss(), 3.0, &bracket, false).with_max_brackets(Some(1));
    let out = simulate(&bench, &mut sh, &settings(1, true), &mut Rng::seed_from_u64(0), 0).unwrap();
    let promoted: Vec<u32> = rows(&out.trace).into_iter().filter(|&(_, e)| e == 2).map(|(t, _)| t).collect();
    assert_eq!(promoted, vec![1, 5, 3]);
    assert_eq!(out.stats.diverged_trials, 2);
}
