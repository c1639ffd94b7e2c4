//! The fixed-target view of COCO (Hansen et al., "COCO: Performance Assessment", 2016/2021)
//! and IOHprofiler (Doerr et al., 2018): for a set of targets, the time each run takes to reach
//! each; their empirical cumulative distribution (the fraction of (run, target) pairs reached
//! by a given time, pooled over targets and benchmarks), and the expected running time
//! ERT = (Σ over runs of the time to the target, or the run's whole length where it never
//! got there) / (number of runs that got there) (Price 1997; Auger & Hansen 2005).

use crate::quantile::quantile;

/// Targets in normalised regret: from the median random configuration (1) down to 0.1 % of
/// its regret, three per decade as COCO's Δf targets are spaced (10^[2..−8] in five per
/// decade there; HPO runs resolve less).
pub const NORMALISED_TARGETS: [f64; 10] = [1.0, 0.5, 0.2, 0.1, 0.05, 0.02, 0.01, 0.005, 0.002, 0.001];

/// Quantile levels of the pooled final scores used as targets where regret cannot be
/// normalised (IOHprofiler's data-driven targets): from what 95 % of the runs end at to the
/// best final score of any run.
pub const DATA_TARGET_LEVELS: [f64; 8] = [0.95, 0.9, 0.75, 0.5, 0.25, 0.1, 0.05, 0.0];

/// Data-driven targets from the final scores of every run on a benchmark (NaN ignored).
pub fn data_targets(finals: &[f64]) -> Vec<f64> {
    let mut v: Vec<f64> = finals.iter().copied().filter(|x| x.is_finite()).collect();
    v.sort_by(f64::total_cmp);
    let mut targets: Vec<f64> = DATA_TARGET_LEVELS.iter().filter_map(|&q| quantile(&v, q)).collect();
    targets.dedup();
    targets
}

/// The ECDF of `hits` (times to target, infinite where never) at each point of `grid`: the
/// fraction of hits at or before it.
pub fn ecdf(hits: &[f64], grid: &[f64]) -> Vec<f64> {
    let mut sorted = hits.to_vec();
    sorted.sort_by(f64::total_cmp);
    grid.iter().map(|&x| if sorted.is_empty() { 0.0 } else { sorted.partition_point(|&h| h <= x) as f64 / sorted.len() as f64 }).collect()
}

/// The expected running time from per-run `hits` (time to target, `None` where never) and the
/// runs' lengths; `None` (infinite) if no run reached the target.
pub fn expected_running_time(hits: &[Option<f64>], lengths: &[f64]) -> Option<f64> {
    let successes = hits.iter().filter(|h| h.is_some()).count();
    let total: f64 = hits.iter().zip(lengths).map(|(h, l)| h.unwrap_or(*l)).sum();
    (successes > 0).then(|| total / successes as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ert_and_ecdf_by_hand() {
        // Two of three runs reach the target, at 10 and 30; the third ran 100 in vain:
        // ERT = (10 + 100 + 30) / 2 = 70.
        assert_eq!(expected_running_time(&[Some(10.0), None, Some(30.0)], &[100.0, 100.0, 100.0]), Some(70.0));
        assert_eq!(expected_running_time(&[None], &[5.0]), None);
        let hits = [10.0, f64::INFINITY, 30.0, 30.0];
        assert_eq!(ecdf(&hits, &[0.0, 10.0, 29.0, 30.0, 1e9]), [0.0, 0.25, 0.25, 0.75, 0.75]);
    }

    #[test]
    fn data_targets_span_the_final_scores() {
        let finals: Vec<f64> = (0..=100).map(f64::from).collect();
        assert_eq!(data_targets(&finals), [95.0, 90.0, 75.0, 50.0, 25.0, 10.0, 5.0, 0.0]);
        assert_eq!(data_targets(&[1.0, 1.0]), [1.0]);
    }
}
