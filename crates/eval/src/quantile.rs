//! Sample quantiles by linear interpolation between order statistics: Hyndman & Fan's
//! definition 7, the default of NumPy (`np.quantile`), R (`quantile(type = 7)`) and pandas.

/// The `q`-quantile (`q` in `[0, 1]`) of `sorted` (ascending, no NaN); `None` if empty.
pub fn quantile(sorted: &[f64], q: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let h = (sorted.len() - 1) as f64 * q.clamp(0.0, 1.0);
    let lo = h.floor() as usize;
    let hi = h.ceil() as usize;
    if lo == hi || sorted[lo] == sorted[hi] || sorted[hi].is_infinite() {
        // Exact order statistic, or an infinite upper neighbour (a run that never reached a
        // target): interpolating would give NaN or a meaningless mix.
        return Some(if lo == hi || sorted[lo] == sorted[hi] { sorted[lo] } else { sorted[hi] });
    }
    Some(sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo]))
}

/// The median of `values` in any order (infinite values allowed; no NaN); `None` if empty.
pub fn median_of(values: &[f64]) -> Option<f64> {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    quantile(&v, 0.5)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_numpy_linear_interpolation() {
        // np.quantile([1, 2, 3, 4], [0.25, 0.5, 0.75]) -> [1.75, 2.5, 3.25]
        let xs = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(quantile(&xs, 0.25), Some(1.75));
        assert_eq!(quantile(&xs, 0.5), Some(2.5));
        assert_eq!(quantile(&xs, 0.75), Some(3.25));
        // np.quantile([0.1, 0.4, 0.5, 0.9, 2.0], 0.25) -> 0.4
        assert_eq!(quantile(&[0.1, 0.4, 0.5, 0.9, 2.0], 0.25), Some(0.4));
        assert_eq!(quantile(&[7.0], 0.9), Some(7.0));
        assert_eq!(quantile(&[], 0.5), None);
        // Infinite values (targets never reached) are order statistics like any other.
        assert_eq!(quantile(&[1.0, 2.0, f64::INFINITY], 0.5), Some(2.0));
        assert_eq!(quantile(&[1.0, f64::INFINITY, f64::INFINITY], 0.5), Some(f64::INFINITY));
        assert_eq!(quantile(&[1.0, 3.0, f64::INFINITY, f64::INFINITY], 0.5), Some(f64::INFINITY));
    }
}
