//! Grid search: every combination of a few values per parameter.
//!
//! Float and int parameters get `resolution` evenly spaced values on their own scale (log
//! scales spaced in the logarithm), endpoints included, a single value being the centre; int
//! values are rounded and deduplicated. Categorical and ordinal parameters contribute all their
//! values. Conditional parameters are expanded only where their condition holds, so a grid over
//! `optimizer ∈ {sgd, adam}` with a 5-point `momentum` for SGD has 5 + 1 points, not 10.
//!
//! Points are visited in a random order by default (Optuna's `GridSampler` also draws unvisited
//! grid points at random), so a grid cut short by the budget still covers the space evenly.
//! When every point has been proposed the sampler is exhausted.
//!
//! Restricted to a recorded set of configurations ([`crate::restricted`]), the grid is that
//! set: every recorded configuration once, in a random order (or in the set's order with
//! `shuffle = false`).

use crate::restricted::{Candidates, Pick};
use crate::{Sampler, SamplerError};
use hposim_core::{Config, Domain, Rng, SearchSpace, Value};
use rand::seq::SliceRandom;
use std::collections::BTreeMap;

/// Largest grid hposim will enumerate.
pub const MAX_GRID_POINTS: usize = 1_000_000;

/// Grid search.
#[derive(Debug)]
pub struct GridSampler {
    points: Vec<Config>,
    next: usize,
    shuffle: bool,
}

impl GridSampler {
    /// The grid over `space` with `resolution` values per numeric parameter (overridden per
    /// parameter by `resolutions`), shuffled with `rng` if `shuffle`.
    pub fn new(
        space: &SearchSpace,
        resolution: u32,
        resolutions: &BTreeMap<String, u32>,
        shuffle: bool,
        rng: &mut Rng,
    ) -> Result<Self, SamplerError> {
        let axes = validate(space, resolution, resolutions)?;
        let mut points = Vec::new();
        let mut values = Vec::with_capacity(space.len());
        expand(space, &axes, &mut values, &mut points)?;
        if shuffle {
            points.shuffle(rng);
        }
        Ok(Self { points, next: 0, shuffle })
    }

    /// All grid points, in the order they will be proposed.
    pub fn points(&self) -> &[Config] {
        &self.points
    }
}

impl Sampler for GridSampler {
    fn suggest(&mut self, _rng: &mut Rng) -> Option<Config> {
        let point = self.points.get(self.next)?.clone();
        self.next += 1;
        Some(point)
    }

    fn pick(&mut self, candidates: &Candidates<'_>, rng: &mut Rng) -> Option<Pick> {
        if self.shuffle { candidates.uniform_unused(rng) } else { candidates.nth_unused(0) }.map(Pick::Index)
    }
}

/// Checks the settings and returns the values of each parameter's axis.
pub fn validate(space: &SearchSpace, resolution: u32, resolutions: &BTreeMap<String, u32>) -> Result<Vec<Vec<Value>>, SamplerError> {
    let out_of_range = |r: u32| r == 0 || r as usize > MAX_GRID_POINTS;
    let range_message = || format!("must lie in 1..={MAX_GRID_POINTS}");
    if out_of_range(resolution) {
        return Err(SamplerError::Invalid { key: "resolution".into(), message: range_message() });
    }
    for (name, r) in resolutions {
        if space.index_of(name).is_none() {
            return Err(SamplerError::Invalid {
                key: format!("resolutions.{name}"),
                message: format!("no parameter `{name}` in the search space"),
            });
        }
        if out_of_range(*r) {
            return Err(SamplerError::Invalid { key: format!("resolutions.{name}"), message: range_message() });
        }
    }
    Ok(space.params().iter().map(|p| axis(&p.domain, resolutions.get(&p.name).copied().unwrap_or(resolution))).collect())
}

/// The values of one parameter's axis.
fn axis(domain: &Domain, resolution: u32) -> Vec<Value> {
    let fractions: Vec<f64> =
        if resolution == 1 { vec![0.5] } else { (0..resolution).map(|i| f64::from(i) / f64::from(resolution - 1)).collect() };
    let along = |low: f64, high: f64, log: bool, t: f64| {
        if log { (low.ln() + t * (high.ln() - low.ln())).exp() } else { low + t * (high - low) }
    };
    match domain {
        Domain::Float { low, high, log } => {
            fractions.iter().map(|t| Value::Float(along(*low, *high, *log, *t).clamp(*low, *high))).collect()
        }
        Domain::Int { low, high, log } => {
            let mut values: Vec<i64> =
                fractions.iter().map(|t| (along(*low as f64, *high as f64, *log, *t).round() as i64).clamp(*low, *high)).collect();
            values.dedup();
            values.into_iter().map(Value::Int).collect()
        }
        Domain::Categorical { choices: c } | Domain::Ordinal { values: c } => (0..c.len() as u32).map(Value::Choice).collect(),
    }
}

/// Depth-first expansion in parameter order; inactive parameters take no axis.
fn expand(space: &SearchSpace, axes: &[Vec<Value>], values: &mut Vec<Value>, out: &mut Vec<Config>) -> Result<(), SamplerError> {
    let index = values.len();
    if index == axes.len() {
        if out.len() >= MAX_GRID_POINTS {
            return Err(SamplerError::Invalid {
                key: "resolution".into(),
                message: format!("the grid has more than {MAX_GRID_POINTS} points; lower the resolution"),
            });
        }
        out.push(Config::new(values.clone()));
        return Ok(());
    }
    if space.is_active(index, values) {
        for value in &axes[index] {
            values.push(*value);
            expand(space, axes, values, out)?;
            values.pop();
        }
    } else {
        values.push(Value::Inactive);
        expand(space, axes, values, out)?;
        values.pop();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use hposim_core::{Choice, ConditionSpec, ParamSpec};
    use proptest::prelude::{any, prop_assert_eq, proptest};
    use rand::SeedableRng;
    use std::collections::BTreeSet;

    fn text(values: &[&str]) -> Vec<Choice> {
        values.iter().map(|v| Choice::Text((*v).into())).collect()
    }

    fn conditional_space() -> SearchSpace {
        SearchSpace::new(&[
            ParamSpec::Float { name: "lr".into(), low: 1e-4, high: 1e-1, log: true, condition: None },
            ParamSpec::Categorical { name: "optimizer".into(), choices: text(&["sgd", "adam"]), condition: None },
            ParamSpec::Categorical {
                name: "momentum_kind".into(),
                choices: text(&["none", "classic", "nesterov"]),
                condition: Some(ConditionSpec { parent: "optimizer".into(), values: text(&["sgd"]) }),
            },
            ParamSpec::Float {
                name: "momentum".into(),
                low: 0.5,
                high: 0.9,
                log: false,
                condition: Some(ConditionSpec { parent: "momentum_kind".into(), values: text(&["classic", "nesterov"]) }),
            },
        ])
        .unwrap()
    }

    #[test]
    fn conditional_parameters_expand_only_where_active() {
        let space = conditional_space();
        let grid = GridSampler::new(&space, 4, &BTreeMap::from([("momentum".into(), 3)]), false, &mut Rng::seed_from_u64(0)).unwrap();
        // lr: 4 values × (adam: 1 + sgd: none 1 + classic 3 + nesterov 3) = 4 × 8 = 32.
        assert_eq!(grid.points().len(), 32);
        for p in grid.points() {
            assert!(space.contains(p), "{p:?}");
        }
        // log spacing: 1e-4, 1e-3, 1e-2, 1e-1.
        let lrs: BTreeSet<String> = grid.points().iter().map(|p| format!("{:?}", p.get(0))).collect();
        assert_eq!(lrs.len(), 4);
        let first = grid.points()[0].get(0);
        assert!(matches!(first, Value::Float(x) if (x - 1e-4).abs() < 1e-15));
        assert!(grid.points().iter().any(|p| matches!(p.get(0), Value::Float(x) if (x - 1e-3).abs() < 1e-15)));
    }

    #[test]
    fn int_axes_round_and_deduplicate() {
        assert_eq!(axis(&Domain::Int { low: 1, high: 4, log: false }, 3), vec![Value::Int(1), Value::Int(3), Value::Int(4)]);
        assert_eq!(axis(&Domain::Int { low: 1, high: 2, log: false }, 5), vec![Value::Int(1), Value::Int(2)]);
        assert_eq!(axis(&Domain::Int { low: 16, high: 256, log: true }, 3), vec![Value::Int(16), Value::Int(64), Value::Int(256)]);
        assert_eq!(axis(&Domain::Float { low: 0.0, high: 1.0, log: false }, 1), vec![Value::Float(0.5)]);
    }

    #[test]
    fn exhausts_after_every_point() {
        let space = conditional_space();
        let mut rng = Rng::seed_from_u64(1);
        let mut grid = GridSampler::new(&space, 2, &BTreeMap::new(), true, &mut rng).unwrap();
        let n = grid.points().len();
        let proposed: Vec<Config> = std::iter::from_fn(|| grid.suggest(&mut rng)).collect();
        assert_eq!(proposed.len(), n);
        let distinct: BTreeSet<String> = proposed.iter().map(|c| format!("{c:?}")).collect();
        assert_eq!(distinct.len(), n);
    }

    #[test]
    fn bad_settings_are_named() {
        let space = conditional_space();
        let mut rng = Rng::seed_from_u64(1);
        let err = GridSampler::new(&space, 0, &BTreeMap::new(), true, &mut rng).err().unwrap();
        assert_eq!(err.to_string(), "resolution: must lie in 1..=1000000");
        let err = GridSampler::new(&space, u32::MAX, &BTreeMap::new(), true, &mut rng).err().unwrap();
        assert_eq!(err.to_string(), "resolution: must lie in 1..=1000000");
        let err = GridSampler::new(&space, 3, &BTreeMap::from([("beta".into(), 2)]), true, &mut rng).err().unwrap();
        assert_eq!(err.to_string(), "resolutions.beta: no parameter `beta` in the search space");
        let big: Vec<ParamSpec> =
            (0..5).map(|i| ParamSpec::Float { name: format!("x{i}"), low: 0.0, high: 1.0, log: false, condition: None }).collect();
        let err = GridSampler::new(&SearchSpace::new(&big).unwrap(), 20, &BTreeMap::new(), false, &mut rng).err().unwrap();
        assert!(err.to_string().contains("more than 1000000 points"), "{err}");
    }

    proptest! {
        /// Every combination of categorical choices appears in the grid, whatever the sizes.
        #[test]
        fn grid_covers_every_categorical_combination(sizes in proptest::collection::vec(1usize..4, 1..4), resolution in 1u32..4, seed in any::<u64>()) {
            let mut specs: Vec<ParamSpec> = sizes
                .iter()
                .enumerate()
                .map(|(i, k)| ParamSpec::Categorical { name: format!("c{i}"), choices: (0..*k as i64).map(Choice::Int).collect(), condition: None })
                .collect();
            specs.push(ParamSpec::Float { name: "x".into(), low: 0.0, high: 1.0, log: false, condition: None });
            let space = SearchSpace::new(&specs).unwrap();
            let grid = GridSampler::new(&space, resolution, &BTreeMap::new(), true, &mut Rng::seed_from_u64(seed)).unwrap();
            let combos: BTreeSet<String> = grid.points().iter().map(|p| format!("{:?}", &p.values()[..sizes.len()])).collect();
            let expected: usize = sizes.iter().product();
            prop_assert_eq!(combos.len(), expected);
            prop_assert_eq!(grid.points().len(), expected * resolution as usize);
        }
    }
}
