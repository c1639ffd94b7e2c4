//! The two-dimensional staircase that the 3-D and 4-D sweeps keep: mutually non-dominated
//! points (first objective ascending, second strictly descending) and, on each insertion, the
//! area of the new point's rectangle up to the reference that the staircase did not cover
//! before (the exclusive area of Beume et al.'s 3-D sweep, IEEE TEC 2009, read off the
//! neighbours and the points the new one removes).
//!
//! A sorted vector serves while the staircase is small (binary search and a short shift beat a
//! tree's pointer chasing on the fronts of practice); past [`TREE_FROM`] points it moves to a
//! balanced tree, so that a long staircase costs O(log n) per insertion, not O(n). Both forms
//! add the same terms in the same order, so the areas do not depend on which one holds the
//! points.

use std::cmp::Ordering;
use std::collections::BTreeMap;

/// The size from which the staircase is a tree.
const TREE_FROM: usize = 256;

/// An `f64` ordered by `total_cmp`, as a tree key.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Key(f64);

impl Eq for Key {}

impl PartialOrd for Key {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Key {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0.total_cmp(&other.0)
    }
}

/// A staircase within the box of a reference point `(rx, ry)`.
pub struct Staircase {
    reference: (f64, f64),
    small: Vec<(f64, f64)>,
    tree: Option<BTreeMap<Key, f64>>,
    /// Scratch: the points an insertion into the tree removes.
    dominated: Vec<(f64, f64)>,
}

impl Staircase {
    /// An empty staircase within `(rx, ry)`.
    pub fn new(rx: f64, ry: f64) -> Self {
        Self { reference: (rx, ry), small: Vec::new(), tree: None, dominated: Vec::new() }
    }

    /// Empties it, keeping its buffers, with a new reference.
    pub fn reset(&mut self, rx: f64, ry: f64) {
        self.reference = (rx, ry);
        self.small.clear();
        self.tree = None;
    }

    /// Adds `(x, y)` (no worse than the reference) and returns the area of `[x, rx] × [y, ry]`
    /// it newly covers; points it weakly dominates leave, and a point the staircase weakly
    /// dominates adds nothing.
    #[inline]
    pub fn insert(&mut self, x: f64, y: f64) -> f64 {
        self.insert_new(x, y).unwrap_or(0.0)
    }

    /// As [`Self::insert`], but `None` when the staircase weakly dominates `(x, y)`.
    #[inline]
    pub fn insert_new(&mut self, x: f64, y: f64) -> Option<f64> {
        if let Some(tree) = self.tree.as_mut() {
            return insert_tree(tree, &mut self.dominated, self.reference, x, y);
        }
        let area = insert_small(&mut self.small, self.reference, x, y);
        if self.small.len() >= TREE_FROM {
            self.tree = Some(self.small.drain(..).map(|(x, y)| (Key(x), y)).collect());
        }
        area
    }

    /// Appends the points, first objective ascending, as 3-D points at third objective `z`.
    pub fn append_to(&self, out: &mut Vec<[f64; 3]>, z: f64) {
        match &self.tree {
            Some(tree) => out.extend(tree.iter().map(|(k, &y)| [k.0, y, z])),
            None => out.extend(self.small.iter().map(|&(x, y)| [x, y, z])),
        }
    }

    /// The points, first objective ascending.
    #[cfg(test)]
    fn points(&self) -> Vec<(f64, f64)> {
        match &self.tree {
            Some(tree) => tree.iter().map(|(k, &y)| (k.0, y)).collect(),
            None => self.small.clone(),
        }
    }
}

/// Above `y` the staircase's envelope is the previous point's second objective up to the first
/// dominated point, then each dominated point's own, up to `right`, the first point that stays.
#[inline]
fn newly_covered(x: f64, y: f64, previous_y: f64, dominated: &[(f64, f64)], right: f64) -> f64 {
    let mut ceiling = previous_y;
    let mut left = x;
    let mut area = 0.0;
    for &(dx, dy) in dominated {
        area += (dx - left) * (ceiling - y);
        left = dx;
        ceiling = dy;
    }
    area + (right - left) * (ceiling - y)
}

#[inline]
fn insert_small(stairs: &mut Vec<(f64, f64)>, (rx, ry): (f64, f64), x: f64, y: f64) -> Option<f64> {
    let after = stairs.partition_point(|s| s.0 <= x);
    if after > 0 && stairs[after - 1].1 <= y {
        return None;
    }
    // A point at the same first objective is worse in the second: it is dominated too.
    let start = if after > 0 && stairs[after - 1].0 == x { after - 1 } else { after };
    let end = start + stairs[start..].iter().take_while(|s| s.1 >= y).count();
    let previous_y = if start > 0 { stairs[start - 1].1 } else { ry };
    let right = stairs.get(end).map_or(rx, |s| s.0);
    let area = newly_covered(x, y, previous_y, &stairs[start..end], right);
    if start < end {
        stairs[start] = (x, y);
        stairs.drain(start + 1..end);
    } else {
        stairs.insert(start, (x, y));
    }
    Some(area)
}

fn insert_tree(tree: &mut BTreeMap<Key, f64>, dominated: &mut Vec<(f64, f64)>, (rx, ry): (f64, f64), x: f64, y: f64) -> Option<f64> {
    let previous = tree.range(..Key(x)).next_back().map(|(_, &py)| py);
    if previous.is_some_and(|py| py <= y) {
        return None;
    }
    dominated.clear();
    let mut right = rx;
    for (k, &py) in tree.range(Key(x)..) {
        if k.0 == x && py <= y {
            return None;
        }
        if py < y {
            right = k.0;
            break;
        }
        dominated.push((k.0, py));
    }
    let area = newly_covered(x, y, previous.unwrap_or(ry), dominated, right);
    for (dx, _) in dominated.iter() {
        tree.remove(&Key(*dx));
    }
    tree.insert(Key(x), y);
    Some(area)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn areas_by_hand() {
        let mut stairs = Staircase::new(4.0, 4.0);
        // (1, 3) covers 3·1.
        assert_eq!(stairs.insert(1.0, 3.0), 3.0);
        // (3, 1): its box 1·3 less the corner 1·1 that (1, 3) covers already.
        assert_eq!(stairs.insert(3.0, 1.0), 2.0);
        // (2, 2): [2, 4]×[2, 4] less what (1, 3) and (3, 1) cover there (2 + 2 − 1): 1.
        assert_eq!(stairs.insert(2.0, 2.0), 1.0);
        assert_eq!(stairs.points(), vec![(1.0, 3.0), (2.0, 2.0), (3.0, 1.0)]);
        // Dominated and duplicate points add nothing.
        assert_eq!(stairs.insert(2.5, 2.0), 0.0);
        assert_eq!(stairs.insert(2.0, 2.0), 0.0);
        // (1, 1) dominates all three ((1, 3) has the same first objective and a worse second):
        // it adds [1,4]×[1,4] (9) less the 3 + 2 + 1 covered before.
        assert_eq!(stairs.insert(1.0, 1.0), 3.0);
        assert_eq!(stairs.points(), vec![(1.0, 1.0)]);
    }

    proptest! {
        /// The vector and the tree keep the same points and add the same areas, bit for bit,
        /// and the areas sum to the staircase's area computed afresh.
        #[test]
        fn vector_and_tree_agree(points in prop::collection::vec((0u8..40, 0u8..40), 1..600)) {
            let mut small = Staircase::new(40.0, 40.0);
            let mut tree = Staircase::new(40.0, 40.0);
            tree.tree = Some(BTreeMap::new());
            let mut total = 0.0;
            for (x, y) in points {
                let (x, y) = (f64::from(x), f64::from(y));
                let a = small.insert(x, y);
                let small_points = small.points();
                prop_assert_eq!(a.to_bits(), tree.insert(x, y).to_bits());
                prop_assert_eq!(&small_points, &tree.points());
                total += a;
            }
            let stairs = tree.points();
            let fresh: f64 = stairs.iter().enumerate().map(|(i, &(x, y))| {
                let next_x = stairs.get(i + 1).map_or(40.0, |s| s.0);
                (next_x - x) * (40.0 - y)
            }).sum();
            prop_assert!((total - fresh).abs() < 1e-9, "{} vs {}", total, fresh);
        }
    }
}
