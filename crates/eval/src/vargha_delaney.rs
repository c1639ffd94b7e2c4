//! The Vargha–Delaney A measure of stochastic superiority (Vargha & Delaney, "A critique and
//! improvement of the CL common language effect size statistics of McGraw and Wong", Journal of
//! Educational and Behavioral Statistics 25(2), 2000, Eq. 2 and its estimate Eq. 14: Â = (R₁/m −
//! (m+1)/2)/n, the Mann–Whitney U of one sample over m·n), with a percentile bootstrap interval.
//! Here smaller scores are better, so A(x, y) = P(X < Y) + ½ P(X = Y): the probability that a run
//! of x ends better than a run of y, ties counted half. 0.5 is no effect; Vargha and Delaney's
//! thresholds for |A − 0.5| are 0.06 (small), 0.14 (medium) and 0.21 (large), i.e. A = 0.56, 0.64
//! and 0.71. It is the effect size that Arcuri & Briand (ICSE 2011) recommend for comparing
//! randomised algorithms.
//!
//! A counts every pair of a run of x and a run of y, as befits independent samples. Where the
//! runs are paired by seed (common random numbers), the effect size is instead the *paired*
//! probability of superiority, the share of seeds on which x ends better than y (ties half;
//! Grissom & Kim, "Effect Sizes for Research", 2nd ed., 2012, Section 6.2, PS_dep), on the same
//! scale: resampling seeds with replacement leaves A biased (a repeated seed's own pair always
//! counts), while the share of seeds won is a mean and bootstraps without bias.
//!
//! Infinite scores (runs without a result) are legitimate values: they are worse than every
//! finite score and tie with each other.

use crate::bootstrap::{Estimate, MIN_SAMPLE, RESAMPLES, percentile_interval};
use hposim_core::Rng;
use rand::RngExt;

/// A(x, y) = P(X < Y) + ½ P(X = Y) over every pair of a value of `x` and a value of `y`;
/// `None` if either is empty or holds NaN.
pub fn a_measure(x: &[f64], y: &[f64]) -> Option<f64> {
    if x.is_empty() || y.is_empty() || x.iter().chain(y).any(|v| v.is_nan()) {
        return None;
    }
    // Sort y once; for each x count the y above it and the y equal to it (O((m + n) log n)).
    let mut sorted = y.to_vec();
    sorted.sort_by(f64::total_cmp);
    let mut wins = 0.0;
    for &v in x {
        let below_or_equal = sorted.partition_point(|&w| w <= v);
        let below = sorted.partition_point(|&w| w < v);
        wins += (sorted.len() - below_or_equal) as f64 + 0.5 * (below_or_equal - below) as f64;
    }
    Some(wins / (x.len() * y.len()) as f64)
}

/// The share of pairs `(x[i], y[i])` with `x[i] < y[i]`, ties counted half; `None` if empty, of
/// different lengths, or holding NaN.
pub fn paired_superiority(x: &[f64], y: &[f64]) -> Option<f64> {
    if x.is_empty() || x.len() != y.len() || x.iter().chain(y).any(|v| v.is_nan()) {
        return None;
    }
    let won: f64 = x
        .iter()
        .zip(y)
        .map(|(a, b)| {
            if a < b {
                1.0
            } else if a == b {
                0.5
            } else {
                0.0
            }
        })
        .sum();
    Some(won / x.len() as f64)
}

/// How large an A is, in Vargha and Delaney's words.
pub fn magnitude(a: f64) -> &'static str {
    let d = (a - 0.5).abs();
    if d < 0.06 {
        "negligible"
    } else if d < 0.14 {
        "small"
    } else if d < 0.21 {
        "medium"
    } else {
        "large"
    }
}

/// The effect size of x over y with a percentile bootstrap interval at `level` from
/// [`RESAMPLES`] resamples: with `paired` (`x[i]` and `y[i]` belong to one seed), the paired
/// probability of superiority with seeds resampled as pairs; otherwise A(x, y) with each side
/// resampled on its own. With fewer than [`MIN_SAMPLE`] values on a side the interval is NaN.
pub fn a_with_interval(x: &[f64], y: &[f64], paired: bool, level: f64, rng: &mut Rng) -> Option<Estimate> {
    let of = |x: &[f64], y: &[f64]| if paired { paired_superiority(x, y) } else { a_measure(x, y) };
    let value = of(x, y)?;
    if x.len().min(y.len()) < MIN_SAMPLE || (paired && x.len() != y.len()) {
        return Some(Estimate { value, low: f64::NAN, high: f64::NAN });
    }
    let (mut rx, mut ry) = (vec![0.0; x.len()], vec![0.0; y.len()]);
    let mut replicates = Vec::with_capacity(RESAMPLES);
    for _ in 0..RESAMPLES {
        if paired {
            for (a, b) in rx.iter_mut().zip(ry.iter_mut()) {
                let i = rng.random_range(0..x.len());
                (*a, *b) = (x[i], y[i]);
            }
        } else {
            for a in rx.iter_mut() {
                *a = x[rng.random_range(0..x.len())];
            }
            for b in ry.iter_mut() {
                *b = y[rng.random_range(0..y.len())];
            }
        }
        if let Some(a) = of(&rx, &ry) {
            replicates.push(a);
        }
    }
    percentile_interval(value, replicates, level)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rand::SeedableRng;

    #[test]
    fn hand_derived_values() {
        // x = [1, 2, 3], y = [2, 4]: pairs (x < y): 1<2, 1<4, 2<4, 3<4 = 4; ties: 2=2 = 1.
        // A = (4 + 0.5) / 6 = 0.75.
        assert_eq!(a_measure(&[1.0, 2.0, 3.0], &[2.0, 4.0]), Some(0.75));
        assert_eq!(a_measure(&[2.0, 4.0], &[1.0, 2.0, 3.0]), Some(0.25));
        // Every x better: 1; identical samples: 0.5.
        assert_eq!(a_measure(&[0.0, 0.1], &[1.0, 2.0]), Some(1.0));
        assert_eq!(a_measure(&[1.0, 2.0], &[1.0, 2.0]), Some(0.5));
        // Runs without a result are worse than any result and tie with each other:
        // x = [1, ∞], y = [∞, ∞]: 1<∞ twice, ∞=∞ twice → (2 + 1) / 4.
        assert_eq!(a_measure(&[1.0, f64::INFINITY], &[f64::INFINITY, f64::INFINITY]), Some(0.75));
        assert_eq!(a_measure(&[], &[1.0]), None);
        assert_eq!(a_measure(&[f64::NAN], &[1.0]), None);
    }

    #[test]
    fn agrees_with_scipys_mann_whitney_u() {
        // Â is U over m·n (Vargha & Delaney, Eq. 14). scipy 1.17.1 (`/tmp/ref/bin/python`):
        //   mannwhitneyu([1,2,2,3,4,5,5,6,7,8,9,9], [3,4,4,5,6,7,8,8,10,11,12,12,13]).statistic
        //     -> 42.5, the pairs where x > y (ties half), so A(x, y) = 1 − 42.5/156 = 0.7275641025641026
        //   mannwhitneyu([0.2,0.5,0.9,1.3,1.7], [0.4,1.0,1.1,2.0,2.5,3.0]).statistic
        //     -> 8.0, so A(x, y) = 1 − 8/30 = 0.7333333333333334
        let x: Vec<f64> = [1, 2, 2, 3, 4, 5, 5, 6, 7, 8, 9, 9].iter().map(|&v| f64::from(v)).collect();
        let y: Vec<f64> = [3, 4, 4, 5, 6, 7, 8, 8, 10, 11, 12, 12, 13].iter().map(|&v| f64::from(v)).collect();
        let a = a_measure(&x, &y).unwrap_or(f64::NAN);
        assert!((a - 0.7275641025641026).abs() < 1e-12, "{a}");
        let a = a_measure(&[0.2, 0.5, 0.9, 1.3, 1.7], &[0.4, 1.0, 1.1, 2.0, 2.5, 3.0]).unwrap_or(f64::NAN);
        assert!((a - 0.7333333333333334).abs() < 1e-12, "{a}");
        assert_eq!((magnitude(0.5), magnitude(0.6), magnitude(0.3), magnitude(0.95)), ("negligible", "small", "medium", "large"));
    }

    #[test]
    fn the_interval_contains_the_estimate_and_pairs_are_kept() {
        let mut rng = hposim_core::Rng::seed_from_u64(7);
        let x: Vec<f64> = (0..12).map(|i| i as f64).collect();
        let y: Vec<f64> = (0..12).map(|i| i as f64 + 0.5).collect();
        // Unpaired, A counts the (i, j) with x[i] < y[j]: i ≤ j, 78 of 144 pairs.
        let e = a_with_interval(&x, &y, false, 0.95, &mut rng).unwrap_or(Estimate { value: 0.0, low: 0.0, high: 0.0 });
        assert!((e.value - 78.0 / 144.0).abs() < 1e-12);
        assert!(e.low <= e.value && e.value <= e.high, "{e:?}");
        // Paired, x wins on every seed: 1, and so does every resample.
        let e = a_with_interval(&x, &y, true, 0.95, &mut rng).unwrap_or(Estimate { value: 0.0, low: 0.0, high: 0.0 });
        assert_eq!((e.value, e.low, e.high), (1.0, 1.0, 1.0));
        // Seeds won 1, 0, ½ (a tie), 1: 0.625.
        assert_eq!(paired_superiority(&[1.0, 5.0, 2.0, 0.0], &[2.0, 4.0, 2.0, 1.0]), Some(0.625));
        assert_eq!(paired_superiority(&[1.0], &[1.0, 2.0]), None);
        let few = a_with_interval(&[1.0, 2.0], &[3.0, 4.0], false, 0.95, &mut rng).unwrap_or(Estimate { value: 0.0, low: 0.0, high: 0.0 });
        assert_eq!(few.value, 1.0);
        assert!(few.low.is_nan() && few.high.is_nan());
    }

    proptest! {
        /// A(x, y) + A(y, x) = 1, and A lies in [0, 1].
        #[test]
        fn complementary(x in prop::collection::vec(-5i32..5, 1..20), y in prop::collection::vec(-5i32..5, 1..20)) {
            let (x, y): (Vec<f64>, Vec<f64>) = (x.iter().map(|v| *v as f64).collect(), y.iter().map(|v| *v as f64).collect());
            let (a, b) = (a_measure(&x, &y).unwrap_or(f64::NAN), a_measure(&y, &x).unwrap_or(f64::NAN));
            prop_assert!((a + b - 1.0).abs() < 1e-12);
            prop_assert!((0.0..=1.0).contains(&a));
            // By brute force over all pairs.
            let brute = x.iter().flat_map(|u| y.iter().map(move |v| if u < v { 1.0 } else if u == v { 0.5 } else { 0.0 })).sum::<f64>()
                / (x.len() * y.len()) as f64;
            prop_assert!((a - brute).abs() < 1e-12);
        }
    }
}
