//! The median random configuration of a benchmark: where a configuration drawn from the prior
//! ends at full fidelity, in the median. Normalised regret maps it to 1 (and the best known
//! value to 0), so that regrets of benchmarks on different scales can be averaged, as in
//! HPOBench's and Syne Tune's benchmarking reports (Eggensperger et al., NeurIPS Datasets and
//! Benchmarks 2021, Section 5).

use crate::Benchmark;
use hposim_core::Rng;
use hposim_core::rng::mix;
use rand::RngExt;
use rayon::prelude::*;

/// Configurations drawn for [`median_random_final`] by default: enough for the median's
/// standard error to be about 3 % of the interquartile range.
pub const MEDIAN_RANDOM_SAMPLES: usize = 1000;

/// The median over `samples` configurations drawn from `bench`'s prior with `rng` of the first
/// objective after the last step of full fidelity. A run that diverges (NaN or infinite
/// metric at any step) counts as worse than every finished one, as in a study it yields
/// nothing. `None` if the benchmark has no objective, `samples` is 0 or the median itself is a
/// diverged run. The configurations are drawn in turn and trained on the current rayon pool's
/// threads (it is the serial part of starting an experiment: a thousand runs to full
/// fidelity), which changes nothing in the result.
pub fn median_random_final(bench: &dyn Benchmark, samples: usize, rng: &mut Rng) -> Option<f64> {
    let objective = bench.objectives().first()?;
    let max = bench.fidelity().max;
    let draws: Vec<_> = (0..samples).map(|index| (bench.space().sample(rng), mix(rng.random(), index as u64))).collect();
    // Stored as losses (smaller is better, diverged = +∞) so one sort serves both directions.
    let mut finals: Vec<f64> = draws
        .par_iter()
        .map_init(
            || vec![0.0; bench.objectives().len()],
            |metrics, (config, seed)| {
                let curve = bench.open(config, *seed);
                let mut value = f64::INFINITY;
                for step in 1..=max {
                    bench.step(&curve, step, metrics);
                    value = objective.loss(metrics[0]);
                    if value == f64::INFINITY {
                        break;
                    }
                }
                value
            },
        )
        .collect();
    finals.sort_by(f64::total_cmp);
    let (lower, upper) = (*finals.get(samples.checked_sub(1)? / 2)?, *finals.get(samples / 2)?);
    let median = 0.5 * (lower + upper);
    median.is_finite().then_some(objective.direction.sign() * median)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::synthetic::{DivergenceMode, DivergenceSpec, Synthetic, SyntheticSpec};
    use rand::SeedableRng;

    #[test]
    fn lands_where_the_synthetic_calibration_puts_it() {
        // Noise-free synthetic curves end at 0.05 + 0.35 · (0.9 − 0.05) = 0.3475 in the median
        // (the calibration of SyntheticSpec::median_quality), up to sampling error.
        let spec = SyntheticSpec { noise: 0.0, ..SyntheticSpec::default() };
        let bench = Synthetic::new("s".into(), &spec).unwrap();
        let median = median_random_final(&bench, 2001, &mut Rng::seed_from_u64(5)).unwrap();
        assert!((median - 0.3475).abs() < 0.03, "{median}");
        assert_eq!(median_random_final(&bench, 0, &mut Rng::seed_from_u64(5)), None);
    }

    #[test]
    fn diverged_runs_count_as_the_worst() {
        // With 60 % of the space diverging, the median random run is a diverged one.
        let spec = SyntheticSpec {
            noise: 0.0,
            divergence: Some(DivergenceSpec { fraction: 0.6, mode: DivergenceMode::Nan }),
            ..SyntheticSpec::default()
        };
        let bench = Synthetic::new("s".into(), &spec).unwrap();
        assert_eq!(median_random_final(&bench, 501, &mut Rng::seed_from_u64(5)), None);
    }
}
