//! Parallel runs: a whole experiment (`hposim_sim::run`: eight cells of random search under
//! FIFO and ASHA on the synthetic benchmark, each about 30 000 epochs, traces and summaries
//! written and flushed to disk, the manifest's references included) on one thread and on two.
//! The ratio of the two is what a second core buys (issue 25, goal 4: at least 1.8 for cells
//! of similar cost); each iteration writes into a new folder, removed afterwards.
//!
//! Run with `cargo bench -p hposim-sim --bench parallel`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests and benchmarks fail loudly on purpose.

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use hposim_sim::{Experiment, RunOptions, run};
use std::hint::black_box;
use std::path::Path;

const EXPERIMENT: &str = r#"
name = "parallel"
seeds = 4
workers = 4
[budget]
compute_seconds = 3_600_000
[[benchmarks]]
name = "mlp"
type = "synthetic"
max_epochs = 50
epoch_seconds = 120
[[strategies]]
name = "random"
sampler = { type = "random" }
[[strategies]]
name = "asha"
sampler = { type = "random" }
scheduler = { type = "asha", variant = "stopping" }
"#;

fn parallel(c: &mut Criterion) {
    let experiment = Experiment::parse(Path::new("parallel.toml"), EXPERIMENT).expect("valid experiment");
    let mut group = c.benchmark_group("experiment_run");
    group.sample_size(10);
    for threads in [1, 2] {
        group.bench_function(format!("8_cells_threads_{threads}"), |b| {
            b.iter_batched(
                || tempfile::tempdir().expect("temporary directory"),
                |dir| {
                    let options = RunOptions { out_dir: dir.path().into(), threads, ..Default::default() };
                    black_box(run(&experiment, &options, &|_, _| {}).expect("the experiment runs").epochs_simulated);
                    dir
                },
                BatchSize::PerIteration,
            )
        });
    }
    group.finish();
}

criterion_group!(benches, parallel);
criterion_main!(benches);
