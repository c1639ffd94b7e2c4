//! Running an experiment: the grid of cells (benchmark × strategy × seed) in parallel on a
//! rayon pool, each thread taking the next cell, the costliest expected first, each cell
//! single-threaded and deterministic, each finished cell written atomically (temporary file,
//! flushed to disk, then renamed; by one more thread, in batches, so that simulating does not
//! wait for the disk) so that an interrupted run loses nothing and a rerun skips finished
//! cells.
//!
//! A cell's file stem is `<benchmark>__<strategy>__s<seed>__<hash>`, the hash being XXH3-64 of
//! every setting that can change its result (benchmark and strategy specifications, seed,
//! workers, checkpointing, budget, experiment seed, the trace format version, and for a
//! recorded benchmark the hash of its data files, so re-recorded data is not mistaken for the
//! old) and of the code fingerprint ([`hposim_fingerprint`]), so results of other code are never
//! reused silently. Editing an experiment therefore reruns exactly the cells it changes, and
//! changing the code reruns them all, unless [`RunOptions::reuse_other_code`] asks to reuse
//! other code's cells on purpose ([`hposim_results::other_code`]). Its random streams derive
//! from the experiment seed and `"<benchmark>"/"<strategy>"/<seed>`, so they do not depend on
//! the thread that runs it or on the other cells.

use crate::experiment::Experiment;
use crate::shard::{Partition, SHARDS_FILE, Shard, assign_cells};
use crate::simulator::{SimError, SimSettings, simulate, simulate_into};
use hposim_core::rng::{noise_seed, stream};
use hposim_core::summary::add_hypervolume;
use hposim_core::{
    BenchmarkReference, Budget, CellNames, CellOutcome, CellSummary, Direction, ExpectedCell, MANIFEST_FILE, Manifest,
    TRACE_FORMAT_VERSION, TraceLevel, summary_of,
};
use hposim_core::{Rng, RowSink};
use hposim_curves::median_random::{MEDIAN_RANDOM_SAMPLES, median_random_final};
use hposim_curves::{Benchmark, BenchmarkSpec};
use hposim_fingerprint::FINGERPRINT;
use hposim_results::{
    FileError, FolderLock, FoundCell, OtherCode, PendingFile, TraceMetadata, TraceWriter, adopt, exploits_json, exploits_path,
    finished_cell, identity, lock_folder, lock_folder_shared, of_other_code, remove_abandoned_temporaries, safe_name, summary_path,
    trace_path, write_atomically, write_json_atomically,
};
use hposim_schedulers::{Scheduler, StrategySpec, build_strategy};
use serde::Serialize;
use std::collections::HashMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// One cell of the grid.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cell {
    /// Index into the experiment's benchmarks.
    pub benchmark: usize,
    /// Index into the experiment's strategies.
    pub strategy: usize,
    /// Repetition index.
    pub seed: u32,
    /// File stem in `cells/`: names, seed and the hash of its settings and of the code.
    pub id: String,
    /// The hash of its settings alone (see [`hposim_results::other_code`]).
    pub settings: String,
    /// Identity of the cell's random streams: `"<benchmark>"/"<strategy>"/<seed>`.
    pub stream: String,
}

/// Everything that can change a simulated cell's result, besides the code.
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
    /// Left out at the default level, so that cells of every step keep their identities.
    #[serde(skip_serializing_if = "TraceLevel::is_steps")]
    trace: TraceLevel,
}

/// Where and how to run.
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    /// Results directory (`cells/` and `summary.json` go there).
    pub out_dir: PathBuf,
    /// Worker threads for cells (each cell uses one); no more are started than there are cells.
    pub threads: usize,
    /// Reuse cells that other code computed with the same settings (`--reuse-other-code`)
    /// instead of rerunning them.
    pub reuse_other_code: bool,
    /// Run only this shard's cells ([`crate::shard`]), beside the other shards of a sweep that
    /// may run at the same time on the same folder; `summary.json` is not written (the merge
    /// does it once every cell is there).
    pub shard: Option<Shard>,
    /// Simulate nothing: write `summary.json` from the finished cells, or fail naming those
    /// that are missing (the last step of a sharded sweep).
    pub merge_only: bool,
    /// The [`Partition::digest`] the shard must belong to (what `hposim submit` computed).
    pub expected_partition: Option<String>,
}

/// What a run did.
#[derive(Clone, Debug)]
pub struct RunReport {
    /// One summary per cell, in grid order (benchmark, strategy, seed).
    pub summaries: Vec<CellSummary>,
    /// Cells simulated now.
    pub ran: usize,
    /// Cells found finished and reused (by this code, or by other code on request).
    pub reused: usize,
    /// Steps simulated now.
    pub epochs_simulated: u64,
    /// Threads the cells ran on: [`RunOptions::threads`], at most one per cell.
    pub threads: usize,
    /// What the report judges each benchmark's results against (the manifest's).
    pub benchmarks: Vec<hposim_core::BenchmarkReference>,
    /// The shard run ([`RunOptions::shard`]), whose cells alone are in `summaries`.
    pub shard: Option<Shard>,
    /// The experiment's cells, in every shard.
    pub total_cells: usize,
}

/// A run that could not complete.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// Reading or writing a results file failed.
    #[error(transparent)]
    File(#[from] FileError),
    /// Creating the results directory failed.
    #[error("{}: {error}", path.display())]
    Io {
        /// The directory.
        path: PathBuf,
        /// The cause (shown in the message, so not a `source`: it would be printed twice).
        error: std::io::Error,
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
    /// The shard's partition is not the one submitted.
    #[error(
        "this shard's partition (digest {found}) is not the one submitted (digest {expected}): the experiment file was edited, or the nodes run another hposim build, since `hposim submit`; submit again"
    )]
    Changed {
        /// The submitted partition's digest.
        expected: String,
        /// This one's.
        found: String,
    },
    /// Shards of another partition hold the folder.
    #[error(
        "{}: shards of another partition run on this results folder (it records {recorded}; this shard is one of {ours}: another --shard N, another experiment file, or another hposim build); wait for them to finish, or give these shards another --out",
        path.display()
    )]
    OtherPartition {
        /// `shards.json`.
        path: PathBuf,
        /// What it records.
        recorded: String,
        /// This shard's partition.
        ours: String,
    },
    /// `--merge` found cells that no shard has finished.
    #[error(
        "{}: {missing} of {total} cells are not finished ({}{}); run the shards that hold them (`hposim status` names them), or `hposim run` without --merge to simulate them here",
        dir.display(),
        first.join(", "),
        if *missing > first.len() { ", ..." } else { "" }
    )]
    Missing {
        /// The cells' folder.
        dir: PathBuf,
        /// How many.
        missing: usize,
        /// The experiment's cells.
        total: usize,
        /// The first few, by file stem.
        first: Vec<String>,
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
                    trace: spec.trace,
                };
                // Serialising plain data structures cannot fail; an empty key would only
                // weaken the cache, never the results.
                let json = serde_json::to_vec(&key).unwrap_or_default();
                let prefix = format!("{}__{}__s{seed:03}", safe_name(&bench.name()), safe_name(&strategy.name));
                let identity = identity(&prefix, "", &json, FINGERPRINT);
                cells.push(Cell {
                    benchmark: b,
                    strategy: s,
                    seed,
                    id: identity.id,
                    settings: identity.settings,
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
                unit: bench.fidelity().unit.clone(),
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
        fingerprint: FINGERPRINT.to_owned(),
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
        trace: spec.trace,
    }
}

/// Simulates one cell (nothing is written; the whole trace is held in memory).
pub fn simulate_cell(experiment: &Experiment, cell: &Cell) -> Result<CellOutcome, RunError> {
    simulate_cell_into(experiment, cell, None)
}

/// Simulates one cell, its trace's rows going to `sink` as it runs ([`crate::simulator::simulate_into`]).
fn simulate_cell_into(experiment: &Experiment, cell: &Cell, sink: Option<&mut dyn RowSink>) -> Result<CellOutcome, RunError> {
    let spec = &experiment.spec;
    let bench: &dyn Benchmark = experiment.benchmarks[cell.benchmark].as_ref();
    let settings = SimSettings {
        workers: spec.workers,
        budget: spec.budget.clone(),
        checkpointing: experiment.checkpointing(cell.strategy),
        launch_overhead: true,
        trace: spec.trace,
    };
    let noise = noise_seed(spec.seed, bench.name(), cell.seed);
    let (mut scheduler, mut rng) =
        build_cell_strategy(bench, &spec.strategies[cell.strategy], spec.seed, &cell.stream, &settings, &cell.id)?;
    simulate_into(bench, scheduler.as_mut(), &settings, &mut rng, noise, sink)
        .map_err(|error| RunError::Sim { cell: cell.id.clone(), error })
}

/// Simulates `strategy` on `bench` under `settings` with the strategy's random streams of cell
/// `cell_stream` of an experiment seeded `experiment_seed` and the benchmark's noise from
/// `noise` ([`hposim_core::rng::noise_seed`], which does not depend on the strategy); errors
/// name `cell_id`. What a cell runs, and what `hposim validate` predicts a live study with.
pub fn simulate_strategy(
    bench: &dyn Benchmark,
    strategy: &StrategySpec,
    experiment_seed: u64,
    cell_stream: &str,
    noise: u64,
    settings: &SimSettings,
    cell_id: &str,
) -> Result<CellOutcome, RunError> {
    let (mut scheduler, mut rng) = build_cell_strategy(bench, strategy, experiment_seed, cell_stream, settings, cell_id)?;
    simulate(bench, scheduler.as_mut(), settings, &mut rng, noise).map_err(|error| RunError::Sim { cell: cell_id.to_owned(), error })
}

/// The strategy of a cell, built on the cell's strategy stream, and that stream.
fn build_cell_strategy(
    bench: &dyn Benchmark,
    strategy: &StrategySpec,
    experiment_seed: u64,
    cell_stream: &str,
    settings: &SimSettings,
    cell_id: &str,
) -> Result<(Box<dyn Scheduler>, Rng), RunError> {
    let mut rng = stream(experiment_seed, cell_stream, "strategy");
    let scheduler = build_strategy(
        strategy,
        bench.space(),
        bench.objectives(),
        bench.fidelity(),
        bench.recorded_configs(),
        settings.budget.trials,
        &mut rng,
    )
    .map_err(|message| RunError::Strategy { cell: cell_id.to_owned(), message })?;
    Ok((scheduler, rng))
}

/// The summary record of a simulated cell.
pub fn summarise(experiment: &Experiment, cell: &Cell, outcome: &CellOutcome) -> CellSummary {
    let bench = experiment.benchmarks[cell.benchmark].as_ref();
    let names = CellNames {
        cell: &cell.id,
        fingerprint: FINGERPRINT,
        settings: &cell.settings,
        benchmark: bench.name(),
        strategy: &experiment.spec.strategies[cell.strategy].name,
        seed: cell.seed,
    };
    let best_known = bench.best_known().and_then(|b| b.first().copied());
    let mut summary = summary_of(&names, bench.fidelity().max, best_known, experiment.checkpointing(cell.strategy), outcome);
    if let Some(reference) = bench.hypervolume_reference() {
        add_hypervolume(&mut summary, &outcome.trace, reference);
    }
    summary
}

/// What [`run`] will find in `out_dir` that other code made, before it runs anything.
pub fn other_code(experiment: &Experiment, out_dir: &Path) -> Result<OtherCode, RunError> {
    let all = cells(experiment);
    Ok(OtherCode::of(&of_other_code(all.iter().map(|c| (c.id.as_str(), c.settings.as_str())), &out_dir.join("cells"))?))
}

/// A simulated cell whose files wait for the disk: its trace, complete under its temporary
/// name, and its summary, written once the trace is in place ([`commit_cells`]).
struct Simulated {
    trace: PendingFile,
    /// Population-based training's exploits, if it made any.
    exploits: Option<PendingFile>,
    summary: CellSummary,
    epochs: u64,
}

/// Simulates `cell` and writes its trace (and exploits), all but flushing them to disk and
/// naming them, which [`commit_cells`] does.
fn run_cell(experiment: &Experiment, cell: &Cell, dir: &Path) -> Result<Simulated, RunError> {
    let bench = experiment.benchmarks[cell.benchmark].as_ref();
    let metadata = TraceMetadata {
        benchmark: bench.name().to_owned(),
        strategy: experiment.spec.strategies[cell.strategy].name.clone(),
        seed: cell.seed,
        step_unit: bench.fidelity().unit.clone(),
        code: FINGERPRINT.to_owned(),
    };
    // The trace is written as the cell runs, in row groups: memory stays bounded however long
    // the cell is. Its rows in memory at the end are the last row group.
    let mut writer = TraceWriter::create(&trace_path(dir, &cell.id), bench.space(), bench.objectives(), &metadata)?;
    let outcome = simulate_cell_into(experiment, cell, Some(&mut writer))?;
    let trace = &outcome.trace;
    writer
        .write_rows(trace, &|t| trace.configs.get(t as usize))
        .map_err(|message| RunError::Sim { cell: cell.id.clone(), error: SimError::Write(message) })?;
    let exploits = (!trace.exploits.is_empty())
        .then(|| PendingFile::with_json(&exploits_path(dir, &cell.id), &exploits_json(trace, bench.space()), "exploits"))
        .transpose()?;
    Ok(Simulated { trace: writer.close()?, exploits, summary: summarise(experiment, cell, &outcome), epochs: outcome.stats.epochs })
}

/// Flushes simulated cells' traces (and exploits) to disk and names them, then writes their
/// summaries (whose presence marks a cell finished), flushes and names those: a batch costs the
/// filesystem two journal commits, not two per cell. `on_done` is called with each cell's index in `cells`,
/// its summary and epochs, once its summary is in place. A cell whose files cannot be written
/// keeps no summary (it is rerun next time) and does not stop the others of the batch; the
/// first such error is returned.
fn commit_cells(
    dir: &Path,
    cells: &[&Cell],
    batch: Vec<(usize, Simulated)>,
    on_done: &mut dyn FnMut(usize, CellSummary, u64),
) -> Result<(), RunError> {
    let mut first_error: Option<RunError> = None;
    let mut keep = |result: Result<(), FileError>| match result {
        Ok(()) => true,
        Err(error) => {
            first_error.get_or_insert(error.into());
            false
        }
    };
    let synced: Vec<(usize, Simulated)> = batch
        .into_iter()
        .filter(|(_, cell)| keep(cell.trace.sync().and_then(|()| cell.exploits.as_ref().map_or(Ok(()), PendingFile::sync))))
        .collect();
    let renamed: Vec<(usize, CellSummary, u64)> = synced
        .into_iter()
        .filter_map(|(i, cell)| {
            let Simulated { trace, exploits, summary, epochs } = cell;
            keep(trace.rename().and_then(|()| exploits.map_or(Ok(()), PendingFile::rename))).then_some((i, summary, epochs))
        })
        .collect();
    // The folder holds the names: flushed, the traces' names are on disk before any summary's.
    if !renamed.is_empty()
        && !keep(File::open(dir).and_then(|folder| folder.sync_all()).map_err(|error| FileError::Io { path: dir.to_owned(), error }))
    {
        return first_error.map_or(Ok(()), Err);
    }
    let mut summaries = Vec::with_capacity(renamed.len());
    for (i, summary, epochs) in renamed {
        match PendingFile::with_json(&summary_path(dir, &cells[i].id), &summary, "summary") {
            Ok(file) => summaries.push((i, file, summary, epochs)),
            Err(error) => _ = keep(Err(error)),
        }
    }
    summaries.retain(|(_, file, _, _)| keep(file.sync()));
    for (i, file, summary, epochs) in summaries {
        if keep(file.rename()) {
            on_done(i, summary, epochs);
        }
    }
    first_error.map_or(Ok(()), Err)
}

/// Sets its cell to `false` when dropped, unless it is set already.
struct SetOnDrop<'a>(&'a OnceLock<bool>);

impl Drop for SetOnDrop<'_> {
    fn drop(&mut self) {
        let _ = self.0.set(false);
    }
}

/// How many simulated cells wait for the disk at most (besides the batch being flushed) before
/// the threads that simulate wait for it: enough that a flush of a batch (tens of milliseconds
/// on a virtual disk, while small cells finish every few milliseconds) seldom stalls them, few
/// enough to bound the files held open (each cell holds its trace's, and its exploits' if it
/// has any: at most 2 × (this + [`COMMIT_BATCH`] + one per thread) in all).
const COMMITS_QUEUED: usize = 32;

/// The most cells flushed to disk together ([`commit_cells`]).
const COMMIT_BATCH: usize = 32;

/// The order in which [`run`] takes `cells` (indices into it): the costliest expected first
/// ([`StrategySpec::relative_cost`]), so that the last cells to start are cheap and no thread
/// is left alone with a long one at the end (longest processing time first); cells of equal
/// cost keep the grid's order.
fn costliest_first(experiment: &Experiment, cells: &[&Cell]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..cells.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(experiment.spec.strategies[cells[i].strategy].relative_cost()));
    order
}

/// Runs (or reuses) `cells` on `pool`'s threads, each taking the next cell in
/// [`costliest_first`] order as it becomes free, while one more thread does `write_first` (the
/// manifest) and then flushes finished cells to disk and writes their summaries, in batches, in
/// the order they finish ([`commit_cells`]): simulating does not wait for the disk. Returns each
/// cell's summary and, if it was simulated, its epochs, in the order of `cells`. After an error
/// no new cell starts and the cells already simulated are still committed (unless the error
/// was `write_first`'s: no summary precedes the manifest); a worker's error is returned before
/// the committer's.
fn run_cells(
    pool: &rayon::ThreadPool,
    experiment: &Experiment,
    cells: &[&Cell],
    dir: &Path,
    adoptable: &HashMap<String, FoundCell>,
    write_first: impl FnOnce() -> Result<(), RunError> + Send,
    on_cell: &(dyn Fn(&CellSummary, bool) + Sync),
) -> Result<Vec<(CellSummary, Option<u64>)>, RunError> {
    let order = costliest_first(experiment, cells);
    let next = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    let slots: Vec<OnceLock<(CellSummary, Option<u64>)>> = cells.iter().map(|_| OnceLock::new()).collect();
    let (sender, receiver) = std::sync::mpsc::sync_channel::<(usize, Simulated)>(COMMITS_QUEUED);
    // Whether `write_first` succeeded: a cell adopted from other code gets its summary at once,
    // which must not precede the manifest.
    let manifest_written = OnceLock::new();
    let (simulated, committed) = std::thread::scope(|scope| {
        let (slots, failed, manifest_written) = (&slots, &failed, &manifest_written);
        let committer = scope.spawn(move || -> Result<(), RunError> {
            // Set even if `write_first` panics, so that no thread waits for it forever.
            let unwritten = SetOnDrop(manifest_written);
            let written = write_first();
            let _ = manifest_written.set(written.is_ok());
            drop(unwritten);
            if let Err(error) = written {
                failed.store(true, Ordering::Relaxed);
                // No summary may precede the manifest: the cells simulated meanwhile are
                // dropped, and their temporary files with them.
                receiver.iter().for_each(drop);
                return Err(error);
            }
            let mut first_error = None;
            let mut on_done = |i: usize, summary: CellSummary, epochs: u64| {
                on_cell(&summary, false);
                let _ = slots[i].set((summary, Some(epochs)));
            };
            while let Ok(first) = receiver.recv() {
                // The cells that finished while the last batch was flushed form the next: the
                // slower the disk, the larger the batches, and the fewer the flushes.
                let mut batch = vec![first];
                batch.extend(receiver.try_iter().take(COMMIT_BATCH - 1));
                // After an error no new cell starts, but those already simulated are kept.
                if let Err(error) = commit_cells(dir, cells, batch, &mut on_done) {
                    failed.store(true, Ordering::Relaxed);
                    first_error.get_or_insert(error);
                }
            }
            first_error.map_or(Ok(()), Err)
        });
        let simulated = pool.broadcast(|_| -> Result<(), RunError> {
            while !failed.load(Ordering::Relaxed) {
                let Some(&i) = order.get(next.fetch_add(1, Ordering::Relaxed)) else { break };
                let cell = cells[i];
                let reused = match adoptable.get(&cell.id) {
                    Some(other) => {
                        if !*manifest_written.wait() {
                            break;
                        }
                        Some(adopt(dir, &other.id, &cell.id, &cell.settings))
                    }
                    None => finished_cell(dir, &cell.id).map(Ok),
                };
                let outcome = match reused {
                    Some(Ok(summary)) => {
                        on_cell(&summary, true);
                        let _ = slots[i].set((summary, None));
                        continue;
                    }
                    Some(Err(error)) => Err(error.into()),
                    None => run_cell(experiment, cell, dir),
                };
                match outcome {
                    // The committer takes cells until the last sender is gone (unless it
                    // panicked, which is resumed below).
                    Ok(simulated) => {
                        if sender.send((i, simulated)).is_err() {
                            break;
                        }
                    }
                    Err(error) => {
                        failed.store(true, Ordering::Relaxed);
                        return Err(error);
                    }
                }
            }
            Ok(())
        });
        drop(sender);
        (simulated, committer.join())
    });
    // A worker's error is returned before the committer's: it stopped the run, and the
    // committer's (if any) came of the cells it was given.
    let committed = committed.unwrap_or_else(|panic| std::panic::resume_unwind(panic));
    for result in simulated {
        result?;
    }
    committed?;
    // Every cell was run or reused, or an error was returned above; were one left out, it is
    // said rather than lost.
    let missing: Vec<String> = cells.iter().zip(&slots).filter(|(_, slot)| slot.get().is_none()).map(|(c, _)| c.id.clone()).collect();
    if !missing.is_empty() {
        return Err(RunError::Missing {
            dir: dir.to_owned(),
            missing: missing.len(),
            total: cells.len(),
            first: missing.into_iter().take(3).collect(),
        });
    }
    Ok(slots.into_iter().filter_map(OnceLock::into_inner).collect())
}

/// How long a shard waits for another shard that holds the folder alone for a moment (to
/// write the manifest and the partition) before it says that a run that is not a shard holds it.
const SHARD_PATIENCE: std::time::Duration = std::time::Duration::from_secs(60);

/// Takes the results folder `out_dir` for a shard of `partition`, beside the other shards of the
/// same partition only. The first shard (the folder's only user) writes the manifest and
/// `shards.json`; every shard then holds the folder shared and checks that `shards.json` is its
/// partition, so shards of another partition (another N, another experiment, or other code:
/// cell ids carry the code's fingerprint) never run beside each other on one folder: they would
/// run the same cells at once.
fn lock_for_shard(experiment: &Experiment, manifest: &Manifest, partition: &Partition, out_dir: &Path) -> Result<FolderLock, RunError> {
    let path = out_dir.join(SHARDS_FILE);
    if let Ok(alone) = lock_folder(out_dir) {
        write_manifest(experiment, manifest, out_dir)?;
        write_json_atomically(&path, partition, "shards")?;
        drop(alone);
    }
    let started = std::time::Instant::now();
    let shared = loop {
        match lock_folder_shared(out_dir) {
            Ok(lock) => break lock,
            Err(FileError::Refused { .. }) if started.elapsed() < SHARD_PATIENCE => {
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            Err(error) => return Err(error.into()),
        }
    };
    let recorded: Option<Partition> = std::fs::read(&path).ok().and_then(|bytes| serde_json::from_slice(&bytes).ok());
    if recorded.as_ref() != Some(partition) {
        return Err(RunError::OtherPartition {
            path,
            recorded: recorded.map_or_else(
                || "none".to_owned(),
                |p| format!("{} shards of {} cells", p.shards, p.cells.iter().map(Vec::len).sum::<usize>()),
            ),
            ours: format!("{} shards of {} cells", partition.shards, manifest.cells.len()),
        });
    }
    Ok(shared)
}

/// Writes the copy of `experiment` and its `manifest` ([`manifest`]) into the results folder
/// `out_dir` (which exists, and which the caller has locked): what [`run`] does first, and
/// `hposim submit` before it submits the shards.
pub fn write_manifest(experiment: &Experiment, manifest: &Manifest, out_dir: &Path) -> Result<(), RunError> {
    write_atomically(&out_dir.join("experiment.toml"), experiment.source.as_bytes())?;
    write_json_atomically(&out_dir.join(MANIFEST_FILE), manifest, "manifest")?;
    Ok(())
}

/// Runs every unfinished cell of `experiment` (of its shard, with [`RunOptions::shard`]; none,
/// with [`RunOptions::merge_only`]) and writes `summary.json` (not for a shard). `on_cell` is
/// called after each cell, with `true` if it was reused from an earlier run (from the thread
/// that found it) and `false` once a simulated cell's summary is in place (from the thread that
/// writes the files).
pub fn run(experiment: &Experiment, options: &RunOptions, on_cell: &(dyn Fn(&CellSummary, bool) + Sync)) -> Result<RunReport, RunError> {
    let dir = options.out_dir.join("cells");
    std::fs::create_dir_all(&dir).map_err(|error| RunError::Io { path: dir.clone(), error })?;
    let all = cells(experiment);
    // A thread per cell at most: more would only sit idle (and cost their stacks).
    let threads_for = |cells: usize| options.threads.clamp(1, cells.max(1));
    let pool_of = |threads: usize| {
        rayon::ThreadPoolBuilder::new().num_threads(threads).build().map_err(|e| RunError::Threads { threads, message: e.to_string() })
    };
    // The manifest's references train a thousand random configurations per benchmark: on the
    // threads the cells will have.
    let first_pool = pool_of(threads_for(all.len()))?;
    let manifest = first_pool.install(|| manifest(experiment, &all));
    let (_lock, mine) = match options.shard {
        None => {
            // The manifest is written by the thread that writes the cells' files, first.
            (lock_folder(&options.out_dir)?, all.iter().collect::<Vec<&Cell>>())
        }
        Some(shard) => {
            let assignment = assign_cells(experiment, &all, shard.count);
            let partition = Partition::of(&all, &assignment, shard.count);
            if let Some(expected) = options.expected_partition.as_ref().filter(|&d| *d != partition.digest()) {
                return Err(RunError::Changed { expected: expected.clone(), found: partition.digest() });
            }
            let lock = lock_for_shard(experiment, &manifest, &partition, &options.out_dir)?;
            (lock, all.iter().zip(assignment).filter(|&(_, k)| k + 1 == shard.index).map(|(c, _)| c).collect())
        }
    };
    if options.merge_only {
        let missing: Vec<&Cell> = mine.iter().copied().filter(|c| finished_cell(&dir, &c.id).is_none()).collect();
        if !missing.is_empty() {
            return Err(RunError::Missing {
                dir: dir.clone(),
                missing: missing.len(),
                total: all.len(),
                first: missing.iter().take(3).map(|c| c.id.clone()).collect(),
            });
        }
    } else {
        // Only this run's cells: a shard's neighbours may be writing theirs right now.
        remove_abandoned_temporaries(&dir, &mine.iter().map(|c| c.id.as_str()).collect());
    }
    let adoptable = if options.reuse_other_code {
        of_other_code(mine.iter().map(|c| (c.id.as_str(), c.settings.as_str())), &dir)?
    } else {
        HashMap::new()
    };
    let threads = threads_for(mine.len());
    let pool = if threads == first_pool.current_num_threads() {
        first_pool
    } else {
        drop(first_pool);
        pool_of(threads)?
    };
    let write_first = || if options.shard.is_none() { write_manifest(experiment, &manifest, &options.out_dir) } else { Ok(()) };
    let results = run_cells(&pool, experiment, &mine, &dir, &adoptable, write_first, on_cell)?;
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
    if options.shard.is_none() {
        write_json_atomically(&options.out_dir.join("summary.json"), &summaries, "summary")?;
    }
    Ok(RunReport {
        reused: summaries.len() - ran,
        ran,
        epochs_simulated,
        threads,
        summaries,
        benchmarks: manifest.benchmarks,
        shard: options.shard,
        total_cells: all.len(),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // Tests fail loudly on purpose.
    use super::*;

    /// Costlier strategies' cells come first (GP-BO's relative cost 12, TPE's 2, random
    /// search's 1), each strategy's cells in the grid's order.
    #[test]
    fn cells_are_taken_costliest_first_in_grid_order_among_equals() {
        let text = r#"
seeds = 2
workers = 2
[budget]
trials = 4
[[benchmarks]]
type = "synthetic"
[[strategies]]
name = "random"
sampler = { type = "random" }
[[strategies]]
name = "gp"
sampler = { type = "gp" }
[[strategies]]
name = "tpe"
sampler = { type = "tpe" }
"#;
        let experiment = Experiment::parse(Path::new("order.toml"), text).unwrap();
        let all = cells(&experiment);
        let mine: Vec<&Cell> = all.iter().collect();
        let taken: Vec<(String, u32)> = costliest_first(&experiment, &mine)
            .into_iter()
            .map(|i| (experiment.spec.strategies[mine[i].strategy].name.clone(), mine[i].seed))
            .collect();
        let expected = [("gp", 0), ("gp", 1), ("tpe", 0), ("tpe", 1), ("random", 0), ("random", 1)];
        assert_eq!(taken, expected.map(|(s, k)| (s.to_owned(), k)));
    }
}
