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
    let Some(first) = order.first() else { return 0.0 };
    let mut stairs = Staircase::new(reference[0], reference[1]);
    sweep(&mut stairs, &order, (first[2], 0.0), reference[2], |_| {})
}

/// The sweep itself: `points` in order of the third objective, from `z` on, where `stairs`
/// already covers `area`; each slab between consecutive values adds the area covered so far
/// times its depth, up to `rz`. `kept` hears of every point the staircase did not dominate when
/// it came (with ties ordered by the first two objectives, the non-dominated ones).
#[inline]
pub(super) fn sweep(
    stairs: &mut Staircase,
    points: &[[f64; 3]],
    (mut z, mut area): (f64, f64),
    rz: f64,
    mut kept: impl FnMut([f64; 3]),
) -> f64 {
    let mut volume = 0.0;
    for &p in points {
        volume += area * (p[2] - z);
        z = p[2];
        if let Some(added) = stairs.insert_new(p[0], p[1]) {
            area += added;
            kept(p);
        }
    }
    volume + area * (rz - z)
}
