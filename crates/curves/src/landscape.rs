//! A seeded random landscape over a search space whose global optimum is known exactly.
//!
//! The *badness* of a configuration is
//!
//! ```text
//! g(x) = Σ_i w_i d_i² / m_b  +  ρ · Σ_k a_k (1 − cos(ω_k · d)) / m_r  +  Σ_c p_c(x_c)
//! ```
//!
//! where `d = u(x) − u*` is the offset of the active numeric coordinates from a random centre
//! `u*` (inactive ones contribute nothing), `w_i` are log-uniform relevance weights (some
//! hyperparameters matter far more than others, as in real tuning problems), the cosine terms
//! are random Fourier ripples that make the landscape multimodal with strength `ρ`
//! (`ruggedness`), `m_b` and `m_r` are the medians of the two sums under the prior, and
//! `p_c` is a penalty per choice of each active categorical parameter, 0 for one best choice.
//!
//! Every term is non-negative and vanishes at `u*` with the best choices, so `g ≥ 0` with
//! equality exactly at the optimum: model-based samplers get structure to learn, and regret has
//! an exact reference. Integer and ordinal coordinates of `u*` are snapped to bin centres so the
//! optimum is a configuration the space can actually express.

use crate::field::{CALIBRATION_SAMPLES, param_is_numeric, with_unit_coordinates};
use hposim_core::encoding::{from_unit, to_unit};
use hposim_core::{Config, Domain, Rng, SearchSpace, Value};
use rand::RngExt;
use rand_distr::{Distribution, StandardNormal};

/// Number of ripple terms.
const RIPPLES: usize = 6;
/// Oscillations of a ripple across the cube along a dimension of full relevance.
const RIPPLE_FREQUENCY: f64 = 1.25;

/// The landscape (see the module documentation).
#[derive(Clone, Debug)]
pub struct Landscape {
    params: usize,
    /// Per parameter: `u*` for numeric parameters, the best choice's index for categoricals.
    centre: Vec<f64>,
    weight: Vec<f64>,
    /// `RIPPLES × params`, row-major by ripple.
    ripple_frequency: Vec<f64>,
    ripple_amplitude: Vec<f64>,
    /// Per parameter, a penalty per choice (empty for numeric parameters).
    penalty: Vec<Vec<f64>>,
    bowl_scale: f64,
    ripple_scale: f64,
    ruggedness: f64,
}

impl Landscape {
    /// Draws a landscape over `space` with ripple strength `ruggedness`.
    pub fn new(space: &SearchSpace, rng: &mut Rng, ruggedness: f64) -> Self {
        Self::with_capacity(space, rng, ruggedness, &[])
    }

    /// [`Landscape::new`], except that each numeric parameter of `capacity` has its optimum at
    /// its largest value and full relevance (weight 1): the bowl falls all the way up the
    /// parameter's range, as a network's error falls with its width. The random draws are the
    /// same as [`Landscape::new`]'s, so other parameters keep their optima.
    pub fn with_capacity(space: &SearchSpace, rng: &mut Rng, ruggedness: f64, capacity: &[usize]) -> Self {
        let params = space.len();
        let mut centre = Vec::with_capacity(params);
        let mut weight = Vec::with_capacity(params);
        let mut penalty = Vec::with_capacity(params);
        for param in space.params() {
            match &param.domain {
                Domain::Categorical { choices } => {
                    let best = rng.random_range(0..choices.len());
                    centre.push(best as f64);
                    weight.push(0.0);
                    penalty.push((0..choices.len()).map(|c| if c == best { 0.0 } else { rng.random_range(0.3..1.2) }).collect());
                }
                domain => {
                    let raw: f64 = rng.random_range(0.05..0.95);
                    let relevance = 10f64.powf(rng.random_range(-1.3..0.0));
                    let largest = capacity.contains(&centre.len());
                    let raw = if largest { 1.0 } else { raw };
                    centre.push(to_unit(domain, from_unit(domain, raw)));
                    weight.push(if largest { 1.0 } else { relevance });
                    penalty.push(Vec::new());
                }
            }
        }
        let mut ripple_frequency = vec![0.0; RIPPLES * params];
        for k in 0..RIPPLES {
            for (i, param) in space.params().iter().enumerate() {
                if param_is_numeric(&param.domain) {
                    let z: f64 = StandardNormal.sample(rng);
                    ripple_frequency[k * params + i] = z * std::f64::consts::TAU * RIPPLE_FREQUENCY * weight[i].sqrt();
                }
            }
        }
        let ripple_amplitude = (0..RIPPLES).map(|_| rng.random_range(0.5..1.0) / RIPPLES as f64).collect();
        let mut landscape =
            Self { params, centre, weight, ripple_frequency, ripple_amplitude, penalty, bowl_scale: 1.0, ripple_scale: 1.0, ruggedness };
        let mut bowls = Vec::with_capacity(CALIBRATION_SAMPLES);
        let mut ripples = Vec::with_capacity(CALIBRATION_SAMPLES);
        for _ in 0..CALIBRATION_SAMPLES {
            let config = space.sample(rng);
            let (bowl, ripple, _) = with_unit_coordinates(space, &config, |u| landscape.terms(u, &config));
            bowls.push(bowl);
            ripples.push(ripple);
        }
        landscape.bowl_scale = positive_median(&mut bowls);
        landscape.ripple_scale = positive_median(&mut ripples);
        landscape
    }

    /// The three unscaled terms at `config` (unit coordinates `u`): bowl, ripples, categorical
    /// penalties.
    fn terms(&self, u: &[f64], config: &Config) -> (f64, f64, f64) {
        let mut bowl = 0.0;
        let mut penalties = 0.0;
        for (i, (x, value)) in u.iter().zip(config.values()).enumerate() {
            if let Value::Choice(c) = value
                && !self.penalty[i].is_empty()
            {
                penalties += self.penalty[i].get(*c as usize).copied().unwrap_or(0.0);
            } else if !x.is_nan() {
                let d = x - self.centre[i];
                bowl += self.weight[i] * d * d;
            }
        }
        let mut ripple = 0.0;
        for k in 0..RIPPLES {
            let row = &self.ripple_frequency[k * self.params..(k + 1) * self.params];
            let mut projection = 0.0;
            for (i, (x, freq)) in u.iter().zip(row).enumerate() {
                if *freq != 0.0 && !x.is_nan() {
                    projection += freq * (x - self.centre[i]);
                }
            }
            ripple += self.ripple_amplitude[k] * (1.0 - projection.cos());
        }
        (bowl, ripple, penalties)
    }

    /// The badness `g(config) ≥ 0`; 0 exactly at [`Self::optimum`].
    pub fn badness(&self, space: &SearchSpace, config: &Config) -> f64 {
        with_unit_coordinates(space, config, |u| self.badness_at(u, config))
    }

    /// [`Self::badness`] given the unit coordinates `u` of `config`.
    pub fn badness_at(&self, u: &[f64], config: &Config) -> f64 {
        let (bowl, ripple, penalties) = self.terms(u, config);
        bowl / self.bowl_scale + self.ruggedness * ripple / self.ripple_scale + penalties
    }

    /// The configuration where the badness is 0.
    pub fn optimum(&self, space: &SearchSpace) -> Config {
        let mut values = Vec::with_capacity(self.params);
        for (i, param) in space.params().iter().enumerate() {
            let value = if !space.is_active(i, &values) {
                Value::Inactive
            } else if matches!(param.domain, Domain::Categorical { .. }) {
                Value::Choice(self.centre[i] as u32)
            } else {
                from_unit(&param.domain, self.centre[i])
            };
            values.push(value);
        }
        Config::new(values)
    }
}

/// The median of the positive entries (1 if there are none), used as a scale.
fn positive_median(values: &mut Vec<f64>) -> f64 {
    values.retain(|v| *v > 0.0);
    if values.is_empty() {
        return 1.0;
    }
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::default_space::default_space;
    use proptest::prelude::{any, prop_assert, proptest};
    use rand::SeedableRng;

    fn setup(seed: u64) -> (SearchSpace, Landscape) {
        let space = SearchSpace::new(&default_space()).unwrap();
        let landscape = Landscape::new(&space, &mut Rng::seed_from_u64(seed), 0.5);
        (space, landscape)
    }

    #[test]
    fn the_optimum_is_expressible_and_has_zero_badness() {
        for seed in 0..20 {
            let (space, landscape) = setup(seed);
            let optimum = landscape.optimum(&space);
            assert!(space.contains(&optimum), "{optimum:?}");
            assert!(landscape.badness(&space, &optimum) < 1e-20, "seed {seed}");
        }
    }

    proptest! {
        #[test]
        fn badness_is_non_negative_and_above_the_optimum(seed in 0u64..50, draw in any::<u64>()) {
            let (space, landscape) = setup(seed);
            let config = space.sample(&mut Rng::seed_from_u64(draw));
            let g = landscape.badness(&space, &config);
            prop_assert!(g >= 0.0 && g.is_finite());
            prop_assert!(g >= landscape.badness(&space, &landscape.optimum(&space)));
        }
    }
}
