//! Cost of the Pareto machinery on random points (uniform in the unit cube, every objective
//! minimised, reference point 1.1 in each): hypervolume of 1,000 points in 2 and 3 objectives,
//! of 200 points in 5 objectives and of 2,000 points in 4 and 5 objectives, and non-dominated
//! sorting of 10,000 points in 2 objectives. The same points are written by `pareto_points.py`
//! beside this file, which times Optuna's and pymoo's implementations on them for comparison
//! (optuna issue #6364).
//!
//! The `hypervolume_grid` group times 2–5 objectives and 10–10,000 points on the sets of
//! `hypervolume_peers.py` beside this file ("uniform" as above; "sphere", each such point
//! divided by its norm so that all are non-dominated), which times pymoo's and moocore's
//! hypervolume on the same points.
//!
//! Run with `cargo bench -p hposim-eval --bench pareto` (or `just bench`).
#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests and benchmarks fail loudly on purpose.

use criterion::{Criterion, criterion_group, criterion_main};
use hposim_core::rng::stateless_uniform;
use hposim_eval::hypervolume::minimising;
use hposim_eval::non_dominated::front_ranks;
use std::hint::black_box;

/// `n` points in `m` objectives: coordinate k of point i is the stateless uniform draw of seed
/// `m` at counter `i·m + k` (hposim_core::rng::stateless_uniform, SplitMix64-based).
fn points(n: usize, m: usize) -> Vec<Vec<f64>> {
    (0..n).map(|i| (0..m).map(|k| stateless_uniform(m as u64, (i * m + k) as u64)).collect()).collect()
}

/// `n` points in `m` objectives on the unit sphere's positive part: uniform points of seed
/// `100 + m` divided by their Euclidean norm (all mutually non-dominated).
fn sphere(n: usize, m: usize) -> Vec<Vec<f64>> {
    let seed = 100 + m as u64;
    (0..n)
        .map(|i| {
            let u: Vec<f64> = (0..m).map(|k| stateless_uniform(seed, (i * m + k) as u64)).collect();
            let norm = u.iter().map(|v| v * v).sum::<f64>().sqrt();
            u.iter().map(|v| v / norm).collect()
        })
        .collect()
}

/// The point sets of `hypervolume_peers.py`: uniform ones for 2–5 objectives and 10–10,000
/// points, spheres for 3–5 objectives.
fn grid() -> Vec<(&'static str, usize, usize, Vec<Vec<f64>>)> {
    let mut sets = Vec::new();
    for m in 2..=5 {
        for n in [10, 100, 1000, 10_000] {
            sets.push(("uniform", n, m, points(n, m)));
        }
    }
    for (n, m) in [(100, 3), (1000, 3), (100, 4), (1000, 4), (100, 5), (300, 5)] {
        sets.push(("sphere", n, m, sphere(n, m)));
    }
    sets
}

fn hypervolume_grid(c: &mut Criterion) {
    let mut group = c.benchmark_group("hypervolume_grid");
    group.warm_up_time(std::time::Duration::from_millis(300)).measurement_time(std::time::Duration::from_secs(1)).sample_size(20);
    for (set, n, m, p) in grid() {
        let reference = vec![1.1; m];
        group.bench_function(format!("{set}_{n}_{m}"), |b| b.iter(|| minimising(black_box(&p), black_box(&reference))));
    }
    group.finish();
}

fn pareto(c: &mut Criterion) {
    for (n, m) in [(1000, 2), (1000, 3), (200, 5), (2000, 4), (2000, 5)] {
        let p = points(n, m);
        let reference = vec![1.1; m];
        c.bench_function(&format!("hypervolume/{n}_points_{m}_objectives"), |b| {
            b.iter(|| minimising(black_box(&p), black_box(&reference)))
        });
    }
    let p = points(10_000, 2);
    c.bench_function("non_dominated_sort/10000_points_2_objectives", |b| b.iter(|| front_ranks(black_box(&p))));
}

criterion_group!(benches, pareto, hypervolume_grid);
criterion_main!(benches);
