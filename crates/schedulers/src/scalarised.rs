//! Fixed-weight scalarisation: several objectives ranked as one, `Σᵢ wᵢ·lossᵢ`, where `lossᵢ`
//! is objective i as a loss (maximised objectives negated). The wrapped scheduler and its
//! sampler are built for the single objective [`objective`] and see that sum as their only
//! metric; the executor still records every objective. A weight of zero leaves its objective
//! out of the sum (a non-finite metric still fails the trial, whatever its weight).

use crate::{Scheduler, SchedulerError};
use hposim_core::{Action, Decision, Objective, Observation, Rng, TrialId, WorkerRequest};

/// The objective a scalarised strategy ranks by.
pub fn objective() -> Objective {
    Objective::minimize("weighted_sum")
}

/// Checks `weights` against the benchmark's `objectives`: one per objective, non-negative,
/// finite, not all zero.
pub fn check_weights(weights: &[f64], objectives: &[Objective]) -> Result<(), SchedulerError> {
    let invalid = |message: String| SchedulerError::Invalid { key: "weights".into(), message };
    if weights.len() != objectives.len() {
        let names: Vec<&str> = objectives.iter().map(|o| o.name.as_str()).collect();
        return Err(invalid(format!("needs one weight per objective ({}: {}), got {}", objectives.len(), names.join(", "), weights.len())));
    }
    if weights.iter().any(|w| !(w.is_finite() && *w >= 0.0)) || weights.iter().all(|&w| w == 0.0) {
        return Err(invalid(format!("must be non-negative numbers, not all zero; got {weights:?}")));
    }
    Ok(())
}

/// A scheduler that ranks by a weighted sum of the objectives' losses.
pub struct Scalarised {
    inner: Box<dyn Scheduler>,
    objectives: Vec<Objective>,
    weights: Vec<f64>,
    scalar: [f64; 1],
}

impl Scalarised {
    /// `inner` (built for [`objective`]) fed `Σ wᵢ·lossᵢ` of `objectives`.
    pub fn new(inner: Box<dyn Scheduler>, objectives: Vec<Objective>, weights: Vec<f64>) -> Self {
        Self { inner, objectives, weights, scalar: [0.0] }
    }

    /// The weighted sum of the losses of `metrics`.
    pub fn sum(&self, metrics: &[f64]) -> f64 {
        debug_assert_eq!(metrics.len(), self.objectives.len(), "one metric per objective");
        self.objectives.iter().zip(&self.weights).zip(metrics).filter(|((_, w), _)| **w > 0.0).map(|((o, w), &m)| w * o.loss(m)).sum()
    }
}

impl Scheduler for Scalarised {
    fn on_free_worker(&mut self, request: &WorkerRequest, rng: &mut Rng) -> Action {
        self.inner.on_free_worker(request, rng)
    }

    fn on_result(&mut self, observation: &Observation<'_>) -> Decision {
        self.scalar[0] = self.sum(observation.metrics);
        self.inner.on_result(&Observation { metrics: &self.scalar, ..*observation })
    }

    fn on_failure(&mut self, failure: &Observation<'_>) {
        self.inner.on_failure(&Observation { metrics: &[f64::NAN], ..*failure });
    }

    fn sampler_warnings(&self) -> u64 {
        self.inner.sampler_warnings()
    }

    fn bracket_of(&self, trial: TrialId) -> Option<u64> {
        self.inner.bracket_of(trial)
    }

    fn next_decision(&self, trial: TrialId, done: u32) -> u32 {
        self.inner.next_decision(trial, done)
    }

    fn wakes_on_every_result(&self) -> bool {
        self.inner.wakes_on_every_result()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sum_weighs_losses_and_weights_are_checked() {
        let objectives = vec![Objective::minimize("error"), Objective::maximize("accuracy")];
        let fifo = Box::new(crate::fifo::Fifo::new(
            Box::new(hposim_samplers::random::RandomSampler::new(
                hposim_core::SearchSpace::new(&[hposim_core::ParamSpec::Float {
                    name: "x".into(),
                    low: 0.0,
                    high: 1.0,
                    log: false,
                    condition: None,
                }])
                .unwrap(),
            )),
            3,
        ));
        let s = Scalarised::new(fifo, objectives.clone(), vec![2.0, 0.5]);
        // 2·0.1 + 0.5·(−0.9) = −0.25.
        assert!((s.sum(&[0.1, 0.9]) - (-0.25)).abs() < 1e-15);
        assert!(
            check_weights(&[1.0], &objectives).err().unwrap().to_string().contains("one weight per objective (2: error, accuracy), got 1")
        );
        assert!(check_weights(&[0.0, 0.0], &objectives).is_err());
        assert!(check_weights(&[-1.0, 1.0], &objectives).is_err());
        assert!(check_weights(&[0.0, 1.0], &objectives).is_ok());
    }
}
