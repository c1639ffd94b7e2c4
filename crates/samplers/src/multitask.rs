//! Cost-aware multi-task Bayesian optimisation over discrete fidelities ("tasks"), in the
//! spirit of SigOpt's multitask optimisation and of Swersky, Snoek & Adams, "Multi-Task
//! Bayesian Optimization", NeurIPS 2013 (reference code RoBO, `robo/fmin/mtbo.py`): one GP
//! shared by all tasks, the intrinsic coregionalisation model `m(x, x')·B[t, t']` with a free
//! task covariance `B = LLᵀ` ([`crate::gp::joint`], `Basis::Tasks`), and a cost-aware
//! acquisition: the augmented expected improvement of Huang, Allen, Notz & Miller,
//! "Sequential kriging optimization using multiple-fidelity evaluations", Structural and
//! Multidisciplinary Optimization 32, 2006, Eq. 14–17:
//!
//! `AEI(x, t) = EI_T(x) · corr(f_t(x), f_T(x)) · (1 − σ_ε / √(s_t²(x) + σ_ε²)) · c_T / c_t`,
//!
//! expected improvement at the full-fidelity task `T` over the "effective best" (the observed
//! configuration minimising `μ_T + σ_T`, Huang et al.'s `c = 1`), times how much an observation
//! at task `t` says about task `T`, times the share of it that is not noise, times the cost
//! ratio. Costs are the mean measured seconds of each task's evaluations (before any, the ratio
//! of the fidelities). It chooses the task itself, so it runs behind `fidelity_choice`.
//!
//! Tasks: `tasks` fidelities (default: `f_max/9, f_max/3, f_max`, successive halving's rungs at
//! η = 3), the last the target. Initial design: `initial_design = 6` Latin-hypercube
//! configurations on the cheapest task, the first two of them on every task as well, so that
//! the task covariance has pairs to learn from (RoBO's MTBO starts with two points on one task,
//! which its MCMC prior can carry; a point estimate needs pairs). Hyperparameters by maximum a
//! posteriori, not slice sampling. As in Fabolas ([`crate::fabolas`]), each new projected
//! incumbent is trained at the target task, so that comparisons see what it recommends.

use crate::fabolas::{Evaluations, basis_row, projected_incumbent};
use crate::gp::acquisition::Search;
use crate::gp::joint::{Basis, JointModel, LevelBuffers, LevelPredictions};
use crate::history::loss;
use crate::latin_hypercube::{LatinHypercubeSampler, LatinHypercubeSettings};
use crate::normal::log_h;
use crate::{Sampler, SamplerError};
use hposim_core::{Config, Fidelity, Objective, Observation, Rng, SearchSpace, Value};
use nalgebra::DMatrix;
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

fn default_initial_design() -> u32 {
    6
}
fn default_candidates() -> u32 {
    512
}
fn default_local_search() -> u32 {
    4
}
fn default_restarts() -> u32 {
    3
}
fn default_true() -> bool {
    true
}

/// A `type = "multitask"` sampler table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MultiTaskSettings {
    /// The tasks' fidelities, ascending, the last the target (default `f_max/9, f_max/3,
    /// f_max`, within the benchmark's range).
    #[serde(default)]
    pub tasks: Option<Vec<u32>>,
    /// Configurations of the initial design (default 6).
    #[serde(default = "default_initial_design")]
    pub initial_design: u32,
    /// Configurations scored per proposal (default 512).
    #[serde(default = "default_candidates")]
    pub candidates: u32,
    /// Best candidates refined by coordinate search (default 4).
    #[serde(default = "default_local_search")]
    pub local_search: u32,
    /// Starts of a hyperparameter fit (default 3).
    #[serde(default = "default_restarts")]
    pub restarts: u32,
    /// Train each new projected incumbent on the target task (default true).
    #[serde(default = "default_true")]
    pub evaluate_incumbent: bool,
    /// Results the model learns from at most, as `fabolas`' (default 500).
    #[serde(default = "crate::fabolas::default_max_observations")]
    pub max_observations: u32,
}

impl Default for MultiTaskSettings {
    fn default() -> Self {
        Self {
            tasks: None,
            initial_design: default_initial_design(),
            candidates: default_candidates(),
            local_search: default_local_search(),
            restarts: default_restarts(),
            evaluate_incumbent: true,
            max_observations: crate::fabolas::default_max_observations(),
        }
    }
}

impl MultiTaskSettings {
    fn check(&self, space: &SearchSpace) -> Result<(), SamplerError> {
        if space.is_empty() {
            return Err(SamplerError::invalid("type", "multitask needs at least one parameter"));
        }
        for (key, value) in [
            ("initial_design", self.initial_design),
            ("candidates", self.candidates),
            ("restarts", self.restarts),
            ("max_observations", self.max_observations),
        ] {
            if value == 0 {
                return Err(SamplerError::invalid(key, "must be at least 1"));
            }
        }
        if let Some(tasks) = &self.tasks {
            if tasks.len() < 2 || tasks.len() > 8 {
                return Err(SamplerError::invalid("tasks", format!("must list 2 to 8 fidelities, got {}", tasks.len())));
            }
            if tasks.contains(&0) || tasks.windows(2).any(|w| w[0] >= w[1]) {
                return Err(SamplerError::invalid("tasks", format!("must be positive and strictly increasing, got {tasks:?}")));
            }
        }
        Ok(())
    }

    /// The tasks' fidelities within `fidelity`'s range: an error names one outside it.
    fn resolve(&self, fidelity: &Fidelity) -> Result<Vec<u32>, SamplerError> {
        match &self.tasks {
            Some(tasks) => {
                if let Some(out) = tasks.iter().find(|&&t| t < fidelity.min || t > fidelity.max) {
                    return Err(SamplerError::invalid(
                        "tasks",
                        format!("{out} lies outside the benchmark's fidelity range {}..={}", fidelity.min, fidelity.max),
                    ));
                }
                Ok(tasks.clone())
            }
            None => {
                let mut tasks: Vec<u32> = [9, 3, 1].iter().map(|d| (fidelity.max / d).clamp(fidelity.min.max(1), fidelity.max)).collect();
                tasks.dedup();
                Ok(tasks)
            }
        }
    }
}

/// The multi-task sampler (see the module documentation).
#[derive(Debug)]
pub struct MultiTaskSampler {
    space: SearchSpace,
    objective: Objective,
    settings: MultiTaskSettings,
    data: Evaluations,
    model: JointModel,
    search: Search,
    tasks: Vec<u32>,
    design: Option<VecDeque<(Config, usize)>>,
    at_target: Vec<Vec<Value>>,
    warnings: u64,
}

impl MultiTaskSampler {
    /// Multi-task BO over `space`, minimising `objective`'s loss.
    pub fn new(space: &SearchSpace, objective: Objective, settings: &MultiTaskSettings) -> Result<Self, SamplerError> {
        settings.check(space)?;
        Ok(Self {
            space: space.clone(),
            objective,
            settings: settings.clone(),
            data: Evaluations::new(space),
            model: JointModel::new(Basis::Tasks(1)),
            search: Search::new(space),
            tasks: Vec::new(),
            design: None,
            at_target: Vec::new(),
            warnings: 0,
        })
    }

    fn task_of(&self, step: u32) -> usize {
        // The task at or below the step (results between tasks count for the lower one).
        self.tasks.iter().rposition(|&t| t <= step).unwrap_or(0)
    }

    fn initial_design(&self, rng: &mut Rng) -> VecDeque<(Config, usize)> {
        let mut design = VecDeque::new();
        let settings = LatinHypercubeSettings { points: self.settings.initial_design };
        if let Ok(mut lhs) = LatinHypercubeSampler::new(&self.space, &settings) {
            for k in 0..self.settings.initial_design {
                let Some(config) = lhs.suggest(rng) else { break };
                let tasks = if k < 2 { self.tasks.len() } else { 1 };
                for task in 0..tasks {
                    design.push_back((config.clone(), task));
                }
            }
        }
        design
    }

    /// Mean measured cost per task; a task without any takes the fidelity ratio to one with.
    fn task_costs(&self) -> Vec<f64> {
        let t = self.tasks.len();
        let (mut sum, mut count) = (vec![0.0; t], vec![0usize; t]);
        for &row in &self.data.costed {
            let (task, cost) = (self.data.s[row] as usize, self.data.costs[row]);
            sum[task] += cost;
            count[task] += 1;
        }
        let known = (0..t).find(|&k| count[k] > 0);
        (0..t)
            .map(|k| match (count[k], known) {
                (0, Some(j)) => sum[j] / count[j] as f64 * f64::from(self.tasks[k]) / f64::from(self.tasks[j]),
                (0, None) => f64::from(self.tasks[k]),
                (c, _) => sum[k] / c as f64,
            })
            .collect()
    }

    fn acquire(&mut self, rng: &mut Rng) -> Option<(Config, usize)> {
        let t = self.tasks.len();
        let basis = Basis::Tasks(t);
        let phis: Vec<Vec<f64>> = (0..t).map(|k| basis_row(basis, k as f64)).collect();
        let reference = phis[t - 1].clone();
        let posterior = self.model.posterior.as_ref()?;
        let noise = posterior.hyper.noise;
        let width = self.data.features.width();
        // The effective best: the observed configuration minimising μ_T + σ_T.
        let mut matern = DMatrix::zeros(0, 0);
        let (mut out, mut buffers) = (LevelPredictions::default(), LevelBuffers::default());
        posterior.matern_block(&self.data.x, &mut matern);
        posterior.predict_levels(&matern, &[], &reference, &mut out, &mut buffers);
        let effective = (0..self.data.len()).filter(|&i| self.data.losses[i].is_finite()).min_by(|&a, &b| {
            let u = |i: usize| out.reference_mean[i] + out.reference_var[i].sqrt();
            u(a).total_cmp(&u(b)).then(a.cmp(&b))
        })?;
        let best = out.reference_mean[effective];
        let costs = self.task_costs();
        let mut score_tasks = |features: &[f64], scores: &mut Vec<f64>| {
            let m = features.len() / width;
            posterior.matern_block(features, &mut matern);
            posterior.predict_levels(&matern, &phis, &reference, &mut out, &mut buffers);
            scores.clear();
            scores.resize(t * m, f64::NEG_INFINITY);
            for j in 0..m {
                let sd_t = out.reference_var[j].sqrt();
                let log_ei = sd_t.ln() + log_h((best - out.reference_mean[j]) / sd_t);
                for k in 0..t {
                    let i = k * m + j;
                    let correlation = out.cov[i] / (out.var[i].sqrt() * sd_t);
                    let not_noise = 1.0 - (noise / (out.var[i] + noise)).sqrt();
                    if correlation > 0.0 && not_noise > 0.0 {
                        scores[i] = log_ei + correlation.min(1.0).ln() + not_noise.ln() + (costs[t - 1] / costs[k]).ln();
                    }
                }
            }
        };
        let (values, task) = self.search.maximise_over_levels(
            &self.space,
            &self.data.features,
            self.settings.candidates as usize,
            self.settings.local_search as usize,
            &self.data.values,
            &[effective],
            t,
            rng,
            &mut score_tasks,
        )?;
        Some((Config::new(values), task))
    }

    fn record(&mut self, observation: &Observation<'_>, cost: Option<f64>) {
        if self.tasks.is_empty() {
            return;
        }
        let value = loss(&self.objective, observation.metrics);
        let task = self.task_of(observation.fidelity) as f64;
        self.data.record(&self.space, observation.config.values(), task, value, cost);
    }
}

impl Sampler for MultiTaskSampler {
    fn suggest(&mut self, rng: &mut Rng) -> Option<Config> {
        let fidelity = Fidelity::epochs(self.tasks.last().copied().unwrap_or(1));
        self.suggest_with_fidelity(&fidelity, rng).map(|(config, _)| config)
    }

    fn suggest_with_fidelity(&mut self, fidelity: &Fidelity, rng: &mut Rng) -> Option<(Config, u32)> {
        if self.tasks.is_empty() {
            // Checked when the experiment was loaded ([`validate`]); a range the tasks do not
            // fit falls back to the full fidelity alone.
            self.tasks = self.settings.resolve(fidelity).unwrap_or_else(|_| vec![fidelity.max]);
            self.model = JointModel::new(Basis::Tasks(self.tasks.len()));
        }
        if self.design.is_none() {
            self.design = Some(self.initial_design(rng));
        }
        let target = self.tasks.len() - 1;
        let from_design = self.design.as_mut().and_then(VecDeque::pop_front);
        let (config, task) = match from_design {
            Some(proposal) => proposal,
            None if self.data.len() < 2 => (self.space.sample(rng), 0),
            None => {
                let width = self.data.features.width();
                let rows = self.data.model_rows(self.settings.max_observations as usize, target as f64);
                let (x, phi) = (self.data.features_of(&rows), self.data.basis_rows(Basis::Tasks(self.tasks.len()), &rows));
                let losses: Vec<f64> = rows.iter().map(|&i| self.data.losses[i]).collect();
                let ok = self.model.update(&x, &phi, width, &losses, self.settings.restarts, rng);
                let reference = basis_row(Basis::Tasks(self.tasks.len()), target as f64);
                let p = self.space.len();
                let fresh = ok
                    .then(|| projected_incumbent(&self.model, &self.data, &reference))
                    .flatten()
                    .map(|i| self.data.values[i * p..(i + 1) * p].to_vec())
                    .filter(|values| self.settings.evaluate_incumbent && !self.at_target.contains(values));
                match (fresh, ok) {
                    (Some(values), _) => (Config::new(values), target),
                    (None, true) => self.acquire(rng).unwrap_or_else(|| {
                        self.warnings += 1;
                        (self.space.sample(rng), 0)
                    }),
                    (None, false) => {
                        self.warnings += 1;
                        (self.space.sample(rng), 0)
                    }
                }
            }
        };
        if task == target {
            self.at_target.push(config.values().to_vec());
        }
        Some((config, self.tasks[task]))
    }

    fn observe(&mut self, observation: &Observation<'_>) {
        self.record(observation, None);
    }

    fn observe_with_cost(&mut self, observation: &Observation<'_>, seconds: f64) {
        self.record(observation, Some(seconds));
    }

    fn on_failure(&mut self, failure: &Observation<'_>) {
        if !self.tasks.is_empty() {
            let task = self.task_of(failure.fidelity) as f64;
            self.data.record(&self.space, failure.config.values(), task, f64::INFINITY, None);
        }
    }

    fn warnings(&self) -> u64 {
        self.warnings
    }
}

/// Checks `settings`' tasks against a benchmark's fidelity range, so that an experiment is
/// refused when it loads.
pub fn check_tasks(settings: &MultiTaskSettings, fidelity: &Fidelity) -> Result<(), SamplerError> {
    settings.resolve(fidelity).map(|_| ())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use rand::SeedableRng;

    use crate::test_spaces::unit_square as space;

    /// Task losses: the bowl at (0.3, 0.6), shifted and slightly tilted on the cheaper tasks;
    /// cost ∝ fidelity.
    fn evaluate(config: &Config, step: u32) -> (f64, f64) {
        let (Value::Float(x), Value::Float(y)) = (config.get(0), config.get(1)) else { panic!() };
        let s = f64::from(step) / 27.0;
        ((x - 0.3).powi(2) + (y - 0.6).powi(2) + 0.2 * (1.0 - s) * (1.0 + 0.3 * x), 10.0 * s)
    }

    #[test]
    fn default_tasks_are_rungs_at_eta_three_and_settings_are_checked() {
        let fidelity = Fidelity { min: 1, max: 27, unit: "epoch".into() };
        assert_eq!(MultiTaskSettings::default().resolve(&fidelity).unwrap(), vec![3, 9, 27]);
        let bad = MultiTaskSettings { tasks: Some(vec![3, 30]), ..MultiTaskSettings::default() };
        assert!(bad.resolve(&fidelity).unwrap_err().to_string().contains("30 lies outside"));
        let unordered = MultiTaskSettings { tasks: Some(vec![9, 3]), ..MultiTaskSettings::default() };
        assert!(unordered.check(&space()).is_err());
    }

    #[test]
    fn learns_across_tasks_spending_less_than_random_search_at_the_target() {
        let fidelity = Fidelity { min: 1, max: 27, unit: "epoch".into() };
        let mut sampler = MultiTaskSampler::new(&space(), Objective::minimize("loss"), &MultiTaskSettings::default()).unwrap();
        let mut rng = Rng::seed_from_u64(5);
        let (mut spent, mut best_target, mut cheap) = (0.0, f64::INFINITY, 0);
        let mut trial = 0;
        // The compute of ten target evaluations: random search's best of ten is ≈ 1/(10π) ≈ 0.03.
        while spent < 100.0 {
            let (config, step) = sampler.suggest_with_fidelity(&fidelity, &mut rng).unwrap();
            let (value, cost) = evaluate(&config, step);
            sampler.observe_with_cost(&Observation { trial, config: &config, fidelity: step, metrics: &[value], time: 0.0 }, cost);
            spent += cost;
            trial += 1;
            if step == 27 {
                best_target = best_target.min(value);
            } else {
                cheap += 1;
            }
        }
        assert!(cheap > trial / 2, "{cheap} of {trial} on cheaper tasks");
        assert!(best_target < 0.01, "best at the target {best_target} after {trial} trials");
        assert_eq!(sampler.warnings(), 0);
    }
}
