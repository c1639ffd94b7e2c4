//! Percentile bootstrap confidence intervals (Efron & Tibshirani, An Introduction to the
//! Bootstrap, 1993, Section 13.3): the statistic is recomputed on resamples drawn with
//! replacement, and the interval is the α/2 and 1 − α/2 quantiles of those replicates. 1,000
//! resamples, as rliable and Syne Tune's benchmarking plots use by default for 95 % intervals.

use crate::quantile::quantile;
use hposim_core::Rng;
use rand::RngExt;

/// Resamples per interval.
pub const RESAMPLES: usize = 1000;

/// A point estimate with its confidence interval.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Estimate {
    /// The statistic on the sample.
    pub value: f64,
    /// Lower end of the interval.
    pub low: f64,
    /// Upper end of the interval.
    pub high: f64,
}

/// Fewest values for which an interval is given: resampling one or two values says nothing
/// about a population.
pub const MIN_SAMPLE: usize = 3;

/// The statistic `of` on `sample` with a percentile bootstrap interval at `level` (e.g. 0.95)
/// from [`RESAMPLES`] resamples drawn with `rng`; `of` receives each resample sorted
/// ascending. `None` for an empty sample or where `of` gives `None` on it; with fewer than
/// [`MIN_SAMPLE`] values the interval is NaN (none).
pub fn bootstrap(sample: &[f64], level: f64, rng: &mut Rng, of: impl Fn(&[f64]) -> Option<f64>) -> Option<Estimate> {
    let mut sorted = sample.to_vec();
    sorted.sort_by(f64::total_cmp);
    let value = of(&sorted)?;
    if sample.len() < MIN_SAMPLE {
        return Some(Estimate { value, low: f64::NAN, high: f64::NAN });
    }
    let n = sample.len();
    let mut resample = vec![0.0; n];
    let mut replicates = Vec::with_capacity(RESAMPLES);
    for _ in 0..RESAMPLES {
        for slot in resample.iter_mut() {
            *slot = sample[rng.random_range(0..n)];
        }
        resample.sort_by(f64::total_cmp);
        if let Some(r) = of(&resample) {
            replicates.push(r);
        }
    }
    percentile_interval(value, replicates, level)
}

/// `value` with the percentile interval at `level` of its bootstrap `replicates` (any order): their
/// α/2 and 1 − α/2 quantiles; `None` without replicates. Every bootstrap of the report ends here.
pub fn percentile_interval(value: f64, mut replicates: Vec<f64>, level: f64) -> Option<Estimate> {
    replicates.sort_by(f64::total_cmp);
    let alpha = 1.0 - level;
    Some(Estimate { value, low: quantile(&replicates, alpha / 2.0)?, high: quantile(&replicates, 1.0 - alpha / 2.0)? })
}

/// The mean of ascending values (any order works).
pub fn mean(values: &[f64]) -> Option<f64> {
    (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
}

/// The median of ascending values.
pub fn median(sorted: &[f64]) -> Option<f64> {
    quantile(sorted, 0.5)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn a_constant_sample_has_a_point_interval_and_intervals_cover_the_estimate() {
        let mut rng = Rng::seed_from_u64(1);
        let e = bootstrap(&[2.0; 7], 0.95, &mut rng, mean).unwrap();
        assert_eq!((e.value, e.low, e.high), (2.0, 2.0, 2.0));
        let sample: Vec<f64> = (0..40).map(|i| f64::from(i % 10)).collect();
        let e = bootstrap(&sample, 0.95, &mut rng, median).unwrap();
        assert!(e.low <= e.value && e.value <= e.high && e.low < e.high, "{e:?}");
        assert!(bootstrap(&[], 0.95, &mut rng, mean).is_none());
        let two = bootstrap(&[1.0, 2.0], 0.95, &mut rng, mean).unwrap();
        assert!(two.value == 1.5 && two.low.is_nan() && two.high.is_nan());
    }

    #[test]
    fn the_mean_interval_has_the_width_theory_predicts() {
        // The mean of 100 values 0..99 has standard error σ/√n = 28.87/10 ≈ 2.89, so a 95 %
        // interval is about ±1.96 · 2.89 ≈ ±5.7 wide around 49.5.
        let sample: Vec<f64> = (0..100).map(f64::from).collect();
        let e = bootstrap(&sample, 0.95, &mut Rng::seed_from_u64(7), mean).unwrap();
        assert_eq!(e.value, 49.5);
        let half = 0.5 * (e.high - e.low);
        assert!((half - 5.66).abs() < 0.6, "{e:?}");
    }
}
