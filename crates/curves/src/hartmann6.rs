//! Multi-fidelity Hartmann-6, from Kandasamy et al., "Multi-fidelity Bayesian Optimisation with
//! Continuous Approximations" (BOCA), ICML 2017, appendix on synthetic experiments, as in the
//! authors' Dragonfly library (`dragonfly/utils/euclidean_synthetic_functions.py`,
//! `get_mf_hartmann_function_data`).
//!
//! With fidelity `z ∈ [0, 1]⁴` (1 is the target) and `x ∈ [0, 1]⁶`, *maximise*
//!
//! ```text
//! f(z, x) = Σᵢ αᵢ(z) exp(−Σⱼ Aᵢⱼ (xⱼ − Pᵢⱼ)²),   αᵢ(z) = αᵢ − 0.1 (1 − zᵢ),   α = (1, 1.2, 3, 3.2)
//! ```
//!
//! with the standard Hartmann-6 matrices `A` and `P` (below). At `z = 1` the maximum is
//! 3.322368 at `x* = (0.20169, 0.150011, 0.476874, 0.275332, 0.311652, 0.6573)`.
//! The cost `λ(z) = 0.05 + 0.95 z₁³ z₂² z₃^1.5 z₄` follows the reimplementation of BOCA's
//! setting in third-party multi-fidelity suites; Dragonfly's own examples use
//! `0.1 + 0.9 (z₁³ + z₂² + z₃^1.6 + z₄^1.2) / 4`.
//!
//! As for [`crate::branin`], step `k` of `steps` is `z = (k/steps)·(1, 1, 1, 1)` and each step
//! pays the increase of `λ`, so reaching step `k` costs `λ(z_k)` in total.

use crate::{
    Benchmark, BenchmarkError, INLINE_COEFFICIENTS, TrialCurve, cumulative_step_cost, float_values, require_non_negative, require_positive,
};
use hposim_core::rng::stateless_normal;
use hposim_core::{Config, Fidelity, Objective, ParamSpec, SearchSpace};
use serde::{Deserialize, Serialize};

const ALPHA: [f64; 4] = [1.0, 1.2, 3.0, 3.2];
const A: [[f64; 6]; 4] = [
    [10.0, 3.0, 17.0, 3.5, 1.7, 8.0],
    [0.05, 10.0, 17.0, 0.1, 8.0, 14.0],
    [3.0, 3.5, 1.7, 10.0, 17.0, 8.0],
    [17.0, 8.0, 0.05, 10.0, 0.1, 14.0],
];
const P: [[f64; 6]; 4] = [
    [0.1312, 0.1696, 0.5569, 0.0124, 0.8283, 0.5886],
    [0.2329, 0.4135, 0.8307, 0.3736, 0.1004, 0.9991],
    [0.2348, 0.1451, 0.3522, 0.2883, 0.3047, 0.6650],
    [0.4047, 0.8828, 0.8732, 0.5743, 0.1091, 0.0381],
];
/// The maximum at the target fidelity.
pub const HARTMANN6_MAX: f64 = 3.322368011391339;

fn default_steps() -> u32 {
    100
}
fn default_cost_scale() -> f64 {
    1.0
}

/// A `type = "hartmann6"` benchmark table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Hartmann6Spec {
    /// Display name (default `hartmann6`).
    #[serde(default)]
    pub name: Option<String>,
    /// Fidelity steps from the lowest to the target fidelity (default 100).
    #[serde(default = "default_steps")]
    pub steps: u32,
    /// Seconds per unit of the cost function λ (default 1).
    #[serde(default = "default_cost_scale")]
    pub cost_scale: f64,
    /// Standard deviation of Gaussian observation noise (default 0).
    #[serde(default)]
    pub noise: f64,
}

/// The multi-fidelity Hartmann-6 function at fidelity `z` (all four coordinates equal).
pub fn hartmann6(z: f64, x: &[f64; 6]) -> f64 {
    let mut total = 0.0;
    for i in 0..4 {
        let exponent: f64 = (0..6).map(|j| A[i][j] * (x[j] - P[i][j]).powi(2)).sum();
        total += (ALPHA[i] - 0.1 * (1.0 - z)) * (-exponent).exp();
    }
    total
}

/// The cost `λ(z) = 0.05 + 0.95 z₁³ z₂² z₃^1.5 z₄` on the diagonal.
pub fn hartmann6_cost(z: f64) -> f64 {
    0.05 + 0.95 * z.powf(7.5)
}

/// The benchmark.
#[derive(Debug)]
pub struct Hartmann6 {
    name: String,
    space: SearchSpace,
    objectives: Vec<Objective>,
    fidelity: Fidelity,
    cost_scale: f64,
    noise: f64,
    best_known: [f64; 1],
}

impl Hartmann6 {
    /// Validates `spec`.
    pub fn new(name: String, spec: &Hartmann6Spec) -> Result<Self, BenchmarkError> {
        crate::require_steps("steps", spec.steps)?;
        require_positive("cost_scale", spec.cost_scale)?;
        require_non_negative("noise", spec.noise)?;
        let params: Vec<ParamSpec> =
            (1..=6).map(|j| ParamSpec::Float { name: format!("x{j}"), low: 0.0, high: 1.0, log: false, condition: None }).collect();
        Ok(Self {
            name,
            space: SearchSpace::new(&params)?,
            objectives: vec![Objective::maximize("value")],
            fidelity: Fidelity { min: 1, max: spec.steps, unit: "fidelity_step".into() },
            cost_scale: spec.cost_scale,
            noise: spec.noise,
            best_known: [HARTMANN6_MAX],
        })
    }
}

impl Benchmark for Hartmann6 {
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
        let x = float_values::<6>(config);
        let mut c = [0.0; INLINE_COEFFICIENTS];
        c[..6].copy_from_slice(&x);
        TrialCurve::new(c, seed)
    }
    fn step(&self, curve: &TrialCurve, step: u32, metrics: &mut [f64]) -> f64 {
        let steps = f64::from(self.fidelity.max);
        let z = f64::from(step) / steps;
        let mut x = [0.0; 6];
        x.copy_from_slice(&curve.coefficients[..6]);
        let mut value = hartmann6(z, &x);
        if self.noise > 0.0 {
            value += self.noise * stateless_normal(curve.seed, u64::from(step));
        }
        metrics[0] = value;
        cumulative_step_cost(hartmann6_cost, step, self.fidelity.max, self.cost_scale)
    }

    /// The step costs telescope to the cost of reaching fidelity `step / steps`.
    fn cost_until(&self, _curve: &TrialCurve, step: u32) -> f64 {
        if step == 0 { 0.0 } else { self.cost_scale * hartmann6_cost(f64::from(step) / f64::from(self.fidelity.max)) }
    }
    fn best_known(&self) -> Option<&[f64]> {
        Some(&self.best_known)
    }

    fn supports_splice(&self) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn published_maximum_at_target_fidelity() {
        let x = [0.20169, 0.150011, 0.476874, 0.275332, 0.311652, 0.6573];
        assert!((hartmann6(1.0, &x) - HARTMANN6_MAX).abs() < 1e-5, "{}", hartmann6(1.0, &x));
        // Lower fidelity lowers every α by 0.1·(1 − z): at z = 0 the value drops by
        // 0.1 · Σᵢ exp(−Σⱼ Aᵢⱼ (xⱼ − Pᵢⱼ)²).
        let weights: f64 = (0..4).map(|i| (-(0..6).map(|j| A[i][j] * (x[j] - P[i][j]).powi(2)).sum::<f64>()).exp()).sum();
        assert!((hartmann6(0.0, &x) - (hartmann6(1.0, &x) - 0.1 * weights)).abs() < 1e-12);
    }

    #[test]
    fn random_points_stay_below_the_maximum() {
        use hposim_core::Rng;
        use rand::SeedableRng;
        let h = Hartmann6::new("h".into(), &Hartmann6Spec { name: None, steps: 4, cost_scale: 1.0, noise: 0.0 }).unwrap();
        let mut rng = Rng::seed_from_u64(1);
        let mut m = [0.0];
        for _ in 0..500 {
            let curve = h.open(&h.space().sample(&mut rng), 0);
            h.step(&curve, 4, &mut m);
            assert!(m[0] <= HARTMANN6_MAX && m[0] >= 0.0);
        }
    }
}
