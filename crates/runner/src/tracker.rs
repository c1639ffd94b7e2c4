//! Experiment tracking: a study reports every trial to a [`Tracker`] (an MLflow server, see
//! [`crate::mlflow`]). Tracking never stops a study: a failed call becomes a warning.

use serde_json::{Map, Value as Json};

/// Receives the life of every trial of a live study.
pub trait Tracker {
    /// A study (strategy `strategy` of experiment `experiment`, results cell `cell`) begins or
    /// resumes; the trials reported next belong to it.
    fn begin_study(&mut self, experiment: &str, strategy: &str, cell: &str) -> Result<(), String>;

    /// Trial `trial` started for the first time with `config`.
    fn trial_started(&mut self, trial: u32, config: &Map<String, Json>) -> Result<(), String>;

    /// Trial `trial` (in bracket `bracket`, for schedulers with brackets) reported `metrics`
    /// (one per objective) and `extra` at `step`; the strategy decided `decision` (the trace's
    /// label).
    fn step(
        &mut self,
        trial: u32,
        step: u32,
        metrics: &[f64],
        extra: &[(String, f64)],
        decision: &str,
        bracket: Option<u64>,
    ) -> Result<(), String>;

    /// Trial `trial` ended: `FINISHED`, `KILLED` (stopped early) or `FAILED`.
    fn trial_ended(&mut self, trial: u32, status: &str) -> Result<(), String>;
}
