//! What a synthetic benchmark trades its validation error against, for multi-objective tuning:
//! the seconds of training so far and the model's size, both products of powers of
//! parameters (a width that raises capacity raises both), and the parameters whose largest
//! value gives the lowest error.
//!
//! A product `Π (xᵢ / cᵢ)^eᵢ` is taken relative to the geometric centre `cᵢ` of each
//! parameter's range (its values' geometric mean for an ordinal), so that the configuration at
//! the centre costs the stated base amount; an inactive parameter contributes 1. The per-epoch
//! cost of [`crate::synthetic`] has always been one (`cost_exponents`); the size is another
//! (`size_exponents`, default `width²`, as the weights of a network's hidden layers grow).

use crate::BenchmarkError;
use hposim_core::{Config, Domain, Objective, SearchSpace, Value};
use serde::{Deserialize, Serialize};

/// Largest magnitude of an exponent: beyond it a quantity spans more orders of magnitude over a
/// parameter's range than any real training run, and risks overflowing.
pub const MAX_EXPONENT: f64 = 8.0;

/// An objective a synthetic benchmark reports, each minimised.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SyntheticObjective {
    /// The validation error of the learning curve.
    ValError,
    /// Seconds of training so far: the epochs trained times the configuration's cost per epoch.
    TrainingTime,
    /// The model's size ([`PowerProduct`] over `size_exponents`, times `size_at_centre`).
    Parameters,
}

impl SyntheticObjective {
    /// The metric's name in traces.
    pub fn name(self) -> &'static str {
        match self {
            Self::ValError => "val_error",
            Self::TrainingTime => "training_time",
            Self::Parameters => "parameters",
        }
    }

    /// The objective (minimised).
    pub fn objective(self) -> Objective {
        Objective::minimize(self.name())
    }
}

/// One factor `(x / centre)^exponent` of a [`PowerProduct`].
#[derive(Clone, Debug, PartialEq)]
struct PowerTerm {
    param: usize,
    exponent: f64,
    centre: f64,
    /// The factor's smallest and largest value over the parameter's values (1 included where
    /// the parameter can be inactive).
    range: (f64, f64),
}

/// `Π (xᵢ / cᵢ)^eᵢ` over some numeric parameters (see the module documentation).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PowerProduct {
    terms: Vec<PowerTerm>,
}

impl PowerProduct {
    /// The product of `exponents` (parameter name, exponent) over `space`; errors name
    /// `key.NAME`.
    pub fn new(space: &SearchSpace, key: &str, exponents: &[(String, f64)]) -> Result<Self, BenchmarkError> {
        let terms =
            exponents.iter().map(|(name, exponent)| term(space, &format!("{key}.{name}"), name, *exponent)).collect::<Result<_, _>>()?;
        Ok(Self { terms })
    }

    /// `base` times the product at `config`, multiplied in from `base` factor by factor (so that
    /// a cost keeps the bits it has always had).
    pub fn scaled(&self, base: f64, space: &SearchSpace, config: &Config) -> f64 {
        let mut product = base;
        for term in &self.terms {
            if let Some(x) = numeric_value(space, term.param, config.get(term.param)) {
                product *= (x / term.centre).powf(term.exponent);
            }
        }
        product
    }

    /// The smallest and the largest product over the space (the factors are independent).
    pub fn extremes(&self) -> (f64, f64) {
        self.terms.iter().fold((1.0, 1.0), |(low, high), t| (low * t.range.0, high * t.range.1))
    }
}

/// A parameter's value as a positive number, if it is active.
fn numeric_value(space: &SearchSpace, param: usize, value: Value) -> Option<f64> {
    match (value, &space.params()[param].domain) {
        (Value::Float(x), _) => Some(x),
        (Value::Int(i), _) => Some(i as f64),
        (Value::Choice(c), domain) => domain.choices().and_then(|ch| ch.get(c as usize)).and_then(|c| c.as_f64()),
        (Value::Inactive, _) => None,
    }
}

fn term(space: &SearchSpace, key: &str, name: &str, exponent: f64) -> Result<PowerTerm, BenchmarkError> {
    if !(exponent.is_finite() && exponent.abs() <= MAX_EXPONENT) {
        return Err(BenchmarkError::invalid(key, format!("must be a number in [-{MAX_EXPONENT}, {MAX_EXPONENT}], got {exponent}")));
    }
    let param = space.index_of(name).ok_or_else(|| BenchmarkError::invalid(key, format!("no parameter `{name}` in the search space")))?;
    let values: Vec<f64> = match &space.params()[param].domain {
        Domain::Float { low, high, .. } if *low > 0.0 => vec![*low, *high],
        Domain::Int { low, high, .. } if *low > 0 => vec![*low as f64, *high as f64],
        Domain::Ordinal { values } if values.iter().all(|v| v.as_f64().is_some_and(|x| x > 0.0)) => {
            values.iter().filter_map(|v| v.as_f64()).collect()
        }
        _ => {
            return Err(BenchmarkError::invalid(
                key,
                format!("parameter `{name}` must be a float, int or ordinal parameter with positive values"),
            ));
        }
    };
    let centre = match &space.params()[param].domain {
        Domain::Ordinal { .. } => (values.iter().map(|v| v.ln()).sum::<f64>() / values.len() as f64).exp(),
        _ => (values[0] * values[1]).sqrt(),
    };
    let mut factors: Vec<f64> = values.iter().map(|v| (v / centre).powf(exponent)).collect();
    if space.params()[param].condition.is_some() {
        factors.push(1.0);
    }
    let range = (factors.iter().copied().fold(f64::INFINITY, f64::min), factors.iter().copied().fold(0.0, f64::max));
    Ok(PowerTerm { param, exponent, centre, range })
}

/// The indices of the `capacity` parameters (those whose largest value gives the lowest
/// error); each must be numeric.
pub fn capacity_params(space: &SearchSpace, names: &[String]) -> Result<Vec<usize>, BenchmarkError> {
    names
        .iter()
        .map(|name| {
            let param = space
                .index_of(name)
                .ok_or_else(|| BenchmarkError::invalid("capacity", format!("no parameter `{name}` in the search space")))?;
            match space.params()[param].domain {
                Domain::Categorical { .. } => Err(BenchmarkError::invalid(
                    "capacity",
                    format!("parameter `{name}` is categorical; capacity needs an ordered parameter"),
                )),
                _ => Ok(param),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use hposim_core::{Choice, ConditionSpec, ParamSpec};

    #[test]
    fn products_are_relative_to_the_geometric_centre_and_know_their_extremes() {
        let space = SearchSpace::new(&[
            ParamSpec::Int { name: "width".into(), low: 16, high: 1024, log: true, condition: None },
            ParamSpec::Ordinal { name: "depth".into(), values: vec![Choice::Int(1), Choice::Int(4)], condition: None },
            ParamSpec::Float {
                name: "gamma".into(),
                low: 0.5,
                high: 2.0,
                log: false,
                condition: Some(ConditionSpec { parent: "depth".into(), values: vec![Choice::Int(4)] }),
            },
        ])
        .unwrap();
        let size =
            PowerProduct::new(&space, "size_exponents", &[("width".into(), 2.0), ("depth".into(), 1.0), ("gamma".into(), 1.0)]).unwrap();
        // Centres: width √(16·1024) = 128, depth √(1·4) = 2, gamma 1.
        let config = Config::new(vec![Value::Int(256), Value::Choice(1), Value::Float(0.5)]);
        assert!((size.scaled(1.0, &space, &config) - 4.0 * 2.0 * 0.5).abs() < 1e-12);
        let inactive = Config::new(vec![Value::Int(256), Value::Choice(0), Value::Inactive]);
        assert!((size.scaled(1.0, &space, &inactive) - 4.0 * 0.5).abs() < 1e-12);
        // Width (1/8)² … 8², depth ½ … 2, gamma ½ … 2 (1 when inactive lies inside).
        let (low, high) = size.extremes();
        assert!((low - 1.0 / 64.0 / 4.0).abs() < 1e-15 && (high - 64.0 * 4.0).abs() < 1e-9, "{low} {high}");
        let error = PowerProduct::new(&space, "size_exponents", &[("width".into(), 9.0)]).unwrap_err();
        assert_eq!(error.to_string(), "size_exponents.width: must be a number in [-8, 8], got 9");
        assert_eq!(
            capacity_params(&space, &["depth".into(), "width".into()]).unwrap(),
            vec![1, 0],
            "capacity parameters in the order given"
        );
        assert_eq!(
            capacity_params(&space, &["height".into()]).unwrap_err().to_string(),
            "capacity: no parameter `height` in the search space"
        );
    }
}
