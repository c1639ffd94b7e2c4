//! `hposim validate`: is the simulator right about real training?
//!
//! 1. Record `record.configs` configurations live to full fidelity ([`hposim_runner::record`]),
//!    measuring the launch overhead (start-up, resume, shutdown) on the way.
//! 2. Replay each strategy on the recording in the simulator (`lookup = "recorded"`, the
//!    experiment's workers, budget and seed): the *prediction*, once with the measured launch
//!    overhead (the model) and once without (step times alone, as replays charge them
//!    elsewhere).
//! 3. Run the same strategy live with the same seed, its sampler confined to the same recorded
//!    configurations: the *measurement*. Same seed, same candidates: where the two differ, it is
//!    because real training differs from its recording (training noise in the metrics, step
//!    times that vary, start-up overhead that a replay charges once per trial but a live run
//!    pays at every resume), and the report says by how much.
//!
//! The report (`validation/report.md` and `report.json`) puts side by side, per strategy: the
//! trials stopped or promoted at each rung, the best configuration, compute and wall-clock time
//! predicted with and without the overhead model against the measurement, with the relative
//! errors, and what remains unexplained.

use hposim_core::rng::noise_seed;
use hposim_core::{CellOutcome, EpochStatus, LaunchOverhead, SearchSpace, Trace};
use hposim_curves::tabular::{Lookup, TabularSpec};
use hposim_curves::{Benchmark, BenchmarkSpec, Builder};
use hposim_results::write_atomically;
use hposim_runner::journal::{Journal, Record};
use hposim_runner::record::{RecordError, record};
use hposim_runner::spec::LiveExperiment;
use hposim_runner::tune::{LiveResult, TuneError, TuneOptions, live_cells, run_cell};
use hposim_sim::{SimSettings, simulate_strategy};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

/// A validation that could not be completed.
#[derive(Debug, thiserror::Error)]
pub enum ValidateError {
    /// Recording failed.
    #[error(transparent)]
    Record(#[from] RecordError),
    /// The live study failed.
    #[error(transparent)]
    Tune(#[from] TuneError),
    /// Something else.
    #[error("{0}")]
    Other(String),
}

/// One rung of the comparison: how many configurations reached a fidelity.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RungRow {
    /// The fidelity.
    pub fidelity: u32,
    /// Configurations that reached it in the simulation.
    pub simulated: usize,
    /// Configurations that reached it live.
    pub live: usize,
    /// Configurations that reached it in both.
    pub both: usize,
}

/// The comparison of one strategy.
#[derive(Clone, Debug, Serialize)]
pub struct StrategyValidation {
    /// Strategy name.
    pub strategy: String,
    /// Seed.
    pub seed: u32,
    /// Trials started (simulated, live).
    pub trials: (usize, usize),
    /// Per rung.
    pub rungs: Vec<RungRow>,
    /// Configurations whose highest step differs between simulation and live run.
    pub different_decisions: usize,
    /// Best configuration at full fidelity and its value (simulated).
    pub best_simulated: Option<(String, f64)>,
    /// Best configuration at full fidelity and its value (live).
    pub best_live: Option<(String, f64)>,
    /// Worker-seconds paid for, training and launch overhead (predicted with the overhead
    /// model, measured live).
    pub compute_seconds: (f64, f64),
    /// Wall-clock seconds (predicted with the overhead model, measured).
    pub wallclock_seconds: (f64, f64),
    /// Worker-seconds of launch overhead (predicted, measured: the live trace's
    /// `launch_seconds` and `exit_seconds`).
    pub overhead_seconds: (f64, f64),
    /// Compute and wall-clock seconds predicted without the overhead model.
    pub without_overhead: (f64, f64),
    /// Relative error of the predicted compute, `(predicted − measured) / measured`: with the
    /// overhead model, and without.
    pub compute_error: (f64, f64),
    /// Relative error of the predicted wall-clock time: with the overhead model, and without.
    pub wallclock_error: (f64, f64),
    /// Processes started live, and how many of them resumed a paused trial.
    pub launches: (usize, usize),
    /// Mean start-up overhead of a resumed launch: first report minus the recorded step time.
    pub resume_overhead_seconds: Option<f64>,
    /// Mean time from a launch's last report (or its start) to its process's exit: shutdown
    /// that a replay does not charge.
    pub exit_overhead_seconds: Option<f64>,
    /// Median ratio of live to recorded step times (steps not first in their launch).
    pub step_time_ratio: Option<f64>,
    /// Largest absolute difference between a live metric and the recorded one, same step.
    pub max_metric_difference: Option<f64>,
}

/// Everything `hposim validate` measured.
#[derive(Clone, Debug, Serialize)]
pub struct ValidationReport {
    /// The recording.
    pub recording: PathBuf,
    /// Configurations recorded.
    pub recorded_configs: usize,
    /// Seconds the recording took.
    pub recording_seconds: Option<f64>,
    /// The launch overhead measured by the recording (the model the prediction charges).
    pub overhead: LaunchOverhead,
    /// Per strategy.
    pub strategies: Vec<StrategyValidation>,
}

/// Records, replays and runs live every strategy of `experiment`, writing the report under
/// `out_dir/validation/`.
pub fn validate(
    experiment: &LiveExperiment,
    out_dir: &Path,
    resume: bool,
    interrupt: &AtomicBool,
) -> Result<ValidationReport, ValidateError> {
    std::fs::create_dir_all(out_dir).map_err(|e| ValidateError::Other(format!("{}: {e}", out_dir.display())))?;
    let _lock = hposim_results::lock_folder(out_dir).map_err(|e| ValidateError::Other(e.to_string()))?;
    let table = out_dir.join("recording.parquet");
    let recording_seconds = if table.is_file() {
        None
    } else {
        let mut progress = crate::live::progress(experiment, None);
        let done = record(
            experiment,
            &table,
            experiment.spec.record.configs,
            experiment.spec.record.design,
            resume,
            interrupt,
            Some(&mut progress),
        )?;
        progress.finish();
        Some(done.wallclock_seconds)
    };
    let training = &experiment.spec.training;
    let spec = BenchmarkSpec::Recorded(TabularSpec {
        name: Some(training.name.clone()),
        path: PathBuf::from("recording.parquet"),
        task: None,
        objectives: Some(training.objectives.iter().map(|o| o.name.clone()).collect()),
        lookup: Lookup::Recorded,
        hypervolume_reference: None,
    });
    let bench = Builder::new(out_dir).build(&spec).map_err(|e| ValidateError::Other(format!("{}: {e}", table.display())))?;
    let mut options = TuneOptions {
        out_dir: out_dir.join("live"),
        resume,
        restrict: bench.recorded_configs(),
        restrict_hash: bench.content_hash(),
        tracker: Some(Box::new(crate::live::progress(experiment, None))),
        interrupt,
        reuse_other_code: false,
    };
    let mut strategies = Vec::new();
    for cell in live_cells(experiment, options.restrict_hash) {
        let spec = &experiment.spec;
        let mut settings = SimSettings {
            workers: spec.workers,
            budget: spec.budget.clone(),
            checkpointing: experiment.checkpointing(cell.strategy),
            launch_overhead: true,
            trace: hposim_core::TraceLevel::Steps,
        };
        let noise = noise_seed(spec.seed, bench.name(), cell.seed);
        let strategy = &spec.strategies[cell.strategy];
        let simulated = simulate_strategy(bench.as_ref(), strategy, spec.seed, &cell.stream, noise, &settings, &cell.id)
            .map_err(|e| ValidateError::Other(e.to_string()))?;
        settings.launch_overhead = false;
        let without = simulate_strategy(bench.as_ref(), strategy, spec.seed, &cell.stream, noise, &settings, &cell.id)
            .map_err(|e| ValidateError::Other(e.to_string()))?;
        let live = run_cell(experiment, &cell, &mut options)?;
        let mut validation = compare(experiment, bench.as_ref(), &simulated, &live, &options.out_dir)?;
        let relative = |predicted: f64, measured: f64| if measured > 0.0 { (predicted - measured) / measured } else { 0.0 };
        validation.without_overhead = (without.stats.compute_seconds, without.stats.wallclock_seconds);
        validation.compute_error = (
            relative(validation.compute_seconds.0, validation.compute_seconds.1),
            relative(without.stats.compute_seconds, validation.compute_seconds.1),
        );
        validation.wallclock_error = (
            relative(validation.wallclock_seconds.0, validation.wallclock_seconds.1),
            relative(without.stats.wallclock_seconds, validation.wallclock_seconds.1),
        );
        strategies.push(validation);
    }
    let report = ValidationReport {
        recording: table,
        recorded_configs: bench.recorded_configs().map_or(0, |set| set.len()),
        recording_seconds,
        overhead: bench.overhead(),
        strategies,
    };
    let dir = out_dir.join("validation");
    std::fs::create_dir_all(&dir).map_err(|e| ValidateError::Other(format!("{}: {e}", dir.display())))?;
    let json = serde_json::to_vec_pretty(&report).map_err(|e| ValidateError::Other(e.to_string()))?;
    write_atomically(&dir.join("report.json"), &json).map_err(|e| ValidateError::Other(e.to_string()))?;
    write_atomically(&dir.join("report.md"), markdown(experiment, &report).as_bytes()).map_err(|e| ValidateError::Other(e.to_string()))?;
    Ok(report)
}

fn config_key(space: &SearchSpace, trace: &Trace, trial: usize) -> String {
    serde_json::Value::Object(trace.configs[trial].to_json(space)).to_string()
}

/// Highest step reached per configuration.
fn reached(space: &SearchSpace, trace: &Trace) -> BTreeMap<String, u32> {
    let mut map = BTreeMap::new();
    for row in 0..trace.len() {
        if trace.status[row] == EpochStatus::Ok {
            let entry = map.entry(config_key(space, trace, trace.trial[row] as usize)).or_insert(0);
            *entry = (*entry).max(trace.epoch[row]);
        }
    }
    map
}

fn best(space: &SearchSpace, trace: &Trace, max: u32) -> Option<(String, f64)> {
    let objective = &trace.objectives[0];
    let mut best: Option<(String, f64)> = None;
    for row in 0..trace.len() {
        if trace.status[row] == EpochStatus::Ok && trace.epoch[row] == max {
            let value = trace.metrics_of(row)[0];
            if best.as_ref().is_none_or(|(_, b)| objective.better(value, *b)) {
                best = Some((config_key(space, trace, trace.trial[row] as usize), value));
            }
        }
    }
    best
}

fn compare(
    experiment: &LiveExperiment,
    bench: &dyn Benchmark,
    simulated: &CellOutcome,
    live: &LiveResult,
    live_dir: &Path,
) -> Result<StrategyValidation, ValidateError> {
    let space = &experiment.space;
    let max = experiment.spec.training.fidelity.max;
    let live_trace = match &live.outcome {
        Some(outcome) => outcome.cell.trace.clone(),
        None => {
            return Err(ValidateError::Other(format!(
                "the live study {} has no journal in {} to rebuild it from; remove that directory to validate again",
                live.cell.id,
                live_dir.display()
            )));
        }
    };
    // Live traces obey what simulated ones do: checked on both, or the comparison is void.
    let checkpointing = experiment.checkpointing(live.cell.strategy);
    for (side, trace) in [("simulated", &simulated.trace), ("live", &live_trace)] {
        trace
            .check_invariants(checkpointing)
            .map_err(|e| ValidateError::Other(format!("the {side} trace of study {} breaks a trace invariant: {e}", live.cell.id)))?;
    }
    let sim_reached = reached(space, &simulated.trace);
    let live_reached = reached(space, &live_trace);
    let levels: BTreeSet<u32> = sim_reached.values().chain(live_reached.values()).copied().collect();
    let rungs = levels
        .iter()
        .map(|&level| {
            let s: BTreeSet<&String> = sim_reached.iter().filter(|(_, r)| **r >= level).map(|(k, _)| k).collect();
            let l: BTreeSet<&String> = live_reached.iter().filter(|(_, r)| **r >= level).map(|(k, _)| k).collect();
            RungRow { fidelity: level, simulated: s.len(), live: l.len(), both: s.intersection(&l).count() }
        })
        .collect();
    let keys: BTreeSet<&String> = sim_reached.keys().chain(live_reached.keys()).collect();
    let different_decisions = keys.iter().filter(|k| sim_reached.get(**k) != live_reached.get(**k)).count();

    // What the recording says each (configuration, step) cost and measured.
    let recorded = recorded_steps(space, bench, max);
    let journal =
        Journal::read(&live_dir.join("live").join(&live.cell.id).join("journal.jsonl")).map_err(|e| ValidateError::Other(e.to_string()))?;
    let mut launches = 0;
    let mut resumes = 0;
    let mut overheads = Vec::new();
    let mut ratios = Vec::new();
    let mut first_of_launch: BTreeMap<u32, (f64, u32)> = BTreeMap::new();
    let mut launch_of_trial: BTreeMap<u32, u64> = BTreeMap::new();
    let mut last_report: BTreeMap<u64, f64> = BTreeMap::new();
    let mut exits = Vec::new();
    for record in &journal {
        match record {
            Record::Launch { trial, now, start_step, launch, .. } => {
                launches += 1;
                launch_of_trial.insert(*trial, *launch);
                last_report.insert(*launch, *now);
                if *start_step > 0 {
                    resumes += 1;
                }
                first_of_launch.insert(*trial, (*now, *start_step + 1));
            }
            Record::Exit { launch, now, .. } => {
                if let Some(since) = last_report.get(launch) {
                    exits.push(now - since);
                }
            }
            Record::Step { trial, step, start, end, .. } => {
                if let Some(launch) = launch_of_trial.get(trial) {
                    last_report.insert(*launch, *end);
                }
                let key = config_key(space, &live_trace, *trial as usize);
                let Some(&(cost, _)) = recorded.get(&(key, *step)) else { continue };
                match first_of_launch.get(trial) {
                    Some(&(launched, first)) if first == *step => {
                        if *step > 1 {
                            overheads.push((end - launched) - cost);
                        }
                    }
                    _ => ratios.push((end - start) / cost),
                }
            }
            _ => {}
        }
    }
    let mut max_difference: Option<f64> = None;
    for row in 0..live_trace.len() {
        if live_trace.status[row] != EpochStatus::Ok {
            continue;
        }
        let key = config_key(space, &live_trace, live_trace.trial[row] as usize);
        if let Some(&(_, value)) = recorded.get(&(key, live_trace.epoch[row])) {
            let d = (live_trace.metrics_of(row)[0] - value).abs();
            max_difference = Some(max_difference.map_or(d, |m: f64| m.max(d)));
        }
    }
    ratios.sort_by(f64::total_cmp);
    let strategy = &experiment.spec.strategies[live.cell.strategy];
    Ok(StrategyValidation {
        strategy: strategy.name.clone(),
        seed: live.cell.seed,
        trials: (simulated.trace.configs.len(), live_trace.configs.len()),
        rungs,
        different_decisions,
        best_simulated: best(space, &simulated.trace, max),
        best_live: best(space, &live_trace, max),
        compute_seconds: (simulated.stats.compute_seconds, live.summary.compute_seconds),
        wallclock_seconds: (simulated.stats.wallclock_seconds, live.summary.wallclock_seconds),
        overhead_seconds: (simulated.stats.overhead_seconds, live_trace.overhead_seconds()),
        without_overhead: (0.0, 0.0),
        compute_error: (0.0, 0.0),
        wallclock_error: (0.0, 0.0),
        launches: (launches, resumes),
        resume_overhead_seconds: (!overheads.is_empty()).then(|| overheads.iter().sum::<f64>() / overheads.len() as f64),
        exit_overhead_seconds: (!exits.is_empty()).then(|| exits.iter().sum::<f64>() / exits.len() as f64),
        step_time_ratio: (!ratios.is_empty()).then(|| ratios[ratios.len() / 2]),
        max_metric_difference: max_difference,
    })
}

/// (configuration, step) → (recorded cost, recorded first metric), from the table itself.
fn recorded_steps(space: &SearchSpace, bench: &dyn Benchmark, max: u32) -> BTreeMap<(String, u32), (f64, f64)> {
    let mut map = BTreeMap::new();
    let Some(set) = bench.recorded_configs() else { return map };
    let mut metrics = vec![0.0; bench.objectives().len()];
    for config in set.configs() {
        let key = serde_json::Value::Object(config.to_json(space)).to_string();
        let curve = bench.open(config, 0);
        for step in 1..=max {
            let cost = bench.step(&curve, step, &mut metrics);
            map.insert((key.clone(), step), (cost, metrics[0]));
        }
    }
    map
}

fn seconds(x: f64) -> String {
    format!("{x:.1} s")
}

fn markdown(experiment: &LiveExperiment, report: &ValidationReport) -> String {
    let mut md = String::new();
    let training = &experiment.spec.training;
    let _ = writeln!(md, "# Validation: {}\n", experiment.name);
    let o = &report.overhead;
    let _ = writeln!(
        md,
        "Training `{}` ({} {}s, {} worker slots). Recording: {} configurations{} in `{}`. Launch overhead measured by the recording (the model): start-up {}, resume {}, shutdown {}, coefficient of variation {:.2}.\n",
        training.name,
        training.fidelity.max,
        training.fidelity.unit,
        experiment.spec.workers,
        report.recorded_configs,
        report.recording_seconds.map(|s| format!(" recorded in {}", seconds(s))).unwrap_or_default(),
        report.recording.display(),
        seconds(o.startup),
        seconds(o.resume),
        seconds(o.shutdown),
        o.noise
    );
    for s in &report.strategies {
        let _ = writeln!(md, "## {} (seed {})\n", s.strategy, s.seed);
        let _ = writeln!(md, "| | simulated (prediction) | live (measurement) |\n|---|---:|---:|");
        let _ = writeln!(md, "| trials started | {} | {} |", s.trials.0, s.trials.1);
        let _ = writeln!(md, "| compute | {} | {} |", seconds(s.compute_seconds.0), seconds(s.compute_seconds.1));
        let _ = writeln!(md, "| of which launch overhead | {} | {} |", seconds(s.overhead_seconds.0), seconds(s.overhead_seconds.1));
        let _ = writeln!(md, "| wall-clock | {} | {} |", seconds(s.wallclock_seconds.0), seconds(s.wallclock_seconds.1));
        let show = |b: &Option<(String, f64)>| b.as_ref().map_or("none".to_owned(), |(c, v)| format!("{v:.4} at `{c}`"));
        let _ = writeln!(md, "| best at full fidelity | {} | {} |\n", show(&s.best_simulated), show(&s.best_live));
        let _ = writeln!(
            md,
            "Prediction error, (predicted − measured) / measured:\n\n| | with the overhead model | without (step times alone) |\n|---|---:|---:|"
        );
        let pct = |x: f64| format!("{:+.1} %", 100.0 * x);
        for (what, errors, predicted, without) in [
            ("compute", s.compute_error, s.compute_seconds.0, s.without_overhead.0),
            ("wall-clock", s.wallclock_error, s.wallclock_seconds.0, s.without_overhead.1),
        ] {
            let _ = writeln!(md, "| {what} | {} ({}) | {} ({}) |", pct(errors.0), seconds(predicted), pct(errors.1), seconds(without));
        }
        md.push('\n');
        let _ = writeln!(md, "Configurations reaching each rung:\n\n| fidelity | simulated | live | both |\n|---:|---:|---:|---:|");
        for r in &s.rungs {
            let _ = writeln!(md, "| {} | {} | {} | {} |", r.fidelity, r.simulated, r.live, r.both);
        }
        let _ = writeln!(
            md,
            "\n{} configuration(s) ended at a different step live than in the simulation (or ran in only one of them).\n",
            s.different_decisions
        );
        let _ = writeln!(md, "Both traces pass the invariants every trace satisfies (`Trace::check_invariants`).\n");
        let _ = writeln!(md, "What remains unexplained with the overhead model, and why:\n");
        let _ = writeln!(md, "- processes started live: {} ({} resumed a paused trial);", s.launches.0, s.launches.1);
        if let Some(o) = s.resume_overhead_seconds {
            let _ = writeln!(
                md,
                "- overhead per resume measured live: {} on average (the model charges {});",
                seconds(o),
                seconds(report.overhead.resume)
            );
        }
        if let Some(e) = s.exit_overhead_seconds {
            let _ = writeln!(
                md,
                "- shutdown per launch measured live (last report to process exit): {} on average (the model charges {});",
                seconds(e),
                seconds(report.overhead.shutdown)
            );
        }
        if let Some(r) = s.step_time_ratio {
            let _ = writeln!(md, "- step times: live / recorded = {r:.2} (median), i.e. timing noise and machine load;");
        }
        if let Some(d) = s.max_metric_difference {
            let _ = writeln!(
                md,
                "- training noise: the largest difference between a live value of the first objective and the recorded one at the same step is {d:.3e}{}.",
                if d == 0.0 { " (training is deterministic given HPOSIM_SEED)" } else { "" }
            );
        }
        let _ = writeln!(
            md,
            "- left over with the model: {} of compute ({}) and {} of wall-clock ({}).\n",
            seconds(s.compute_seconds.0 - s.compute_seconds.1),
            pct(s.compute_error.0),
            seconds(s.wallclock_seconds.0 - s.wallclock_seconds.1),
            pct(s.wallclock_error.0)
        );
    }
    md
}
