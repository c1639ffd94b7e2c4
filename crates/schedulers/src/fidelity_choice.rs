//! The sampler chooses each trial's fidelity: FIFO whose trials run to the fidelity their
//! sampler asked for ([`hposim_samplers::Sampler::suggest_with_fidelity`]), the scheduler of
//! samplers that model the fidelity themselves and allocate it by its cost, as Fabolas (Klein et
//! al., AISTATS 2017, Algorithm 1: "evaluate y(x, s) and c(x, s)") and multi-task Bayesian
//! optimisation (Swersky et al., NeurIPS 2013) do. Each trial is one evaluation: it starts,
//! runs to its fidelity and ends there (`stop` below full fidelity, `done` at it); nothing is
//! paused or resumed. The sampler hears the result at that fidelity with what it cost, the
//! seconds from the trial's start to the result ([`hposim_samplers::Sampler::observe_with_cost`]).
//! Any other sampler behind it proposes at full fidelity, which makes it FIFO.

use crate::Scheduler;
use hposim_core::{Action, Decision, Fidelity, Observation, Rng, TrialId, WorkerRequest};
use hposim_samplers::Sampler;
use std::collections::HashMap;

/// The scheduler (see the module documentation).
pub struct FidelityChoice {
    sampler: Box<dyn Sampler>,
    fidelity: Fidelity,
    /// Running trials: when each started and the fidelity it runs to.
    running: HashMap<TrialId, (f64, u32)>,
}

impl FidelityChoice {
    /// Trials of `sampler`'s proposals, each to the fidelity it chose within `fidelity`.
    pub fn new(sampler: Box<dyn Sampler>, fidelity: &Fidelity) -> Self {
        Self { sampler, fidelity: fidelity.clone(), running: HashMap::new() }
    }
}

impl Scheduler for FidelityChoice {
    fn on_free_worker(&mut self, request: &WorkerRequest, rng: &mut Rng) -> Action {
        match self.sampler.suggest_with_fidelity(&self.fidelity, rng) {
            Some((config, until)) => {
                let until = until.clamp(self.fidelity.min, self.fidelity.max);
                self.sampler.running(request.next_trial, &config);
                self.running.insert(request.next_trial, (request.now, until));
                Action::Start { config, until }
            }
            None => Action::Finish,
        }
    }

    fn on_result(&mut self, observation: &Observation<'_>) -> Decision {
        let Some(&(start, until)) = self.running.get(&observation.trial) else { return Decision::Continue };
        if observation.fidelity < until {
            return Decision::Continue;
        }
        self.running.remove(&observation.trial);
        self.sampler.observe_with_cost(observation, observation.time - start);
        // At full fidelity the trial is done either way; below it, it ends where it was asked to.
        if until < self.fidelity.max { Decision::Stop } else { Decision::Continue }
    }

    fn on_failure(&mut self, failure: &Observation<'_>) {
        // The failure counts at the fidelity the trial was started for, as FIFO counts it at full.
        let until = self.running.remove(&failure.trial).map_or(self.fidelity.max, |(_, until)| until);
        self.sampler.on_failure(&Observation { fidelity: until, ..*failure });
    }

    fn sampler_warnings(&self) -> u64 {
        self.sampler.warnings()
    }

    fn next_decision(&self, trial: hposim_core::TrialId, done: u32) -> u32 {
        // Only the result at the fidelity the sampler chose goes back to it.
        match self.running.get(&trial) {
            Some(&(_, until)) if until > done => until,
            _ => done.saturating_add(1),
        }
    }

    fn wakes_on_every_result(&self) -> bool {
        // It never waits.
        false
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use hposim_core::{Config, ParamSpec, SearchSpace};
    use hposim_samplers::random::RandomSampler;
    use rand::SeedableRng;
    use std::sync::{Arc, Mutex};

    /// What a [`Chooser`] heard: (fidelity, seconds) of results, fidelities of failures.
    #[derive(Default)]
    struct Heard {
        results: Vec<(u32, f64)>,
        failures: Vec<u32>,
    }

    /// Asks for the fidelities of `asked`, last first; records what it hears.
    struct Chooser {
        asked: Vec<u32>,
        heard: Arc<Mutex<Heard>>,
    }

    impl Sampler for Chooser {
        fn suggest(&mut self, _rng: &mut Rng) -> Option<Config> {
            None
        }
        fn suggest_with_fidelity(&mut self, _fidelity: &Fidelity, _rng: &mut Rng) -> Option<(Config, u32)> {
            let target = self.asked.pop()?;
            Some((Config::default(), target))
        }
        fn observe_with_cost(&mut self, observation: &Observation<'_>, seconds: f64) {
            self.heard.lock().unwrap().results.push((observation.fidelity, seconds));
        }
        fn on_failure(&mut self, failure: &Observation<'_>) {
            self.heard.lock().unwrap().failures.push(failure.fidelity);
        }
    }

    #[test]
    fn trials_run_to_the_chosen_fidelity_and_report_their_cost() {
        let fidelity = Fidelity { min: 2, max: 9, unit: "epoch".into() };
        let heard = Arc::new(Mutex::new(Heard::default()));
        let chooser = Chooser { asked: vec![1, 9, 3], heard: Arc::clone(&heard) };
        let mut scheduler = FidelityChoice::new(Box::new(chooser), &fidelity);
        let mut rng = Rng::seed_from_u64(0);
        let start = |trial, now| WorkerRequest { now, worker: 0, next_trial: trial };
        assert!(matches!(scheduler.on_free_worker(&start(0, 10.0), &mut rng), Action::Start { until: 3, .. }));
        assert!(matches!(scheduler.on_free_worker(&start(1, 11.0), &mut rng), Action::Start { until: 9, .. }));
        // Below the benchmark's minimum: clamped to it.
        assert!(matches!(scheduler.on_free_worker(&start(2, 12.0), &mut rng), Action::Start { until: 2, .. }));
        assert_eq!(scheduler.on_free_worker(&start(3, 12.0), &mut rng), Action::Finish);
        let config = Config::default();
        let result = |trial, fidelity, time| Observation { trial, config: &config, fidelity, metrics: &[0.5], time };
        assert_eq!(scheduler.on_result(&result(0, 1, 12.0)), Decision::Continue, "not there yet");
        assert_eq!(scheduler.on_result(&result(0, 3, 14.5)), Decision::Stop, "ends at its fidelity");
        assert_eq!(scheduler.on_result(&result(1, 9, 40.0)), Decision::Continue, "done at full fidelity");
        scheduler.on_failure(&Observation { trial: 2, config: &config, fidelity: 1, metrics: &[f64::NAN], time: 13.0 });
        let heard = heard.lock().unwrap();
        // Only the results at each trial's own fidelity, with the seconds since its start.
        assert_eq!(heard.results, vec![(3, 4.5), (9, 29.0)]);
        // The failure counts at the fidelity the trial was started for.
        assert_eq!(heard.failures, vec![2]);
    }

    #[test]
    fn a_sampler_that_does_not_choose_runs_to_full_fidelity() {
        let space = SearchSpace::new(&[ParamSpec::Float { name: "x".into(), low: 0.0, high: 1.0, log: false, condition: None }]).unwrap();
        let fidelity = Fidelity { min: 1, max: 7, unit: "epoch".into() };
        let mut scheduler = FidelityChoice::new(Box::new(RandomSampler::new(space)), &fidelity);
        let request = WorkerRequest { now: 0.0, worker: 0, next_trial: 0 };
        assert!(matches!(scheduler.on_free_worker(&request, &mut Rng::seed_from_u64(1)), Action::Start { until: 7, .. }));
    }
}
