//! The trace schema's vocabulary and the per-cell summary record.
//!
//! A cell's trace has one row per completed step of a trial (see the sim crate for the
//! columns); each row carries an [`EpochStatus`] and the [`TrialOutcome`] decided after it.
//! [`CellSummary`] is the record of one cell in a results directory's `summary.json`.

use crate::objective::Direction;
use serde::{Deserialize, Serialize};

/// Whether a step produced usable metrics.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EpochStatus {
    /// All metrics finite.
    Ok,
    /// A metric was NaN or infinite: the training run diverged, and the trial is stopped.
    Diverged,
    /// A real training process failed (crashed, timed out, or broke the trial protocol) before
    /// completing the step: its metrics are NaN, and the trial is stopped. Only live studies
    /// (the runner) write it.
    Failed,
}

impl EpochStatus {
    /// The label written to traces.
    pub fn as_str(self) -> &'static str {
        match self {
            EpochStatus::Ok => "ok",
            EpochStatus::Diverged => "diverged",
            EpochStatus::Failed => "failed",
        }
    }
}

/// What happened to a trial after a step, as written in the trace's `decision` column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TrialOutcome {
    /// It went on to the next step.
    Continue,
    /// It was paused (by the scheduler, or because it reached the fidelity it was started or
    /// resumed for); it may be resumed.
    Pause,
    /// It was stopped for good (by the scheduler, or because it diverged).
    Stop,
    /// It reached the benchmark's full fidelity.
    Done,
    /// It would have gone on, but the experiment's budget ran out.
    Cut,
}

impl TrialOutcome {
    /// The label written to traces.
    pub fn as_str(self) -> &'static str {
        match self {
            TrialOutcome::Continue => "continue",
            TrialOutcome::Pause => "pause",
            TrialOutcome::Stop => "stop",
            TrialOutcome::Done => "done",
            TrialOutcome::Cut => "cut",
        }
    }
}

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
    /// The cell's file stem in `cells/` (names plus a hash of all its settings).
    pub cell: String,
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
    /// Worker-seconds of training paid for (simulated).
    pub compute_seconds: f64,
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
}
