//! NSGA-II as a multi-objective sampler: Deb, Pratap, Agarwal & Meyarivan, "A Fast and Elitist
//! Multiobjective Genetic Algorithm: NSGA-II", IEEE TEC 6(2), 2002, with the semantics and
//! defaults of Optuna's `NSGAIISampler` (`optuna/samplers/nsgaii/`).
//!
//! - **Generations.** Every proposal belongs to the generation current when it is made. The
//!   first generation is drawn from the prior. Once `population_size` results of the current
//!   generation have arrived, the next population of parents is chosen by elitist selection
//!   among the previous parents and that generation, and the generation counter moves on.
//! - **Elitist selection** (Deb et al., Section III-C; Optuna's
//!   `_elite_population_selection_strategy.py`): non-dominated sorting of the candidates; whole
//!   fronts are taken while they fit, and the front that overflows is cut by crowding distance,
//!   largest first (boundary points have infinite distance; ties go to the earlier candidate).
//! - **A child** (Optuna's `_child_generation_strategy.py`): with probability `crossover_prob`
//!   (0.9) two parents are chosen and crossed over, otherwise one parent drawn uniformly is
//!   copied. Each parent is the winner of a tournament of two candidates drawn with replacement:
//!   the first if it dominates the second, else the second (Optuna's `_select_parent`; the
//!   second parent is drawn from the population without the first). Uniform crossover takes
//!   each parameter from the second parent with probability `1 − swapping_prob` (Optuna's
//!   `UniformCrossover` mask, `rand ≥ swapping_prob`; 0.5 by default). Then each
//!   parameter is redrawn from its prior with probability `mutation_prob` (default
//!   1 / number of parameters). Conditions are re-resolved (a parameter that becomes active is
//!   drawn from its prior).
//!
//! Objectives are compared as losses (maximised ones negated); a failed trial has the worst
//! loss in every objective. A trial reported several times (at rungs of a multi-fidelity
//! scheduler) counts once, in its own generation, with its latest result while that generation
//! is open; reports after it closed are ignored, as Optuna counts only trials of the current
//! generation. Unlike Optuna, which leaves pruned trials out, a trial an early-termination
//! scheduler stopped counts with its result at the fidelity it reached.

use crate::{Sampler, SamplerError};
use hposim_core::pareto::crowding::crowding_distance;
use hposim_core::pareto::non_dominated::{dominates, front_ranks};
use hposim_core::{Config, Objective, Observation, Rng, SearchSpace, TrialId};
use rand::RngExt;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

fn default_population() -> u32 {
    50
}
fn default_crossover_prob() -> f64 {
    0.9
}
fn default_swapping_prob() -> f64 {
    0.5
}

/// The `sampler` table of `type = "nsga2"`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Nsga2Settings {
    /// Individuals per generation (default 50, Optuna's; at least 2).
    #[serde(default = "default_population")]
    pub population_size: u32,
    /// Probability of crossover rather than copying a parent (default 0.9).
    #[serde(default = "default_crossover_prob")]
    pub crossover_prob: f64,
    /// Uniform crossover keeps a parameter of the first parent with this probability and takes
    /// the second parent's otherwise (Optuna's `swapping_prob`, default 0.5).
    #[serde(default = "default_swapping_prob")]
    pub swapping_prob: f64,
    /// Probability of redrawing each parameter from its prior (default 1 / number of parameters).
    #[serde(default)]
    pub mutation_prob: Option<f64>,
}

/// One evaluated individual.
#[derive(Clone, Debug)]
struct Individual {
    config: Config,
    losses: Vec<f64>,
}

/// The NSGA-II sampler.
pub struct Nsga2Sampler {
    space: SearchSpace,
    objectives: Vec<Objective>,
    population_size: usize,
    crossover_prob: f64,
    swapping_prob: f64,
    mutation_prob: f64,
    generation: u32,
    /// Proposals not yet reported, with their generation.
    pending: Vec<(Config, u32)>,
    /// The generation of every trial reported so far.
    generation_of: BTreeMap<TrialId, u32>,
    /// Results of the current generation, one per trial.
    current: Vec<Individual>,
    current_of: HashMap<TrialId, usize>,
    /// The parents the current generation's children come from.
    parents: Vec<Individual>,
}

impl Nsga2Sampler {
    /// NSGA-II over `space` for `objectives` (at least two).
    pub fn new(space: &SearchSpace, objectives: &[Objective], settings: &Nsga2Settings) -> Result<Self, SamplerError> {
        crate::require_several_objectives("nsga2", objectives)?;
        if settings.population_size < 2 {
            return Err(SamplerError::invalid("population_size", format!("must be at least 2, got {}", settings.population_size)));
        }
        for (key, p) in [("crossover_prob", settings.crossover_prob), ("swapping_prob", settings.swapping_prob)] {
            if !(0.0..=1.0).contains(&p) {
                return Err(SamplerError::invalid(key, format!("must lie in [0, 1], got {p}")));
            }
        }
        let mutation_prob = settings.mutation_prob.unwrap_or(1.0 / space.len().max(1) as f64);
        if !(0.0..=1.0).contains(&mutation_prob) {
            return Err(SamplerError::invalid("mutation_prob", format!("must lie in [0, 1], got {mutation_prob}")));
        }
        Ok(Self {
            space: space.clone(),
            objectives: objectives.to_vec(),
            population_size: settings.population_size as usize,
            crossover_prob: settings.crossover_prob,
            swapping_prob: settings.swapping_prob,
            mutation_prob,
            generation: 0,
            pending: Vec::new(),
            generation_of: BTreeMap::new(),
            current: Vec::new(),
            current_of: HashMap::new(),
            parents: Vec::new(),
        })
    }

    /// The generation proposals are now made for.
    pub fn generation(&self) -> u32 {
        self.generation
    }

    fn losses(&self, metrics: &[f64]) -> Vec<f64> {
        // A failed objective is worse than any result; f64::MAX keeps crowding distances finite.
        hposim_core::objective::losses(&self.objectives, metrics).into_iter().map(|l| l.min(f64::MAX)).collect()
    }

    fn record(&mut self, observation: &Observation<'_>, losses: Vec<f64>) {
        let generation = match self.generation_of.get(&observation.trial) {
            Some(&g) => g,
            None => {
                let g = match self.pending.iter().position(|(c, _)| c == observation.config) {
                    Some(i) => self.pending.swap_remove(i).1,
                    // A proposal the caller replaced (a recorded set's nearest configuration):
                    // it was made for the current generation.
                    None => self.generation,
                };
                self.generation_of.insert(observation.trial, g);
                g
            }
        };
        if generation != self.generation {
            return; // A report from a closed generation.
        }
        let individual = Individual { config: observation.config.clone(), losses };
        match self.current_of.get(&observation.trial) {
            Some(&i) => self.current[i] = individual,
            None => {
                self.current_of.insert(observation.trial, self.current.len());
                self.current.push(individual);
            }
        }
        if self.current.len() >= self.population_size {
            let mut candidates = std::mem::take(&mut self.parents);
            candidates.append(&mut self.current);
            self.parents = elite(candidates, self.population_size);
            self.current_of.clear();
            self.generation += 1;
            // Proposals of closed generations can no longer count.
            let open = self.generation;
            self.pending.retain(|(_, g)| *g >= open);
        }
    }

    /// A tournament of two: the first if it dominates the second, else the second.
    fn tournament(&self, pool: &[usize], rng: &mut Rng) -> usize {
        let a = pool[rng.random_range(0..pool.len())];
        let b = pool[rng.random_range(0..pool.len())];
        if dominates(&self.parents[a].losses, &self.parents[b].losses) { a } else { b }
    }

    fn child(&self, rng: &mut Rng) -> Config {
        let all: Vec<usize> = (0..self.parents.len()).collect();
        let mut values = if rng.random::<f64>() < self.crossover_prob && self.parents.len() >= 2 {
            let first = self.tournament(&all, rng);
            let rest: Vec<usize> = all.iter().copied().filter(|&i| i != first).collect();
            let second = self.tournament(&rest, rng);
            let (p0, p1) = (self.parents[first].config.values(), self.parents[second].config.values());
            p0.iter().zip(p1).map(|(&a, &b)| if rng.random::<f64>() >= self.swapping_prob { b } else { a }).collect::<Vec<_>>()
        } else {
            self.parents[rng.random_range(0..self.parents.len())].config.values().to_vec()
        };
        for (index, param) in self.space.params().iter().enumerate() {
            if rng.random::<f64>() < self.mutation_prob {
                values[index] = hposim_core::encoding::from_unit(&param.domain, rng.random());
            }
        }
        // Values taken across parents may break conditions: re-resolve them, and mark a
        // parameter a mutation drew while inactive as inactive again.
        self.space.resolve_conditions(&mut values, rng);
        Config::new(values)
    }
}

/// Deb et al.'s elitist selection of `size` individuals among `candidates`.
fn elite(candidates: Vec<Individual>, size: usize) -> Vec<Individual> {
    if candidates.len() <= size {
        return candidates;
    }
    let points: Vec<Vec<f64>> = candidates.iter().map(|c| c.losses.clone()).collect();
    let ranks = front_ranks(&points);
    let mut chosen: Vec<usize> = Vec::with_capacity(size);
    for rank in 0.. {
        let front: Vec<usize> = (0..candidates.len()).filter(|&i| ranks[i] == rank).collect();
        if chosen.len() + front.len() <= size {
            chosen.extend(&front);
        } else {
            let front_points: Vec<Vec<f64>> = front.iter().map(|&i| points[i].clone()).collect();
            let distance = crowding_distance(&front_points);
            let mut order: Vec<usize> = (0..front.len()).collect();
            order.sort_by(|&a, &b| distance[b].total_cmp(&distance[a]).then(a.cmp(&b)));
            chosen.extend(order.into_iter().take(size - chosen.len()).map(|k| front[k]));
        }
        if chosen.len() >= size {
            break;
        }
    }
    chosen.sort_unstable();
    let mut candidates: Vec<Option<Individual>> = candidates.into_iter().map(Some).collect();
    chosen.into_iter().filter_map(|i| candidates[i].take()).collect()
}

impl Sampler for Nsga2Sampler {
    fn suggest(&mut self, rng: &mut Rng) -> Option<Config> {
        let config = if self.parents.is_empty() { self.space.sample(rng) } else { self.child(rng) };
        self.pending.push((config.clone(), self.generation));
        Some(config)
    }

    fn observe(&mut self, observation: &Observation<'_>) {
        let losses = self.losses(observation.metrics);
        self.record(observation, losses);
    }

    fn on_failure(&mut self, failure: &Observation<'_>) {
        let losses = vec![f64::MAX; self.objectives.len()];
        self.record(failure, losses);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hposim_core::{ParamSpec, Value};
    use rand::SeedableRng;

    fn individual(losses: &[f64]) -> Individual {
        Individual { config: Config::new(vec![Value::Float(losses[0])]), losses: losses.to_vec() }
    }

    #[test]
    fn elitist_selection_takes_whole_fronts_then_the_least_crowded() {
        // Front 0: (0,4), (1,2), (2,1), (4,0); front 1: (3,3). Choosing 3 of front 0 drops the
        // most crowded interior point: crowding of (1,2) is (2−0)/4 + (4−1)/4 = 1.25, of (2,1)
        // (4−1)/4 + (2−0)/4 = 1.25, tie: the earlier is kept. Boundary points are infinite.
        let candidates = vec![
            individual(&[3.0, 3.0]),
            individual(&[0.0, 4.0]),
            individual(&[1.0, 2.0]),
            individual(&[2.0, 1.0]),
            individual(&[4.0, 0.0]),
        ];
        let chosen: Vec<Vec<f64>> = elite(candidates.clone(), 3).into_iter().map(|c| c.losses).collect();
        assert_eq!(chosen, vec![vec![0.0, 4.0], vec![1.0, 2.0], vec![4.0, 0.0]]);
        let chosen: Vec<Vec<f64>> = elite(candidates, 5).into_iter().map(|c| c.losses).collect();
        assert_eq!(chosen.len(), 5);
    }

    #[test]
    fn generations_advance_after_population_size_results_and_children_stay_in_the_space() {
        let space = SearchSpace::new(&[
            ParamSpec::Float { name: "x".into(), low: 0.0, high: 1.0, log: false, condition: None },
            ParamSpec::Int { name: "n".into(), low: 1, high: 5, log: false, condition: None },
        ])
        .unwrap();
        let objectives = [Objective::minimize("f1"), Objective::maximize("f2")];
        let settings = Nsga2Settings { population_size: 4, crossover_prob: 0.9, swapping_prob: 0.5, mutation_prob: None };
        let mut sampler = Nsga2Sampler::new(&space, &objectives, &settings).unwrap();
        let mut rng = Rng::seed_from_u64(1);
        for trial in 0..40u32 {
            let config = sampler.suggest(&mut rng).unwrap();
            assert!(space.contains(&config));
            let Value::Float(x) = config.get(0) else { panic!() };
            sampler.observe(&Observation { trial, config: &config, fidelity: 1, metrics: &[x, x * x], time: 0.0 });
            assert_eq!(sampler.generation(), (trial + 1) / 4);
        }
        assert!(Nsga2Sampler::new(&space, &objectives[..1], &settings).err().unwrap().to_string().contains("multi-objective sampler"));
    }

    #[test]
    fn reports_after_a_generation_closed_do_not_count_again() {
        // Rung reports: trials 0 and 1 close generation 0 at fidelity 1; their later reports at
        // fidelity 3 must not fill generation 1, which only its own children can.
        let space = SearchSpace::new(&[ParamSpec::Float { name: "x".into(), low: 0.0, high: 1.0, log: false, condition: None }]).unwrap();
        let objectives = [Objective::minimize("f1"), Objective::minimize("f2")];
        let settings = Nsga2Settings { population_size: 2, crossover_prob: 0.9, swapping_prob: 0.5, mutation_prob: None };
        let mut sampler = Nsga2Sampler::new(&space, &objectives, &settings).unwrap();
        let mut rng = Rng::seed_from_u64(2);
        let configs: Vec<Config> = (0..2).map(|_| sampler.suggest(&mut rng).unwrap()).collect();
        let report = |s: &mut Nsga2Sampler, trial: u32, fidelity: u32| {
            s.observe(&Observation { trial, config: &configs[trial as usize], fidelity, metrics: &[0.5, 0.5], time: 0.0 })
        };
        report(&mut sampler, 0, 1);
        report(&mut sampler, 1, 1);
        assert_eq!(sampler.generation(), 1);
        report(&mut sampler, 0, 3);
        report(&mut sampler, 1, 3);
        assert_eq!(sampler.generation(), 1);
        assert!(sampler.current.is_empty());
    }
}
