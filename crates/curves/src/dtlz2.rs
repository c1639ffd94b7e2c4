//! DTLZ2 of Deb, Thiele, Laumanns & Zitzler, "Scalable Test Problems for Evolutionary
//! Multiobjective Optimization" (TIK report 112, 2001; in *Evolutionary Multiobjective
//! Optimization*, Springer 2005), with a fidelity axis.
//!
//! With `m` objectives and `x ∈ [0, 1]ⁿ` (`n = m + k − 1`), all minimised:
//!
//! ```text
//! g  = Σᵢ₌ₘⁿ (xᵢ − 0.5)²
//! f₁ = (1 + g) · cos(x₁π/2) ⋯ cos(x_{m−1}π/2)
//! fⱼ = (1 + g) · cos(x₁π/2) ⋯ cos(x_{m−j}π/2) · sin(x_{m−j+1}π/2),   j = 2 … m
//! ```
//!
//! The Pareto front is the part of the unit sphere in the positive orthant (`g = 0`, the last
//! `k` variables at 0.5); with the reference point `1.1` in every objective (BoTorch's) its
//! hypervolume is `1.1ᵐ − πᵐ/²/(Γ(m/2 + 1)·2ᵐ)`. Defaults: `m = 2` objectives and 10 variables
//! (pymoo's `n_var`). Multi-fidelity: at fidelity `s = k/steps` the distance term is inflated,
//! `1 + g + 0.2·(1 − s)`, so low fidelities see the same trade-off further from the front.
//! Optional Gaussian noise; every step costs `seconds_per_step`.

use crate::{Benchmark, BenchmarkError, INLINE_COEFFICIENTS, TrialCurve, require_non_negative, require_positive};
use hposim_core::rng::stateless_normal;
use hposim_core::{Config, Fidelity, Objective, ParamSpec, SearchSpace, Value};
use serde::{Deserialize, Serialize};
use std::f64::consts::FRAC_PI_2;

fn default_objectives() -> u32 {
    2
}
fn default_variables() -> u32 {
    10
}
fn default_steps() -> u32 {
    100
}
fn default_seconds() -> f64 {
    1.0
}

/// Most objectives (a trial's curve holds the angles inline).
pub const MAX_OBJECTIVES: u32 = 6;

/// A `type = "dtlz2"` benchmark table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Dtlz2Spec {
    /// Display name (default `dtlz2`).
    #[serde(default)]
    pub name: Option<String>,
    /// Number of objectives m in 2..=6 (default 2).
    #[serde(default = "default_objectives")]
    pub objectives: u32,
    /// Number of variables n ≥ m (default 10).
    #[serde(default = "default_variables")]
    pub variables: u32,
    /// Fidelity steps (default 100).
    #[serde(default = "default_steps")]
    pub steps: u32,
    /// Simulated seconds per step (default 1).
    #[serde(default = "default_seconds")]
    pub seconds_per_step: f64,
    /// Standard deviation of Gaussian observation noise on each objective (default 0).
    #[serde(default)]
    pub noise: f64,
}

/// The benchmark.
#[derive(Debug)]
pub struct Dtlz2 {
    name: String,
    space: SearchSpace,
    objectives: Vec<Objective>,
    fidelity: Fidelity,
    seconds_per_step: f64,
    noise: f64,
    best_known: Vec<f64>,
    reference: Vec<f64>,
}

/// The objectives at position angles `x[..m−1]` (in `[0, 1]`) and distance term `g`, into `out`
/// (`m` values).
pub fn dtlz2(x: &[f64], g: f64, out: &mut [f64]) {
    let m = out.len();
    for (j, f) in out.iter_mut().enumerate() {
        // Objective j+1 takes cos over the first m−1−j angles and sin of the next one.
        let cosines = m - 1 - j;
        let mut value = 1.0 + g;
        for &xi in &x[..cosines] {
            value *= (xi * FRAC_PI_2).cos();
        }
        if j > 0 {
            value *= (x[cosines] * FRAC_PI_2).sin();
        }
        *f = value;
    }
}

impl Dtlz2 {
    /// Validates `spec`.
    pub fn new(name: String, spec: &Dtlz2Spec) -> Result<Self, BenchmarkError> {
        if !(2..=MAX_OBJECTIVES).contains(&spec.objectives) {
            return Err(BenchmarkError::invalid("objectives", format!("must lie in 2..={MAX_OBJECTIVES}, got {}", spec.objectives)));
        }
        if spec.variables < spec.objectives || spec.variables > crate::zdt::MAX_VARIABLES {
            return Err(BenchmarkError::invalid(
                "variables",
                format!(
                    "must lie in {}..={} (at least the number of objectives), got {}",
                    spec.objectives,
                    crate::zdt::MAX_VARIABLES,
                    spec.variables
                ),
            ));
        }
        crate::require_steps("steps", spec.steps)?;
        require_positive("seconds_per_step", spec.seconds_per_step)?;
        require_non_negative("noise", spec.noise)?;
        let params: Vec<ParamSpec> = (1..=spec.variables)
            .map(|i| ParamSpec::Float { name: format!("x{i}"), low: 0.0, high: 1.0, log: false, condition: None })
            .collect();
        Ok(Self {
            name,
            space: SearchSpace::new(&params)?,
            objectives: (1..=spec.objectives).map(|j| Objective::minimize(&format!("f{j}"))).collect(),
            fidelity: Fidelity { min: 1, max: spec.steps, unit: "fidelity_step".into() },
            seconds_per_step: spec.seconds_per_step,
            noise: spec.noise,
            best_known: vec![0.0; spec.objectives as usize],
            reference: vec![1.1; spec.objectives as usize],
        })
    }
}

impl Benchmark for Dtlz2 {
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
    /// The curve holds `g` and the `m − 1` position variables.
    fn open(&self, config: &Config, seed: u64) -> TrialCurve {
        let m = self.objectives.len();
        let x: Vec<f64> = config.values().iter().map(|v| if let Value::Float(x) = v { *x } else { 0.5 }).collect();
        let mut c = [0.0; INLINE_COEFFICIENTS];
        c[0] = x[m - 1..].iter().map(|xi| (xi - 0.5) * (xi - 0.5)).sum();
        c[1..m].copy_from_slice(&x[..m - 1]);
        TrialCurve::new(c, seed)
    }
    fn step(&self, curve: &TrialCurve, step: u32, metrics: &mut [f64]) -> f64 {
        let m = self.objectives.len();
        let s = f64::from(step) / f64::from(self.fidelity.max);
        let g = curve.coefficients[0] + 0.2 * (1.0 - s);
        dtlz2(&curve.coefficients[1..m], g, &mut metrics[..m]);
        if self.noise > 0.0 {
            for (i, value) in metrics.iter_mut().enumerate() {
                *value += self.noise * stateless_normal(curve.seed, (m as u64) * u64::from(step) + i as u64);
            }
        }
        self.seconds_per_step
    }
    fn cost_until(&self, _curve: &TrialCurve, step: u32) -> f64 {
        f64::from(step) * self.seconds_per_step
    }
    fn best_known(&self) -> Option<&[f64]> {
        Some(&self.best_known)
    }

    fn supports_splice(&self) -> bool {
        false
    }
    /// BoTorch's 1.1 in every objective.
    fn hypervolume_reference(&self) -> Option<&[f64]> {
        Some(&self.reference)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_front_is_the_unit_sphere_and_g_scales_it() {
        let mut f = [0.0; 3];
        // x = (1/3, 1/2) on the front: (cos 30° cos 45°, cos 30° sin 45°, sin 30°).
        dtlz2(&[1.0 / 3.0, 0.5], 0.0, &mut f);
        let s2 = 0.5f64.sqrt();
        let expected = [3f64.sqrt() / 2.0 * s2, 3f64.sqrt() / 2.0 * s2, 0.5];
        for (a, b) in f.iter().zip(expected) {
            assert!((a - b).abs() < 1e-12, "{f:?}");
        }
        assert!((f.iter().map(|v| v * v).sum::<f64>() - 1.0).abs() < 1e-12);
        // Off the front the point is pushed out by 1 + g.
        let bench =
            Dtlz2::new("d".into(), &Dtlz2Spec { name: None, objectives: 2, variables: 3, steps: 10, seconds_per_step: 1.0, noise: 0.0 })
                .unwrap();
        let curve = bench.open(&Config::new(vec![Value::Float(0.0), Value::Float(1.0), Value::Float(0.5)]), 0);
        let mut m = [0.0; 2];
        bench.step(&curve, 10, &mut m);
        assert!((m[0] - 1.25).abs() < 1e-12 && m[1].abs() < 1e-12, "{m:?}");
        bench.step(&curve, 5, &mut m);
        assert!((m[0] - 1.35).abs() < 1e-12, "{m:?}");
    }
}
