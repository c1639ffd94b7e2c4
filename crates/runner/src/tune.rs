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
use hposim_core::rng::stream;
use hposim_core::{
    BenchmarkReference, Budget, CellNames, CellSummary, Direction, ExpectedCell, MANIFEST_FILE, Manifest, TRACE_FORMAT_VERSION, summary_of,
};
use hposim_fingerprint::FINGERPRINT;
use hposim_results::{
    FileError, OtherCode, adopt, finished_cell, identity, of_other_code, safe_name, write_atomically, write_cell, write_json_atomically,
};
use hposim_schedulers::{StrategySpec, build_strategy};
use serde::Serialize;
use std::collections::HashMap;
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
    /// A results file could not be written.
    #[error(transparent)]
    File(#[from] FileError),
    /// A directory could not be created.
    #[error("{}: {error}", path.display())]
    Io {
        /// The directory.
        path: PathBuf,
        /// The cause.
        error: std::io::Error,
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
    /// File stem: names, seed and the hash of its settings and of the code.
    pub id: String,
    /// The hash of its settings alone (see [`hposim_results::other_code`]).
    pub settings: String,
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
    budget: &'a Budget,
    training: &'a crate::spec::TrainingSpec,
    strategy: &'a StrategySpec,
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
            let prefix = format!("{}__{}__s{seed:03}", safe_name(&spec.training.name), safe_name(&strategy.name));
            let identity = identity(&prefix, "live", &json, FINGERPRINT);
            cells.push(LiveCell {
                strategy: s,
                seed,
                id: identity.id,
                settings: identity.settings,
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
    /// Reuse studies that other code finished with the same settings (`--reuse-other-code`)
    /// instead of running them again.
    pub reuse_other_code: bool,
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

fn create_dir(dir: &Path) -> Result<(), TuneError> {
    std::fs::create_dir_all(dir).map_err(|error| TuneError::Io { path: dir.to_owned(), error })
}

/// The finished studies of `experiment` in `out_dir` that only other code made (see
/// [`hposim_results::other_code`]), by the id this code gives them.
fn studies_of_other_code(cells: &[LiveCell], out_dir: &Path) -> Result<HashMap<String, hposim_results::FoundCell>, TuneError> {
    Ok(of_other_code(cells.iter().map(|c| (c.id.as_str(), c.settings.as_str())), &out_dir.join("cells"))?)
}

/// What [`tune`] will find in `out_dir` that other code made, before it runs anything.
pub fn other_code(experiment: &LiveExperiment, out_dir: &Path, restricted: Option<u64>) -> Result<OtherCode, TuneError> {
    Ok(OtherCode::of(&studies_of_other_code(&live_cells(experiment, restricted), out_dir)?))
}

/// Runs (or reuses, or with `resume` continues) every study of `experiment`, calling
/// `on_cell` after each.
pub fn tune(
    experiment: &LiveExperiment,
    options: &mut TuneOptions<'_>,
    on_cell: &mut dyn FnMut(&LiveResult),
) -> Result<Vec<LiveResult>, TuneError> {
    let cells_dir = options.out_dir.join("cells");
    create_dir(&cells_dir)?;
    let _lock = hposim_results::lock_folder(&options.out_dir)?;
    write_atomically(&options.out_dir.join("experiment.toml"), experiment.source.as_bytes())?;
    let cells = live_cells(experiment, options.restrict_hash);
    write_json_atomically(&options.out_dir.join(MANIFEST_FILE), &manifest(experiment, &cells), "manifest")?;
    if options.reuse_other_code {
        let other = studies_of_other_code(&cells, &options.out_dir)?;
        for cell in &cells {
            if let Some(found) = other.get(&cell.id) {
                adopt(&cells_dir, &found.id, &cell.id, &cell.settings)?;
            }
        }
    }
    let mut results = Vec::new();
    for cell in cells {
        let result = run_cell(experiment, &cell, options)?;
        on_cell(&result);
        results.push(result);
    }
    let summaries: Vec<&CellSummary> = results.iter().map(|r| &r.summary).collect();
    write_json_atomically(&options.out_dir.join("summary.json"), &summaries, "summary")?;
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
        fingerprint: FINGERPRINT.to_owned(),
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
            unit: training.fidelity.unit.clone(),
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
        trace: hposim_core::TraceLevel::Steps,
    }
}

/// Runs one study and writes its trace, trial list and summary (the summary last: its
/// presence marks the study finished).
pub fn run_cell(experiment: &LiveExperiment, cell: &LiveCell, options: &mut TuneOptions<'_>) -> Result<LiveResult, TuneError> {
    let spec = &experiment.spec;
    let training = &spec.training;
    let cells_dir = options.out_dir.join("cells");
    create_dir(&cells_dir)?;
    let finished = finished_cell(&cells_dir, &cell.id);
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
    let mut scheduler = build_strategy(
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
    let names = CellNames {
        cell: &cell.id,
        fingerprint: FINGERPRINT,
        settings: &cell.settings,
        benchmark: &training.name,
        strategy: &strategy.name,
        seed: cell.seed,
    };
    let mut summary = summary_of(&names, training.fidelity.max, None, checkpointing, &outcome.cell);
    summary.best_config = hposim_core::best_config(&outcome.cell.trace, training.fidelity.max, &experiment.space);
    write_json_atomically(&dir.join("trials.json"), &outcome.trials, "trial list")?;
    write_cell(&cells_dir, &cell.id, &outcome.cell.trace, &experiment.space, &summary, &training.fidelity.unit)?;
    Ok(LiveResult { cell: cell.clone(), summary, outcome: Some(outcome), reused: false })
}
