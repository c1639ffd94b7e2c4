//! A scrambled Sobol sequence (Sobol', 1967) as a quasi-random sampler.
//!
//! Point `i` of the sequence has one coordinate per parameter of the space, in the space's
//! (parents-first) order; each active parameter decodes its coordinate with
//! [`hposim_core::encoding::from_unit`] (so log scales, integer bins and choice bins are
//! respected), and a parameter whose condition does not hold, judged from the parents already
//! decoded, is [`hposim_core::Value::Inactive`]. Its coordinate is simply unused, so every parameter keeps its
//! own dimension whatever the activity pattern.
//!
//! The points come from [`sobol_burley`], Burley's hash-based Owen scrambling (Burley, "Practical
//! Hash-based Owen Scrambling", JCGT 9(4), 2020) of the Joe–Kuo direction numbers. Owen's nested
//! uniform scramble (Owen, 1995) keeps the net structure: every aligned block of 2^k points is a
//! (t, k, s)-net, so in particular each 1-D projection of the first 2^k points puts exactly one
//! point in each of 2^k equal cells. The scramble's seed is drawn once from the cell's sampler
//! stream when the sampler is built, so every cell sees its own independently randomised sequence,
//! and the first point is not the origin; for that reason no point is skipped (Owen, "On dropping
//! the first Sobol' point", MCQMC 2020, shows that skipping points harms a scrambled sequence).
//! Budgets that are powers of two get the full balance property, as for SciPy's `qmc.Sobol`.
//!
//! Limits of the generator, and how they are handled:
//! - at most [`MAX_DIMENSIONS`] (256) dimensions: larger spaces are refused when the sampler is
//!   built;
//! - at most 2^16 points per seed: point `2^16·b + j` is point `j` of the sequence scrambled with
//!   a seed derived from the cell's seed and block `b`, so a longer run continues with further
//!   independent nets of 2^16 points (Burley's recommended way to extend the sequence);
//! - 23 significant bits per coordinate: the digits below are filled with uniform random bits from
//!   the suggest stream. Under a full Owen scramble the digits beyond a net's resolution are
//!   independent and uniform, so this completes the scramble rather than adding noise, and it
//!   makes every value of an integer range wider than 2^23 reachable.

use crate::{Sampler, SamplerError};
use hposim_core::{Config, Rng, SearchSpace};
use rand::RngExt;
use serde::{Deserialize, Serialize};

/// The most parameters a space may have: one Sobol dimension per parameter, and
/// [`sobol_burley`] provides 256.
pub const MAX_DIMENSIONS: usize = sobol_burley::NUM_DIMENSIONS as usize;

/// Points [`sobol_burley`] generates per seed (`sample_index < 2^16`).
const POINTS_PER_SEED: u64 = 1 << 16;

/// The spacing of [`sobol_burley`]'s outputs: it returns multiples of 2^-23 in `[0, 1)`.
const RESOLUTION: f64 = 1.0 / (1u32 << 23) as f64;

/// Settings of the Sobol sampler. There are none: the scramble is seeded from the cell's
/// sampler stream and no point is skipped (see the module documentation), so `type = "sobol"`
/// alone selects it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SobolSettings {}

/// Proposes the points of an Owen-scrambled Sobol sequence, one after another; it never runs out.
#[derive(Debug)]
pub struct SobolSampler {
    space: SearchSpace,
    /// The cell's scramble seed, drawn once in [`SobolSampler::new`].
    seed: u32,
    /// Index of the next point in the (block-extended) sequence.
    next: u64,
}

impl SobolSampler {
    /// A scrambled Sobol sequence over `space`, its scramble seed drawn from `rng` (the cell's
    /// sampler stream). Refuses spaces with more than [`MAX_DIMENSIONS`] parameters.
    pub fn new(space: &SearchSpace, _settings: &SobolSettings, rng: &mut Rng) -> Result<Self, SamplerError> {
        if space.len() > MAX_DIMENSIONS {
            return Err(SamplerError::invalid(
                "type",
                format!(
                    "the Sobol sampler supports at most {MAX_DIMENSIONS} parameters (the dimension limit of the sobol_burley \
                     generator), but the search space has {}; use `random` or `latin_hypercube` instead",
                    space.len()
                ),
            ));
        }
        Ok(Self { space: space.clone(), seed: rng.random::<u32>(), next: 0 })
    }

    /// Coordinate `dimension` of point `index`, with its digits below 2^-23 drawn from `rng`.
    fn coordinate(&self, index: u64, dimension: usize, rng: &mut Rng) -> f64 {
        let block = index / POINTS_PER_SEED;
        // Block 0 uses the cell's seed itself; later blocks mix the block number in so their
        // scrambles are independent of each other and of block 0.
        let seed = if block == 0 { self.seed } else { hposim_core::rng::mix(u64::from(self.seed), block) as u32 };
        let within = (index % POINTS_PER_SEED) as u32;
        let coarse = f64::from(sobol_burley::sample(within, dimension as u32, seed));
        // `coarse` is a multiple of 2^-23 below 1, so the sum stays below 1 and in the same
        // 2^-23 cell: the net's stratification is untouched.
        coarse + rng.random::<f64>() * RESOLUTION
    }
}

impl Sampler for SobolSampler {
    fn suggest(&mut self, rng: &mut Rng) -> Option<Config> {
        let index = self.next;
        self.next += 1;
        Some(self.space.sample_with(|dimension| self.coordinate(index, dimension, rng)))
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

    fn floats(config: &Config) -> Vec<f64> {
        config
            .values()
            .iter()
            .map(|v| match v {
                Value::Float(x) => *x,
                other => panic!("expected a float, got {other:?}"),
            })
            .collect()
    }

    fn sampler(space: &SearchSpace, seed: u64) -> SobolSampler {
        SobolSampler::new(space, &SobolSettings::default(), &mut Rng::seed_from_u64(seed)).unwrap()
    }

    fn points(sampler: &mut SobolSampler, n: usize, rng: &mut Rng) -> Vec<Vec<f64>> {
        (0..n).map(|_| floats(&sampler.suggest(rng).unwrap())).collect()
    }

    /// Counts how many of `points` fall in each cell of a `cells`-per-axis grid over the
    /// coordinates `dims`.
    fn cell_counts(points: &[Vec<f64>], dims: &[usize], cells: usize) -> Vec<usize> {
        let mut counts = vec![0; cells.pow(dims.len() as u32)];
        for p in points {
            let mut at = 0;
            for &d in dims {
                let cell = (p[d] * cells as f64).floor() as usize;
                assert!(cell < cells, "coordinate {} outside [0, 1)", p[d]);
                at = at * cells + cell;
            }
            counts[at] += 1;
        }
        counts
    }

    #[test]
    fn first_power_of_two_points_are_stratified() {
        let space = unit_floats(8);
        for seed in 0..5 {
            let mut s = sampler(&space, seed);
            let mut rng = Rng::seed_from_u64(100 + seed);
            // Two consecutive aligned blocks of 16 points: each is a net on its own.
            for block in 0..2 {
                let pts = points(&mut s, 16, &mut rng);
                for d in 0..8 {
                    assert_eq!(cell_counts(&pts, &[d], 16), vec![1; 16], "seed {seed}, block {block}, dimension {d}");
                }
                // The first two Sobol dimensions form a (0, 4, 2)-net: one point per 4 × 4 cell.
                assert_eq!(cell_counts(&pts, &[0, 1], 4), vec![1; 16], "seed {seed}, block {block}");
            }
            // 256 points: one per 1/256 in every 1-D projection.
            let mut s = sampler(&space, seed);
            let pts = points(&mut s, 256, &mut rng);
            for d in 0..8 {
                assert_eq!(cell_counts(&pts, &[d], 256), vec![1; 256], "seed {seed}, dimension {d}");
            }
        }
    }

    #[test]
    fn independent_random_points_are_not_stratified() {
        // Guards the test above: plain random points almost never fill all 16 cells.
        let mut rng = Rng::seed_from_u64(7);
        let space = unit_floats(1);
        let pts: Vec<Vec<f64>> = (0..16).map(|_| floats(&space.sample(&mut rng))).collect();
        assert_ne!(cell_counts(&pts, &[0], 16), vec![1; 16]);
    }

    #[test]
    fn different_seeds_give_different_points_and_equal_seeds_the_same() {
        let space = unit_floats(3);
        let run = |seed: u64| {
            let mut s = sampler(&space, seed);
            points(&mut s, 8, &mut Rng::seed_from_u64(99))
        };
        assert_eq!(run(1), run(1));
        let (a, b) = (run(1), run(2));
        assert_ne!(a, b);
        // Not just shifted digits: the first points differ in every coordinate.
        assert!(a[0].iter().zip(&b[0]).all(|(x, y)| (x - y).abs() > 1e-9), "{a:?} vs {b:?}");
        // The first point is not the unscrambled origin.
        assert!(a[0].iter().all(|x| *x > 0.0));
    }

    #[test]
    fn log_scales_stay_in_bounds_and_are_stratified_in_the_logarithm() {
        let space = SearchSpace::new(&[
            ParamSpec::Float { name: "lr".into(), low: 1e-5, high: 1e-1, log: true, condition: None },
            ParamSpec::Int { name: "width".into(), low: 16, high: 1024, log: true, condition: None },
        ])
        .unwrap();
        let mut s = sampler(&space, 3);
        let mut rng = Rng::seed_from_u64(4);
        let configs: Vec<Config> = (0..64).map(|_| s.suggest(&mut rng).unwrap()).collect();
        let mut decades = [0; 4];
        for c in &configs {
            assert!(space.contains(c), "{c:?}");
            let Value::Float(lr) = c.get(0) else { panic!("{c:?}") };
            assert!((1e-5..=1e-1).contains(&lr));
            decades[((lr.log10() + 5.0).floor() as usize).min(3)] += 1;
            let Value::Int(w) = c.get(1) else { panic!("{c:?}") };
            assert!((16..=1024).contains(&w));
        }
        // 64 points over 4 decades of a log scale: exactly 16 per decade.
        assert_eq!(decades, [16; 4]);
    }

    #[test]
    fn conditional_children_are_inactive_exactly_where_their_condition_fails() {
        let text = |v: &[&str]| v.iter().map(|s| Choice::Text((*s).into())).collect::<Vec<_>>();
        let space = SearchSpace::new(&[
            ParamSpec::Float {
                name: "momentum".into(),
                low: 0.5,
                high: 0.99,
                log: false,
                condition: Some(ConditionSpec { parent: "optimizer".into(), values: text(&["sgd"]) }),
            },
            ParamSpec::Categorical { name: "optimizer".into(), choices: text(&["sgd", "adam", "rmsprop", "adagrad"]), condition: None },
            ParamSpec::Int { name: "layers".into(), low: 1, high: 4, log: false, condition: None },
        ])
        .unwrap();
        let optimizer = space.index_of("optimizer").unwrap();
        let momentum = space.index_of("momentum").unwrap();
        let mut s = sampler(&space, 5);
        let mut rng = Rng::seed_from_u64(6);
        let mut per_choice = [0; 4];
        for _ in 0..64 {
            let c = s.suggest(&mut rng).unwrap();
            assert!(space.contains(&c), "{c:?}");
            let Value::Choice(k) = c.get(optimizer) else { panic!("{c:?}") };
            per_choice[k as usize] += 1;
            assert_eq!(c.get(momentum).is_active(), k == 0, "{c:?}");
        }
        // The optimizer's dimension is stratified too: 64 points, 4 dyadic bins of 16 each.
        assert_eq!(per_choice, [16; 4]);
    }

    #[test]
    fn the_same_streams_repeat_the_same_configurations() {
        let space = unit_floats(4);
        let run = || {
            let mut build = Rng::seed_from_u64(11);
            let mut s = SobolSampler::new(&space, &SobolSettings::default(), &mut build).unwrap();
            let mut rng = Rng::seed_from_u64(12);
            (0..10).map(|_| s.suggest(&mut rng).unwrap()).collect::<Vec<_>>()
        };
        assert_eq!(run(), run());
    }

    #[test]
    fn continues_past_the_generators_sequence_length() {
        let space = unit_floats(2);
        let mut s = sampler(&space, 8);
        s.next = POINTS_PER_SEED - 16;
        let mut rng = Rng::seed_from_u64(9);
        let last = points(&mut s, 16, &mut rng);
        let next = points(&mut s, 16, &mut rng);
        // The first block of the next seed is a net of its own, and a different one.
        for d in 0..2 {
            assert_eq!(cell_counts(&last, &[d], 16), vec![1; 16]);
            assert_eq!(cell_counts(&next, &[d], 16), vec![1; 16]);
        }
        let mut s0 = sampler(&space, 8);
        assert_ne!(points(&mut s0, 16, &mut rng), next);
    }

    #[test]
    fn too_many_dimensions_are_refused_with_the_limit_named() {
        let err = SobolSampler::new(&unit_floats(MAX_DIMENSIONS + 1), &SobolSettings::default(), &mut Rng::seed_from_u64(0)).unwrap_err();
        let message = err.to_string();
        assert!(message.starts_with("type: "), "{message}");
        assert!(message.contains("at most 256 parameters") && message.contains("has 257"), "{message}");
        assert!(SobolSampler::new(&unit_floats(MAX_DIMENSIONS), &SobolSettings::default(), &mut Rng::seed_from_u64(0)).is_ok());
    }

    #[test]
    fn settings_parse_from_an_empty_table_and_refuse_unknown_keys() {
        assert_eq!(toml::from_str::<SobolSettings>("").unwrap(), SobolSettings {});
        assert!(toml::from_str::<SobolSettings>("skip = 1").is_err());
    }
}
