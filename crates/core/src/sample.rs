//! Drawing configurations from a search space's prior, and membership of a configuration in a
//! space. Kept apart from [`crate::space`] so that the space (domains, conditions) depends only
//! on [`crate::value`], configurations on the space, the unit-cube encoding on both, and
//! sampling on all three: the modules form a line, not a circle.

use crate::config::{Config, Value};
use crate::encoding::from_unit;
use crate::rng::Rng;
use crate::space::SearchSpace;
use rand::RngExt;

impl SearchSpace {
    /// Draws a configuration from the prior: uniform on each parameter's scale (log-uniform on
    /// log scales), uniform over choices, with inactive parameters marked inactive.
    pub fn sample(&self, rng: &mut Rng) -> Config {
        self.sample_with(|_| rng.random())
    }

    /// A configuration whose active parameters take the unit-cube coordinate `unit(index)`,
    /// decoded on their scale, front to back; `unit` is called only for active parameters
    /// (quasi-random designs supply their own coordinates this way).
    pub fn sample_with(&self, mut unit: impl FnMut(usize) -> f64) -> Config {
        let mut values = Vec::with_capacity(self.params().len());
        for (index, param) in self.params().iter().enumerate() {
            let value = if self.is_active(index, &values) { from_unit(&param.domain, unit(index)) } else { Value::Inactive };
            values.push(value);
        }
        Config::new(values)
    }

    /// Makes `values` consistent with the conditions after some were changed: a parameter that
    /// became active gets a draw from its prior, one that became inactive is marked inactive,
    /// the others keep their values. One pass suffices because parents come first.
    pub fn resolve_conditions(&self, values: &mut [Value], rng: &mut Rng) {
        for (index, param) in self.params().iter().enumerate() {
            let active = self.is_active(index, values);
            if !active {
                values[index] = Value::Inactive;
            } else if !values[index].is_active() {
                values[index] = from_unit(&param.domain, rng.random());
            }
        }
    }

    /// Checks that `config` belongs to the space: one value per parameter, of the right kind
    /// and in range, active exactly where its condition holds.
    pub fn contains(&self, config: &Config) -> bool {
        config.len() == self.params().len() && self.violation(config.values()).is_none()
    }
}
