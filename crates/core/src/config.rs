//! Configurations: one value per parameter of a [`SearchSpace`], with inactive conditional
//! parameters marked explicitly rather than filled with made-up values.

use crate::space::{Domain, SearchSpace};
pub use crate::value::Value;
use serde_json::{Map, Value as Json};

/// A configuration: one [`Value`] per parameter, in the search space's (topological) order.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Config {
    values: Vec<Value>,
}

impl Config {
    /// Wraps values given in the search space's parameter order.
    pub fn new(values: Vec<Value>) -> Self {
        Self { values }
    }

    /// The values, in the search space's parameter order.
    pub fn values(&self) -> &[Value] {
        &self.values
    }

    /// The value of parameter `index`.
    pub fn get(&self, index: usize) -> Value {
        self.values.get(index).copied().unwrap_or(Value::Inactive)
    }

    /// Number of parameters (active or not).
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Whether the configuration has no parameters at all.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// A stable 64-bit key of the configuration's values (inactive parameters included, `-0.0`
    /// equal to `0.0`), fixed by [`crate::rng::mix`]'s definition: the same configuration has the
    /// same key in every run, under every strategy and on every platform. The simulator derives
    /// a trial's noise from it (common random numbers: two strategies that evaluate the same
    /// configuration under the same seed see the same curve). It does not allocate.
    pub fn noise_key(&self) -> u64 {
        self.values.iter().fold(0x6870_6f73_696d_u64, |key, value| {
            let (tag, bits) = match *value {
                Value::Inactive => (1, 0),
                // `+ 0.0` turns -0.0 into 0.0, which compares equal and must hash equal.
                Value::Float(x) => (2, (x + 0.0).to_bits()),
                Value::Int(i) => (3, i as u64),
                Value::Choice(c) => (4, u64::from(c)),
            };
            crate::rng::mix(crate::rng::mix(key, tag), bits)
        })
    }

    /// The noise stream of a trial with this configuration in a cell whose noise seed is
    /// `noise_seed` ([`crate::rng::noise_seed`]): `mix(noise_seed, noise_key)`, with the copied
    /// step mixed in for a trial started from another's checkpoint (`copied_step`). Both
    /// executors open a trial's curve, and draw its launch overhead, from it.
    pub fn trial_seed(&self, noise_seed: u64, copied_step: Option<u32>) -> u64 {
        let seed = crate::rng::mix(noise_seed, self.noise_key());
        copied_step.map_or(seed, |step| crate::rng::mix(seed, u64::from(step)))
    }

    /// The configuration that [`Config::to_json`] wrote as `json`: a value for every active
    /// parameter of `space` (a float as a number, an integer as an integer, a categorical or
    /// ordinal parameter as one of its choices), none for inactive ones. Errors name the
    /// parameter and what is wrong.
    pub fn from_json(space: &SearchSpace, json: &Map<String, Json>) -> Result<Self, String> {
        if let Some(unknown) = json.keys().find(|k| space.index_of(k).is_none()) {
            return Err(format!("{unknown:?} is not a parameter of the search space"));
        }
        let mut values = Vec::with_capacity(space.len());
        for param in space.params() {
            let given = json.get(&param.name).filter(|v| !v.is_null());
            let value = match (given, &param.domain) {
                (None, _) => Value::Inactive,
                (Some(v), Domain::Float { .. }) => {
                    Value::Float(v.as_f64().ok_or_else(|| format!("{}: expected a number, got {v}", param.name))?)
                }
                (Some(v), Domain::Int { .. }) => {
                    Value::Int(v.as_i64().ok_or_else(|| format!("{}: expected an integer, got {v}", param.name))?)
                }
                (Some(v), Domain::Categorical { choices } | Domain::Ordinal { values: choices }) => {
                    let wanted: Option<crate::space::Choice> = serde_json::from_value(v.clone()).ok();
                    let index = wanted
                        .and_then(|w| choices.iter().position(|c| c.same_as(&w)))
                        .ok_or_else(|| format!("{}: {v} is not one of its choices", param.name))?;
                    Value::Choice(index as u32)
                }
            };
            values.push(value);
        }
        if let Some((index, violation)) = space.violation(&values) {
            let problem = match violation {
                crate::space::Violation::MissingActive => "missing, but active (its condition holds)",
                crate::space::Violation::SetWhileInactive => "given, but inactive (its condition does not hold)",
                crate::space::Violation::OutOfDomain => "outside its bounds",
                crate::space::Violation::WrongKind => "of the wrong kind",
            };
            return Err(format!("{}: {problem}", space.params()[index].name));
        }
        Ok(Self { values })
    }

    /// The configuration as a JSON object of its *active* parameters, with categorical and
    /// ordinal values shown as the choices written in the experiment file.
    pub fn to_json(&self, space: &SearchSpace) -> Map<String, Json> {
        let mut map = Map::new();
        for (param, value) in space.params().iter().zip(&self.values) {
            let json = match (*value, &param.domain) {
                (Value::Inactive, _) => continue,
                (Value::Float(x), _) => serde_json::Number::from_f64(x).map_or(Json::Null, Json::Number),
                (Value::Int(i), _) => Json::from(i),
                (Value::Choice(c), Domain::Categorical { choices } | Domain::Ordinal { values: choices }) => {
                    choices.get(c as usize).map_or(Json::Null, |choice| choice.to_json())
                }
                (Value::Choice(c), _) => Json::from(c),
            };
            map.insert(param.name.clone(), json);
        }
        map
    }
}
