//! The ZDT test problems of Zitzler, Deb & Thiele, "Comparison of Multiobjective Evolutionary
//! Algorithms: Empirical Results", Evolutionary Computation 8(2), 2000 (problems T1–T3), with
//! a fidelity axis.
//!
//! With `x ∈ [0, 1]ⁿ` (`n = 30` in the paper), both objectives minimised:
//!
//! ```text
//! f₁ = x₁,   g = 1 + 9/(n − 1) · Σᵢ₌₂ⁿ xᵢ
//! ZDT1: f₂ = g · (1 − √(f₁/g))                       front: f₂ = 1 − √f₁ (convex)
//! ZDT2: f₂ = g · (1 − (f₁/g)²)                       front: f₂ = 1 − f₁² (concave)
//! ZDT3: f₂ = g · (1 − √(f₁/g) − (f₁/g)·sin(10π f₁))  front: disconnected
//! ```
//!
//! the fronts lying at `g = 1` (`x₂ … xₙ = 0`). Multi-fidelity: step `k` of `steps` is fidelity
//! `s = k/steps`, and a lower fidelity is biased upwards, `f₁(s) = f₁ + 0.1·(1 − s)` (entering
//! `f₂` through `f₁/g`) and `f₂(s) = f₂ + 0.5·(1 − s)`: the biases of the MF-ZDT1 problem of
//! multi-fidelity benchmark code built on `hpoglue`, here added to the paper's `f₂` with its
//! factor `g`; at `s = 1` these are the paper's problems. Optional Gaussian observation noise;
//! every step costs `seconds_per_step`. The best known values are the ideal point: `(0, 0)` for
//! ZDT1 and ZDT2, `(0, min f₂)` for ZDT3, whose `f₂` dips below zero (≈ −0.7733, found by a
//! grid search over the front when the benchmark is built); the usual hypervolume reference
//! point is `(11, 11)` (BoTorch).

use crate::{Benchmark, BenchmarkError, INLINE_COEFFICIENTS, TrialCurve, require_non_negative, require_positive};
use hposim_core::rng::stateless_normal;
use hposim_core::{Config, Fidelity, Objective, ParamSpec, SearchSpace, Value};
use serde::{Deserialize, Serialize};
use std::f64::consts::PI;

/// Which ZDT problem.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ZdtProblem {
    /// Convex front.
    #[default]
    Zdt1,
    /// Concave front.
    Zdt2,
    /// Disconnected front.
    Zdt3,
}

fn default_variables() -> u32 {
    30
}
fn default_steps() -> u32 {
    100
}
fn default_seconds() -> f64 {
    1.0
}

/// A `type = "zdt"` benchmark table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ZdtSpec {
    /// Display name (default `zdt`).
    #[serde(default)]
    pub name: Option<String>,
    /// `zdt1` (default), `zdt2` or `zdt3`.
    #[serde(default)]
    pub problem: ZdtProblem,
    /// Number of variables n ≥ 2 (default 30, the paper's).
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
pub struct Zdt {
    name: String,
    problem: ZdtProblem,
    space: SearchSpace,
    objectives: Vec<Objective>,
    fidelity: Fidelity,
    seconds_per_step: f64,
    noise: f64,
    best_known: [f64; 2],
    reference: [f64; 2],
}

/// Most variables.
pub const MAX_VARIABLES: u32 = 1000;

/// The objectives of `problem` at `x₁` and `g`, at fidelity `s ∈ (0, 1]`.
pub fn zdt(problem: ZdtProblem, x1: f64, g: f64, s: f64) -> [f64; 2] {
    let f1 = x1 + 0.1 * (1.0 - s);
    let r = f1 / g;
    let f2 = match problem {
        ZdtProblem::Zdt1 => g * (1.0 - r.sqrt()),
        ZdtProblem::Zdt2 => g * (1.0 - r * r),
        ZdtProblem::Zdt3 => g * (1.0 - r.sqrt() - r * (10.0 * PI * f1).sin()),
    };
    [f1, f2 + 0.5 * (1.0 - s)]
}

/// The minimum of `f₂` over the front (`g = 1`), by a grid of 100,001 points.
fn front_minimum(problem: ZdtProblem) -> f64 {
    (0..=100_000).map(|i| zdt(problem, f64::from(i) / 100_000.0, 1.0, 1.0)[1]).fold(f64::INFINITY, f64::min)
}

impl Zdt {
    /// Validates `spec`.
    pub fn new(name: String, spec: &ZdtSpec) -> Result<Self, BenchmarkError> {
        if !(2..=MAX_VARIABLES).contains(&spec.variables) {
            return Err(BenchmarkError::invalid("variables", format!("must lie in 2..={MAX_VARIABLES}, got {}", spec.variables)));
        }
        crate::require_steps("steps", spec.steps)?;
        require_positive("seconds_per_step", spec.seconds_per_step)?;
        require_non_negative("noise", spec.noise)?;
        let params: Vec<ParamSpec> = (1..=spec.variables)
            .map(|i| ParamSpec::Float { name: format!("x{i}"), low: 0.0, high: 1.0, log: false, condition: None })
            .collect();
        Ok(Self {
            name,
            problem: spec.problem,
            space: SearchSpace::new(&params)?,
            objectives: vec![Objective::minimize("f1"), Objective::minimize("f2")],
            fidelity: Fidelity { min: 1, max: spec.steps, unit: "fidelity_step".into() },
            seconds_per_step: spec.seconds_per_step,
            noise: spec.noise,
            best_known: [0.0, front_minimum(spec.problem)],
            reference: [11.0, 11.0],
        })
    }
}

impl Benchmark for Zdt {
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
    /// The curve holds `x₁` and `g`.
    fn open(&self, config: &Config, seed: u64) -> TrialCurve {
        let x = |v: &Value| if let Value::Float(x) = v { *x } else { 0.0 };
        let values = config.values();
        let rest: f64 = values.iter().skip(1).map(x).sum();
        let n = values.len().max(2) as f64;
        let mut c = [0.0; INLINE_COEFFICIENTS];
        c[0] = values.first().map_or(0.0, x);
        c[1] = 1.0 + 9.0 / (n - 1.0) * rest;
        TrialCurve::new(c, seed)
    }
    fn step(&self, curve: &TrialCurve, step: u32, metrics: &mut [f64]) -> f64 {
        let s = f64::from(step) / f64::from(self.fidelity.max);
        let values = zdt(self.problem, curve.coefficients[0], curve.coefficients[1], s);
        for (i, (m, v)) in metrics.iter_mut().zip(values).enumerate() {
            *m = v + if self.noise > 0.0 { self.noise * stateless_normal(curve.seed, 2 * u64::from(step) + i as u64) } else { 0.0 };
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
    /// BoTorch's `(11, 11)`.
    fn hypervolume_reference(&self) -> Option<&[f64]> {
        Some(&self.reference)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_fidelity_values_lie_on_the_published_fronts() {
        for f1 in [0.0, 0.25, 0.5, 1.0] {
            let [a, b] = zdt(ZdtProblem::Zdt1, f1, 1.0, 1.0);
            assert_eq!(a, f1);
            assert!((b - (1.0 - f1.sqrt())).abs() < 1e-15);
            let [_, b] = zdt(ZdtProblem::Zdt2, f1, 1.0, 1.0);
            assert!((b - (1.0 - f1 * f1)).abs() < 1e-15);
        }
        // ZDT3 at f₁ = 0.05: 1 − √0.05 − 0.05·sin(0.5π) = 0.726393…
        let [_, b] = zdt(ZdtProblem::Zdt3, 0.05, 1.0, 1.0);
        assert!((b - (1.0 - 0.05f64.sqrt() - 0.05)).abs() < 1e-12, "{b}");
        // ZDT3's front reaches f₂ ≈ −0.7733 (f₁ ≈ 0.852); ZDT1's minimum is 0 at f₁ = 1.
        assert!((front_minimum(ZdtProblem::Zdt3) + 0.7733).abs() < 1e-3, "{}", front_minimum(ZdtProblem::Zdt3));
        assert_eq!(front_minimum(ZdtProblem::Zdt1), 0.0);
        // Off the front, g = 1 + 9·0.5 = 5.5 (n = 2, x₂ = 0.5): f₂ = 5.5·(1 − √(0.5/5.5)).
        let bench = Zdt::new(
            "z".into(),
            &ZdtSpec { name: None, problem: ZdtProblem::Zdt1, variables: 2, steps: 10, seconds_per_step: 1.0, noise: 0.0 },
        )
        .unwrap();
        let curve = bench.open(&Config::new(vec![Value::Float(0.5), Value::Float(0.5)]), 0);
        let mut m = [0.0; 2];
        bench.step(&curve, 10, &mut m);
        assert!((m[1] - 5.5 * (1.0 - (0.5f64 / 5.5).sqrt())).abs() < 1e-12, "{m:?}");
        // Half fidelity: f₁ + 0.05, and f₂ from the biased f₁ plus 0.25.
        bench.step(&curve, 5, &mut m);
        assert!((m[0] - 0.55).abs() < 1e-12 && (m[1] - (5.5 * (1.0 - (0.55f64 / 5.5).sqrt()) + 0.25)).abs() < 1e-12, "{m:?}");
    }
}
