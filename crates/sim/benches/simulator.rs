//! Simulator throughput: simulated epochs per second of real time, random search + FIFO,
//! 4 workers, the synthetic benchmark (default space, 50 epochs), trace recorded in memory.
//! `cell_with_parquet` adds writing the cell's trace to Parquet, as `hposim run` does;
//! `random_fifo_4_workers_decisions` keeps the decisions only (`trace = "decisions"`), each
//! trial running from decision to decision in one event.
//!
//! Run with `cargo bench -p hposim-sim --bench simulator` (or `just bench`).
#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests and benchmarks fail loudly on purpose.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use hposim_core::Rng;
use hposim_core::{Budget, CellOutcome, TraceLevel};
use hposim_curves::Benchmark;
use hposim_curves::synthetic::{Family, Synthetic, SyntheticSpec};
use hposim_samplers::random::RandomSampler;
use hposim_schedulers::fifo::Fifo;
use hposim_sim::{SimSettings, simulate};
use rand::SeedableRng;
use std::hint::black_box;

fn run(bench: &Synthetic, compute: f64) -> CellOutcome {
    run_with(bench, Budget { compute_seconds: Some(compute), ..Budget::default() }, TraceLevel::Steps)
}

fn run_with(bench: &Synthetic, budget: Budget, trace: TraceLevel) -> CellOutcome {
    let mut scheduler = Fifo::new(Box::new(RandomSampler::new(bench.space().clone())), bench.fidelity().max);
    let settings = SimSettings { workers: 4, budget, checkpointing: true, launch_overhead: true, trace };
    simulate(bench, &mut scheduler, &settings, &mut Rng::seed_from_u64(3), 11).expect("the simulation runs")
}

fn throughput(c: &mut Criterion) {
    let mut group = c.benchmark_group("simulator");
    for family in [Family::Exponential, Family::Crossing] {
        let bench =
            Synthetic::new("bench".into(), &SyntheticSpec { family, max_epochs: 50, ..SyntheticSpec::default() }).expect("valid spec");
        // About 100 000 epochs per iteration.
        let compute = 1.3e7;
        let epochs = run(&bench, compute).stats.epochs;
        group.throughput(Throughput::Elements(epochs));
        group.bench_function(format!("random_fifo_4_workers_{family:?}").to_lowercase(), |b| b.iter(|| black_box(run(&bench, compute))));
    }
    let bench = Synthetic::new("bench".into(), &SyntheticSpec { max_epochs: 50, ..SyntheticSpec::default() }).expect("valid spec");
    // The decisions trace level: a row per trial, each trial one or two events.
    let budget = Budget { wallclock_seconds: Some(1.3e7 / 4.0), ..Budget::default() };
    group.throughput(Throughput::Elements(run_with(&bench, budget.clone(), TraceLevel::Decisions).stats.epochs));
    group.bench_function("random_fifo_4_workers_decisions", |b| {
        b.iter(|| black_box(run_with(&bench, budget.clone(), TraceLevel::Decisions)))
    });
    let epochs = run(&bench, 1.3e7).stats.epochs;
    group.throughput(Throughput::Elements(epochs));
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = dir.path().join("trace.parquet");
    group.bench_function("cell_with_parquet", |b| {
        b.iter(|| {
            let out = run(&bench, 1.3e7);
            let mut file = std::fs::File::create(&path).expect("trace file");
            hposim_results::write_trace(&out.trace, bench.space(), None, &mut file).expect("trace written");
            black_box(out.stats.epochs)
        })
    });
    group.finish();
}

criterion_group!(benches, throughput);
criterion_main!(benches);
