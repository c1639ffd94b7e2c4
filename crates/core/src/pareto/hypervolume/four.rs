//! Four-objective hypervolume by a dimension sweep over the fourth objective with incremental
//! three-dimensional contributions, the scheme of HV4D (Guerreiro, Fonseca & Emmerich, "A fast
//! dimension-sweep algorithm for the hypervolume indicator in four dimensions", CCCG 2012) and
//! HV4D⁺ (Guerreiro & Fonseca, "Computing and updating hypervolume contributions in up to four
//! dimensions", IEEE TEC 2018, the 4-D case of moocore's `hv4d.c`):
//!
//! - points are visited in order of the fourth objective; between two consecutive values the
//!   dominated region's cross-section is the 3-D hypervolume `V` of the points seen so far, so
//!   the volume is Σ V·(depth of the slab);
//! - `V` is updated by the new point's *contribution* to the 3-D set (in the 2018 paper's terms:
//!   the part of its box that no earlier point dominates), computed by sweeping the set in
//!   order of the third objective while a 2-D staircase of the points, limited to the new
//!   point's box, keeps the area they cover; the sweep stops as soon as one point covers the
//!   whole cross-section (every later slice is covered too);
//! - a point weakly dominated in the first three objectives by one already in the set adds
//!   nothing now or later and is dropped; points it dominates leave the set. So dominated
//!   points in 4-D cost one scan each and no pre-filter is needed;
//! - within the new point's box, the points left of it or below it in the first two
//!   objectives cover bands of which only the lowest of each kind matters (two running minima,
//!   as the delimiters of HV3D⁺), so the staircase holds only the points beyond both bands.
//!
//! The set is kept sorted by the third objective in a vector (it stays small on the fronts of
//! practice, a few hundred points, where shifting a few elements beats a tree), the staircase
//! as [`super::staircase`] keeps it. Work is O(n·s) with s the size of the 3-D set (O(n²) in the
//! worst case, as HV4D).

use super::staircase::Staircase;

/// The hypervolume of minimised 4-objective `points` (flat, four values per point), each
/// strictly inside `reference`'s box.
pub fn hypervolume_4d(points: &[f64], reference: &[f64]) -> f64 {
    let mut order: Vec<[f64; 4]> = points.chunks_exact(4).map(|p| [p[0], p[1], p[2], p[3]]).collect();
    order.sort_unstable_by(|a, b| a[3].total_cmp(&b[3]));
    Sweep4::new(reference).volume(&order, None)
}

/// The four-objective sweep with its buffers, for callers that compute many hypervolumes
/// (the five-objective recursion computes one per point).
pub struct Sweep4 {
    set: Set3,
    reference: f64,
}

impl Sweep4 {
    /// A sweep within the box of the 4-objective `reference`.
    pub fn new(reference: &[f64]) -> Self {
        let set = Set3 {
            points: Vec::new(),
            stairs: Staircase::new(reference[0], reference[1]),
            beyond: Vec::new(),
            later: Vec::new(),
            reference: [reference[0], reference[1], reference[2]],
        };
        Self { set, reference: reference[3] }
    }

    /// The hypervolume of `points`, sorted by their fourth objective and strictly inside the
    /// reference box. With a `corner` that no point is better than in the first three
    /// objectives (the point a limit set was limited to), the sweep ends at the first point
    /// equal to it there: from that point on the whole cross-section is covered.
    pub fn volume(&mut self, points: &[[f64; 4]], corner: Option<[f64; 3]>) -> f64 {
        let [rx, ry, rz] = self.set.reference;
        let covers = |p: &[f64; 4]| corner.is_some_and(|c| p[0] <= c[0] && p[1] <= c[1] && p[2] <= c[2]);
        // The corner's box: the whole cross-section, once a point covers it.
        let whole = corner.map_or(0.0, |c| (rx - c[0]) * (ry - c[1]) * (rz - c[2]));
        // Points sharing the first fourth objective (every earlier point of a limit set shares
        // its corner's) enter at once, by a 3-D sweep, rather than one contribution at a time.
        let first = points.first().map_or(0.0, |p| p[3]);
        let run = points.iter().take_while(|p| p[3] == first).count();
        if points[..run].iter().any(covers) {
            return whole * (self.reference - first);
        }
        let mut section = self.set.load(&points[..run]);
        let mut volume = 0.0;
        for (i, p) in points.iter().enumerate().skip(run.saturating_sub(1)) {
            if i >= run {
                if covers(p) {
                    return volume + whole * (self.reference - p[3]);
                }
                section += self.set.insert([p[0], p[1], p[2]]);
            }
            let next = points.get(i + 1).map_or(self.reference, |q| q[3]);
            volume += section * (next - p[3]);
        }
        volume
    }
}

/// Points of the set examined one by one before the others are classified without branches,
/// and how many of those between two checks for one dominating the new point (see
/// [`Set3::contribution`]).
const DOMINANCE_BLOCK: usize = 8;

/// A set of mutually non-dominated 3-D points sorted by the third objective, with scratch
/// space for computing contributions.
struct Set3 {
    points: Vec<[f64; 3]>,
    /// The staircase of the cross-section covered so far.
    stairs: Staircase,
    /// Points below the new one in the third objective and beyond it in the first two.
    beyond: Vec<(f64, f64)>,
    /// Points of a load above the lowest third objective.
    later: Vec<[f64; 3]>,
    reference: [f64; 3],
}

impl Set3 {
    /// Makes the set the non-dominated ones of `points` and returns their hypervolume, by the
    /// sweep of [`super::three`]. The points at the lowest third objective (in a limit set,
    /// every one no better than the corner there) need no order: the staircase they leave is
    /// the set's first layer. The others follow in order of the third objective (ties by the
    /// first two, so that no point is dominated by a later one), each joining the set when the
    /// staircase of those before it does not dominate it.
    fn load(&mut self, points: &[[f64; 4]]) -> f64 {
        let [rx, ry, rz] = self.reference;
        let lowest = points.iter().map(|p| p[2]).fold(f64::INFINITY, f64::min);
        self.stairs.reset(rx, ry);
        let mut area = 0.0;
        for p in points.iter().filter(|p| p[2] == lowest) {
            area += self.stairs.insert(p[0], p[1]);
        }
        self.points.clear();
        self.stairs.append_to(&mut self.points, lowest);
        self.later.clear();
        self.later.extend(points.iter().filter(|p| p[2] != lowest).map(|p| [p[0], p[1], p[2]]));
        self.later.sort_unstable_by(|a, b| a[2].total_cmp(&b[2]).then_with(|| a[0].total_cmp(&b[0])).then_with(|| a[1].total_cmp(&b[1])));
        if points.is_empty() {
            return 0.0;
        }
        let set = &mut self.points;
        super::three::sweep(&mut self.stairs, &self.later, (lowest, area), rz, |p| set.push(p))
    }

    /// Adds `p` and returns its contribution: how much the set's hypervolume grows.
    fn insert(&mut self, p: [f64; 3]) -> f64 {
        let Some(contribution) = self.contribution(&p) else { return 0.0 };
        // p replaces the points it weakly dominates: they lie no lower in the third objective.
        let lower = self.points.partition_point(|q| q[2] < p[2]);
        let dominated = |q: &[f64; 3]| p[0] <= q[0] && p[1] <= q[1] && p[2] <= q[2];
        if let Some(first) = self.points[lower..].iter().position(dominated) {
            let mut kept = lower + first;
            for read in kept + 1..self.points.len() {
                let q = self.points[read];
                if !dominated(&q) {
                    self.points[kept] = q;
                    kept += 1;
                }
            }
            self.points.truncate(kept);
        }
        let at = lower + self.points[lower..].partition_point(|q| q[2] <= p[2]);
        self.points.insert(at, p);
        contribution
    }

    /// The volume of `p`'s box that no point of the set dominates, or `None` when a point of
    /// the set weakly dominates `p`.
    ///
    /// Within `p`'s box a point left of `p` (first objective no greater) covers a band above
    /// its second objective, and a point below `p` a band right of its first: only the lowest
    /// such band of each kind matters, and only points beyond neither band reach the staircase.
    /// That keeps the staircase to the points that shape the cross-section.
    fn contribution(&mut self, p: &[f64; 3]) -> Option<f64> {
        let [rx, ry, rz] = self.reference;
        let below = self.points.partition_point(|q| q[2] <= p[2]);
        let (mut band_y, mut band_x) = (ry, rx);
        // Grown, never cleared: only the first `beyond` entries are this point's.
        if self.beyond.len() < below {
            self.beyond.resize(below, (0.0, 0.0));
        }
        let mut beyond = 0;
        // The lowest points one by one: in a population, where most points are dominated, a
        // point dominating p is mostly among them.
        let (first, rest) = self.points[..below].split_at(below.min(DOMINANCE_BLOCK));
        for q in first {
            if q[0] <= p[0] {
                if q[1] <= p[1] {
                    return None;
                }
                band_y = band_y.min(q[1]);
            } else if q[1] <= p[1] {
                band_x = band_x.min(q[0]);
            } else {
                self.beyond[beyond] = (q[0], q[1]);
                beyond += 1;
            }
        }
        // The others without branches, block by block: on fronts, whether a point is left of
        // p, below it or beyond both is as good as random, and mispredicted branches cost more
        // than the comparisons. Every point is written to `beyond`, and the count moves past
        // those beyond both; a point dominating p ends the scan after its block.
        for block in rest.chunks(DOMINANCE_BLOCK) {
            let mut dominated = false;
            for q in block {
                let (left, lower) = (q[0] <= p[0], q[1] <= p[1]);
                dominated |= left & lower;
                band_y = band_y.min(if left { q[1] } else { ry });
                band_x = band_x.min(if lower { q[0] } else { rx });
                self.beyond[beyond] = (q[0], q[1]);
                beyond += usize::from(!left & !lower);
            }
            if dominated {
                return None;
            }
        }
        self.stairs.reset(rx, ry);
        let mut covered = 0.0;
        if band_y < ry {
            covered += self.stairs.insert(p[0], band_y);
        }
        if band_x < rx {
            covered += self.stairs.insert(band_x, p[1]);
        }
        for &(x, y) in &self.beyond[..beyond] {
            if x < band_x && y < band_y {
                covered += self.stairs.insert(x, y);
            }
        }
        let full = (rx - p[0]) * (ry - p[1]);
        let mut z = p[2];
        let mut volume = 0.0;
        for q in &self.points[below..] {
            volume += (full - covered) * (q[2] - z);
            z = q[2];
            if q[0] <= p[0] {
                if q[1] <= p[1] {
                    // q covers p's whole cross-section from here on.
                    return Some(volume);
                }
                if q[1] < band_y {
                    band_y = q[1];
                    covered += self.stairs.insert(p[0], band_y);
                }
            } else if q[1] <= p[1] {
                if q[0] < band_x {
                    band_x = q[0];
                    covered += self.stairs.insert(band_x, p[1]);
                }
            } else if q[0] < band_x && q[1] < band_y {
                covered += self.stairs.insert(q[0], q[1]);
            }
        }
        Some(volume + (full - covered) * (rz - z))
    }
}
