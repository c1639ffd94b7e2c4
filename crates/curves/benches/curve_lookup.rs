//! Cost of resolving a configuration into a curve (`open`, once per trial) and of one epoch
//! lookup (`step`, once per simulated epoch), per benchmark, the recorded tables of `data/`
//! included.
//!
//! Run with `cargo bench -p hposim-curves --bench curve_lookup` (or `just bench`).
#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests and benchmarks fail loudly on purpose.

use criterion::{Criterion, criterion_group, criterion_main};
use hposim_core::Rng;
use hposim_curves::synthetic::{DivergenceSpec, Family, SyntheticSpec};
use hposim_curves::{BenchmarkSpec, build, build_relative};
use rand::SeedableRng;
use std::hint::black_box;
use std::path::Path;

fn specs() -> Vec<(&'static str, BenchmarkSpec)> {
    let synthetic = |family| SyntheticSpec {
        family,
        max_epochs: 50,
        divergence: Some(DivergenceSpec { fraction: 0.1, mode: Default::default() }),
        ..SyntheticSpec::default()
    };
    let toml_spec = |text: &str| -> BenchmarkSpec { toml::from_str(text).expect("valid spec") };
    vec![
        ("synthetic_exponential", BenchmarkSpec::Synthetic(synthetic(Family::Exponential))),
        ("synthetic_power_law", BenchmarkSpec::Synthetic(synthetic(Family::PowerLaw))),
        ("synthetic_crossing", BenchmarkSpec::Synthetic(synthetic(Family::Crossing))),
        ("branin", toml_spec("type = \"branin\"")),
        ("hartmann6", toml_spec("type = \"hartmann6\"")),
        ("counting_ones", toml_spec("type = \"counting_ones\"")),
        // Recorded tables shipped in data/: nearest-configuration resolution in `open`.
        ("recorded_mlp_digits", toml_spec("type = \"recorded\"\npath = \"mlp-digits.parquet\"")),
        ("recorded_nas_bench_201", toml_spec("type = \"recorded\"\npath = \"nas-bench-201.parquet\"\ntask = \"cifar10\"")),
        ("recorded_fcnet", toml_spec("type = \"recorded\"\npath = \"fcnet.parquet\"\ntask = \"protein_structure\"")),
    ]
}

/// The repository's data directory.
fn data_dir() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../data"))
}

fn lookups(c: &mut Criterion) {
    let mut group = c.benchmark_group("curve");
    for (name, spec) in specs() {
        let bench = if matches!(spec, BenchmarkSpec::Recorded(_)) { build_relative(&spec, data_dir()) } else { build(&spec) }
            .expect("valid benchmark");
        let mut rng = Rng::seed_from_u64(5);
        let configs: Vec<_> = (0..64).map(|_| bench.space().sample(&mut rng)).collect();
        let max = bench.fidelity().max;
        let mut metrics = vec![0.0; bench.objectives().len()];
        let mut i = 0usize;
        group.bench_function(format!("{name}/open_and_step"), |b| {
            b.iter(|| {
                i = (i + 1) % configs.len();
                let curve = bench.open(black_box(&configs[i]), i as u64);
                black_box(bench.step(&curve, max / 2 + 1, &mut metrics))
            })
        });
        let curves: Vec<_> = configs.iter().enumerate().map(|(k, c)| bench.open(c, k as u64)).collect();
        let mut step = 0u32;
        group.bench_function(format!("{name}/step"), |b| {
            b.iter(|| {
                step = step % max + 1;
                let curve = &curves[step as usize % curves.len()];
                black_box(bench.step(black_box(curve), step, &mut metrics))
            })
        });
    }
    group.finish();
}

criterion_group!(benches, lookups);
criterion_main!(benches);
