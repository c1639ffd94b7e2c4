//! ASHA, asynchronous successive halving (Li, Jamieson, Rostamizadeh, Gonina, Ben-tzur, Hardt,
//! Recht & Talwalkar, "A system for massively parallel hyperparameter tuning", MLSys 2020), in
//! its two published forms:
//!
//! - **promotion** (the paper's Algorithm 2): trials pause at each rung; a free worker looks,
//!   from the highest rung down, for the best trial in the top `⌊n/η⌋` of a rung of `n` results
//!   that has not been promoted yet, and resumes it to the next rung; if there is none, it
//!   starts a new configuration at the lowest rung. (Syne Tune's `PromotionRungSystem` uses a
//!   quantile cutoff instead, which already promotes one of two results; we follow the paper.)
//! - **stopping** (Syne Tune's default `type="stopping"`, `StoppingRungSystem`; Ray Tune's
//!   `AsyncHyperBandScheduler` is the same idea): every trial is started to the maximum
//!   fidelity; when it reaches a rung its value is entered there first, and it continues only
//!   if it is no worse than the rung's `q`-quantile (linear interpolation, as `numpy.quantile`),
//!   `q = r_k / r_{k+1}`, which is `1/η` between rungs and `r_K / R` above the top rung; with
//!   fewer than two values in the rung it continues. This is Syne Tune's rule exactly; Ray
//!   Tune leaves the new value out of the cutoff and uses a strict comparison.
//!
//! Rungs sit at `r·η^k` for every `k` with `r·η^k < R` (Syne Tune's `rung_levels`, whose
//! rounding never matters here since `r` and `η` are whole); `R` itself is not a rung. With
//! `brackets = B > 1`, bracket `s < B` uses the rungs from `r·η^s` up (a larger grace period,
//! Ray Tune's `brackets`), has rungs of its own, and receives each new trial with probability
//! ∝ `e^−s` (Ray Tune's `_Bracket` choice, `p ∝ exp(len(rungs_s) − max_len)`). Defaults
//! (`η = 3`, grace period = the benchmark's minimum fidelity, one bracket) are Syne Tune's.
//!
//! Rung membership costs O(log n) per result ([`TopSplit`], [`RankQuantile`]); finding a
//! promotable trial pops a lazily cleaned heap of top-set members, amortised O(log n).

use crate::brackets::{promotions, rung_levels};
use crate::rank::{RankQuantile, Ranked, TopSplit};
use hposim_core::{Action, Decision, Objective, Observation, Rng, TrialId, WorkerRequest};
use hposim_samplers::Sampler;
use rand::RngExt;
use serde::{Deserialize, Serialize};
use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// Which ASHA.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AshaVariant {
    /// Trials run on unless they fall out of the top quantile of a rung (Syne Tune, Ray Tune).
    #[default]
    Stopping,
    /// Trials pause at each rung until promoted (the paper's algorithm).
    Promotion,
}

#[derive(Debug)]
struct Rung {
    level: u32,
    /// Promotion: the best `⌊n/η⌋` and the rest.
    split: TopSplit,
    /// Promotion: top-set entrants, best first, possibly stale (checked on pop).
    candidates: BinaryHeap<Reverse<Ranked>>,
    /// Stopping: the values and their continuation quantile.
    quantile: RankQuantile,
}

#[derive(Clone, Copy, Debug, Default)]
struct TrialState {
    bracket: u16,
    /// Index of the next rung this trial will be recorded in.
    next_rung: u8,
    /// Rungs (bit k) whose top set holds this trial.
    in_head: u32,
    /// Rungs (bit k) this trial was promoted from.
    promoted: u32,
}

/// The ASHA scheduler.
pub struct Asha {
    sampler: Box<dyn Sampler>,
    objective: Objective,
    variant: AshaVariant,
    eta: f64,
    max: u32,
    brackets: Vec<Vec<Rung>>,
    /// Cumulative bracket probabilities.
    cumulative: Vec<f64>,
    trials: Vec<TrialState>,
    /// Trials started or resumed whose next result is still to come.
    running: u32,
    exhausted: bool,
}

impl Asha {
    /// ASHA from fidelity `min` (the grace period) to `max` with reduction factor `eta`,
    /// `brackets ≥ 1` brackets (each must have a rung below `max`), ranking by `objective`.
    pub fn new(sampler: Box<dyn Sampler>, objective: Objective, variant: AshaVariant, eta: f64, min: u32, max: u32, brackets: u32) -> Self {
        let brackets: Vec<Vec<Rung>> = (0..brackets.max(1))
            .map(|s| {
                let levels = rung_levels(min, max, eta, s);
                let mut rungs = Vec::with_capacity(levels.len());
                for (k, &level) in levels.iter().enumerate() {
                    let above = levels.get(k + 1).copied().unwrap_or(max);
                    rungs.push(Rung {
                        level,
                        split: TopSplit::default(),
                        candidates: BinaryHeap::new(),
                        quantile: RankQuantile::new(f64::from(level) / f64::from(above)),
                    });
                }
                rungs
            })
            .collect();
        let weights: Vec<f64> = (0..brackets.len()).map(|s| (-(s as f64)).exp()).collect();
        let total: f64 = weights.iter().sum();
        let cumulative = weights.iter().scan(0.0, |acc, w| {
            *acc += w / total;
            Some(*acc)
        });
        let cumulative = cumulative.collect();
        Self { sampler, objective, variant, eta, max, brackets, cumulative, trials: Vec::new(), running: 0, exhausted: false }
    }

    fn pick_bracket(&self, rng: &mut Rng) -> usize {
        if self.brackets.len() == 1 {
            return 0;
        }
        let u: f64 = rng.random();
        self.cumulative.iter().position(|&c| u < c).unwrap_or(self.brackets.len() - 1)
    }

    /// The best promotable trial of rung `k` of bracket `b`, marked promoted.
    fn take_promotable(&mut self, b: usize, k: usize) -> Option<TrialId> {
        let bit = 1u32 << k;
        while let Some(Reverse(top)) = self.brackets[b][k].candidates.pop() {
            let state = &mut self.trials[top.trial as usize];
            if state.in_head & bit != 0 && state.promoted & bit == 0 {
                state.promoted |= bit;
                return Some(top.trial);
            }
        }
        None
    }

    /// Resumes the best promotable trial of bracket `b`, looking from its highest rung down.
    fn promote(&mut self, b: usize) -> Option<Action> {
        for k in (0..self.brackets[b].len()).rev() {
            if let Some(trial) = self.take_promotable(b, k) {
                let until = self.brackets[b].get(k + 1).map_or(self.max, |r| r.level);
                self.trials[trial as usize].next_rung = (k + 1) as u8;
                self.running += 1;
                return Some(Action::Resume { trial, until });
            }
        }
        None
    }

    fn start(&mut self, bracket: usize, request: &WorkerRequest, rng: &mut Rng) -> Action {
        if self.exhausted {
            return if self.running > 0 && self.variant == AshaVariant::Promotion { Action::Wait } else { Action::Finish };
        }
        let Some(config) = self.sampler.suggest(rng) else {
            self.exhausted = true;
            return self.start(bracket, request, rng);
        };
        let index = request.next_trial as usize;
        if self.trials.len() <= index {
            self.trials.resize(index + 1, TrialState::default());
        }
        self.trials[index] = TrialState { bracket: bracket as u16, ..TrialState::default() };
        self.running += 1;
        self.sampler.running(request.next_trial, &config);
        let until = match self.variant {
            AshaVariant::Stopping => self.max,
            AshaVariant::Promotion => self.brackets[bracket].first().map_or(self.max, |r| r.level),
        };
        Action::Start { config, until }
    }

    /// Enters `item` in rung `k` of bracket `b`; returns whether the trial may continue
    /// (stopping variant).
    fn enter(&mut self, b: usize, k: usize, item: Ranked) -> bool {
        let bit = 1u32 << k;
        let rung = &mut self.brackets[b][k];
        match self.variant {
            AshaVariant::Stopping => {
                rung.quantile.insert(item);
                rung.quantile.len() < 2 || rung.quantile.quantile().is_none_or(|cutoff| item.badness <= cutoff)
            }
            AshaVariant::Promotion => {
                let head = promotions(rung.split.len() as u64 + 1, self.eta) as usize;
                let change = rung.split.insert(item, head);
                for entered in change.entered.into_iter().flatten() {
                    let state = &mut self.trials[entered.trial as usize];
                    state.in_head |= bit;
                    if state.promoted & bit == 0 {
                        rung.candidates.push(Reverse(entered));
                    }
                }
                if let Some(left) = change.left {
                    self.trials[left.trial as usize].in_head &= !bit;
                }
                true
            }
        }
    }

    /// The rung (index) `trial` reaches at `fidelity`, if it is due to be recorded there.
    fn due(&self, trial: TrialId, fidelity: u32) -> Option<(usize, usize)> {
        let state = self.trials.get(trial as usize)?;
        let b = usize::from(state.bracket);
        let k = usize::from(state.next_rung);
        (self.brackets[b].get(k)?.level == fidelity).then_some((b, k))
    }
}

impl crate::Scheduler for Asha {
    fn on_free_worker(&mut self, request: &WorkerRequest, rng: &mut Rng) -> Action {
        let bracket = self.pick_bracket(rng);
        if self.variant == AshaVariant::Promotion {
            if let Some(action) = self.promote(bracket) {
                return action;
            }
            // With no new configurations left, any bracket's promotion is better than idling.
            if self.exhausted
                && let Some(action) = (0..self.brackets.len()).find_map(|b| self.promote(b))
            {
                return action;
            }
        }
        self.start(bracket, request, rng)
    }

    fn on_result(&mut self, observation: &Observation<'_>) -> Decision {
        let trial = observation.trial;
        let Some((b, k)) = self.due(trial, observation.fidelity) else {
            if observation.fidelity >= self.max {
                self.running = self.running.saturating_sub(1);
                self.sampler.observe(observation);
                return Decision::Stop;
            }
            return Decision::Continue;
        };
        self.sampler.observe(observation);
        self.trials[trial as usize].next_rung = (k + 1) as u8;
        let item = Ranked { badness: self.objective.loss(observation.metrics[0]), trial };
        let continues = self.enter(b, k, item);
        match self.variant {
            AshaVariant::Stopping if continues => Decision::Continue,
            AshaVariant::Stopping => {
                self.running = self.running.saturating_sub(1);
                Decision::Stop
            }
            AshaVariant::Promotion => {
                self.running = self.running.saturating_sub(1);
                Decision::Pause
            }
        }
    }

    fn sampler_warnings(&self) -> u64 {
        self.sampler.warnings()
    }

    fn bracket_of(&self, trial: TrialId) -> Option<u64> {
        self.trials.get(trial as usize).map(|t| u64::from(t.bracket))
    }

    fn next_decision(&self, trial: TrialId, done: u32) -> u32 {
        // The trial's next rung (`due`), else its end.
        let Some(state) = self.trials.get(trial as usize) else { return done.saturating_add(1) };
        let rung = self.brackets[usize::from(state.bracket)].get(usize::from(state.next_rung)).map_or(self.max, |r| r.level);
        rung.min(self.max).max(done.saturating_add(1))
    }

    fn wakes_on_every_result(&self) -> bool {
        // The stopping variant never waits; the promotion variant waits once its sampler is
        // exhausted, and picks a bracket at random each time it is asked.
        self.variant == AshaVariant::Promotion
    }

    fn on_failure(&mut self, failure: &Observation<'_>) {
        let (trial, fidelity) = (failure.trial, failure.fidelity);
        // A failure counts at the rung the trial was running to, not at the step where the
        // metric broke.
        let target = self
            .trials
            .get(trial as usize)
            .and_then(|state| self.brackets[usize::from(state.bracket)].get(usize::from(state.next_rung)))
            .map_or(self.max, |rung| rung.level);
        self.sampler.on_failure(&Observation { fidelity: target, ..*failure });
        self.running = self.running.saturating_sub(1);
        if let Some((b, k)) = self.due(trial, fidelity) {
            // A failed trial ranks last and can never be promoted.
            let state = &mut self.trials[trial as usize];
            state.next_rung = (k + 1) as u8;
            state.promoted = u32::MAX;
            self.enter(b, k, Ranked { badness: f64::INFINITY, trial });
        }
    }
}
