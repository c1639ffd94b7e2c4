//! Training dynamics under a changing learning rate: a synthetic benchmark whose training state
//! (the loss reached so far) carries across changes of hyperparameters, so that a schedule
//! found by population-based training can beat every fixed learning rate.
//!
//! The model is the textbook picture of SGD with a constant step size (e.g. Bottou, Curtis &
//! Nocedal, "Optimization Methods for Large-Scale Machine Learning", SIAM Review 2018, Theorem
//! 4.6): the expected loss decays linearly (geometrically) towards a noise floor that grows with
//! the step size, at a rate that also grows with it, and a step size above the stable range
//! makes the loss rise. With the effective learning rate `e = learning_rate / (1 − momentum)`
//! and `u = e / e_c` (`e_c = 0.5`, the edge of stability), one epoch at `u` moves the
//! validation error `L` as
//!
//! ```text
//! L ← T(u) + (L − T(u)) · exp(−ρ(u))
//! T(u) = min(0.95, 0.05 + 0.4·u + 1.0·max(u − 1, 0))     (noise floor; rises above the edge)
//! ρ(u) = 0.5 · min(u, 1)                                  (rate per epoch)
//! ```
//!
//! from `L = 0.9` at the start (an untrained ten-class model). With a fixed rate, a high `u`
//! converges fast to a high floor and a low `u` slowly to a low one; the best fixed rate over
//! 100 epochs ends near 0.095, while decaying the rate during training reaches about 0.081. The
//! best known value is what the best schedule reaches at full fidelity: because the next error
//! increases with the current one for every `u`, choosing at each epoch the `u` that minimises
//! the next error is optimal (dynamic programming), and `T + (L − T)e^{−ρ}` is unimodal in `u`,
//! so each epoch's choice is found by golden-section search. Observations add Gaussian noise
//! (`noise`, default 0.005) and are clipped to `[0, 1]`; each epoch costs `seconds_per_epoch`.
//!
//! Changing hyperparameters mid-training ([`Benchmark::splice`]) is exact: the new segment
//! starts from the error reached at the copied epoch.

use crate::segments::{segment_for, splice};
use crate::{Benchmark, BenchmarkError, INLINE_COEFFICIENTS, TrialCurve, float_values, require_non_negative, require_positive};
use hposim_core::rng::stateless_normal;
use hposim_core::{Config, Fidelity, Objective, ParamSpec, SearchSpace};
use serde::{Deserialize, Serialize};

/// Numbers per segment: `[start, L at start, T(u), ρ(u)]`.
const WIDTH: usize = 4;
/// Error of an untrained model.
pub const INITIAL_ERROR: f64 = 0.9;
/// The edge of stability `e_c` of the effective learning rate.
pub const CRITICAL_LEARNING_RATE: f64 = 0.5;
/// Most epochs (the best schedule is searched epoch by epoch when the benchmark is built).
pub const MAX_EPOCHS: u32 = 100_000;
const LEARNING_RATE: (f64, f64) = (1e-4, 1.0);
const MOMENTUM: (f64, f64) = (0.0, 0.95);

fn default_epochs() -> u32 {
    100
}
fn default_seconds() -> f64 {
    60.0
}
fn default_noise() -> f64 {
    0.005
}

/// A `type = "training_dynamics"` benchmark table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainingDynamicsSpec {
    /// Display name (default `training_dynamics`).
    #[serde(default)]
    pub name: Option<String>,
    /// Epochs of a full run (default 100).
    #[serde(default = "default_epochs")]
    pub epochs: u32,
    /// Simulated seconds per epoch (default 60).
    #[serde(default = "default_seconds")]
    pub seconds_per_epoch: f64,
    /// Standard deviation of the observation noise (default 0.005).
    #[serde(default = "default_noise")]
    pub noise: f64,
}

/// The benchmark.
#[derive(Debug)]
pub struct TrainingDynamics {
    name: String,
    space: SearchSpace,
    objectives: Vec<Objective>,
    fidelity: Fidelity,
    seconds_per_epoch: f64,
    noise: f64,
    best_known: [f64; 1],
}

/// The noise floor `T(u)` and the rate `ρ(u)` of one epoch at normalised learning rate `u`.
pub fn floor_and_rate(u: f64) -> (f64, f64) {
    let floor = (0.05 + 0.4 * u + (u - 1.0).max(0.0)).min(0.95);
    (floor, 0.5 * u.min(1.0))
}

/// The error after one epoch at `u`, from error `error`.
pub fn epoch(error: f64, u: f64) -> f64 {
    let (floor, rate) = floor_and_rate(u);
    floor + (error - floor) * (-rate).exp()
}

/// The normalised learning rate `u` of a configuration's learning rate and momentum.
pub fn normalised_rate(learning_rate: f64, momentum: f64) -> f64 {
    learning_rate / (1.0 - momentum) / CRITICAL_LEARNING_RATE
}

/// The error the best learning-rate schedule (one rate per epoch) reaches after `epochs`
/// epochs: the greedy choice per epoch, by golden-section search over `u`.
pub fn best_schedule_error(epochs: u32) -> f64 {
    let low = normalised_rate(LEARNING_RATE.0, MOMENTUM.0);
    let mut error = INITIAL_ERROR;
    let ratio = (5f64.sqrt() - 1.0) / 2.0;
    for _ in 0..epochs {
        let (mut a, mut b) = (low, 1.0);
        for _ in 0..80 {
            let (c, d) = (b - ratio * (b - a), a + ratio * (b - a));
            if epoch(error, c) < epoch(error, d) { b = d } else { a = c }
        }
        error = epoch(error, (a + b) / 2.0).min(epoch(error, 1.0)).min(epoch(error, low));
    }
    error
}

impl TrainingDynamics {
    /// Validates `spec`.
    pub fn new(name: String, spec: &TrainingDynamicsSpec) -> Result<Self, BenchmarkError> {
        if spec.epochs == 0 || spec.epochs > MAX_EPOCHS {
            return Err(BenchmarkError::invalid("epochs", format!("must lie in 1..={MAX_EPOCHS}, got {}", spec.epochs)));
        }
        require_positive("seconds_per_epoch", spec.seconds_per_epoch)?;
        require_non_negative("noise", spec.noise)?;
        let space = SearchSpace::new(&[
            ParamSpec::Float { name: "learning_rate".into(), low: LEARNING_RATE.0, high: LEARNING_RATE.1, log: true, condition: None },
            ParamSpec::Float { name: "momentum".into(), low: MOMENTUM.0, high: MOMENTUM.1, log: false, condition: None },
        ])?;
        Ok(Self {
            name,
            space,
            objectives: vec![Objective::minimize("val_error")],
            fidelity: Fidelity::epochs(spec.epochs),
            seconds_per_epoch: spec.seconds_per_epoch,
            noise: spec.noise,
            best_known: [best_schedule_error(spec.epochs)],
        })
    }

    fn segment(start: u32, error: f64, config: &Config) -> [f64; INLINE_COEFFICIENTS] {
        let [learning_rate, momentum] = float_values::<2>(config);
        let (floor, rate) = floor_and_rate(normalised_rate(learning_rate, momentum));
        let mut c = [0.0; INLINE_COEFFICIENTS];
        c[..WIDTH].copy_from_slice(&[f64::from(start), error, floor, rate]);
        c
    }

    /// The noise-free error after `step` epochs.
    fn error_at(curve: &TrialCurve, step: u32) -> f64 {
        let s = segment_for(curve, WIDTH, step);
        s[2] + (s[1] - s[2]) * (-s[3] * (f64::from(step) - s[0])).exp()
    }
}

impl Benchmark for TrainingDynamics {
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
        TrialCurve::new(Self::segment(0, INITIAL_ERROR, config), seed)
    }
    fn step(&self, curve: &TrialCurve, step: u32, metrics: &mut [f64]) -> f64 {
        let mut error = Self::error_at(curve, step);
        if self.noise > 0.0 {
            error += self.noise * stateless_normal(curve.seed, u64::from(step));
        }
        metrics[0] = error.clamp(0.0, 1.0);
        self.seconds_per_epoch
    }
    fn cost_until(&self, _curve: &TrialCurve, step: u32) -> f64 {
        f64::from(step) * self.seconds_per_epoch
    }
    fn best_known(&self) -> Option<&[f64]> {
        Some(&self.best_known)
    }
    fn supports_splice(&self) -> bool {
        true
    }
    /// Exact: training continues from the (noise-free) error reached after `step`.
    fn splice(&self, curve: &TrialCurve, config: &Config, step: u32, seed: u64) -> Option<TrialCurve> {
        Some(splice(curve, WIDTH, step, Self::segment(step, Self::error_at(curve, step), config), seed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hposim_core::Value;

    fn bench() -> TrainingDynamics {
        TrainingDynamics::new("d".into(), &TrainingDynamicsSpec { name: None, epochs: 100, seconds_per_epoch: 60.0, noise: 0.0 }).unwrap()
    }
    fn config(learning_rate: f64, momentum: f64) -> Config {
        Config::new(vec![Value::Float(learning_rate), Value::Float(momentum)])
    }
    fn final_error(bench: &TrainingDynamics, curve: &TrialCurve) -> f64 {
        let mut m = [0.0];
        bench.step(curve, 100, &mut m);
        m[0]
    }

    #[test]
    fn one_epoch_follows_the_hand_derived_update() {
        // u = 0.1/(1−0)/0.5 = 0.2: floor 0.13, rate 0.1; L₁ = 0.13 + 0.77·e^{−0.1}.
        let b = bench();
        let mut m = [0.0];
        b.step(&b.open(&config(0.1, 0.0), 0), 1, &mut m);
        assert!((m[0] - (0.13 + 0.77 * (-0.1f64).exp())).abs() < 1e-12, "{}", m[0]);
        // Above the edge of stability the error rises: u = 2 → floor 0.95.
        b.step(&b.open(&config(1.0, 0.0), 0), 10, &mut m);
        assert!(m[0] > INITIAL_ERROR, "{}", m[0]);
    }

    #[test]
    fn a_decaying_schedule_beats_every_fixed_learning_rate() {
        let b = bench();
        // Every fixed rate, on a fine log grid of the effective rate (momentum 0).
        let best_fixed = (0..=400)
            .map(|i| 1e-4 * 10f64.powf(4.0 * f64::from(i) / 400.0))
            .map(|lr| final_error(&b, &b.open(&config(lr, 0.0), 0)))
            .fold(f64::INFINITY, f64::min);
        assert!((0.09..0.10).contains(&best_fixed), "{best_fixed}");
        // Multiply the rate by 0.8 every 10 epochs from u = 0.4, by splicing (PBT's perturb).
        let mut curve = b.open(&config(0.2, 0.0), 0);
        for k in 1..10 {
            curve = b.splice(&curve, &config(0.2 * 0.8f64.powi(k), 0.0), 10 * k as u32, 0).unwrap();
        }
        let scheduled = final_error(&b, &curve);
        assert!(scheduled < best_fixed - 0.005, "{scheduled} vs {best_fixed}");
        // The best schedule is better still, and no run gets below it.
        let best = b.best_known().unwrap()[0];
        assert!(best < scheduled && best > 0.05, "{best}");
    }

    #[test]
    fn momentum_raises_the_effective_rate() {
        assert!((normalised_rate(0.05, 0.9) - 1.0).abs() < 1e-12);
    }
}
