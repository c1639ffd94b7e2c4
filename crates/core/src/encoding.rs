//! Encoding configurations to the unit cube and back.
//!
//! Each numeric parameter maps to one coordinate in `[0, 1]`:
//! - float, linear: `(x - low) / (high - low)`; log: the same on `ln x`;
//! - int: the integers are given equal-width bins, `(v - low + 0.5) / (high - low + 1)`, and a
//!   coordinate decodes to the bin it falls in; on a log scale the bins are taken on
//!   `[ln(low - 0.5), ln(high + 0.5)]` and decoding rounds, as Optuna's `IntDistribution(log=True)`
//!   does. Bins make uniform sampling in the cube uniform over the integers;
//! - ordinal: the index's bin centre, `(i + 0.5) / k`, so neighbours stay neighbours;
//! - categorical: either one coordinate per choice (one-hot, for kernels that must not impose an
//!   order) or the index's bin centre (for samplers that treat it as a label).
//!
//! Inactive parameters are marked with [`INACTIVE`] (NaN) in every coordinate they own, never
//! with an imputed value: a model sees explicitly that the dimension does not apply.

use crate::config::{Config, Value};
use crate::space::{Domain, SearchSpace};

/// The marker written into the coordinates of an inactive parameter.
pub const INACTIVE: f64 = f64::NAN;

/// How categorical parameters are encoded. Ordinal parameters always take one coordinate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CategoricalEncoding {
    /// One coordinate per choice, 1 for the chosen one and 0 elsewhere.
    OneHot,
    /// One coordinate, the centre of the chosen index's bin.
    Index,
}

/// The unit-cube coordinate of one active value of `domain`.
pub fn to_unit(domain: &Domain, value: Value) -> f64 {
    let u = match (domain, value) {
        (Domain::Float { low, high, log: false }, Value::Float(x)) => (x - low) / (high - low),
        (Domain::Float { low, high, log: true }, Value::Float(x)) => (x.ln() - low.ln()) / (high.ln() - low.ln()),
        (Domain::Int { low, high, log: false }, Value::Int(v)) => {
            (v - low) as f64 / (high - low + 1) as f64 + 0.5 / (high - low + 1) as f64
        }
        (Domain::Int { low, high, log: true }, Value::Int(v)) => {
            let (lo, hi) = log_int_bounds(*low, *high);
            ((v as f64).ln() - lo) / (hi - lo)
        }
        (Domain::Categorical { choices: c } | Domain::Ordinal { values: c }, Value::Choice(i)) => (f64::from(i) + 0.5) / c.len() as f64,
        _ => return INACTIVE,
    };
    u.clamp(0.0, 1.0)
}

/// The value of `domain` at unit-cube coordinate `u` (clamped to `[0, 1]`; NaN reads as 0.5).
pub fn from_unit(domain: &Domain, u: f64) -> Value {
    let u = if u.is_nan() { 0.5 } else { u.clamp(0.0, 1.0) };
    match domain {
        Domain::Float { low, high, log: false } => Value::Float((low + u * (high - low)).clamp(*low, *high)),
        Domain::Float { low, high, log: true } => Value::Float((low.ln() + u * (high.ln() - low.ln())).exp().clamp(*low, *high)),
        Domain::Int { low, high, log: false } => {
            let bins = (high - low + 1) as f64;
            Value::Int((*low + (u * bins).floor() as i64).clamp(*low, *high))
        }
        Domain::Int { low, high, log: true } => {
            let (lo, hi) = log_int_bounds(*low, *high);
            Value::Int(((lo + u * (hi - lo)).exp().round() as i64).clamp(*low, *high))
        }
        Domain::Categorical { choices: c } | Domain::Ordinal { values: c } => {
            let k = c.len();
            Value::Choice(((u * k as f64).floor() as usize).min(k.saturating_sub(1)) as u32)
        }
    }
}

fn log_int_bounds(low: i64, high: i64) -> (f64, f64) {
    ((low as f64 - 0.5).ln(), (high as f64 + 0.5).ln())
}

fn width(domain: &Domain, encoding: CategoricalEncoding) -> usize {
    match (domain, encoding) {
        (Domain::Categorical { choices }, CategoricalEncoding::OneHot) => choices.len(),
        _ => 1,
    }
}

impl SearchSpace {
    /// Number of unit-cube coordinates under `encoding`.
    pub fn encoded_len(&self, encoding: CategoricalEncoding) -> usize {
        self.params().iter().map(|p| width(&p.domain, encoding)).sum()
    }

    /// Writes `config`'s coordinates into `out` (length [`Self::encoded_len`]) without
    /// allocating. Inactive parameters get [`INACTIVE`] in all their coordinates.
    pub fn encode_into(&self, config: &Config, encoding: CategoricalEncoding, out: &mut [f64]) {
        let mut at = 0;
        for (param, &value) in self.params().iter().zip(config.values()) {
            let w = width(&param.domain, encoding);
            let slots = &mut out[at..at + w];
            match (&param.domain, value, encoding) {
                (_, Value::Inactive, _) => slots.fill(INACTIVE),
                (Domain::Categorical { .. }, Value::Choice(i), CategoricalEncoding::OneHot) => {
                    slots.fill(0.0);
                    if let Some(slot) = slots.get_mut(i as usize) {
                        *slot = 1.0;
                    }
                }
                (domain, value, _) => slots[0] = to_unit(domain, value),
            }
            at += w;
        }
    }

    /// `config`'s unit-cube coordinates as a new vector.
    pub fn encode(&self, config: &Config, encoding: CategoricalEncoding) -> Vec<f64> {
        let mut out = vec![0.0; self.encoded_len(encoding)];
        self.encode_into(config, encoding, &mut out);
        out
    }

    /// The configuration at unit-cube point `x`. Which parameters are active follows from the
    /// decoded parents (the markers in `x` are not trusted); an active parameter whose
    /// coordinate is NaN decodes to its centre. One-hot blocks decode to their largest entry.
    pub fn decode(&self, x: &[f64], encoding: CategoricalEncoding) -> Config {
        let mut values = Vec::with_capacity(self.len());
        let mut at = 0;
        for (index, param) in self.params().iter().enumerate() {
            let w = width(&param.domain, encoding);
            let value = if !self.is_active(index, &values) {
                Value::Inactive
            } else if w > 1 {
                let block = &x[at..at + w];
                let mut best = 0;
                for (i, v) in block.iter().enumerate() {
                    if *v > block[best] || block[best].is_nan() {
                        best = i;
                    }
                }
                Value::Choice(best as u32)
            } else {
                from_unit(&param.domain, x[at])
            };
            values.push(value);
            at += w;
        }
        Config::new(values)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::space::{Choice, ConditionSpec, ParamSpec};
    use proptest::prelude::*;

    fn space() -> SearchSpace {
        SearchSpace::new(&[
            ParamSpec::Float { name: "lr".into(), low: 1e-5, high: 1.0, log: true, condition: None },
            ParamSpec::Float { name: "dropout".into(), low: 0.0, high: 0.8, log: false, condition: None },
            ParamSpec::Int { name: "layers".into(), low: 1, high: 4, log: false, condition: None },
            ParamSpec::Int { name: "width".into(), low: 16, high: 1024, log: true, condition: None },
            ParamSpec::Ordinal { name: "batch".into(), values: vec![Choice::Int(32), Choice::Int(64), Choice::Int(128)], condition: None },
            ParamSpec::Categorical {
                name: "optimizer".into(),
                choices: vec![Choice::Text("sgd".into()), Choice::Text("adam".into()), Choice::Text("rmsprop".into())],
                condition: None,
            },
            ParamSpec::Float {
                name: "momentum".into(),
                low: 0.0,
                high: 0.99,
                log: false,
                condition: Some(ConditionSpec { parent: "optimizer".into(), values: vec![Choice::Text("sgd".into())] }),
            },
            ParamSpec::Int {
                name: "layer4_width".into(),
                low: 8,
                high: 64,
                log: false,
                condition: Some(ConditionSpec { parent: "layers".into(), values: vec![Choice::Int(4)] }),
            },
        ])
        .expect("valid test space")
    }

    #[test]
    fn hand_derived_coordinates() {
        let s = space();
        let c = Config::new(vec![
            Value::Float(1e-3),
            Value::Float(0.2),
            Value::Int(2),
            Value::Int(16),
            Value::Choice(2),
            Value::Choice(1),
            Value::Inactive,
            Value::Inactive,
        ]);
        let x = s.encode(&c, CategoricalEncoding::OneHot);
        assert_eq!(x.len(), 1 + 1 + 1 + 1 + 1 + 3 + 1 + 1);
        // ln(1e-3) is 2/5 of the way from ln(1e-5) to ln(1).
        assert!((x[0] - 0.4).abs() < 1e-12);
        assert!((x[1] - 0.25).abs() < 1e-12);
        // 4 integer bins of width 1/4; 2 is the second, centre 3/8.
        assert!((x[2] - 0.375).abs() < 1e-12);
        // log int bins over [ln 15.5, ln 1024.5]; 16 sits just above the bottom.
        let expected = (16f64.ln() - 15.5f64.ln()) / (1024.5f64.ln() - 15.5f64.ln());
        assert!((x[3] - expected).abs() < 1e-12);
        assert!((x[4] - 5.0 / 6.0).abs() < 1e-12);
        assert_eq!(&x[5..8], &[0.0, 1.0, 0.0]);
        assert!(x[8].is_nan() && x[9].is_nan());
        let index = s.encode(&c, CategoricalEncoding::Index);
        assert_eq!(index.len(), 8);
        assert!((index[5] - 0.5).abs() < 1e-12);
    }

    #[test]
    fn round_trip_of_hand_picked_configs() {
        let s = space();
        let configs = [
            Config::new(vec![
                Value::Float(1e-5),
                Value::Float(0.8),
                Value::Int(4),
                Value::Int(1024),
                Value::Choice(0),
                Value::Choice(0),
                Value::Float(0.9),
                Value::Int(64),
            ]),
            Config::new(vec![
                Value::Float(0.3),
                Value::Float(0.0),
                Value::Int(1),
                Value::Int(17),
                Value::Choice(1),
                Value::Choice(2),
                Value::Inactive,
                Value::Inactive,
            ]),
        ];
        for c in &configs {
            assert!(s.contains(c));
            for enc in [CategoricalEncoding::OneHot, CategoricalEncoding::Index] {
                let back = s.decode(&s.encode(c, enc), enc);
                assert_configs_close(&s, c, &back);
            }
        }
    }

    fn assert_configs_close(s: &SearchSpace, a: &Config, b: &Config) {
        for (i, (x, y)) in a.values().iter().zip(b.values()).enumerate() {
            match (x, y) {
                (Value::Float(x), Value::Float(y)) => {
                    assert!((x - y).abs() <= 1e-9 * x.abs().max(1e-12), "{}: {x} vs {y}", s.params()[i].name)
                }
                _ => assert_eq!(x, y, "{}", s.params()[i].name),
            }
        }
    }

    proptest! {
        #[test]
        fn encoded_values_lie_in_the_unit_interval(seed in any::<u64>(), one_hot in any::<bool>()) {
            use rand::SeedableRng;
            let s = space();
            let mut rng = crate::Rng::seed_from_u64(seed);
            let enc = if one_hot { CategoricalEncoding::OneHot } else { CategoricalEncoding::Index };
            let c = s.sample(&mut rng);
            let x = s.encode(&c, enc);
            let mut at = 0;
            for (p, v) in s.params().iter().zip(c.values()) {
                let w = if one_hot { p.domain.choice_count().filter(|_| matches!(p.domain, Domain::Categorical { .. })).unwrap_or(1) } else { 1 };
                for u in &x[at..at + w] {
                    if v.is_active() {
                        prop_assert!((0.0..=1.0).contains(u), "{} encoded to {u}", p.name);
                    } else {
                        prop_assert!(u.is_nan(), "inactive {} encoded to {u}", p.name);
                    }
                }
                at += w;
            }
        }

        #[test]
        fn decode_then_encode_round_trips(seed in any::<u64>()) {
            use rand::SeedableRng;
            let s = space();
            let mut rng = crate::Rng::seed_from_u64(seed);
            let c = s.sample(&mut rng);
            prop_assert!(s.contains(&c));
            for enc in [CategoricalEncoding::OneHot, CategoricalEncoding::Index] {
                let back = s.decode(&s.encode(&c, enc), enc);
                assert_configs_close(&s, &c, &back);
            }
        }

        #[test]
        fn any_point_of_the_cube_decodes_into_the_space(x in proptest::collection::vec(0.0f64..=1.0, 12)) {
            let s = space();
            let c = s.decode(&x, CategoricalEncoding::OneHot);
            prop_assert!(s.contains(&c), "{c:?}");
            let c = s.decode(&x[..8], CategoricalEncoding::Index);
            prop_assert!(s.contains(&c), "{c:?}");
        }
    }
}
