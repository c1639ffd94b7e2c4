//! Regularized (aging) evolution: Real, Aggarwal, Huang & Le, "Regularized Evolution for Image
//! Classifier Architecture Search", AAAI 2019, Algorithm 1.
//!
//! The population is a FIFO queue of at most `population` evaluated configurations. Until
//! `population` results have arrived, proposals are random draws from the prior. After that,
//! each proposal samples `sample_size` members uniformly at random, takes the best of them (the
//! lowest loss) as the parent, and mutates it. A new result joins the population at the young
//! end and, once the population is full, the *oldest* member leaves — not the worst: this aging
//! is the "regularization" of the title: a good configuration persists only through its
//! descendants, so one lucky evaluation cannot dominate the search for long.
//!
//! The mutation follows Syne Tune's `RegularizedEvolution` searcher
//! (`syne_tune/optimizer/schedulers/searchers/regularized_evolution.py`), which extends the
//! paper's architecture mutations to hyperparameters: one parameter, chosen uniformly at random
//! among those the parent has active and that can take more than one value, gets a new value
//! drawn from its prior but different from the current one (Syne Tune redraws from the prior
//! until the value changes). Here that is done exactly: floats and log-scale integers are
//! redrawn on their scale until they change; linear integers, categorical and ordinal
//! parameters, whose prior is uniform over their values, get one of the *other* values
//! uniformly. Conditions are then re-resolved front to back: a child parameter that becomes
//! active gets a draw from its prior, one that becomes inactive becomes [`Value::Inactive`].
//!
//! Defaults are Syne Tune's (`population_size = 100`, `sample_size = 10`).
//!
//! The tournament draws its `sample_size` members *with* replacement, as Algorithm 1 says ("the
//! element stays in the population") and as the paper's reference code (the google-research
//! `regularized_evolution` notebook, `random.choice` in a loop) and Syne Tune
//! (`RandomState.choice`, `replace=True` by default) do.
//!
//! Multi-fidelity schedulers report several results for one trial; the sampler keeps one
//! member per trial and updates its loss in place (a result at a fidelity at least as high as
//! the recorded one replaces it; a failure stays a failure, as in [`crate::history::History`]),
//! so a trial neither ages twice nor takes several seats. A trial that has already aged out
//! and reports again joins as a new, young member, as it would in Syne Tune, which appends
//! every result. Failures (NaN or infinite metrics) get the loss `+inf` and rank last.

use crate::history::loss;
use crate::{Sampler, SamplerError};
use hposim_core::encoding::from_unit;
use hposim_core::{Config, Domain, Objective, Observation, Rng, SearchSpace, TrialId, Value};
use rand::RngExt;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, VecDeque};

fn default_population() -> u32 {
    100
}

/// Largest tournament.
pub const MAX_SAMPLE_SIZE: u32 = 1_000_000;

fn default_sample_size() -> u32 {
    10
}

/// How often a float or log-scale integer is redrawn from its prior until its value changes.
/// Each draw repeats the current value with probability at most about 0.7 (the widest log-scale
/// integer bin), so 64 draws all failing has probability below 1e-9; Syne Tune allows 1000.
const MAX_REDRAWS: usize = 64;

/// Settings of regularized evolution.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvolutionSettings {
    /// Most members the population holds (default 100, at least 2); also the number of results
    /// awaited before evolution starts, proposals being random until then.
    #[serde(default = "default_population")]
    pub population: u32,
    /// Members drawn (with replacement) for each tournament (default 10, from 1 to
    /// `population`); the best of them is the parent. Larger means greedier.
    #[serde(default = "default_sample_size")]
    pub sample_size: u32,
}

impl Default for EvolutionSettings {
    fn default() -> Self {
        Self { population: default_population(), sample_size: default_sample_size() }
    }
}

/// One member of the population.
#[derive(Clone, Debug)]
struct Member {
    trial: TrialId,
    config: Config,
    /// Fidelity of the result the loss comes from.
    fidelity: u32,
    /// Loss to minimise; `+inf` for a failure.
    loss: f64,
}

/// Regularized (aging) evolution.
#[derive(Debug)]
pub struct RegularizedEvolution {
    space: SearchSpace,
    objective: Objective,
    population_cap: usize,
    sample_size: usize,
    /// Members, oldest at the front.
    members: VecDeque<Member>,
    /// Each living member's trial and its position counted from the first member ever added;
    /// its index in `members` is that minus `evicted`.
    slots: HashMap<TrialId, u64>,
    /// Members removed from the front so far.
    evicted: u64,
}

impl RegularizedEvolution {
    /// Regularized evolution over `space`, ranking results by `objective`.
    pub fn new(space: &SearchSpace, objective: Objective, settings: &EvolutionSettings) -> Result<Self, SamplerError> {
        if settings.population < 2 {
            return Err(SamplerError::invalid("population", "must be at least 2"));
        }
        // Drawn with replacement, a tournament may be larger than the population (greedier).
        if settings.sample_size == 0 || settings.sample_size > MAX_SAMPLE_SIZE {
            return Err(SamplerError::invalid("sample_size", format!("must lie in 1..={MAX_SAMPLE_SIZE}")));
        }
        Ok(Self {
            space: space.clone(),
            objective,
            population_cap: settings.population as usize,
            sample_size: settings.sample_size as usize,
            members: VecDeque::new(),
            slots: HashMap::new(),
            evicted: 0,
        })
    }

    /// Records `loss` for `observation`'s trial: in place for a living member, else as the
    /// youngest member, the oldest leaving when the population overflows.
    fn record(&mut self, observation: &Observation<'_>, loss: f64) {
        if let Some(&position) = self.slots.get(&observation.trial)
            && let Some(member) = self.members.get_mut((position - self.evicted) as usize)
        {
            if observation.fidelity >= member.fidelity && member.loss != f64::INFINITY {
                member.fidelity = observation.fidelity;
                member.loss = loss;
            }
            return;
        }
        self.slots.insert(observation.trial, self.evicted + self.members.len() as u64);
        self.members.push_back(Member {
            trial: observation.trial,
            config: observation.config.clone(),
            fidelity: observation.fidelity,
            loss,
        });
        while self.members.len() > self.population_cap {
            if let Some(oldest) = self.members.pop_front() {
                self.slots.remove(&oldest.trial);
                self.evicted += 1;
            }
        }
    }

    /// Index in `members` of the best of `sample_size` members drawn with replacement.
    fn tournament(&mut self, rng: &mut Rng) -> usize {
        let n = self.members.len();
        let mut best = rng.random_range(0..n);
        for _ in 1..self.sample_size {
            let candidate = rng.random_range(0..n);
            // Strictly better only, so ties go to the member drawn first (a random one).
            if self.members[candidate].loss < self.members[best].loss {
                best = candidate;
            }
        }
        best
    }

    /// The parent with one active parameter changed and conditions re-resolved.
    fn mutate(&self, parent: &Config, rng: &mut Rng) -> Config {
        let params = self.space.params();
        let mut values = parent.values().to_vec();
        let mutable = |i: &usize| values[*i].is_active() && has_alternatives(&params[*i].domain);
        let count = (0..params.len()).filter(mutable).count();
        if count == 0 {
            // Nothing can change (every active parameter has a single value).
            return Config::new(values);
        }
        let pick = rng.random_range(0..count);
        let Some(target) = (0..params.len()).filter(mutable).nth(pick) else {
            return Config::new(values);
        };
        values[target] = other_value(&params[target].domain, values[target], rng);
        self.space.resolve_conditions(&mut values, rng);
        Config::new(values)
    }

    /// The members' trials and losses, oldest first.
    #[cfg(test)]
    fn population(&self) -> Vec<(TrialId, f64)> {
        self.members.iter().map(|m| (m.trial, m.loss)).collect()
    }
}

/// Whether `domain` has more than one value (a mutation can change it).
fn has_alternatives(domain: &Domain) -> bool {
    domain.choice_count().is_none_or(|k| k > 1)
}

/// A draw from `domain`'s prior that differs from `current`.
fn other_value(domain: &Domain, current: Value, rng: &mut Rng) -> Value {
    match (domain, current) {
        // Uniform priors over finitely many values: pick one of the others directly.
        (Domain::Int { low, high, log: false }, Value::Int(v)) => {
            let offset = rng.random_range(0..(high - low) as u64) as i64;
            let candidate = low + offset;
            Value::Int(if candidate >= v { candidate + 1 } else { candidate })
        }
        (Domain::Categorical { choices: c } | Domain::Ordinal { values: c }, Value::Choice(i)) if c.len() > 1 => {
            let candidate = rng.random_range(0..c.len() as u32 - 1);
            Value::Choice(if candidate >= i { candidate + 1 } else { candidate })
        }
        // Floats and log-scale integers: redraw on the parameter's scale until it changes.
        _ => {
            let mut value = current;
            for _ in 0..MAX_REDRAWS {
                value = from_unit(domain, rng.random::<f64>());
                if value != current {
                    break;
                }
            }
            value
        }
    }
}

impl Sampler for RegularizedEvolution {
    fn suggest(&mut self, rng: &mut Rng) -> Option<Config> {
        if self.members.len() < self.population_cap {
            return Some(self.space.sample(rng));
        }
        let parent = self.tournament(rng);
        Some(self.mutate(&self.members[parent].config, rng))
    }

    fn observe(&mut self, observation: &Observation<'_>) {
        let loss = loss(&self.objective, observation.metrics);
        self.record(observation, loss);
    }

    fn on_failure(&mut self, failure: &Observation<'_>) {
        self.record(failure, f64::INFINITY);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use hposim_core::{Choice, ConditionSpec, ParamSpec};
    use rand::SeedableRng;

    fn text(values: &[&str]) -> Vec<Choice> {
        values.iter().map(|v| Choice::Text((*v).into())).collect()
    }

    fn flat_space() -> SearchSpace {
        SearchSpace::new(&[
            ParamSpec::Float { name: "lr".into(), low: 1e-5, high: 1e-1, log: true, condition: None },
            ParamSpec::Float { name: "dropout".into(), low: 0.0, high: 0.5, log: false, condition: None },
            ParamSpec::Int { name: "layers".into(), low: 1, high: 3, log: false, condition: None },
            ParamSpec::Int { name: "width".into(), low: 16, high: 1024, log: true, condition: None },
            ParamSpec::Categorical { name: "activation".into(), choices: text(&["relu", "tanh"]), condition: None },
            ParamSpec::Ordinal { name: "batch".into(), values: vec![Choice::Int(32), Choice::Int(64), Choice::Int(128)], condition: None },
            ParamSpec::Categorical { name: "constant".into(), choices: text(&["only"]), condition: None },
        ])
        .unwrap()
    }

    fn conditional_space() -> SearchSpace {
        SearchSpace::new(&[
            ParamSpec::Float { name: "lr".into(), low: 1e-4, high: 1e-1, log: true, condition: None },
            ParamSpec::Categorical { name: "optimizer".into(), choices: text(&["sgd", "adam"]), condition: None },
            ParamSpec::Float {
                name: "momentum".into(),
                low: 0.5,
                high: 0.99,
                log: false,
                condition: Some(ConditionSpec { parent: "optimizer".into(), values: text(&["sgd"]) }),
            },
            ParamSpec::Categorical {
                name: "nesterov".into(),
                choices: vec![Choice::Bool(false), Choice::Bool(true)],
                condition: Some(ConditionSpec { parent: "optimizer".into(), values: text(&["sgd"]) }),
            },
        ])
        .unwrap()
    }

    fn evolution(space: &SearchSpace, population: u32, sample_size: u32) -> RegularizedEvolution {
        RegularizedEvolution::new(space, Objective::minimize("loss"), &EvolutionSettings { population, sample_size }).unwrap()
    }

    fn report(sampler: &mut RegularizedEvolution, trial: TrialId, config: &Config, fidelity: u32, metric: f64) {
        sampler.observe(&Observation { trial, config, fidelity, metrics: &[metric], time: 0.0 });
    }

    /// Indices where `a` and `b` differ.
    fn differences(a: &Config, b: &Config) -> Vec<usize> {
        (0..a.len()).filter(|&i| a.get(i) != b.get(i)).collect()
    }

    #[test]
    fn tournaments_draw_with_replacement_and_the_child_differs_in_one_parameter() {
        let space = flat_space();
        let mut rng = Rng::seed_from_u64(1);
        let mut sampler = evolution(&space, 5, 5);
        let configs: Vec<Config> = (0..5).map(|_| space.sample(&mut rng)).collect();
        for (trial, (config, metric)) in configs.iter().zip([3.0, 1.0, 4.0, 0.5, 9.0]).enumerate() {
            report(&mut sampler, trial as TrialId, config, 1, metric);
        }
        let constant = space.index_of("constant").unwrap();
        let mut mutated = vec![0; space.len()];
        let mut parents = [0u32; 5];
        for _ in 0..400 {
            let child = sampler.suggest(&mut rng).unwrap();
            assert!(space.contains(&child), "{child:?}");
            let parent = (0..5).find(|&m| differences(&child, &configs[m]).len() == 1).expect("one member differs in one parameter");
            parents[parent] += 1;
            mutated[differences(&child, &configs[parent])[0]] += 1;
        }
        // Five draws with replacement miss the best member with probability (4/5)^5 = 0.328,
        // so it is the parent in about 269 of 400 tournaments (without replacement: all 400);
        // the worst one wins only when drawn five times, (1/5)^5 = 0.0003.
        assert!((230..310).contains(&parents[3]), "{parents:?}");
        assert_eq!(parents[4], 0, "{parents:?}");
        // Every parameter that can change is chosen about equally often (400 / 6 ≈ 67 each);
        // the single-valued one never is.
        assert_eq!(mutated[constant], 0);
        for (i, count) in mutated.iter().enumerate() {
            if i != constant {
                assert!((30..110).contains(count), "{}: {count}", space.params()[i].name);
            }
        }
    }

    #[test]
    fn random_proposals_until_the_population_is_full() {
        let space = flat_space();
        let mut sampler = evolution(&space, 4, 2);
        let mut rng = Rng::seed_from_u64(2);
        let mut prior = Rng::seed_from_u64(2);
        let mut configs = Vec::new();
        for trial in 0..4 {
            let proposal = sampler.suggest(&mut rng).unwrap();
            assert_eq!(proposal, space.sample(&mut prior), "proposal {trial} is a draw from the prior");
            // A trial reporting several fidelities takes one seat and counts once.
            report(&mut sampler, trial, &proposal, 1, 5.0);
            report(&mut sampler, trial, &proposal, 3, f64::from(trial));
            configs.push(proposal);
        }
        assert_eq!(sampler.population(), vec![(0, 0.0), (1, 1.0), (2, 2.0), (3, 3.0)]);
        let child = sampler.suggest(&mut rng).unwrap();
        assert_ne!(child, space.sample(&mut prior));
        assert!(configs.iter().any(|parent| differences(&child, parent).len() == 1), "{child:?} mutates a member");
    }

    #[test]
    fn the_population_is_capped_and_the_oldest_leaves_not_the_worst() {
        let space = flat_space();
        let mut rng = Rng::seed_from_u64(3);
        // 200 draws with replacement from 3 miss the best with probability (2/3)^200 ≈ 1e-35.
        let mut sampler = evolution(&space, 3, 200);
        let configs: Vec<Config> = (0..5).map(|_| space.sample(&mut rng)).collect();
        // Trial 0 is the best and the oldest; trial 2 is the worst.
        for (trial, metric) in [0.0, 5.0, 9.0, 6.0].into_iter().enumerate() {
            report(&mut sampler, trial as TrialId, &configs[trial], 1, metric);
        }
        assert_eq!(sampler.population(), vec![(1, 5.0), (2, 9.0), (3, 6.0)]);
        // With the whole population in the tournament the parent is trial 1, not trial 0.
        for _ in 0..50 {
            let child = sampler.suggest(&mut rng).unwrap();
            assert_eq!(differences(&child, &configs[1]).len(), 1);
        }
        // An update in place does not renew a member's age...
        report(&mut sampler, 1, &configs[1], 2, 4.0);
        assert_eq!(sampler.population(), vec![(1, 4.0), (2, 9.0), (3, 6.0)]);
        report(&mut sampler, 4, &configs[4], 1, 7.0);
        assert_eq!(sampler.population(), vec![(2, 9.0), (3, 6.0), (4, 7.0)]);
        // ...and a trial that aged out rejoins as the youngest when it reports again.
        report(&mut sampler, 0, &configs[0], 2, 0.5);
        assert_eq!(sampler.population(), vec![(3, 6.0), (4, 7.0), (0, 0.5)]);
        report(&mut sampler, 3, &configs[3], 2, 8.0);
        assert_eq!(sampler.population(), vec![(3, 8.0), (4, 7.0), (0, 0.5)]);
    }

    #[test]
    fn failures_rank_last() {
        let space = flat_space();
        let mut rng = Rng::seed_from_u64(4);
        // Maximising: the largest finite metric is best, NaN and infinities are failures.
        let mut sampler =
            RegularizedEvolution::new(&space, Objective::maximize("acc"), &EvolutionSettings { population: 4, sample_size: 200 }).unwrap();
        let configs: Vec<Config> = (0..4).map(|_| space.sample(&mut rng)).collect();
        report(&mut sampler, 0, &configs[0], 1, 0.9);
        report(&mut sampler, 1, &configs[1], 1, f64::NAN);
        report(&mut sampler, 2, &configs[2], 1, f64::INFINITY);
        report(&mut sampler, 3, &configs[3], 1, -1e9);
        // Trial 0 was the best but diverges later; failures stay failed.
        sampler.on_failure(&Observation { trial: 0, config: &configs[0], fidelity: 2, metrics: &[f64::NAN], time: 0.0 });
        report(&mut sampler, 0, &configs[0], 3, 0.99);
        let losses: Vec<f64> = sampler.population().iter().map(|m| m.1).collect();
        assert_eq!(losses, vec![f64::INFINITY, f64::INFINITY, f64::INFINITY, 1e9]);
        for _ in 0..50 {
            let child = sampler.suggest(&mut rng).unwrap();
            assert_eq!(differences(&child, &configs[3]).len(), 1, "the only finite member is the parent");
        }
    }

    #[test]
    fn mutations_resolve_conditions_in_a_conditional_space() {
        let space = conditional_space();
        let optimizer = space.index_of("optimizer").unwrap();
        let momentum = space.index_of("momentum").unwrap();
        let nesterov = space.index_of("nesterov").unwrap();
        let lr = space.index_of("lr").unwrap();
        let sgd = Config::new(vec![Value::Float(1e-3), Value::Choice(0), Value::Float(0.9), Value::Choice(1)]);
        let adam = Config::new(vec![Value::Float(1e-2), Value::Choice(1), Value::Inactive, Value::Inactive]);
        assert!(space.contains(&sgd) && space.contains(&adam));
        let mut rng = Rng::seed_from_u64(5);

        // An SGD parent: switching to Adam deactivates both children; otherwise one of its
        // three active parameters changes.
        let mut sampler = evolution(&space, 2, 200);
        report(&mut sampler, 0, &sgd, 1, 0.1);
        report(&mut sampler, 1, &adam, 1, 0.2);
        let mut switched = 0;
        for _ in 0..200 {
            let child = sampler.suggest(&mut rng).unwrap();
            assert!(space.contains(&child), "{child:?}");
            if child.get(optimizer) == Value::Choice(1) {
                switched += 1;
                assert_eq!(differences(&child, &sgd), vec![optimizer, momentum, nesterov]);
                assert_eq!((child.get(momentum), child.get(nesterov)), (Value::Inactive, Value::Inactive));
            } else {
                assert_eq!(differences(&child, &sgd).len(), 1, "{child:?}");
            }
        }
        // One of four active parameters is chosen: about 50 of 200.
        assert!((25..80).contains(&switched), "{switched}");

        // An Adam parent: its inactive children are never mutated; switching to SGD activates
        // them with values from the prior.
        let mut sampler = evolution(&space, 2, 200);
        report(&mut sampler, 0, &sgd, 1, 0.3);
        report(&mut sampler, 1, &adam, 1, 0.2);
        let (mut switched, mut nesterov_values) = (0, [0; 2]);
        for _ in 0..200 {
            let child = sampler.suggest(&mut rng).unwrap();
            assert!(space.contains(&child), "{child:?}");
            if child.get(optimizer) == Value::Choice(0) {
                switched += 1;
                assert_eq!(child.get(lr), adam.get(lr));
                let Value::Float(m) = child.get(momentum) else { panic!("{child:?}") };
                assert!((0.5..=0.99).contains(&m));
                let Value::Choice(n) = child.get(nesterov) else { panic!("{child:?}") };
                nesterov_values[n as usize] += 1;
            } else {
                assert_eq!(differences(&child, &adam), vec![lr]);
            }
        }
        // Two active parameters: about half the children switch.
        assert!((70..130).contains(&switched), "{switched}");
        assert!(nesterov_values.iter().all(|&n| n > 10), "{nesterov_values:?}");
    }

    #[test]
    fn other_values_always_differ_and_cover_the_alternatives() {
        let mut rng = Rng::seed_from_u64(6);
        let int = Domain::Int { low: -2, high: 2, log: false };
        let mut seen = [0; 5];
        for _ in 0..500 {
            let Value::Int(v) = other_value(&int, Value::Int(0), &mut rng) else { panic!() };
            assert_ne!(v, 0);
            seen[(v + 2) as usize] += 1;
        }
        assert_eq!(seen[2], 0);
        assert!(seen.iter().enumerate().all(|(i, &n)| i == 2 || n > 80), "{seen:?}");
        let ordinal = Domain::Ordinal { values: vec![Choice::Int(1), Choice::Int(2)] };
        for _ in 0..20 {
            assert_eq!(other_value(&ordinal, Value::Choice(1), &mut rng), Value::Choice(0));
        }
        let log_int = Domain::Int { low: 1, high: 2, log: true };
        for _ in 0..20 {
            assert_eq!(other_value(&log_int, Value::Int(1), &mut rng), Value::Int(2));
        }
        let log_float = Domain::Float { low: 1e-3, high: 1.0, log: true };
        let below = (0..1000)
            .filter(|_| {
                let Value::Float(x) = other_value(&log_float, Value::Float(0.5), &mut rng) else { panic!() };
                assert!((1e-3..=1.0).contains(&x) && x != 0.5);
                x < 0.0316
            })
            .count();
        // Log-uniform: half the draws fall below the geometric midpoint 10^-1.5 ≈ 0.0316.
        assert!((430..570).contains(&below), "{below}");
    }

    #[test]
    fn bad_settings_are_named_and_defaults_parse() {
        let space = flat_space();
        let build = |population, sample_size| {
            RegularizedEvolution::new(&space, Objective::minimize("loss"), &EvolutionSettings { population, sample_size })
                .err()
                .map(|e| e.to_string())
        };
        assert_eq!(build(1, 1).unwrap(), "population: must be at least 2");
        assert_eq!(build(10, 0).unwrap(), "sample_size: must lie in 1..=1000000");
        assert_eq!(build(10, 1_000_001).unwrap(), "sample_size: must lie in 1..=1000000");
        assert_eq!(build(2, 2), None);
        let defaults = toml::from_str::<EvolutionSettings>("").unwrap();
        assert_eq!(defaults, EvolutionSettings { population: 100, sample_size: 10 });
        assert_eq!(defaults, EvolutionSettings::default());
        assert!(toml::from_str::<EvolutionSettings>("populaton = 5").is_err());
    }
}
