//! The trace of a cell: one row per completed step of a trial, in the order the steps completed
//! (so simulated time never decreases down the rows), stored column by column so that recording
//! a step is a handful of pushes, and written to Parquet through polars.
//!
//! Columns of `cells/<cell>.parquet`:
//!
//! | column | type | meaning |
//! |---|---|---|
//! | `trial` | u32 | trial id, 0-based in start order |
//! | `worker` | u32 | simulated worker that ran the step |
//! | `epoch` | u32 | fidelity reached by the step (1-based) |
//! | `start`, `end` | f64 | simulated seconds at which the step started and ended |
//! | one column per objective | f64 | the metrics (NaN where the run diverged) |
//! | `status` | str | `ok`, `diverged`, or (live studies only) `failed` |
//! | `decision` | str | what happened next: `continue`, `pause`, `stop`, `done`, `cut` |
//! | `config_<name>` | f64, i64, bool or str | the trial's hyperparameters; null where inactive |
//!
//! Population-based training starts trials from another trial's checkpoint; such a trial's first
//! row is the step after the copied one, and every such exploit is listed in
//! `cells/<cell>.exploits.json` ([`Exploit`]), from which the lineage of the population follows.

use hposim_core::{Choice, Config, Domain, EpochStatus, Objective, SearchSpace, TrialOutcome, Value};
use polars::prelude::{Column, DataFrame, ParquetCompression, ParquetReader, ParquetWriter, PolarsResult, SerReader};
use std::fs::File;
use std::io::Write;
use std::path::Path;

pub use hposim_core::TRACE_FORMAT_VERSION;

/// One completed step, minus its metrics.
#[derive(Clone, Copy, Debug)]
pub struct Row {
    /// Trial id.
    pub trial: u32,
    /// Worker.
    pub worker: u32,
    /// Fidelity reached.
    pub epoch: u32,
    /// Simulated start time.
    pub start: f64,
    /// Simulated end time.
    pub end: f64,
    /// Whether the metrics were usable.
    pub status: EpochStatus,
    /// What happened to the trial next.
    pub outcome: TrialOutcome,
}

/// A trial started from another trial's checkpoint (population-based training's exploit and
/// explore): `trial` continues `donor`'s training after `step` with its own configuration and
/// replaces `recipient` in the population.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Exploit {
    /// Simulated time of the exploit.
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
            metrics: Vec::with_capacity(rows * k),
            status: Vec::with_capacity(rows),
            outcome: Vec::with_capacity(rows),
            configs: Vec::new(),
            exploits: Vec::new(),
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
        self.metrics.extend_from_slice(metrics);
        self.status.push(row.status);
        self.outcome.push(row.outcome);
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

    /// The trace as a polars data frame (see the module documentation for the columns).
    pub fn to_dataframe(&self, space: &SearchSpace) -> PolarsResult<DataFrame> {
        let k = self.objectives.len();
        let mut columns = vec![
            Column::new("trial".into(), &self.trial),
            Column::new("worker".into(), &self.worker),
            Column::new("epoch".into(), &self.epoch),
            Column::new("start".into(), &self.start),
            Column::new("end".into(), &self.end),
        ];
        for (i, objective) in self.objectives.iter().enumerate() {
            let values: Vec<f64> = self.metrics.iter().skip(i).step_by(k).copied().collect();
            columns.push(Column::new(objective.name.as_str().into(), values));
        }
        let status: Vec<&str> = self.status.iter().map(|s| s.as_str()).collect();
        let decision: Vec<&str> = self.outcome.iter().map(|o| o.as_str()).collect();
        columns.push(Column::new("status".into(), status));
        columns.push(Column::new("decision".into(), decision));
        for (index, param) in space.params().iter().enumerate() {
            let name = format!("config_{}", param.name);
            let value_of = |row: usize| self.configs.get(self.trial[row] as usize).map_or(Value::Inactive, |c| c.get(index));
            columns.push(config_column(&name, &param.domain, self.len(), value_of));
        }
        DataFrame::new(self.len(), columns)
    }

    /// Writes the trace to `out` as Parquet, Snappy-compressed (single-threaded, deterministic
    /// bytes).
    pub fn write_parquet(&self, space: &SearchSpace, out: &mut impl Write) -> PolarsResult<()> {
        let mut frame = self.to_dataframe(space)?;
        ParquetWriter::new(out).with_compression(ParquetCompression::Snappy).set_parallel(false).finish(&mut frame)?;
        Ok(())
    }
}

impl Trace {
    /// The exploits as JSON: one object per exploit with `time`, `step`, `trial`, `donor`,
    /// `recipient`, and the configurations `old_config` (the recipient's) and `new_config` (the
    /// new trial's, the donor's configuration after explore) by parameter name.
    pub fn exploits_json(&self, space: &SearchSpace) -> serde_json::Value {
        let config_of = |t: u32| self.configs.get(t as usize).map(|c| serde_json::Value::Object(c.to_json(space)));
        serde_json::Value::Array(
            self.exploits
                .iter()
                .map(|e| {
                    serde_json::json!({
                        "time": e.time,
                        "step": e.step,
                        "trial": e.trial,
                        "donor": e.donor,
                        "recipient": e.recipient,
                        "old_config": config_of(e.recipient),
                        "new_config": config_of(e.trial),
                    })
                })
                .collect(),
        )
    }
}

fn config_column(name: &str, domain: &Domain, rows: usize, value_of: impl Fn(usize) -> Value) -> Column {
    match domain {
        Domain::Float { .. } => {
            let values: Vec<Option<f64>> = (0..rows).map(|r| if let Value::Float(x) = value_of(r) { Some(x) } else { None }).collect();
            Column::new(name.into(), values)
        }
        Domain::Int { .. } => {
            let values: Vec<Option<i64>> = (0..rows).map(|r| if let Value::Int(i) = value_of(r) { Some(i) } else { None }).collect();
            Column::new(name.into(), values)
        }
        Domain::Categorical { choices } | Domain::Ordinal { values: choices } => {
            let choice_of = |r: usize| if let Value::Choice(c) = value_of(r) { choices.get(c as usize) } else { None };
            if choices.iter().all(|c| c.as_f64().is_some()) {
                let values: Vec<Option<f64>> = (0..rows).map(|r| choice_of(r).and_then(Choice::as_f64)).collect();
                Column::new(name.into(), values)
            } else if choices.iter().all(|c| matches!(c, Choice::Bool(_))) {
                let values: Vec<Option<bool>> = (0..rows).map(|r| choice_of(r).map(|c| matches!(c, Choice::Bool(true)))).collect();
                Column::new(name.into(), values)
            } else {
                // Borrowed labels: no allocation per row.
                let labels: Vec<String> = choices.iter().map(|c| if let Choice::Text(s) = c { s.clone() } else { c.to_string() }).collect();
                let values: Vec<Option<&str>> = (0..rows)
                    .map(|r| if let Value::Choice(c) = value_of(r) { labels.get(c as usize).map(String::as_str) } else { None })
                    .collect();
                Column::new(name.into(), values)
            }
        }
    }
}

/// Reads a trace file written by [`Trace::write_parquet`].
pub fn read_parquet(path: &Path) -> PolarsResult<DataFrame> {
    ParquetReader::new(File::open(path)?).finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trace(rows: &[(u32, u32, TrialOutcome)]) -> Trace {
        let mut trace = Trace::with_capacity(vec![Objective::minimize("loss")], rows.len());
        for (i, &(trial, epoch, outcome)) in rows.iter().enumerate() {
            let t = i as f64;
            trace.push(Row { trial, worker: 0, epoch, start: t, end: t + 1.0, status: EpochStatus::Ok, outcome }, &[0.5]);
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
