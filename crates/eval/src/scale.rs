//! What a benchmark's results are measured in: normalised regret where the benchmark has a best
//! known value and a median random configuration (0 = best known, 1 = the median random
//! configuration at full fidelity, so that benchmarks can be averaged; Eggensperger et al.,
//! HPOBench, 2021, Section 5), plain regret where it has only a best known value, and the
//! objective itself otherwise (live studies). Internally every measure is a *score*, smaller
//! is better.

use hposim_core::{BenchmarkReference, Direction};

/// The measure of a benchmark.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Measure {
    /// (regret) / (regret of the median random configuration).
    NormalisedRegret,
    /// Value minus best known, in the direction of worse.
    Regret,
    /// The objective's value.
    Value,
}

/// A benchmark's measure and the constants it needs.
#[derive(Clone, Debug, PartialEq)]
pub struct Scale {
    /// The measure.
    pub measure: Measure,
    /// The objective's name.
    pub objective: String,
    /// Its direction.
    pub direction: Direction,
    /// Best known value, if any.
    pub best_known: Option<f64>,
    /// Regret of the median random configuration (positive), where normalised.
    pub random_regret: Option<f64>,
}

impl Scale {
    /// The scale of `reference`.
    pub fn of(reference: &BenchmarkReference) -> Self {
        let s = reference.direction.sign();
        let random_regret =
            reference.best_known.zip(reference.median_random).map(|(b, m)| s * (m - b)).filter(|r| *r > 0.0 && r.is_finite());
        let measure = match (reference.best_known, random_regret) {
            (Some(_), Some(_)) => Measure::NormalisedRegret,
            (Some(_), None) => Measure::Regret,
            _ => Measure::Value,
        };
        Self {
            measure,
            objective: reference.objective.clone(),
            direction: reference.direction,
            best_known: reference.best_known,
            random_regret,
        }
    }

    /// The score of an objective value (smaller is better).
    pub fn score(&self, value: f64) -> f64 {
        let s = self.direction.sign();
        match (self.measure, self.best_known, self.random_regret) {
            (Measure::NormalisedRegret, Some(b), Some(r)) => s * (value - b) / r,
            (Measure::Regret, Some(b), _) => s * (value - b),
            _ => s * value,
        }
    }

    /// A score as it is shown: the measure itself (the objective's value for [`Measure::Value`]).
    pub fn shown(&self, score: f64) -> f64 {
        match self.measure {
            Measure::Value => self.direction.sign() * score,
            _ => score,
        }
    }

    /// The plain regret (or the objective's value, without a best known value) of a score.
    pub fn regret(&self, score: f64) -> f64 {
        match (self.measure, self.random_regret) {
            (Measure::NormalisedRegret, Some(r)) => score * r,
            (Measure::Regret, _) => score,
            _ => self.shown(score),
        }
    }

    /// A score from a [`Scale::regret`] value (its inverse), for comparing regrets.
    pub fn score_of_regret(&self, regret: f64) -> f64 {
        match (self.measure, self.random_regret) {
            (Measure::NormalisedRegret, Some(r)) => regret / r,
            (Measure::Regret, _) => regret,
            _ => self.direction.sign() * regret,
        }
    }

    /// What [`Scale::shown`] values are, for axis labels and table headers.
    pub fn label(&self) -> String {
        match self.measure {
            Measure::NormalisedRegret => format!("normalised regret of {}", self.objective),
            Measure::Regret => format!("regret of {}", self.objective),
            Measure::Value => self.objective.clone(),
        }
    }

    /// What [`Scale::regret`] values are.
    pub fn regret_label(&self) -> String {
        match self.measure {
            Measure::Value => self.objective.clone(),
            _ => format!("regret of {}", self.objective),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reference(direction: Direction, best_known: Option<f64>, median_random: Option<f64>) -> BenchmarkReference {
        BenchmarkReference {
            name: "b".into(),
            objective: "acc".into(),
            direction,
            max_fidelity: 10,
            unit: "epoch".into(),
            best_known,
            median_random,
            objectives: Vec::new(),
            hypervolume_reference: None,
        }
    }

    #[test]
    fn normalised_regret_maps_best_to_zero_and_median_random_to_one() {
        let s = Scale::of(&reference(Direction::Minimize, Some(0.1), Some(0.5)));
        assert_eq!(s.measure, Measure::NormalisedRegret);
        assert_eq!(s.score(0.1), 0.0);
        assert_eq!(s.score(0.5), 1.0);
        assert!((s.score(0.2) - 0.25).abs() < 1e-12);
        assert!((s.regret(0.25) - 0.1).abs() < 1e-12);
        let s = Scale::of(&reference(Direction::Maximize, Some(0.9), Some(0.5)));
        assert_eq!(s.score(0.9), 0.0);
        assert_eq!(s.score(0.5), 1.0);
        assert!((s.score(0.8) - 0.25).abs() < 1e-12);
    }

    #[test]
    fn without_references_it_falls_back() {
        let s = Scale::of(&reference(Direction::Maximize, Some(0.9), None));
        assert_eq!((s.measure, s.score(0.8)), (Measure::Regret, 0.9 - 0.8));
        let s = Scale::of(&reference(Direction::Maximize, None, None));
        assert_eq!((s.measure, s.score(0.8), s.shown(s.score(0.8))), (Measure::Value, -0.8, 0.8));
        // A median random configuration as good as the best known cannot normalise.
        assert_eq!(Scale::of(&reference(Direction::Minimize, Some(0.1), Some(0.1))).measure, Measure::Regret);
    }
}
