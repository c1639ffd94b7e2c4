//! Objectives: a named metric and whether smaller or larger is better.

use serde::{Deserialize, Serialize};

/// Whether an objective is minimised or maximised.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// Smaller is better (errors, losses, latencies).
    Minimize,
    /// Larger is better (accuracies, rewards).
    Maximize,
}

impl Direction {
    /// The factor that makes values of this direction "smaller is better": 1 when
    /// minimising, −1 when maximising.
    pub fn sign(self) -> f64 {
        match self {
            Direction::Minimize => 1.0,
            Direction::Maximize => -1.0,
        }
    }
}

/// A named metric with a direction. Every observation carries one value per objective.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Objective {
    /// Metric name, as it appears in traces.
    pub name: String,
    /// Which way is better.
    pub direction: Direction,
}

impl Objective {
    /// A minimised objective.
    pub fn minimize(name: &str) -> Self {
        Self { name: name.to_owned(), direction: Direction::Minimize }
    }

    /// A maximised objective.
    pub fn maximize(name: &str) -> Self {
        Self { name: name.to_owned(), direction: Direction::Maximize }
    }

    /// Whether `a` is strictly better than `b`. NaN is never better, and anything finite is
    /// better than NaN.
    pub fn better(&self, a: f64, b: f64) -> bool {
        if a.is_nan() {
            return false;
        }
        if b.is_nan() {
            return true;
        }
        match self.direction {
            Direction::Minimize => a < b,
            Direction::Maximize => a > b,
        }
    }

    /// `value` as a loss, smaller is better whatever the direction: the value when minimising,
    /// its negation when maximising. NaN and ±∞ (a diverged or failed run) map to +∞, so they
    /// rank last and never poison an ordering; −0 maps to +0, so that `total_cmp` does not
    /// separate equal values. Schedulers rank rung results and samplers fit models with it.
    pub fn loss(&self, value: f64) -> f64 {
        if !value.is_finite() {
            return f64::INFINITY;
        }
        match self.direction {
            Direction::Minimize => value + 0.0,
            Direction::Maximize => -value + 0.0,
        }
    }

    /// The best finite value of `values` (NaN and ±∞, i.e. diverged or failed runs, are
    /// skipped); `None` if there is none.
    pub fn best(&self, values: impl IntoIterator<Item = f64>) -> Option<f64> {
        values
            .into_iter()
            .filter(|v| v.is_finite())
            .fold(None, |best, v| if best.is_none_or(|b| self.better(v, b)) { Some(v) } else { best })
    }

    /// How far `value` is from `best_known`, in the direction of worse: `value - best` when
    /// minimising, `best - value` when maximising (so 0 is optimal and larger is worse).
    pub fn regret(&self, value: f64, best_known: f64) -> f64 {
        match self.direction {
            Direction::Minimize => value - best_known,
            Direction::Maximize => best_known - value,
        }
    }
}

/// The losses ([`Objective::loss`]) of `metrics`, one per objective; an objective without a
/// metric gets +∞. Multi-objective samplers and schedulers rank by these vectors.
pub fn losses(objectives: &[Objective], metrics: &[f64]) -> Vec<f64> {
    objectives.iter().enumerate().map(|(i, o)| metrics.get(i).map_or(f64::INFINITY, |&m| o.loss(m))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn better_and_regret_respect_the_direction() {
        let err = Objective::minimize("error");
        let acc = Objective::maximize("accuracy");
        assert!(err.better(0.1, 0.2) && !err.better(0.2, 0.1));
        assert!(acc.better(0.9, 0.8) && !acc.better(0.8, 0.9));
        assert!(err.better(0.5, f64::NAN) && !err.better(f64::NAN, 0.5));
        assert_eq!(err.regret(0.25, 0.05), 0.2);
        assert_eq!(acc.regret(0.75, 0.95), 0.95 - 0.75);
        assert_eq!(acc.best([0.5, f64::NAN, 0.9, f64::INFINITY, 0.7]), Some(0.9));
        assert_eq!(err.best([0.5, f64::NEG_INFINITY, 0.2]), Some(0.2));
        assert_eq!(err.best([f64::NAN]), None);
    }

    #[test]
    fn losses_order_by_direction_and_put_failures_last() {
        let min = Objective::minimize("err");
        let max = Objective::maximize("acc");
        assert!(min.loss(0.1) < min.loss(0.2));
        assert!(max.loss(0.9) < max.loss(0.8));
        assert_eq!(max.loss(0.9), -0.9);
        assert_eq!(min.loss(0.1), 0.1);
        assert_eq!(max.loss(f64::NAN), f64::INFINITY);
        assert_eq!(min.loss(f64::NAN), f64::INFINITY);
        assert_eq!(max.loss(f64::INFINITY), f64::INFINITY);
        assert_eq!(min.loss(-0.0).to_bits(), 0.0f64.to_bits());
    }
}
