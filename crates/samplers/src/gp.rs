//! Gaussian-process Bayesian optimisation (Snoek, Larochelle & Adams, "Practical Bayesian
//! Optimization of Machine Learning Algorithms", NeurIPS 2012), in the form of Optuna's
//! `GPSampler` (`optuna/samplers/_gp/sampler.py`, `optuna/_gp/`):
//! - a zero-mean GP with a Matérn-5/2 ARD kernel ([`kernel`]) on the unit-cube encoding, with
//!   categoricals one-hot and an activity indicator for each conditional parameter
//!   ([`features`]);
//! - targets standardised; kernel hyperparameters by maximum a posteriori with Optuna's priors,
//!   L-BFGS from several starts ([`fit`]);
//! - log expected improvement (Ament et al., NeurIPS 2023) over the best observed loss;
//! - the acquisition maximised over `candidates` configurations (prior draws and perturbations of
//!   the best observed ones), then refined by coordinate search from the `local_search` best.
//!
//! Cost control, so that a suggestion does not refit from scratch after every observation: the
//! hyperparameters are refitted (warm-started from the last optimum) only when the data have
//! grown by 10 % since the last fit, or the modelled fidelity changed; in between, each new
//! observation extends the Cholesky factor in O(n²) ([`posterior`]).
//!
//! Multi-fidelity: behind a rung-based scheduler the GP models the results at the highest
//! fidelity that has at least `startup_trials` of them (the rule BOHB uses for its KDEs), so it
//! never mixes budgets in one regression. Failed trials (NaN or infinite metrics) take the worst
//! observed loss, the usual imputation for crashed runs, so the model avoids their region.
//! When no factorisation succeeds even with jitter, the proposal is random and counted in
//! [`Sampler::warnings`].

pub mod acquisition;
pub mod features;
pub mod fit;
pub mod joint;
pub mod kernel;
pub mod lbfgs;
pub mod mes;
pub mod model;
pub mod posterior;

use crate::history::loss;
use crate::normal::log_h;
use crate::{Sampler, SamplerError};
use acquisition::{Batch, Search};
use hposim_core::{Config, Objective, Observation, Rng, SearchSpace};
use model::{Observations, Surrogate};
use serde::{Deserialize, Serialize};

fn default_startup() -> u32 {
    10
}
fn default_candidates() -> u32 {
    512
}
fn default_restarts() -> u32 {
    3
}
fn default_local_search() -> u32 {
    4
}

/// A `type = "gp"` sampler table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GpSettings {
    /// Random proposals before the GP is used (default 10, as Optuna's `GPSampler`).
    #[serde(default = "default_startup")]
    pub startup_trials: u32,
    /// Candidates scored per proposal (default 512).
    #[serde(default = "default_candidates")]
    pub candidates: u32,
    /// Starts of the hyperparameter fit when the data have doubled since the last such fit
    /// (default 3: the previous optimum and two random); other refits start from the previous
    /// optimum alone.
    #[serde(default = "default_restarts")]
    pub restarts: u32,
    /// Best candidates refined by coordinate search (default 4).
    #[serde(default = "default_local_search")]
    pub local_search: u32,
}

impl Default for GpSettings {
    fn default() -> Self {
        Self {
            startup_trials: default_startup(),
            candidates: default_candidates(),
            restarts: default_restarts(),
            local_search: default_local_search(),
        }
    }
}

impl GpSettings {
    /// Refuses settings that cannot work on `space`; `name` names the sampler in errors.
    pub(crate) fn check(&self, space: &SearchSpace, name: &str) -> Result<(), SamplerError> {
        if space.is_empty() {
            return Err(SamplerError::invalid("type", format!("{name} needs at least one parameter")));
        }
        if self.candidates == 0 {
            return Err(SamplerError::invalid("candidates", "must be at least 1"));
        }
        if self.restarts == 0 {
            return Err(SamplerError::invalid("restarts", "must be at least 1"));
        }
        Ok(())
    }
}

/// GP-BO.
#[derive(Debug)]
pub struct GpSampler {
    space: SearchSpace,
    objective: Objective,
    settings: GpSettings,
    data: Observations,
    model: Surrogate,
    search: Search,
    warnings: u64,
    // Reused prediction buffers.
    mean: Vec<f64>,
    var: Vec<f64>,
}

impl GpSampler {
    /// GP-BO over `space`, minimising `objective`'s loss.
    pub fn new(space: &SearchSpace, objective: Objective, settings: &GpSettings) -> Result<Self, SamplerError> {
        settings.check(space, "GP-BO")?;
        Ok(Self {
            space: space.clone(),
            objective,
            settings: settings.clone(),
            data: Observations::new(space, 1),
            model: Surrogate::new(0),
            search: Search::new(space),
            warnings: 0,
            mean: Vec::new(),
            var: Vec::new(),
        })
    }

    /// Log expected improvement below `best` for the predictions in `mean`/`var`.
    fn log_ei(best: f64, mean: f64, var: f64) -> f64 {
        let sd = var.sqrt();
        sd.ln() + log_h((best - mean) / sd)
    }
}

/// The indices of the (at most) five smallest `losses`, smallest first: the parents of the
/// candidate pool's perturbations.
pub(crate) fn best_five(losses: &[f64]) -> Vec<usize> {
    let mut best: Vec<usize> = (0..losses.len()).collect();
    best.sort_by(|&a, &b| losses[a].total_cmp(&losses[b]));
    best.truncate(5);
    best
}

impl Sampler for GpSampler {
    fn suggest(&mut self, rng: &mut Rng) -> Option<Config> {
        let Some(fidelity) = self.data.modelled_level(self.settings.startup_trials as usize) else {
            return Some(self.space.sample(rng));
        };
        if !self.model.update(&self.data, fidelity, self.settings.restarts, rng) {
            self.warnings += 1;
            return Some(self.space.sample(rng));
        }
        let Some(level) = self.data.level(fidelity) else { return Some(self.space.sample(rng)) };
        let best_y = self.model.y.iter().copied().fold(f64::INFINITY, f64::min);
        let parents = best_five(&level.losses);
        let (model, mean, var) = (&mut self.model, &mut self.mean, &mut self.var);
        let settings = &self.settings;
        let best = self.search.maximise(
            &self.space,
            &self.data.features,
            settings.candidates as usize,
            settings.local_search as usize,
            &level.values,
            &parents,
            rng,
            |features, batch, scores| {
                let count = scores.len();
                mean.resize(count, 0.0);
                var.resize(count, 0.0);
                model.predict(features, &mut mean[..count], &mut var[..count], batch == Batch::Pool);
                for (c, score) in scores.iter_mut().enumerate() {
                    *score = Self::log_ei(best_y, mean[c], var[c]);
                }
            },
        );
        best.map(Config::new).or_else(|| Some(self.space.sample(rng)))
    }

    fn observe(&mut self, observation: &Observation<'_>) {
        let value = loss(&self.objective, observation.metrics);
        self.data.record(&self.space, observation.config.values(), observation.fidelity, &[value]);
    }

    fn on_failure(&mut self, failure: &Observation<'_>) {
        self.data.record(&self.space, failure.config.values(), failure.fidelity, &[f64::INFINITY]);
    }

    fn warnings(&self) -> u64 {
        self.warnings
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use hposim_core::{Choice, ConditionSpec, ParamSpec, Value};
    use rand::SeedableRng;

    use crate::test_spaces::unit_square as space;

    fn quadratic(config: &Config) -> f64 {
        match (config.get(0), config.get(1)) {
            (Value::Float(x), Value::Float(y)) => (x - 0.2).powi(2) + (y - 0.7).powi(2),
            _ => f64::NAN,
        }
    }

    fn run(sampler: &mut GpSampler, trials: u32, rng: &mut Rng, f: impl Fn(&Config) -> f64) -> f64 {
        let mut best = f64::INFINITY;
        for trial in 0..trials {
            let config = sampler.suggest(rng).unwrap();
            let value = f(&config);
            best = best.min(value);
            sampler.observe(&Observation { trial, config: &config, fidelity: 1, metrics: &[value], time: 0.0 });
        }
        best
    }

    #[test]
    fn finds_the_minimum_of_a_quadratic_far_faster_than_random_search() {
        // Random search with 25 draws gets within squared distance ~ 1/(25·π)·… of (0.2, 0.7):
        // its expected best is about 0.013; GP-BO gets orders of magnitude closer.
        let mut sampler = GpSampler::new(&space(), Objective::minimize("loss"), &GpSettings::default()).unwrap();
        let best = run(&mut sampler, 25, &mut Rng::seed_from_u64(3), quadratic);
        assert!(best < 1e-3, "best {best}");
        assert_eq!(sampler.warnings(), 0);
    }

    #[test]
    fn refits_hyperparameters_only_when_the_data_grew_by_a_tenth() {
        let mut sampler = GpSampler::new(&space(), Objective::minimize("loss"), &GpSettings::default()).unwrap();
        let mut rng = Rng::seed_from_u64(4);
        let mut fits = Vec::new();
        for trial in 0..40 {
            let config = sampler.suggest(&mut rng).unwrap();
            sampler.observe(&Observation { trial, config: &config, fidelity: 1, metrics: &[quadratic(&config)], time: 0.0 });
            if let Some((_, n, _)) = &sampler.model.fitted
                && fits.last() != Some(n)
            {
                fits.push(*n);
            }
        }
        // A fit whenever n ≥ 1.1 × the n of the last fit: 10, 11 (≥ 11), 13 (≥ 12.1), 15 (≥ 14.3), …
        assert_eq!(fits, vec![10, 11, 13, 15, 17, 19, 21, 24, 27, 30, 33, 37]);
    }

    #[test]
    fn failures_take_the_worst_loss_and_conditional_proposals_are_valid() {
        let space = SearchSpace::new(&[
            ParamSpec::Categorical {
                name: "kind".into(),
                choices: vec![Choice::Text("a".into()), Choice::Text("b".into())],
                condition: None,
            },
            ParamSpec::Float {
                name: "x".into(),
                low: 1e-3,
                high: 1.0,
                log: true,
                condition: Some(ConditionSpec { parent: "kind".into(), values: vec![Choice::Text("a".into())] }),
            },
            ParamSpec::Int { name: "n".into(), low: 1, high: 9, log: false, condition: None },
        ])
        .unwrap();
        let mut sampler = GpSampler::new(&space, Objective::maximize("acc"), &GpSettings::default()).unwrap();
        let mut rng = Rng::seed_from_u64(5);
        for trial in 0..30 {
            let config = sampler.suggest(&mut rng).unwrap();
            assert!(space.contains(&config), "{config:?}");
            // Kind b always diverges; kind a is better with larger x.
            let metric = match (config.get(1), config.get(2)) {
                (Value::Float(x), Value::Int(n)) => [x - 0.01 * n as f64],
                _ => [f64::NAN],
            };
            let observation = Observation { trial, config: &config, fidelity: 1, metrics: &metric, time: 0.0 };
            if metric[0].is_finite() { sampler.observe(&observation) } else { sampler.on_failure(&observation) }
        }
        let level = sampler.data.level(1).unwrap();
        sampler.model.targets(level, 1);
        let worst = level.losses.iter().copied().filter(|l| l.is_finite()).fold(f64::NEG_INFINITY, f64::max);
        let standardised_worst = sampler.model.y.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        for (loss, y) in level.losses.iter().zip(&sampler.model.y) {
            if loss.is_infinite() {
                assert_eq!(*y, standardised_worst, "a failure takes the worst loss {worst}");
            }
        }
        let a = (0..20).filter(|_| sampler.suggest(&mut rng).unwrap().get(0) == Value::Choice(0)).count();
        assert!(a >= 18, "{a} of 20 proposals avoid the diverging branch");
    }

    #[test]
    fn a_covariance_that_cannot_be_factorised_falls_back_to_a_random_proposal_with_a_warning() {
        let space = space();
        let mut sampler = GpSampler::new(&space, Objective::minimize("loss"), &GpSettings::default()).unwrap();
        let mut rng = Rng::seed_from_u64(6);
        for trial in 0..12 {
            let config = space.sample(&mut rng);
            sampler.observe(&Observation { trial, config: &config, fidelity: 1, metrics: &[quadratic(&config)], time: 0.0 });
        }
        // Hyperparameters that make every covariance entry NaN: no jitter can rescue them, and
        // the refit is not due (fitted at this very n).
        let width = sampler.data.features.width();
        sampler.model.fitted = Some((1, 12, vec![f64::NAN; width + 2]));
        let config = sampler.suggest(&mut rng).unwrap();
        assert!(space.contains(&config));
        assert_eq!(sampler.warnings(), 1);
    }

    #[test]
    fn models_the_highest_fidelity_with_enough_results() {
        let mut sampler =
            GpSampler::new(&space(), Objective::minimize("loss"), &GpSettings { startup_trials: 3, ..GpSettings::default() }).unwrap();
        let config = Config::new(vec![Value::Float(0.5), Value::Float(0.5)]);
        let mut trial = 0;
        let mut add = |sampler: &mut GpSampler, fidelity: u32, value: f64| {
            sampler.observe(&Observation { trial, config: &config, fidelity, metrics: &[value], time: 0.0 });
            trial += 1;
        };
        assert_eq!(sampler.data.modelled_level(sampler.settings.startup_trials as usize), None);
        for v in [1.0, 2.0, 3.0] {
            add(&mut sampler, 1, v);
        }
        assert_eq!(sampler.data.modelled_level(sampler.settings.startup_trials as usize), Some(1));
        add(&mut sampler, 9, 1.0);
        add(&mut sampler, 9, 2.0);
        assert_eq!(sampler.data.modelled_level(sampler.settings.startup_trials as usize), Some(1));
        add(&mut sampler, 9, f64::NAN);
        assert_eq!(sampler.data.modelled_level(sampler.settings.startup_trials as usize), Some(9), "three results, two of them finite");
    }
}
