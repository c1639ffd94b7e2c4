//! MOBSTER: model-based asynchronous multi-fidelity search (Klein, Tiao, Lienart, Archambeau &
//! Seeger, "Model-based Asynchronous Hyperparameter and Neural Architecture Search", 2020;
//! reference code Syne Tune 0.13, `syne_tune/optimizer/baselines.py::MOBSTER`,
//! `searchers/bayesopt/…/gp_multifidelity_searcher.py`): a GP over (configuration, resource)
//! behind ASHA, fed with every rung result, proposing new configurations by expected improvement
//! at one resource level.
//!
//! As Syne Tune does it (defaults from `gp_searcher_factory.py::_common_defaults`):
//! - behind ASHA, stopping variant, η = 3, grace period the benchmark's minimum, one bracket
//!   (`HyperbandScheduler`'s defaults), every rung result passed on (`searcher_data = "rungs"`);
//! - `startup_trials = 6` random configurations first (`num_init_random`);
//! - the resource `r` an input of the kernel, scaled linearly to `[0, 1]` over
//!   `[0.5, r_max + 0.5]` as Syne Tune encodes an integer hyperparameter;
//! - targets standardised, hyperparameters by empirical Bayes with L-BFGS;
//! - EI at `r_acq`, the largest resource with at least 3 observations, else the smallest
//!   observed (`ResourceForAcquisitionBOHB`, threshold 3), relative to the lowest posterior mean
//!   at `r_acq` over the observed configurations (`model_base.py`);
//! - `candidates = 250` scored (`num_init_candidates`), the best refined by local search.
//!
//! Deviations: the kernel is Syne Tune's `matern52-res` option (a Matérn-5/2 ARD kernel over
//! the configuration's features and `r` together, with Optuna's priors as in [`crate::gp`]), not
//! its default `exp-decay-sum` (the additive freeze-thaw kernel with a learned mean over `r`);
//! candidates are scored by EI itself rather than by independent Thompson samples; pending
//! trials are not fantasised. Failures take the worst observed loss.

use crate::gp::acquisition::{Batch, Search};
use crate::gp::features::Features;
use crate::gp::fit;
use crate::gp::posterior::{Posterior, Scratch};
use crate::history::loss;
use crate::normal::log_h;
use crate::{Sampler, SamplerError};
use hposim_core::{Config, Objective, Observation, Rng, SearchSpace, Value};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

fn default_startup() -> u32 {
    6
}
fn default_candidates() -> u32 {
    250
}
fn default_local_search() -> u32 {
    4
}
fn default_restarts() -> u32 {
    3
}
fn default_threshold() -> u32 {
    3
}

/// A `type = "mobster"` sampler table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MobsterSettings {
    /// Random configurations before the model is used (Syne Tune's `num_init_random`, 6).
    #[serde(default = "default_startup")]
    pub startup_trials: u32,
    /// Candidates scored per proposal (`num_init_candidates`, 250).
    #[serde(default = "default_candidates")]
    pub candidates: u32,
    /// Best candidates refined by coordinate search (default 4).
    #[serde(default = "default_local_search")]
    pub local_search: u32,
    /// Starts of a hyperparameter fit (default 3).
    #[serde(default = "default_restarts")]
    pub restarts: u32,
    /// Observations a resource level needs to be the acquisition's (`resource_acq_bohb_threshold`, 3).
    #[serde(default = "default_threshold")]
    pub acquisition_threshold: u32,
    /// Results the GP learns from at most (Syne Tune's `max_size_data_for_model`, 500): beyond,
    /// those at the highest resources, the most recent first among equals.
    #[serde(default = "crate::fabolas::default_max_observations")]
    pub max_observations: u32,
}

impl Default for MobsterSettings {
    fn default() -> Self {
        Self {
            startup_trials: default_startup(),
            candidates: default_candidates(),
            local_search: default_local_search(),
            restarts: default_restarts(),
            acquisition_threshold: default_threshold(),
            max_observations: crate::fabolas::default_max_observations(),
        }
    }
}

/// MOBSTER's searcher (see the module documentation).
#[derive(Debug)]
pub struct MobsterSampler {
    space: SearchSpace,
    objective: Objective,
    settings: MobsterSettings,
    features: Features,
    /// Rows of the configuration's features followed by the resource coordinate.
    x: Vec<f64>,
    values: Vec<Value>,
    resources: Vec<u32>,
    losses: Vec<f64>,
    /// The largest resource seen: the scale of the resource coordinate.
    max_resource: u32,
    proposed: u32,
    fitted: Option<(usize, Vec<f64>)>,
    multi_start_n: usize,
    /// The posterior of the last proposal, extended in O(n²) per new result while the
    /// hyperparameters and the modelled rows (all, below the cap) stay.
    posterior: Option<Posterior>,
    search: Search,
    warnings: u64,
}

impl MobsterSampler {
    /// MOBSTER's searcher over `space`, minimising `objective`'s loss.
    pub fn new(space: &SearchSpace, objective: Objective, settings: &MobsterSettings) -> Result<Self, SamplerError> {
        if space.is_empty() {
            return Err(SamplerError::invalid("type", "mobster needs at least one parameter"));
        }
        for (key, value) in [
            ("candidates", settings.candidates),
            ("restarts", settings.restarts),
            ("acquisition_threshold", settings.acquisition_threshold),
            ("max_observations", settings.max_observations),
        ] {
            if value == 0 {
                return Err(SamplerError::invalid(key, "must be at least 1"));
            }
        }
        Ok(Self {
            space: space.clone(),
            objective,
            settings: settings.clone(),
            features: Features::new(space),
            x: Vec::new(),
            values: Vec::new(),
            resources: Vec::new(),
            losses: Vec::new(),
            max_resource: 1,
            proposed: 0,
            fitted: None,
            multi_start_n: 0,
            posterior: None,
            search: Search::new(space),
            warnings: 0,
        })
    }

    /// The resource coordinate of `r`: `(r − 0.5) / r_max`, Syne Tune's integer encoding.
    fn coordinate(&self, r: u32) -> f64 {
        (f64::from(r) - 0.5) / f64::from(self.max_resource)
    }

    /// `r_acq`: the largest resource with at least `acquisition_threshold` observations, else the
    /// smallest observed.
    fn acquisition_resource(&self) -> Option<u32> {
        let mut counts: BTreeMap<u32, u32> = BTreeMap::new();
        for &r in &self.resources {
            *counts.entry(r).or_default() += 1;
        }
        counts.iter().rev().find(|(_, c)| **c >= self.settings.acquisition_threshold).or_else(|| counts.iter().next()).map(|(&r, _)| r)
    }

    fn record(&mut self, values: &[Value], resource: u32, value: f64) {
        let width = self.features.width();
        let at = self.x.len();
        self.x.resize(at + width + 1, 0.0);
        self.features.encode(&self.space, values, &mut self.x[at..at + width]);
        self.values.extend_from_slice(values);
        self.resources.push(resource);
        self.losses.push(value);
        if resource > self.max_resource {
            // The resource coordinate is relative to the largest resource seen: every row moves.
            self.max_resource = resource;
            self.posterior = None;
            for i in 0..self.resources.len() {
                self.x[i * (width + 1) + width] = self.coordinate(self.resources[i]);
            }
        } else {
            self.x[at + width] = self.coordinate(resource);
        }
    }

    /// The rows the GP learns from: all, or beyond `max_observations` those at the highest
    /// resources (the most recent first among equals).
    fn model_rows(&self) -> Vec<usize> {
        let n = self.losses.len();
        let cap = self.settings.max_observations as usize;
        let mut rows: Vec<usize> = (0..n).collect();
        if n > cap {
            rows.sort_by(|&a, &b| self.resources[b].cmp(&self.resources[a]).then(b.cmp(&a)));
            rows.truncate(cap);
            rows.sort_unstable();
        }
        rows
    }

    /// Fits (when due) and conditions the GP, into `self.posterior`; false when it failed.
    fn condition(&mut self, rng: &mut Rng) -> bool {
        let rows = self.model_rows();
        let dim = self.features.width() + 1;
        let x: Vec<f64> = rows.iter().flat_map(|&i| self.x[i * dim..(i + 1) * dim].iter().copied()).collect();
        let losses: Vec<f64> = rows.iter().map(|&i| self.losses[i]).collect();
        if !losses.iter().any(|l| l.is_finite()) {
            return false;
        }
        let mut y = Vec::with_capacity(losses.len());
        crate::gp::model::standardise(losses.iter().copied(), &mut y);
        let count = y.len();
        let refit = self.fitted.as_ref().is_none_or(|(fitted_n, _)| count * 10 >= fitted_n * 11);
        if refit {
            let warm = self.fitted.as_ref().map(|(_, eta)| eta.clone());
            let multi_start = warm.is_none() || count >= 2 * self.multi_start_n;
            if multi_start {
                self.multi_start_n = count;
            }
            let starts = if multi_start { self.settings.restarts } else { 1 };
            let eta = fit::fit(&x, &y, dim, warm.as_deref(), starts, rng).or(warm).unwrap_or_else(|| fit::default_start(dim));
            self.fitted = Some((count, eta));
        }
        let Some((_, eta)) = &self.fitted else { return false };
        // Below the cap the modelled rows only grow: extend the factor instead of refactorising.
        let extend = !refit && rows.len() == self.losses.len() && self.posterior.as_ref().is_some_and(|p| p.len() <= count);
        if extend && let Some(posterior) = &mut self.posterior {
            let mut ok = true;
            while ok && posterior.len() < count {
                let i = posterior.len();
                ok = posterior.append(&x[i * dim..(i + 1) * dim]);
            }
            if !ok {
                self.posterior = None;
            }
        } else {
            self.posterior = None;
        }
        if self.posterior.is_none() {
            self.posterior = Posterior::new(fit::unpack(eta), &x, dim);
        }
        match &mut self.posterior {
            Some(posterior) => {
                posterior.set_targets(&y);
                true
            }
            None => false,
        }
    }
}

impl Sampler for MobsterSampler {
    fn suggest(&mut self, rng: &mut Rng) -> Option<Config> {
        self.proposed += 1;
        if self.proposed <= self.settings.startup_trials || self.losses.len() < 2 {
            return Some(self.space.sample(rng));
        }
        let Some(r_acq) = self.acquisition_resource() else { return Some(self.space.sample(rng)) };
        if !self.condition(rng) {
            self.warnings += 1;
            return Some(self.space.sample(rng));
        }
        let Some(posterior) = self.posterior.take() else { return Some(self.space.sample(rng)) };
        let width = self.features.width();
        let coordinate = self.coordinate(r_acq);
        // The incumbent: the lowest posterior mean at r_acq over the observed configurations.
        let n = self.losses.len();
        let mut observed = self.x.clone();
        for i in 0..n {
            observed[i * (width + 1) + width] = coordinate;
        }
        let (mut means, mut vars) = (vec![0.0; n], vec![0.0; n]);
        posterior.predict(&observed, &mut means, &mut vars, &mut Scratch::default());
        let best = means.iter().copied().fold(f64::INFINITY, f64::min);
        let parents: Vec<usize> = {
            let mut order: Vec<usize> = (0..n).collect();
            order.sort_by(|&a, &b| means[a].total_cmp(&means[b]).then(a.cmp(&b)));
            order.truncate(5);
            order
        };
        let (mut pool_scratch, mut move_scratch) = (Scratch::default(), Scratch::default());
        let (mut extended, mut mean, mut var) = (Vec::new(), Vec::new(), Vec::new());
        let chosen = self.search.maximise(
            &self.space,
            &self.features,
            self.settings.candidates as usize,
            self.settings.local_search as usize,
            &self.values,
            &parents,
            rng,
            |features, batch, scores| {
                let m = scores.len();
                extended.clear();
                for row in features.chunks(width) {
                    extended.extend_from_slice(row);
                    extended.push(coordinate);
                }
                mean.resize(m, 0.0);
                var.resize(m, 0.0);
                let scratch = if batch == Batch::Pool { &mut pool_scratch } else { &mut move_scratch };
                posterior.predict(&extended, &mut mean, &mut var, scratch);
                for (j, score) in scores.iter_mut().enumerate() {
                    let sd = var[j].sqrt();
                    *score = sd.ln() + log_h((best - mean[j]) / sd);
                }
            },
        );
        self.posterior = Some(posterior);
        chosen.map(Config::new).or_else(|| Some(self.space.sample(rng)))
    }

    fn observe(&mut self, observation: &Observation<'_>) {
        let value = loss(&self.objective, observation.metrics);
        self.record(observation.config.values(), observation.fidelity, value);
    }

    fn on_failure(&mut self, failure: &Observation<'_>) {
        self.record(failure.config.values(), failure.fidelity, f64::INFINITY);
    }

    fn warnings(&self) -> u64 {
        self.warnings
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use rand::SeedableRng;

    use crate::test_spaces::unit_square as space;

    #[test]
    fn acquires_at_the_largest_resource_with_three_results_and_rescales_it() {
        let mut sampler = MobsterSampler::new(&space(), Objective::minimize("loss"), &MobsterSettings::default()).unwrap();
        let config = Config::new(vec![Value::Float(0.5), Value::Float(0.5)]);
        let add = |sampler: &mut MobsterSampler, trial, fidelity| {
            sampler.observe(&Observation { trial, config: &config, fidelity, metrics: &[1.0], time: 0.0 })
        };
        for trial in 0..4 {
            add(&mut sampler, trial, 1);
        }
        add(&mut sampler, 0, 3);
        add(&mut sampler, 1, 3);
        assert_eq!(sampler.acquisition_resource(), Some(1));
        add(&mut sampler, 2, 3);
        assert_eq!(sampler.acquisition_resource(), Some(3));
        add(&mut sampler, 0, 9);
        // The coordinate of r is (r − 0.5)/r_max, rescaled when a larger r arrives.
        let width = sampler.features.width();
        assert_eq!(sampler.x[width], 0.5 / 9.0);
        assert_eq!(sampler.x[7 * (width + 1) + width], 8.5 / 9.0);
    }

    #[test]
    fn models_every_rung_and_finds_the_bowl() {
        // Loss after r of 9 epochs: the bowl at (0.3, 0.6) plus a decaying term; rung results
        // at 1, 3, 9 as ASHA passes them on.
        let mut sampler = MobsterSampler::new(&space(), Objective::minimize("loss"), &MobsterSettings::default()).unwrap();
        let mut rng = Rng::seed_from_u64(9);
        let mut best = f64::INFINITY;
        for trial in 0..30 {
            let config = sampler.suggest(&mut rng).unwrap();
            let (Value::Float(x), Value::Float(y)) = (config.get(0), config.get(1)) else { panic!() };
            for r in [1u32, 3, 9] {
                let value = (x - 0.3).powi(2) + (y - 0.6).powi(2) + 0.5 / f64::from(r);
                sampler.observe(&Observation { trial, config: &config, fidelity: r, metrics: &[value], time: 0.0 });
                if r == 9 {
                    best = best.min(value - 0.5 / 9.0);
                }
            }
        }
        // Random search's best of 30 is about 1/(30π) ≈ 0.01.
        assert!(best < 1e-3, "best {best}");
        assert_eq!(sampler.warnings(), 0);
    }
}
