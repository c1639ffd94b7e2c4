//! Common random numbers: a benchmark's noise, divergence and repeat choice for a configuration
//! depend only on (benchmark, experiment seed, configuration, step), never on the strategy or on
//! the order in which it asks. Two different strategies (a grid in order under FIFO, the same
//! grid under ASHA, and the same grid under HyperBand with several workers, so that the
//! configurations start in other orders and under other trial ids) evaluate overlapping
//! configurations under the same seed: every (configuration, step) they share carries the same
//! metrics, bit for bit, on every benchmark type. Under another seed they differ (the noise is
//! real).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use hposim_core::{EpochStatus, Trace};
use hposim_sim::{Experiment, cells, simulate_cell};
use std::collections::HashMap;
use std::path::Path;

const STRATEGIES: &str = r#"
[[strategies]]
name = "grid-fifo"
sampler = { type = "grid", resolution = 3, shuffle = false }
scheduler = { type = "fifo" }

[[strategies]]
name = "grid-asha"
sampler = { type = "grid", resolution = 3, shuffle = false }
scheduler = { type = "asha", eta = 3 }

[[strategies]]
name = "grid-hyperband"
sampler = { type = "grid", resolution = 3, shuffle = false }
scheduler = { type = "hyperband", eta = 3 }
"#;

/// (configuration, step) → metrics as bits.
type Values = HashMap<(String, u32), Vec<u64>>;

/// (configuration, step) → metrics of the steps that completed with finite metrics or
/// diverged (NaN compared by bits).
fn values(trace: &Trace) -> Values {
    let mut map = HashMap::new();
    for row in 0..trace.len() {
        if trace.status[row] == EpochStatus::Failed {
            continue;
        }
        let config = &trace.configs[trace.trial[row] as usize];
        let key = format!("{:?}", config.values());
        map.insert((key, trace.epoch[row]), trace.metrics_of(row).iter().map(|m| m.to_bits()).collect());
    }
    map
}

/// Simulates every cell of `benchmark` (a `[[benchmarks]]` table) under seeds 0 and 1, and
/// checks common random numbers across the strategies.
fn check(name: &str, benchmark: &str) {
    check_in(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../../experiments/crn.toml"), name, benchmark, STRATEGIES);
}

/// As [`check`], for an experiment file at `root` with `strategies`.
fn check_in(root: &Path, name: &str, benchmark: &str, strategies: &str) {
    let text = format!("seeds = 2\nworkers = 3\n[budget]\ntrials = 40\n[[benchmarks]]\n{benchmark}\n{strategies}");
    let experiment = Experiment::parse(root, &text).unwrap_or_else(|e| panic!("{name}: {e}"));
    let mut by_seed: Vec<Vec<Values>> = vec![Vec::new(), Vec::new()];
    for cell in cells(&experiment) {
        let outcome = simulate_cell(&experiment, &cell).unwrap_or_else(|e| panic!("{name}: {e}"));
        by_seed[cell.seed as usize].push(values(&outcome.trace));
    }
    for (seed, strategies) in by_seed.iter().enumerate() {
        let mut shared = 0;
        for a in 0..strategies.len() {
            for b in a + 1..strategies.len() {
                for (key, metrics) in &strategies[a] {
                    if let Some(other) = strategies[b].get(key) {
                        assert_eq!(metrics, other, "{name}, seed {seed}: strategies {a} and {b} saw different values at step {}", key.1);
                        shared += 1;
                    }
                }
            }
        }
        // The tiny recorded table has 3 configurations × 3 steps.
        let need = if name.starts_with("recorded") { 6 } else { 20 };
        assert!(shared >= need, "{name}, seed {seed}: only {shared} shared (configuration, step) pairs");
    }
    // Another seed draws other noise (on benchmarks that have noise).
    let differs = by_seed[0][0].iter().any(|(key, metrics)| by_seed[1][0].get(key).is_some_and(|other| other != metrics));
    let noiseless = ["pbt_toy", "branin", "hartmann6", "counting_ones", "recorded with repeats"];
    assert!(differs || noiseless.contains(&name), "{name}: seeds 0 and 1 saw the same values");
}

#[test]
fn every_benchmark_type_gives_one_configuration_the_same_curve_under_every_strategy() {
    check(
        "synthetic",
        "type = \"synthetic\"\nmax_epochs = 27\nnoise = 0.02\ndivergence = { fraction = 0.2 }\noverhead = { startup = 5, resume = 8, shutdown = 1, noise = 0.3 }",
    );
    check("branin", "type = \"branin\"");
    check("hartmann6", "type = \"hartmann6\"");
    check("counting_ones", "type = \"counting_ones\"\ncategorical = 4\ncontinuous = 4");
    check("pbt_toy", "type = \"pbt_toy\"");
    check("training_dynamics", "type = \"training_dynamics\"\nepochs = 27\nnoise = 0.05");
    check("zdt", "type = \"zdt\"\nsteps = 27\nvariables = 6\nnoise = 0.01");
    check("dtlz2", "type = \"dtlz2\"\nvariables = 6\nnoise = 0.01");
    // A recorded table with two repeats of a configuration: the repeat replayed is the
    // configuration's, whichever trial asks (random search draws each of the three
    // configurations many times, under other trial ids in each strategy).
    let dir = tempfile::tempdir().unwrap();
    hposim_curves::recorded::example::write_example(dir.path()).unwrap();
    let random = "[[strategies]]\nname = \"random-fifo\"\nsampler = { type = \"random\" }\n[[strategies]]\nname = \"random-asha\"\nsampler = { type = \"random\" }\nscheduler = { type = \"asha\", eta = 3 }\n";
    check_in(
        &dir.path().join("crn.toml"),
        "recorded with repeats",
        "type = \"recorded\"\npath = \"tiny.parquet\"\nlookup = \"recorded\"",
        random,
    );
}
