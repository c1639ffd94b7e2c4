//! Nearest configurations: which of a fixed set of configurations (the rows of a recorded
//! table) is closest to a proposal.
//!
//! Distance is measured in the encoded unit cube of [`crate::encoding::to_unit`] (log scales
//! applied, integers and ordinals by position), but categorical parameters never cross: a
//! candidate whose categorical values or set of active parameters differ from the query's is
//! farther than every candidate that matches, however close its numbers. Formally the distance
//! is the pair (structural mismatches, squared Euclidean distance over the numeric parameters
//! active in both), compared lexicographically; ties go to the smallest candidate index. This
//! is the resolution rule of tabular benchmarks that snap a proposal to the nearest recorded
//! configuration, as HPOBench's and Syne Tune's tabular back-ends do for numeric parameters.

use crate::config::{Config, Value};
use crate::encoding::to_unit;
use crate::space::{Domain, SearchSpace};
use std::collections::HashMap;

/// One coordinate per parameter: `to_unit` for numeric (float, int, ordinal) parameters, the
/// choice index for categorical ones, NaN where inactive. Writes `space.len()` values.
pub fn encode_for_nearest(space: &SearchSpace, config: &Config, out: &mut [f64]) {
    for ((slot, param), index) in out.iter_mut().zip(space.params()).zip(0..) {
        let value = config.get(index);
        *slot = match (&param.domain, value) {
            (_, Value::Inactive) => f64::NAN,
            (Domain::Categorical { .. }, Value::Choice(c)) => f64::from(c),
            (domain, value) => to_unit(domain, value),
        };
    }
}

/// The distance between two encodings of [`encode_for_nearest`]: (mismatches, squared
/// distance). A mismatch is a categorical parameter with different values, or any parameter
/// active in one and inactive in the other.
pub fn distance(categorical: &[bool], a: &[f64], b: &[f64]) -> (u32, f64) {
    let mut mismatches = 0;
    let mut squared = 0.0;
    for ((&is_categorical, &x), &y) in categorical.iter().zip(a).zip(b) {
        match (x.is_nan(), y.is_nan()) {
            (true, true) => {}
            (false, false) if is_categorical => mismatches += u32::from(x != y),
            (false, false) => squared += (x - y) * (x - y),
            _ => mismatches += 1,
        }
    }
    (mismatches, squared)
}

/// A fixed set of configurations, indexed for nearest-configuration queries: candidates are
/// grouped by their categorical values and activity pattern, so a query scans only the
/// candidates it can match. Built once per recorded table and shared (behind an `Arc`) by the
/// benchmark that resolves proposals and the samplers restricted to the set.
#[derive(Clone, Debug)]
pub struct NearestIndex {
    /// The candidates, in index order.
    configs: Vec<Config>,
    categorical: Vec<bool>,
    /// Row-major encodings, `space.len()` per candidate.
    points: Vec<f64>,
    groups: HashMap<Vec<u64>, Vec<usize>>,
    /// The first candidate of each exact encoding: proposals on a discrete grid (ordinals,
    /// categoricals) resolve in constant time.
    exact: HashMap<Vec<u64>, usize>,
}

impl NearestIndex {
    /// Indexes `candidates` (configurations of `space`).
    pub fn new(space: &SearchSpace, candidates: Vec<Config>) -> Self {
        let dims = space.len();
        let categorical: Vec<bool> = space.params().iter().map(|p| matches!(p.domain, Domain::Categorical { .. })).collect();
        let mut points = vec![0.0; dims * candidates.len()];
        let mut groups: HashMap<Vec<u64>, Vec<usize>> = HashMap::new();
        let mut exact: HashMap<Vec<u64>, usize> = HashMap::new();
        for (i, config) in candidates.iter().enumerate() {
            let point = &mut points[i * dims..(i + 1) * dims];
            encode_for_nearest(space, config, point);
            groups.entry(signature(&categorical, point)).or_default().push(i);
            exact.entry(exact_key(point)).or_insert(i);
        }
        Self { configs: candidates, categorical, points, groups, exact }
    }

    /// The candidates, in index order.
    pub fn configs(&self) -> &[Config] {
        &self.configs
    }

    /// Number of candidates.
    pub fn len(&self) -> usize {
        self.configs.len()
    }

    /// Whether there are no candidates.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether some candidate matches the categorical values and activity pattern of `query`
    /// (an encoding of [`encode_for_nearest`]).
    pub fn has_match(&self, query: &[f64]) -> bool {
        self.groups.contains_key(&signature(&self.categorical, query))
    }

    /// The index of the candidate nearest to `query` among those `allowed`, or `None` if none
    /// is allowed. Candidates that match the query's categorical values are searched first; the
    /// others only when no matching candidate is allowed.
    pub fn nearest(&self, query: &[f64], allowed: impl Fn(usize) -> bool) -> Option<usize> {
        if let Some(&i) = self.exact.get(&exact_key(query))
            && allowed(i)
        {
            return Some(i);
        }
        if let Some(group) = self.groups.get(&signature(&self.categorical, query))
            && let Some(best) = self.best_of(query, group.iter().copied(), &allowed)
        {
            return Some(best);
        }
        self.best_of(query, 0..self.len(), &allowed)
    }

    fn best_of(&self, query: &[f64], candidates: impl Iterator<Item = usize>, allowed: &impl Fn(usize) -> bool) -> Option<usize> {
        let dims = self.categorical.len();
        let mut best: Option<(u32, f64, usize)> = None;
        for i in candidates.filter(|&i| allowed(i)) {
            let (mismatches, squared) = distance(&self.categorical, query, &self.points[i * dims..(i + 1) * dims]);
            let better = best.is_none_or(|(m, s, j)| (mismatches, squared, i) < (m, s, j));
            if better {
                best = Some((mismatches, squared, i));
            }
        }
        best.map(|(_, _, i)| i)
    }
}

/// An encoding as hashable words (NaN, i.e. inactive, as one value; −0 as +0).
fn exact_key(point: &[f64]) -> Vec<u64> {
    point.iter().map(|&x| if x.is_nan() { u64::MAX } else { (x + 0.0).to_bits() }).collect()
}

/// The categorical values and activity pattern of an encoding, as hashable words.
fn signature(categorical: &[bool], point: &[f64]) -> Vec<u64> {
    categorical
        .iter()
        .zip(point)
        .map(|(&is_categorical, &x)| match (x.is_nan(), is_categorical) {
            (true, _) => u64::MAX,
            (false, true) => x.to_bits(),
            (false, false) => 0,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::space::{Choice, ConditionSpec, ParamSpec};

    fn space() -> SearchSpace {
        SearchSpace::new(&[
            ParamSpec::Categorical {
                name: "opt".into(),
                choices: vec![Choice::Text("sgd".into()), Choice::Text("adam".into())],
                condition: None,
            },
            ParamSpec::Float { name: "lr".into(), low: 1e-4, high: 1.0, log: true, condition: None },
            ParamSpec::Float {
                name: "momentum".into(),
                low: 0.0,
                high: 1.0,
                log: false,
                condition: Some(ConditionSpec { parent: "opt".into(), values: vec![Choice::Text("sgd".into())] }),
            },
        ])
        .unwrap()
    }

    fn config(opt: u32, lr: f64, momentum: Option<f64>) -> Config {
        Config::new(vec![Value::Choice(opt), Value::Float(lr), momentum.map_or(Value::Inactive, Value::Float)])
    }

    #[test]
    fn categoricals_never_cross_while_a_match_exists() {
        let space = space();
        // Candidate 0 has the query's learning rate exactly but the other optimizer.
        let candidates = [config(1, 1e-2, None), config(0, 1.0, Some(0.9)), config(0, 1e-3, Some(0.5))];
        let index = NearestIndex::new(&space, candidates.to_vec());
        let mut query = vec![0.0; 3];
        encode_for_nearest(&space, &config(0, 1e-2, Some(0.5)), &mut query);
        // log10 distances: to candidate 1, lr 2 decades of 4 (0.5), momentum 0.4; to candidate
        // 2, lr 1 decade (0.25), momentum 0: candidate 2 is nearer.
        assert_eq!(index.nearest(&query, |_| true), Some(2));
        assert_eq!(index.nearest(&query, |i| i != 2), Some(1));
        // Only when no sgd candidate is allowed does the adam one come back.
        assert_eq!(index.nearest(&query, |i| i == 0), Some(0));
        assert_eq!(index.nearest(&query, |_| false), None);
    }

    #[test]
    fn distance_is_lexicographic_and_ties_go_to_the_first() {
        let space = space();
        let candidates = [config(0, 1e-2, Some(0.4)), config(0, 1e-2, Some(0.6))];
        let index = NearestIndex::new(&space, candidates.to_vec());
        let mut query = vec![0.0; 3];
        encode_for_nearest(&space, &config(0, 1e-2, Some(0.5)), &mut query);
        assert_eq!(index.nearest(&query, |_| true), Some(0));
        let categorical = [true, false, false];
        let mut a = vec![0.0; 3];
        let mut b = vec![0.0; 3];
        encode_for_nearest(&space, &config(0, 1e-4, Some(0.0)), &mut a);
        encode_for_nearest(&space, &config(1, 1.0, None), &mut b);
        // optimizer differs, momentum active in one only; lr spans the whole unit interval.
        assert_eq!(distance(&categorical, &a, &b), (2, 1.0));
        assert!(index.has_match(&query));
        // An exact hit resolves to its candidate, unless that one is not allowed.
        encode_for_nearest(&space, &candidates[1], &mut query);
        assert_eq!(index.nearest(&query, |_| true), Some(1));
        assert_eq!(index.nearest(&query, |i| i != 1), Some(0));
        encode_for_nearest(&space, &config(1, 1e-2, None), &mut query);
        assert!(!index.has_match(&query));
    }
}
