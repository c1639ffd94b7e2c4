//! Speed-up over a baseline (Falkner, Klein & Hutter, BOHB, ICML 2018, Section 5: "×-fold
//! speed-up over random search"): the baseline's final quality is the median over its seeds of
//! its final score; each strategy's time to reach it is the median over its seeds of the first
//! moment its incumbent is at least that good (never = infinite); the speed-up is the
//! baseline's time over the strategy's, on the wall-clock and on the compute axis. The
//! interval resamples the seeds of both with the percentile bootstrap.

use crate::bootstrap::{Estimate, RESAMPLES};
use crate::quantile::quantile;
use hposim_core::Rng;
use rand::RngExt;

/// The median of `values` (any order; infinite values allowed).
pub fn median_of(values: &[f64]) -> Option<f64> {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    quantile(&v, 0.5)
}

/// `baseline`'s median time over `strategy`'s (times to reach the target per seed, infinite
/// where never), with a percentile bootstrap interval at `level`. A strategy that does not reach
/// the target in the median has speed-up 0. `None` for an empty side or when neither reaches
/// it.
pub fn speedup(baseline: &[f64], strategy: &[f64], level: f64, rng: &mut Rng) -> Option<Estimate> {
    let ratio = |b: f64, s: f64| -> Option<f64> {
        match (b.is_finite(), s.is_finite()) {
            (_, false) if !b.is_finite() => None,
            (_, false) => Some(0.0),
            (false, true) => Some(f64::INFINITY),
            (true, true) if s > 0.0 => Some(b / s),
            (true, true) => Some(if b > 0.0 { f64::INFINITY } else { 1.0 }),
        }
    };
    let value = ratio(median_of(baseline)?, median_of(strategy)?)?;
    let mut replicates = Vec::with_capacity(RESAMPLES);
    let (mut rb, mut rs) = (vec![0.0; baseline.len()], vec![0.0; strategy.len()]);
    for _ in 0..RESAMPLES {
        for slot in rb.iter_mut() {
            *slot = baseline[rng.random_range(0..baseline.len())];
        }
        for slot in rs.iter_mut() {
            *slot = strategy[rng.random_range(0..strategy.len())];
        }
        if let Some(r) = ratio(median_of(&rb)?, median_of(&rs)?) {
            replicates.push(r);
        }
    }
    replicates.sort_by(f64::total_cmp);
    let alpha = 1.0 - level;
    Some(Estimate { value, low: quantile(&replicates, alpha / 2.0)?, high: quantile(&replicates, 1.0 - alpha / 2.0)? })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn ratio_of_median_times() {
        let mut rng = Rng::seed_from_u64(2);
        // Medians 20 and 10: twice as fast.
        let e = speedup(&[10.0, 20.0, 30.0], &[5.0, 10.0, 15.0], 0.95, &mut rng).unwrap();
        assert_eq!(e.value, 2.0);
        assert!(e.low <= 2.0 && e.high >= 2.0 && e.low > 0.0);
        // A strategy that reaches the target in fewer than half its seeds: speed-up 0.
        let e = speedup(&[10.0, 20.0, 30.0], &[f64::INFINITY, f64::INFINITY, 5.0], 0.95, &mut rng).unwrap();
        assert_eq!(e.value, 0.0);
        assert_eq!(speedup(&[f64::INFINITY; 3], &[f64::INFINITY; 3], 0.95, &mut rng), None);
        assert_eq!(speedup(&[], &[1.0], 0.95, &mut rng), None);
    }
}
