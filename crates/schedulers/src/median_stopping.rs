//! The median stopping rule (Golovin, Solnik, Moitra, Kochanski, Karro & Sculley, "Google
//! Vizier: A service for black-box optimization", KDD 2017, Section 3.2.2): a trial is stopped
//! at step `s` if its best objective value so far is strictly worse than the median of the
//! running averages `ō_{1:s}` of all *completed* trials up to step `s`.
//!
//! Every trial is started to full fidelity. The rule applies from step `grace_period` on, and
//! only once `min_trials` trials have completed. Defaults: `grace_period` = the benchmark's
//! minimum fidelity (Syne Tune's `grace_time = 1`), `min_trials = 3` (Ray Tune's
//! `min_samples_required`). Ray Tune's implementation compares against every trial that has
//! reached the step, running ones included, and averages from the grace period on; Syne Tune's
//! ranks the trial's own running average among all trials; we follow the paper.
//!
//! The median at each step is kept in a [`RankQuantile`] (O(log n) per insertion, O(1) per
//! query); a completed trial inserts its running average at every step once, so the work per
//! simulated step is O(log n) amortised.

use crate::rank::{RankQuantile, Ranked};
use hposim_core::{Action, Decision, Objective, Observation, Rng, TrialId, WorkerRequest};
use hposim_samplers::Sampler;

/// The median stopping scheduler.
pub struct MedianStopping {
    sampler: Box<dyn Sampler>,
    objective: Objective,
    max: u32,
    grace_period: u32,
    min_trials: u32,
    /// Per step (index `s − 1`): the running averages of completed trials at step `s`.
    medians: Vec<RankQuantile>,
    /// Per running trial: its badness at each step so far.
    histories: Vec<Vec<f64>>,
    /// Per running trial: its best badness so far.
    best: Vec<f64>,
    completed: u32,
}

impl MedianStopping {
    /// Trials run to `max`; the rule applies from step `grace_period` once `min_trials` trials
    /// have completed; values are ranked by `objective`.
    pub fn new(sampler: Box<dyn Sampler>, objective: Objective, max: u32, grace_period: u32, min_trials: u32) -> Self {
        Self {
            sampler,
            objective,
            max,
            grace_period,
            min_trials,
            medians: (0..max).map(|_| RankQuantile::new(0.5)).collect(),
            histories: Vec::new(),
            best: Vec::new(),
            completed: 0,
        }
    }

    fn complete(&mut self, trial: TrialId) {
        let history = std::mem::take(&mut self.histories[trial as usize]);
        let mut sum = 0.0;
        for (s, value) in history.iter().enumerate() {
            sum += value;
            self.medians[s].insert(Ranked { badness: sum / (s + 1) as f64, trial });
        }
        self.completed += 1;
    }
}

impl crate::Scheduler for MedianStopping {
    fn on_free_worker(&mut self, request: &WorkerRequest, rng: &mut Rng) -> Action {
        match self.sampler.suggest(rng) {
            Some(config) => {
                let index = request.next_trial as usize;
                if self.histories.len() <= index {
                    self.histories.resize_with(index + 1, Vec::new);
                    self.best.resize(index + 1, f64::INFINITY);
                }
                // One allocation per trial, none per step.
                self.histories[index] = Vec::with_capacity(self.max as usize);
                self.sampler.running(request.next_trial, &config);
                Action::Start { config, until: self.max }
            }
            None => Action::Finish,
        }
    }

    fn on_result(&mut self, observation: &Observation<'_>) -> Decision {
        let trial = observation.trial as usize;
        let step = observation.fidelity as usize;
        let Some(history) = self.histories.get_mut(trial) else { return Decision::Continue };
        if step != history.len() + 1 {
            // A repeated step (a restart without checkpoint) or one beyond our range.
            return Decision::Continue;
        }
        let value = self.objective.loss(observation.metrics[0]);
        history.push(value);
        let best = value.min(self.best[trial]);
        self.best[trial] = best;
        if observation.fidelity >= self.max {
            self.sampler.observe(observation);
            self.complete(observation.trial);
            return Decision::Continue;
        }
        if observation.fidelity < self.grace_period || self.completed < self.min_trials {
            return Decision::Continue;
        }
        match self.medians[step - 1].quantile() {
            Some(median) if best > median => {
                self.histories[trial] = Vec::new();
                // The sampler hears nothing of a stopped trial (it learns from complete ones).
                self.sampler.abandoned(observation.trial);
                Decision::Stop
            }
            _ => Decision::Continue,
        }
    }

    fn sampler_warnings(&self) -> u64 {
        self.sampler.warnings()
    }

    fn on_failure(&mut self, failure: &Observation<'_>) {
        // The trial ran for the full fidelity: that is the budget its failure counts at.
        self.sampler.on_failure(&Observation { fidelity: self.max, ..*failure });
        let trial = failure.trial;
        if let Some(history) = self.histories.get_mut(trial as usize) {
            *history = Vec::new();
        }
    }
}
