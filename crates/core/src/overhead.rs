//! Launch overhead: what a training process costs besides its steps.
//!
//! A real trial is a process. Before its first step it starts an interpreter, imports its
//! libraries, loads data and builds its model (start-up); a paused trial that is resumed starts
//! a new process that also loads its checkpoint (resume); after its last step the process saves
//! and exits (shutdown). A replay that charges only recorded step times misses all three, and
//! misses them exactly for the strategies that pause and resume (successive halving, ASHA's
//! promotion variant, HyperBand, PBT): on a 2-core machine with a small scikit-learn model,
//! `hposim validate` predicted half of the live compute without them.
//!
//! Both executors charge a launch the same way (the simulator in `hposim-sim`, the live study's
//! replay executor in `hposim-runner`): a process starts on a worker once the worker's previous
//! process (and the trial's own previous process) has exited; its first step ends
//! `overhead + step cost` later, the overhead being [`LaunchOverhead::startup`] for a trial's
//! first launch (and for a restart from step 0 without checkpointing) and
//! [`LaunchOverhead::resume`] for a launch from a checkpoint (a resumed trial, or a trial
//! started from another trial's checkpoint by population-based training); after the launch's
//! last step the worker stays busy for [`LaunchOverhead::shutdown`]. All three count as compute
//! (workers are paid for them) and are reported apart from training compute. The trace shows
//! them in its `launch_seconds` and `exit_seconds` columns ([`crate::trace`]).
//!
//! With [`LaunchOverhead::noise`] `σ_rel > 0`, each launch's overhead is the mean times a
//! log-normal factor with mean 1 and coefficient of variation `σ_rel`
//! (`exp(s·z − s²/2)`, `s² = ln(1 + σ_rel²)`, `z` standard normal), drawn from the trial's
//! noise stream and the launch's first step, so that it depends on the configuration and the
//! step alone (common random numbers), never on the strategy.

use crate::rng::{mix, stateless_normal};
use serde::{Deserialize, Serialize};

/// The largest overhead accepted, in seconds (a year): larger values are typos, and would let
/// a budget never end.
pub const MAX_OVERHEAD_SECONDS: f64 = 3.2e7;

/// Per-launch overhead of a benchmark's training processes, in seconds (means).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LaunchOverhead {
    /// From a new trial's launch to the start of its first step: interpreter start-up,
    /// imports, data loading, model construction.
    #[serde(default)]
    pub startup: f64,
    /// From a relaunch from a checkpoint to the start of its first step: start-up plus loading
    /// the checkpoint.
    #[serde(default)]
    pub resume: f64,
    /// From a launch's last step report to its process's exit (saving a checkpoint, freeing the
    /// device, interpreter shutdown).
    #[serde(default)]
    pub shutdown: f64,
    /// Coefficient of variation of each launch's overhead around its mean (0: fixed).
    #[serde(default)]
    pub noise: f64,
}

/// Which overhead a launch pays.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OverheadKind {
    /// A trial's first process (or a restart from step 0).
    Startup,
    /// A process that loads a checkpoint.
    Resume,
    /// A process's exit after its last step.
    Shutdown,
}

impl OverheadKind {
    /// What a launch that trains from step `done + 1` pays: a start-up from step 0, a resume
    /// from a checkpoint (a paused trial's, or a donor's copied by population-based training).
    pub fn of_launch_after(done: u32) -> Self {
        if done == 0 { OverheadKind::Startup } else { OverheadKind::Resume }
    }
}

impl LaunchOverhead {
    /// No overhead: what a replay of step times alone charges.
    pub const ZERO: LaunchOverhead = LaunchOverhead { startup: 0.0, resume: 0.0, shutdown: 0.0, noise: 0.0 };

    /// Whether every launch is free.
    pub fn is_zero(&self) -> bool {
        self.startup == 0.0 && self.resume == 0.0 && self.shutdown == 0.0
    }

    /// The mean of `kind`.
    pub fn mean(&self, kind: OverheadKind) -> f64 {
        match kind {
            OverheadKind::Startup => self.startup,
            OverheadKind::Resume => self.resume,
            OverheadKind::Shutdown => self.shutdown,
        }
    }

    /// Checks every value; the error names the key (`startup`, `resume`, `shutdown`, `noise`).
    pub fn check(&self) -> Result<(), (&'static str, String)> {
        for (key, value) in [("startup", self.startup), ("resume", self.resume), ("shutdown", self.shutdown)] {
            if !(value.is_finite() && (0.0..=MAX_OVERHEAD_SECONDS).contains(&value)) {
                return Err((key, format!("must be seconds between 0 and {MAX_OVERHEAD_SECONDS:e}, got {value}")));
            }
        }
        if !(self.noise.is_finite() && (0.0..=10.0).contains(&self.noise)) {
            return Err(("noise", format!("must be a coefficient of variation between 0 and 10, got {}", self.noise)));
        }
        Ok(())
    }

    /// What training a trial (noise stream `trial_seed`) to full fidelity `max` in one launch
    /// adds to its steps: one start-up and one shutdown (the yardstick of full training).
    pub fn whole_run(&self, trial_seed: u64, max: u32) -> f64 {
        self.draw(OverheadKind::Startup, trial_seed, 1) + self.draw(OverheadKind::Shutdown, trial_seed, max)
    }

    /// The overhead of one launch of kind `kind` of the trial whose noise stream is `trial_seed`,
    /// at step `step` (the launch's first step; for a shutdown, the launch's last step).
    /// Constant time, no allocation.
    #[inline]
    pub fn draw(&self, kind: OverheadKind, trial_seed: u64, step: u32) -> f64 {
        let mean = self.mean(kind);
        if self.noise == 0.0 || mean == 0.0 {
            return mean;
        }
        let s2 = self.noise.mul_add(self.noise, 1.0).ln();
        let counter = u64::from(step) * 3
            + match kind {
                OverheadKind::Startup => 0,
                OverheadKind::Resume => 1,
                OverheadKind::Shutdown => 2,
            };
        // A stream of its own, so that the curve's per-step noise (counters 0..=T of the trial
        // seed) is not reused here.
        let z = stateless_normal(mix(trial_seed, 0x6f76_6572_6865_6164), counter);
        mean * (s2.sqrt() * z - 0.5 * s2).exp()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_noise_every_launch_pays_the_mean() {
        let o = LaunchOverhead { startup: 2.0, resume: 3.0, shutdown: 0.5, noise: 0.0 };
        assert_eq!(o.draw(OverheadKind::Startup, 7, 1), 2.0);
        assert_eq!(o.draw(OverheadKind::Resume, 7, 4), 3.0);
        assert_eq!(o.draw(OverheadKind::Shutdown, 9, 4), 0.5);
        assert!(LaunchOverhead::ZERO.is_zero() && !o.is_zero());
    }

    #[test]
    fn noisy_overhead_keeps_its_mean_and_spread_and_depends_only_on_trial_and_step() {
        let o = LaunchOverhead { startup: 10.0, resume: 0.0, shutdown: 0.0, noise: 0.3 };
        let draws: Vec<f64> = (0..40_000).map(|t| o.draw(OverheadKind::Startup, mix(1, t), 1)).collect();
        let n = draws.len() as f64;
        let mean = draws.iter().sum::<f64>() / n;
        let sd = (draws.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
        // Log-normal with mean 10 and coefficient of variation 0.3: standard error of the mean
        // 3/sqrt(40000) = 0.015, so ±0.06 is 4 standard errors.
        assert!((mean - 10.0).abs() < 0.06, "{mean}");
        assert!((sd / mean - 0.3).abs() < 0.01, "{}", sd / mean);
        assert!(draws.iter().all(|&x| x > 0.0));
        assert_eq!(o.draw(OverheadKind::Startup, 5, 3), o.draw(OverheadKind::Startup, 5, 3));
        assert_ne!(o.draw(OverheadKind::Startup, 5, 3), o.draw(OverheadKind::Startup, 5, 4));
        assert_ne!(o.draw(OverheadKind::Startup, 5, 3), o.draw(OverheadKind::Startup, 6, 3));
        assert_eq!(o.draw(OverheadKind::Resume, 5, 3), 0.0);
    }

    #[test]
    fn bad_values_name_their_key() {
        let bad = |o: LaunchOverhead| o.check().err().map(|(key, _)| key);
        assert_eq!(bad(LaunchOverhead { startup: -1.0, ..LaunchOverhead::ZERO }), Some("startup"));
        assert_eq!(bad(LaunchOverhead { resume: f64::NAN, ..LaunchOverhead::ZERO }), Some("resume"));
        assert_eq!(bad(LaunchOverhead { shutdown: 1e300, ..LaunchOverhead::ZERO }), Some("shutdown"));
        assert_eq!(bad(LaunchOverhead { noise: -0.1, ..LaunchOverhead::ZERO }), Some("noise"));
        assert_eq!(bad(LaunchOverhead { startup: 1.0, resume: 2.0, shutdown: 3.0, noise: 0.5 }), None);
    }
}
