//! Holm's step-down correction for multiple comparisons (Holm, Scand. J. Statist. 1979):
//! the i-th smallest of m p-values is multiplied by m − i + 1, and the adjusted values are made
//! non-decreasing in that order and capped at 1, as `statsmodels.stats.multitest.multipletests`
//! with `method="holm"` computes them. It controls the family-wise error rate without
//! assuming independence, and is uniformly more powerful than Bonferroni's.

/// Holm-adjusted p-values, in the order of `p_values`.
pub fn holm(p_values: &[f64]) -> Vec<f64> {
    let m = p_values.len();
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&a, &b| p_values[a].total_cmp(&p_values[b]));
    let mut adjusted = vec![0.0; m];
    let mut running = 0.0f64;
    for (i, &index) in order.iter().enumerate() {
        running = running.max(((m - i) as f64 * p_values[index]).min(1.0));
        adjusted[index] = running;
    }
    adjusted
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_statsmodels() {
        // statsmodels 0.15.0: multipletests([0.01, 0.04, 0.03, 0.005, 0.2], method="holm")
        // -> p_adj [0.04, 0.09, 0.09, 0.025, 0.2].
        let adjusted = holm(&[0.01, 0.04, 0.03, 0.005, 0.2]);
        for (a, b) in adjusted.iter().zip([0.04, 0.09, 0.09, 0.025, 0.2]) {
            assert!((a - b).abs() < 1e-15, "{adjusted:?}");
        }
        assert_eq!(holm(&[0.3, 0.6]), [0.6, 0.6]);
        assert!(holm(&[]).is_empty());
    }
}
