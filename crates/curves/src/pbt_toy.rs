//! The toy problem of population-based training: Jaderberg et al., "Population Based Training
//! of Neural Networks", arXiv:1711.09846 (2017), Figure 2.
//!
//! Maximise `Q(θ) = 1.2 − (θ₀² + θ₁²)` while training only sees the surrogate
//! `Q̂(θ | h) = 1.2 − (h₀θ₀² + h₁θ₁²)`: each step is one gradient-ascent step on `Q̂`,
//!
//! ```text
//! θᵢ ← θᵢ + α ∂Q̂/∂θᵢ = θᵢ (1 − 2α hᵢ),   so after k steps with fixed h: θᵢ(k) = θᵢ(0) (1 − 2α hᵢ)^k,
//! ```
//!
//! and the reported metric is the true `Q`. The hyperparameters `h = (h₀, h₁) ∈ [0, 1]²` decide
//! which coordinates are trained; the paper's two workers start at `θ = (0.9, 0.9)` with
//! `h = (1, 0)` and `(0, 1)`, so neither reaches the optimum `Q = 1.2` on its own (each stalls
//! at `1.2 − 0.81 = 0.39`), while exploit (copy the better `θ` and `h`) and explore (perturb `h`)
//! together reach it. The defaults follow the public reproductions of the figure
//! (`nmichlo/bandit-pbt`, `pbt_paper_toy_example.py`): `α = 0.01`, 200 steps, a ready check
//! every 4 steps and explore by Gaussian noise of standard deviation 0.1 on `h` (clipped to
//! `[0, 1]`), the last two being settings of the scheduler (`perturbation_interval = 4`,
//! `explore = "noise"`, `noise_std = 0.1`).
//!
//! Because `θ` is training state, the benchmark supports changing `h` mid-training
//! ([`Benchmark::splice`]) exactly: the new segment starts from `θ` at the copied step.

use crate::segments::{segment_for, splice};
use crate::{Benchmark, BenchmarkError, INLINE_COEFFICIENTS, TrialCurve, float_values, require_positive};
use hposim_core::{Config, Fidelity, Objective, ParamSpec, SearchSpace};
use serde::{Deserialize, Serialize};

/// Numbers per segment: `[start, θ₀, θ₁, h₀, h₁]`.
const WIDTH: usize = 5;

fn default_steps() -> u32 {
    200
}
fn default_learning_rate() -> f64 {
    0.01
}
fn default_theta() -> [f64; 2] {
    [0.9, 0.9]
}
fn default_seconds() -> f64 {
    1.0
}

/// A `type = "pbt_toy"` benchmark table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PbtToySpec {
    /// Display name (default `pbt_toy`).
    #[serde(default)]
    pub name: Option<String>,
    /// Gradient steps of a full run (default 200).
    #[serde(default = "default_steps")]
    pub steps: u32,
    /// Gradient-ascent step size α (default 0.01); `2α hᵢ` must stay below 1.
    #[serde(default = "default_learning_rate")]
    pub learning_rate: f64,
    /// Initial `θ` (default `[0.9, 0.9]`).
    #[serde(default = "default_theta")]
    pub initial_theta: [f64; 2],
    /// Simulated seconds per step (default 1).
    #[serde(default = "default_seconds")]
    pub seconds_per_step: f64,
}

/// The benchmark.
#[derive(Debug)]
pub struct PbtToy {
    name: String,
    space: SearchSpace,
    objectives: Vec<Objective>,
    fidelity: Fidelity,
    learning_rate: f64,
    initial_theta: [f64; 2],
    seconds_per_step: f64,
    best_known: [f64; 1],
}

/// The true objective `Q(θ)`.
pub fn q(theta: [f64; 2]) -> f64 {
    1.2 - (theta[0] * theta[0] + theta[1] * theta[1])
}

impl PbtToy {
    /// Validates `spec`.
    pub fn new(name: String, spec: &PbtToySpec) -> Result<Self, BenchmarkError> {
        crate::require_steps("steps", spec.steps)?;
        require_positive("learning_rate", spec.learning_rate)?;
        if 2.0 * spec.learning_rate >= 1.0 {
            return Err(BenchmarkError::invalid(
                "learning_rate",
                format!("must be below 0.5 so that a step never overshoots, got {}", spec.learning_rate),
            ));
        }
        if !spec.initial_theta.iter().all(|t| t.is_finite()) {
            return Err(BenchmarkError::invalid("initial_theta", "must be finite"));
        }
        require_positive("seconds_per_step", spec.seconds_per_step)?;
        let unit = |name: &str| ParamSpec::Float { name: name.into(), low: 0.0, high: 1.0, log: false, condition: None };
        Ok(Self {
            name,
            space: SearchSpace::new(&[unit("h0"), unit("h1")])?,
            objectives: vec![Objective::maximize("q")],
            fidelity: Fidelity { min: 1, max: spec.steps, unit: "step".into() },
            learning_rate: spec.learning_rate,
            initial_theta: spec.initial_theta,
            seconds_per_step: spec.seconds_per_step,
            best_known: [1.2],
        })
    }

    /// `θ` after `step` steps, from the segment covering it.
    fn theta_at(&self, segment: &[f64], step: u32) -> [f64; 2] {
        let k = (f64::from(step) - segment[0]).max(0.0) as i32;
        [0, 1].map(|i| segment[1 + i] * (1.0 - 2.0 * self.learning_rate * segment[3 + i]).powi(k))
    }

    fn segment(start: u32, theta: [f64; 2], config: &Config) -> [f64; INLINE_COEFFICIENTS] {
        let [h0, h1] = float_values::<2>(config);
        let mut c = [0.0; INLINE_COEFFICIENTS];
        c[..WIDTH].copy_from_slice(&[f64::from(start), theta[0], theta[1], h0, h1]);
        c
    }
}

impl Benchmark for PbtToy {
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
        TrialCurve::new(Self::segment(0, self.initial_theta, config), seed)
    }
    fn step(&self, curve: &TrialCurve, step: u32, metrics: &mut [f64]) -> f64 {
        metrics[0] = q(self.theta_at(segment_for(curve, WIDTH, step), step));
        self.seconds_per_step
    }
    fn cost_until(&self, _curve: &TrialCurve, step: u32) -> f64 {
        f64::from(step) * self.seconds_per_step
    }
    fn best_known(&self) -> Option<&[f64]> {
        Some(&self.best_known)
    }
    fn supports_splice(&self) -> bool {
        true
    }
    /// Exact: training continues from `θ` after `step` under the new `h`.
    fn splice(&self, curve: &TrialCurve, config: &Config, step: u32, seed: u64) -> Option<TrialCurve> {
        let theta = self.theta_at(segment_for(curve, WIDTH, step), step);
        Some(splice(curve, WIDTH, step, Self::segment(step, theta, config), seed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hposim_core::Value;

    fn toy() -> PbtToy {
        PbtToy::new(
            "t".into(),
            &PbtToySpec { name: None, steps: 200, learning_rate: 0.01, initial_theta: [0.9, 0.9], seconds_per_step: 1.0 },
        )
        .unwrap()
    }
    fn h(h0: f64, h1: f64) -> Config {
        Config::new(vec![Value::Float(h0), Value::Float(h1)])
    }

    #[test]
    fn a_fixed_h_trains_only_its_coordinates_by_hand_derived_steps() {
        let toy = toy();
        let mut m = [0.0];
        // h = (1, 0): θ₀ = 0.9·0.98^k, θ₁ stays 0.9. After 1 step: 1.2 − 0.882² − 0.81.
        let curve = toy.open(&h(1.0, 0.0), 0);
        toy.step(&curve, 1, &mut m);
        assert!((m[0] - (1.2 - 0.882f64.powi(2) - 0.81)).abs() < 1e-12, "{}", m[0]);
        toy.step(&curve, 200, &mut m);
        assert!((m[0] - (1.2 - (0.9 * 0.98f64.powi(200)).powi(2) - 0.81)).abs() < 1e-12);
        assert!(m[0] < 0.39 + 1e-3, "a single worker stalls near 0.39: {}", m[0]);
    }

    #[test]
    fn splicing_carries_theta_over_and_trains_the_other_coordinate() {
        let toy = toy();
        let mut m = [0.0];
        let first = toy.open(&h(1.0, 0.0), 0);
        let second = toy.splice(&first, &h(0.0, 1.0), 10, 0).unwrap();
        let theta0 = 0.9 * 0.98f64.powi(10);
        // Steps up to the splice replay the first segment; after it θ₀ is frozen, θ₁ decays.
        toy.step(&second, 10, &mut m);
        assert!((m[0] - (1.2 - theta0 * theta0 - 0.81)).abs() < 1e-12);
        toy.step(&second, 15, &mut m);
        assert!((m[0] - (1.2 - theta0 * theta0 - (0.9 * 0.98f64.powi(5)).powi(2))).abs() < 1e-12);
    }
}
