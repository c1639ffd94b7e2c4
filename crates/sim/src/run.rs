//! Running an experiment: the grid of cells (benchmark × strategy × seed) in parallel with
//! rayon, each cell single-threaded and deterministic, each finished cell written atomically
//! (temporary file, then rename) so that an interrupted run loses nothing and a rerun skips
//! finished cells.
//!
//! A cell's file stem is `<benchmark>__<strategy>__s<seed>__<hash>`, the hash being XXH3-64 of
//! every setting that can change its result (benchmark and strategy specifications, seed,
//! workers, checkpointing, budget, experiment seed), the trace format version and hposim's
//! version (so results of older code are not reused), and for a recorded benchmark the hash of
//! its data files (so re-recorded data is not mistaken for the old). Editing an experiment
//! therefore reruns exactly the cells it changes. Its random streams derive from the
//! experiment seed and `"<benchmark>"/"<strategy>"/<seed>`, so they do not depend on the thread
//! that runs it or on the other cells.

use crate::budget::Budget;
use crate::experiment::{Experiment, StrategySpec};
use crate::simulator::{CellOutcome, SimError, SimSettings, simulate};
use crate::trace::{TRACE_FORMAT_VERSION, Trace};
use hposim_core::nearest::NearestIndex;
use hposim_core::rng::{stable_hash, stream, stream_seed};
use hposim_core::{
    BenchmarkReference, CellSummary, Direction, EpochStatus, ExpectedCell, Fidelity, MANIFEST_FILE, Manifest, Objective, Rng, SearchSpace,
};
use hposim_curves::median_random::{MEDIAN_RANDOM_SAMPLES, median_random_final};
use hposim_curves::{Benchmark, BenchmarkSpec};
use hposim_samplers::restricted::Restricted;
use hposim_samplers::trial_limit::TrialLimit;
use hposim_schedulers::Scheduler;
use rayon::prelude::*;
use serde::Serialize;
use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// One cell of the grid.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cell {
    /// Index into the experiment's benchmarks.
    pub benchmark: usize,
    /// Index into the experiment's strategies.
    pub strategy: usize,
    /// Repetition index.
    pub seed: u32,
    /// File stem in `cells/`: names, seed and settings hash.
    pub id: String,
    /// Identity of the cell's random streams: `"<benchmark>"/"<strategy>"/<seed>`.
    pub stream: String,
}

#[derive(Serialize)]
struct CellKey<'a> {
    format: u32,
    hposim: &'static str,
    experiment_seed: u64,
    seed: u32,
    workers: u32,
    checkpointing: bool,
    budget: &'a Budget,
    benchmark: &'a BenchmarkSpec,
    /// The hash of a recorded benchmark's data, so new data reruns its cells.
    #[serde(skip_serializing_if = "Option::is_none")]
    data: Option<u64>,
    strategy: &'a StrategySpec,
}

/// Where and how to run.
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// Results directory (`cells/` and `summary.json` go there).
    pub out_dir: PathBuf,
    /// Worker threads for cells (each cell uses one).
    pub threads: usize,
}

/// What a run did.
#[derive(Clone, Debug)]
pub struct RunReport {
    /// One summary per cell, in grid order (benchmark, strategy, seed).
    pub summaries: Vec<CellSummary>,
    /// Cells simulated now.
    pub ran: usize,
    /// Cells found finished and reused.
    pub reused: usize,
    /// Steps simulated now.
    pub epochs_simulated: u64,
}

/// A run that could not complete.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// Reading or writing a results file failed.
    #[error("{}: {error}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause (shown in the message, so not a `source`: it would be printed twice).
        error: std::io::Error,
    },
    /// Writing a trace failed.
    #[error("{}: cannot write the trace: {message}", path.display())]
    Trace {
        /// The file.
        path: PathBuf,
        /// The cause.
        message: String,
    },
    /// A strategy broke the simulator's protocol in a cell.
    #[error("cell {cell}: {error}")]
    Sim {
        /// The cell.
        cell: String,
        /// The cause.
        error: SimError,
    },
    /// A strategy could not be built for a cell.
    #[error("cell {cell}: {message}")]
    Strategy {
        /// The cell.
        cell: String,
        /// The cause.
        message: String,
    },
    /// The thread pool could not start.
    #[error("cannot start {threads} threads: {message}")]
    Threads {
        /// Threads asked for.
        threads: usize,
        /// The cause.
        message: String,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> RunError + '_ {
    move |error| RunError::Io { path: path.to_owned(), error }
}

/// File-name-safe form of a name (letters, digits, `-`, `_` and `.` kept, the rest `_`).
pub fn safe_name(name: &str) -> String {
    name.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' { c } else { '_' }).collect()
}

/// The experiment's cells in grid order.
pub fn cells(experiment: &Experiment) -> Vec<Cell> {
    let spec = &experiment.spec;
    let mut cells = Vec::new();
    for (b, bench) in spec.benchmarks.iter().enumerate() {
        for (s, strategy) in spec.strategies.iter().enumerate() {
            for seed in 0..spec.seeds {
                let key = CellKey {
                    format: TRACE_FORMAT_VERSION,
                    hposim: env!("CARGO_PKG_VERSION"),
                    experiment_seed: spec.seed,
                    seed,
                    workers: spec.workers,
                    checkpointing: experiment.checkpointing(s),
                    budget: &spec.budget,
                    benchmark: bench,
                    data: experiment.benchmarks[b].content_hash(),
                    strategy,
                };
                // Serialising plain data structures cannot fail; an empty key would only
                // weaken the cache, never the results.
                let json = serde_json::to_vec(&key).unwrap_or_default();
                let hash = stable_hash(0, &[&json]);
                cells.push(Cell {
                    benchmark: b,
                    strategy: s,
                    seed,
                    id: format!("{}__{}__s{seed:03}__{hash:016x}", safe_name(&bench.name()), safe_name(&strategy.name)),
                    // Quoted names keep the identity unambiguous whatever the names contain.
                    stream: format!("{:?}/{:?}/{seed}", bench.name(), strategy.name),
                });
            }
        }
    }
    cells
}

/// The manifest of `experiment`'s results directory: its cells, and per benchmark the values
/// that regret is judged against (the best known value, and the median random configuration's
/// final value from [`MEDIAN_RANDOM_SAMPLES`] prior draws on the stream
/// `"<benchmark>"/"median-random"`).
pub fn manifest(experiment: &Experiment, cells: &[Cell]) -> Manifest {
    let spec = &experiment.spec;
    let benchmarks = experiment
        .benchmarks
        .iter()
        .map(|bench| {
            let objective = bench.objectives().first();
            let mut rng = stream(spec.seed, &format!("{:?}/median-random", bench.name()), "reference");
            BenchmarkReference {
                name: bench.name().to_owned(),
                objective: objective.map(|o| o.name.clone()).unwrap_or_default(),
                direction: objective.map_or(Direction::Minimize, |o| o.direction),
                max_fidelity: bench.fidelity().max,
                best_known: bench.best_known().and_then(|b| b.first().copied()),
                median_random: median_random_final(bench.as_ref(), MEDIAN_RANDOM_SAMPLES, &mut rng),
                objectives: if bench.objectives().len() > 1 { bench.objectives().to_vec() } else { Vec::new() },
                hypervolume_reference: bench.hypervolume_reference().map(<[f64]>::to_vec),
            }
        })
        .collect();
    Manifest {
        trace_format: TRACE_FORMAT_VERSION,
        hposim: env!("CARGO_PKG_VERSION").to_owned(),
        kind: "simulated".to_owned(),
        experiment: experiment.name.clone(),
        description: spec.description.clone(),
        command: format!("hposim run {}", experiment.path.display()),
        workers: spec.workers,
        price_per_worker_hour: spec.price_per_worker_hour,
        benchmarks,
        strategies: spec.strategies.iter().map(|s| s.name.clone()).collect(),
        cells: cells
            .iter()
            .map(|c| ExpectedCell {
                cell: c.id.clone(),
                benchmark: experiment.benchmarks[c.benchmark].name().to_owned(),
                strategy: spec.strategies[c.strategy].name.clone(),
                seed: c.seed,
            })
            .collect(),
    }
}

/// Builds a strategy as a cell runs it: `strategy`'s sampler (confined to `recorded`, the
/// configurations of a recorded table replayed with `lookup = "recorded"`, and capped at
/// `trials` proposals) behind its scheduler, for a benchmark with `space`, `objectives` and
/// `fidelity`. The simulator and the runner of real training both build strategies here, so
/// the same seed gives the same strategy in both. Errors name the key (`sampler.…`,
/// `scheduler.…`).
pub fn build_strategy(
    strategy: &StrategySpec,
    space: &SearchSpace,
    objectives: &[Objective],
    fidelity: &Fidelity,
    recorded: Option<Arc<NearestIndex>>,
    trials: Option<u64>,
    rng: &mut Rng,
) -> Result<Box<dyn Scheduler>, String> {
    let ranked = strategy.ranked_objectives(objectives);
    let mut sampler = hposim_samplers::build(&strategy.sampler, space, &ranked, rng).map_err(|e| format!("sampler.{e}"))?;
    if let Some(set) = recorded {
        sampler = Box::new(Restricted::new(sampler, space, set));
    }
    if let Some(limit) = trials {
        sampler = Box::new(TrialLimit::new(sampler, limit));
    }
    let scheduler =
        hposim_schedulers::build(&strategy.scheduler, sampler, space, fidelity, &ranked).map_err(|e| format!("scheduler.{e}"))?;
    Ok(match &strategy.weights {
        Some(weights) => Box::new(hposim_schedulers::scalarised::Scalarised::new(scheduler, objectives.to_vec(), weights.clone())),
        None => scheduler,
    })
}

/// Simulates one cell (nothing is written).
pub fn simulate_cell(experiment: &Experiment, cell: &Cell) -> Result<CellOutcome, RunError> {
    let spec = &experiment.spec;
    let bench: &dyn Benchmark = experiment.benchmarks[cell.benchmark].as_ref();
    let settings =
        SimSettings { workers: spec.workers, budget: spec.budget.clone(), checkpointing: experiment.checkpointing(cell.strategy) };
    simulate_strategy(bench, &spec.strategies[cell.strategy], spec.seed, &cell.stream, &settings, &cell.id)
}

/// Simulates `strategy` on `bench` under `settings` with the random streams of cell
/// `cell_stream` of an experiment seeded `experiment_seed` (errors name `cell_id`): what a cell
/// runs, and what `hposim validate` predicts a live study with.
pub fn simulate_strategy(
    bench: &dyn Benchmark,
    strategy: &StrategySpec,
    experiment_seed: u64,
    cell_stream: &str,
    settings: &SimSettings,
    cell_id: &str,
) -> Result<CellOutcome, RunError> {
    let mut rng = stream(experiment_seed, cell_stream, "strategy");
    let mut scheduler = build_strategy(
        strategy,
        bench.space(),
        bench.objectives(),
        bench.fidelity(),
        bench.recorded_configs(),
        settings.budget.trials,
        &mut rng,
    )
    .map_err(|message| RunError::Strategy { cell: cell_id.to_owned(), message })?;
    simulate(bench, scheduler.as_mut(), settings, &mut rng, stream_seed(experiment_seed, cell_stream, "noise"))
        .map_err(|error| RunError::Sim { cell: cell_id.to_owned(), error })
}

/// The summary record of a simulated cell.
pub fn summarise(experiment: &Experiment, cell: &Cell, outcome: &CellOutcome) -> CellSummary {
    let bench = experiment.benchmarks[cell.benchmark].as_ref();
    let names =
        CellNames { cell: &cell.id, benchmark: bench.name(), strategy: &experiment.spec.strategies[cell.strategy].name, seed: cell.seed };
    let best_known = bench.best_known().and_then(|b| b.first().copied());
    let mut summary = summary_of(&names, bench.fidelity().max, best_known, experiment.checkpointing(cell.strategy), outcome);
    if let Some(reference) = bench.hypervolume_reference() {
        add_hypervolume(&mut summary, &outcome.trace, reference);
    }
    summary
}

/// Adds to `summary` the hypervolume of `trace`'s results at full fidelity (every objective)
/// with respect to `reference`, and how many of them lie outside the reference box.
pub fn add_hypervolume(summary: &mut CellSummary, trace: &Trace, reference: &[f64]) {
    let directions: Vec<_> = trace.objectives.iter().map(|o| o.direction).collect();
    let points: Vec<Vec<f64>> = (0..trace.len())
        .filter(|&r| trace.status[r] == EpochStatus::Ok && trace.epoch[r] >= summary.max_fidelity)
        .map(|r| trace.metrics_of(r).to_vec())
        .collect();
    if points.is_empty() {
        return; // No result at full fidelity: no hypervolume, as no final regret.
    }
    let hv = hposim_core::pareto::hypervolume::hypervolume(&points, reference, &directions);
    // Benchmarks define valid references (one finite coordinate per objective).
    debug_assert!(hv.is_ok(), "{hv:?}");
    if let Ok(hv) = hv {
        summary.hypervolume = Some(hv.volume);
        summary.outside_reference = Some(hv.outside as u64);
        summary.hypervolume_reference = Some(reference.to_vec());
    }
}

/// What a summary is about: the cell's file stem, its benchmark, strategy and seed.
#[derive(Clone, Copy, Debug)]
pub struct CellNames<'a> {
    /// The cell's file stem.
    pub cell: &'a str,
    /// Benchmark name.
    pub benchmark: &'a str,
    /// Strategy name.
    pub strategy: &'a str,
    /// Repetition index.
    pub seed: u32,
}

/// The summary record of a cell's `outcome` (simulated or live) on a benchmark whose full
/// fidelity is `max` and whose best known value of the first objective is `best_known`.
pub fn summary_of(names: &CellNames<'_>, max: u32, best_known: Option<f64>, checkpointing: bool, outcome: &CellOutcome) -> CellSummary {
    let trace: &Trace = &outcome.trace;
    let objective = &trace.objectives[0];
    let mut best: Option<f64> = None;
    let mut best_full: Option<f64> = None;
    for row in 0..trace.len() {
        if trace.status[row] != EpochStatus::Ok {
            continue;
        }
        let value = trace.metrics_of(row)[0];
        if best.is_none_or(|b| objective.better(value, b)) {
            best = Some(value);
        }
        if trace.epoch[row] >= max && best_full.is_none_or(|b| objective.better(value, b)) {
            best_full = Some(value);
        }
    }
    let stats = &outcome.stats;
    CellSummary {
        trace_format: TRACE_FORMAT_VERSION,
        cell: names.cell.to_owned(),
        benchmark: names.benchmark.to_owned(),
        strategy: names.strategy.to_owned(),
        seed: names.seed,
        objective: objective.name.clone(),
        direction: objective.direction,
        max_fidelity: max,
        trials: stats.trials,
        epochs: stats.epochs,
        full_evaluations: stats.full_evaluations,
        diverged_trials: stats.diverged_trials,
        compute_seconds: stats.compute_seconds,
        wallclock_seconds: stats.wallclock_seconds,
        idle_seconds: stats.idle_seconds,
        full_training_seconds: stats.full_training_seconds,
        compute_with_checkpointing_seconds: stats.compute_with_checkpointing_seconds,
        compute_without_checkpointing_seconds: stats.compute_without_checkpointing_seconds,
        compute_saved: if stats.full_training_seconds > 0.0 { 1.0 - stats.compute_seconds / stats.full_training_seconds } else { 0.0 },
        best_objective: best,
        best_objective_max_fidelity: best_full,
        best_known,
        regret: best_full.zip(best_known).map(|(v, b)| objective.regret(v, b)),
        regret_any_fidelity: best.zip(best_known).map(|(v, b)| objective.regret(v, b)),
        cost_usd: None,
        full_training_cost_usd: None,
        checkpointing,
        sampler_warnings: stats.sampler_warnings,
        stop_reason: stats.stop_reason.as_str().to_owned(),
        hypervolume: None,
        hypervolume_reference: None,
        outside_reference: None,
    }
}

/// Writes `bytes` to `path` atomically (see [`write_atomically_with`]).
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), RunError> {
    write_atomically_with(path, |file, tmp| file.write_all(bytes).map_err(io(tmp)))
}

/// Creates `path` atomically: `write` fills a temporary file `<path>.tmp` in the same
/// directory, which is flushed to disk and then renamed over `path`, so `path` is either absent
/// or complete.
pub fn write_atomically_with(path: &Path, write: impl FnOnce(&mut File, &Path) -> Result<(), RunError>) -> Result<(), RunError> {
    let mut name = path.file_name().unwrap_or_default().to_owned();
    name.push(".tmp");
    let tmp = path.with_file_name(name);
    let mut file = File::create(&tmp).map_err(io(&tmp))?;
    write(&mut file, &tmp)?;
    file.sync_all().map_err(io(&tmp))?;
    fs::rename(&tmp, path).map_err(io(path))
}

fn trace_path(dir: &Path, cell: &Cell) -> PathBuf {
    dir.join(format!("{}.parquet", cell.id))
}

/// Where a cell's exploits (population-based training) are written, beside its trace.
pub fn exploits_path(dir: &Path, cell: &Cell) -> PathBuf {
    dir.join(format!("{}.exploits.json", cell.id))
}

fn summary_path(dir: &Path, cell: &Cell) -> PathBuf {
    dir.join(format!("{}.json", cell.id))
}

/// The summary of a cell finished by an earlier run, if its files are complete.
fn finished(dir: &Path, cell: &Cell) -> Option<CellSummary> {
    if !trace_path(dir, cell).is_file() {
        return None;
    }
    let text = fs::read_to_string(summary_path(dir, cell)).ok()?;
    serde_json::from_str(&text).ok()
}

/// Simulates `cell` and writes its trace, then its summary (the summary's presence marks the
/// cell finished, so it is written last).
fn run_cell(experiment: &Experiment, cell: &Cell, dir: &Path) -> Result<(CellSummary, u64), RunError> {
    let outcome = simulate_cell(experiment, cell)?;
    let summary = summarise(experiment, cell, &outcome);
    let bench = experiment.benchmarks[cell.benchmark].as_ref();
    let path = trace_path(dir, cell);
    write_atomically_with(&path, |file, tmp| {
        outcome.trace.write_parquet(bench.space(), file).map_err(|e| RunError::Trace { path: tmp.to_owned(), message: e.to_string() })
    })?;
    if !outcome.trace.exploits.is_empty() {
        let exploits = exploits_path(dir, cell);
        let json = serde_json::to_vec_pretty(&outcome.trace.exploits_json(bench.space()))
            .map_err(|e| RunError::Trace { path: exploits.clone(), message: e.to_string() })?;
        write_atomically(&exploits, &json)?;
    }
    let json = serde_json::to_vec_pretty(&summary).map_err(|e| RunError::Trace { path: path.clone(), message: e.to_string() })?;
    write_atomically(&summary_path(dir, cell), &json)?;
    Ok((summary, outcome.stats.epochs))
}

/// Runs every unfinished cell of `experiment` and writes `summary.json`. `on_cell` is called
/// (from worker threads) after each cell, with `true` if it was reused from an earlier run.
pub fn run(experiment: &Experiment, options: &RunOptions, on_cell: &(dyn Fn(&CellSummary, bool) + Sync)) -> Result<RunReport, RunError> {
    let dir = options.out_dir.join("cells");
    fs::create_dir_all(&dir).map_err(io(&dir))?;
    write_atomically(&options.out_dir.join("experiment.toml"), experiment.source.as_bytes())?;
    let all = cells(experiment);
    let manifest_path = options.out_dir.join(MANIFEST_FILE);
    let json = serde_json::to_vec_pretty(&manifest(experiment, &all))
        .map_err(|e| RunError::Trace { path: manifest_path.clone(), message: e.to_string() })?;
    write_atomically(&manifest_path, &json)?;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(options.threads)
        .build()
        .map_err(|e| RunError::Threads { threads: options.threads, message: e.to_string() })?;
    let results: Vec<(CellSummary, Option<u64>)> = pool.install(|| {
        all.par_iter()
            .map(|cell| {
                if let Some(summary) = finished(&dir, cell) {
                    on_cell(&summary, true);
                    return Ok((summary, None));
                }
                let (summary, epochs) = run_cell(experiment, cell, &dir)?;
                on_cell(&summary, false);
                Ok((summary, Some(epochs)))
            })
            .collect::<Result<_, RunError>>()
    })?;
    let price = experiment.spec.price_per_worker_hour;
    let ran = results.iter().filter(|(_, e)| e.is_some()).count();
    let epochs_simulated = results.iter().filter_map(|(_, e)| *e).sum();
    let summaries: Vec<CellSummary> = results
        .into_iter()
        .map(|(mut s, _)| {
            s.cost_usd = price.map(|p| p * s.compute_seconds / 3600.0);
            s.full_training_cost_usd = price.map(|p| p * s.full_training_seconds / 3600.0);
            s
        })
        .collect();
    let json = serde_json::to_vec_pretty(&summaries)
        .map_err(|e| RunError::Trace { path: options.out_dir.join("summary.json"), message: e.to_string() })?;
    write_atomically(&options.out_dir.join("summary.json"), &json)?;
    Ok(RunReport { reused: summaries.len() - ran, ran, epochs_simulated, summaries })
}
