//! What a finished cell hands back: its trace and its totals. The simulator and live studies
//! both produce a [`CellOutcome`], from which [`crate::summary::summary_of`] makes the summary
//! record.

use crate::budget::StopReason;
use crate::trace::Trace;

/// Totals of a cell, simulated or live.
#[derive(Clone, Debug, PartialEq)]
pub struct CellStats {
    /// Trials started.
    pub trials: u64,
    /// Steps completed.
    pub epochs: u64,
    /// Steps completed at full fidelity.
    pub full_evaluations: u64,
    /// Trials stopped because they diverged.
    pub diverged_trials: u64,
    /// Worker-seconds paid for (partial steps cut off by the end included): training steps and
    /// launch overhead.
    pub compute_seconds: f64,
    /// The part of `compute_seconds` that was launch overhead: processes starting, resuming
    /// from checkpoints and shutting down ([`crate::overhead`]); 0 on benchmarks without an
    /// overhead model.
    pub overhead_seconds: f64,
    /// Simulated time at the end.
    pub wallclock_seconds: f64,
    /// Worker-seconds without work: `workers × wallclock − compute`.
    pub idle_seconds: f64,
    /// Worker-seconds that training every started trial from scratch to full fidelity would
    /// cost: the compute of the same trials without early termination.
    pub full_training_seconds: f64,
    /// The compute of the same decisions with checkpointing: `compute_seconds` if the cell
    /// checkpoints, else `compute_seconds` minus the steps repeated after restarts.
    pub compute_with_checkpointing_seconds: f64,
    /// The compute of the same decisions without checkpointing: `compute_seconds` if the cell
    /// restarts paused trials, else `compute_seconds` plus, for every resume, the steps a
    /// restart would have repeated.
    pub compute_without_checkpointing_seconds: f64,
    /// Why the cell ended.
    pub stop_reason: StopReason,
    /// Proposals where the sampler's model failed and it fell back to a random configuration.
    pub sampler_warnings: u64,
}

/// A finished cell (simulated, or a live study): its trace and totals.
#[derive(Clone, Debug)]
pub struct CellOutcome {
    /// Every completed step.
    pub trace: Trace,
    /// Totals.
    pub stats: CellStats,
}
