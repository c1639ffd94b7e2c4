//! The trace of a cell, in memory: one row per completed step of a trial, in the order the
//! steps completed (so time never decreases down the rows), stored column by column so that
//! recording a step is a handful of pushes. The simulator and live studies record the same
//! rows through the trial book; `hposim-results` writes them to Parquet and reads them back,
//! with the column names of [`columns`].
//!
//! Columns of `cells/<cell>.parquet`:
//!
//! | column | type | meaning |
//! |---|---|---|
//! | `trial` | u32 | trial id, 0-based in start order |
//! | `worker` | u32 | worker that ran the step |
//! | `epoch` | u32 | fidelity reached by the step (1-based) |
//! | `start`, `end` | f64 | seconds (simulated, or since a live study began) at which the step started and ended |
//! | `launch_seconds` | f64 | seconds at the beginning of `start..end` that were the process's start-up or resume (the first step of a launch); 0 for the other steps; NaN in a live study where the training script does not report `step_seconds` |
//! | `exit_seconds` | f64 | seconds after `end` until the step's process exited (the last step of a launch), during which the worker was busy; 0 for the other steps |
//! | one column per objective | f64 | the metrics (NaN where the run diverged or failed) |
//! | `status` | str | `ok`, `diverged`, or (live studies only) `failed` |
//! | `decision` | str | what happened next: `continue`, `pause`, `stop`, `done`, `cut` |
//! | `config_<name>` | f64, i64, bool or str | the trial's hyperparameters; null where inactive |
//!
//! Population-based training starts trials from another trial's checkpoint; such a trial's first
//! row is the step after the copied one, and every such exploit is listed in
//! `cells/<cell>.exploits.json` ([`Exploit`]), from which the lineage of the population follows.

use crate::config::Config;
use crate::objective::Objective;
use serde::{Deserialize, Serialize};

/// The names of the trace's columns, shared by the writer and every reader.
pub mod columns {
    /// Trial id.
    pub const TRIAL: &str = "trial";
    /// Worker.
    pub const WORKER: &str = "worker";
    /// Fidelity reached by the step.
    pub const EPOCH: &str = "epoch";
    /// When the step started.
    pub const START: &str = "start";
    /// When the step ended.
    pub const END: &str = "end";
    /// Launch overhead (start-up or resume) at the beginning of the step.
    pub const LAUNCH_SECONDS: &str = "launch_seconds";
    /// Shutdown after the step (the last of its launch).
    pub const EXIT_SECONDS: &str = "exit_seconds";
    /// `ok`, `diverged` or `failed`.
    pub const STATUS: &str = "status";
    /// `continue`, `pause`, `stop`, `done` or `cut`.
    pub const DECISION: &str = "decision";
    /// Prefix of the hyperparameter columns (`config_<name>`).
    pub const CONFIG_PREFIX: &str = "config_";
}

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

    /// The status a trace label names (the inverse of [`EpochStatus::as_str`]).
    pub fn from_label(label: &str) -> Option<Self> {
        [EpochStatus::Ok, EpochStatus::Diverged, EpochStatus::Failed].into_iter().find(|s| s.as_str() == label)
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

    /// The outcome a trace label names (the inverse of [`TrialOutcome::as_str`]).
    pub fn from_label(label: &str) -> Option<Self> {
        [TrialOutcome::Continue, TrialOutcome::Pause, TrialOutcome::Stop, TrialOutcome::Done, TrialOutcome::Cut]
            .into_iter()
            .find(|o| o.as_str() == label)
    }
}

/// One completed step, minus its metrics.
#[derive(Clone, Copy, Debug)]
pub struct Row {
    /// Trial id.
    pub trial: u32,
    /// Worker.
    pub worker: u32,
    /// Fidelity reached.
    pub epoch: u32,
    /// Start time (seconds).
    pub start: f64,
    /// End time (seconds).
    pub end: f64,
    /// Seconds at the beginning of `start..end` spent starting or resuming the step's process
    /// (0 unless the step is the first of its launch).
    pub launch_seconds: f64,
    /// Whether the metrics were usable.
    pub status: EpochStatus,
    /// What happened to the trial next.
    pub outcome: TrialOutcome,
}

/// A trial started from another trial's checkpoint (population-based training's exploit and
/// explore): `trial` continues `donor`'s training after `step` with its own configuration and
/// replaces `recipient` in the population.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Exploit {
    /// Time of the exploit (seconds).
    pub time: f64,
    /// The new trial.
    pub trial: u32,
    /// The trial whose checkpoint was copied.
    pub donor: u32,
    /// The trial replaced (its configuration is the "old" one).
    pub recipient: u32,
    /// The donor's step whose checkpoint was copied; the new trial's first step is `step + 1`.
    pub step: u32,
}

/// Which rows a simulated cell's trace keeps (the experiment's `trace` key).
///
/// Syne Tune's simulator keeps no trace at all; hposim keeps every step by default, because
/// the report's any-fidelity incumbent and the figures of runs over time read them. At the
/// decisions level a cell keeps one row per *run segment*: the steps of a trial between two of
/// its scheduler's decisions (a rung, a pause, a stop, the end) are one row whose `start` is
/// the segment's first step's start, whose `launch_seconds` is that step's, and whose `epoch`,
/// `end`, metrics and `decision` are those of the step the scheduler decided on. Everything
/// the default (highest-fidelity) incumbent, the summaries and the decisions need is kept
/// exactly: the same decisions, at the same times, with the same results; what is lost is the
/// value of the intermediate steps (the any-fidelity incumbent sees only decided results) and
/// the compute of a segment still running when the cell ends (the summary still counts it).
/// The simulator then tells a scheduler only the results it asks for
/// (`Scheduler::next_decision`), which is most of the gain.
///
/// One exception: when the simulator runs a trial's steps up to its next decision as one event,
/// results that complete at exactly the same instant on different workers are taken in the
/// order their runs started rather than the order their last steps started, so where step
/// completions tie exactly (benchmarks whose steps all cost the same: `zdt`, `dtlz2`,
/// `counting_ones`, `pbt_toy`, `training_dynamics`; two trials of one recorded configuration
/// started together) the scheduler may hear simultaneous results in another order, and decide
/// differently from then on. With step costs that vary between trials, as on recorded and
/// synthetic learning curves, the levels agree (`crates/sim/tests/trace_levels.rs`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TraceLevel {
    /// A row per completed step (the default).
    #[default]
    Steps,
    /// A row per run segment: the results a scheduler decided on.
    Decisions,
}

impl TraceLevel {
    /// Whether this is the default level (every step), which cell identities leave out.
    pub fn is_steps(&self) -> bool {
        *self == TraceLevel::Steps
    }
}

/// A cell's trace, held in memory column by column.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Trace {
    /// Objective names and directions, one metric per objective per row.
    pub objectives: Vec<Objective>,
    /// Trial of each row.
    pub trial: Vec<u32>,
    /// Worker of each row.
    pub worker: Vec<u32>,
    /// Fidelity of each row.
    pub epoch: Vec<u32>,
    /// Start time of each row.
    pub start: Vec<f64>,
    /// End time of each row.
    pub end: Vec<f64>,
    /// Launch overhead at the beginning of each row ([`columns::LAUNCH_SECONDS`]).
    pub launch_seconds: Vec<f64>,
    /// Shutdown after each row ([`columns::EXIT_SECONDS`]).
    pub exit_seconds: Vec<f64>,
    /// Metrics, row-major: `objectives.len()` values per row.
    pub metrics: Vec<f64>,
    /// Status of each row.
    pub status: Vec<EpochStatus>,
    /// Outcome after each row.
    pub outcome: Vec<TrialOutcome>,
    /// Configuration of each trial, by trial id.
    pub configs: Vec<Config>,
    /// Trials started from another trial's checkpoint, in the order they started.
    pub exploits: Vec<Exploit>,
    /// Rows written out and dropped from memory while the cell ran ([`Trace::forget_rows`]),
    /// summarised; empty for a trace held whole.
    pub written: WrittenRows,
}

/// What a cell's summary needs from the rows of its trace that were written to disk and dropped
/// from memory as the cell ran, so that a cell's memory depends on its live state (trials,
/// rungs, models), not on how many steps it has run.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct WrittenRows {
    /// Rows written.
    pub rows: u64,
    /// Their launch and exit overhead ([`Trace::overhead_seconds`]).
    pub overhead_seconds: f64,
    /// The best value of the first objective among their `ok` rows.
    pub best: Option<f64>,
    /// The same at or above full fidelity.
    pub best_full: Option<f64>,
    /// The metrics (every objective, row-major) of their `ok` rows at or above full fidelity,
    /// whose hypervolume a multi-objective summary reports: at most one per trial that reached
    /// full fidelity.
    pub full_results: Vec<f64>,
}

/// Where rows of a trace go as a cell runs (a Parquet file written in row groups, in
/// `hposim-results`); `config_of` gives each trial's configuration.
pub trait RowSink {
    /// Appends every row of `rows` (whose [`Trace::written`] rows went before).
    fn write_rows<'c>(&mut self, rows: &Trace, config_of: &dyn Fn(u32) -> Option<&'c Config>) -> Result<(), String>;
}

impl Trace {
    /// An empty trace with room for `rows` rows.
    pub fn with_capacity(objectives: Vec<Objective>, rows: usize) -> Self {
        let k = objectives.len();
        Self {
            objectives,
            trial: Vec::with_capacity(rows),
            worker: Vec::with_capacity(rows),
            epoch: Vec::with_capacity(rows),
            start: Vec::with_capacity(rows),
            end: Vec::with_capacity(rows),
            launch_seconds: Vec::with_capacity(rows),
            exit_seconds: Vec::with_capacity(rows),
            metrics: Vec::with_capacity(rows * k),
            status: Vec::with_capacity(rows),
            outcome: Vec::with_capacity(rows),
            configs: Vec::new(),
            exploits: Vec::new(),
            written: WrittenRows::default(),
        }
    }

    /// Appends a row (amortised constant time; no allocation while capacity lasts).
    #[inline]
    pub fn push(&mut self, row: Row, metrics: &[f64]) {
        self.trial.push(row.trial);
        self.worker.push(row.worker);
        self.epoch.push(row.epoch);
        self.start.push(row.start);
        self.end.push(row.end);
        self.launch_seconds.push(row.launch_seconds);
        self.exit_seconds.push(0.0);
        self.metrics.extend_from_slice(metrics);
        self.status.push(row.status);
        self.outcome.push(row.outcome);
    }

    /// A step the trace does not keep ([`TraceLevel::Decisions`]) had the finite value `value`
    /// of the first objective: it still counts for [`Trace::best`], as a kept row would.
    #[inline]
    pub fn note_unkept(&mut self, value: f64) {
        let objective = &self.objectives[0];
        if self.written.best.is_none_or(|b| objective.better(value, b)) {
            self.written.best = Some(value);
        }
    }

    /// Launch overhead of run segments that were still open when the cell ended
    /// ([`TraceLevel::Decisions`]): no row keeps it, [`Trace::overhead_seconds`] does.
    pub fn note_unkept_overhead(&mut self, seconds: f64) {
        self.written.overhead_seconds += seconds;
    }

    /// The process of `trial`'s latest row took `seconds` to exit after it: recorded on that
    /// row. Rows are searched from the end, where a trial that just stopped running has its
    /// latest row.
    pub fn set_exit_seconds(&mut self, trial: u32, seconds: f64) {
        if let Some(row) = self.trial.iter().rposition(|&t| t == trial) {
            self.exit_seconds[row] = seconds;
        }
    }

    /// Launch and exit overhead over all rows, those written out included, in worker-seconds
    /// (NaN values, unknown in a live study, count as 0).
    pub fn overhead_seconds(&self) -> f64 {
        self.written.overhead_seconds + self.launch_seconds.iter().chain(&self.exit_seconds).filter(|x| x.is_finite()).sum::<f64>()
    }

    /// Rows of the whole trace: those written out and those in memory.
    pub fn total_rows(&self) -> u64 {
        self.written.rows + self.len() as u64
    }

    /// The best value of the first objective over `ok` rows (any fidelity, and at or above
    /// `full_fidelity`), those written out included.
    pub fn best(&self, full_fidelity: u32) -> (Option<f64>, Option<f64>) {
        let objective = &self.objectives[0];
        let better = |a: Option<f64>, b: f64| if a.is_none_or(|a| objective.better(b, a)) { Some(b) } else { a };
        let (mut best, mut best_full) = (self.written.best, self.written.best_full);
        for row in 0..self.len() {
            if self.status[row] != EpochStatus::Ok {
                continue;
            }
            let value = self.metrics_of(row)[0];
            best = better(best, value);
            if self.epoch[row] >= full_fidelity {
                best_full = better(best_full, value);
            }
        }
        (best, best_full)
    }

    /// The rows in memory that are `ok` at or above `full_fidelity`.
    fn full_rows(&self, full_fidelity: u32) -> impl Iterator<Item = usize> + '_ {
        (0..self.len()).filter(move |&r| self.status[r] == EpochStatus::Ok && self.epoch[r] >= full_fidelity)
    }

    /// The metrics of every `ok` row at or above `full_fidelity`, those written out included.
    pub fn full_results(&self, full_fidelity: u32) -> Vec<Vec<f64>> {
        let k = self.objectives.len();
        let written = self.written.full_results.chunks(k.max(1)).map(<[f64]>::to_vec);
        written.chain(self.full_rows(full_fidelity).map(|r| self.metrics_of(r).to_vec())).collect()
    }

    /// Summarises every row in memory into [`Trace::written`] and drops it, keeping the
    /// columns' capacity (no allocation for the next rows): call once the rows are written out,
    /// and only when none of them can still change (their exit overhead is recorded). Exploits
    /// and configurations stay.
    pub fn forget_rows(&mut self, full_fidelity: u32) {
        let (best, best_full) = self.best(full_fidelity);
        let overhead = self.overhead_seconds();
        let mut full_results = std::mem::take(&mut self.written.full_results);
        for row in self.full_rows(full_fidelity) {
            full_results.extend_from_slice(self.metrics_of(row));
        }
        self.written = WrittenRows { rows: self.total_rows(), overhead_seconds: overhead, best, best_full, full_results };
        self.trial.clear();
        self.worker.clear();
        self.epoch.clear();
        self.start.clear();
        self.end.clear();
        self.launch_seconds.clear();
        self.exit_seconds.clear();
        self.metrics.clear();
        self.status.clear();
        self.outcome.clear();
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.trial.len()
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.trial.is_empty()
    }

    /// The metrics of row `row`.
    pub fn metrics_of(&self, row: usize) -> &[f64] {
        let k = self.objectives.len();
        &self.metrics[row * k..(row + 1) * k]
    }

    /// Checks what every trace (simulated or live) satisfies, whatever the strategy: per trial,
    /// steps follow one another (`continue` → the next step; `pause` → the next step with
    /// checkpointing, step 1 without), pauses come at rising fidelities (a trial is never
    /// promoted twice from one rung), nothing follows `stop`, `done` or `cut`, a diverged or
    /// failed row stops its trial, and no step ends before it starts or before the trial's
    /// previous step ended. A trial started from a checkpoint ([`Trace::exploits`]) begins at
    /// the step after the copied one, its donor had reached that step, and both donor and
    /// recipient started before it (so the lineage is a forest). The first violation is returned
    /// in words.
    pub fn check_invariants(&self, checkpointing: bool) -> Result<(), String> {
        let trials = self.configs.len().max(self.trial.iter().map(|&t| t as usize + 1).max().unwrap_or(0));
        let mut last: Vec<Option<usize>> = vec![None; trials];
        let mut pauses: Vec<u32> = vec![0; trials];
        let mut first: Vec<u32> = vec![1; trials];
        for exploit in &self.exploits {
            let t = exploit.trial as usize;
            if exploit.donor >= exploit.trial || exploit.recipient >= exploit.trial || t >= trials {
                return Err(format!(
                    "exploit into trial {t}: donor {} and recipient {} must be earlier trials",
                    exploit.donor, exploit.recipient
                ));
            }
            let donor_reached = (0..self.len()).any(|r| self.trial[r] == exploit.donor && self.epoch[r] == exploit.step)
                || self.exploits.iter().any(|e| e.trial == exploit.donor && e.step == exploit.step);
            if !donor_reached {
                return Err(format!("exploit into trial {t}: donor {} never reached step {}", exploit.donor, exploit.step));
            }
            first[t] = exploit.step + 1;
        }
        for row in 0..self.len() {
            let t = self.trial[row] as usize;
            let (epoch, start, end) = (self.epoch[row], self.start[row], self.end[row]);
            if start > end {
                return Err(format!("row {row}: trial {t} step {epoch} ends ({end}) before it starts ({start})"));
            }
            if self.status[row] != EpochStatus::Ok && self.outcome[row] != TrialOutcome::Stop {
                return Err(format!("row {row}: trial {t} is {} at step {epoch} but not stopped", self.status[row].as_str()));
            }
            let expected = match last[t] {
                None => first[t],
                Some(prev) => match self.outcome[prev] {
                    TrialOutcome::Continue => self.epoch[prev] + 1,
                    TrialOutcome::Pause => {
                        if self.epoch[prev] <= pauses[t] {
                            return Err(format!("row {prev}: trial {t} paused at {} after a pause at {}", self.epoch[prev], pauses[t]));
                        }
                        pauses[t] = self.epoch[prev];
                        if checkpointing { self.epoch[prev] + 1 } else { 1 }
                    }
                    other => return Err(format!("row {row}: trial {t} has a step after its decision {:?}", other.as_str())),
                },
            };
            if epoch != expected {
                return Err(format!("row {row}: trial {t} reached step {epoch} where step {expected} was due"));
            }
            if let Some(prev) = last[t]
                && end < self.end[prev]
            {
                return Err(format!("row {row}: trial {t} step {epoch} ends before its previous step"));
            }
            last[t] = Some(row);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trace(rows: &[(u32, u32, TrialOutcome)]) -> Trace {
        let mut trace = Trace::with_capacity(vec![Objective::minimize("loss")], rows.len());
        for (i, &(trial, epoch, outcome)) in rows.iter().enumerate() {
            let t = i as f64;
            trace.push(
                Row { trial, worker: 0, epoch, start: t, end: t + 1.0, launch_seconds: 0.0, status: EpochStatus::Ok, outcome },
                &[0.5],
            );
        }
        trace
    }

    #[test]
    fn invariants_hold_for_a_valid_trace_and_each_violation_is_named() {
        use TrialOutcome::{Continue, Done, Pause, Stop};
        let valid = trace(&[(0, 1, Continue), (1, 1, Pause), (0, 2, Pause), (1, 2, Stop), (0, 3, Done)]);
        assert_eq!(valid.check_invariants(true), Ok(()));
        // Without checkpointing a resumed trial restarts at step 1.
        assert_eq!(trace(&[(0, 1, Pause), (0, 1, Continue), (0, 2, Done)]).check_invariants(false), Ok(()));
        let broken =
            |rows: &[(u32, u32, TrialOutcome)], checkpointing: bool| trace(rows).check_invariants(checkpointing).err().unwrap_or_default();
        assert!(broken(&[(0, 2, Continue)], true).contains("step 1 was due"));
        assert!(broken(&[(0, 1, Continue), (0, 3, Done)], true).contains("step 2 was due"));
        assert!(broken(&[(0, 1, Pause), (0, 2, Done)], false).contains("step 1 was due"));
        assert!(broken(&[(0, 1, Stop), (0, 2, Done)], true).contains("after its decision \"stop\""));
        assert!(broken(&[(0, 1, Pause), (0, 1, Pause), (0, 1, Done)], false).contains("paused at 1 after a pause at 1"));
        let mut failed = trace(&[(0, 1, Continue)]);
        failed.status[0] = EpochStatus::Failed;
        assert!(failed.check_invariants(true).err().unwrap_or_default().contains("failed at step 1 but not stopped"));
        let mut backwards = trace(&[(0, 1, Done)]);
        backwards.start[0] = 5.0;
        assert!(backwards.check_invariants(true).err().unwrap_or_default().contains("before it starts"));
    }
}
