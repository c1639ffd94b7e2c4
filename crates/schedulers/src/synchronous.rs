//! The synchronous bracket engine behind [`crate::successive_halving`] and
//! [`crate::hyperband`]: brackets run rung by rung; a rung's results are ranked only once all
//! of them are in, and the best `min(n_{i+1}, ⌊n_i/η⌋)` are resumed at the next rung's
//! fidelity, best first (Li et al. 2018, Algorithm 1; HpBandSter's `SuccessiveHalving`
//! iteration, which ranks non-crashed results once a stage is finished).
//!
//! A free worker takes the next job of the oldest active bracket that has one. When none has,
//! it either waits for the rung to fill (the synchronous algorithm as written; the simulator
//! counts the idle time) or, with `overlap`, starts the next bracket, as HpBandSter's
//! `Master.run` and Syne Tune's `SynchronousHyperbandScheduler` do.
//!
//! A result counts for a rung only at that rung's fidelity, once per trial and rung: a trial
//! resumed without a checkpoint repeats its earlier steps, and their results are not counted
//! again. A failed trial (NaN or infinite metric) counts as a result that ranks last and is
//! never promoted. When the sampler runs out, the open bracket's first rung closes with the
//! configurations it got, later rungs shrink accordingly, and no new bracket starts.
//!
//! With several objectives ([`Synchronous::ranking_by_pareto`], the schedulers' `ranking =
//! "pareto"`), a completed rung is put in the priority order of multi-objective ASHA
//! ([`crate::pareto_rank::priority_order`]: non-dominated fronts, an ε-net within each) and the
//! first `⌊n/η⌋` are promoted: multi-objective successive halving and HyperBand, as Schmucker
//! et al. (2021) rank rungs.

use crate::brackets::{Bracket, promotions, steps};
use crate::rank::Ranked;
use hposim_core::{Action, Decision, Objective, Observation, Rng, TrialId, WorkerRequest};
use hposim_samplers::Sampler;

/// A bracket plan in whole steps: per rung, the configurations it holds and its fidelity.
#[derive(Clone, Debug, PartialEq)]
pub struct Plan {
    /// `(configs, steps)` per rung, lowest fidelity first.
    pub rungs: Vec<(u64, u32)>,
}

impl Plan {
    /// The plan of `bracket`, its fidelities rounded to whole steps.
    pub fn of(bracket: &Bracket) -> Self {
        Self { rungs: bracket.rungs.iter().map(|r| (r.configs, steps(r.fidelity))).collect() }
    }
}

#[derive(Debug)]
struct ActiveBracket {
    id: u64,
    plan: usize,
    rung: usize,
    /// New configurations still to start (first rung only).
    to_start: u64,
    /// Trials started or promoted into the current rung.
    members: u64,
    /// Promoted trials still to resume, best last (popped first).
    pending: Vec<TrialId>,
    /// Results of the current rung.
    results: Vec<Ranked>,
    /// With Pareto ranking: each result's losses, in the order of `results`.
    losses: Vec<Vec<f64>>,
}

#[derive(Clone, Copy, Debug)]
struct Slot {
    bracket: u64,
    target: u32,
    recorded: bool,
}

/// Synchronous successive halving over a cycle of bracket plans.
pub struct Synchronous {
    sampler: Box<dyn Sampler>,
    objective: Objective,
    eta: f64,
    plans: Vec<Plan>,
    overlap: bool,
    next_plan: usize,
    next_id: u64,
    active: Vec<ActiveBracket>,
    slots: Vec<Option<Slot>>,
    exhausted: bool,
    brackets_left: Option<u64>,
    /// Rank rungs by all these objectives (Pareto ranking) instead of by the first.
    pareto: Option<Vec<Objective>>,
}

impl Synchronous {
    /// Runs brackets following `plans` in a cycle, ranking by `objective` and promoting
    /// `⌊n/η⌋` at most. With `overlap`, a worker with nothing to do in the active brackets
    /// starts the next bracket instead of waiting.
    pub fn new(sampler: Box<dyn Sampler>, objective: Objective, eta: f64, plans: Vec<Plan>, overlap: bool) -> Self {
        Self {
            sampler,
            objective,
            eta,
            plans,
            overlap,
            next_plan: 0,
            next_id: 0,
            active: Vec::new(),
            slots: Vec::new(),
            exhausted: false,
            brackets_left: None,
            pareto: None,
        }
    }

    /// Ranks completed rungs by non-dominated sorting over `objectives` with an ε-net within
    /// fronts, instead of by the first objective.
    pub fn ranking_by_pareto(mut self, objectives: Vec<Objective>) -> Self {
        self.pareto = Some(objectives);
        self
    }

    /// Stops opening brackets after `max` of them (`None`: never stops).
    pub fn with_max_brackets(mut self, max: Option<u64>) -> Self {
        self.brackets_left = max;
        self
    }

    fn open_bracket(&mut self) {
        let plan = self.next_plan % self.plans.len();
        self.next_plan += 1;
        if let Some(left) = &mut self.brackets_left {
            *left = left.saturating_sub(1);
        }
        let to_start = self.plans[plan].rungs.first().map_or(0, |r| r.0);
        self.active.push(ActiveBracket {
            id: self.next_id,
            plan,
            rung: 0,
            to_start,
            members: 0,
            pending: Vec::new(),
            results: Vec::new(),
            losses: Vec::new(),
        });
        self.next_id += 1;
    }

    /// The next job of active bracket `b`, if it has one now.
    fn job(&mut self, b: usize, request: &WorkerRequest, rng: &mut Rng) -> Option<Action> {
        let bracket = &mut self.active[b];
        if let Some(trial) = bracket.pending.pop() {
            let until = self.plans[bracket.plan].rungs[bracket.rung].1;
            return Some(Action::Resume { trial, until });
        }
        if bracket.to_start == 0 {
            return None;
        }
        match self.sampler.suggest(rng) {
            Some(config) => {
                let bracket = &mut self.active[b];
                bracket.to_start -= 1;
                bracket.members += 1;
                let until = self.plans[bracket.plan].rungs[0].1;
                let slot = Slot { bracket: bracket.id, target: until, recorded: false };
                let index = request.next_trial as usize;
                if self.slots.len() <= index {
                    self.slots.resize(index + 1, None);
                }
                self.slots[index] = Some(slot);
                self.sampler.running(request.next_trial, &config);
                Some(Action::Start { config, until })
            }
            None => {
                self.exhausted = true;
                let id = self.active[b].id;
                self.active[b].to_start = 0;
                // Closing the first rung may complete it and promote at once; if the bracket is
                // still there, its next job is a promotion (nothing is left to start).
                self.advance_if_complete(b);
                if self.active.get(b).is_some_and(|a| a.id == id) { self.job(b, request, rng) } else { None }
            }
        }
    }

    /// Records `item` for `trial`'s rung and advances the bracket when the rung is complete.
    fn record(&mut self, trial: TrialId, item: Ranked, losses: Vec<f64>) {
        let Some(Some(slot)) = self.slots.get_mut(trial as usize) else { return };
        slot.recorded = true;
        let id = slot.bracket;
        if let Some(b) = self.active.iter().position(|a| a.id == id) {
            self.active[b].results.push(item);
            if self.pareto.is_some() {
                self.active[b].losses.push(losses);
            }
            self.advance_if_complete(b);
        }
    }

    fn advance_if_complete(&mut self, b: usize) {
        let bracket = &mut self.active[b];
        if bracket.to_start > 0 || !bracket.pending.is_empty() || (bracket.results.len() as u64) < bracket.members {
            return;
        }
        let rungs = &self.plans[bracket.plan].rungs;
        let next = bracket.rung + 1;
        if self.pareto.is_some() && bracket.losses.len() == bracket.results.len() {
            // A result's badness becomes its position in the rung's priority order.
            for (position, &i) in crate::pareto_rank::priority_order(&bracket.losses).iter().enumerate() {
                if bracket.results[i].badness.is_finite() {
                    bracket.results[i].badness = position as f64;
                }
            }
            bracket.losses.clear();
        }
        // Sorting once per completed rung is O(log n) per result, amortised.
        bracket.results.sort_unstable();
        let finite = bracket.results.iter().filter(|r| r.badness.is_finite()).count() as u64;
        let keep = match rungs.get(next) {
            Some(&(planned, _)) => planned.min(promotions(bracket.members, self.eta)).min(finite),
            None => 0,
        };
        if keep == 0 {
            self.active.remove(b);
            return;
        }
        let until = rungs[next].1;
        let promoted: Vec<TrialId> = bracket.results[..keep as usize].iter().rev().map(|r| r.trial).collect();
        for &trial in &promoted {
            if let Some(Some(slot)) = self.slots.get_mut(trial as usize) {
                *slot = Slot { bracket: bracket.id, target: until, recorded: false };
            }
        }
        bracket.pending = promoted;
        bracket.results.clear();
        bracket.members = keep;
        bracket.rung = next;
    }
}

impl crate::Scheduler for Synchronous {
    fn on_free_worker(&mut self, request: &WorkerRequest, rng: &mut Rng) -> Action {
        let mut b = 0;
        while b < self.active.len() {
            let id = self.active[b].id;
            if let Some(job) = self.job(b, request, rng) {
                return job;
            }
            // When the sampler runs out, `job` may close bracket `b`; the next one then has its index.
            if self.active.get(b).is_some_and(|a| a.id == id) {
                b += 1;
            }
        }
        if (self.active.is_empty() || self.overlap) && !self.exhausted && self.brackets_left != Some(0) {
            self.open_bracket();
            let b = self.active.len() - 1;
            if let Some(job) = self.job(b, request, rng) {
                return job;
            }
        }
        if self.active.is_empty() { Action::Finish } else { Action::Wait }
    }

    fn on_result(&mut self, observation: &Observation<'_>) -> Decision {
        let due = self
            .slots
            .get(observation.trial as usize)
            .copied()
            .flatten()
            .is_some_and(|slot| !slot.recorded && observation.fidelity == slot.target);
        if due {
            self.sampler.observe(observation);
            let item = Ranked { badness: self.objective.loss(observation.metrics[0]), trial: observation.trial };
            let losses = self.pareto.as_ref().map_or(Vec::new(), |o| hposim_core::objective::losses(o, observation.metrics));
            self.record(observation.trial, item, losses);
        }
        Decision::Continue
    }

    fn sampler_warnings(&self) -> u64 {
        self.sampler.warnings()
    }

    fn bracket_of(&self, trial: TrialId) -> Option<u64> {
        self.slots.get(trial as usize).copied().flatten().map(|slot| slot.bracket)
    }

    fn wakes_on_every_result(&self) -> bool {
        // It waits for a rung to fill, which only a result it hears can do; asked before,
        // it finds no job again without asking its sampler.
        false
    }

    fn next_decision(&self, trial: TrialId, done: u32) -> u32 {
        // Only the result at the rung the trial runs to is recorded.
        match self.slots.get(trial as usize).copied().flatten() {
            Some(slot) if !slot.recorded && slot.target > done => slot.target,
            _ => done.saturating_add(1),
        }
    }

    fn on_failure(&mut self, failure: &Observation<'_>) {
        let trial = failure.trial;
        // A failure counts at the rung the trial was running to (HpBandSter records a failed
        // job at its budget), not at the step where the metric broke.
        let target = self.slots.get(trial as usize).copied().flatten().map_or(failure.fidelity, |slot| slot.target);
        self.sampler.on_failure(&Observation { fidelity: target, ..*failure });
        if self.slots.get(trial as usize).copied().flatten().is_some_and(|slot| !slot.recorded) {
            let losses = self.pareto.as_ref().map_or(Vec::new(), |o| vec![f64::INFINITY; o.len()]);
            self.record(trial, Ranked { badness: f64::INFINITY, trial }, losses);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Scheduler;
    use hposim_core::{Config, ParamSpec, SearchSpace, Value};
    use rand::SeedableRng;

    /// Nine configurations at fidelity 1, three promoted to 3, by the first objective or by
    /// Pareto ranking; returns the promoted trials.
    fn promoted(pareto: bool) -> Vec<TrialId> {
        let space = SearchSpace::new(&[ParamSpec::Float { name: "x".into(), low: 0.0, high: 1.0, log: false, condition: None }]).unwrap();
        let objectives = vec![Objective::minimize("a"), Objective::minimize("b")];
        let bracket = crate::brackets::successive_halving(1.0, 3.0, 3.0, 9);
        let sampler = Box::new(hposim_samplers::random::RandomSampler::new(space));
        let mut engine = crate::successive_halving::new(sampler, objectives[0].clone(), 3.0, &bracket, false);
        if pareto {
            engine = engine.ranking_by_pareto(objectives);
        }
        let mut rng = Rng::seed_from_u64(0);
        let request = |next_trial| WorkerRequest { now: 0.0, worker: 0, next_trial };
        for t in 0..9 {
            assert!(matches!(engine.on_free_worker(&request(t), &mut rng), Action::Start { until: 1, .. }));
        }
        // A, B and C form the first front; the rest are dominated by A but D (0.5, 0.95) has the
        // third best first objective.
        let losses =
            [[0.10, 0.90], [0.15, 0.85], [0.90, 0.10], [0.5, 0.95], [0.55, 0.96], [0.6, 0.97], [0.65, 0.98], [0.7, 0.99], [0.75, 1.0]];
        let config = Config::new(vec![Value::Float(0.5)]);
        for (t, m) in losses.iter().enumerate() {
            engine.on_result(&Observation { trial: t as u32, config: &config, fidelity: 1, metrics: m, time: 0.0 });
        }
        let mut resumed: Vec<TrialId> = (0..3)
            .map(|_| match engine.on_free_worker(&request(9), &mut rng) {
                Action::Resume { trial, until: 3 } => trial,
                other => panic!("{other:?}"),
            })
            .collect();
        resumed.sort_unstable();
        resumed
    }

    #[test]
    fn pareto_ranking_promotes_the_first_front() {
        assert_eq!(promoted(false), vec![0, 1, 3]);
        assert_eq!(promoted(true), vec![0, 1, 2]);
    }
}
