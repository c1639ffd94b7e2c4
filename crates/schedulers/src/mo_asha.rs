//! Multi-objective ASHA: Schmucker, Donini, Zafar, Salinas & Archambeau, "Multi-objective
//! Asynchronous Successive Halving", arXiv:2106.12639 (2021), as Syne Tune's `MOASHA`
//! (`syne_tune/optimizer/schedulers/multiobjective/moasha.py`) runs it: ASHA's stopping rule
//! with rungs ranked by several objectives.
//!
//! Every trial is started to the maximum fidelity. When it reaches a rung (`r·η^k < R`, as in
//! [`crate::asha`]), its vector of losses joins the rung's and the rung is put in priority order
//! (Syne Tune's default `NonDominatedPriority`): non-dominated sorting, front by front, and
//! within a front an ε-net order (Clarkson 2005): the point best in the first objective, then
//! repeatedly the point farthest (Euclidean, each objective scaled to the rung's range) from
//! those already taken. With the new trial at position `p` of `n`, it continues if
//! `p / n ≤ 1/η` (Syne Tune stops when `ranks[-1] > 1/η`; with few results this lets more
//! than a `1/η` share through, e.g. positions 0 and 1 of 3); the first result at a rung always
//! continues. (Syne Tune's code reads that rank from the sorted list of indices instead of the
//! trial's own position; we use the position, which is what the paper describes.) Failed
//! trials rank last. Defaults as Syne Tune: `η = 3`, grace period = the benchmark's minimum
//! fidelity. Each result re-orders its rung: non-dominated sorting (O(n log n) for two
//! objectives) and the ε-nets of the fronts (quadratic in a front's size).

use crate::brackets::rung_levels;
use crate::pareto_rank::position_of_last;
use hposim_core::{Action, Decision, Objective, Observation, Rng, TrialId, WorkerRequest};
use hposim_samplers::Sampler;

struct Rung {
    level: u32,
    /// Loss vectors of the trials recorded here with finite results, in arrival order.
    losses: Vec<Vec<f64>>,
    /// Trials recorded here that failed (they rank last).
    failed: usize,
}

/// The multi-objective ASHA scheduler (stopping variant).
pub struct MoAsha {
    sampler: Box<dyn Sampler>,
    objectives: Vec<Objective>,
    eta: f64,
    max: u32,
    rungs: Vec<Rung>,
    /// Per trial: the index of the next rung it will be recorded in.
    next_rung: Vec<u8>,
    exhausted: bool,
}

impl MoAsha {
    /// MO-ASHA from fidelity `min` to `max` with reduction factor `eta`, ranking by `objectives`.
    pub fn new(sampler: Box<dyn Sampler>, objectives: Vec<Objective>, eta: f64, min: u32, max: u32) -> Self {
        let rungs = rung_levels(min, max, eta, 0).into_iter().map(|level| Rung { level, losses: Vec::new(), failed: 0 }).collect();
        Self { sampler, objectives, eta, max, rungs, next_rung: Vec::new(), exhausted: false }
    }

    fn losses(&self, metrics: &[f64]) -> Vec<f64> {
        hposim_core::objective::losses(&self.objectives, metrics)
    }

    /// Records `losses` for `trial` at rung `k`; whether it continues.
    fn enter(&mut self, trial: TrialId, k: usize, losses: Vec<f64>) -> bool {
        self.next_rung[trial as usize] = (k + 1) as u8;
        let rung = &mut self.rungs[k];
        // Failures rank last, after every finite result.
        let position = if losses.iter().all(|l| l.is_finite()) {
            rung.losses.push(losses);
            position_of_last(&rung.losses)
        } else {
            rung.failed += 1;
            rung.losses.len() + rung.failed - 1
        };
        let n = rung.losses.len() + rung.failed;
        n < 2 || position as f64 / n as f64 <= 1.0 / self.eta
    }

    fn due(&self, trial: TrialId, fidelity: u32) -> Option<usize> {
        let k = usize::from(*self.next_rung.get(trial as usize)?);
        (self.rungs.get(k)?.level == fidelity).then_some(k)
    }
}

impl crate::Scheduler for MoAsha {
    fn on_free_worker(&mut self, request: &WorkerRequest, rng: &mut Rng) -> Action {
        if self.exhausted {
            return Action::Finish;
        }
        let Some(config) = self.sampler.suggest(rng) else {
            self.exhausted = true;
            return Action::Finish;
        };
        let index = request.next_trial as usize;
        if self.next_rung.len() <= index {
            self.next_rung.resize(index + 1, 0);
        }
        self.next_rung[index] = 0;
        self.sampler.running(request.next_trial, &config);
        Action::Start { config, until: self.max }
    }

    fn on_result(&mut self, observation: &Observation<'_>) -> Decision {
        let Some(k) = self.due(observation.trial, observation.fidelity) else {
            if observation.fidelity >= self.max {
                self.sampler.observe(observation);
                return Decision::Stop;
            }
            return Decision::Continue;
        };
        self.sampler.observe(observation);
        let losses = self.losses(observation.metrics);
        if self.enter(observation.trial, k, losses) { Decision::Continue } else { Decision::Stop }
    }

    fn on_failure(&mut self, failure: &Observation<'_>) {
        let target = self.next_rung.get(failure.trial as usize).and_then(|&k| self.rungs.get(usize::from(k))).map_or(self.max, |r| r.level);
        self.sampler.on_failure(&Observation { fidelity: target, ..*failure });
        if let Some(k) = self.due(failure.trial, failure.fidelity) {
            let losses = vec![f64::INFINITY; self.objectives.len()];
            self.enter(failure.trial, k, losses);
        }
    }

    fn sampler_warnings(&self) -> u64 {
        self.sampler.warnings()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_trial_continues_only_from_the_top_third_of_its_rung() {
        let sampler = Box::new(hposim_samplers::random::RandomSampler::new(
            hposim_core::SearchSpace::new(&[hposim_core::ParamSpec::Float {
                name: "x".into(),
                low: 0.0,
                high: 1.0,
                log: false,
                condition: None,
            }])
            .unwrap(),
        ));
        let mut asha = MoAsha::new(sampler, vec![Objective::minimize("a"), Objective::minimize("b")], 3.0, 1, 9);
        asha.next_rung = vec![0; 4];
        assert!(asha.enter(0, 0, vec![0.5, 0.5])); // first result continues
        assert!(!asha.enter(1, 0, vec![0.6, 0.6])); // dominated: position 1 of 2 > 1/3
        assert!(asha.enter(2, 0, vec![0.1, 0.1])); // dominates all: position 0
        // (0.9, 0.0) joins the first front with (0.1, 0.1); the ε-net starts at (0.1, 0.1),
        // so it comes second: 1/4 ≤ 1/3, it continues.
        assert!(asha.enter(3, 0, vec![0.9, 0.0]));
    }
}
