//! Budgets: when a cell stops. Any combination may be set; the first one reached ends the cell.

use serde::{Deserialize, Serialize};

/// The `[budget]` table of an experiment.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Budget {
    /// Simulated wall-clock seconds: epochs that would end later are not observed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wallclock_seconds: Option<f64>,
    /// Worker-seconds of training: no epoch starts once the epochs started so far add up to
    /// this, so a cell overshoots by less than one epoch per worker.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compute_seconds: Option<f64>,
    /// Trials started: the sampler proposes no more; running trials finish.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trials: Option<u64>,
    /// Results at full fidelity: no step starts once this many have arrived, and the cell ends
    /// after the steps completing at that same instant are recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub full_evaluations: Option<u64>,
}

impl Budget {
    /// Checks that at least one limit is set and every limit is positive; on failure returns the
    /// offending key (relative to `budget`) and what is wrong.
    pub fn validate(&self) -> Result<(), (String, String)> {
        if self.wallclock_seconds.is_none() && self.compute_seconds.is_none() && self.trials.is_none() && self.full_evaluations.is_none() {
            return Err((
                String::new(),
                "no budget: set at least one of wallclock_seconds, compute_seconds, trials, full_evaluations".into(),
            ));
        }
        for (key, value) in [("wallclock_seconds", self.wallclock_seconds), ("compute_seconds", self.compute_seconds)] {
            if let Some(v) = value
                && !(v.is_finite() && v > 0.0 && v <= MAX_SECONDS)
            {
                return Err((
                    key.into(),
                    format!("must be a positive number of seconds, at most {MAX_SECONDS:e} (about 31,700 years), got {v}"),
                ));
            }
        }
        for (key, value) in [("trials", self.trials), ("full_evaluations", self.full_evaluations)] {
            if value == Some(0) {
                return Err((key.into(), "must be at least 1".into()));
            }
            if let Some(v) = value.filter(|&v| v > MAX_TRIALS) {
                return Err((key.into(), format!("must be at most {MAX_TRIALS} (a cell keeps every trial's state in memory), got {v}")));
            }
        }
        Ok(())
    }
}

/// Largest wall-clock or compute budget: 10^12 seconds (about 31,700 years). A larger one cannot
/// be meant; a budget that is too large for its benchmark's step cost is stopped by the
/// simulator's step limit instead.
pub const MAX_SECONDS: f64 = 1e12;

/// Largest trial or full-evaluation budget, and the most trials a cell starts: 10^7.
pub const MAX_TRIALS: u64 = 10_000_000;

/// Why a cell ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StopReason {
    /// The simulated wall-clock budget ran out.
    Wallclock,
    /// The compute budget ran out.
    Compute,
    /// Enough full-fidelity results arrived.
    FullEvaluations,
    /// The strategy had nothing more to run (a finished grid, the trial budget reached and all
    /// trials done, or every worker told to finish).
    StrategyFinished,
    /// Nothing was running but the scheduler kept answering `Wait`: it waited for results that
    /// could never come (a scheduler defect, reported rather than hidden).
    Stalled,
}

impl StopReason {
    /// The label written to summaries.
    pub fn as_str(self) -> &'static str {
        match self {
            StopReason::Wallclock => "budget:wallclock",
            StopReason::Compute => "budget:compute",
            StopReason::FullEvaluations => "budget:full_evaluations",
            StopReason::StrategyFinished => "strategy_finished",
            StopReason::Stalled => "strategy_stalled",
        }
    }

    /// The reason a summary label names (the inverse of [`StopReason::as_str`]).
    pub fn from_label(label: &str) -> Option<Self> {
        [StopReason::Wallclock, StopReason::Compute, StopReason::FullEvaluations, StopReason::StrategyFinished, StopReason::Stalled]
            .into_iter()
            .find(|r| r.as_str() == label)
    }
}
