//! Synthetic learning curves: a validation error that falls from chance level towards a final
//! value set by a seeded random [`Landscape`], at a speed and with a shape set by smooth random
//! fields, with per-epoch Gaussian noise, optional divergence, and a cost per epoch that depends
//! on the configuration.
//!
//! Every curve is normalised to start at `worst_error` (chance) at epoch 0 and to reach its
//! final value exactly at `max_epochs`, so the best value any configuration can reach at full
//! fidelity is known: `best_error`, at the landscape's optimum (noise aside).
//!
//! Families (with `τ` the time constant, `T = max_epochs`, `c` the normaliser that makes the
//! curve end on its final value):
//! - `exponential`: `y(t) = y_f + (y_0 − y_f) (e^{−(t/τ)^k} − c) / (1 − c)`, a stretched or
//!   compressed exponential saturation (Domhan et al., IJCAI 2015, list it among the learning
//!   curve models), with `τ ∈ [0.04 T, 0.5 T]` and `k ∈ [0.7, 1.6]` from smooth fields;
//! - `power_law`: `y(t) = y_f + (y_0 − y_f) ((1 + t/τ)^{−α} − c) / (1 − c)`, the pow-law family
//!   of the same survey, with `τ ∈ [0.005 T, 0.1 T]` and `α ∈ [0.5, 1.5]`;
//! - `crossing`: the exponential form with speed and shape tied to quality, so that good
//!   configurations start late and converge slowly (`τ ∈ [0.03 T, 0.7 T]`, `k ∈ [1, 3]` growing
//!   with quality) while poor ones drop fast and plateau early. Curves cross, early rankings are
//!   misleading, and early stopping kills the eventual winners: the case where it hurts.
//!
//! Several objectives (`objectives = ["val_error", "training_time"]`, or `"parameters"`; see
//! [`crate::trade_off`]): the error is traded against the seconds of training so far (epochs ×
//! the cost per epoch) or the model's size, and the `capacity` parameters (default `width` with
//! the default space) have the landscape's optimum at their largest value with full relevance:
//! a wider network ends with a lower error but costs more per epoch and has more parameters,
//! the trade-off of choosing a model's size. The best known value of each objective is its
//! optimum at full fidelity (`best_error` at the landscape's optimum; the smallest cost or size
//! over the space); the hypervolume reference is `hypervolume_reference` where given, else
//! `worst_error` for the error and 1.1 × the largest full-fidelity cost or size.

use crate::default_space::{default_cost_exponents, default_space};
use crate::field::{CALIBRATION_SAMPLES, RandomField, with_unit_coordinates};
use crate::landscape::Landscape;
use crate::trade_off::{PowerProduct, SyntheticObjective, capacity_params};
use crate::{Benchmark, BenchmarkError, INLINE_COEFFICIENTS, TrialCurve, require_non_negative, require_positive, require_reference};
use hposim_core::rng::{stable_hash, stateless_normal, stateless_uniform};
use hposim_core::{Config, Fidelity, LaunchOverhead, Objective, Rng, SearchSpace};
use rand::SeedableRng;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Learning-curve family.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Family {
    /// Stretched/compressed exponential saturation.
    #[default]
    Exponential,
    /// Power-law saturation.
    PowerLaw,
    /// Slow starters end best.
    Crossing,
}

/// How a diverging run shows it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DivergenceMode {
    /// The metric becomes NaN (a loss that overflowed).
    #[default]
    Nan,
    /// The metric explodes: at the divergence epoch it jumps to ten times `worst_error` (a
    /// finite, clearly broken value the strategy sees), and from the next epoch on it is
    /// infinite, as an overflowing loss would be.
    Explode,
}

/// Divergence settings: a smooth region of the space covering about `fraction` of the prior
/// diverges, each run at an epoch drawn uniformly from the first 80 % of training.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DivergenceSpec {
    /// Fraction of the prior's configurations that diverge, in `[0, 1)`. The optimum never
    /// diverges, so where that would cut into it the fraction is smaller.
    pub fraction: f64,
    /// How divergence shows.
    #[serde(default)]
    pub mode: DivergenceMode,
}

fn default_max_epochs() -> u32 {
    100
}
fn default_min_epochs() -> u32 {
    1
}
fn default_noise() -> f64 {
    0.005
}
fn default_best_error() -> f64 {
    0.05
}
fn default_worst_error() -> f64 {
    0.9
}
fn default_median_quality() -> f64 {
    0.35
}
fn default_ruggedness() -> f64 {
    0.5
}
fn default_epoch_seconds() -> f64 {
    60.0
}

/// A `type = "synthetic"` benchmark table. Every key but `type` is optional.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyntheticSpec {
    /// Display name (default `synthetic`).
    #[serde(default)]
    pub name: Option<String>,
    /// Curve family (default `exponential`).
    #[serde(default)]
    pub family: Family,
    /// Full fidelity in epochs (default 100).
    #[serde(default = "default_max_epochs")]
    pub max_epochs: u32,
    /// Smallest meaningful fidelity (default 1).
    #[serde(default = "default_min_epochs")]
    pub min_epochs: u32,
    /// Seed of the landscape: the benchmark instance, fixed across an experiment's seeds.
    #[serde(default)]
    pub instance: u64,
    /// Standard deviation of the per-epoch observation noise (default 0.005).
    #[serde(default = "default_noise")]
    pub noise: f64,
    /// Final error at the optimum (default 0.05).
    #[serde(default = "default_best_error")]
    pub best_error: f64,
    /// Error at epoch 0, and the limit of the worst configurations (default 0.9).
    #[serde(default = "default_worst_error")]
    pub worst_error: f64,
    /// Where the median random configuration ends, as a fraction of the way from best to worst
    /// (default 0.35).
    #[serde(default = "default_median_quality")]
    pub median_quality: f64,
    /// Strength of the landscape's ripples, i.e. its local optima (default 0.5; 0 is a bowl).
    #[serde(default = "default_ruggedness")]
    pub ruggedness: f64,
    /// Optional divergence.
    #[serde(default)]
    pub divergence: Option<DivergenceSpec>,
    /// Seconds per epoch at the centre of the cost parameters' ranges (default 60).
    #[serde(default = "default_epoch_seconds")]
    pub epoch_seconds: f64,
    /// Cost per epoch ∝ Π (value / geometric centre of range)^exponent over these parameters.
    /// Default: `{ width = 1.0, batch_size = -0.5 }` with the default space, none otherwise.
    #[serde(default)]
    pub cost_exponents: Option<BTreeMap<String, f64>>,
    /// The search space (default: see [`crate::default_space`]).
    #[serde(default)]
    pub space: Option<Vec<hposim_core::ParamSpec>>,
    /// The objectives, in order (default `["val_error"]`): `val_error` and optionally
    /// `training_time` and `parameters` ([`SyntheticObjective`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub objectives: Option<Vec<SyntheticObjective>>,
    /// Parameters whose largest value gives the lowest error. Default: `["width"]` with the
    /// default space and several objectives, none otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capacity: Option<Vec<String>>,
    /// Size ∝ Π (value / geometric centre of range)^exponent over these parameters. Default:
    /// `{ width = 2.0 }` with the default space; required with a custom space and the
    /// `parameters` objective.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size_exponents: Option<BTreeMap<String, f64>>,
    /// Size (parameters) at the centre of the size parameters' ranges (default 10⁶).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size_at_centre: Option<f64>,
    /// With several objectives, the hypervolume reference point, one coordinate per objective.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hypervolume_reference: Option<Vec<f64>>,
    /// Per-launch overhead of the training processes, in seconds (`startup`, `resume`,
    /// `shutdown`, optional `noise` as a coefficient of variation; [`hposim_core::overhead`]).
    /// Absent: launches are free.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overhead: Option<LaunchOverhead>,
    /// What one step is (default `epoch`): with `"data"`-like units the curve is one over the
    /// training-set size, step `k` of `max_epochs` training on the fraction `k / max_epochs`
    /// (Fabolas' setting; use `family = "power_law"`, the shape of learning curves over data).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    /// How the cost grows with the fidelity (default 1: every step costs the same): reaching
    /// step `k` costs `epoch_seconds · T · (k / T)^cost_power` in all, for `T = max_epochs`, so
    /// that 2 is a learner whose training time grows with the square of its data (kernel SVMs);
    /// each step costs the difference. In `(0, 4]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost_power: Option<f64>,
}

impl Default for SyntheticSpec {
    fn default() -> Self {
        Self {
            name: None,
            family: Family::default(),
            max_epochs: default_max_epochs(),
            min_epochs: default_min_epochs(),
            instance: 0,
            noise: default_noise(),
            best_error: default_best_error(),
            worst_error: default_worst_error(),
            median_quality: default_median_quality(),
            ruggedness: default_ruggedness(),
            divergence: None,
            epoch_seconds: default_epoch_seconds(),
            cost_exponents: None,
            space: None,
            objectives: None,
            capacity: None,
            size_exponents: None,
            size_at_centre: None,
            hypervolume_reference: None,
            overhead: None,
            unit: None,
            cost_power: None,
        }
    }
}

/// Largest `max_epochs` accepted (the benchmark keeps a table of `ln t` per epoch).
pub const MAX_EPOCHS: u32 = 1_000_000;

/// Where each quantity sits in a [`TrialCurve`]'s coefficients.
mod slot {
    pub const FINAL: usize = 0;
    pub const TAU: usize = 1;
    pub const SHAPE: usize = 2;
    pub const END: usize = 3;
    pub const COST: usize = 4;
    pub const DIVERGE_AT: usize = 5;
    pub const LN_TAU: usize = 6;
    pub const SIZE: usize = 7;
}

/// The divergent region: where `sign · (field − field(optimum)) > threshold`.
#[derive(Debug)]
struct Divergence {
    field: RandomField,
    sign: f64,
    at_optimum: f64,
    threshold: f64,
    mode: DivergenceMode,
}

impl Divergence {
    fn contains_at(&self, u: &[f64], config: &Config) -> bool {
        self.sign * (self.field.standard_at(u, config) - self.at_optimum) > self.threshold
    }
}

/// The synthetic benchmark (see the module documentation).
#[derive(Debug)]
pub struct Synthetic {
    name: String,
    space: SearchSpace,
    objectives: Vec<Objective>,
    fidelity: Fidelity,
    family: Family,
    landscape: Landscape,
    speed: RandomField,
    shape: RandomField,
    divergence: Option<Divergence>,
    noise: f64,
    best: f64,
    worst: f64,
    badness_scale: f64,
    epoch_seconds: f64,
    cost: PowerProduct,
    size: PowerProduct,
    size_at_centre: f64,
    /// What each metric slot reports.
    outputs: Vec<SyntheticObjective>,
    best_known: Vec<f64>,
    /// The hypervolume reference point (empty with one objective).
    reference: Vec<f64>,
    /// `ln t` for `t = 0..=max_epochs`, so a step needs no logarithm.
    ln_epoch: Vec<f64>,
    overhead: LaunchOverhead,
    /// `cost_power`, 1 when every step costs the same.
    cost_power: f64,
}

impl Synthetic {
    /// Validates `spec` and draws the landscape of instance `spec.instance`.
    pub fn new(name: String, spec: &SyntheticSpec) -> Result<Self, BenchmarkError> {
        if spec.max_epochs == 0 || spec.max_epochs > MAX_EPOCHS {
            return Err(BenchmarkError::invalid("max_epochs", format!("must lie in 1..={MAX_EPOCHS}, got {}", spec.max_epochs)));
        }
        if spec.min_epochs == 0 || spec.min_epochs > spec.max_epochs {
            return Err(BenchmarkError::invalid("min_epochs", format!("must lie in 1..={}, got {}", spec.max_epochs, spec.min_epochs)));
        }
        require_non_negative("noise", spec.noise)?;
        require_non_negative("ruggedness", spec.ruggedness)?;
        require_positive("epoch_seconds", spec.epoch_seconds)?;
        if !(0.0..=1.0).contains(&spec.best_error) || !(0.0..=1.0).contains(&spec.worst_error) || spec.best_error >= spec.worst_error {
            return Err(BenchmarkError::invalid(
                "best_error",
                format!(
                    "best_error ({}) and worst_error ({}) must lie in [0, 1] with best_error < worst_error",
                    spec.best_error, spec.worst_error
                ),
            ));
        }
        if !(spec.median_quality > 0.0 && spec.median_quality < 1.0) {
            return Err(BenchmarkError::invalid(
                "median_quality",
                format!("must lie strictly between 0 and 1, got {}", spec.median_quality),
            ));
        }
        let cost_power = spec.cost_power.unwrap_or(1.0);
        if !(cost_power > 0.0 && cost_power <= 4.0) {
            return Err(BenchmarkError::invalid("cost_power", format!("must lie in (0, 4], got {cost_power}")));
        }
        if spec.unit.as_deref().is_some_and(|u| u.trim().is_empty()) {
            return Err(BenchmarkError::invalid("unit", "must not be empty"));
        }
        let overhead = spec.overhead.unwrap_or_default();
        overhead.check().map_err(|(key, message)| BenchmarkError::invalid(&format!("overhead.{key}"), message))?;
        if let Some(div) = &spec.divergence
            && !(0.0..1.0).contains(&div.fraction)
        {
            return Err(BenchmarkError::invalid("divergence.fraction", format!("must lie in [0, 1), got {}", div.fraction)));
        }
        let specs = spec.space.clone().unwrap_or_else(default_space);
        let space = SearchSpace::new(&specs)?;
        let exponents: Vec<(String, f64)> = match (&spec.cost_exponents, &spec.space) {
            (Some(map), _) => map.iter().map(|(k, v)| (k.clone(), *v)).collect(),
            (None, None) => default_cost_exponents(),
            (None, Some(_)) => Vec::new(),
        };
        let cost = PowerProduct::new(&space, "cost_exponents", &exponents)?;
        let outputs = spec.objectives.clone().unwrap_or_else(|| vec![SyntheticObjective::ValError]);
        check_objectives(&outputs)?;
        let several = outputs.len() >= 2;
        let capacity = match (&spec.capacity, &spec.space) {
            (Some(names), _) => capacity_params(&space, names)?,
            (None, None) if several => capacity_params(&space, &["width".to_owned()])?,
            (None, _) => Vec::new(),
        };
        let size_exponents: Vec<(String, f64)> = match (&spec.size_exponents, &spec.space) {
            (Some(map), _) => map.iter().map(|(k, v)| (k.clone(), *v)).collect(),
            (None, None) => vec![("width".to_owned(), 2.0)],
            (None, Some(_)) if outputs.contains(&SyntheticObjective::Parameters) => {
                return Err(BenchmarkError::invalid(
                    "size_exponents",
                    "the `parameters` objective with a custom space needs size_exponents",
                ));
            }
            (None, Some(_)) => Vec::new(),
        };
        let size = PowerProduct::new(&space, "size_exponents", &size_exponents)?;
        let size_at_centre = spec.size_at_centre.unwrap_or(1e6);
        require_positive("size_at_centre", size_at_centre)?;

        let mut rng = Rng::seed_from_u64(stable_hash(spec.instance, &[b"synthetic-landscape"]));
        let landscape = Landscape::with_capacity(&space, &mut rng, spec.ruggedness, &capacity);
        let speed = RandomField::new(&space, &mut rng, 6, 0.6);
        let shape = RandomField::new(&space, &mut rng, 6, 0.6);
        let mut badness: Vec<f64> = (0..CALIBRATION_SAMPLES).map(|_| landscape.badness(&space, &space.sample(&mut rng))).collect();
        badness.sort_by(f64::total_cmp);
        let median_badness = badness[badness.len() / 2].max(f64::MIN_POSITIVE);
        // 1 − exp(−g_med / scale) = median_quality puts the median configuration where asked.
        let badness_scale = median_badness / -(1.0 - spec.median_quality).ln();

        let divergence = match &spec.divergence {
            Some(div) if div.fraction > 0.0 => {
                let field = RandomField::new(&space, &mut rng, 6, 0.6);
                let mut values: Vec<f64> = (0..CALIBRATION_SAMPLES).map(|_| field.standard(&space, &space.sample(&mut rng))).collect();
                values.sort_by(f64::total_cmp);
                // Orient the field so that the optimum lies in its lower half: then a fraction
                // up to one half can diverge without reaching the optimum.
                let at_optimum = field.standard(&space, &landscape.optimum(&space));
                let sign = if at_optimum > values[values.len() / 2] { -1.0 } else { 1.0 };
                let mut excess: Vec<f64> = values.iter().map(|v| sign * (v - at_optimum)).collect();
                excess.sort_by(f64::total_cmp);
                let cut = ((1.0 - div.fraction) * excess.len() as f64) as usize;
                let threshold = excess[cut.min(excess.len() - 1)].max(1e-9);
                Some(Divergence { field, sign, at_optimum, threshold, mode: div.mode })
            }
            _ => None,
        };

        let t_max = f64::from(spec.max_epochs);
        let (cost_range, size_range) = (cost.extremes(), size.extremes());
        let optimum_and_nadir = |output: SyntheticObjective| match output {
            SyntheticObjective::ValError => (spec.best_error, spec.worst_error),
            SyntheticObjective::TrainingTime => {
                (t_max * spec.epoch_seconds * cost_range.0, 1.1 * t_max * spec.epoch_seconds * cost_range.1)
            }
            SyntheticObjective::Parameters => (size_at_centre * size_range.0, 1.1 * size_at_centre * size_range.1),
        };
        let best_known = outputs.iter().map(|&o| optimum_and_nadir(o).0).collect();
        let objectives: Vec<Objective> = outputs.iter().map(|o| o.objective()).collect();
        let reference = match &spec.hypervolume_reference {
            Some(given) => {
                require_reference(given, &outputs.iter().map(|o| o.name()).collect::<Vec<_>>())?;
                given.clone()
            }
            None if several => outputs.iter().map(|&o| optimum_and_nadir(o).1).collect(),
            None => Vec::new(),
        };

        Ok(Self {
            name,
            space,
            objectives,
            fidelity: Fidelity {
                min: spec.min_epochs,
                max: spec.max_epochs,
                unit: spec.unit.clone().unwrap_or_else(|| "epoch".to_owned()),
            },
            family: spec.family,
            landscape,
            speed,
            shape,
            divergence,
            noise: spec.noise,
            best: spec.best_error,
            worst: spec.worst_error,
            badness_scale,
            epoch_seconds: spec.epoch_seconds,
            cost,
            size,
            size_at_centre,
            outputs,
            best_known,
            reference,
            ln_epoch: (0..=spec.max_epochs).map(|t| f64::from(t).ln()).collect(),
            overhead,
            cost_power,
        })
    }

    /// The configuration with the lowest final error (`best_error`).
    pub fn optimum(&self) -> Config {
        self.landscape.optimum(&self.space)
    }

    /// The noise-free final error of `config` at full fidelity.
    pub fn final_error(&self, config: &Config) -> f64 {
        self.error_of_badness(self.landscape.badness(&self.space, config))
    }

    /// The final error of a configuration of badness `g`: `best` at 0, rising towards `worst`.
    fn error_of_badness(&self, g: f64) -> f64 {
        self.best + (self.worst - self.best) * (1.0 - (-g / self.badness_scale).exp())
    }

    fn epoch_cost(&self, config: &Config) -> f64 {
        self.cost.scaled(self.epoch_seconds, &self.space, config)
    }

    /// [`Benchmark::open`] given the unit coordinates `u` of `config` (computed once and shared
    /// by the landscape and every field).
    fn open_at(&self, u: &[f64], config: &Config, seed: u64) -> TrialCurve {
        let final_error = self.error_of_badness(self.landscape.badness_at(u, config));
        let speed = self.speed.unit_at(u, config);
        let shape_u = self.shape.unit_at(u, config);
        let t_max = f64::from(self.fidelity.max);
        let (tau, shape) = match self.family {
            Family::Exponential => (t_max * lerp(0.04, 0.5, speed), lerp(0.7, 1.6, shape_u)),
            Family::PowerLaw => (t_max * lerp(0.005, 0.1, speed), lerp(0.5, 1.5, shape_u)),
            Family::Crossing => {
                let quality = 1.0 - (final_error - self.best) / (self.worst - self.best);
                (t_max * lerp(0.03, 0.7, 0.85 * quality + 0.15 * speed), lerp(1.0, 3.0, quality))
            }
        };
        let ln_tau = tau.ln();
        // The same expression as every step's, so that the curve ends exactly on its final value.
        let end = self.progress(tau, ln_tau, shape, self.fidelity.max);
        let diverge_at = match &self.divergence {
            Some(divergence) if divergence.contains_at(u, config) => {
                // The stateless draw at counter u64::MAX is reserved for this; epochs use 1..=T.
                1.0 + (stateless_uniform(seed, u64::MAX) * 0.8 * t_max).floor()
            }
            _ => f64::INFINITY,
        };
        let mut c = [0.0; INLINE_COEFFICIENTS];
        c[slot::FINAL] = final_error;
        c[slot::TAU] = tau;
        c[slot::LN_TAU] = ln_tau;
        c[slot::SHAPE] = shape;
        c[slot::END] = end;
        c[slot::COST] = self.epoch_cost(config);
        c[slot::DIVERGE_AT] = diverge_at;
        c[slot::SIZE] = self.size.scaled(self.size_at_centre, &self.space, config);
        TrialCurve::new(c, seed)
    }

    /// The unnormalised progress term after `t` epochs: `e^{−(t/τ)^k}` or `(1 + t/τ)^{−α}`.
    #[inline]
    fn progress(&self, tau: f64, ln_tau: f64, shape: f64, t: u32) -> f64 {
        match self.family {
            Family::PowerLaw => (1.0 + f64::from(t) / tau).powf(-shape),
            Family::Exponential | Family::Crossing => {
                // (t/τ)^k = exp(k (ln t − ln τ)), with ln t from the table.
                let ln_t = self.ln_epoch.get(t as usize).copied().unwrap_or_else(|| f64::from(t).ln());
                (-(shape * (ln_t - ln_tau)).exp()).exp()
            }
        }
    }

    /// The cost of reaching `step` when it grows as `(step / T)^cost_power`: kept out of line,
    /// so that the common case (every step costs the same) compiles as it did without it.
    #[cold]
    #[inline(never)]
    fn grown_cost_until(&self, curve: &TrialCurve, step: u32) -> f64 {
        let t_max = f64::from(self.fidelity.max);
        curve.coefficients[slot::COST] * t_max * (f64::from(step) / t_max).powf(self.cost_power)
    }

    /// The noise-free error after `t` epochs of a curve.
    #[inline]
    fn mean_error(&self, c: &[f64; INLINE_COEFFICIENTS], t: u32) -> f64 {
        let end = c[slot::END];
        let progress = self.progress(c[slot::TAU], c[slot::LN_TAU], c[slot::SHAPE], t);
        let remaining = ((progress - end) / (1.0 - end)).max(0.0);
        c[slot::FINAL] + (self.worst - c[slot::FINAL]) * remaining
    }
}

fn lerp(a: f64, b: f64, t: f64) -> f64 {
    a + (b - a) * t
}

/// Refuses objectives without `val_error` or with one listed twice.
fn check_objectives(outputs: &[SyntheticObjective]) -> Result<(), BenchmarkError> {
    if !outputs.contains(&SyntheticObjective::ValError) {
        return Err(BenchmarkError::invalid("objectives", "must include \"val_error\" (the learning curve)"));
    }
    if let Some(twice) = outputs.iter().enumerate().find(|(i, o)| outputs[..*i].contains(o)).map(|(_, o)| o) {
        return Err(BenchmarkError::invalid("objectives", format!("\"{}\" is listed twice", twice.name())));
    }
    Ok(())
}

impl Benchmark for Synthetic {
    fn name(&self) -> &str {
        &self.name
    }

    fn space(&self) -> &SearchSpace {
        &self.space
    }

    fn objectives(&self) -> &[Objective] {
        &self.objectives
    }

    fn fidelity(&self) -> &Fidelity {
        &self.fidelity
    }

    fn open(&self, config: &Config, seed: u64) -> TrialCurve {
        with_unit_coordinates(&self.space, config, |u| self.open_at(u, config, seed))
    }

    #[inline]
    fn step(&self, curve: &TrialCurve, step: u32, metrics: &mut [f64]) -> f64 {
        let c = &curve.coefficients;
        let t = f64::from(step);
        let mut error = self.mean_error(c, step);
        if self.noise > 0.0 {
            error = (error + self.noise * stateless_normal(curve.seed, u64::from(step))).clamp(0.0, 1.0);
        }
        if t >= c[slot::DIVERGE_AT] {
            error = match &self.divergence {
                Some(Divergence { mode: DivergenceMode::Explode, .. }) if t == c[slot::DIVERGE_AT] => 10.0 * self.worst,
                Some(Divergence { mode: DivergenceMode::Explode, .. }) => f64::INFINITY,
                _ => f64::NAN,
            };
        }
        for (out, output) in metrics.iter_mut().zip(&self.outputs) {
            *out = match output {
                SyntheticObjective::ValError => error,
                SyntheticObjective::TrainingTime if self.cost_power == 1.0 => t * c[slot::COST],
                SyntheticObjective::TrainingTime => self.grown_cost_until(curve, step),
                SyntheticObjective::Parameters => c[slot::SIZE],
            };
        }
        if self.cost_power == 1.0 { c[slot::COST] } else { self.grown_cost_until(curve, step) - self.grown_cost_until(curve, step - 1) }
    }

    /// Every step costs the same, unless `cost_power` says how the cost grows.
    fn cost_until(&self, curve: &TrialCurve, step: u32) -> f64 {
        if self.cost_power == 1.0 { f64::from(step) * curve.coefficients[slot::COST] } else { self.grown_cost_until(curve, step) }
    }

    fn best_known(&self) -> Option<&[f64]> {
        Some(&self.best_known)
    }

    fn supports_splice(&self) -> bool {
        false
    }

    fn overhead(&self) -> LaunchOverhead {
        self.overhead
    }

    fn hypervolume_reference(&self) -> Option<&[f64]> {
        (!self.reference.is_empty()).then_some(&self.reference)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hposim_core::Value;

    fn bench(spec: SyntheticSpec) -> Synthetic {
        Synthetic::new("t".into(), &spec).unwrap()
    }

    fn curve_of(b: &Synthetic, config: &Config) -> Vec<f64> {
        let curve = b.open(config, 9);
        let mut m = [0.0];
        (1..=b.fidelity().max)
            .map(|t| {
                b.step(&curve, t, &mut m);
                m[0]
            })
            .collect()
    }

    #[test]
    fn a_data_fidelity_costs_what_training_on_that_fraction_costs() {
        // cost_power = 2: reaching step k of T costs c·T·(k/T)² in all; the steps' own costs
        // add up to it, and the first step is the cheapest.
        let spec = SyntheticSpec {
            family: Family::PowerLaw,
            max_epochs: 64,
            cost_power: Some(2.0),
            unit: Some("data (1/64)".into()),
            objectives: Some(vec![SyntheticObjective::ValError, SyntheticObjective::TrainingTime]),
            ..SyntheticSpec::default()
        };
        let b = bench(spec);
        assert_eq!(b.fidelity().unit, "data (1/64)");
        let config = b.optimum();
        let curve = b.open(&config, 3);
        let per_step = curve.coefficients[slot::COST];
        let mut metrics = [0.0; 2];
        let mut total = 0.0;
        let mut costs = Vec::new();
        for k in 1..=64 {
            let cost = b.step(&curve, k, &mut metrics);
            total += cost;
            costs.push(cost);
            let expected = per_step * 64.0 * (f64::from(k) / 64.0).powi(2);
            assert!((total - expected).abs() < 1e-9 * expected, "step {k}");
            assert!((metrics[1] - expected).abs() < 1e-9 * expected, "training time at step {k}");
        }
        assert!(costs.windows(2).all(|w| w[0] < w[1]), "each step of data costs more");
        // The default stays one cost per step.
        let plain = bench(SyntheticSpec::default());
        let curve = plain.open(&config, 3);
        assert_eq!(plain.step(&curve, 5, &mut [0.0]), curve.coefficients[slot::COST]);
        let bad = Synthetic::new("t".into(), &SyntheticSpec { cost_power: Some(0.0), ..SyntheticSpec::default() });
        assert!(bad.unwrap_err().to_string().contains("cost_power"));
    }

    #[test]
    fn the_optimum_ends_exactly_on_best_error_and_others_end_above() {
        for family in [Family::Exponential, Family::PowerLaw, Family::Crossing] {
            let b = bench(SyntheticSpec { family, noise: 0.0, ..SyntheticSpec::default() });
            let best = curve_of(&b, &b.optimum());
            assert_eq!(best[99], 0.05, "{family:?}");
            let mut rng = Rng::seed_from_u64(3);
            for _ in 0..50 {
                let config = b.space().sample(&mut rng);
                let curve = curve_of(&b, &config);
                assert!(curve[99] >= 0.05 - 1e-12);
                assert_eq!(curve[99], b.final_error(&config));
                // Noise-free curves never rise.
                assert!(curve.windows(2).all(|w| w[1] <= w[0] + 1e-12), "{family:?}");
            }
        }
    }

    #[test]
    fn median_random_configuration_lands_where_asked() {
        let b = bench(SyntheticSpec { noise: 0.0, ..SyntheticSpec::default() });
        let mut rng = Rng::seed_from_u64(11);
        let mut finals: Vec<f64> = (0..2001).map(|_| b.final_error(&b.space().sample(&mut rng))).collect();
        finals.sort_by(f64::total_cmp);
        let median = finals[1000];
        // 0.05 + 0.35 · (0.9 − 0.05) = 0.3475, up to calibration sampling error.
        assert!((median - 0.3475).abs() < 0.03, "{median}");
    }

    #[test]
    fn crossing_curves_rank_early_against_final() {
        let b = bench(SyntheticSpec { family: Family::Crossing, noise: 0.0, ..SyntheticSpec::default() });
        let mut rng = Rng::seed_from_u64(5);
        let curves: Vec<Vec<f64>> = (0..300).map(|_| curve_of(&b, &b.space().sample(&mut rng))).collect();
        let spearman = |early: usize| {
            let rank = |values: Vec<f64>| {
                let mut idx: Vec<usize> = (0..values.len()).collect();
                idx.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
                let mut r = vec![0.0; values.len()];
                for (pos, i) in idx.into_iter().enumerate() {
                    r[i] = pos as f64;
                }
                r
            };
            let a = rank(curves.iter().map(|c| c[early]).collect());
            let z = rank(curves.iter().map(|c| c[99]).collect());
            let n = a.len() as f64;
            let d2: f64 = a.iter().zip(&z).map(|(x, y)| (x - y).powi(2)).sum();
            1.0 - 6.0 * d2 / (n * (n * n - 1.0))
        };
        // At epoch 10 the ranking is inverted (good configurations have barely started); by
        // epoch 90 it agrees with the final one.
        assert!(spearman(9) < 0.0, "{}", spearman(9));
        assert!(spearman(89) > 0.8, "{}", spearman(89));
        let plain = bench(SyntheticSpec { noise: 0.0, ..SyntheticSpec::default() });
        let mut rng = Rng::seed_from_u64(5);
        let plain_curves: Vec<Vec<f64>> = (0..300).map(|_| curve_of(&plain, &plain.space().sample(&mut rng))).collect();
        let early_best = (0..300).min_by(|&a, &b| plain_curves[a][9].total_cmp(&plain_curves[b][9])).unwrap();
        assert!(plain_curves[early_best][99] < 0.5, "exponential family: the early leader should end well");
    }

    #[test]
    fn cost_follows_width_and_batch_size() {
        let b = bench(SyntheticSpec::default());
        let mut config = b.optimum();
        let width = b.space().index_of("width").unwrap();
        let batch = b.space().index_of("batch_size").unwrap();
        let mut values = config.values().to_vec();
        values[width] = Value::Int(128);
        values[batch] = Value::Int(64);
        config = Config::new(values.clone());
        let base = b.open(&config, 0).coefficients[slot::COST];
        // 60 · (128/128)^1 · (64/sqrt(16·512))^-0.5 = 60 · (64/90.51)^-0.5 = 71.35...
        let expected = 60.0 * (64.0 / (16.0f64 * 512.0).sqrt()).powf(-0.5);
        assert!((base - expected).abs() < 1e-9, "{base} vs {expected}");
        values[width] = Value::Int(256);
        let doubled = b.open(&Config::new(values), 0).coefficients[slot::COST];
        assert!((doubled / base - 2.0).abs() < 1e-12);
    }

    #[test]
    fn divergence_hits_about_the_requested_fraction_and_spares_the_optimum() {
        for mode in [DivergenceMode::Nan, DivergenceMode::Explode] {
            let spec = SyntheticSpec { divergence: Some(DivergenceSpec { fraction: 0.2, mode }), ..SyntheticSpec::default() };
            let b = bench(spec);
            let mut rng = Rng::seed_from_u64(8);
            let mut diverged = 0;
            for _ in 0..1000 {
                let curve = curve_of(&b, &b.space().sample(&mut rng));
                if let Some(first) = curve.iter().position(|x| !x.is_finite()) {
                    diverged += 1;
                    if mode == DivergenceMode::Explode {
                        // One finite, exploded value first, then infinity.
                        assert_eq!(curve[first - 1], 9.0);
                        assert_eq!(curve[first], f64::INFINITY);
                    }
                }
            }
            assert!((120..=280).contains(&diverged), "{mode:?}: {diverged}");
            let best = curve_of(&b, &b.optimum());
            assert!(best.iter().all(|x| x.is_finite() && *x <= 1.0));
        }
    }

    #[test]
    fn bad_settings_name_their_key() {
        let cases = [
            (SyntheticSpec { max_epochs: 0, ..SyntheticSpec::default() }, "max_epochs: must lie in 1..=1000000, got 0"),
            (
                SyntheticSpec { cost_exponents: Some(BTreeMap::from([("width".to_owned(), 100.0)])), ..SyntheticSpec::default() },
                "cost_exponents.width: must be a number in [-8, 8], got 100",
            ),
            (SyntheticSpec { noise: -1.0, ..SyntheticSpec::default() }, "noise: must be a non-negative number, got -1"),
            (
                SyntheticSpec { cost_exponents: Some(BTreeMap::from([("depth".to_owned(), 1.0)])), ..SyntheticSpec::default() },
                "cost_exponents.depth: no parameter `depth` in the search space",
            ),
            (
                SyntheticSpec { cost_exponents: Some(BTreeMap::from([("optimizer".to_owned(), 1.0)])), ..SyntheticSpec::default() },
                "cost_exponents.optimizer: parameter `optimizer` must be a float, int or ordinal parameter with positive values",
            ),
        ];
        for (spec, expected) in cases {
            assert_eq!(Synthetic::new("t".into(), &spec).err().map(|e| e.to_string()).as_deref(), Some(expected));
        }
    }

    fn with_width(b: &Synthetic, config: &Config, width: i64) -> Config {
        let mut values = config.values().to_vec();
        values[b.space().index_of("width").unwrap()] = Value::Int(width);
        Config::new(values)
    }

    #[test]
    fn a_wider_network_ends_better_but_costs_more_and_is_larger() {
        use crate::trade_off::SyntheticObjective::{Parameters, TrainingTime, ValError};
        let spec = SyntheticSpec { objectives: Some(vec![ValError, TrainingTime, Parameters]), noise: 0.0, ..SyntheticSpec::default() };
        let b = bench(spec);
        let names: Vec<&str> = b.objectives().iter().map(|o| o.name.as_str()).collect();
        assert_eq!(names, ["val_error", "training_time", "parameters"]);
        let optimum = b.optimum();
        assert_eq!(optimum.get(b.space().index_of("width").unwrap()), Value::Int(1024), "capacity: the widest is best");
        // Along the width axis from the optimum: error falls, cost and size rise.
        let widths = [16, 64, 256, 1024];
        let finals: Vec<f64> = widths.iter().map(|&w| b.final_error(&with_width(&b, &optimum, w))).collect();
        assert!(finals.windows(2).all(|p| p[1] < p[0]), "{finals:?}");
        assert_eq!(finals[3], 0.05);
        let mut metrics = [0.0; 3];
        let narrow = b.open(&with_width(&b, &optimum, 64), 0);
        let cost = b.step(&narrow, 10, &mut metrics);
        // Cost per epoch 60 · (64/128) · (batch/√(16·512))^−0.5; 10 epochs; 10⁶ · (64/128)².
        assert!((metrics[1] - 10.0 * cost).abs() < 1e-9 && (metrics[2] - 250_000.0).abs() < 1e-6, "{metrics:?}");
        let wide = b.open(&with_width(&b, &optimum, 256), 0);
        assert!((b.step(&wide, 10, &mut metrics) / cost - 4.0).abs() < 1e-12);
        // Best known: best_error; 100 epochs at the cheapest cost, 6000 · (16/128) · (512/90.51)^−0.5;
        // the smallest size, 10⁶ · (16/128)². Reference: chance level, 1.1 × the largest.
        let centre = (16.0f64 * 512.0).sqrt();
        let cheapest = 6000.0 * 0.125 * (512.0 / centre).powf(-0.5);
        let dearest = 6000.0 * 8.0 * (16.0 / centre).powf(-0.5);
        let best = b.best_known().unwrap();
        assert!(best[0] == 0.05 && (best[1] - cheapest).abs() < 1e-9 && (best[2] - 15_625.0).abs() < 1e-6, "{best:?}");
        let reference = b.hypervolume_reference().unwrap();
        assert!(
            reference[0] == 0.9 && (reference[1] - 1.1 * dearest).abs() < 1e-6 && (reference[2] - 1.1 * 64e6).abs() < 1e-3,
            "{reference:?}"
        );
    }

    #[test]
    fn random_configurations_form_a_front_across_widths() {
        use crate::trade_off::SyntheticObjective::{TrainingTime, ValError};
        let b = bench(SyntheticSpec { objectives: Some(vec![ValError, TrainingTime]), noise: 0.0, ..SyntheticSpec::default() });
        let mut rng = Rng::seed_from_u64(4);
        let configs: Vec<Config> = (0..500).map(|_| b.space().sample(&mut rng)).collect();
        let points: Vec<Vec<f64>> = configs.iter().map(|c| vec![b.final_error(c), 100.0 * b.epoch_cost(c)]).collect();
        let front = hposim_core::pareto::non_dominated::non_dominated(&points);
        let width = b.space().index_of("width").unwrap();
        let widths: std::collections::BTreeSet<i64> =
            front.iter().filter_map(|&i| if let Value::Int(w) = configs[i].get(width) { Some(w) } else { None }).collect();
        assert!(front.len() >= 6, "a trade-off, not a single winner: {} points", front.len());
        assert!(widths.first() < Some(&64) && widths.last() > Some(&256), "{widths:?}");
    }

    #[test]
    fn one_objective_keeps_the_curves_of_before_bit_for_bit() {
        // Golden values from commit 2500d84, before the trade-off options existed (the same
        // probe run there): per instance the optimum, and for three configurations drawn with
        // seed 1 the bits of the final error, of the cost of step 5 and of its noisy error.
        /// Bits of (final error, cost of step 5, error at step 5).
        type Bits = (u64, u64, u64);
        let golden: [(u64, &str, [Bits; 3]); 2] = [
            (
                0,
                "[Float(0.016703702239406367), Int(270), Int(34), Float(0.5760523266567943), Choice(0), Choice(0), Inactive]",
                [
                    (4598187298329604672, 4619962235272498096, 4604798086628839290),
                    (4600023250726145471, 4627918935249963224, 4605365248158306346),
                    (4601281881856103202, 4623522767663739039, 4605456748531647469),
                ],
            ),
            (
                7,
                "[Float(0.09646778054279764), Int(361), Int(505), Float(0.14776258667816156), Choice(0), Choice(0), Inactive]",
                [
                    (4601149699393283886, 4619962235272498096, 4606142685162122769),
                    (4602316158654790577, 4627918935249963224, 4605305278426670548),
                    (4602660957524532357, 4623522767663739039, 4604986886121697673),
                ],
            ),
        ];
        for (instance, optimum, values) in golden {
            let b = bench(SyntheticSpec { instance, ..SyntheticSpec::default() });
            assert_eq!(format!("{:?}", b.optimum().values()), optimum);
            let mut rng = Rng::seed_from_u64(1);
            for expected in values {
                let config = b.space().sample(&mut rng);
                let curve = b.open(&config, 3);
                let mut m = [0.0];
                let cost = b.step(&curve, 5, &mut m);
                assert_eq!((b.final_error(&config).to_bits(), cost.to_bits(), m[0].to_bits()), expected, "instance {instance}");
            }
            assert!(b.hypervolume_reference().is_none());
        }
    }

    #[test]
    fn bad_objectives_name_their_key() {
        use crate::trade_off::SyntheticObjective::{Parameters, TrainingTime, ValError};
        let custom = Some(vec![hposim_core::ParamSpec::Int { name: "units".into(), low: 8, high: 64, log: true, condition: None }]);
        let cases = [
            (
                SyntheticSpec { objectives: Some(vec![TrainingTime]), ..SyntheticSpec::default() },
                "objectives: must include \"val_error\" (the learning curve)",
            ),
            (
                SyntheticSpec { objectives: Some(vec![ValError, ValError]), ..SyntheticSpec::default() },
                "objectives: \"val_error\" is listed twice",
            ),
            (
                SyntheticSpec { objectives: Some(vec![ValError, Parameters]), space: custom.clone(), ..SyntheticSpec::default() },
                "size_exponents: the `parameters` objective with a custom space needs size_exponents",
            ),
            (
                SyntheticSpec {
                    objectives: Some(vec![ValError, TrainingTime]),
                    capacity: Some(vec!["optimizer".into()]),
                    ..SyntheticSpec::default()
                },
                "capacity: parameter `optimizer` is categorical; capacity needs an ordered parameter",
            ),
            (
                SyntheticSpec {
                    objectives: Some(vec![ValError, TrainingTime]),
                    hypervolume_reference: Some(vec![1.0, 2.0, 3.0]),
                    ..SyntheticSpec::default()
                },
                "hypervolume_reference: needs one coordinate per objective (2: val_error, training_time), got 3",
            ),
        ];
        for (spec, expected) in cases {
            assert_eq!(Synthetic::new("t".into(), &spec).err().map(|e| e.to_string()).as_deref(), Some(expected));
        }
    }
}
