//! Cost of the statistics behind a report: an incumbent trajectory of a long trace, a
//! percentile-bootstrap interval of the median of 20 seeds, a Wilcoxon test of 20 pairs (exact
//! and with ties), a Friedman test of 20 blocks × 8 strategies, and a speed-up interval.
//!
//! Run with `cargo bench -p hposim-eval --bench statistics` (or `just bench`).
#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests and benchmarks fail loudly on purpose.

use criterion::{Criterion, criterion_group, criterion_main};
use hposim_core::rng::stateless_uniform;
use hposim_core::{EpochStatus, Objective, Rng, Row, Trace, TrialOutcome};
use hposim_eval::bootstrap::{bootstrap, median};
use hposim_eval::friedman::friedman;
use hposim_eval::incumbent::{Convention, Trajectory, trajectory};
use hposim_eval::speedup::{Axis, speedup};
use hposim_eval::wilcoxon::wilcoxon;
use rand::SeedableRng;
use std::hint::black_box;

/// A trace of `trials` trials of 50 epochs each, one after another, decreasing noisy curves.
fn trace(trials: u32, seed: u64) -> Trace {
    let mut t = Trace::with_capacity(vec![Objective::minimize("loss")], trials as usize * 50);
    let mut clock = 0.0;
    for trial in 0..trials {
        let level = stateless_uniform(seed, u64::from(trial));
        for epoch in 1..=50u32 {
            let start = clock;
            clock += 60.0;
            let value = level + 1.0 / f64::from(epoch) + 0.01 * stateless_uniform(seed, u64::from(trial * 100 + epoch));
            let outcome = if epoch == 50 { TrialOutcome::Done } else { TrialOutcome::Continue };
            t.push(Row { trial, worker: 0, epoch, start, end: clock, launch_seconds: 0.0, status: EpochStatus::Ok, outcome }, &[value]);
        }
    }
    t
}

fn statistics(c: &mut Criterion) {
    let long = trace(200, 1);
    c.bench_function("trajectory/10000_rows_highest_fidelity", |b| {
        b.iter(|| trajectory(black_box(&long), Convention::HighestFidelity, |v| v))
    });
    c.bench_function("trajectory/10000_rows_any_fidelity", |b| b.iter(|| trajectory(black_box(&long), Convention::AnyFidelity, |v| v)));
    let sample: Vec<f64> = (0..20).map(|i| stateless_uniform(3, i)).collect();
    let mut rng = Rng::seed_from_u64(0);
    c.bench_function("bootstrap/median_of_20_seeds_1000_resamples", |b| b.iter(|| bootstrap(black_box(&sample), 0.95, &mut rng, median)));
    let other: Vec<f64> = (0..20).map(|i| stateless_uniform(4, i)).collect();
    c.bench_function("wilcoxon/20_pairs_exact", |b| b.iter(|| wilcoxon(black_box(&sample), black_box(&other))));
    let tied: Vec<f64> = sample.iter().map(|v| (v * 4.0).round()).collect();
    let tied_other: Vec<f64> = other.iter().map(|v| (v * 4.0).round()).collect();
    c.bench_function("wilcoxon/20_pairs_with_ties", |b| b.iter(|| wilcoxon(black_box(&tied), black_box(&tied_other))));
    let rows: Vec<Vec<f64>> = (0..20).map(|i| (0..8).map(|j| stateless_uniform(5, i * 8 + j)).collect()).collect();
    c.bench_function("friedman/20_blocks_8_strategies", |b| b.iter(|| friedman(black_box(&rows))));
    let runs: Vec<Trajectory> = (0..20).map(|s| trajectory(&trace(20, s), Convention::HighestFidelity, |v| v)).collect();
    let (base, strat): (Vec<&Trajectory>, Vec<&Trajectory>) = (runs[..10].iter().collect(), runs[10..].iter().collect());
    c.bench_function("speedup/10_vs_10_seeds_1000_resamples", |b| {
        b.iter(|| speedup(black_box(&base), black_box(&strat), Axis::Time, 0.95, &mut rng))
    });
}

criterion_group!(benches, statistics);
criterion_main!(benches);
