//! Incumbent trajectories: the value a strategy would return if stopped at each moment, over
//! simulated wall-clock time and over compute (worker-seconds of completed steps), under either
//! of the two conventions in use.

use hposim_core::Trace;
use hposim_core::{EpochStatus, TrialOutcome};
use serde::{Deserialize, Serialize};

/// Which observations can be the incumbent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Convention {
    /// The best among evaluations at the highest fidelity reached so far: an evaluation at a
    /// higher fidelity replaces the incumbent even when its value is worse, and a lower one
    /// never does. HpBandSter's `Result.get_incumbent_trajectory` with its defaults
    /// (`all_budgets=True, bigger_is_better=True, non_decreasing_budget=True`,
    /// hpbandster/core/result.py), used for the BOHB paper's plots. As in HpBandSter, an
    /// evaluation is a finished run to a budget: a trace row where the trial paused, stopped or
    /// finished, not the epochs it passed on the way (`continue`) nor a run the budget cut off.
    HighestFidelity,
    /// The best evaluation at any fidelity: Syne Tune's benchmarking plots (the running best
    /// of every reported metric, `syne_tune/experiments`).
    AnyFidelity,
}

impl Convention {
    /// The name used on the command line and in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Convention::HighestFidelity => "highest-fidelity",
            Convention::AnyFidelity => "any-fidelity",
        }
    }

    /// The convention named `name` on the command line ([`Convention::as_str`]): `any-fidelity`,
    /// or the default, `highest-fidelity`, for anything else (clap admits only the two).
    pub fn from_name(name: &str) -> Self {
        if name == Convention::AnyFidelity.as_str() { Convention::AnyFidelity } else { Convention::HighestFidelity }
    }
}

/// The incumbent as a step function: it takes `score[i]` from `time[i]` (and `compute[i]`)
/// until the next change. Scores are "smaller is better" (the objective times its direction's
/// sign, or a regret).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Trajectory {
    /// Simulated seconds at which the incumbent changed.
    pub time: Vec<f64>,
    /// Worker-seconds of completed steps at those moments.
    pub compute: Vec<f64>,
    /// The incumbent's score from then on.
    pub score: Vec<f64>,
    /// The fidelity of the evaluation that is the incumbent from then on.
    pub fidelity: Vec<u32>,
}

impl Trajectory {
    /// The incumbent's score at `time` (`None` before the first evaluation).
    pub fn at_time(&self, time: f64) -> Option<f64> {
        let n = self.time.partition_point(|&t| t <= time);
        n.checked_sub(1).map(|i| self.score[i])
    }

    /// The incumbent's score once `compute` worker-seconds were spent.
    pub fn at_compute(&self, compute: f64) -> Option<f64> {
        let n = self.compute.partition_point(|&c| c <= compute);
        n.checked_sub(1).map(|i| self.score[i])
    }

    /// The first moment (time, compute) at which the incumbent's score is at most `target`.
    pub fn first_reaching(&self, target: f64) -> Option<(f64, f64)> {
        self.score.iter().position(|&s| s <= target).map(|i| (self.time[i], self.compute[i]))
    }

    /// The final score.
    pub fn last(&self) -> Option<f64> {
        self.score.last().copied()
    }

    /// The fidelity of the final incumbent.
    pub fn last_fidelity(&self) -> Option<u32> {
        self.fidelity.last().copied()
    }
}

/// The trajectory of `trace` under `convention`, with `score(value)` mapping an objective value
/// to "smaller is better". Rows that diverged or failed are never the incumbent.
pub fn trajectory(trace: &Trace, convention: Convention, score: impl Fn(f64) -> f64) -> Trajectory {
    let mut out = Trajectory::default();
    let mut compute = 0.0;
    let mut best: Option<(u32, f64)> = None;
    for row in 0..trace.len() {
        compute += trace.end[row] - trace.start[row];
        let value = trace.metrics_of(row)[0];
        if trace.status[row] != EpochStatus::Ok || !value.is_finite() {
            continue;
        }
        if convention == Convention::HighestFidelity && matches!(trace.outcome[row], TrialOutcome::Continue | TrialOutcome::Cut) {
            continue;
        }
        let (fidelity, s) = (trace.epoch[row], score(value));
        let replaces = match (best, convention) {
            (None, _) => true,
            (Some((_, b)), Convention::AnyFidelity) => s < b,
            (Some((f, b)), Convention::HighestFidelity) => fidelity > f || (fidelity == f && s < b),
        };
        if replaces {
            best = Some((fidelity, s));
            if out.time.last() == Some(&trace.end[row]) {
                // Several rows ending at once: the last change at that moment stands.
                let last = out.score.len() - 1;
                out.score[last] = s;
                out.compute[last] = compute;
                out.fidelity[last] = fidelity;
            } else {
                out.time.push(trace.end[row]);
                out.compute.push(compute);
                out.score.push(s);
                out.fidelity.push(fidelity);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use TrialOutcome::{Continue, Pause, Stop};

    #[test]
    fn a_convention_is_read_back_from_its_name() {
        for c in [Convention::HighestFidelity, Convention::AnyFidelity] {
            assert_eq!(Convention::from_name(c.as_str()), c);
        }
    }

    /// A hand-made trace: two workers; trial 0 runs epochs 1–3 and pauses (a rung at 3), trial 1
    /// pauses at epoch 1 (a rung), is resumed and stops at epoch 2, trial 2 diverges at epoch 1.
    fn trace() -> Trace {
        // (trial, worker, epoch, start, end, value, status, decision)
        let rows = [
            (0, 0, 1, 0.0, 10.0, 0.50, EpochStatus::Ok, Continue),
            (1, 1, 1, 0.0, 12.0, 0.40, EpochStatus::Ok, Pause),
            (0, 0, 2, 10.0, 20.0, 0.45, EpochStatus::Ok, Continue),
            (1, 1, 2, 12.0, 24.0, 0.30, EpochStatus::Ok, Stop),
            (2, 1, 1, 24.0, 30.0, f64::NAN, EpochStatus::Diverged, Stop),
            (0, 0, 3, 20.0, 30.0, 0.35, EpochStatus::Ok, Pause),
        ];
        let mut t = Trace::with_capacity(vec![hposim_core::Objective::minimize("loss")], rows.len());
        for (trial, worker, epoch, start, end, value, status, outcome) in rows {
            t.push(hposim_core::Row { trial, worker, epoch, start, end, launch_seconds: 0.0, status, outcome }, &[value]);
        }
        t
    }

    #[test]
    fn any_fidelity_is_the_running_best() {
        let t = trajectory(&trace(), Convention::AnyFidelity, |v| v);
        assert_eq!(t.time, [10.0, 12.0, 24.0]);
        assert_eq!(t.score, [0.50, 0.40, 0.30]);
        // Compute: 10, then 10 + 12, …, 10 + 12 + 10 + 12.
        assert_eq!(t.compute, [10.0, 22.0, 44.0]);
        assert_eq!(t.at_time(5.0), None);
        assert_eq!(t.at_time(12.0), Some(0.40));
        assert_eq!(t.at_time(100.0), Some(0.30));
        assert_eq!(t.at_compute(43.9), Some(0.40));
        assert_eq!(t.first_reaching(0.41), Some((12.0, 22.0)));
        assert_eq!(t.first_reaching(0.1), None);
    }

    #[test]
    fn highest_fidelity_follows_the_furthest_trained_evaluation() {
        // Evaluations (rows ending a run: pause or stop): 0.40 at fidelity 1 (t=12), 0.30 at
        // fidelity 2 (t=24), 0.35 at fidelity 3 (t=30), which replaces 0.30 though worse. The
        // epochs trial 0 passed on the way (continue) are not evaluations.
        let t = trajectory(&trace(), Convention::HighestFidelity, |v| v);
        assert_eq!(t.time, [12.0, 24.0, 30.0]);
        assert_eq!(t.score, [0.40, 0.30, 0.35]);
        assert_eq!(t.fidelity, [1, 2, 3]);
        assert_eq!((t.last(), t.last_fidelity()), (Some(0.35), Some(3)));
        assert_eq!(t.compute, [22.0, 44.0, 60.0]);
    }

    #[test]
    fn maximised_objectives_score_negated() {
        let t = trajectory(&trace(), Convention::AnyFidelity, |v| -v);
        assert_eq!(t.score, [-0.50]);
    }
}
