//! Training state carried across changes of configuration, for benchmarks whose dynamics have a
//! closed form while the hyperparameters stay fixed ([`crate::pbt_toy`],
//! [`crate::training_dynamics`]).
//!
//! A trial's curve is a chain of *segments*: each is `width` numbers `[start, state…, params…]`
//! and covers the steps after `start` until the next segment starts. The current (last)
//! segment sits in [`TrialCurve::coefficients`], so the steps the simulator asks for (always
//! after the last splice) are found in constant time without allocating; earlier segments sit
//! in [`TrialCurve::extra`], oldest first, so a spliced curve still replays what came before.

use crate::{INLINE_COEFFICIENTS, TrialCurve};

/// The segment that covers `step` (1-based): the last one starting before it.
pub(crate) fn segment_for(curve: &TrialCurve, width: usize, step: u32) -> &[f64] {
    let current = &curve.coefficients[..width];
    let step = f64::from(step);
    if step > current[0] || curve.extra.is_empty() {
        return current;
    }
    let mut earlier = curve.extra.chunks_exact(width);
    let first = earlier.next().unwrap_or(current);
    curve.extra.chunks_exact(width).rev().find(|segment| segment[0] < step).unwrap_or(first)
}

/// A curve that keeps `curve`'s segments before `step` and continues after `step` with
/// `segment` (whose start must be `step`); its noise comes from `seed`.
pub(crate) fn splice(curve: &TrialCurve, width: usize, step: u32, segment: [f64; INLINE_COEFFICIENTS], seed: u64) -> TrialCurve {
    let at = f64::from(step);
    let mut extra: Vec<f64> = curve.extra.chunks_exact(width).filter(|s| s[0] < at).flatten().copied().collect();
    if curve.coefficients[0] < at {
        extra.extend_from_slice(&curve.coefficients[..width]);
    }
    TrialCurve { coefficients: segment, extra, seed }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segment(start: f64, value: f64) -> [f64; INLINE_COEFFICIENTS] {
        let mut c = [0.0; INLINE_COEFFICIENTS];
        c[0] = start;
        c[1] = value;
        c
    }

    #[test]
    fn each_step_reads_the_segment_that_covers_it_and_a_splice_replaces_later_ones() {
        let fresh = TrialCurve::new(segment(0.0, 10.0), 1);
        let once = splice(&fresh, 2, 5, segment(5.0, 20.0), 2);
        let twice = splice(&once, 2, 8, segment(8.0, 30.0), 3);
        let value = |c: &TrialCurve, s| segment_for(c, 2, s)[1];
        assert_eq!([1, 5, 6, 8, 9, 100].map(|s| value(&twice, s)), [10.0, 10.0, 20.0, 20.0, 30.0, 30.0]);
        assert_eq!(twice.extra, vec![0.0, 10.0, 5.0, 20.0]);
        // Splicing again at step 5 drops the segments from step 5 on.
        let again = splice(&twice, 2, 5, segment(5.0, 40.0), 4);
        assert_eq!(again.extra, vec![0.0, 10.0]);
        assert_eq!([5, 6, 9].map(|s| value(&again, s)), [10.0, 40.0, 40.0]);
        assert_eq!(again.seed, 4);
    }
}
