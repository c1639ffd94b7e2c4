//! Hypervolume in four or more objectives by WFG (While, Bradstreet & Barone, "A fast way of
//! calculating exact hypervolumes", IEEE TEC 2012): the hypervolume is the sum of the points'
//! exclusive hypervolumes, and a point's exclusive hypervolume is its box minus the hypervolume
//! of the *limit set* (every other point made no better than it). Processing the points in
//! order of the last objective, a point's exclusive part beyond the earlier points lies where
//! the last objective is already dominated by all of them, so it is the slab depth times an
//! exclusive hypervolume one dimension lower (the slicing of the authors' implementation);
//! recursion ends in the three-objective sweep. Dominated points are removed once, before the
//! slicing (the authors' code reads non-dominated fronts): a dominated point adds nothing, but
//! each one kept would cost a limit set and a recursion of its own.

use super::minimising;
use crate::pareto::non_dominated::dominates;

/// The hypervolume of minimised `points` (four or more objectives) strictly inside
/// `reference`'s box.
pub fn hypervolume_wfg(points: &[Vec<f64>], reference: &[f64]) -> f64 {
    let m = reference.len();
    let last = m - 1;
    let front = non_dominated_set(points.to_vec());
    let mut order: Vec<&Vec<f64>> = front.iter().collect();
    order.sort_by(|a, b| a[last].total_cmp(&b[last]));
    let lower = &reference[..last];
    let mut volume = 0.0;
    for k in 0..order.len() {
        let p = &order[k][..last];
        let depth = reference[last] - order[k][last];
        if depth <= 0.0 {
            continue;
        }
        let box_volume: f64 = p.iter().zip(lower).map(|(a, r)| r - a).product();
        // Earlier points limited to p's box: componentwise the worse of the two.
        let limited: Vec<Vec<f64>> = order[..k].iter().map(|q| q[..last].iter().zip(p).map(|(a, b)| a.max(*b)).collect()).collect();
        let front = non_dominated_set(limited);
        volume += depth * (box_volume - minimising(&front, lower));
    }
    volume
}

/// The non-dominated points of `points`, duplicates kept once; points equal to the corner
/// they were limited to add no volume but are harmless.
fn non_dominated_set(mut points: Vec<Vec<f64>>) -> Vec<Vec<f64>> {
    // `partial_cmp` so that −0 and 0 are equal, as in `dominates` (no NaN here).
    points.sort_by(|a, b| {
        a.iter()
            .zip(b)
            .map(|(x, y)| x.partial_cmp(y).unwrap_or(std::cmp::Ordering::Equal))
            .find(|o| o.is_ne())
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    points.dedup();
    let mut kept: Vec<Vec<f64>> = Vec::with_capacity(points.len());
    for p in points {
        // Sorted lexicographically, no later point dominates an earlier one.
        if !kept.iter().any(|q| dominates(q, &p)) {
            kept.push(p);
        }
    }
    kept
}
