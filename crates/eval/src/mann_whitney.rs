//! Unpaired rank tests, for results whose seeds cannot be paired (live studies: real training
//! noise is not shared between strategies, so two runs under one seed index are just two
//! independent runs):
//!
//! - the two-sided Mann–Whitney U test (Mann & Whitney, Ann. Math. Stat. 1947), as
//!   `scipy.stats.mannwhitneyu(x, y)` computes it by default (scipy 1.17): `U₁ = R₁ − n₁(n₁+1)/2`
//!   from the pooled average ranks; the exact null distribution when a sample has at most 8
//!   values and nothing ties, else the normal approximation with the tie-corrected variance
//!   `n₁n₂/12 · ((n+1) − Σ(t³−t)/(n(n−1)))` and a continuity correction of 0.5; p = 2·P(U ≥
//!   max(U₁, U₂)), clipped to 1;
//! - the Kruskal–Wallis H test (Kruskal & Wallis, JASA 1952), as `scipy.stats.kruskal`:
//!   `H = 12/(N(N+1)) Σ R_i²/n_i − 3(N+1)`, divided by `1 − Σ(t³−t)/(N³−N)`, against χ² with
//!   k − 1 degrees of freedom.

use crate::rank_correlation::{average_ranks, tie_term};
use statrs::distribution::{ChiSquared, ContinuousCDF, Normal};

/// How a Mann–Whitney p-value was computed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MannWhitneyMethod {
    /// The exact null distribution of U.
    Exact,
    /// The normal approximation (tie-corrected, with continuity correction).
    Asymptotic,
}

/// A Mann–Whitney U test's result.
#[derive(Clone, Debug, PartialEq)]
pub struct MannWhitney {
    /// U₁, the statistic of the first sample (scipy's `statistic`).
    pub u1: f64,
    /// n₁·n₂ − U₁.
    pub u2: f64,
    /// Two-sided p-value.
    pub p_value: f64,
    /// How it was computed.
    pub method: MannWhitneyMethod,
}

/// The two-sided Mann–Whitney U test of `x` against `y`; `None` if either is empty or holds a
/// NaN. Infinite values rank last, as in every test of the report.
pub fn mann_whitney(x: &[f64], y: &[f64]) -> Option<MannWhitney> {
    let (n1, n2) = (x.len(), y.len());
    if n1 == 0 || n2 == 0 || x.iter().chain(y).any(|v| v.is_nan()) {
        return None;
    }
    let pooled: Vec<f64> = x.iter().chain(y).copied().collect();
    let ranks = average_ranks(&pooled);
    let r1: f64 = ranks[..n1].iter().sum();
    let (f1, f2) = (n1 as f64, n2 as f64);
    let u1 = r1 - f1 * (f1 + 1.0) / 2.0;
    let u2 = f1 * f2 - u1;
    let u = u1.max(u2);
    let ties = tie_term(&pooled);
    let (p, method) = if (n1 <= 8 || n2 <= 8) && ties == 0.0 {
        (2.0 * exact_sf(n1, n2, u.round() as usize), MannWhitneyMethod::Exact)
    } else {
        let n = f1 + f2;
        let s = (f1 * f2 / 12.0 * ((n + 1.0) - ties / (n * (n - 1.0)))).sqrt();
        let z = (u - f1 * f2 / 2.0 - 0.5) / s;
        let normal = Normal::standard();
        (2.0 * normal.sf(z), MannWhitneyMethod::Asymptotic)
    };
    Some(MannWhitney { u1, u2, p_value: p.clamp(0.0, 1.0), method })
}

/// P(U ≥ `u`) under the null hypothesis for samples of sizes `n1` and `n2` without ties: the
/// number of arrangements with U = k follows `c(m, n, k) = c(m − 1, n, k − n) + c(m, n − 1, k)`.
fn exact_sf(n1: usize, n2: usize, u: usize) -> f64 {
    let (m, n) = (n1.min(n2), n1.max(n2));
    let max = m * n;
    // previous[j][k] = c(i − 1, j, k), current[j][k] = c(i, j, k); c(0, j, k) = c(i, 0, k) = [k = 0].
    let mut previous = vec![vec![0.0f64; max + 1]; n + 1];
    for row in &mut previous {
        row[0] = 1.0;
    }
    for _ in 1..=m {
        let mut current = vec![vec![0.0f64; max + 1]; n + 1];
        current[0][0] = 1.0;
        for j in 1..=n {
            for k in 0..=max {
                let from_larger = current[j - 1][k];
                let from_smaller = if k >= j { previous[j][k - j] } else { 0.0 };
                current[j][k] = from_larger + from_smaller;
            }
        }
        previous = current;
    }
    let counts = &previous;
    let total: f64 = counts[n].iter().sum();
    counts[n].iter().skip(u).sum::<f64>() / total
}

/// A Kruskal–Wallis test's result.
#[derive(Clone, Debug, PartialEq)]
pub struct KruskalWallis {
    /// The tie-corrected H.
    pub statistic: f64,
    /// Its p-value (χ², k − 1 degrees of freedom).
    pub p_value: f64,
    /// Mean pooled rank of each group (1 = smallest).
    pub mean_ranks: Vec<f64>,
}

/// The Kruskal–Wallis H test of `groups` (each non-empty); `None` with fewer than 2 groups, an
/// empty group, a NaN, or when every value ties.
pub fn kruskal_wallis(groups: &[Vec<f64>]) -> Option<KruskalWallis> {
    if groups.len() < 2 || groups.iter().any(|g| g.is_empty() || g.iter().any(|v| v.is_nan())) {
        return None;
    }
    let pooled: Vec<f64> = groups.iter().flatten().copied().collect();
    let ranks = average_ranks(&pooled);
    let n = pooled.len() as f64;
    let mut offset = 0;
    let mut sum = 0.0;
    let mut mean_ranks = Vec::with_capacity(groups.len());
    for group in groups {
        let r: f64 = ranks[offset..offset + group.len()].iter().sum();
        offset += group.len();
        sum += r * r / group.len() as f64;
        mean_ranks.push(r / group.len() as f64);
    }
    let correction = 1.0 - tie_term(&pooled) / (n * n * n - n);
    if correction <= 0.0 {
        return None;
    }
    let statistic = (12.0 / (n * (n + 1.0)) * sum - 3.0 * (n + 1.0)) / correction;
    let p_value = ChiSquared::new(groups.len() as f64 - 1.0).ok()?.sf(statistic.max(0.0));
    Some(KruskalWallis { statistic, p_value, mean_ranks })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    // Reference values from scipy 1.17.1 (`/tmp/ref/bin/python`, scipy.stats):
    //   mannwhitneyu([0.12,0.30,0.25,0.08,0.19], [0.31,0.44,0.29,0.52,0.38,0.27])
    //     -> statistic 2.0, pvalue 0.017316017316017316 (exact)
    //   mannwhitneyu([1,2,2,3,4,5,5,6,7,8,9,9], [3,4,4,5,6,7,8,8,10,11,12,12,13])
    //     -> statistic 42.5, pvalue 0.05608516066478532 (asymptotic, ties)
    //   mannwhitneyu([0.5,0.6,0.7], [0.1,0.2,0.3,0.4,0.8,0.9,1.0,1.1,1.2,1.3])
    //     -> statistic 12.0, pvalue 0.6923076923076923 (exact)
    //   kruskal([2.9,3.0,2.5,2.6,3.2], [3.8,2.7,4.0,2.4], [2.8,3.4,3.7,2.2,2.0])
    //     -> statistic 0.7714285714285722, pvalue 0.6799647735788936
    //   kruskal([1,1,2,3], [2,3,3,4,5], [5,6,6]) -> 8.067655875299765, 0.017706420985399672
    #[test]
    fn mann_whitney_matches_scipy() {
        let r = mann_whitney(&[0.12, 0.30, 0.25, 0.08, 0.19], &[0.31, 0.44, 0.29, 0.52, 0.38, 0.27]).unwrap();
        assert_eq!((r.u1, r.method), (2.0, MannWhitneyMethod::Exact));
        assert!((r.p_value - 0.017316017316017316).abs() < 1e-12, "{}", r.p_value);
        let x: Vec<f64> = [1, 2, 2, 3, 4, 5, 5, 6, 7, 8, 9, 9].iter().map(|&v| f64::from(v)).collect();
        let y: Vec<f64> = [3, 4, 4, 5, 6, 7, 8, 8, 10, 11, 12, 12, 13].iter().map(|&v| f64::from(v)).collect();
        let r = mann_whitney(&x, &y).unwrap();
        assert_eq!((r.u1, r.method), (42.5, MannWhitneyMethod::Asymptotic));
        assert!((r.p_value - 0.05608516066478532).abs() < 1e-9, "{}", r.p_value);
        let r = mann_whitney(&[0.5, 0.6, 0.7], &[0.1, 0.2, 0.3, 0.4, 0.8, 0.9, 1.0, 1.1, 1.2, 1.3]).unwrap();
        assert_eq!(r.u1, 12.0);
        assert!((r.p_value - 0.6923076923076923).abs() < 1e-12, "{}", r.p_value);
        assert!(mann_whitney(&[], &[1.0]).is_none() && mann_whitney(&[f64::NAN], &[1.0]).is_none());
    }

    #[test]
    fn kruskal_wallis_matches_scipy() {
        let r = kruskal_wallis(&[vec![2.9, 3.0, 2.5, 2.6, 3.2], vec![3.8, 2.7, 4.0, 2.4], vec![2.8, 3.4, 3.7, 2.2, 2.0]]).unwrap();
        assert!((r.statistic - 0.7714285714285722).abs() < 1e-12 && (r.p_value - 0.6799647735788936).abs() < 1e-12, "{r:?}");
        let r = kruskal_wallis(&[vec![1.0, 1.0, 2.0, 3.0], vec![2.0, 3.0, 3.0, 4.0, 5.0], vec![5.0, 6.0, 6.0]]).unwrap();
        assert!((r.statistic - 8.067655875299765).abs() < 1e-12 && (r.p_value - 0.017706420985399672).abs() < 1e-12, "{r:?}");
        assert!(kruskal_wallis(&[vec![1.0], vec![1.0]]).is_none());
    }

    #[test]
    fn the_exact_distribution_sums_to_one_and_is_symmetric() {
        for (m, n) in [(1, 1), (2, 3), (4, 4), (3, 8), (8, 20)] {
            assert!((exact_sf(m, n, 0) - 1.0).abs() < 1e-12);
            let max = m * n;
            for u in 0..=max {
                // P(U ≥ u) = P(U ≤ mn − u) = 1 − P(U ≥ mn − u + 1).
                let right = if max - u < max { 1.0 - exact_sf(m, n, max - u + 1) } else { 1.0 };
                assert!((exact_sf(m, n, u) - right).abs() < 1e-12, "{m}x{n} at {u}");
            }
        }
    }
}
