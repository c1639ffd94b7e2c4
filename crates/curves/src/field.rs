//! Smooth seeded random functions over a search space (random Fourier features, Rahimi & Recht,
//! NIPS 2007): a sum of cosines of random projections of the unit-cube coordinates, plus a
//! random offset per categorical choice. Synthetic benchmarks use them for curve properties
//! that vary smoothly with the configuration (convergence speed, curve shape, divergence).

use hposim_core::encoding::to_unit;
use hposim_core::{Config, Domain, Rng, SearchSpace, Value};
use rand::RngExt;
use rand_distr::{Distribution, StandardNormal};

/// Prior samples used to normalise a field (and, in the landscape, to calibrate scales).
pub(crate) const CALIBRATION_SAMPLES: usize = 1024;

/// A smooth random function over a search space, normalised to be roughly standard normal
/// under the prior.
#[derive(Clone, Debug)]
pub struct RandomField {
    terms: usize,
    params: usize,
    /// `terms × params`, row-major by term; zero for categorical parameters.
    frequencies: Vec<f64>,
    phases: Vec<f64>,
    amplitudes: Vec<f64>,
    /// Per parameter, an offset per choice (empty for numeric parameters).
    offsets: Vec<Vec<f64>>,
    mean: f64,
    std: f64,
}

impl RandomField {
    /// Draws a field with `terms` cosines whose frequencies have standard deviation
    /// `2π · frequency` per coordinate (`frequency` ≈ oscillations across the cube).
    pub fn new(space: &SearchSpace, rng: &mut Rng, terms: usize, frequency: f64) -> Self {
        let params = space.len();
        let mut frequencies = vec![0.0; terms * params];
        for t in 0..terms {
            for (i, param) in space.params().iter().enumerate() {
                if param_is_numeric(&param.domain) {
                    let z: f64 = StandardNormal.sample(rng);
                    frequencies[t * params + i] = z * std::f64::consts::TAU * frequency;
                }
            }
        }
        let phases = (0..terms).map(|_| rng.random::<f64>() * std::f64::consts::TAU).collect();
        let amplitudes = (0..terms).map(|_| 0.5 + rng.random::<f64>()).collect();
        let offsets = space
            .params()
            .iter()
            .map(|param| match &param.domain {
                Domain::Categorical { choices } => choices.iter().map(|_| StandardNormal.sample(rng)).collect(),
                _ => Vec::new(),
            })
            .collect();
        let mut field = Self { terms, params, frequencies, phases, amplitudes, offsets, mean: 0.0, std: 1.0 };
        let samples: Vec<f64> = (0..CALIBRATION_SAMPLES).map(|_| field.raw(space, &space.sample(rng))).collect();
        let mean = samples.iter().sum::<f64>() / samples.len() as f64;
        let var = samples.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / samples.len() as f64;
        field.mean = mean;
        field.std = if var > 0.0 { var.sqrt() } else { 1.0 };
        field
    }

    /// The unnormalised value at `config`.
    pub fn raw(&self, space: &SearchSpace, config: &Config) -> f64 {
        with_unit_coordinates(space, config, |u| self.raw_at(u, config))
    }

    /// The unnormalised value at `config`, given its [`unit_coordinates`] `u`.
    pub fn raw_at(&self, u: &[f64], config: &Config) -> f64 {
        let mut total = 0.0;
        for (param, offsets) in config.values().iter().zip(&self.offsets) {
            if let Value::Choice(c) = param {
                total += offsets.get(*c as usize).copied().unwrap_or(0.0);
            }
        }
        for t in 0..self.terms {
            let row = &self.frequencies[t * self.params..(t + 1) * self.params];
            let mut projection = self.phases[t];
            for (x, freq) in u.iter().zip(row) {
                // Inactive and categorical coordinates are NaN and contribute nothing.
                if *freq != 0.0 && !x.is_nan() {
                    projection += freq * x;
                }
            }
            total += self.amplitudes[t] * projection.cos();
        }
        total
    }

    /// The value at `config`, standardised with the prior's mean and standard deviation.
    pub fn standard(&self, space: &SearchSpace, config: &Config) -> f64 {
        with_unit_coordinates(space, config, |u| self.standard_at(u, config))
    }

    /// [`Self::standard`] given the unit coordinates `u` of `config`.
    pub fn standard_at(&self, u: &[f64], config: &Config) -> f64 {
        (self.raw_at(u, config) - self.mean) / self.std
    }

    /// The value at `config` squashed into `(0, 1)`: the logistic approximation
    /// `1 / (1 + exp(-1.702 z))` of the normal CDF, so the prior spreads roughly uniformly.
    pub fn unit(&self, space: &SearchSpace, config: &Config) -> f64 {
        with_unit_coordinates(space, config, |u| self.unit_at(u, config))
    }

    /// [`Self::unit`] given the unit coordinates `u` of `config`.
    pub fn unit_at(&self, u: &[f64], config: &Config) -> f64 {
        1.0 / (1.0 + (-1.702 * self.standard_at(u, config)).exp())
    }
}

/// Writes the unit-cube coordinate of every numeric parameter of `config` into `out`, NaN for
/// inactive and categorical ones: computed once per trial, then shared by every field.
pub fn unit_coordinates(space: &SearchSpace, config: &Config, out: &mut [f64]) {
    for ((slot, param), value) in out.iter_mut().zip(space.params()).zip(config.values()) {
        *slot = if param_is_numeric(&param.domain) && value.is_active() { to_unit(&param.domain, *value) } else { f64::NAN };
    }
}

/// Calls `f` with the unit coordinates of `config`, kept on the stack for spaces of up to 32
/// parameters so that resolving a trial does not allocate.
pub fn with_unit_coordinates<T>(space: &SearchSpace, config: &Config, f: impl FnOnce(&[f64]) -> T) -> T {
    const STACK: usize = 32;
    let n = space.len();
    if n <= STACK {
        let mut buffer = [0.0; STACK];
        unit_coordinates(space, config, &mut buffer[..n]);
        f(&buffer[..n])
    } else {
        let mut buffer = vec![0.0; n];
        unit_coordinates(space, config, &mut buffer);
        f(&buffer)
    }
}

/// Whether a parameter contributes a numeric coordinate (float, int, ordinal).
pub(crate) fn param_is_numeric(domain: &Domain) -> bool {
    !matches!(domain, Domain::Categorical { .. })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::default_space::default_space;
    use rand::SeedableRng;

    #[test]
    fn unit_values_spread_over_the_interval_and_repeat_by_seed() {
        let space = SearchSpace::new(&default_space()).unwrap();
        let field = RandomField::new(&space, &mut Rng::seed_from_u64(1), 6, 1.0);
        let again = RandomField::new(&space, &mut Rng::seed_from_u64(1), 6, 1.0);
        let mut rng = Rng::seed_from_u64(2);
        let values: Vec<f64> = (0..2000).map(|_| field.unit(&space, &space.sample(&mut rng))).collect();
        let below_quarter = values.iter().filter(|v| **v < 0.25).count() as f64 / 2000.0;
        let above_three_quarters = values.iter().filter(|v| **v > 0.75).count() as f64 / 2000.0;
        // A standard-normal z puts 22.7 % below Φ⁻¹(0.25)·(1/1.702)... roughly a quarter each side.
        assert!((0.12..0.38).contains(&below_quarter), "{below_quarter}");
        assert!((0.12..0.38).contains(&above_three_quarters), "{above_three_quarters}");
        let config = space.sample(&mut rng);
        assert_eq!(field.raw(&space, &config), again.raw(&space, &config));
    }
}
