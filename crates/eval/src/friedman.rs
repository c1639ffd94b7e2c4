//! The Friedman test (Friedman, JASA 1937) for k treatments measured on N blocks, as
//! Demšar (JMLR 2006, Section 3.2.2) recommends for comparing algorithms over data sets and as
//! `scipy.stats.friedmanchisquare` computes it: treatments are ranked within each block
//! (smallest value rank 1, ties sharing the average rank), and
//! χ²_F = [12 / (N k (k+1)) Σ_j R_j² − 3 N (k+1)] / C with R_j the rank sums and
//! C = 1 − Σ(t³ − t) / (N k (k² − 1)) the tie correction, compared with χ² on k − 1 degrees of
//! freedom.

use crate::rank_correlation::{average_ranks, tie_term};
use statrs::distribution::{ChiSquared, ContinuousCDF};

/// The result of a Friedman test.
#[derive(Clone, Debug, PartialEq)]
pub struct Friedman {
    /// The tie-corrected statistic χ²_F.
    pub statistic: f64,
    /// Its p-value.
    pub p_value: f64,
    /// Mean rank of each treatment (1 = best, i.e. smallest).
    pub mean_ranks: Vec<f64>,
    /// Blocks N.
    pub blocks: usize,
}

/// Runs the test on `rows` (one row per block, one column per treatment; smaller is better;
/// infinite values rank last, equal ones tie). `None` with fewer than 2 blocks or 2
/// treatments, rows of unequal length, a NaN, or when every block ties every treatment.
pub fn friedman(rows: &[Vec<f64>]) -> Option<Friedman> {
    let n = rows.len();
    let k = rows.first()?.len();
    if n < 2 || k < 2 || rows.iter().any(|r| r.len() != k || r.iter().any(|v| v.is_nan())) {
        return None;
    }
    let mut rank_sums = vec![0.0; k];
    let mut ties = 0.0;
    for row in rows {
        let ranks = average_ranks(row);
        for (sum, r) in rank_sums.iter_mut().zip(&ranks) {
            *sum += r;
        }
        ties += tie_term(row);
    }
    let (nf, kf) = (n as f64, k as f64);
    let correction = 1.0 - ties / (nf * kf * (kf * kf - 1.0));
    if correction <= 0.0 {
        return None;
    }
    let sum_sq: f64 = rank_sums.iter().map(|r| r * r).sum();
    let statistic = (12.0 / (nf * kf * (kf + 1.0)) * sum_sq - 3.0 * nf * (kf + 1.0)) / correction;
    let p_value = ChiSquared::new(kf - 1.0).ok()?.sf(statistic.max(0.0));
    Some(Friedman { statistic, p_value, mean_ranks: rank_sums.iter().map(|r| r / nf).collect(), blocks: n })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    /// Six blocks, four treatments, one tie (block 4).
    pub(crate) fn table() -> Vec<Vec<f64>> {
        vec![
            vec![0.10, 0.20, 0.30, 0.25],
            vec![0.15, 0.12, 0.35, 0.30],
            vec![0.05, 0.22, 0.31, 0.20],
            vec![0.11, 0.21, 0.29, 0.29],
            vec![0.20, 0.18, 0.40, 0.33],
            vec![0.09, 0.25, 0.28, 0.26],
        ]
    }

    #[test]
    fn matches_scipy() {
        // scipy 1.17.1: friedmanchisquare(*np.array(table).T)
        // -> statistic 14.59322033898306, pvalue 0.002199430607168024.
        let f = friedman(&table()).unwrap();
        assert!((f.statistic - 14.59322033898306).abs() < 1e-12, "{}", f.statistic);
        assert!((f.p_value - 0.002199430607168024).abs() < 1e-12, "{}", f.p_value);
        let expected = [8.0 / 6.0, 11.0 / 6.0, 23.5 / 6.0, 17.5 / 6.0];
        for (a, b) in f.mean_ranks.iter().zip(expected) {
            assert!((a - b).abs() < 1e-12);
        }
        // Ties inside most rows: 11.936170212765957, p 0.007605043673998592.
        let tied: Vec<Vec<f64>> = [[1, 2, 2, 3], [1, 1, 2, 3], [2, 1, 3, 3], [1, 2, 3, 4], [1, 3, 2, 4]]
            .iter()
            .map(|r| r.iter().map(|&v| f64::from(v)).collect())
            .collect();
        let f = friedman(&tied).unwrap();
        assert!((f.statistic - 11.936170212765957).abs() < 1e-12);
        assert!((f.p_value - 0.007605043673998592).abs() < 1e-12);
    }

    #[test]
    fn refuses_what_it_cannot_test() {
        assert!(friedman(&[vec![1.0, 2.0]]).is_none());
        assert!(friedman(&[vec![1.0, 2.0], vec![1.0]]).is_none());
        assert!(friedman(&[vec![1.0, 1.0], vec![2.0, 2.0]]).is_none());
        assert!(friedman(&[vec![1.0, f64::NAN], vec![2.0, 1.0]]).is_none());
        // A run without a result (infinite) ranks last.
        let f = friedman(&[vec![1.0, f64::INFINITY], vec![1.0, 2.0]]).unwrap();
        assert_eq!(f.mean_ranks, [1.0, 2.0]);
    }
}
