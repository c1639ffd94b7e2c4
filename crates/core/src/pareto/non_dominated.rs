//! Non-dominated sorting: the Pareto fronts of a set of points (every objective minimised;
//! callers negate maximised ones). Two objectives use the O(n log n) sweep of Jensen
//! ("Reducing the run-time complexity of multiobjective EAs", IEEE TEC 2003): points sorted by
//! the first objective join the first front whose last point does not dominate them, found by
//! binary search. More objectives use Deb et al.'s fast non-dominated sort (NSGA-II, IEEE TEC
//! 2002, Section III-A), O(M N²).

/// Whether `a` Pareto-dominates `b` (no worse in every objective, better in one; minimising).
pub fn dominates(a: &[f64], b: &[f64]) -> bool {
    let mut better = false;
    for (x, y) in a.iter().zip(b) {
        if x > y {
            return false;
        }
        better |= x < y;
    }
    better
}

/// The front (0 = non-dominated) of every point; `points[i]` holds the objectives of point `i`,
/// all of one length, with no NaN.
pub fn front_ranks(points: &[Vec<f64>]) -> Vec<usize> {
    match points.first().map(Vec::len) {
        None => Vec::new(),
        Some(2) => ranks_2d(points),
        Some(_) => ranks_general(points),
    }
}

/// The indices of the non-dominated points, ascending.
pub fn non_dominated(points: &[Vec<f64>]) -> Vec<usize> {
    front_ranks(points).iter().enumerate().filter(|(_, r)| **r == 0).map(|(i, _)| i).collect()
}

fn ranks_2d(points: &[Vec<f64>]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..points.len()).collect();
    // `partial_cmp`, not `total_cmp`: −0 and 0 must compare equal, as they do in `dominates`
    // (no NaN here), or a later point could dominate an earlier one.
    let cmp = |x: f64, y: f64| x.partial_cmp(&y).unwrap_or(std::cmp::Ordering::Equal);
    order.sort_by(|&a, &b| cmp(points[a][0], points[b][0]).then(cmp(points[a][1], points[b][1])));
    let mut ranks = vec![0; points.len()];
    // The last point added to each front; along the fronts their second objectives rise, so
    // "front f dominates p" is true for a prefix of the fronts.
    let mut last: Vec<usize> = Vec::new();
    for &p in &order {
        let (mut lo, mut hi) = (0, last.len());
        while lo < hi {
            let mid = (lo + hi) / 2;
            if dominates(&points[last[mid]], &points[p]) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        let front = lo;
        if front == last.len() {
            last.push(p);
        } else {
            last[front] = p;
        }
        ranks[p] = front;
    }
    ranks
}

fn ranks_general(points: &[Vec<f64>]) -> Vec<usize> {
    let n = points.len();
    let mut dominated_count = vec![0usize; n];
    let mut dominates_list: Vec<Vec<usize>> = vec![Vec::new(); n];
    for i in 0..n {
        for j in i + 1..n {
            if dominates(&points[i], &points[j]) {
                dominates_list[i].push(j);
                dominated_count[j] += 1;
            } else if dominates(&points[j], &points[i]) {
                dominates_list[j].push(i);
                dominated_count[i] += 1;
            }
        }
    }
    let mut ranks = vec![0; n];
    let mut current: Vec<usize> = (0..n).filter(|&i| dominated_count[i] == 0).collect();
    let mut front = 0;
    while !current.is_empty() {
        let mut next = Vec::new();
        for &i in &current {
            ranks[i] = front;
            for &j in &dominates_list[i] {
                dominated_count[j] -= 1;
                if dominated_count[j] == 0 {
                    next.push(j);
                }
            }
        }
        current = next;
        front += 1;
    }
    ranks
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The definition: a point's front is one more than the highest front of the points
    /// dominating it (0 if none), computed in O(n²) passes.
    fn reference(points: &[Vec<f64>]) -> Vec<usize> {
        let n = points.len();
        let mut ranks = vec![usize::MAX; n];
        let mut front = 0;
        let mut left: Vec<usize> = (0..n).collect();
        while !left.is_empty() {
            let now: Vec<usize> = left.iter().copied().filter(|&i| !left.iter().any(|&j| dominates(&points[j], &points[i]))).collect();
            for &i in &now {
                ranks[i] = front;
            }
            left.retain(|i| !now.contains(i));
            front += 1;
        }
        ranks
    }

    #[test]
    fn by_hand() {
        let points = vec![vec![1.0, 5.0], vec![2.0, 3.0], vec![3.0, 4.0], vec![4.0, 1.0], vec![2.0, 3.0], vec![5.0, 5.0]];
        // (3, 4) is dominated by (2, 3); (5, 5) by (3, 4); the duplicate (2, 3) ties.
        assert_eq!(front_ranks(&points), [0, 0, 1, 0, 0, 2]);
        assert_eq!(non_dominated(&points), [0, 1, 3, 4]);
        // Signed zeros are equal: (0, 3) dominates (−0, 5).
        assert_eq!(front_ranks(&[vec![-0.0, 5.0], vec![0.0, 3.0]]), [1, 0]);
        let three = vec![vec![1.0, 2.0, 3.0], vec![2.0, 3.0, 4.0], vec![3.0, 1.0, 1.0]];
        assert_eq!(front_ranks(&three), [0, 1, 0]);
    }

    proptest! {
        #[test]
        fn agrees_with_the_definition(
            // Coarse values make ties and duplicates frequent.
            two in prop::collection::vec(prop::collection::vec(0u8..6, 2), 0..60),
            three in prop::collection::vec(prop::collection::vec(0u8..5, 3), 0..40),
        ) {
            for raw in [two, three] {
                let points: Vec<Vec<f64>> = raw.iter().map(|p| p.iter().map(|&v| f64::from(v)).collect()).collect();
                prop_assert_eq!(front_ranks(&points), reference(&points));
            }
        }
    }
}
