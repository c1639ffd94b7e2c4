//! Spearman's rank correlation coefficient (Spearman 1904): Pearson's correlation of the ranks,
//! ties given their average rank, as `scipy.stats.spearmanr` computes it. How well a learning
//! curve's early values predict its final ones is this coefficient between the two, the
//! statistic early-termination methods rely on (e.g. Klein et al., LCBench, 2021, Figure 2).

/// Average ranks (1-based) of `values`; NaN values must have been removed.
pub fn average_ranks(values: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
    let mut ranks = vec![0.0; values.len()];
    let mut start = 0;
    while start < order.len() {
        let mut end = start + 1;
        while end < order.len() && values[order[end]] == values[order[start]] {
            end += 1;
        }
        // Positions start..end (0-based) share the mean of ranks start+1..=end.
        let rank = (start + end + 1) as f64 / 2.0;
        for &i in &order[start..end] {
            ranks[i] = rank;
        }
        start = end;
    }
    ranks
}

/// Σ (t³ − t) over the groups of `t` equal values in `values`: the tie term of the variance
/// corrections of rank tests (Wilcoxon's signed-rank, Friedman's). Zero when nothing is tied.
pub fn tie_term(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted
        .chunk_by(|a, b| a == b)
        .map(|group| {
            let t = group.len() as f64;
            t * t * t - t
        })
        .sum()
}

/// Spearman's ρ between paired samples, over the pairs where both are finite; `None` with
/// fewer than 3 such pairs or when either side is constant.
pub fn spearman(x: &[f64], y: &[f64]) -> Option<f64> {
    let (x, y): (Vec<f64>, Vec<f64>) = x.iter().zip(y).filter(|(a, b)| a.is_finite() && b.is_finite()).map(|(a, b)| (*a, *b)).unzip();
    if x.len() < 3 {
        return None;
    }
    let (rx, ry) = (average_ranks(&x), average_ranks(&y));
    let mean = (x.len() + 1) as f64 / 2.0;
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (a, b) in rx.iter().zip(&ry) {
        sxy += (a - mean) * (b - mean);
        sxx += (a - mean) * (a - mean);
        syy += (b - mean) * (b - mean);
    }
    (sxx > 0.0 && syy > 0.0).then(|| sxy / (sxx * syy).sqrt())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn ties_get_average_ranks() {
        assert_eq!(average_ranks(&[10.0, 20.0, 10.0, 30.0]), [1.5, 3.0, 1.5, 4.0]);
        // Groups of 2 and 3: (8 − 2) + (27 − 3) = 30.
        assert_eq!(tie_term(&[1.0, 2.0, 1.0, 3.0, 3.0, 3.0, 4.0]), 30.0);
        assert_eq!(tie_term(&[1.0, 2.0]), 0.0);
    }

    #[test]
    fn matches_scipy() {
        // scipy 1.17.1: scipy.stats.spearmanr([1, 2, 3, 4, 5], [5, 6, 7, 8, 7]).statistic
        // = 0.8207826816681233 (ties in y).
        let rho = spearman(&[1.0, 2.0, 3.0, 4.0, 5.0], &[5.0, 6.0, 7.0, 8.0, 7.0]).unwrap();
        assert!((rho - 0.8207826816681233).abs() < 1e-12, "{rho}");
        assert_eq!(spearman(&[1.0, 2.0, 3.0], &[3.0, 2.0, 1.0]), Some(-1.0));
        // NaN pairs are dropped; too few pairs or a constant side give no answer.
        assert_eq!(spearman(&[1.0, 2.0, f64::NAN, 3.0], &[1.0, 2.0, 0.0, 3.0]), Some(1.0));
        assert_eq!(spearman(&[1.0, 2.0], &[1.0, 2.0]), None);
        assert_eq!(spearman(&[1.0, 1.0, 1.0], &[1.0, 2.0, 3.0]), None);
    }
}
