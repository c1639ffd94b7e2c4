//! Aggregation over seeds at one moment: mean, median and interquartile mean, each with a
//! percentile bootstrap confidence interval. A moment before every seed has an incumbent has
//! no aggregate: averaging only the seeds that have one would flatter the strategy.

use crate::bootstrap::{Estimate, bootstrap, mean, median};
use crate::trimmed_mean::iqm_sorted;
use hposim_core::Rng;

/// The three aggregates of one moment.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Band {
    /// Mean with its interval.
    pub mean: Option<Estimate>,
    /// Median with its interval.
    pub median: Option<Estimate>,
    /// Interquartile mean with its interval.
    pub iqm: Option<Estimate>,
}

/// The band of `scores` (one per seed; `None` where a seed has no incumbent yet) at `level`.
pub fn band(scores: &[Option<f64>], level: f64, rng: &mut Rng) -> Band {
    let Some(values) = scores.iter().copied().collect::<Option<Vec<f64>>>() else {
        return Band::default();
    };
    Band {
        mean: bootstrap(&values, level, rng, mean),
        median: bootstrap(&values, level, rng, median),
        iqm: bootstrap(&values, level, rng, iqm_sorted),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn aggregates_only_once_every_seed_has_a_value() {
        let mut rng = Rng::seed_from_u64(3);
        assert_eq!(band(&[Some(1.0), None], 0.95, &mut rng), Band::default());
        let b = band(&[Some(1.0), Some(2.0), Some(3.0), Some(10.0)], 0.95, &mut rng);
        assert_eq!(b.mean.unwrap().value, 4.0);
        assert_eq!(b.median.unwrap().value, 2.5);
        // ⌊4/4⌋ = 1 cut per side: mean of 2 and 3.
        assert_eq!(b.iqm.unwrap().value, 2.5);
    }
}
