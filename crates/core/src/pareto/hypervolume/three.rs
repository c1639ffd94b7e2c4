//! Three-objective hypervolume in O(n log n) by the dimension sweep of Beume, Fonseca,
//! López-Ibáñez, Paquete & Vahrenhold ("On the complexity of computing the hypervolume
//! indicator", IEEE TEC 2009): points are swept in order of the third objective while the
//! two-dimensional staircase of the points seen so far is kept in a balanced search tree with
//! its area; each insertion removes the points it dominates and changes the area by their and
//! its own exclusive rectangles.

use std::cmp::Ordering;
use std::collections::BTreeMap;

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

/// A staircase of mutually non-dominated 2-D points (first objective ascending, second
/// descending) with the area it dominates within a reference box.
struct Staircase {
    points: BTreeMap<Key, f64>,
    reference: (f64, f64),
    area: f64,
}

impl Staircase {
    /// The area only `(x, y)` dominates, given its neighbours in the staircase.
    fn exclusive(&self, x: f64, y: f64) -> f64 {
        let next_x = self
            .points
            .range((std::ops::Bound::Excluded(Key(x)), std::ops::Bound::Unbounded))
            .next()
            .map_or(self.reference.0, |(k, _)| k.0);
        let previous_y = self.points.range(..Key(x)).next_back().map_or(self.reference.1, |(_, y)| *y);
        (next_x - x) * (previous_y - y)
    }

    /// Adds `(x, y)` unless a point of the staircase weakly dominates it.
    fn insert(&mut self, x: f64, y: f64) {
        if self.points.range(..=Key(x)).next_back().is_some_and(|(_, &py)| py <= y) {
            return;
        }
        // The points it dominates follow it in the first objective, as long as their second
        // objective is not better.
        let dominated: Vec<(f64, f64)> = self.points.range(Key(x)..).take_while(|(_, py)| **py >= y).map(|(k, &py)| (k.0, py)).collect();
        for (dx, dy) in dominated {
            self.area -= self.exclusive(dx, dy);
            self.points.remove(&Key(dx));
        }
        self.points.insert(Key(x), y);
        self.area += self.exclusive(x, y);
    }
}

/// The hypervolume of minimised 3-objective `points` strictly inside `reference`'s box.
pub fn hypervolume_3d(points: &[Vec<f64>], reference: &[f64]) -> f64 {
    let mut order: Vec<&Vec<f64>> = points.iter().collect();
    order.sort_by(|a, b| a[2].total_cmp(&b[2]));
    let mut stairs = Staircase { points: BTreeMap::new(), reference: (reference[0], reference[1]), area: 0.0 };
    let mut volume = 0.0;
    for (i, p) in order.iter().enumerate() {
        stairs.insert(p[0], p[1]);
        let next_z = order.get(i + 1).map_or(reference[2], |q| q[2]);
        volume += stairs.area * (next_z - p[2]);
    }
    volume
}
