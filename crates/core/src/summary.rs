//! The per-cell summary record: [`CellSummary`] is the record of one cell in a results
//! directory's `cells/<cell>.json` and `summary.json`, made from a cell's outcome (simulated
//! or live) by [`summary_of`].

use crate::manifest::TRACE_FORMAT_VERSION;
use crate::objective::Direction;
use crate::outcome::CellOutcome;
use crate::trace::Trace;
use serde::{Deserialize, Serialize};

fn first_trace_format() -> u32 {
    1
}

/// One cell (benchmark × strategy × seed) of an experiment, as recorded in `summary.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CellSummary {
    /// The trace layout version of the cell's trace ([`crate::TRACE_FORMAT_VERSION`]; files
    /// written before the field existed are version 1).
    #[serde(default = "first_trace_format")]
    pub trace_format: u32,
    /// The cell's file stem in `cells/` (names plus a hash of its settings and of the code).
    pub cell: String,
    /// The fingerprint of the code that computed the cell (empty in files written before
    /// fingerprints existed).
    #[serde(default)]
    pub fingerprint: String,
    /// The hash of the cell's settings alone (its key without the fingerprint), by which the
    /// same cell computed by other code is found (empty in files written before it existed).
    #[serde(default)]
    pub settings: String,
    /// Benchmark name.
    pub benchmark: String,
    /// Strategy name.
    pub strategy: String,
    /// Repetition index (0-based).
    pub seed: u32,
    /// Name of the first objective, which `best_objective` and `regret` refer to.
    pub objective: String,
    /// Its direction.
    pub direction: Direction,
    /// The benchmark's full fidelity.
    pub max_fidelity: u32,
    /// Trials started.
    pub trials: u64,
    /// Steps (epochs) completed, including those repeated after a restart without checkpoint.
    pub epochs: u64,
    /// Steps that reached the full fidelity.
    pub full_evaluations: u64,
    /// Trials stopped because a metric became NaN or infinite.
    pub diverged_trials: u64,
    /// Worker-seconds paid for: training steps and launch overhead.
    pub compute_seconds: f64,
    /// The part of `compute_seconds` that was launch overhead (start-up, resume, shutdown);
    /// `compute_seconds − overhead_seconds` is training compute.
    #[serde(default)]
    pub overhead_seconds: f64,
    /// Simulated wall-clock time from the start to the end of the cell.
    pub wallclock_seconds: f64,
    /// Worker-seconds without a trial to run: `workers × wallclock − compute`.
    pub idle_seconds: f64,
    /// Worker-seconds that training every started trial to full fidelity would have cost: the
    /// same trials without early termination.
    pub full_training_seconds: f64,
    /// `1 − compute_seconds / full_training_seconds`: the share of compute early termination
    /// saved (for FIFO, only what the budget cut off; negative when restarts without checkpoint
    /// cost more than early termination saves).
    pub compute_saved: f64,
    /// The compute of the same decisions with checkpointing (equal to `compute_seconds` when
    /// the cell checkpoints; otherwise without the steps repeated after restarts).
    pub compute_with_checkpointing_seconds: f64,
    /// The compute of the same decisions without checkpointing (equal to `compute_seconds`
    /// when the cell restarts paused trials; otherwise plus what each resume would repeat,
    /// charged in full at the resume). It is what a run with the other setting costs when the
    /// budget counts trials or full evaluations and the decisions do not depend on timing
    /// (synchronous schedulers, one worker); under a compute or wall-clock budget that run
    /// would stop elsewhere, so read it as the price of the same decisions.
    pub compute_without_checkpointing_seconds: f64,
    /// Best value of the first objective over all observations at any fidelity (the Syne Tune
    /// convention); `null` if nothing finite was observed.
    pub best_objective: Option<f64>,
    /// Best value of the first objective among full-fidelity observations; `null` if none.
    pub best_objective_max_fidelity: Option<f64>,
    /// The benchmark's best known value of the first objective, if it has one.
    pub best_known: Option<f64>,
    /// Final regret: `best_objective_max_fidelity` minus `best_known` in the direction of worse
    /// (0 is optimal). Judged at full fidelity (the HpBandSter convention) because the best of
    /// many noisy low-fidelity results is optimistically biased; `null` if no trial reached
    /// full fidelity.
    pub regret: Option<f64>,
    /// `best_objective` minus `best_known`: the regret under the any-fidelity convention.
    pub regret_any_fidelity: Option<f64>,
    /// Compute cost in US dollars, where the experiment sets a price per worker-hour.
    pub cost_usd: Option<f64>,
    /// Cost of `full_training_seconds` in US dollars, where a price is set.
    pub full_training_cost_usd: Option<f64>,
    /// Whether paused trials resumed from a checkpoint (false: they restarted from step 1).
    pub checkpointing: bool,
    /// Proposals where the sampler's model failed (e.g. a GP covariance that could not be
    /// factorised even with jitter) and a random configuration was proposed instead.
    #[serde(default)]
    pub sampler_warnings: u64,
    /// Why the cell ended: `budget:wallclock`, `budget:compute`, `budget:full_evaluations`
    /// or `strategy_finished` (the strategy had nothing more to run, e.g. a finished grid or the
    /// trial budget reached).
    pub stop_reason: String,
    /// Benchmarks with several objectives and a hypervolume reference point: the hypervolume of
    /// the results at full fidelity (all objectives, directions respected).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hypervolume: Option<f64>,
    /// The hypervolume's reference point.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hypervolume_reference: Option<Vec<f64>>,
    /// Results at full fidelity outside the reference box (they add no volume).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outside_reference: Option<u64>,
    /// The best configuration found (live and ask/tell studies; see [`best_config`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub best_config: Option<BestConfig>,
}

/// Adds to `summary` the hypervolume of `trace`'s results at full fidelity (every objective)
/// with respect to `reference`, and how many of them lie outside the reference box.
pub fn add_hypervolume(summary: &mut CellSummary, trace: &Trace, reference: &[f64]) {
    let directions: Vec<_> = trace.objectives.iter().map(|o| o.direction).collect();
    let points = trace.full_results(summary.max_fidelity);
    if points.is_empty() {
        return; // No result at full fidelity: no hypervolume, as no final regret.
    }
    let hv = crate::pareto::hypervolume::hypervolume(&points, reference, &directions);
    // Benchmarks define valid references (one finite coordinate per objective).
    debug_assert!(hv.is_ok(), "{hv:?}");
    if let Ok(hv) = hv {
        summary.hypervolume = Some(hv.volume);
        summary.outside_reference = Some(hv.outside as u64);
        summary.hypervolume_reference = Some(reference.to_vec());
    }
}

/// The best trial of a study and its configuration: the best value of the first objective at
/// full fidelity, or at any fidelity when no trial reached it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BestConfig {
    /// The trial.
    pub trial: u32,
    /// The step of its best value.
    pub step: u32,
    /// The value of the first objective there.
    pub value: f64,
    /// Whether the step is the full fidelity.
    pub full_fidelity: bool,
    /// Its active parameters, as written in the experiment (choices by value).
    pub config: serde_json::Map<String, serde_json::Value>,
}

impl BestConfig {
    /// Whether this result is better than `other` ([`better_result`]).
    pub fn better_than(&self, other: &BestConfig, objective: &crate::Objective) -> bool {
        better_result(objective, (self.full_fidelity, self.value), (other.full_fidelity, other.value))
    }
}

/// Whether result `a` is better than result `b`, each (reached full fidelity, value of
/// `objective`): one at full fidelity beats one below it, and at the same level the better value
/// wins; an equal one is not better (the earlier stays best). The rule of [`best_config`], of a
/// live study's progress, and of the best over several studies.
pub fn better_result(objective: &crate::Objective, a: (bool, f64), b: (bool, f64)) -> bool {
    (a.0 && !b.0) || (a.0 == b.0 && objective.better(a.1, b.1))
}

/// The best trial of `trace` ([`BestConfig`]) among the rows it holds in memory (a live or
/// ask/tell study's whole trace), `None` without a finite result. Ties go to the earlier row.
pub fn best_config(trace: &Trace, max: u32, space: &crate::SearchSpace) -> Option<BestConfig> {
    let objective = trace.objectives.first()?;
    let mut best: Option<(bool, f64, usize)> = None;
    for row in 0..trace.len() {
        let value = trace.metrics_of(row)[0];
        if trace.status[row] != crate::EpochStatus::Ok || !value.is_finite() {
            continue;
        }
        let full = trace.epoch[row] >= max;
        let better = match best {
            None => true,
            Some((best_full, best_value, _)) => better_result(objective, (full, value), (best_full, best_value)),
        };
        if better {
            best = Some((full, value, row));
        }
    }
    let (full_fidelity, value, row) = best?;
    let trial = trace.trial[row];
    let config = trace.configs.get(trial as usize)?.to_json(space);
    Some(BestConfig { trial, step: trace.epoch[row], value, full_fidelity, config })
}

/// What a summary is about: the cell's file stem, its benchmark, strategy and seed.
#[derive(Clone, Copy, Debug)]
pub struct CellNames<'a> {
    /// The cell's file stem.
    pub cell: &'a str,
    /// The fingerprint of the code that computes it.
    pub fingerprint: &'a str,
    /// The hash of its settings.
    pub settings: &'a str,
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
    let (best, best_full) = trace.best(max);
    let stats = &outcome.stats;
    CellSummary {
        trace_format: TRACE_FORMAT_VERSION,
        cell: names.cell.to_owned(),
        fingerprint: names.fingerprint.to_owned(),
        settings: names.settings.to_owned(),
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
        overhead_seconds: stats.overhead_seconds,
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
        best_config: None,
    }
}
