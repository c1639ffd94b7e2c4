//! Speed-up over a baseline (Falkner, Klein & Hutter, BOHB, ICML 2018, Section 5: "×-fold
//! speed-up over random search"): the target is the baseline's median final score (the upper
//! median for an even number of seeds, so that at least half its seeds reach it; a seed without
//! an incumbent counts as infinitely bad); each strategy's time to reach it is the median over
//! its seeds of the first moment its incumbent is at least that good (never = infinite); the
//! speed-up is the baseline's time over the strategy's, on the wall-clock or the compute axis.
//! The percentile-bootstrap interval redoes the whole procedure, target included, on resamples
//! of both strategies' seeds, so the baseline's own time stays finite in every replicate.

use crate::bootstrap::{Estimate, RESAMPLES, percentile_interval};
use crate::incumbent::Trajectory;
use crate::quantile::median_of;
use hposim_core::Rng;
use rand::RngExt;

/// Which clock a speed-up is measured on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Axis {
    /// Simulated wall-clock time.
    Time,
    /// Worker-seconds of compute.
    Compute,
}

/// The baseline's target: the upper median of its seeds' final scores (infinite where a seed
/// has no incumbent); `None` if it is not finite.
pub fn baseline_target(baseline: &[&Trajectory]) -> Option<f64> {
    let mut finals: Vec<f64> = baseline.iter().map(|t| t.last().unwrap_or(f64::INFINITY)).collect();
    finals.sort_by(f64::total_cmp);
    finals.get(finals.len() / 2).copied().filter(|t| t.is_finite())
}

fn hit(t: &Trajectory, target: f64, axis: Axis) -> f64 {
    t.first_reaching(target).map_or(f64::INFINITY, |(time, compute)| match axis {
        Axis::Time => time,
        Axis::Compute => compute,
    })
}

fn median_hit(runs: &[&Trajectory], target: f64, axis: Axis) -> Option<f64> {
    median_of(&runs.iter().map(|t| hit(t, target, axis)).collect::<Vec<_>>())
}

/// Baseline time over strategy time; a strategy that does not reach the target in the median
/// has speed-up 0.
fn ratio(b: f64, s: f64) -> Option<f64> {
    match (b.is_finite(), s.is_finite()) {
        (false, false) => None,
        (_, false) => Some(0.0),
        (false, true) => Some(f64::INFINITY),
        (true, true) if s > 0.0 => Some(b / s),
        (true, true) => Some(if b > 0.0 { f64::INFINITY } else { 1.0 }),
    }
}

/// The speed-up of the runs `strategy` over the runs `baseline` on `axis`, with a percentile
/// bootstrap interval at `level`. `None` for an empty side or a baseline without a target.
pub fn speedup(baseline: &[&Trajectory], strategy: &[&Trajectory], axis: Axis, level: f64, rng: &mut Rng) -> Option<Estimate> {
    if strategy.is_empty() {
        return None;
    }
    let target = baseline_target(baseline)?;
    let value = ratio(median_hit(baseline, target, axis)?, median_hit(strategy, target, axis)?)?;
    let mut replicates = Vec::with_capacity(RESAMPLES);
    let (mut rb, mut rs): (Vec<&Trajectory>, Vec<&Trajectory>) = (baseline.to_vec(), strategy.to_vec());
    for _ in 0..RESAMPLES {
        for slot in rb.iter_mut() {
            *slot = baseline[rng.random_range(0..baseline.len())];
        }
        for slot in rs.iter_mut() {
            *slot = strategy[rng.random_range(0..strategy.len())];
        }
        let Some(target) = baseline_target(&rb) else { continue };
        if let Some(r) = ratio(median_hit(&rb, target, axis)?, median_hit(&rs, target, axis)?) {
            replicates.push(r);
        }
    }
    percentile_interval(value, replicates, level)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use rand::SeedableRng;

    /// A run whose incumbent takes each (time, score) in turn; compute is twice the time.
    fn run(points: &[(f64, f64)]) -> Trajectory {
        Trajectory {
            time: points.iter().map(|p| p.0).collect(),
            compute: points.iter().map(|p| 2.0 * p.0).collect(),
            score: points.iter().map(|p| p.1).collect(),
            fidelity: vec![1; points.len()],
        }
    }

    #[test]
    fn ratio_of_median_times_to_the_baselines_median_final_score() {
        // Baseline finals 1, 2, 3: target 2 (the median), reached at 10 and 20, never by the
        // third: median time 20. The strategy reaches 2 at 5, 10 and never: median 10. 2×.
        let base = [run(&[(10.0, 1.0)]), run(&[(20.0, 2.0)]), run(&[(30.0, 3.0)])];
        let strat = [run(&[(5.0, 1.5)]), run(&[(4.0, 2.5), (10.0, 1.0)]), run(&[(1.0, 2.5)])];
        let (b, s): (Vec<&Trajectory>, Vec<&Trajectory>) = (base.iter().collect(), strat.iter().collect());
        assert_eq!(baseline_target(&b), Some(2.0));
        let mut rng = Rng::seed_from_u64(2);
        let e = speedup(&b, &s, Axis::Time, 0.95, &mut rng).unwrap();
        assert_eq!(e.value, 2.0);
        assert!(e.low <= 2.0 && 2.0 <= e.high, "{e:?}");
        // Compute is twice the time on both sides: the same ratio.
        assert_eq!(speedup(&b, &s, Axis::Compute, 0.95, &mut rng).unwrap().value, 2.0);
        // Against itself: exactly 1, and every replicate is finite.
        let e = speedup(&b, &b, Axis::Time, 0.95, &mut rng).unwrap();
        assert_eq!(e.value, 1.0);
        assert!(e.high.is_finite(), "{e:?}");
        // A strategy that never gets there: 0.
        let never = [run(&[(1.0, 9.0)]), run(&[(1.0, 9.0)])];
        let n: Vec<&Trajectory> = never.iter().collect();
        assert_eq!(speedup(&b, &n, Axis::Time, 0.95, &mut rng).unwrap().value, 0.0);
        // A baseline most of whose seeds have no incumbent has no target.
        let empty = [Trajectory::default(), Trajectory::default(), run(&[(1.0, 1.0)])];
        let e: Vec<&Trajectory> = empty.iter().collect();
        assert_eq!(speedup(&e, &s, Axis::Time, 0.95, &mut rng), None);
        assert_eq!(speedup(&b, &[], Axis::Time, 0.95, &mut rng), None);
    }
}
