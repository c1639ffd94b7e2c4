//! Three-objective hypervolume in O(n log n) by the dimension sweep of Beume, Fonseca,
//! López-Ibáñez, Paquete & Vahrenhold ("On the complexity of computing the hypervolume
//! indicator", IEEE TEC 2009): points are swept in order of the third objective while the
//! two-dimensional staircase of the points seen so far ([`super::staircase`]) is kept with its
//! area; each insertion removes the points it dominates and grows the area by the part of its
//! rectangle the staircase did not cover.

use super::staircase::Staircase;

/// The hypervolume of minimised 3-objective `points` (flat, three values per point) strictly
/// inside `reference`'s box.
pub fn hypervolume_3d(points: &[f64], reference: &[f64]) -> f64 {
    let mut order: Vec<[f64; 3]> = points.chunks_exact(3).map(|p| [p[0], p[1], p[2]]).collect();
    order.sort_by(|a, b| a[2].total_cmp(&b[2]));
    let mut stairs = Staircase::new(reference[0], reference[1]);
    let mut area = 0.0;
    let mut volume = 0.0;
    for (i, p) in order.iter().enumerate() {
        area += stairs.insert(p[0], p[1]);
        let next_z = order.get(i + 1).map_or(reference[2], |q| q[2]);
        volume += area * (next_z - p[2]);
    }
    volume
}
