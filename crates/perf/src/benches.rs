//! The hot paths the performance gate counts, each a setup (not counted) and a measured call
//! (counted) that returns how many units of work it did: simulated epochs for the simulator,
//! one for everything else. Inputs are fixed (seeded streams, stateless draws), so a benchmark
//! executes the same instructions on every run; sizes are those the issue names and the
//! criterion benchmarks time (`crates/*/benches`), scaled so that the whole gate runs in a few
//! minutes under callgrind.

use hposim_core::encoding::CategoricalEncoding;
use hposim_core::rng::stateless_uniform;
use hposim_core::{
    Budget, Choice, Config, EpochStatus, Objective, Observation, ParamSpec, Rng, Row, SearchSpace, Trace, TrialOutcome, Value,
};
use hposim_curves::{BenchmarkSpec, Builder};
use hposim_samplers::random::RandomSampler;
use hposim_samplers::{Sampler, SamplerSpec};
use hposim_schedulers::{StrategySpec, build_strategy};
use hposim_sim::{SimSettings, simulate};
use rand::SeedableRng;
use std::hint::black_box;
use std::path::Path;

/// The measured call of a prepared benchmark: returns its units of work.
pub type Work = Box<dyn FnMut() -> u64>;

/// One benchmark of the gate.
pub struct Bench {
    /// Its name (`area/what`), the key of its baseline.
    pub name: &'static str,
    /// What one unit of its work is (`epoch` or `call`).
    pub unit: &'static str,
    /// Builds its input and returns the call to count.
    pub prepare: fn() -> Result<Work, String>,
}

/// Every benchmark, in the order the table shows them.
pub const BENCHES: &[Bench] = &[
    Bench { name: "simulator/fifo_random", unit: "epoch", prepare: || simulator(SYNTHETIC, 2.6e6, "type = 'fifo'") },
    Bench { name: "simulator/asha_random", unit: "epoch", prepare: || simulator(SYNTHETIC, 2.6e6, "type = 'asha'\nmin_fidelity = 1") },
    Bench {
        name: "simulator/hyperband_random",
        unit: "epoch",
        prepare: || simulator(SYNTHETIC, 2.6e6, "type = 'hyperband'\nmin_fidelity = 1"),
    },
    Bench { name: "simulator/pbt", unit: "epoch", prepare: || simulator(DYNAMICS, 1000.0, "type = 'pbt'\npopulation = 24") },
    Bench { name: "simulator/fifo_random_decisions", unit: "epoch", prepare: || decisions(SYNTHETIC, 6.5e5, "type = 'fifo'") },
    Bench {
        name: "simulator/hyperband_random_decisions",
        unit: "epoch",
        prepare: || decisions(SYNTHETIC, 6.5e5, "type = 'hyperband'\nmin_fidelity = 1"),
    },
    Bench { name: "suggest/tpe_200", unit: "call", prepare: || suggestion("type = 'tpe'", 200) },
    Bench { name: "suggest/tpe_1000", unit: "call", prepare: || suggestion("type = 'tpe'", 1000) },
    Bench { name: "suggest/gp_100", unit: "call", prepare: || suggestion("type = 'gp'", 100) },
    Bench { name: "suggest/gp_200", unit: "call", prepare: || suggestion("type = 'gp'", 200) },
    Bench { name: "suggest/bohb_kde_200", unit: "call", prepare: || suggestion("type = 'bohb'\nrandom_fraction = 0.0", 200) },
    Bench { name: "suggest/motpe_200", unit: "call", prepare: || suggestion("type = 'motpe'", 200) },
    Bench { name: "study/tpe_200", unit: "trial", prepare: || study("type = 'tpe'", 200) },
    Bench { name: "hypervolume/1000_points_2d", unit: "call", prepare: || hypervolume(1000, 2) },
    Bench { name: "hypervolume/1000_points_3d", unit: "call", prepare: || hypervolume(1000, 3) },
    Bench { name: "hypervolume/300_points_4d", unit: "call", prepare: || hypervolume(300, 4) },
    Bench { name: "hypervolume/200_points_5d", unit: "call", prepare: || hypervolume(200, 5) },
    Bench { name: "hypervolume/1000_front_4d", unit: "call", prepare: || hypervolume_front(1000, 4) },
    Bench { name: "hypervolume/100_front_5d", unit: "call", prepare: || hypervolume_front(100, 5) },
    Bench { name: "trace/write_10000_rows", unit: "call", prepare: write_trace },
    Bench { name: "trace/read_10000_rows", unit: "call", prepare: read_trace },
    Bench { name: "statistics/trajectory_10000_rows", unit: "call", prepare: trajectory },
    Bench { name: "statistics/bootstrap_median_20_seeds", unit: "call", prepare: bootstrap },
    Bench { name: "statistics/wilcoxon_20_pairs", unit: "call", prepare: wilcoxon },
    Bench { name: "statistics/mann_whitney_20_vs_20", unit: "call", prepare: mann_whitney },
    Bench { name: "statistics/friedman_20_blocks_8_strategies", unit: "call", prepare: friedman },
];

/// The benchmark named `name`.
pub fn find(name: &str) -> Option<&'static Bench> {
    BENCHES.iter().find(|b| b.name == name)
}

/// The synthetic benchmark (default space, exponential curves, 50 epochs of about 130 s).
const SYNTHETIC: &str = "name = 'synthetic'\ntype = 'synthetic'\nmax_epochs = 50";

/// The training-dynamics benchmark of `experiments/pbt.toml`, whose trials can take another's
/// checkpoint and change their configuration (population-based training needs it).
const DYNAMICS: &str = "name = 'training-dynamics'\ntype = 'training_dynamics'\nseconds_per_epoch = 0.008";

/// One cell of random sampling behind `scheduler` on the benchmark `bench` (a
/// `[[benchmarks]]` table), 4 workers, checkpointing, until `compute` seconds of compute (about
/// 20 000 epochs; population-based training ends earlier, once its population of 24 has
/// trained to the end, about 2 500 epochs): the event loop, the trial book and the scheduler's
/// decisions per simulated epoch.
fn simulator(bench: &str, compute: f64, scheduler: &str) -> Result<Work, String> {
    let budget = Budget { compute_seconds: Some(compute), ..Budget::default() };
    cell(bench, budget, scheduler, hposim_core::TraceLevel::Steps)
}

/// [`simulator`] at the decisions trace level with a wall-clock budget of `wallclock` seconds
/// (about the same epochs as the compute budget of the others): the trial runs from decision to
/// decision in one event.
fn decisions(bench: &str, wallclock: f64, scheduler: &str) -> Result<Work, String> {
    let budget = Budget { wallclock_seconds: Some(wallclock), ..Budget::default() };
    cell(bench, budget, scheduler, hposim_core::TraceLevel::Decisions)
}

/// The call that simulates one cell of [`simulator`] and [`decisions`].
fn cell(bench: &str, budget: Budget, scheduler: &str, trace: hposim_core::TraceLevel) -> Result<Work, String> {
    let spec: BenchmarkSpec = toml::from_str(bench).map_err(|e| e.to_string())?;
    let bench = Builder::new(Path::new(".")).build(&spec).map_err(|e| e.to_string())?;
    let strategy: StrategySpec = toml::from_str(&format!("name = 'bench'\nsampler = {{ type = 'random' }}\n[scheduler]\n{scheduler}\n"))
        .map_err(|e| e.to_string())?;
    let settings = SimSettings { workers: 4, budget, checkpointing: true, launch_overhead: true, trace };
    // The strategy is built inside the measured call (its set-up is part of a cell's cost and
    // small beside 20 000 epochs), so the call can run again from the same state.
    Ok(Box::new(move || {
        let mut rng = Rng::seed_from_u64(3);
        let built = build_strategy(&strategy, bench.space(), bench.objectives(), bench.fidelity(), None, None, &mut rng);
        let outcome = built
            .and_then(|mut scheduler| simulate(bench.as_ref(), scheduler.as_mut(), &settings, &mut rng, 11).map_err(|e| e.to_string()));
        match outcome {
            Ok(outcome) => black_box(outcome.stats.epochs),
            Err(e) => failed(&e),
        }
    }))
}

/// A measured call that failed: says why on stderr (which the gate shows) and reports no work,
/// which the gate refuses.
fn failed(error: &str) -> u64 {
    eprintln!("the benchmark failed: {error}");
    0
}

/// The 10-dimensional mixed space of the criterion benchmark `crates/samplers/benches/suggest.rs`.
fn space() -> Result<SearchSpace, String> {
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
    .map_err(|e| e.to_string())
}

/// Two smooth losses with optima at different places (as in the criterion benchmark).
fn losses(space: &SearchSpace, config: &Config) -> [f64; 2] {
    let x = space.encode(config, CategoricalEncoding::Index);
    let first = x.iter().enumerate().map(|(i, v)| (v - 0.1 * (i as f64 % 7.0) - 0.2).powi(2)).sum();
    let second = x.iter().enumerate().map(|(i, v)| (v - 0.8 + 0.05 * (i as f64 % 5.0)).powi(2)).sum();
    [first, second]
}

/// One suggestion of the sampler `spec` after `n` observations of random configurations at
/// full fidelity (two objectives; single-objective samplers use the first). The observations
/// are random rather than the sampler's own, so that preparing GP-BO with 200 of them does not
/// cost 200 suggestions under callgrind; each call suggests from the same state.
fn suggestion(spec: &str, n: u32) -> Result<Work, String> {
    let space = space()?;
    let spec: SamplerSpec = toml::from_str(spec).map_err(|e| e.to_string())?;
    let objectives = [Objective::minimize("loss"), Objective::minimize("cost")];
    let mut rng = Rng::seed_from_u64(1);
    let mut sampler: Box<dyn Sampler> = hposim_samplers::build(&spec, &space, &objectives, &mut rng).map_err(|e| e.to_string())?;
    let mut random = RandomSampler::new(space.clone());
    for trial in 0..n {
        let config = random.suggest(&mut rng).ok_or("the random sampler ran out of configurations")?;
        sampler.observe(&Observation { trial, config: &config, fidelity: 1, metrics: &losses(&space, &config), time: 0.0 });
    }
    Ok(Box::new(move || {
        let mut rng = Rng::seed_from_u64(2);
        black_box(sampler.suggest(&mut rng));
        1
    }))
}

/// A whole study of the sampler `spec`, `trials` suggestions each observed before the next
/// (the sampler's own proposals, as `study/*` of `crates/samplers/benches/suggest.rs` and the
/// per-trial figure compared with Optuna): what an estimator keeps from one proposal to the next
/// counts here, where a single suggestion after observations of random configurations starts
/// cold.
fn study(spec: &str, trials: u32) -> Result<Work, String> {
    let space = space()?;
    let spec: SamplerSpec = toml::from_str(spec).map_err(|e| e.to_string())?;
    let objectives = [Objective::minimize("loss"), Objective::minimize("cost")];
    let mut fresh = Some(hposim_samplers::build(&spec, &space, &objectives, &mut Rng::seed_from_u64(1)).map_err(|e| e.to_string())?);
    Ok(Box::new(move || {
        let mut rng = Rng::seed_from_u64(3);
        let Some(mut sampler) = fresh.take() else { return 0 };
        for trial in 0..trials {
            let Some(config) = sampler.suggest(&mut rng) else { return u64::from(trial) };
            sampler.observe(&Observation { trial, config: &config, fidelity: 1, metrics: &losses(&space, &config), time: 0.0 });
        }
        u64::from(trials)
    }))
}

/// `n` points in `m` objectives, uniform in the unit cube (as `crates/eval/benches/pareto.rs`).
fn points(n: usize, m: usize) -> Vec<Vec<f64>> {
    (0..n).map(|i| (0..m).map(|k| stateless_uniform(m as u64, (i * m + k) as u64)).collect()).collect()
}

/// The exact hypervolume of `n` random points in `m` objectives, reference point 1.1 in each.
fn hypervolume(n: usize, m: usize) -> Result<Work, String> {
    let p = points(n, m);
    let reference = vec![1.1; m];
    Ok(Box::new(move || {
        black_box(hposim_core::pareto::hypervolume::minimising(&p, &reference));
        1
    }))
}

/// The exact hypervolume of `n` mutually non-dominated points in `m` objectives: uniform points
/// divided by their Euclidean norm (the "sphere" sets of `crates/eval/benches/pareto.rs`, where
/// every point counts), reference point 1.1 in each.
fn hypervolume_front(n: usize, m: usize) -> Result<Work, String> {
    let seed = 100 + m as u64;
    let p: Vec<Vec<f64>> = (0..n)
        .map(|i| {
            let u: Vec<f64> = (0..m).map(|k| stateless_uniform(seed, (i * m + k) as u64)).collect();
            let norm = u.iter().map(|v| v * v).sum::<f64>().sqrt();
            u.iter().map(|v| v / norm).collect()
        })
        .collect();
    let reference = vec![1.1; m];
    Ok(Box::new(move || {
        black_box(hposim_core::pareto::hypervolume::minimising(&p, &reference));
        1
    }))
}

/// The one-parameter space of [`trace`]'s configurations.
fn trace_space() -> Result<SearchSpace, String> {
    SearchSpace::new(&[ParamSpec::Float { name: "x".into(), low: 0.0, high: 1.0, log: false, condition: None }]).map_err(|e| e.to_string())
}

/// A trace of `trials` trials of 50 epochs, one after another (as `crates/eval/benches/statistics.rs`).
fn trace(trials: u32, seed: u64) -> Trace {
    let mut t = Trace::with_capacity(vec![Objective::minimize("loss")], trials as usize * 50);
    let mut clock = 0.0;
    for trial in 0..trials {
        let level = stateless_uniform(seed, u64::from(trial));
        t.configs.push(Config::new(vec![Value::Float(level)]));
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

/// Writing a 10 000-row trace to Parquet in memory, as `hposim run` writes a cell's.
fn write_trace() -> Result<Work, String> {
    let t = trace(200, 1);
    let space = trace_space()?;
    Ok(Box::new(move || {
        let mut bytes = Vec::new();
        match hposim_results::write_trace(&t, &space, None, &mut bytes) {
            Ok(()) => black_box(bytes.len() as u64).min(1),
            Err(e) => failed(&e.to_string()),
        }
    }))
}

/// Reading a 10 000-row trace back from Parquet, as `hposim report` reads a cell's.
fn read_trace() -> Result<Work, String> {
    let t = trace(200, 1);
    let space = trace_space()?;
    let dir = crate::scratch::Scratch::new().map_err(|e| e.to_string())?;
    let path = dir.path().join("trace.parquet");
    let mut file = std::fs::File::create(&path).map_err(|e| e.to_string())?;
    hposim_results::write_trace(&t, &space, None, &mut file).map_err(|e| e.to_string())?;
    let objectives = t.objectives.clone();
    Ok(Box::new(move || {
        let _keep = &dir;
        match hposim_results::read_trace(&path, &objectives) {
            Ok(read) => black_box(read.len() as u64).min(1),
            Err(e) => failed(&e.to_string()),
        }
    }))
}

/// The incumbent trajectory of a 10 000-row trace (highest-fidelity convention).
fn trajectory() -> Result<Work, String> {
    let t = trace(200, 1);
    Ok(Box::new(move || {
        let run = hposim_eval::incumbent::trajectory(&t, hposim_eval::Convention::HighestFidelity, |v| v);
        black_box(run);
        1
    }))
}

/// `n` stateless uniform draws of stream `seed`.
fn sample(seed: u64, n: u64) -> Vec<f64> {
    (0..n).map(|i| stateless_uniform(seed, i)).collect()
}

/// A percentile-bootstrap interval of the median of 20 seeds (1000 resamples, the report's).
fn bootstrap() -> Result<Work, String> {
    let values = sample(3, 20);
    Ok(Box::new(move || {
        let mut rng = Rng::seed_from_u64(0);
        black_box(hposim_eval::bootstrap::bootstrap(&values, 0.95, &mut rng, hposim_eval::bootstrap::median));
        1
    }))
}

/// The exact Wilcoxon signed-rank test of 20 pairs.
fn wilcoxon() -> Result<Work, String> {
    let (x, y) = (sample(3, 20), sample(4, 20));
    Ok(Box::new(move || {
        black_box(hposim_eval::wilcoxon::wilcoxon(&x, &y));
        1
    }))
}

/// The Mann–Whitney U test of 20 against 20 values.
fn mann_whitney() -> Result<Work, String> {
    let (x, y) = (sample(3, 20), sample(4, 20));
    Ok(Box::new(move || {
        black_box(hposim_eval::mann_whitney::mann_whitney(&x, &y));
        1
    }))
}

/// The Friedman test of 20 blocks (seeds) × 8 strategies.
fn friedman() -> Result<Work, String> {
    let rows: Vec<Vec<f64>> = (0..20).map(|i| (0..8).map(|j| stateless_uniform(5, i * 8 + j)).collect()).collect();
    Ok(Box::new(move || {
        black_box(hposim_eval::friedman::friedman(&rows));
        1
    }))
}

#[cfg(test)]
mod tests {
    use super::BENCHES;
    use std::collections::BTreeSet;

    #[test]
    fn every_benchmark_prepares_and_does_work() {
        for bench in BENCHES {
            let mut work = (bench.prepare)().unwrap_or_else(|e| panic!("{}: {e}", bench.name));
            let units = work();
            assert!(units > 0, "{} did no work", bench.name);
            // The simulator's benchmarks are sized for about 20 000 epochs (PBT: its population).
            if bench.unit == "epoch" {
                assert!((2_000..40_000).contains(&units), "{}: {units} epochs", bench.name);
            }
        }
    }

    #[test]
    fn the_committed_baselines_cover_exactly_the_benchmarks() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("baseline.json");
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let baseline: crate::gate::Baseline = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let committed: BTreeSet<&str> = baseline.benchmarks.keys().map(String::as_str).collect();
        let listed: BTreeSet<&str> = BENCHES.iter().map(|b| b.name).collect();
        assert_eq!(committed, listed, "run `just bench-bless` after adding or removing a benchmark");
        for bench in BENCHES {
            assert_eq!(baseline.benchmarks[bench.name].unit, bench.unit, "{}", bench.name);
        }
        let names: BTreeSet<&str> = BENCHES.iter().map(|b| b.name).collect();
        assert_eq!(names.len(), BENCHES.len(), "benchmark names are unique");
    }
}
