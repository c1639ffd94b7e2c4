//! Hypervolume in five or more objectives by WFG (While, Bradstreet & Barone, "A fast way of
//! calculating exact hypervolumes", IEEE TEC 2012): the hypervolume is the sum of the points'
//! exclusive hypervolumes, and a point's exclusive hypervolume is its box minus the hypervolume
//! of the *limit set* (every other point made no better than it). Processing the points in
//! order of the last objective, a point's exclusive part beyond the earlier points lies where
//! the last objective is already dominated by all of them, so it is the slab depth times an
//! exclusive hypervolume one dimension lower (the slicing of the authors' implementation);
//! recursion ends in the four-objective sweep ([`super::four`]), as moocore ends its
//! five-and-more-objective recursion in 4-D contributions (Guerreiro & Fonseca, IEEE TEC 2018).
//! Dominated points are removed once, before the slicing (the authors' code reads
//! non-dominated fronts): a dominated point adds nothing, but each one kept would cost a limit
//! set and a recursion of its own; the 4-D sweep drops the dominated points of a limit set
//! itself.

use super::four::Sweep4;

/// The hypervolume of minimised `points` (flat, `reference.len()` ≥ 5 values per point)
/// strictly inside `reference`'s box.
///
/// The earlier points a limit set is made of are kept as their non-dominated projections
/// (without the last objective), sorted by their own last objective: a projection dominated by
/// a later point's covers nothing that one does not, in every later limit set too, and the
/// order survives the limiting (a componentwise maximum), so the 4-D sweep needs no sort.
pub fn hypervolume_wfg(points: &[f64], reference: &[f64]) -> f64 {
    let d = reference.len();
    let last = d - 1;
    let mut front = non_dominated(points, d);
    sort_by_last(&mut front, d);
    let lower = &reference[..last];
    if last == 4 {
        return sliced_to_4d(&front, reference);
    }
    let mut earlier: Vec<f64> = Vec::with_capacity(front.len());
    let mut limited: Vec<f64> = Vec::with_capacity(front.len());
    let mut volume = 0.0;
    for p in front.chunks_exact(d) {
        let (p, depth) = (&p[..last], reference[last] - p[last]);
        let box_volume: f64 = p.iter().zip(lower).map(|(a, r)| r - a).product();
        // Earlier points limited to p's box: componentwise the worse of the two.
        limited.clear();
        for q in earlier.chunks_exact(last) {
            limited.extend(q.iter().zip(p).map(|(a, b)| a.max(*b)));
        }
        volume += depth * (box_volume - hypervolume_wfg(&limited, lower));
        // p's projection joins the earlier ones, and those it weakly dominates leave.
        let mut kept = 0;
        for read in 0..earlier.len() / last {
            let q = read * last;
            if !p.iter().zip(&earlier[q..q + last]).all(|(a, b)| a <= b) {
                earlier.copy_within(q..q + last, kept * last);
                kept += 1;
            }
        }
        earlier.truncate(kept * last);
        let at = earlier.chunks_exact(last).take_while(|q| q[last - 1] <= p[last - 1]).count();
        earlier.splice(at * last..at * last, p.iter().copied());
    }
    volume
}

/// [`hypervolume_wfg`] for five objectives: `front` non-dominated and sorted by the fifth, the
/// limit sets computed by the 4-D sweep.
fn sliced_to_4d(front: &[f64], reference: &[f64]) -> f64 {
    let mut earlier: Vec<[f64; 4]> = Vec::with_capacity(front.len() / 5);
    let mut corners: Vec<[f64; 4]> = Vec::with_capacity(front.len() / 5);
    let mut sweep = Sweep4::new(&reference[..4]);
    let mut volume = 0.0;
    for p in front.chunks_exact(5) {
        let (q, depth) = ([p[0], p[1], p[2], p[3]], reference[4] - p[4]);
        let box_volume = (reference[0] - q[0]) * (reference[1] - q[1]) * (reference[2] - q[2]) * (reference[3] - q[3]);
        // An earlier point worse than q in one objective only covers a slab of q's box: beyond
        // its value there. Of each objective's slabs the deepest covers the others, and every
        // limited point worse than q beyond it there too, so those points never reach the sweep.
        let mut slab = [f64::INFINITY; 4];
        for e in &earlier {
            let worse = worse_than(e, &q);
            if worse.count_ones() == 1 {
                let j = worse.trailing_zeros() as usize;
                slab[j] = slab[j].min(e[j]);
            }
        }
        corners.clear();
        corners.extend(
            earlier
                .iter()
                .filter(|e| {
                    let worse = worse_than(e, &q);
                    let covered = |j: usize| e[j] > slab[j] || (worse.count_ones() > 1 && e[j] >= slab[j]);
                    !(0..4).any(|j| worse >> j & 1 == 1 && covered(j))
                })
                .map(|e| [e[0].max(q[0]), e[1].max(q[1]), e[2].max(q[2]), e[3].max(q[3])]),
        );
        volume += depth * (box_volume - sweep.volume(&corners, Some([q[0], q[1], q[2]])));
        earlier.retain(|e| !(q[0] <= e[0] && q[1] <= e[1] && q[2] <= e[2] && q[3] <= e[3]));
        let at = earlier.partition_point(|e| e[3] <= q[3]);
        earlier.insert(at, q);
    }
    volume
}

/// The objectives in which `e` is worse than `q`, as bits.
fn worse_than(e: &[f64; 4], q: &[f64; 4]) -> u32 {
    (0..4).filter(|&j| e[j] > q[j]).fold(0, |bits, j| bits | 1 << j)
}

/// Sorts flat `d`-value points by their last value.
fn sort_by_last(points: &mut Vec<f64>, d: usize) {
    let mut order: Vec<&[f64]> = points.chunks_exact(d).collect();
    order.sort_by(|a, b| a[d - 1].total_cmp(&b[d - 1]));
    *points = order.concat();
}

/// The points of flat `points` (`d` values each) that no other point weakly dominates, one of
/// each group of duplicates. Visited by ascending sum of coordinates, then lexicographically, a
/// point can be weakly dominated only by one visited before it (a floating-point sum is
/// monotone in each term), so comparing with the points kept is enough. (Should rounding ever
/// order a dominated point first, it would be kept: it adds no volume, only time.)
fn non_dominated(points: &[f64], d: usize) -> Vec<f64> {
    let mut order: Vec<(f64, usize)> = points.chunks_exact(d).enumerate().map(|(i, p)| (p.iter().sum(), i)).collect();
    let lexicographic = |a: usize, b: usize| {
        let (p, q) = (&points[a * d..(a + 1) * d], &points[b * d..(b + 1) * d]);
        p.iter().zip(q).map(|(x, y)| x.partial_cmp(y).unwrap_or(std::cmp::Ordering::Equal)).find(|o| o.is_ne()).unwrap_or(a.cmp(&b))
    };
    order.sort_unstable_by(|a, b| a.0.total_cmp(&b.0).then_with(|| lexicographic(a.1, b.1)));
    let mut kept: Vec<f64> = Vec::with_capacity(d * 64);
    for (_, i) in order {
        let p = &points[i * d..(i + 1) * d];
        if !kept.chunks_exact(d).any(|q| q.iter().zip(p).all(|(a, b)| a <= b)) {
            kept.extend_from_slice(p);
        }
    }
    kept
}
