//! Confining a sampler to a fixed set of configurations: the rows of a recorded table replayed
//! with `lookup = "recorded"`, as Syne Tune's searchers do with `restrict_configurations`.
//!
//! Each configuration is proposed at most once (Syne Tune's `allow_duplicates = False`); when
//! all have been proposed the sampler is exhausted. The wrapped sampler chooses through
//! [`Sampler::pick`]: random and grid search pick a candidate directly; every other sampler
//! proposes a configuration as usual, which is resolved to the nearest candidate not yet
//! proposed (categorical values never crossing while a match is left,
//! [`hposim_core::nearest`]), and it observes the candidate actually evaluated.

use crate::Sampler;
use hposim_core::nearest::{NearestIndex, encode_for_nearest};
use hposim_core::{Config, Fidelity, Observation, Rng, SearchSpace, TrialId};
use rand::RngExt;
use std::sync::Arc;

/// What a sampler picked among [`Candidates`].
#[derive(Clone, Debug, PartialEq)]
pub enum Pick {
    /// The candidate with this index.
    Index(usize),
    /// A free proposal, to be resolved to the nearest unused candidate.
    Proposal(Config),
}

/// The candidates a restricted sampler chooses among, and which are used up.
#[derive(Clone, Copy, Debug)]
pub struct Candidates<'a> {
    /// Every candidate.
    pub configs: &'a [Config],
    /// `used[i]`: candidate `i` was proposed already.
    pub used: &'a [bool],
    /// Number of unused candidates.
    pub remaining: usize,
}

impl Candidates<'_> {
    /// The index of the `k`-th unused candidate (0-based), if there are that many.
    pub fn nth_unused(&self, k: usize) -> Option<usize> {
        self.used.iter().enumerate().filter(|(_, used)| !**used).nth(k).map(|(i, _)| i)
    }

    /// An unused candidate drawn uniformly.
    pub fn uniform_unused(&self, rng: &mut Rng) -> Option<usize> {
        if self.remaining == 0 {
            return None;
        }
        self.nth_unused(rng.random_range(0..self.remaining))
    }
}

/// A sampler confined to a fixed set of configurations, each proposed at most once.
pub struct Restricted {
    inner: Box<dyn Sampler>,
    space: SearchSpace,
    /// The configurations, indexed; shared with the benchmark and the other cells.
    set: Arc<NearestIndex>,
    used: Vec<bool>,
    remaining: usize,
}

impl Restricted {
    /// Confines `inner` (a sampler over `space`) to the configurations of `set`.
    pub fn new(inner: Box<dyn Sampler>, space: &SearchSpace, set: Arc<NearestIndex>) -> Self {
        let count = set.len();
        Self { inner, space: space.clone(), set, used: vec![false; count], remaining: count }
    }

    /// The unused candidate nearest to `config`.
    fn nearest_unused(&self, config: &Config) -> Option<usize> {
        let mut query = vec![0.0; self.space.len()];
        encode_for_nearest(&self.space, config, &mut query);
        self.set.nearest(&query, |i| !self.used[i])
    }
}

impl Sampler for Restricted {
    fn suggest(&mut self, rng: &mut Rng) -> Option<Config> {
        if self.remaining == 0 {
            return None;
        }
        let candidates = Candidates { configs: self.set.configs(), used: &self.used, remaining: self.remaining };
        let chosen = match self.inner.pick(&candidates, rng)? {
            Pick::Index(i) => Some(i).filter(|&i| !self.used.get(i).copied().unwrap_or(true)),
            Pick::Proposal(config) => self.nearest_unused(&config),
        }?;
        self.used[chosen] = true;
        self.remaining -= 1;
        Some(self.set.configs()[chosen].clone())
    }

    /// The inner sampler's proposal resolved to the nearest unused candidate, at the fidelity
    /// it chose.
    fn suggest_with_fidelity(&mut self, fidelity: &Fidelity, rng: &mut Rng) -> Option<(Config, u32)> {
        if self.remaining == 0 {
            return None;
        }
        let (config, target) = self.inner.suggest_with_fidelity(fidelity, rng)?;
        let chosen = self.nearest_unused(&config)?;
        self.used[chosen] = true;
        self.remaining -= 1;
        Some((self.set.configs()[chosen].clone(), target))
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
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::grid::GridSampler;
    use crate::random::RandomSampler;
    use crate::tpe::{TpeSampler, TpeSettings};
    use hposim_core::{Choice, Objective, ParamSpec, Value};
    use rand::SeedableRng;
    use std::collections::BTreeMap;

    fn space() -> SearchSpace {
        SearchSpace::new(&[
            ParamSpec::Categorical {
                name: "kind".into(),
                choices: vec![Choice::Text("a".into()), Choice::Text("b".into())],
                condition: None,
            },
            ParamSpec::Float { name: "x".into(), low: 0.0, high: 1.0, log: false, condition: None },
        ])
        .unwrap()
    }

    fn configs() -> Vec<Config> {
        (0..10).map(|i| Config::new(vec![Value::Choice(i % 2), Value::Float(f64::from(i) / 10.0)])).collect()
    }

    fn set(space: &SearchSpace) -> Arc<NearestIndex> {
        Arc::new(NearestIndex::new(space, configs()))
    }

    fn drain(sampler: &mut Restricted, rng: &mut Rng) -> Vec<usize> {
        let configs = configs();
        std::iter::from_fn(|| sampler.suggest(rng)).map(|c| configs.iter().position(|r| *r == c).unwrap()).collect()
    }

    #[test]
    fn random_search_draws_every_recorded_configuration_once() {
        let space = space();
        let mut rng = Rng::seed_from_u64(1);
        let mut sampler = Restricted::new(Box::new(RandomSampler::new(space.clone())), &space, set(&space));
        let mut order = drain(&mut sampler, &mut rng);
        assert_ne!(order, (0..10).collect::<Vec<_>>(), "a random order, not the table's");
        order.sort_unstable();
        assert_eq!(order, (0..10).collect::<Vec<_>>());
    }

    #[test]
    fn an_unshuffled_grid_walks_the_set_in_order() {
        let space = space();
        let mut rng = Rng::seed_from_u64(1);
        let grid = GridSampler::new(&space, 3, &BTreeMap::new(), false, &mut rng).unwrap();
        let mut sampler = Restricted::new(Box::new(grid), &space, set(&space));
        assert_eq!(drain(&mut sampler, &mut rng), (0..10).collect::<Vec<_>>());
    }

    #[test]
    fn model_based_proposals_snap_to_distinct_candidates() {
        let space = space();
        let mut rng = Rng::seed_from_u64(2);
        let tpe = TpeSampler::new(&space, Objective::minimize("loss"), &TpeSettings::default()).unwrap();
        let mut sampler = Restricted::new(Box::new(tpe), &space, set(&space));
        let mut order = drain(&mut sampler, &mut rng);
        order.sort_unstable();
        assert_eq!(order, (0..10).collect::<Vec<_>>(), "each candidate once, then exhausted");
    }
}
