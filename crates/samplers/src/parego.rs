//! ParEGO: Knowles, "ParEGO: A Hybrid Algorithm With On-Line Landscape Approximation for
//! Expensive Multiobjective Optimization Problems", IEEE TEC 10(1), 2006 — random
//! scalarisation of several objectives, each proposal made by a single-objective model (TPE or
//! the GP here; the paper uses a GP with expected improvement) on one randomly weighted
//! augmented Tchebycheff sum.
//!
//! For each proposal, every objective (as a loss, maximised ones negated) is rescaled to
//! `[0, 1]` by the minimum and range of the results so far (mlr3mbo's `bayesopt_parego`; the
//! paper uses known bounds), a weight vector `λ` is drawn uniformly from the simplex lattice
//! `{λ : λᵢ = lᵢ/s, Σ lᵢ = s}` (`s = 10` for two objectives, 4 for three, 3 for four and above,
//! the sizes of Knowles' code: 11, 15 and 20 vectors; drawn without listing the lattice), and
//! the model is fitted afresh to
//!
//! ```text
//! f_λ(x) = maxᵢ λᵢ·fᵢ(x) + ρ·Σᵢ λᵢ·fᵢ(x),   ρ = 0.05
//! ```
//!
//! Failed results (and results with a non-finite loss) stay failures for the model. A trial
//! reported several times (at rungs) counts with its latest result at the highest fidelity (the
//! [`History`] the models keep, here with every objective's loss).

use crate::history::History;
use crate::{Sampler, SamplerError, SamplerSpec};
use hposim_core::{Config, Objective, Observation, Rng, SearchSpace, TrialId};
use rand::RngExt;
use serde::{Deserialize, Serialize};

fn default_model() -> Box<SamplerSpec> {
    Box::new(SamplerSpec::Tpe(crate::tpe::TpeSettings::default()))
}
fn default_rho() -> f64 {
    0.05
}

/// The `sampler` table of `type = "parego"`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParegoSettings {
    /// The single-objective model, a sampler table (default `{ type = "tpe" }`; `gp` as in the
    /// paper).
    #[serde(default = "default_model")]
    pub model: Box<SamplerSpec>,
    /// The augmentation ρ (default 0.05).
    #[serde(default = "default_rho")]
    pub rho: f64,
    /// The lattice size s (default by the number of objectives: 10, 4, 3).
    #[serde(default)]
    pub lattice: Option<u32>,
}

/// The ParEGO sampler.
pub struct ParegoSampler {
    space: SearchSpace,
    objectives: Vec<Objective>,
    model: SamplerSpec,
    rho: f64,
    /// The lattice size s.
    lattice: u32,
    /// Every trial's latest result; a result with a non-finite loss is filed as a failure.
    history: History,
    /// Trials started and not yet heard of, passed on to every fresh model (its constant liar).
    running: Vec<(TrialId, Config)>,
    warnings: u64,
}

/// The simplex lattice `{l/s : l ∈ ℕᵏ, Σ l = s}`, in lexicographic order.
pub fn lattice(k: usize, s: u32) -> Vec<Vec<f64>> {
    fn fill(k: usize, left: u32, prefix: &mut Vec<u32>, out: &mut Vec<Vec<u32>>) {
        if prefix.len() + 1 == k {
            prefix.push(left);
            out.push(prefix.clone());
            prefix.pop();
            return;
        }
        for l in 0..=left {
            prefix.push(l);
            fill(k, left - l, prefix, out);
            prefix.pop();
        }
    }
    let mut out = Vec::new();
    fill(k, s, &mut Vec::new(), &mut out);
    out.into_iter().map(|v| v.into_iter().map(|l| f64::from(l) / f64::from(s)).collect()).collect()
}

/// A point of the simplex lattice `{l/s : l ∈ ℕᵏ, Σ l = s}` drawn uniformly, without listing
/// the lattice (which has `C(s+k−1, k−1)` points): `k − 1` distinct bars among `s + k − 1`
/// places ("stars and bars"), each composition equally likely.
pub fn draw_lattice_point(k: usize, s: u32, rng: &mut Rng) -> Vec<f64> {
    let places = s as usize + k - 1;
    let mut bars: Vec<usize> = Vec::with_capacity(k - 1);
    while bars.len() < k - 1 {
        let b = rng.random_range(0..places);
        if !bars.contains(&b) {
            bars.push(b);
        }
    }
    bars.sort_unstable();
    let mut out = Vec::with_capacity(k);
    let mut previous = 0usize;
    for &b in &bars {
        out.push((b - previous) as f64 / f64::from(s));
        previous = b + 1;
    }
    out.push((places - previous) as f64 / f64::from(s));
    out
}

/// The augmented Tchebycheff sum of rescaled losses `y` under weights `lambda`.
pub fn tchebycheff(y: &[f64], lambda: &[f64], rho: f64) -> f64 {
    let weighted = y.iter().zip(lambda).map(|(y, l)| y * l);
    let (max, sum) = weighted.fold((f64::NEG_INFINITY, 0.0), |(m, s), v| (m.max(v), s + v));
    max + rho * sum
}

impl ParegoSampler {
    /// ParEGO over `space` for `objectives` (at least two) with `settings`.
    pub fn new(space: &SearchSpace, objectives: &[Objective], settings: &ParegoSettings) -> std::result::Result<Self, SamplerError> {
        crate::require_several_objectives("parego", objectives)?;
        if !matches!(*settings.model, SamplerSpec::Tpe(_) | SamplerSpec::Gp(_) | SamplerSpec::Random {}) {
            return Err(SamplerError::invalid("model", "must be a `tpe`, `gp` or `random` sampler table"));
        }
        if !(settings.rho.is_finite() && settings.rho >= 0.0) {
            return Err(SamplerError::invalid("rho", format!("must be a non-negative number, got {}", settings.rho)));
        }
        let k = objectives.len();
        let s = settings.lattice.unwrap_or(match k {
            2 => 10,
            3 => 4,
            _ => 3,
        });
        if s == 0 || s > 1000 {
            return Err(SamplerError::invalid("lattice", format!("must lie in 1..=1000, got {s}")));
        }
        // The model's own settings are checked once, on one objective.
        let mut probe = <Rng as rand::SeedableRng>::seed_from_u64(0);
        crate::build(&settings.model, space, &[Objective::minimize("parego")], &mut probe)
            .map_err(|e| SamplerError::invalid("model", e.to_string()))?;
        Ok(Self {
            space: space.clone(),
            objectives: objectives.to_vec(),
            model: (*settings.model).clone(),
            rho: settings.rho,
            lattice: s,
            history: History::with_objectives(objectives.to_vec()),
            running: Vec::new(),
            warnings: 0,
        })
    }
}

impl Sampler for ParegoSampler {
    fn suggest(&mut self, rng: &mut Rng) -> Option<Config> {
        let k = self.objectives.len();
        let lambda = &draw_lattice_point(k, self.lattice, rng);
        let (mut low, mut high) = (vec![f64::INFINITY; k], vec![f64::NEG_INFINITY; k]);
        let records = self.history.records();
        let failed = |i: usize| self.history.loss(i) == f64::INFINITY;
        for losses in (0..records.len()).filter(|&i| !failed(i)).map(|i| self.history.losses(i)) {
            for j in 0..k {
                low[j] = low[j].min(losses[j]);
                high[j] = high[j].max(losses[j]);
            }
        }
        let mut model = match crate::build(&self.model, &self.space, &[Objective::minimize("parego")], rng) {
            Ok(model) => model,
            Err(_) => return Some(self.space.sample(rng)),
        };
        let mut scalar = [0.0];
        let mut y = vec![0.0; k];
        for (i, r) in records.iter().enumerate() {
            if failed(i) {
                model.on_failure(&Observation { trial: r.trial, config: &r.config, fidelity: r.fidelity, metrics: &[f64::NAN], time: 0.0 });
                continue;
            }
            let losses = self.history.losses(i);
            for j in 0..k {
                y[j] = if high[j] > low[j] { (losses[j] - low[j]) / (high[j] - low[j]) } else { 0.0 };
            }
            scalar[0] = tchebycheff(&y, lambda, self.rho);
            model.observe(&Observation { trial: r.trial, config: &r.config, fidelity: r.fidelity, metrics: &scalar, time: 0.0 });
        }
        for (trial, config) in &self.running {
            model.running(*trial, config);
        }
        let config = model.suggest(rng);
        self.warnings += model.warnings();
        config.or_else(|| Some(self.space.sample(rng)))
    }

    fn observe(&mut self, observation: &Observation<'_>) {
        self.running.retain(|(trial, _)| *trial != observation.trial);
        let finite = hposim_core::objective::losses(&self.objectives, observation.metrics).iter().all(|l| l.is_finite());
        if finite {
            self.history.observe(observation);
        } else {
            self.history.fail(observation);
        }
    }

    fn on_failure(&mut self, failure: &Observation<'_>) {
        self.running.retain(|(trial, _)| *trial != failure.trial);
        self.history.fail(failure);
    }

    fn running(&mut self, trial: TrialId, config: &Config) {
        self.running.push((trial, config.clone()));
    }

    fn abandoned(&mut self, trial: TrialId) {
        self.running.retain(|(t, _)| *t != trial);
    }

    fn warnings(&self) -> u64 {
        self.warnings
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lattice_has_knowles_sizes_and_sums_to_one() {
        assert_eq!(lattice(2, 10).len(), 11);
        assert_eq!(lattice(3, 4).len(), 15);
        assert_eq!(lattice(4, 3).len(), 20);
        assert!(lattice(3, 4).iter().all(|l| (l.iter().sum::<f64>() - 1.0).abs() < 1e-12));
        assert_eq!(lattice(2, 2), vec![vec![0.0, 1.0], vec![0.5, 0.5], vec![1.0, 0.0]]);
    }

    #[test]
    fn lattice_draws_are_uniform_over_the_lattice() {
        use rand::SeedableRng;
        let mut rng = Rng::seed_from_u64(4);
        let points = lattice(3, 4);
        let mut counts = vec![0u32; points.len()];
        for _ in 0..15_000 {
            let p = draw_lattice_point(3, 4, &mut rng);
            let i = points.iter().position(|q| q.iter().zip(&p).all(|(a, b)| (a - b).abs() < 1e-12)).unwrap();
            counts[i] += 1;
        }
        // 15 points, 1000 expected each; a 5-sigma band is ±155.
        assert!(counts.iter().all(|&c| (845..=1155).contains(&c)), "{counts:?}");
    }

    #[test]
    fn tchebycheff_is_the_weighted_max_plus_rho_times_the_sum() {
        // max(0.3·0.2, 0.7·0.9) + 0.05·(0.06 + 0.63) = 0.63 + 0.0345.
        assert!((tchebycheff(&[0.2, 0.9], &[0.3, 0.7], 0.05) - 0.6645).abs() < 1e-12);
    }
}
