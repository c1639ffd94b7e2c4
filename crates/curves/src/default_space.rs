//! The search space a synthetic benchmark uses when the experiment gives none: the
//! hyperparameters of training a small network, with the talk's advice applied (learning rate
//! and sizes on log scales) and a nested condition (momentum settings exist only for SGD).

use hposim_core::{Choice, ConditionSpec, ParamSpec};

fn text(values: &[&str]) -> Vec<Choice> {
    values.iter().map(|v| Choice::Text((*v).to_owned())).collect()
}

/// The default synthetic search space:
///
/// | name | kind | range |
/// |---|---|---|
/// | `learning_rate` | float, log | 1e-5 … 1 |
/// | `batch_size` | int, log | 16 … 512 |
/// | `width` | int, log | 16 … 1024 |
/// | `dropout` | float | 0 … 0.8 |
/// | `optimizer` | categorical | sgd, adam, rmsprop |
/// | `momentum_kind` | categorical, if optimizer = sgd | none, classic, nesterov |
/// | `momentum` | float, if momentum_kind ∈ {classic, nesterov} | 0 … 0.99 |
pub fn default_space() -> Vec<ParamSpec> {
    vec![
        ParamSpec::Float { name: "learning_rate".into(), low: 1e-5, high: 1.0, log: true, condition: None },
        ParamSpec::Int { name: "batch_size".into(), low: 16, high: 512, log: true, condition: None },
        ParamSpec::Int { name: "width".into(), low: 16, high: 1024, log: true, condition: None },
        ParamSpec::Float { name: "dropout".into(), low: 0.0, high: 0.8, log: false, condition: None },
        ParamSpec::Categorical { name: "optimizer".into(), choices: text(&["sgd", "adam", "rmsprop"]), condition: None },
        ParamSpec::Categorical {
            name: "momentum_kind".into(),
            choices: text(&["none", "classic", "nesterov"]),
            condition: Some(ConditionSpec { parent: "optimizer".into(), values: text(&["sgd"]) }),
        },
        ParamSpec::Float {
            name: "momentum".into(),
            low: 0.0,
            high: 0.99,
            log: false,
            condition: Some(ConditionSpec { parent: "momentum_kind".into(), values: text(&["classic", "nesterov"]) }),
        },
    ]
}

/// Cost exponents used with the default space: an epoch costs in proportion to the width, and
/// larger batches make an epoch cheaper (fewer, better-utilised steps): `cost ∝ width ·
/// batch_size^-0.5`, relative to the geometric centres of their ranges.
pub fn default_cost_exponents() -> Vec<(String, f64)> {
    vec![("width".to_owned(), 1.0), ("batch_size".to_owned(), -0.5)]
}
