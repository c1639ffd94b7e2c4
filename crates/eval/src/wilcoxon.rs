//! The Wilcoxon signed-rank test (Wilcoxon 1945) for paired samples, two-sided, computed as
//! `scipy.stats.wilcoxon` does by default (SciPy 1.17, `zero_method="wilcox"`,
//! `method="auto"`, `correction=False`): zero differences are dropped; the statistic is
//! min(R⁺, R⁻) over average ranks of |d|; the p-value is exact (the null distribution of R⁺ by
//! counting subsets) when there are at most 50 pairs and no ties or zeros, exact by enumerating
//! all 2ⁿ sign flips of the tied ranks (SciPy's permutation test, deterministic at this size)
//! when there are ties or zeros and at most 13 pairs, and otherwise from the normal
//! approximation with the tie correction of the variance and no continuity correction.

use crate::rank_correlation::{average_ranks, tie_term};
use statrs::distribution::{ContinuousCDF, Normal};

/// How the p-value was computed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WilcoxonMethod {
    /// Exact null distribution of R⁺ (no ties, no zeros, n ≤ 50).
    Exact,
    /// Enumeration of every sign flip of the observed ranks (ties or zeros, n ≤ 13).
    Permutation,
    /// Normal approximation with tie correction.
    Normal,
}

/// The result of a test.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Wilcoxon {
    /// min(R⁺, R⁻).
    pub statistic: f64,
    /// R⁺, the rank sum of the positive differences (x > y).
    pub r_plus: f64,
    /// R⁻, the rank sum of the negative differences (x < y).
    pub r_minus: f64,
    /// Two-sided p-value.
    pub p_value: f64,
    /// Pairs with a non-zero difference.
    pub nonzero: usize,
    /// How `p_value` was computed.
    pub method: WilcoxonMethod,
}

/// The pairs at most this many (zeros included) get an exact p-value when nothing is tied.
pub const EXACT_MAX_PAIRS: usize = 50;
/// The pairs at most this many (zeros included) get a permutation p-value when ties or zeros
/// rule out the exact one.
pub const PERMUTATION_MAX_PAIRS: usize = 13;

/// Tests whether the differences `x − y` are symmetric about zero. Infinite values are allowed
/// (a run without a result is infinitely bad): an infinite difference has the largest rank,
/// and two infinite values of the same sign tie (a zero difference). Pairs with a NaN are left
/// out. `None` if no difference is non-zero.
pub fn wilcoxon(x: &[f64], y: &[f64]) -> Option<Wilcoxon> {
    let d: Vec<f64> = x.iter().zip(y).filter(|(a, b)| !a.is_nan() && !b.is_nan()).map(|(a, b)| if a == b { 0.0 } else { a - b }).collect();
    let pairs = d.len();
    let d: Vec<f64> = d.into_iter().filter(|&v| v != 0.0).collect();
    let n = d.len();
    if n == 0 {
        return None;
    }
    let zeros = pairs - n;
    let ranks = average_ranks(&d.iter().map(|v| v.abs()).collect::<Vec<_>>());
    let r_plus: f64 = d.iter().zip(&ranks).filter(|(v, _)| **v > 0.0).map(|(_, r)| r).sum();
    let total = (n * (n + 1)) as f64 / 2.0;
    let statistic = r_plus.min(total - r_plus);
    // Tied |d| share an average rank, so equal ranks are exactly the ties.
    let ties = tie_term(&ranks) > 0.0;
    let (p_value, method) = if pairs <= EXACT_MAX_PAIRS && !ties && zeros == 0 {
        (exact_p(n, statistic), WilcoxonMethod::Exact)
    } else if pairs <= PERMUTATION_MAX_PAIRS {
        (permutation_p(&ranks, r_plus), WilcoxonMethod::Permutation)
    } else {
        (normal_p(&ranks, statistic), WilcoxonMethod::Normal)
    };
    Some(Wilcoxon { statistic, r_plus, r_minus: total - r_plus, p_value, nonzero: n, method })
}

/// 2·P(R⁺ ≤ t) under the null, from the number of subsets of {1, …, n} with each rank sum.
fn exact_p(n: usize, statistic: f64) -> f64 {
    let max = n * (n + 1) / 2;
    let mut counts = vec![0.0f64; max + 1];
    counts[0] = 1.0;
    for rank in 1..=n {
        for sum in (rank..=max).rev() {
            counts[sum] += counts[sum - rank];
        }
    }
    let t = statistic.floor() as usize;
    let below: f64 = counts[..=t.min(max)].iter().sum();
    (2.0 * below / 2f64.powi(n as i32)).min(1.0)
}

/// Two-sided p-value over all sign flips: 2·min(P(R⁺ ≤ r), P(R⁺ ≥ r)), capped at 1.
fn permutation_p(ranks: &[f64], r_plus: f64) -> f64 {
    let n = ranks.len();
    let tolerance = 1e-9 * (n * n) as f64;
    let (mut le, mut ge) = (0u64, 0u64);
    for mask in 0u64..(1 << n) {
        let sum: f64 = ranks.iter().enumerate().filter(|(i, _)| mask >> i & 1 == 1).map(|(_, r)| r).sum();
        if sum <= r_plus + tolerance {
            le += 1;
        }
        if sum >= r_plus - tolerance {
            ge += 1;
        }
    }
    let total = (1u64 << n) as f64;
    (2.0 * (le.min(ge) as f64) / total).min(1.0)
}

/// 2·Φ(−|z|) with z = (t − n(n+1)/4) / σ, σ² = n(n+1)(2n+1)/24 − Σ(t³ − t)/48 over tie groups.
fn normal_p(ranks: &[f64], statistic: f64) -> f64 {
    let n = ranks.len() as f64;
    let ties = tie_term(ranks);
    let mean = n * (n + 1.0) / 4.0;
    let se = ((n * (n + 1.0) * (2.0 * n + 1.0) - ties / 2.0) / 24.0).sqrt();
    if se == 0.0 {
        return 1.0;
    }
    let z = (statistic - mean) / se;
    // The standard normal is valid by construction.
    let normal = Normal::standard();
    (2.0 * normal.sf(z.abs())).min(1.0)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    // Reference values: scipy 1.17.1, numpy 2.4.6,
    // `scipy.stats.wilcoxon(x, y)` (defaults) and `wilcoxon(x, y, method="approx")`.

    #[test]
    #[allow(clippy::approx_constant)] // 3.14 is a measurement of scipy's example, not π.
    fn exact_without_ties_matches_scipy() {
        let x = [1.83, 0.50, 1.62, 2.48, 1.68, 1.88, 1.55, 3.06, 1.30, 0.91];
        let y = [0.878, 0.647, 0.598, 2.05, 1.06, 1.29, 1.06, 3.14, 1.29, 0.61];
        let w = wilcoxon(&x, &y).unwrap();
        assert_eq!((w.statistic, w.method), (5.0, WilcoxonMethod::Exact));
        assert!((w.p_value - 0.01953125).abs() < 1e-15);
        let d = [6.0, 8.0, 14.0, 16.0, 23.0, 24.0, 28.0, 29.0, 41.0, -48.0, 49.0, 56.0, 60.0, -67.0, 75.0];
        let w = wilcoxon(&d, &[0.0; 15]).unwrap();
        assert_eq!(w.statistic, 24.0);
        assert!((w.p_value - 0.041259765625).abs() < 1e-15);
        // All five differences positive: the smallest two-sided p-value with 5 pairs, 2/2⁵.
        let w = wilcoxon(&[1.0, 2.0, 3.0, 4.0, 5.0], &[0.0; 5]).unwrap();
        assert_eq!((w.statistic, w.p_value), (0.0, 0.0625));
    }

    #[test]
    fn ties_and_zeros_match_scipys_permutation_and_normal_approximation() {
        let d = [0.1, 0.2, 0.3, 0.3, 0.5, 0.0, 0.7, -0.2, 0.9, 0.4, 0.4, 1.1];
        let w = wilcoxon(&d, &[0.0; 12]).unwrap();
        assert_eq!((w.statistic, w.nonzero, w.method), (2.5, 11, WilcoxonMethod::Permutation));
        assert!((w.p_value - 0.00390625).abs() < 1e-15, "{}", w.p_value);
        // method="approx": 0.0066114014826679085 (tie-corrected variance, no continuity
        // correction).
        let nonzero: Vec<f64> = d.iter().copied().filter(|v| *v != 0.0).collect();
        let ranks = average_ranks(&nonzero.iter().map(|v: &f64| v.abs()).collect::<Vec<_>>());
        assert!((normal_p(&ranks, 2.5) - 0.0066114014826679085).abs() < 1e-12);
        // And for the tie-free sample above: 0.02182427562605354.
        let ranks: Vec<f64> = (1..=10).map(f64::from).collect();
        assert!((normal_p(&ranks, 5.0) - 0.02182427562605354).abs() < 1e-12);
    }

    #[test]
    fn many_pairs_use_the_normal_approximation_and_equal_samples_give_nothing() {
        let x: Vec<f64> = (0..60).map(|i| f64::from(i) * 0.1 + if i % 3 == 0 { 1.0 } else { 0.0 }).collect();
        let y: Vec<f64> = (0..60).map(|i| f64::from(i) * 0.1).collect();
        assert_eq!(wilcoxon(&x, &y).unwrap().method, WilcoxonMethod::Normal);
        assert_eq!(wilcoxon(&y, &y), None);
    }

    #[test]
    fn runs_without_a_result_rank_as_the_largest_differences() {
        // x misses a result on its last seed: that difference (+∞) ranks 6 of 6, so
        // R⁺ = 1 + 6 = 7 and R⁻ = 2 + 3 + 4 + 5 = 14, exactly as if it were any value above 0.5.
        let x = [0.1, 0.1, 0.1, 0.1, 0.1, f64::INFINITY];
        let y = [0.05, 0.25, 0.3, 0.35, 0.4, 0.1];
        let w = wilcoxon(&x, &y).unwrap();
        let z = wilcoxon(&[0.1, 0.1, 0.1, 0.1, 0.1, 0.7], &y).unwrap();
        assert_eq!((w.r_plus, w.r_minus), (7.0, 14.0));
        assert_eq!(w, z);
        // Two missing results tie (a zero difference, dropped).
        assert_eq!(wilcoxon(&[f64::INFINITY, 1.0], &[f64::INFINITY, 2.0]).unwrap().nonzero, 1);
    }
}
