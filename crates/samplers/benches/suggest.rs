//! Time per suggestion of the model-based samplers in a 10-dimensional mixed space (3 linear
//! floats, 2 log floats, a linear and a log int, 3 categoricals of 3–4 choices), after 100 and
//! 1000 observations (GP and EHVI: 100 and 500), and the average per trial over whole studies;
//! two objectives (single-objective samplers use the first).
//!
//! Reference figures measured on this kind of machine (2 cores): Optuna 5.0's TPE averaged
//! 6 ms per trial over a 200-trial study and 12 ms over a 1000-trial study; its `GPSampler`
//! about 300 ms per trial over 200 trials; HpBandSter's BOHB about 18 ms per evaluation; its
//! TPE on these two objectives (MO-TPE) 9.3–9.5 ms per trial over 200 trials and 23.4–24.6 ms
//! over 1000 (`crates/samplers/benches/optuna_motpe.py`, best of 3, two runs).
//!
//! Run with `cargo bench -p hposim-samplers --bench suggest` (or `just bench`).
#![allow(clippy::unwrap_used, clippy::expect_used)] // Benchmarks fail loudly on purpose.

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use hposim_core::encoding::CategoricalEncoding;
use hposim_core::{Choice, Config, Fidelity, Objective, Observation, ParamSpec, Rng, SearchSpace};
use hposim_samplers::{Sampler, SamplerSpec, build};
use rand::SeedableRng;
use std::hint::black_box;
use std::time::Duration;

fn space() -> SearchSpace {
    let float = |name: &str, low: f64, high: f64, log: bool| ParamSpec::Float { name: name.into(), low, high, log, condition: None };
    let cat =
        |name: &str, k: i64| ParamSpec::Categorical { name: name.into(), choices: (0..k).map(Choice::Int).collect(), condition: None };
    SearchSpace::new(&[
        float("dropout", 0.0, 0.8, false),
        float("momentum", 0.5, 0.99, false),
        float("warmup", 0.0, 0.3, false),
        float("lr", 1e-5, 1.0, true),
        float("weight_decay", 1e-8, 1e-1, true),
        ParamSpec::Int { name: "layers".into(), low: 1, high: 8, log: false, condition: None },
        ParamSpec::Int { name: "batch".into(), low: 16, high: 1024, log: true, condition: None },
        cat("optimizer", 3),
        cat("activation", 4),
        cat("norm", 3),
    ])
    .unwrap()
}

/// Two smooth losses with optima at different places inside the cube, so models have something
/// to learn and multi-objective samplers a front (single-objective ones use the first).
fn losses(space: &SearchSpace, config: &Config) -> [f64; 2] {
    let x = space.encode(config, CategoricalEncoding::Index);
    let first = x.iter().enumerate().map(|(i, v)| (v - 0.1 * (i as f64 % 7.0) - 0.2).powi(2)).sum();
    let second = x.iter().enumerate().map(|(i, v)| (v - 0.8 + 0.05 * (i as f64 % 5.0)).powi(2)).sum();
    [first, second]
}

fn sampler(spec: &str, space: &SearchSpace) -> Box<dyn Sampler> {
    let spec: SamplerSpec = toml::from_str(spec).unwrap();
    build(&spec, space, &[Objective::minimize("loss"), Objective::minimize("cost")], &mut Rng::seed_from_u64(1)).unwrap()
}

/// A sampler that has seen `n` of its own proposals' results.
fn trained(spec: &str, space: &SearchSpace, n: u32, rng: &mut Rng) -> Box<dyn Sampler> {
    let mut s = sampler(spec, space);
    for trial in 0..n {
        let config = s.suggest(rng).unwrap();
        s.observe(&Observation { trial, config: &config, fidelity: 1, metrics: &losses(space, &config), time: 0.0 });
    }
    s
}

const SPECS: [(&str, &str, &[u32]); 8] = [
    // The default (Optuna 5.0: multivariate, gap bandwidths), its univariate mode, and Optuna
    // 4.x's two modes.
    ("tpe", "type = 'tpe'", &[100, 1000]),
    ("tpe_univariate", "type = 'tpe'\nmultivariate = false", &[100, 1000]),
    ("tpe_optuna4", "type = 'tpe'\npreset = 'optuna4'", &[100, 1000]),
    ("tpe_optuna4_multivariate", "type = 'tpe'\npreset = 'optuna4'\nmultivariate = true", &[100, 1000]),
    ("bohb_kde", "type = 'bohb'\nrandom_fraction = 0.0", &[100, 1000]),
    ("gp", "type = 'gp'", &[100, 500]),
    ("motpe", "type = 'motpe'", &[100, 1000]),
    ("ehvi", "type = 'ehvi'", &[100, 500]),
];

fn per_suggestion(c: &mut Criterion) {
    let space = space();
    let mut group = c.benchmark_group("suggest");
    group.sample_size(20).measurement_time(Duration::from_secs(4));
    for (name, spec, sizes) in SPECS {
        for &n in sizes {
            // Trained on the first call of the closure, which criterion makes only for the
            // benchmarks it runs (and then again for warm-up and every sample: train once).
            let mut state: Option<(Rng, Box<dyn Sampler>)> = None;
            group.bench_with_input(BenchmarkId::new(name, n), &n, |b, &n| {
                let (rng, s) = state.get_or_insert_with(|| {
                    let mut rng = Rng::seed_from_u64(2);
                    let s = trained(spec, &space, n, &mut rng);
                    (rng, s)
                });
                b.iter(|| black_box(s.suggest(rng)));
            });
        }
    }
    group.finish();
}

/// Whole studies, suggestion and observation, from scratch: the per-trial average the Optuna
/// and HpBandSter figures are.
fn per_study(c: &mut Criterion) {
    let space = space();
    let mut group = c.benchmark_group("study");
    group.sample_size(10).measurement_time(Duration::from_secs(8));
    for (name, spec, trials) in [
        ("tpe", "type = 'tpe'", 200),
        ("tpe", "type = 'tpe'", 1000),
        ("bohb_kde", "type = 'bohb'", 200),
        ("gp", "type = 'gp'", 200),
        ("motpe", "type = 'motpe'", 200),
        ("ehvi", "type = 'ehvi'", 200),
    ] {
        group.bench_with_input(BenchmarkId::new(name, trials), &trials, |b, &trials| {
            b.iter(|| black_box(trained(spec, &space, trials, &mut Rng::seed_from_u64(3))));
        });
    }
    group.finish();
}

/// A multi-fidelity sampler that has seen `n` results of its own proposals: Fabolas and the
/// multi-task BO at the fidelity they chose (out of 256 steps, with a cost of one second per
/// step), MOBSTER at ASHA's rungs 1, 3, 9 of each proposal.
fn trained_across_fidelities(spec: &str, space: &SearchSpace, n: u32, rng: &mut Rng) -> Box<dyn Sampler> {
    let mut s = sampler(spec, space);
    let fidelity = Fidelity { min: 1, max: 256, unit: "data".into() };
    let mut trial = 0;
    while trial < n {
        if spec.contains("mobster") {
            let config = s.suggest(rng).unwrap();
            for r in [1, 3, 9].into_iter().take((n - trial) as usize) {
                let metrics = losses(space, &config).map(|l| l + 1.0 / f64::from(r));
                s.observe(&Observation { trial, config: &config, fidelity: r, metrics: &metrics, time: 0.0 });
                trial += 1;
            }
        } else {
            let (config, step) = s.suggest_with_fidelity(&fidelity, rng).unwrap();
            let metrics = losses(space, &config).map(|l| l + (1.0 - f64::from(step) / 256.0).powi(2));
            s.observe_with_cost(&Observation { trial, config: &config, fidelity: step, metrics: &metrics, time: 0.0 }, f64::from(step));
            trial += 1;
        }
    }
    s
}

/// One proposal of the joint GPs over configuration and fidelity at 100 and 300 results
/// (issue: usable at a few hundred observations).
fn per_suggestion_across_fidelities(c: &mut Criterion) {
    let space = space();
    let mut group = c.benchmark_group("suggest_multi_fidelity");
    group.sample_size(10).measurement_time(Duration::from_secs(6));
    for (name, spec) in [
        ("fabolas", "type = 'fabolas'\ninitial_design = 10"),
        ("multitask", "type = 'multitask'\ntasks = [28, 85, 256]"),
        ("mobster", "type = 'mobster'"),
    ] {
        for n in [100u32, 300] {
            let mut state: Option<(Rng, Box<dyn Sampler>)> = None;
            let fidelity = Fidelity { min: 1, max: 256, unit: "data".into() };
            group.bench_with_input(BenchmarkId::new(name, n), &n, |b, &n| {
                let (rng, s) = state.get_or_insert_with(|| {
                    let mut rng = Rng::seed_from_u64(2);
                    let s = trained_across_fidelities(spec, &space, n, &mut rng);
                    (rng, s)
                });
                b.iter(|| black_box(s.suggest_with_fidelity(&fidelity, rng)));
            });
        }
    }
    group.finish();
}

criterion_group!(benches, per_suggestion, per_study, per_suggestion_across_fidelities);
criterion_main!(benches);
