//! The Nemenyi post-hoc test after a Friedman test (Nemenyi 1963; Demšar, JMLR 2006, Section
//! 3.2.2): two of k treatments ranked over N blocks differ significantly when their mean ranks
//! differ by at least the critical difference CD = q_α √(k(k+1)/(6N)), q_α being the
//! studentized range quantile over √2. Pairwise p-values follow scikit-posthocs'
//! `posthoc_nemenyi_friedman` (0.17): p = P(range_k > |R̄_i − R̄_j| √2 / √(k(k+1)/(6N))).

use crate::studentized_range;

/// The critical difference of mean ranks at level `alpha` for `k` treatments and `blocks`
/// blocks.
pub fn critical_difference(alpha: f64, k: usize, blocks: usize) -> f64 {
    let q = studentized_range::quantile(1.0 - alpha, k) / 2f64.sqrt();
    q * (k as f64 * (k as f64 + 1.0) / (6.0 * blocks as f64)).sqrt()
}

/// The matrix of pairwise p-values for `mean_ranks` over `blocks` blocks (1 on the diagonal).
pub fn pairwise_p_values(mean_ranks: &[f64], blocks: usize) -> Vec<Vec<f64>> {
    let k = mean_ranks.len();
    let scale = (k as f64 * (k as f64 + 1.0) / (6.0 * blocks as f64)).sqrt();
    (0..k)
        .map(|i| {
            (0..k)
                .map(|j| if i == j { 1.0 } else { studentized_range::sf((mean_ranks[i] - mean_ranks[j]).abs() * 2f64.sqrt() / scale, k) })
                .collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_scikit_posthocs() {
        // scikit-posthocs 0.17.1 (scipy 1.17.1): posthoc_nemenyi_friedman on the 6 × 4 table of
        // the Friedman test's tests, mean ranks [8, 11, 23.5, 17.5] / 6.
        let ranks = [8.0 / 6.0, 11.0 / 6.0, 23.5 / 6.0, 17.5 / 6.0];
        let expected = [
            [1.0, 0.9081317739014174, 0.002969436990049812, 0.1453533876535228],
            [0.9081317739014174, 1.0, 0.026661661141432424, 0.46594389916709134],
            [0.002969436990049812, 0.026661661141432424, 1.0, 0.5362869683523482],
            [0.1453533876535228, 0.46594389916709134, 0.5362869683523482, 1.0],
        ];
        let p = pairwise_p_values(&ranks, 6);
        for i in 0..4 {
            for j in 0..4 {
                assert!((p[i][j] - expected[i][j]).abs() < 1e-7, "{i},{j}: {}", p[i][j]);
            }
        }
    }

    #[test]
    fn critical_difference_follows_demsar() {
        // Demšar (2006), Section 3.2.2 example: k = 4 classifiers, N = 14 data sets, α = 0.05:
        // CD = 2.569 · √(4·5 / (6·14)) = 1.25.
        assert!((critical_difference(0.05, 4, 14) - 1.2536).abs() < 1e-3);
    }
}
