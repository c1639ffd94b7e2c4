//! The hypervolume indicator (Zitzler & Thiele 1998): the Lebesgue measure of the region
//! dominated by a set of points and bounded by a reference point. Exact in every dimension:
//! an O(n log n) sweep in two and three objectives, a sweep with incremental 3-D contributions
//! in four (HV4D, O(n²)), and WFG's exclusive-hypervolume recursion (While, Bradstreet &
//! Barone, IEEE TEC 2012) with the last objective sliced off at each level above that, down to
//! the four-objective sweep. Points are held flat (one vector, `m` values per point) inside. Directions are handled by negating maximised objectives (and their reference
//! coordinates); points not strictly better than the reference in every objective add nothing.

pub mod four;
mod staircase;
pub mod three;
pub mod two;
pub mod wfg;

use crate::Direction;

/// A hypervolume and how many points lay outside the reference box.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Hypervolume {
    /// The volume.
    pub volume: f64,
    /// Points not strictly better than the reference in every objective (they add nothing).
    pub outside: usize,
}

/// Why a hypervolume cannot be computed.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum HypervolumeError {
    /// The reference point has the wrong number of coordinates.
    #[error("the reference point has {found} coordinates, but the points have {expected} objectives")]
    Reference {
        /// Objectives.
        expected: usize,
        /// Coordinates given.
        found: usize,
    },
    /// A reference coordinate is NaN or infinite.
    #[error("reference coordinate {objective} is {value}; it must be a finite number")]
    NonFiniteReference {
        /// The objective.
        objective: usize,
        /// The value.
        value: f64,
    },
    /// A point has the wrong number of values.
    #[error("point {index} has {found} values, but the reference point has {expected}")]
    Point {
        /// Its index.
        index: usize,
        /// Objectives.
        expected: usize,
        /// Values given.
        found: usize,
    },
    /// A value is NaN.
    #[error("point {index}: objective {objective} is not a number")]
    NotANumber {
        /// The point.
        index: usize,
        /// The objective.
        objective: usize,
    },
    /// `directions` does not match the reference.
    #[error("{found} directions for {expected} objectives")]
    Directions {
        /// Objectives.
        expected: usize,
        /// Directions given.
        found: usize,
    },
}

/// The hypervolume of `points` (one vector of objective values each) with respect to
/// `reference`, each objective minimised or maximised as `directions` says.
pub fn hypervolume(points: &[Vec<f64>], reference: &[f64], directions: &[Direction]) -> Result<Hypervolume, HypervolumeError> {
    let m = reference.len();
    if directions.len() != m {
        return Err(HypervolumeError::Directions { expected: m, found: directions.len() });
    }
    if let Some(objective) = reference.iter().position(|v| !v.is_finite()) {
        return Err(HypervolumeError::NonFiniteReference { objective, value: reference[objective] });
    }
    let sign: Vec<f64> = directions.iter().map(|d| d.sign()).collect();
    let r: Vec<f64> = reference.iter().zip(&sign).map(|(v, s)| v * s).collect();
    let mut inside = Vec::with_capacity(points.len() * m);
    let mut outside = 0;
    for (index, p) in points.iter().enumerate() {
        if p.len() != m {
            return Err(HypervolumeError::Point { index, expected: m, found: p.len() });
        }
        if let Some(objective) = p.iter().position(|v| v.is_nan()) {
            return Err(HypervolumeError::NotANumber { index, objective });
        }
        if p.iter().zip(&sign).zip(&r).all(|((v, s), b)| v * s < *b) {
            inside.extend(p.iter().zip(&sign).map(|(v, s)| v * s));
        } else {
            outside += 1;
        }
    }
    Ok(Hypervolume { volume: minimising_flat(&inside, &r), outside })
}

/// The hypervolume of minimised `points`, every one strictly inside the box of `reference`
/// and of its length.
pub fn minimising(points: &[Vec<f64>], reference: &[f64]) -> f64 {
    let flat: Vec<f64> = points.iter().flatten().copied().collect();
    minimising_flat(&flat, reference)
}

/// The hypervolume of minimised `points` held flat (`reference.len()` values per point),
/// every one strictly inside the box of `reference`.
pub fn minimising_flat(points: &[f64], reference: &[f64]) -> f64 {
    if points.is_empty() {
        return 0.0;
    }
    match reference.len() {
        0 => 0.0,
        1 => reference[0] - points.iter().copied().fold(f64::INFINITY, f64::min),
        2 => two::hypervolume_2d(points, reference),
        3 => three::hypervolume_3d(points, reference),
        4 => four::hypervolume_4d(points, reference),
        _ => wfg::hypervolume_wfg(points, reference),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use proptest::prelude::*;

    fn min(m: usize) -> Vec<Direction> {
        vec![Direction::Minimize; m]
    }

    fn hv(points: &[Vec<f64>], reference: &[f64]) -> f64 {
        hypervolume(points, reference, &min(reference.len())).unwrap().volume
    }

    /// Inclusion–exclusion over every subset: the union of boxes [p, r] by definition.
    fn brute_force(points: &[Vec<f64>], reference: &[f64]) -> f64 {
        let inside: Vec<&Vec<f64>> = points.iter().filter(|p| p.iter().zip(reference).all(|(a, r)| a < r)).collect();
        let mut total = 0.0;
        for mask in 1u32..(1 << inside.len()) {
            let members: Vec<&Vec<f64>> = (0..inside.len()).filter(|i| mask >> i & 1 == 1).map(|i| inside[i]).collect();
            let corner: Vec<f64> = (0..reference.len()).map(|k| members.iter().map(|p| p[k]).fold(f64::NEG_INFINITY, f64::max)).collect();
            let volume: f64 = corner.iter().zip(reference).map(|(c, r)| r - c).product();
            total += if members.len() % 2 == 1 { volume } else { -volume };
        }
        total
    }

    /// The random points of `crates/eval/benches/pareto.rs` (coordinate k of point i is
    /// `stateless_uniform(m, i·m + k)`), reference 1.1 in each objective, against pymoo 0.6.2's
    /// `HV` (moocore's C code), printed by
    /// `python crates/eval/benches/pareto_points.py` (pymoo 0.6.2, numpy 2.4.6, 2026-12-07); Optuna
    /// 5.0's `compute_hypervolume` printed 1.2397748134499245, 1.4325916105650194 and
    /// 1.4578475853569939.
    #[test]
    fn matches_pymoo_on_the_benchmark_points() {
        for (n, m, pymoo) in [(200, 5, 1.239774813449925), (2000, 4, 1.4325916105650216), (2000, 5, 1.4578475853569963)] {
            let points: Vec<Vec<f64>> =
                (0..n).map(|i| (0..m).map(|k| crate::rng::stateless_uniform(m as u64, (i * m + k) as u64)).collect()).collect();
            let volume = hv(&points, &vec![1.1; m]);
            assert!((volume - pymoo).abs() < 1e-12, "{n} points in {m} objectives: {volume} against pymoo's {pymoo}");
        }
    }

    #[test]
    fn hand_computed_fronts() {
        // 2-D staircase: 3·1 + 2·1 + 1·1 = 6.
        assert_eq!(hv(&[vec![1.0, 3.0], vec![2.0, 2.0], vec![3.0, 1.0]], &[4.0, 4.0]), 6.0);
        // 3-D: boxes 2·2·1 = 4 and 1·1·2 = 2 overlapping in 1·1·1: 5.
        assert_eq!(hv(&[vec![0.0, 0.0, 1.0], vec![1.0, 1.0, 0.0]], &[2.0, 2.0, 2.0]), 5.0);
        assert_eq!(hv(&[vec![1.0, 1.0, 1.0]], &[2.0, 3.0, 4.0]), 6.0);
        // 4-D: boxes 8 and 2 overlapping in 1: 9; a dominated third point changes nothing.
        let four = vec![vec![0.0, 0.0, 0.0, 1.0], vec![1.0, 1.0, 1.0, 0.0]];
        assert_eq!(hv(&four, &[2.0; 4]), 9.0);
        let mut with_dominated = four.clone();
        with_dominated.push(vec![0.0, 1.0, 1.0, 1.0]);
        assert_eq!(hv(&with_dominated, &[2.0; 4]), 9.0);
        // 4-D, three boxes of 2 meeting pairwise and all together in the unit cube at (1,1,1,1):
        // 6 − 3 + 1 = 4.
        let three_way = vec![vec![0.0, 1.0, 1.0, 1.0], vec![1.0, 0.0, 1.0, 1.0], vec![1.0, 1.0, 0.0, 1.0]];
        assert_eq!(hv(&three_way, &[2.0; 4]), 4.0);
        // 5-D single box.
        assert_eq!(hv(&[vec![0.5; 5]], &[1.0; 5]), 0.5f64.powi(5));
    }

    #[test]
    fn directions_reference_and_bad_input() {
        // Maximising both: the mirror image of the 2-D staircase above.
        let points = vec![vec![-1.0, -3.0], vec![-2.0, -2.0], vec![-3.0, -1.0], vec![-5.0, 0.0]];
        let h = hypervolume(&points, &[-4.0, -4.0], &[Direction::Maximize; 2]).unwrap();
        assert_eq!(h, Hypervolume { volume: 6.0, outside: 1 });
        // Mixed directions: (−1 − (−4)) · (4 − 1) = 9.
        let h = hypervolume(&[vec![-1.0, 1.0]], &[-4.0, 4.0], &[Direction::Maximize, Direction::Minimize]).unwrap();
        assert_eq!(h.volume, 9.0);
        assert_eq!(
            hypervolume(&[vec![1.0, 2.0]], &[3.0], &min(1)).unwrap_err(),
            HypervolumeError::Point { index: 0, expected: 1, found: 2 }
        );
        assert!(matches!(
            hypervolume(&[vec![f64::NAN, 1.0]], &[3.0, 3.0], &min(2)),
            Err(HypervolumeError::NotANumber { index: 0, objective: 0 })
        ));
        assert!(matches!(hypervolume(&[], &[3.0, 3.0], &min(3)), Err(HypervolumeError::Directions { .. })));
        assert!(matches!(hypervolume(&[], &[f64::INFINITY, 1.0], &min(2)), Err(HypervolumeError::NonFiniteReference { objective: 0, .. })));
    }

    /// Hypervolume by slicing objectives (While, Hingston, Barone & Huband, IEEE TEC 2006): the
    /// last objective cut into slabs between consecutive values, each slab the hypervolume one
    /// dimension lower of the points below it. Independent of the sweeps above, O(n^(m−1)).
    fn slicing(points: &[Vec<f64>], reference: &[f64]) -> f64 {
        let m = reference.len();
        if m == 1 {
            return points.iter().map(|p| reference[0] - p[0]).fold(0.0, f64::max);
        }
        let mut sorted = points.to_vec();
        sorted.sort_by(|a, b| a[m - 1].total_cmp(&b[m - 1]));
        let lower: Vec<Vec<f64>> = sorted.iter().map(|p| p[..m - 1].to_vec()).collect();
        (0..sorted.len())
            .map(|k| {
                let next = sorted.get(k + 1).map_or(reference[m - 1], |q| q[m - 1]);
                (next - sorted[k][m - 1]) * slicing(&lower[..=k], &reference[..m - 1])
            })
            .sum()
    }

    fn cloud(m: usize, max: usize) -> impl Strategy<Value = Vec<Vec<f64>>> {
        // Values on a coarse grid make ties and shared coordinates frequent.
        prop::collection::vec(prop::collection::vec((0u8..8).prop_map(|v| f64::from(v) / 8.0), m), 0..max)
    }

    proptest! {
        #[test]
        fn equals_inclusion_exclusion(two in cloud(2, 9), three in cloud(3, 9), four in cloud(4, 8), five in cloud(5, 7)) {
            for points in [two, three, four, five] {
                let Some(m) = points.first().map(Vec::len) else { continue };
                let reference = vec![0.9; m];
                let (fast, slow) = (hv(&points, &reference), brute_force(&points, &reference));
                prop_assert!((fast - slow).abs() < 1e-12, "{} vs {}", fast, slow);
            }
        }

        /// Larger sets than inclusion–exclusion can take, and points on a sphere (all mutually
        /// non-dominated, the hard case for the 4-D sweep's set and staircase).
        #[test]
        fn equals_slicing(four in cloud(4, 40), five in cloud(5, 24), six in cloud(6, 12), sphere in prop::collection::vec(prop::collection::vec(0.05f64..1.0, 4), 1..40)) {
            let sphere: Vec<Vec<f64>> = sphere.iter().map(|p| {
                let norm = p.iter().map(|v| v * v).sum::<f64>().sqrt();
                p.iter().map(|v| v / norm).collect()
            }).collect();
            for (points, r) in [(four, 0.9), (five, 0.9), (six, 0.9), (sphere, 1.0)] {
                let Some(m) = points.first().map(Vec::len) else { continue };
                let reference = vec![r; m];
                let (fast, slow) = (hv(&points, &reference), slicing(&points, &reference));
                prop_assert!((fast - slow).abs() < 1e-12, "{} points in {} objectives: {} vs {}", points.len(), m, fast, slow);
            }
        }

        #[test]
        fn invariants(points in cloud(3, 30), extra in prop::collection::vec((0u8..8).prop_map(|v| f64::from(v) / 8.0), 3), shift in 0usize..30) {
            let reference = [1.0; 3];
            let base = hv(&points, &reference);
            // Monotone under adding a point.
            let mut more = points.clone();
            more.push(extra.clone());
            prop_assert!(hv(&more, &reference) >= base - 1e-12);
            // Invariant under permutation.
            let mut rotated = points.clone();
            if !rotated.is_empty() {
                let k = shift % rotated.len();
                rotated.rotate_left(k);
                rotated.reverse();
            }
            prop_assert!((hv(&rotated, &reference) - base).abs() < 1e-12);
            // A single point is its box; points outside the box add nothing.
            let single: f64 = extra.iter().map(|v| 1.0 - v).product();
            prop_assert!((hv(std::slice::from_ref(&extra), &reference) - single).abs() < 1e-12);
            let outside: Vec<Vec<f64>> = points.iter().map(|p| vec![1.0 + p[0], p[1], p[2]]).collect();
            let h = hypervolume(&outside, &reference, &min(3)).unwrap();
            prop_assert_eq!(h, Hypervolume { volume: 0.0, outside: points.len() });
        }
    }
}
