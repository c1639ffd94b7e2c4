//! Ranking a rung by several objectives, as Syne Tune's `NonDominatedPriority` does for
//! multi-objective ASHA (Schmucker et al. 2021, arXiv:2106.12639): non-dominated sorting, front
//! by front, and within a front the ε-net order of Clarkson (2005). Multi-objective ASHA
//! ([`crate::mo_asha`]) and Pareto-ranked successive halving and HyperBand
//! ([`crate::synchronous`]) both rank with it.

use hposim_core::pareto::non_dominated::front_ranks;

/// The position of the last of `points` (finite loss vectors) in their priority order: the
/// points in better fronts, then its place in the ε-net of its own front. Only that front's
/// ε-net is computed.
pub fn position_of_last(points: &[Vec<f64>]) -> usize {
    let n = points.len();
    if n < 2 {
        return 0;
    }
    let ranks = front_ranks(points);
    let rank = ranks[n - 1];
    let better = ranks.iter().filter(|&&r| r < rank).count();
    let front: Vec<usize> = (0..n).filter(|&i| ranks[i] == rank).collect();
    let order = epsilon_net(points, &front);
    better + order.iter().position(|&i| i == n - 1).unwrap_or(0)
}

/// The ε-net order of the points `front` (indices into `points`): the best in the first
/// objective, then repeatedly the farthest from those taken, objectives scaled to the range of
/// all `points`.
fn epsilon_net(points: &[Vec<f64>], front: &[usize]) -> Vec<usize> {
    let k = points.first().map_or(0, Vec::len);
    let (mut low, mut high) = (vec![f64::INFINITY; k], vec![f64::NEG_INFINITY; k]);
    for p in points {
        for j in 0..k {
            low[j] = low[j].min(p[j]);
            high[j] = high[j].max(p[j]);
        }
    }
    let scaled = |p: &[f64], j: usize| if high[j] > low[j] { (p[j] - low[j]) / (high[j] - low[j]) } else { 0.0 };
    let distance = |a: &[f64], b: &[f64]| (0..k).map(|j| (scaled(a, j) - scaled(b, j)).powi(2)).sum::<f64>().sqrt();
    let mut left = front.to_vec();
    let Some(first) = (0..left.len()).min_by(|&a, &b| points[left[a]][0].total_cmp(&points[left[b]][0]).then(a.cmp(&b))) else {
        return Vec::new();
    };
    let mut taken = vec![left.swap_remove(first)];
    let mut nearest: Vec<f64> = left.iter().map(|&i| distance(&points[i], &points[taken[0]])).collect();
    while !left.is_empty() {
        let next = (0..left.len()).max_by(|&a, &b| nearest[a].total_cmp(&nearest[b]).then(b.cmp(&a))).unwrap_or(0);
        let chosen = left.swap_remove(next);
        nearest.swap_remove(next);
        for (d, &i) in nearest.iter_mut().zip(&left) {
            *d = d.min(distance(&points[i], &points[chosen]));
        }
        taken.push(chosen);
    }
    taken
}

/// The priority order of `points` (loss vectors): indices, best first; points with a
/// non-finite loss (failures) last, in arrival order.
pub fn priority_order(points: &[Vec<f64>]) -> Vec<usize> {
    let failed = |p: &[f64]| p.iter().any(|v| !v.is_finite());
    let ok: Vec<usize> = (0..points.len()).filter(|&i| !failed(&points[i])).collect();
    let finite: Vec<Vec<f64>> = ok.iter().map(|&i| points[i].clone()).collect();
    let ranks = front_ranks(&finite);
    let fronts = ranks.iter().copied().max().map_or(0, |m| m + 1);
    let mut order = Vec::with_capacity(points.len());
    for rank in 0..fronts {
        let front: Vec<usize> = (0..finite.len()).filter(|&i| ranks[i] == rank).collect();
        order.extend(epsilon_net(&finite, &front).into_iter().map(|i| ok[i]));
    }
    order.extend((0..points.len()).filter(|&i| failed(&points[i])));
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fronts_come_first_and_the_epsilon_net_spreads_within_a_front() {
        // Front 0: a=(0,1), b=(0.1,0.9), c=(1,0); front 1: d=(1,1); failed: e.
        let points = vec![vec![1.0, 1.0], vec![0.1, 0.9], vec![1.0, 0.0], vec![0.0, 1.0], vec![f64::INFINITY, f64::INFINITY]];
        // ε-net of front 0 from a (best first objective): c is farthest from a, then b.
        assert_eq!(priority_order(&points), vec![3, 2, 1, 0, 4]);
    }

    proptest::proptest! {
        #[test]
        fn the_position_of_a_new_result_agrees_with_the_full_order(
            points in proptest::collection::vec(proptest::collection::vec(0u8..6, 2), 1..40)
        ) {
            // Small integers make ties and shared fronts common.
            let points: Vec<Vec<f64>> = points.into_iter().map(|p| p.into_iter().map(f64::from).collect()).collect();
            let n = points.len();
            let full = priority_order(&points).iter().position(|&i| i == n - 1).unwrap();
            proptest::prop_assert_eq!(position_of_last(&points), full);
        }
    }
}
