//! Population-based training's *explore* step: how a copied configuration is changed.
//!
//! - **perturb** (Jaderberg et al. 2017; Ray Tune's and Syne Tune's `PopulationBasedTraining`):
//!   each active parameter is, with probability `resample_probability`, redrawn from its prior;
//!   otherwise a float or integer is multiplied by one of `perturbation_factors` chosen
//!   uniformly (1.2 or 0.8 by default) and clipped to its bounds (Syne Tune clips; Ray Tune does
//!   not, but a value outside the declared space is not a configuration of it), integers
//!   rounded (moved by one where rounding would leave a small integer such as 1 or 2 unchanged,
//!   which neither Ray Tune's truncation nor Syne Tune's rounding escapes); an ordinal moves to a neighbouring value, chosen uniformly (Ray Tune's shift of
//!   the index by ±1, clipped at the ends); a categorical moves to a neighbour in its declared
//!   order as Ray Tune does, or is always redrawn as Syne Tune does (`categorical = resample`).
//! - **noise** (the toy example of the paper's Figure 2, as its public reproductions run it):
//!   each active parameter's unit-cube coordinate gets Gaussian noise of standard deviation
//!   `noise_std` and is clipped to `[0, 1]`.
//!
//! After the change, conditions are re-resolved front to back: a parameter that becomes active
//! is drawn from its prior, one that becomes inactive is marked inactive.

use hposim_core::encoding::{from_unit, to_unit};
use hposim_core::{Config, Domain, Rng, SearchSpace, Value};
use rand::RngExt;
use rand_distr::{Distribution, StandardNormal};

/// How explore changes a configuration.
#[derive(Clone, Debug, PartialEq)]
pub enum Explore {
    /// No change (exploit only).
    None,
    /// Perturb by factors or resample from the prior.
    Perturb {
        /// Probability of redrawing a parameter from its prior.
        resample_probability: f64,
        /// The factors a number is multiplied by, one chosen uniformly.
        factors: Vec<f64>,
        /// Whether categoricals are always redrawn (Syne Tune) instead of moved to a neighbour.
        resample_categoricals: bool,
    },
    /// Gaussian noise on the unit-cube coordinates.
    Noise {
        /// Standard deviation, in unit-cube coordinates.
        std: f64,
    },
}

/// `config` after explore; always a configuration of `space`.
pub fn explore(space: &SearchSpace, config: &Config, explore: &Explore, rng: &mut Rng) -> Config {
    let mut values = config.values().to_vec();
    for (index, param) in space.params().iter().enumerate() {
        let value = values[index];
        if !value.is_active() {
            continue;
        }
        values[index] = match explore {
            Explore::None => value,
            Explore::Perturb { resample_probability, factors, resample_categoricals } => {
                if rng.random::<f64>() < *resample_probability
                    || (*resample_categoricals && matches!(param.domain, Domain::Categorical { .. }))
                {
                    from_unit(&param.domain, rng.random())
                } else {
                    perturb(&param.domain, value, factors, rng)
                }
            }
            Explore::Noise { std } => {
                let noise: f64 = StandardNormal.sample(rng);
                from_unit(&param.domain, (to_unit(&param.domain, value) + std * noise).clamp(0.0, 1.0))
            }
        };
    }
    space.resolve_conditions(&mut values, rng);
    Config::new(values)
}

/// One value multiplied by a random factor (numbers) or moved to a random neighbour (choices).
fn perturb(domain: &Domain, value: Value, factors: &[f64], rng: &mut Rng) -> Value {
    let mut factor = || factors[rng.random_range(0..factors.len())];
    match (domain, value) {
        (Domain::Float { low, high, .. }, Value::Float(x)) => Value::Float((x * factor()).clamp(*low, *high)),
        (Domain::Int { low, high, .. }, Value::Int(i)) => {
            let f = factor();
            let mut v = (i as f64 * f).round() as i64;
            // Small integers (1, 2) would never move by rounding; step them by one instead.
            if v == i && f != 1.0 {
                v = if f > 1.0 { i.saturating_add(1) } else { i.saturating_sub(1) };
            }
            Value::Int(v.clamp(*low, *high))
        }
        (Domain::Categorical { choices: c } | Domain::Ordinal { values: c }, Value::Choice(i)) => {
            let last = c.len().saturating_sub(1) as u32;
            if rng.random::<bool>() { Value::Choice(i.saturating_add(1).min(last)) } else { Value::Choice(i.saturating_sub(1)) }
        }
        _ => value,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hposim_core::{Choice, ConditionSpec, ParamSpec};
    use proptest::prelude::*;
    use rand::SeedableRng;

    fn space() -> SearchSpace {
        SearchSpace::new(&[
            ParamSpec::Float { name: "lr".into(), low: 1e-4, high: 1.0, log: true, condition: None },
            ParamSpec::Int { name: "layers".into(), low: 1, high: 8, log: false, condition: None },
            ParamSpec::Ordinal { name: "width".into(), values: vec![Choice::Int(16), Choice::Int(32), Choice::Int(64)], condition: None },
            ParamSpec::Categorical {
                name: "opt".into(),
                choices: vec![Choice::Text("sgd".into()), Choice::Text("adam".into())],
                condition: None,
            },
            ParamSpec::Float {
                name: "momentum".into(),
                low: 0.0,
                high: 0.99,
                log: false,
                condition: Some(ConditionSpec { parent: "opt".into(), values: vec![Choice::Text("sgd".into())] }),
            },
        ])
        .unwrap()
    }

    fn perturb_only() -> Explore {
        Explore::Perturb { resample_probability: 0.0, factors: vec![1.2, 0.8], resample_categoricals: false }
    }

    #[test]
    fn perturb_multiplies_numbers_and_moves_choices_to_a_neighbour() {
        let space = space();
        let config = Config::new(vec![Value::Float(0.1), Value::Int(5), Value::Choice(1), Value::Choice(0), Value::Float(0.5)]);
        let mut rng = hposim_core::Rng::seed_from_u64(3);
        for _ in 0..200 {
            let out = explore(&space, &config, &perturb_only(), &mut rng);
            let Value::Float(lr) = out.get(0) else { panic!("{out:?}") };
            assert!((lr - 0.12).abs() < 1e-12 || (lr - 0.08).abs() < 1e-12, "{lr}");
            assert!(matches!(out.get(1), Value::Int(6) | Value::Int(4)), "{:?}", out.get(1));
            assert!(matches!(out.get(2), Value::Choice(0) | Value::Choice(2)), "{:?}", out.get(2));
            // "sgd" is the first choice: a move down stays, a move up switches to "adam",
            // whose configuration has no momentum.
            match out.get(3) {
                Value::Choice(0) => assert!(matches!(out.get(4), Value::Float(m) if (m - 0.6).abs() < 1e-12 || (m - 0.4).abs() < 1e-12)),
                Value::Choice(1) => assert_eq!(out.get(4), Value::Inactive),
                other => panic!("{other:?}"),
            }
        }
    }

    proptest! {
        #[test]
        fn explored_configurations_stay_in_the_space(seed in 0u64..10_000, resample in 0.0f64..1.0, noise in 0.01f64..1.0) {
            let space = space();
            let mut rng = hposim_core::Rng::seed_from_u64(seed);
            let mut config = space.sample(&mut rng);
            let explores = [
                Explore::Perturb { resample_probability: resample, factors: vec![1.2, 0.8], resample_categoricals: seed % 2 == 0 },
                Explore::Perturb { resample_probability: 0.0, factors: vec![10.0, 0.1], resample_categoricals: false },
                Explore::Noise { std: noise },
            ];
            for step in 0..30 {
                config = explore(&space, &config, &explores[step % 3], &mut rng);
                prop_assert!(space.contains(&config), "{config:?}");
            }
        }
    }
}
