//! Latin hypercube sampling (McKay, Beckman & Conover, "A Comparison of Three Methods for
//! Selecting Values of Input Variables in the Analysis of Output from a Computer Code",
//! Technometrics 21(2), 1979).
//!
//! A design of `n = points` points splits each dimension into `n` equal strata and places
//! exactly one point in each, at a uniform position inside its stratum; the strata are matched
//! across dimensions by independent random permutations, one per dimension. Every 1-D
//! projection of a design is therefore evenly spread, which plain random search only achieves
//! on average. This is the classic "jittered" form (SciPy's `qmc.LatinHypercube` with its
//! default `scramble=True`), with no optimisation of the design beyond that.
//!
//! One dimension belongs to each parameter of the space, in the space's (parents-first) order;
//! active parameters decode their coordinate with [`hposim_core::encoding::from_unit`], and a
//! parameter whose condition does not hold, judged from the parents already decoded, is
//! [`hposim_core::Value::Inactive`].
//!
//! The balance holds for whole designs, so the natural choice for `points` is the experiment's
//! trial budget: the run then proposes one complete design. When a design is used up, the next
//! one starts, independent of the previous one. Each design is drawn when its first point is
//! requested, from the suggest stream.

use crate::{Sampler, SamplerError};
use hposim_core::{Config, Rng, SearchSpace};
use rand::RngExt;
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};

/// The most stratum indices a design may hold (`points` × parameters), 2^24 (64 MiB): a
/// design is stored whole while it is used, so absurd sizes are refused when the experiment
/// loads rather than when memory runs out.
pub const MAX_DESIGN_ENTRIES: u64 = 1 << 24;

fn default_points() -> u32 {
    100
}

/// Settings of the Latin hypercube sampler.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LatinHypercubeSettings {
    /// Points per design (default 100, at least 1). The experiment's trial budget is the
    /// natural choice: the balance of a Latin hypercube holds for complete designs only.
    #[serde(default = "default_points")]
    pub points: u32,
}

impl Default for LatinHypercubeSettings {
    fn default() -> Self {
        Self { points: default_points() }
    }
}

/// Proposes the points of Latin hypercube designs, one design after another; it never runs out.
#[derive(Debug)]
pub struct LatinHypercubeSampler {
    space: SearchSpace,
    /// Points per design.
    points: usize,
    /// The current design's strata, dimension-major: `strata[d * points + i]` is the stratum of
    /// point `i` in dimension `d`. Empty until the first design is drawn; reused for the next.
    strata: Vec<u32>,
    /// Index of the next point of the current design; `points` when it is used up.
    next: usize,
}

impl LatinHypercubeSampler {
    /// Latin hypercube designs of `settings.points` points over `space`.
    pub fn new(space: &SearchSpace, settings: &LatinHypercubeSettings) -> Result<Self, SamplerError> {
        if settings.points == 0 {
            return Err(SamplerError::invalid("points", "must be at least 1"));
        }
        let entries = u64::from(settings.points) * space.len() as u64;
        if entries > MAX_DESIGN_ENTRIES {
            return Err(SamplerError::invalid(
                "points",
                format!(
                    "a design of {} points over {} parameters has {entries} entries, more than the {MAX_DESIGN_ENTRIES} \
                     hposim holds; use fewer points",
                    settings.points,
                    space.len()
                ),
            ));
        }
        let points = settings.points as usize;
        Ok(Self { space: space.clone(), points, strata: Vec::new(), next: points })
    }

    /// Moves to the next point, drawing a fresh design first when the current one is used up,
    /// and returns the point's index within its design.
    fn advance(&mut self, rng: &mut Rng) -> usize {
        if self.next >= self.points {
            self.draw_design(rng);
            self.next = 0;
        }
        let point = self.next;
        self.next += 1;
        point
    }

    /// Draws independent stratum permutations for every dimension, reusing the buffer.
    fn draw_design(&mut self, rng: &mut Rng) {
        let n = self.points;
        self.strata.resize(n * self.space.len(), 0);
        for column in self.strata.chunks_exact_mut(n) {
            for (i, stratum) in column.iter_mut().enumerate() {
                *stratum = i as u32;
            }
            column.shuffle(rng);
        }
    }

    /// The unit coordinate of `point` in `dimension`: uniform within the point's stratum.
    fn coordinate(&self, dimension: usize, point: usize, rng: &mut Rng) -> f64 {
        let n = self.points as f64;
        let stratum = f64::from(self.strata[dimension * self.points + point]);
        let top = ((stratum + 1.0) / n).next_down();
        // Rounding could carry `(stratum + u) / n` up to the next stratum's edge for `u` just
        // below 1; capping at the float below that edge keeps one point per stratum exactly.
        ((stratum + rng.random::<f64>()) / n).min(top)
    }

    /// The unit coordinates of the next point (inactive dimensions included), advancing as
    /// [`Sampler::suggest`] does.
    #[cfg(test)]
    pub(crate) fn next_unit_point(&mut self, rng: &mut Rng) -> Vec<f64> {
        let point = self.advance(rng);
        (0..self.space.len()).map(|d| self.coordinate(d, point, rng)).collect()
    }
}

impl Sampler for LatinHypercubeSampler {
    fn suggest(&mut self, rng: &mut Rng) -> Option<Config> {
        let point = self.advance(rng);
        Some(self.space.sample_with(|dimension| self.coordinate(dimension, point, rng)))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use hposim_core::{Choice, ConditionSpec, ParamSpec, Value};
    use rand::SeedableRng;

    fn unit_floats(d: usize) -> SearchSpace {
        let specs: Vec<ParamSpec> =
            (0..d).map(|i| ParamSpec::Float { name: format!("x{i}"), low: 0.0, high: 1.0, log: false, condition: None }).collect();
        SearchSpace::new(&specs).unwrap()
    }

    fn sampler(space: &SearchSpace, points: u32) -> LatinHypercubeSampler {
        LatinHypercubeSampler::new(space, &LatinHypercubeSettings { points }).unwrap()
    }

    /// How many of `design`'s points fall in each of `n` equal strata of dimension `d`.
    fn strata_counts(design: &[Vec<f64>], d: usize, n: usize) -> Vec<usize> {
        let mut counts = vec![0; n];
        for p in design {
            assert!((0.0..1.0).contains(&p[d]), "{}", p[d]);
            counts[(p[d] * n as f64).floor() as usize] += 1;
        }
        counts
    }

    #[test]
    fn every_projection_of_a_design_has_one_point_per_stratum() {
        let space = unit_floats(5);
        let mut rng = Rng::seed_from_u64(1);
        for n in [1, 2, 7, 50] {
            let mut s = sampler(&space, n);
            for design in 0..3 {
                let points: Vec<Vec<f64>> = (0..n).map(|_| s.next_unit_point(&mut rng)).collect();
                for d in 0..5 {
                    assert_eq!(strata_counts(&points, d, n as usize), vec![1; n as usize], "n {n}, design {design}, dimension {d}");
                }
            }
        }
    }

    #[test]
    fn suggested_values_follow_the_design() {
        // On [0, 1] floats the suggested value is the unit coordinate itself, so the proposals
        // are stratified too (this checks `suggest`, not only the helper).
        let space = unit_floats(3);
        let mut s = sampler(&space, 20);
        let mut rng = Rng::seed_from_u64(2);
        let design: Vec<Vec<f64>> = (0..20)
            .map(|_| {
                let c = s.suggest(&mut rng).unwrap();
                c.values().iter().map(|v| if let Value::Float(x) = v { *x } else { panic!("{v:?}") }).collect()
            })
            .collect();
        for d in 0..3 {
            assert_eq!(strata_counts(&design, d, 20), vec![1; 20]);
        }
    }

    #[test]
    fn random_points_are_rarely_latin() {
        // Guards the tests above: 20 independent uniform points almost never fill 20 strata.
        let space = unit_floats(1);
        let mut rng = Rng::seed_from_u64(3);
        let points: Vec<Vec<f64>> = (0..20)
            .map(|_| space.sample(&mut rng).values().iter().map(|v| if let Value::Float(x) = v { *x } else { 0.0 }).collect())
            .collect();
        assert_ne!(strata_counts(&points, 0, 20), vec![1; 20]);
    }

    #[test]
    fn the_next_design_is_a_new_one() {
        let space = unit_floats(4);
        let mut s = sampler(&space, 10);
        let mut rng = Rng::seed_from_u64(4);
        let first: Vec<Vec<f64>> = (0..10).map(|_| s.next_unit_point(&mut rng)).collect();
        let first_strata = s.strata.clone();
        let second: Vec<Vec<f64>> = (0..10).map(|_| s.next_unit_point(&mut rng)).collect();
        assert_ne!(first, second);
        assert_ne!(first_strata, s.strata, "the permutations are redrawn, not only the jitter");
        for d in 0..4 {
            assert_eq!(strata_counts(&second, d, 10), vec![1; 10]);
        }
        // Dimensions are permuted independently, not with one shared permutation.
        let columns: Vec<&[u32]> = s.strata.chunks_exact(10).collect();
        assert!(columns.windows(2).any(|w| w[0] != w[1]));
    }

    #[test]
    fn conditional_spaces_yield_valid_configurations() {
        let text = |v: &[&str]| v.iter().map(|s| Choice::Text((*s).into())).collect::<Vec<_>>();
        let space = SearchSpace::new(&[
            ParamSpec::Float { name: "lr".into(), low: 1e-4, high: 1e-1, log: true, condition: None },
            ParamSpec::Categorical { name: "optimizer".into(), choices: text(&["sgd", "adam"]), condition: None },
            ParamSpec::Float {
                name: "momentum".into(),
                low: 0.5,
                high: 0.99,
                log: false,
                condition: Some(ConditionSpec { parent: "optimizer".into(), values: text(&["sgd"]) }),
            },
            ParamSpec::Ordinal {
                name: "batch".into(),
                values: vec![Choice::Int(32), Choice::Int(64), Choice::Int(128), Choice::Int(256)],
                condition: None,
            },
        ])
        .unwrap();
        let optimizer = space.index_of("optimizer").unwrap();
        let momentum = space.index_of("momentum").unwrap();
        let batch = space.index_of("batch").unwrap();
        let mut s = sampler(&space, 40);
        let mut rng = Rng::seed_from_u64(5);
        let mut optimizers = [0; 2];
        let mut batches = [0; 4];
        for _ in 0..40 {
            let c = s.suggest(&mut rng).unwrap();
            assert!(space.contains(&c), "{c:?}");
            let Value::Choice(o) = c.get(optimizer) else { panic!("{c:?}") };
            optimizers[o as usize] += 1;
            assert_eq!(c.get(momentum).is_active(), o == 0, "{c:?}");
            let Value::Choice(b) = c.get(batch) else { panic!("{c:?}") };
            batches[b as usize] += 1;
        }
        // A whole design gives each choice bin exactly its share.
        assert_eq!(optimizers, [20, 20]);
        assert_eq!(batches, [10; 4]);
    }

    #[test]
    fn the_same_stream_repeats_the_same_designs() {
        let space = unit_floats(3);
        let run = || {
            let mut s = sampler(&space, 6);
            let mut rng = Rng::seed_from_u64(6);
            (0..15).map(|_| s.suggest(&mut rng).unwrap()).collect::<Vec<_>>()
        };
        assert_eq!(run(), run());
    }

    #[test]
    fn bad_settings_are_named() {
        let space = unit_floats(2);
        let err = LatinHypercubeSampler::new(&space, &LatinHypercubeSettings { points: 0 }).unwrap_err();
        assert_eq!(err.to_string(), "points: must be at least 1");
        let err = LatinHypercubeSampler::new(&space, &LatinHypercubeSettings { points: u32::MAX }).unwrap_err();
        assert!(err.to_string().starts_with("points: a design of 4294967295 points over 2 parameters"), "{err}");
        assert_eq!(toml::from_str::<LatinHypercubeSettings>("").unwrap().points, 100);
        assert_eq!(toml::from_str::<LatinHypercubeSettings>("points = 32").unwrap().points, 32);
        assert!(toml::from_str::<LatinHypercubeSettings>("point = 32").is_err());
    }
}
