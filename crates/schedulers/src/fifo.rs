//! FIFO: every trial runs to full fidelity, one after another on each free worker — the
//! scheduler of plain random and grid search (Ray Tune's `FIFOScheduler`, Syne Tune's `FIFOScheduler`).
//! The sampler sees each trial's full-fidelity result and its failures.

use crate::Scheduler;
use hposim_core::{Action, Decision, Observation, Rng, WorkerRequest};
use hposim_samplers::Sampler;

/// The FIFO scheduler.
pub struct Fifo {
    sampler: Box<dyn Sampler>,
    max_fidelity: u32,
}

impl Fifo {
    /// FIFO over `sampler`'s proposals, each run to `max_fidelity`.
    pub fn new(sampler: Box<dyn Sampler>, max_fidelity: u32) -> Self {
        Self { sampler, max_fidelity }
    }
}

impl Scheduler for Fifo {
    fn on_free_worker(&mut self, request: &WorkerRequest, rng: &mut Rng) -> Action {
        match self.sampler.suggest(rng) {
            Some(config) => {
                self.sampler.running(request.next_trial, &config);
                Action::Start { config, until: self.max_fidelity }
            }
            None => Action::Finish,
        }
    }

    fn on_result(&mut self, observation: &Observation<'_>) -> Decision {
        if observation.fidelity >= self.max_fidelity {
            self.sampler.observe(observation);
        }
        Decision::Continue
    }

    fn sampler_warnings(&self) -> u64 {
        self.sampler.warnings()
    }

    fn next_decision(&self, _trial: hposim_core::TrialId, done: u32) -> u32 {
        // Only the full-fidelity result goes to the sampler.
        self.max_fidelity.max(done.saturating_add(1))
    }

    fn wakes_on_every_result(&self) -> bool {
        // It never waits.
        false
    }

    fn on_failure(&mut self, failure: &Observation<'_>) {
        // The trial ran for the full fidelity: that is the budget its failure counts at.
        self.sampler.on_failure(&Observation { fidelity: self.max_fidelity, ..*failure });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hposim_core::{Config, ParamSpec, SearchSpace};
    use hposim_samplers::random::RandomSampler;
    use hposim_samplers::trial_limit::TrialLimit;
    use rand::SeedableRng;

    #[test]
    fn starts_to_full_fidelity_until_the_sampler_is_exhausted() {
        let space = SearchSpace::new(&[ParamSpec::Float { name: "x".into(), low: 0.0, high: 1.0, log: false, condition: None }]).unwrap();
        let sampler = TrialLimit::new(Box::new(RandomSampler::new(space)), 2);
        let mut fifo = Fifo::new(Box::new(sampler), 7);
        let mut rng = Rng::seed_from_u64(0);
        let request = WorkerRequest { now: 0.0, worker: 0, next_trial: 0 };
        assert!(matches!(fifo.on_free_worker(&request, &mut rng), Action::Start { until: 7, .. }));
        assert!(matches!(fifo.on_free_worker(&request, &mut rng), Action::Start { until: 7, .. }));
        assert_eq!(fifo.on_free_worker(&request, &mut rng), Action::Finish);
        let config = Config::default();
        let obs = Observation { trial: 0, config: &config, fidelity: 3, metrics: &[0.5], time: 1.0 };
        assert_eq!(fifo.on_result(&obs), Decision::Continue);
    }
}
