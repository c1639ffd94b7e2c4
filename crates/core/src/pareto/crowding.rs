//! Crowding distance (Deb, Pratap, Agarwal & Meyarivan, NSGA-II, IEEE TEC 2002, Section III-B):
//! within one front, per objective the points are sorted, the two extremes get an infinite
//! distance, and every other point adds the gap between its neighbours divided by the
//! objective's range. Larger means less crowded.

/// The crowding distance of every point of one front (`front[i]` = objectives of point `i`).
pub fn crowding_distance(front: &[Vec<f64>]) -> Vec<f64> {
    let n = front.len();
    let mut distance = vec![0.0; n];
    let Some(m) = front.first().map(Vec::len) else { return distance };
    if n <= 2 {
        return vec![f64::INFINITY; n];
    }
    let mut order: Vec<usize> = (0..n).collect();
    #[allow(clippy::needless_range_loop)] // `k` indexes the objective inside every point.
    for k in 0..m {
        order.sort_by(|&a, &b| front[a][k].total_cmp(&front[b][k]));
        let (lo, hi) = (front[order[0]][k], front[order[n - 1]][k]);
        distance[order[0]] = f64::INFINITY;
        distance[order[n - 1]] = f64::INFINITY;
        if hi > lo {
            for i in 1..n - 1 {
                distance[order[i]] += (front[order[i + 1]][k] - front[order[i - 1]][k]) / (hi - lo);
            }
        }
    }
    distance
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn by_hand() {
        // Four points on a line from (0, 3) to (3, 0): the middle ones' gaps are 2/3 per
        // objective, so 4/3 each; the extremes are infinite.
        let front = vec![vec![0.0, 3.0], vec![1.0, 2.0], vec![2.0, 1.0], vec![3.0, 0.0]];
        let d = crowding_distance(&front);
        assert_eq!((d[0], d[3]), (f64::INFINITY, f64::INFINITY));
        assert!((d[1] - 4.0 / 3.0).abs() < 1e-12 && (d[2] - 4.0 / 3.0).abs() < 1e-12);
        assert_eq!(crowding_distance(&[vec![1.0, 2.0]]), [f64::INFINITY]);
        assert!(crowding_distance(&[]).is_empty());
    }
}
