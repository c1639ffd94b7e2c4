//! The GP's view of a configuration: the unit-cube encoding with categoricals one-hot, plus an
//! explicit activity indicator per conditional parameter.
//!
//! An inactive parameter is not imputed as if it had a value: its value coordinates take a
//! constant (0.5 for a numeric one, all zeros for a one-hot block) and its indicator is 0. Two
//! configurations where the parameter is inactive are therefore identical in that parameter,
//! and one where it is active differs from one where it is not by the indicator, whatever the
//! value: the kernel *sees* inactivity. Because this is an embedding into a Euclidean space
//! (Lévesque, Durand, Gagné & Sabourin, "Bayesian Optimization for Conditional Hyperparameter
//! Spaces", IJCNN 2017, discuss the alternatives), the Matérn kernel on it stays positive
//! definite, unlike ad-hoc conditional distances.

use hposim_core::encoding::to_unit;
use hposim_core::{Domain, SearchSpace, Value};

/// Where each parameter's coordinates start, and the total width.
#[derive(Clone, Debug)]
pub struct Features {
    /// Per parameter: first coordinate, one-hot width (1 for numeric), indicator coordinate.
    slots: Vec<(usize, usize, Option<usize>)>,
    width: usize,
}

impl Features {
    /// The layout for `space`.
    pub fn new(space: &SearchSpace) -> Self {
        let mut slots = Vec::with_capacity(space.len());
        let mut at = 0;
        for param in space.params() {
            let width = match &param.domain {
                Domain::Categorical { choices } => choices.len(),
                _ => 1,
            };
            let indicator = param.condition.as_ref().map(|_| at + width);
            slots.push((at, width, indicator));
            at += width + usize::from(indicator.is_some());
        }
        Self { slots, width: at }
    }

    /// Number of coordinates.
    pub fn width(&self) -> usize {
        self.width
    }

    /// Writes the features of `values` into `out` (`out.len() == width()`).
    pub fn encode(&self, space: &SearchSpace, values: &[Value], out: &mut [f64]) {
        for ((param, &(at, width, indicator)), &value) in space.params().iter().zip(&self.slots).zip(values) {
            let active = value.is_active();
            match (&param.domain, value) {
                (Domain::Categorical { .. }, Value::Choice(c)) => {
                    out[at..at + width].fill(0.0);
                    out[at + (c as usize).min(width - 1)] = 1.0;
                }
                (Domain::Categorical { .. }, _) => out[at..at + width].fill(0.0),
                (domain, _) if active => out[at] = to_unit(domain, value),
                _ => out[at] = 0.5,
            }
            if let Some(i) = indicator {
                out[i] = if active { 1.0 } else { 0.0 };
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use hposim_core::{Choice, ConditionSpec, ParamSpec};

    #[test]
    fn inactive_parameters_get_a_constant_and_an_indicator() {
        let space = SearchSpace::new(&[
            ParamSpec::Categorical {
                name: "opt".into(),
                choices: vec![Choice::Text("sgd".into()), Choice::Text("adam".into())],
                condition: None,
            },
            ParamSpec::Float {
                name: "momentum".into(),
                low: 0.0,
                high: 1.0,
                log: false,
                condition: Some(ConditionSpec { parent: "opt".into(), values: vec![Choice::Text("sgd".into())] }),
            },
        ])
        .unwrap();
        let features = Features::new(&space);
        assert_eq!(features.width(), 4);
        let mut out = [9.0; 4];
        features.encode(&space, &[Value::Choice(0), Value::Float(0.25)], &mut out);
        assert_eq!(out, [1.0, 0.0, 0.25, 1.0]);
        features.encode(&space, &[Value::Choice(1), Value::Inactive], &mut out);
        assert_eq!(out, [0.0, 1.0, 0.5, 0.0]);
    }
}
