//! The interquartile mean (IQM): the mean of the middle half of a sample, robust to outlying
//! seeds yet more efficient than the median. Agarwal et al. ("Deep Reinforcement Learning at
//! the Edge of the Statistical Precipice", NeurIPS 2021) recommend it for aggregating runs;
//! their `rliable` library computes it as `scipy.stats.trim_mean(x, 0.25)`, which cuts
//! ⌊0.25·n⌋ values from each end, and so does this.

/// The interquartile mean of `values` (NaN ignored); `None` if nothing is left.
pub fn interquartile_mean(values: &[f64]) -> Option<f64> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| !x.is_nan()).collect();
    v.sort_by(f64::total_cmp);
    iqm_sorted(&v)
}

/// The interquartile mean of ascending `sorted` values.
pub fn iqm_sorted(sorted: &[f64]) -> Option<f64> {
    let cut = sorted.len() / 4;
    let middle = &sorted[cut..sorted.len() - cut];
    (!middle.is_empty()).then(|| middle.iter().sum::<f64>() / middle.len() as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_scipy_trim_mean() {
        // scipy 1.17.1: trim_mean([5, 1, 9, 3, 7, 2, 8, 4, 6, 10], 0.25) = 5.5 (2 cut per side);
        // trim_mean([3, 1, 2, 10, 4, 5, 100], 0.25) = 4.8 (1 cut per side).
        assert_eq!(interquartile_mean(&[5.0, 1.0, 9.0, 3.0, 7.0, 2.0, 8.0, 4.0, 6.0, 10.0]), Some(5.5));
        assert!((interquartile_mean(&[3.0, 1.0, 2.0, 10.0, 4.0, 5.0, 100.0]).unwrap_or(0.0) - 4.8).abs() < 1e-12);
        assert_eq!(interquartile_mean(&[2.0, f64::NAN]), Some(2.0));
        assert_eq!(interquartile_mean(&[]), None);
    }
}
