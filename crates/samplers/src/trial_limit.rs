//! A cap on the number of proposals: how an experiment's `budget.trials` is enforced without
//! every scheduler having to know about it. Once the cap is reached the wrapped sampler is
//! exhausted, and schedulers finish the trials they have.

use crate::Sampler;
use hposim_core::{Config, Fidelity, Observation, Rng, TrialId};

/// Wraps a sampler and stops proposing after `limit` configurations.
pub struct TrialLimit {
    inner: Box<dyn Sampler>,
    remaining: u64,
}

impl TrialLimit {
    /// At most `limit` proposals from `inner`.
    pub fn new(inner: Box<dyn Sampler>, limit: u64) -> Self {
        Self { inner, remaining: limit }
    }
}

impl Sampler for TrialLimit {
    fn suggest(&mut self, rng: &mut Rng) -> Option<Config> {
        if self.remaining == 0 {
            return None;
        }
        let config = self.inner.suggest(rng)?;
        self.remaining -= 1;
        Some(config)
    }

    fn suggest_with_fidelity(&mut self, fidelity: &Fidelity, rng: &mut Rng) -> Option<(Config, u32)> {
        if self.remaining == 0 {
            return None;
        }
        let proposal = self.inner.suggest_with_fidelity(fidelity, rng)?;
        self.remaining -= 1;
        Some(proposal)
    }

    fn observe(&mut self, observation: &Observation<'_>) {
        self.inner.observe(observation);
    }

    fn observe_with_cost(&mut self, observation: &Observation<'_>, seconds: f64) {
        self.inner.observe_with_cost(observation, seconds);
    }

    fn on_failure(&mut self, failure: &Observation<'_>) {
        self.inner.on_failure(failure);
    }

    fn running(&mut self, trial: TrialId, config: &Config) {
        self.inner.running(trial, config);
    }

    fn abandoned(&mut self, trial: TrialId) {
        self.inner.abandoned(trial);
    }

    fn warnings(&self) -> u64 {
        self.inner.warnings()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::RandomSampler;
    use hposim_core::{ParamSpec, SearchSpace};
    use rand::SeedableRng;

    #[test]
    fn stops_after_the_limit() {
        let space = SearchSpace::new(&[ParamSpec::Float { name: "x".into(), low: 0.0, high: 1.0, log: false, condition: None }]).unwrap();
        let mut sampler = TrialLimit::new(Box::new(RandomSampler::new(space)), 3);
        let mut rng = Rng::seed_from_u64(0);
        let proposals = std::iter::from_fn(|| sampler.suggest(&mut rng)).take(10).count();
        assert_eq!(proposals, 3);
    }

    #[test]
    fn passes_the_inner_samplers_warnings_on() {
        struct Warned;
        impl Sampler for Warned {
            fn suggest(&mut self, _rng: &mut Rng) -> Option<Config> {
                None
            }
            fn warnings(&self) -> u64 {
                7
            }
        }
        assert_eq!(TrialLimit::new(Box::new(Warned), 3).warnings(), 7);
    }
}
