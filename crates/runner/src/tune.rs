//! `hposim tune`: every strategy × seed of a live experiment, one study after another, each
//! written as a simulated cell is (`cells/<cell>.parquet` and `.json`, `summary.json`), so that
//! everything that reads simulated results reads live ones unchanged. A study's journal, trial
//! logs and checkpoints live in `live/<cell>/`.

use crate::executor::Executor;
use crate::local::LocalExecutor;
use crate::slurm::SlurmExecutor;
use crate::spec::{ExecutorSpec, LiveExperiment};
use crate::study::{StudyError, StudyOutcome, StudySetup, run_study};
use crate::tracker::Tracker;
use hposim_core::nearest::NearestIndex;
use hposim_core::rng::{stable_hash, stream};
use hposim_core::{BenchmarkReference, CellSummary, Direction, ExpectedCell, MANIFEST_FILE, Manifest, TRACE_FORMAT_VERSION};
use hposim_sim::run::{safe_name, write_atomically, write_atomically_with};
use hposim_sim::{CellNames, summary_of};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

/// A live study that could not run or be written.
#[derive(Debug, thiserror::Error)]
pub enum TuneError {
    /// The study failed.
    #[error("study {cell}: {error}")]
    Study {
        /// The cell.
        cell: String,
        /// The cause.
        error: StudyError,
    },
    /// A file could not be written.
    #[error("{}: {message}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// The cause.
        message: String,
    },
    /// The strategy could not be built, or a study is half done and `--resume` was not given.
    #[error("{0}")]
    Refused(String),
}

/// One study of a live experiment: a strategy and a seed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LiveCell {
    /// Index into the experiment's strategies.
    pub strategy: usize,
    /// Repetition.
    pub seed: u32,
    /// File stem.
    pub id: String,
    /// Identity of its random streams, as a simulated cell of a benchmark named like the
    /// training: `"<training>"/"<strategy>"/<seed>`.
    pub stream: String,
}

#[derive(Serialize)]
struct CellKey<'a> {
    hposim: &'static str,
    live: bool,
    experiment_seed: u64,
    seed: u32,
    workers: u32,
    checkpointing: bool,
    budget: &'a hposim_sim::Budget,
    training: &'a crate::spec::TrainingSpec,
    strategy: &'a hposim_sim::StrategySpec,
    restricted: Option<u64>,
}

/// The studies of `experiment`, strategy by strategy, seed by seed; `restricted` is the hash
/// of the configuration set the samplers are confined to (validation), if any.
pub fn live_cells(experiment: &LiveExperiment, restricted: Option<u64>) -> Vec<LiveCell> {
    let spec = &experiment.spec;
    let mut cells = Vec::new();
    for (s, strategy) in spec.strategies.iter().enumerate() {
        for seed in 0..spec.seeds {
            let key = CellKey {
                hposim: env!("CARGO_PKG_VERSION"),
                live: true,
                experiment_seed: spec.seed,
                seed,
                workers: spec.workers,
                checkpointing: experiment.checkpointing(s),
                budget: &spec.budget,
                training: &spec.training,
                strategy,
                restricted,
            };
            let json = serde_json::to_vec(&key).unwrap_or_default();
            let hash = stable_hash(0, &[&json]);
            cells.push(LiveCell {
                strategy: s,
                seed,
                id: format!("{}__{}__s{seed:03}__live{hash:016x}", safe_name(&spec.training.name), safe_name(&strategy.name)),
                stream: format!("{:?}/{:?}/{seed}", spec.training.name, strategy.name),
            });
        }
    }
    cells
}

/// The executor a live experiment asks for, with `slots` worker slots.
pub fn executor_for(experiment: &LiveExperiment, slots: usize) -> Box<dyn Executor> {
    let training = &experiment.spec.training;
    match &training.executor {
        ExecutorSpec::Local => {
            let gpus = if training.gpus_per_trial > 0 { crate::executor::detect_gpus() } else { Vec::new() };
            Box::new(LocalExecutor::with_gpus(slots, &gpus, training.gpus_per_trial))
        }
        ExecutorSpec::Slurm { partition, sbatch_args, poll_seconds } => Box::new(SlurmExecutor::new(
            slots,
            partition.clone(),
            sbatch_args.clone(),
            Duration::from_secs_f64(poll_seconds.unwrap_or(0.5)),
        )),
    }
}

/// Where and how to run live studies.
pub struct TuneOptions<'a> {
    /// Results directory.
    pub out_dir: PathBuf,
    /// Continue studies that an earlier run left unfinished.
    pub resume: bool,
    /// Confine every sampler to these configurations (validation replays a recording).
    pub restrict: Option<Arc<NearestIndex>>,
    /// Hash identifying `restrict`.
    pub restrict_hash: Option<u64>,
    /// Tracking, if any.
    pub tracker: Option<Box<dyn Tracker>>,
    /// Set on Ctrl-C.
    pub interrupt: &'a AtomicBool,
}

/// A finished live study.
#[derive(Debug)]
pub struct LiveResult {
    /// The cell.
    pub cell: LiveCell,
    /// Its summary.
    pub summary: CellSummary,
    /// The study's outcome (for a study finished by an earlier run, rebuilt from its journal;
    /// `None` if that journal is gone).
    pub outcome: Option<StudyOutcome>,
    /// Whether an earlier run finished it.
    pub reused: bool,
}

fn write_error(path: &Path) -> impl FnOnce(String) -> TuneError + '_ {
    move |message| TuneError::Write { path: path.to_owned(), message }
}

/// Runs (or reuses, or with `resume` continues) every study of `experiment`, calling
/// `on_cell` after each.
pub fn tune(
    experiment: &LiveExperiment,
    options: &mut TuneOptions<'_>,
    on_cell: &mut dyn FnMut(&LiveResult),
) -> Result<Vec<LiveResult>, TuneError> {
    let cells_dir = options.out_dir.join("cells");
    std::fs::create_dir_all(&cells_dir).map_err(|e| write_error(&cells_dir)(e.to_string()))?;
    let copy = options.out_dir.join("experiment.toml");
    write_atomically(&copy, experiment.source.as_bytes()).map_err(|e| write_error(&copy)(e.to_string()))?;
    let cells = live_cells(experiment, options.restrict_hash);
    let manifest_path = options.out_dir.join(MANIFEST_FILE);
    let json = serde_json::to_vec_pretty(&manifest(experiment, &cells)).map_err(|e| write_error(&manifest_path)(e.to_string()))?;
    write_atomically(&manifest_path, &json).map_err(|e| write_error(&manifest_path)(e.to_string()))?;
    let mut results = Vec::new();
    for cell in cells {
        let result = run_cell(experiment, &cell, options)?;
        on_cell(&result);
        results.push(result);
    }
    let summaries: Vec<&CellSummary> = results.iter().map(|r| &r.summary).collect();
    let path = options.out_dir.join("summary.json");
    let json = serde_json::to_vec_pretty(&summaries).map_err(|e| write_error(&path)(e.to_string()))?;
    write_atomically(&path, &json).map_err(|e| write_error(&path)(e.to_string()))?;
    Ok(results)
}

/// The manifest of a live study's results directory (`hposim report` reads it): the training
/// as the one benchmark, without a best known value or a random-configuration median (real
/// training has neither), and the studies as cells.
pub fn manifest(experiment: &LiveExperiment, cells: &[LiveCell]) -> Manifest {
    let spec = &experiment.spec;
    let training = &spec.training;
    let objective = training.objectives.first();
    Manifest {
        trace_format: TRACE_FORMAT_VERSION,
        hposim: env!("CARGO_PKG_VERSION").to_owned(),
        kind: "live".to_owned(),
        experiment: experiment.name.clone(),
        description: spec.description.clone(),
        command: format!("hposim tune {}", experiment.path.display()),
        workers: spec.workers,
        price_per_worker_hour: None,
        benchmarks: vec![BenchmarkReference {
            name: training.name.clone(),
            objective: objective.map(|o| o.name.clone()).unwrap_or_default(),
            direction: objective.map_or(Direction::Minimize, |o| o.direction),
            max_fidelity: training.fidelity.max,
            best_known: None,
            median_random: None,
            objectives: Vec::new(),
            hypervolume_reference: None,
        }],
        strategies: spec.strategies.iter().map(|s| s.name.clone()).collect(),
        cells: cells
            .iter()
            .map(|c| ExpectedCell {
                cell: c.id.clone(),
                benchmark: training.name.clone(),
                strategy: spec.strategies[c.strategy].name.clone(),
                seed: c.seed,
            })
            .collect(),
    }
}

/// Runs one study and writes its trace, trial list and summary (the summary last: its
/// presence marks the study finished).
pub fn run_cell(experiment: &LiveExperiment, cell: &LiveCell, options: &mut TuneOptions<'_>) -> Result<LiveResult, TuneError> {
    let spec = &experiment.spec;
    let training = &spec.training;
    let cells_dir = options.out_dir.join("cells");
    std::fs::create_dir_all(&cells_dir).map_err(|e| write_error(&cells_dir)(e.to_string()))?;
    let summary_path = options.out_dir.join("cells").join(format!("{}.json", cell.id));
    let trace_path = options.out_dir.join("cells").join(format!("{}.parquet", cell.id));
    let finished = if trace_path.is_file() {
        std::fs::read_to_string(&summary_path).ok().and_then(|t| serde_json::from_str::<CellSummary>(&t).ok())
    } else {
        None
    };
    let dir = options.out_dir.join("live").join(&cell.id);
    let journal = dir.join("journal.jsonl");
    if let Some(summary) = &finished
        && !journal.is_file()
    {
        return Ok(LiveResult { cell: cell.clone(), summary: summary.clone(), outcome: None, reused: true });
    }
    if journal.is_file() && finished.is_none() && !options.resume {
        return Err(TuneError::Refused(format!(
            "{} holds an unfinished study; continue it with --resume, or choose another --out",
            journal.display()
        )));
    }
    let strategy = &spec.strategies[cell.strategy];
    let mut rng = stream(spec.seed, &cell.stream, "strategy");
    let mut scheduler = hposim_sim::build_strategy(
        strategy,
        &experiment.space,
        &training.objectives,
        &training.fidelity,
        options.restrict.clone(),
        spec.budget.trials,
        &mut rng,
    )
    .map_err(|message| {
        TuneError::Refused(format!("{}: strategies[{}] ({:?}).{message}", experiment.path.display(), cell.strategy, strategy.name))
    })?;
    let checkpointing = experiment.checkpointing(cell.strategy);
    let setup = StudySetup::of(experiment, &dir, &spec.budget, checkpointing);
    let mut executor = executor_for(experiment, spec.workers as usize);
    let mut warnings = Vec::new();
    if let Some(tracker) = options.tracker.as_deref_mut()
        && let Err(e) = tracker.begin_study(&experiment.name, &strategy.name, &cell.id)
    {
        warnings.push(e);
    }
    let tracker = options.tracker.as_mut().map(|t| t.as_mut() as &mut dyn Tracker);
    let mut outcome = run_study(&setup, scheduler.as_mut(), &mut rng, executor.as_mut(), tracker, options.interrupt)
        .map_err(|error| TuneError::Study { cell: cell.id.clone(), error })?;
    warnings.append(&mut outcome.tracker_warnings);
    outcome.tracker_warnings = warnings;
    if let Some(summary) = finished {
        // Finished by an earlier run: its journal was replayed (nothing ran) to rebuild it.
        return Ok(LiveResult { cell: cell.clone(), summary, outcome: Some(outcome), reused: true });
    }
    let names = CellNames { cell: &cell.id, benchmark: &training.name, strategy: &strategy.name, seed: cell.seed };
    let summary = summary_of(&names, training.fidelity.max, None, checkpointing, &outcome.cell);
    let trials_path = dir.join("trials.json");
    let json = serde_json::to_vec_pretty(&outcome.trials).map_err(|e| write_error(&trials_path)(e.to_string()))?;
    write_atomically(&trials_path, &json).map_err(|e| write_error(&trials_path)(e.to_string()))?;
    write_atomically_with(&trace_path, |file, tmp| {
        outcome
            .cell
            .trace
            .write_parquet(&experiment.space, file)
            .map_err(|e| hposim_sim::RunError::Trace { path: tmp.to_owned(), message: e.to_string() })
    })
    .map_err(|e| write_error(&trace_path)(e.to_string()))?;
    let json = serde_json::to_vec_pretty(&summary).map_err(|e| write_error(&summary_path)(e.to_string()))?;
    write_atomically(&summary_path, &json).map_err(|e| write_error(&summary_path)(e.to_string()))?;
    Ok(LiveResult { cell: cell.clone(), summary, outcome: Some(outcome), reused: false })
}
