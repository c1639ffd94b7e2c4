//! Two-objective hypervolume by a sweep (e.g. Fonseca, Paquete & López-Ibáñez, CEC 2006,
//! Section II): points sorted by the first objective; each one better in the second than all
//! before it adds the rectangle between its second value and the best so far. O(n log n).

/// The hypervolume of minimised 2-objective `points` (flat, two values per point) strictly
/// inside `reference`'s box.
pub fn hypervolume_2d(points: &[f64], reference: &[f64]) -> f64 {
    let mut sorted: Vec<(f64, f64)> = points.chunks_exact(2).map(|p| (p[0], p[1])).collect();
    sorted.sort_unstable_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
    let mut best_y = reference[1];
    let mut volume = 0.0;
    for (x, y) in sorted {
        if y < best_y {
            volume += (reference[0] - x) * (best_y - y);
            best_y = y;
        }
    }
    volume
}
