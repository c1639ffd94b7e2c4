//! Fabolas: fast Bayesian optimisation on large datasets (Klein, Falkner, Bartels, Hennig &
//! Hutter, AISTATS 2017; reference code RoBO, `robo/fmin/fabolas.py`). It models the loss and
//! the cost of training a configuration `x` on a fraction `s` of the data jointly
//! ([`crate::gp::joint`]: Matérn-5/2 ARD over `x` times the basis kernels `φ(s) = (1, (1 − s)²)`
//! for the loss and `(1, s)` for the log cost), and chooses the next `(x, s)` by the information
//! it gains about the optimum at `s = 1` per second of predicted cost. It chooses the fidelity
//! itself, so it runs behind the `fidelity_choice` scheduler (each trial trains once, to its `s`).
//!
//! As RoBO does it (defaults cited there):
//! - `s` on a log scale: `s̃ = ln(f / f_min) / ln(f_max / f_min)` for fidelity `f` of the
//!   benchmark's range (`transform` in `fabolas.py`);
//! - initial design: `initial_design = 40` configurations of a Latin hypercube (`n_init`), each
//!   trained on the subsets `f_max / 256, f_max / 128, f_max / 64` (`subsets`), rounded to whole
//!   steps within the range (distinct ones only);
//! - the cost model is a GP of the log of the measured cost (seconds from the trial's start to
//!   its result), its prediction `exp(mean)`;
//! - the acquisition is maximised over `candidates = 500` configurations (RoBO's
//!   `RandomSampling`: uniform and around the incumbent) at each of `levels` fidelities;
//! - the incumbent is the observed configuration with the lowest predicted loss at `s = 1`
//!   (`projected_incumbent_estimation`).
//!
//! Deviations, each for a reason:
//! - **Acquisition**: multi-fidelity max-value entropy search ([`crate::gp::mes`], Takeno et al.
//!   2020) per unit cost instead of entropy search with 50 representer points and expectation
//!   propagation: the information about the minimum's *value* instead of its *location*, in
//!   closed form up to a 1-D integral, at a fraction of the cost; Takeno et al. report it
//!   better than or equal to Fabolas' entropy search on their benchmarks. On a small case
//!   where entropy search can be computed by brute force (15 representer points, two
//!   fidelities), `crates/samplers/tests/mes_against_entropy_search.rs` checks that both rank
//!   the candidates alike and choose the same fidelity per unit cost.
//! - **Hyperparameters** by maximum a posteriori (L-BFGS), not by MCMC over 12 walkers: as
//!   Optuna's GP sampler and Syne Tune's MOBSTER fit theirs.
//! - **The loss is modelled as reported** (RoBO models `ln` of an error rate): hposim's losses
//!   can be negative (maximised metrics).
//! - **Fidelities**: `levels = 8` values spaced geometrically over the range (with both ends),
//!   not a continuous `s`: benchmarks have whole steps.
//! - **The incumbent is evaluated**: when the projected incumbent changes to a configuration not
//!   yet trained at full fidelity, the next trial trains it there, at its cost. The paper
//!   measures its incumbents' test error offline, free; hposim's comparisons score full-fidelity
//!   results at the compute they took, so Fabolas pays for what it recommends
//!   (`evaluate_incumbent = false` turns this off).
//! - **Parallel workers** each get the current best proposal; pending trials are not modelled
//!   (RoBO is sequential).

use crate::gp::acquisition::Search;
use crate::gp::features::Features;
use crate::gp::joint::{Basis, JointModel, LevelBuffers, LevelPredictions};
use crate::gp::mes;
use crate::history::loss;
use crate::latin_hypercube::{LatinHypercubeSampler, LatinHypercubeSettings};
use crate::{Sampler, SamplerError};
use hposim_core::{Config, Fidelity, Objective, Observation, Rng, SearchSpace, Value};
use nalgebra::DMatrix;
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

fn default_initial_design() -> u32 {
    40
}
fn default_subsets() -> Vec<u32> {
    vec![256, 128, 64]
}
fn default_candidates() -> u32 {
    500
}
fn default_local_search() -> u32 {
    4
}
fn default_levels() -> u32 {
    8
}
fn default_samples() -> u32 {
    10
}
fn default_restarts() -> u32 {
    3
}
fn default_true() -> bool {
    true
}
pub(crate) fn default_max_observations() -> u32 {
    500
}

/// A `type = "fabolas"` sampler table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FabolasSettings {
    /// Configurations of the initial design (RoBO's `n_init`, 40).
    #[serde(default = "default_initial_design")]
    pub initial_design: u32,
    /// The initial design trains each configuration on `f_max / subset` steps for each of these
    /// (RoBO's `subsets`, `[256, 128, 64]`).
    #[serde(default = "default_subsets")]
    pub subsets: Vec<u32>,
    /// Configurations scored per proposal (RoBO's `RandomSampling`, 500).
    #[serde(default = "default_candidates")]
    pub candidates: u32,
    /// Best candidates refined by coordinate search (default 4).
    #[serde(default = "default_local_search")]
    pub local_search: u32,
    /// Fidelities the acquisition chooses among, spaced geometrically (default 8).
    #[serde(default = "default_levels")]
    pub levels: u32,
    /// Draws of the minimum for max-value entropy search (default 10).
    #[serde(default = "default_samples")]
    pub max_value_samples: u32,
    /// Starts of a hyperparameter fit (default 3).
    #[serde(default = "default_restarts")]
    pub restarts: u32,
    /// Train each new projected incumbent at full fidelity (default true).
    #[serde(default = "default_true")]
    pub evaluate_incumbent: bool,
    /// Results a model learns from at most: those at full fidelity first, then the most recent
    /// (default 500, Syne Tune's `max_size_data_for_model`), so that a proposal's cost stays
    /// bounded however many cheap evaluations there were.
    #[serde(default = "default_max_observations")]
    pub max_observations: u32,
}

impl Default for FabolasSettings {
    fn default() -> Self {
        Self {
            initial_design: default_initial_design(),
            subsets: default_subsets(),
            candidates: default_candidates(),
            local_search: default_local_search(),
            levels: default_levels(),
            max_value_samples: default_samples(),
            restarts: default_restarts(),
            evaluate_incumbent: true,
            max_observations: default_max_observations(),
        }
    }
}

impl FabolasSettings {
    fn check(&self, space: &SearchSpace) -> Result<(), SamplerError> {
        if space.is_empty() {
            return Err(SamplerError::invalid("type", "fabolas needs at least one parameter"));
        }
        for (key, value) in [
            ("initial_design", self.initial_design),
            ("candidates", self.candidates),
            ("max_value_samples", self.max_value_samples),
            ("restarts", self.restarts),
            ("max_observations", self.max_observations),
        ] {
            if value == 0 {
                return Err(SamplerError::invalid(key, "must be at least 1"));
            }
        }
        if self.levels < 2 {
            return Err(SamplerError::invalid(
                "levels",
                format!("must be at least 2 (the smallest and the full fidelity), got {}", self.levels),
            ));
        }
        if self.subsets.is_empty() || self.subsets.contains(&0) {
            return Err(SamplerError::invalid("subsets", "must list at least one divisor of the full fidelity, each at least 1"));
        }
        Ok(())
    }
}

/// What the models learn from: one row per evaluation.
#[derive(Debug)]
pub(crate) struct Evaluations {
    pub features: Features,
    /// Configuration values, `space.len()` per row.
    pub values: Vec<Value>,
    /// Features, `features.width()` per row.
    pub x: Vec<f64>,
    /// The fidelity coordinate of each row (relative fidelity, or task index).
    pub s: Vec<f64>,
    /// Losses (`+inf` for failures).
    pub losses: Vec<f64>,
    /// Rows whose cost is known.
    pub costed: Vec<usize>,
    /// Every row's cost in seconds (NaN where unknown).
    pub costs: Vec<f64>,
}

impl Evaluations {
    pub fn new(space: &SearchSpace) -> Self {
        Self {
            features: Features::new(space),
            values: Vec::new(),
            x: Vec::new(),
            s: Vec::new(),
            losses: Vec::new(),
            costed: Vec::new(),
            costs: Vec::new(),
        }
    }

    pub fn len(&self) -> usize {
        self.losses.len()
    }

    pub fn record(&mut self, space: &SearchSpace, values: &[Value], s: f64, loss: f64, cost: Option<f64>) {
        let width = self.features.width();
        let at = self.x.len();
        self.x.resize(at + width, 0.0);
        self.features.encode(space, values, &mut self.x[at..]);
        self.values.extend_from_slice(values);
        self.s.push(s);
        let cost = cost.filter(|c| c.is_finite() && *c > 0.0);
        if cost.is_some() {
            self.costed.push(self.losses.len());
        }
        self.costs.push(cost.unwrap_or(f64::NAN));
        self.losses.push(loss);
    }

    /// The basis values of `rows`.
    pub fn basis_rows(&self, basis: Basis, rows: &[usize]) -> Vec<f64> {
        let width = basis.width();
        let mut phi = vec![0.0; rows.len() * width];
        for (k, &i) in rows.iter().enumerate() {
            basis.write(self.s[i], &mut phi[k * width..(k + 1) * width]);
        }
        phi
    }

    /// The features of `rows`.
    pub fn features_of(&self, rows: &[usize]) -> Vec<f64> {
        let width = self.features.width();
        rows.iter().flat_map(|&i| self.x[i * width..(i + 1) * width].iter().copied()).collect()
    }

    /// The rows a model learns from: all of them up to `cap`; beyond, those at the top fidelity
    /// coordinate `top` first, then the most recent, as Syne Tune caps a GP's data at
    /// `max_size_data_for_model` (500) keeping the highest resources.
    pub fn model_rows(&self, cap: usize, top: f64) -> Vec<usize> {
        let n = self.len();
        if n <= cap {
            return (0..n).collect();
        }
        let mut rows: Vec<usize> = (0..n).filter(|&i| self.s[i] >= top).collect();
        rows.reverse();
        rows.truncate(cap);
        for i in (0..n).rev() {
            if rows.len() >= cap {
                break;
            }
            if self.s[i] < top {
                rows.push(i);
            }
        }
        rows.sort_unstable();
        rows
    }
}

/// The fidelities `levels` values spaced geometrically over `fidelity` (both ends included).
pub(crate) fn ladder(fidelity: &Fidelity, levels: u32) -> Vec<u32> {
    let (low, high) = (f64::from(fidelity.min.max(1)), f64::from(fidelity.max));
    let mut steps: Vec<u32> = (0..levels)
        .map(|k| {
            let t = f64::from(k) / f64::from(levels - 1);
            ((low * (high / low).powf(t)).round() as u32).clamp(fidelity.min.max(1), fidelity.max)
        })
        .collect();
    steps.dedup();
    steps
}

/// RoBO's `s̃`: the fidelity on a log scale, 0 at the smallest, 1 at the full.
pub(crate) fn relative(fidelity: &Fidelity, step: u32) -> f64 {
    let low = f64::from(fidelity.min.max(1));
    let high = f64::from(fidelity.max);
    if high <= low { 1.0 } else { ((f64::from(step) / low).ln() / (high / low).ln()).clamp(0.0, 1.0) }
}

/// The row of the observed configuration with the lowest predicted loss at the reference
/// fidelity, among `rows` (the projected incumbent).
pub(crate) fn projected_incumbent(model: &JointModel, data: &Evaluations, reference: &[f64]) -> Option<usize> {
    let posterior = model.posterior.as_ref()?;
    let mut matern = DMatrix::zeros(0, 0);
    posterior.matern_block(&data.x, &mut matern);
    let mut means = vec![0.0; data.len()];
    posterior.predict_means(&matern, reference, &mut means, &mut LevelBuffers::default());
    (0..data.len()).filter(|&i| data.losses[i].is_finite()).min_by(|&a, &b| means[a].total_cmp(&means[b]).then(a.cmp(&b)))
}

/// Fabolas (see the module documentation).
#[derive(Debug)]
pub struct FabolasSampler {
    space: SearchSpace,
    objective: Objective,
    settings: FabolasSettings,
    data: Evaluations,
    loss_model: JointModel,
    cost_model: JointModel,
    search: Search,
    design: Option<VecDeque<(Config, u32)>>,
    /// Configurations proposed at full fidelity.
    at_full: Vec<Vec<Value>>,
    warnings: u64,
    fidelity: Option<Fidelity>,
}

impl FabolasSampler {
    /// Fabolas over `space`, minimising `objective`'s loss.
    pub fn new(space: &SearchSpace, objective: Objective, settings: &FabolasSettings) -> Result<Self, SamplerError> {
        settings.check(space)?;
        Ok(Self {
            space: space.clone(),
            objective,
            settings: settings.clone(),
            data: Evaluations::new(space),
            loss_model: JointModel::new(Basis::FabolasLoss),
            cost_model: JointModel::new(Basis::FabolasCost),
            search: Search::new(space),
            design: None,
            at_full: Vec::new(),
            warnings: 0,
            fidelity: None,
        })
    }

    /// The initial design: Latin-hypercube configurations, each at every subset's fidelity.
    fn initial_design(&self, fidelity: &Fidelity, rng: &mut Rng) -> VecDeque<(Config, u32)> {
        let mut steps: Vec<u32> =
            self.settings.subsets.iter().map(|&d| (fidelity.max / d).clamp(fidelity.min.max(1), fidelity.max)).collect();
        steps.sort_unstable();
        steps.dedup();
        let settings = LatinHypercubeSettings { points: self.settings.initial_design };
        let mut design = VecDeque::new();
        if let Ok(mut lhs) = LatinHypercubeSampler::new(&self.space, &settings) {
            for _ in 0..self.settings.initial_design {
                let Some(config) = lhs.suggest(rng) else { break };
                for &step in &steps {
                    design.push_back((config.clone(), step));
                }
            }
        }
        design
    }

    /// Brings both models up to date (on at most `max_observations` rows each); false when the
    /// loss model could not be built.
    fn update_models(&mut self, rng: &mut Rng) -> bool {
        let width = self.data.features.width();
        let cap = self.settings.max_observations as usize;
        let rows = self.data.model_rows(cap, 1.0);
        let (x, phi) = (self.data.features_of(&rows), self.data.basis_rows(Basis::FabolasLoss, &rows));
        let losses: Vec<f64> = rows.iter().map(|&i| self.data.losses[i]).collect();
        if !self.loss_model.update(&x, &phi, width, &losses, self.settings.restarts, rng) {
            return false;
        }
        let costed: Vec<usize> = {
            let mut costed = self.data.costed.clone();
            costed.reverse();
            costed.truncate(cap);
            costed.sort_unstable();
            costed
        };
        if costed.len() >= 2 {
            let log_costs: Vec<f64> = costed.iter().map(|&i| self.data.costs[i].ln()).collect();
            let (x, phi) = (self.data.features_of(&costed), self.data.basis_rows(Basis::FabolasCost, &costed));
            self.cost_model.update(&x, &phi, width, &log_costs, self.settings.restarts, rng);
        }
        true
    }

    /// The model-based proposal: the configuration and fidelity of the highest information
    /// gain per predicted second.
    fn acquire(&mut self, fidelity: &Fidelity, rng: &mut Rng) -> Option<(Config, u32)> {
        let steps = ladder(fidelity, self.settings.levels);
        let loss_basis = Basis::FabolasLoss;
        let phis: Vec<Vec<f64>> = steps.iter().map(|&f| basis_row(loss_basis, relative(fidelity, f))).collect();
        let cost_phis: Vec<Vec<f64>> = steps.iter().map(|&f| basis_row(Basis::FabolasCost, relative(fidelity, f))).collect();
        let reference = basis_row(loss_basis, 1.0);
        let posterior = self.loss_model.posterior.as_ref()?;
        let noise = posterior.hyper.noise;
        // Draws of the minimum over prior samples and the observed configurations at s = 1.
        let width = self.data.features.width();
        let mut probe: Vec<f64> = self.data.x.clone();
        let mut row = vec![0.0; width];
        for _ in 0..self.settings.candidates {
            let config = self.space.sample(rng);
            self.data.features.encode(&self.space, config.values(), &mut row);
            probe.extend_from_slice(&row);
        }
        let mut matern = DMatrix::zeros(0, 0);
        posterior.matern_block(&probe, &mut matern);
        let (mut at_reference, mut buffers) = (LevelPredictions::default(), LevelBuffers::default());
        posterior.predict_levels(&matern, &[], &reference, &mut at_reference, &mut buffers);
        let sds: Vec<f64> = at_reference.reference_var.iter().map(|v| v.sqrt()).collect();
        let (loss_mean, loss_sd) = self.loss_model.standardisation;
        let best_full = (0..self.data.len())
            .filter(|&i| self.data.s[i] >= 1.0 && self.data.losses[i].is_finite())
            .map(|i| (self.data.losses[i] - loss_mean) / loss_sd)
            .fold(f64::INFINITY, f64::min);
        let ceiling = best_full.is_finite().then(|| best_full - 5.0 * noise.sqrt());
        let minima = mes::minimum_samples(&at_reference.reference_mean, &sds, ceiling, self.settings.max_value_samples as usize, rng);
        let cost_model = &self.cost_model;
        let (cost_mean, cost_sd) = cost_model.standardisation;
        let mut cost_matern = DMatrix::zeros(0, 0);
        let mut predictions = LevelPredictions::default();
        let mut cost_means = Vec::new();
        let mut cost_buffers = LevelBuffers::default();
        let mut score_levels = |features: &[f64], out: &mut Vec<f64>| {
            let m = features.len() / width;
            posterior.matern_block(features, &mut matern);
            posterior.predict_levels(&matern, &phis, &reference, &mut predictions, &mut buffers);
            out.clear();
            out.resize(steps.len() * m, f64::NEG_INFINITY);
            cost_means.resize(m, 0.0);
            if let Some(cost_posterior) = &cost_model.posterior {
                cost_posterior.matern_block(features, &mut cost_matern);
            }
            for (l, &step) in steps.iter().enumerate() {
                match &cost_model.posterior {
                    Some(cost_posterior) => {
                        cost_posterior.predict_means(&cost_matern, &cost_phis[l], &mut cost_means, &mut cost_buffers);
                        cost_means.iter_mut().for_each(|c| *c = *c * cost_sd + cost_mean);
                    }
                    // No measured costs yet: cost proportional to the fidelity.
                    None => cost_means.iter_mut().for_each(|c| *c = f64::from(step).ln()),
                }
                for (j, cost) in cost_means.iter().enumerate() {
                    let k = l * m + j;
                    let gain = mes::mean_gain(
                        &minima,
                        predictions.var[k] + noise,
                        predictions.reference_mean[j],
                        predictions.reference_var[j],
                        predictions.cov[k],
                    );
                    if gain > 0.0 {
                        out[k] = gain.ln() - cost;
                    }
                }
            }
        };
        let parents: Vec<usize> = projected_incumbent(&self.loss_model, &self.data, &reference).into_iter().collect();
        let (best, level) = self.search.maximise_over_levels(
            &self.space,
            &self.data.features,
            self.settings.candidates as usize,
            self.settings.local_search as usize,
            &self.data.values,
            &parents,
            steps.len(),
            rng,
            &mut score_levels,
        )?;
        Some((Config::new(best), steps[level]))
    }
}

/// `φ(s)` of `basis` as a vector.
pub(crate) fn basis_row(basis: Basis, s: f64) -> Vec<f64> {
    let mut row = vec![0.0; basis.width()];
    basis.write(s, &mut row);
    row
}

impl Sampler for FabolasSampler {
    fn suggest(&mut self, rng: &mut Rng) -> Option<Config> {
        // Behind a scheduler that decides the fidelity itself: propose at full fidelity.
        let fidelity = self.fidelity.clone().unwrap_or_else(|| Fidelity::epochs(1));
        self.suggest_with_fidelity(&fidelity, rng).map(|(config, _)| config)
    }

    fn suggest_with_fidelity(&mut self, fidelity: &Fidelity, rng: &mut Rng) -> Option<(Config, u32)> {
        self.fidelity = Some(fidelity.clone());
        if self.design.is_none() {
            self.design = Some(self.initial_design(fidelity, rng));
        }
        let from_design = self.design.as_mut().and_then(VecDeque::pop_front);
        let proposal = match from_design {
            Some(proposal) => Some(proposal),
            None if self.data.len() < 2 => {
                // The design is out but its results are not in: another subset-sized draw.
                let step = ladder(fidelity, self.settings.levels)[0];
                Some((self.space.sample(rng), step))
            }
            None => {
                let ok = self.update_models(rng);
                let reference = basis_row(Basis::FabolasLoss, 1.0);
                let incumbent = ok.then(|| projected_incumbent(&self.loss_model, &self.data, &reference)).flatten();
                let p = self.space.len();
                let fresh = incumbent
                    .map(|i| self.data.values[i * p..(i + 1) * p].to_vec())
                    .filter(|values| self.settings.evaluate_incumbent && !self.at_full.contains(values));
                match (fresh, ok) {
                    (Some(values), _) => Some((Config::new(values), fidelity.max)),
                    (None, true) => self.acquire(fidelity, rng).or_else(|| {
                        self.warnings += 1;
                        Some((self.space.sample(rng), fidelity.max))
                    }),
                    (None, false) => {
                        self.warnings += 1;
                        Some((self.space.sample(rng), ladder(fidelity, self.settings.levels)[0]))
                    }
                }
            }
        };
        if let Some((config, step)) = &proposal
            && *step >= fidelity.max
        {
            self.at_full.push(config.values().to_vec());
        }
        proposal
    }

    fn observe(&mut self, observation: &Observation<'_>) {
        self.record(observation, None);
    }

    fn observe_with_cost(&mut self, observation: &Observation<'_>, seconds: f64) {
        self.record(observation, Some(seconds));
    }

    fn on_failure(&mut self, failure: &Observation<'_>) {
        let s = self.relative_of(failure.fidelity);
        self.data.record(&self.space, failure.config.values(), s, f64::INFINITY, None);
    }

    fn warnings(&self) -> u64 {
        self.warnings
    }
}

impl FabolasSampler {
    fn relative_of(&self, step: u32) -> f64 {
        self.fidelity.as_ref().map_or(1.0, |f| relative(f, step))
    }

    fn record(&mut self, observation: &Observation<'_>, cost: Option<f64>) {
        let value = loss(&self.objective, observation.metrics);
        let s = self.relative_of(observation.fidelity);
        self.data.record(&self.space, observation.config.values(), s, value, cost);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use rand::SeedableRng;

    use crate::test_spaces::unit_square as space;

    /// Loss at fraction `s`: a bowl at (0.3, 0.6) plus a data term that vanishes at s = 1;
    /// cost ∝ s.
    fn evaluate(config: &Config, s: f64) -> (f64, f64) {
        let (Value::Float(x), Value::Float(y)) = (config.get(0), config.get(1)) else { panic!() };
        ((x - 0.3).powi(2) + (y - 0.6).powi(2) + 0.3 * (1.0 - s).powi(2), 100.0 * s)
    }

    /// Runs `sampler` until its trials have cost `budget` seconds; returns every (config, step,
    /// loss).
    fn run(sampler: &mut FabolasSampler, fidelity: &Fidelity, budget: f64, rng: &mut Rng) -> Vec<(Config, u32, f64)> {
        let (mut seen, mut spent) = (Vec::new(), 0.0);
        let mut trial = 0;
        while spent < budget {
            let (config, step) = sampler.suggest_with_fidelity(fidelity, rng).unwrap();
            let s = f64::from(step) / f64::from(fidelity.max);
            let (value, cost) = evaluate(&config, s);
            sampler.observe_with_cost(&Observation { trial, config: &config, fidelity: step, metrics: &[value], time: 0.0 }, cost);
            seen.push((config, step, value));
            spent += cost;
            trial += 1;
        }
        seen
    }

    #[test]
    fn the_initial_design_trains_each_configuration_on_every_subset() {
        let settings = FabolasSettings { initial_design: 4, ..FabolasSettings::default() };
        let mut sampler = FabolasSampler::new(&space(), Objective::minimize("loss"), &settings).unwrap();
        let fidelity = Fidelity { min: 1, max: 256, unit: "sample".into() };
        let mut rng = Rng::seed_from_u64(1);
        let design: Vec<(Config, u32)> = (0..12).map(|_| sampler.suggest_with_fidelity(&fidelity, &mut rng).unwrap()).collect();
        // 256 / 64, 256 / 128, 256 / 256 steps, smallest first, for each of four configurations.
        assert_eq!(design.iter().map(|(_, s)| *s).collect::<Vec<_>>(), [1, 2, 4].repeat(4));
        for chunk in design.chunks(3) {
            assert!(chunk.iter().all(|(c, _)| *c == chunk[0].0));
        }
        assert_eq!(ladder(&fidelity, 8), vec![1, 2, 5, 11, 24, 53, 116, 256]);
        assert_eq!(relative(&fidelity, 16), 0.5);
    }

    #[test]
    fn prefers_cheap_fidelities_while_they_are_informative_and_finds_the_optimum() {
        let settings = FabolasSettings { initial_design: 6, candidates: 200, ..FabolasSettings::default() };
        let mut sampler = FabolasSampler::new(&space(), Objective::minimize("loss"), &settings).unwrap();
        let fidelity = Fidelity { min: 1, max: 256, unit: "sample".into() };
        // The compute of three full evaluations. Random search's best of three full evaluations
        // of the bowl is about 1/(3π) ≈ 0.1 in expectation (P(d² < t) ≈ πt); Fabolas learns
        // the bowl from cheap subsets (0.0043 with this seed).
        let seen = run(&mut sampler, &fidelity, 300.0, &mut Rng::seed_from_u64(2));
        let model_based = &seen[18..];
        // Most model-based trials train on less than a quarter of the data...
        let cheap = model_based.iter().filter(|(_, step, _)| *step < 64).count();
        assert!(cheap * 2 > model_based.len(), "{cheap} of {} below a quarter", model_based.len());
        // ...and the full-fidelity ones (incumbents) close in on the optimum.
        let best_full = seen.iter().filter(|(_, s, _)| *s == 256).map(|(_, _, v)| *v).fold(f64::INFINITY, f64::min);
        assert!(best_full < 0.01, "best full-fidelity loss {best_full} after {} trials", seen.len());
        assert_eq!(sampler.warnings(), 0);
    }
}
