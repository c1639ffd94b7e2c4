//! Counting ones, from Falkner, Klein & Hutter, "BOHB: Robust and Efficient Hyperparameter
//! Optimization at Scale", ICML 2018 (section on counting ones), as implemented in HPOlib
//! (`hpolib/benchmarks/synthetic_functions/counting_ones.py`) and run by HpBandSter's
//! `icml_2018_experiments`.
//!
//! `N_cat` binary categorical parameters `cat_i ∈ {0, 1}` and `N_cont` continuous ones
//! `float_j ∈ [0, 1]`; minimise
//!
//! ```text
//! f(x) = −( Σᵢ cat_i + Σⱼ E[B(float_j)] )
//! ```
//!
//! where each expectation of a Bernoulli variable is estimated at budget `b` by the mean of `b`
//! samples, drawn afresh at every evaluation (as HPOlib does). The optimum is `−(N_cat +
//! N_cont)`; the paper plots `(f + d) / d`. Defaults follow the paper's main experiment: 8 + 8
//! dimensions, budgets from 9 to 729 samples (η = 3). A step is one sample of budget, costing
//! `seconds_per_sample`.

use crate::{Benchmark, BenchmarkError, INLINE_COEFFICIENTS, TrialCurve, require_positive};
use hposim_core::rng::mix;
use hposim_core::{Choice, Config, Fidelity, Objective, ParamSpec, Rng, SearchSpace, Value};
use rand::SeedableRng;
use rand_distr::{Binomial, Distribution};
use serde::{Deserialize, Serialize};

/// Largest number of parameters of each kind.
pub const MAX_DIMENSIONS: u32 = 10_000;

fn default_dims() -> u32 {
    8
}
fn default_min_budget() -> u32 {
    9
}
fn default_max_budget() -> u32 {
    729
}
fn default_seconds() -> f64 {
    1.0
}

/// A `type = "counting_ones"` benchmark table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CountingOnesSpec {
    /// Display name (default `counting_ones`).
    #[serde(default)]
    pub name: Option<String>,
    /// Number of binary categorical parameters (default 8).
    #[serde(default = "default_dims")]
    pub categorical: u32,
    /// Number of continuous parameters (default 8).
    #[serde(default = "default_dims")]
    pub continuous: u32,
    /// Smallest budget in samples (default 9).
    #[serde(default = "default_min_budget")]
    pub min_budget: u32,
    /// Full budget in samples (default 729).
    #[serde(default = "default_max_budget")]
    pub max_budget: u32,
    /// Simulated seconds per sample (default 1).
    #[serde(default = "default_seconds")]
    pub seconds_per_sample: f64,
}

/// The benchmark.
#[derive(Debug)]
pub struct CountingOnes {
    name: String,
    space: SearchSpace,
    objectives: Vec<Objective>,
    fidelity: Fidelity,
    categorical: usize,
    seconds_per_sample: f64,
    best_known: [f64; 1],
}

impl CountingOnes {
    /// Validates `spec`.
    pub fn new(name: String, spec: &CountingOnesSpec) -> Result<Self, BenchmarkError> {
        for (key, dims) in [("categorical", spec.categorical), ("continuous", spec.continuous)] {
            if dims > MAX_DIMENSIONS {
                return Err(BenchmarkError::invalid(key, format!("must be at most {MAX_DIMENSIONS}, got {dims}")));
            }
        }
        if spec.categorical + spec.continuous == 0 {
            return Err(BenchmarkError::invalid("categorical", "categorical + continuous must be at least 1"));
        }
        if spec.min_budget == 0 || spec.min_budget > spec.max_budget {
            return Err(BenchmarkError::invalid("min_budget", format!("must lie in 1..={}, got {}", spec.max_budget, spec.min_budget)));
        }
        require_positive("seconds_per_sample", spec.seconds_per_sample)?;
        let mut params: Vec<ParamSpec> = (0..spec.categorical)
            .map(|i| ParamSpec::Categorical { name: format!("cat_{i}"), choices: vec![Choice::Int(0), Choice::Int(1)], condition: None })
            .collect();
        params.extend((0..spec.continuous).map(|j| ParamSpec::Float {
            name: format!("float_{j}"),
            low: 0.0,
            high: 1.0,
            log: false,
            condition: None,
        }));
        let d = f64::from(spec.categorical + spec.continuous);
        Ok(Self {
            name,
            space: SearchSpace::new(&params)?,
            objectives: vec![Objective::minimize("value")],
            fidelity: Fidelity { min: spec.min_budget, max: spec.max_budget, unit: "samples".into() },
            categorical: spec.categorical as usize,
            seconds_per_sample: spec.seconds_per_sample,
            best_known: [-d],
        })
    }
}

impl Benchmark for CountingOnes {
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
        let mut c = [0.0; INLINE_COEFFICIENTS];
        let mut extra = Vec::with_capacity(config.len() - self.categorical);
        for value in config.values() {
            match value {
                // Choice index 1 is the value 1.
                Value::Choice(i) => c[0] += f64::from(*i),
                Value::Float(p) => extra.push(*p),
                Value::Int(_) | Value::Inactive => {}
            }
        }
        TrialCurve { coefficients: c, extra, seed }
    }
    fn step(&self, curve: &TrialCurve, step: u32, metrics: &mut [f64]) -> f64 {
        let mut rng = Rng::seed_from_u64(mix(curve.seed, u64::from(step)));
        let n = u64::from(step);
        let mut total = curve.coefficients[0];
        for &p in &curve.extra {
            // p lies in [0, 1] by construction, so the distribution always exists.
            if let Ok(binomial) = Binomial::new(n, p.clamp(0.0, 1.0)) {
                total += binomial.sample(&mut rng) as f64 / n as f64;
            }
        }
        metrics[0] = -total;
        self.seconds_per_sample
    }

    /// Every step (sample) costs the same.
    fn cost_until(&self, _curve: &TrialCurve, step: u32) -> f64 {
        f64::from(step) * self.seconds_per_sample
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

    fn bench() -> CountingOnes {
        CountingOnes::new(
            "c".into(),
            &CountingOnesSpec { name: None, categorical: 2, continuous: 2, min_budget: 9, max_budget: 729, seconds_per_sample: 1.0 },
        )
        .unwrap()
    }

    #[test]
    fn all_ones_reaches_minus_d_exactly() {
        let b = bench();
        let config = Config::new(vec![Value::Choice(1), Value::Choice(1), Value::Float(1.0), Value::Float(1.0)]);
        let curve = b.open(&config, 3);
        let mut m = [0.0];
        for step in [9, 81, 729] {
            b.step(&curve, step, &mut m);
            assert_eq!(m[0], -4.0);
        }
        assert_eq!(b.best_known(), Some(&[-4.0][..]));
    }

    #[test]
    fn the_estimate_concentrates_with_budget() {
        // One categorical 1, one 0, continuous 0.3 and 0.6: E[f] = −(1 + 0.9) = −1.9, and the
        // estimate's standard deviation is sqrt(0.3·0.7/b + 0.6·0.4/b) = sqrt(0.45/b).
        let b = bench();
        let config = Config::new(vec![Value::Choice(1), Value::Choice(0), Value::Float(0.3), Value::Float(0.6)]);
        let spread = |budget: u32| {
            let values: Vec<f64> = (0..400u64)
                .map(|seed| {
                    let mut m = [0.0];
                    b.step(&b.open(&config, seed), budget, &mut m);
                    m[0]
                })
                .collect();
            let mean = values.iter().sum::<f64>() / values.len() as f64;
            let sd = (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / values.len() as f64).sqrt();
            (mean, sd)
        };
        let (mean9, sd9) = spread(9);
        let (mean729, sd729) = spread(729);
        assert!((mean9 + 1.9).abs() < 0.03, "{mean9}");
        assert!((mean729 + 1.9).abs() < 0.005, "{mean729}");
        assert!((sd9 - (0.45f64 / 9.0).sqrt()).abs() < 0.03, "{sd9}");
        assert!((sd729 - (0.45f64 / 729.0).sqrt()).abs() < 0.005, "{sd729}");
    }
}
