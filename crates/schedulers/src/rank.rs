//! Ranking results within a rung: a total order on results ([`Ranked`]) and a multiset kept
//! split into its best `m` elements and the rest ([`TopSplit`]), so that "is this result in
//! the top 1/eta of the rung?" and "what is the k-th best value?" cost O(log n) per insertion
//! and O(1) per query, instead of a sort of the whole rung on every result.

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;

/// A trial's result in a rung, ordered best first: by badness, then by trial id (the earlier
/// trial wins a tie, which keeps every ordering deterministic).
#[derive(Clone, Copy, Debug)]
pub struct Ranked {
    /// The result as a loss ([`hposim_core::Objective::loss`]): smaller is better, failures +∞.
    pub badness: f64,
    /// The trial.
    pub trial: u32,
}

impl PartialEq for Ranked {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Ranked {}

impl Ord for Ranked {
    fn cmp(&self, other: &Self) -> Ordering {
        self.badness.total_cmp(&other.badness).then(self.trial.cmp(&other.trial))
    }
}

impl PartialOrd for Ranked {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// A multiset of results split into the `head` (the best `m`) and the `tail` (the rest), where
/// the caller sets `m` at each insertion and may only grow it by at most one per insertion
/// (as `⌊n/eta⌋` or `⌊(n−1)/eta⌋` do). Each insertion moves at most two elements between the
/// halves, reported to the caller so that it can track membership (ASHA's promotable set).
#[derive(Clone, Debug, Default)]
pub struct TopSplit {
    /// Max-heap: its root is the worst of the best `m`.
    head: BinaryHeap<Ranked>,
    /// Min-heap: its root is the best of the rest.
    tail: BinaryHeap<Reverse<Ranked>>,
}

/// How an insertion changed the head.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct HeadChange {
    /// Elements that entered the head (the new one, or one moved up from the tail).
    pub entered: [Option<Ranked>; 2],
    /// An element pushed out of the head into the tail.
    pub left: Option<Ranked>,
}

impl TopSplit {
    /// Number of elements.
    pub fn len(&self) -> usize {
        self.head.len() + self.tail.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Size of the head.
    pub fn head_len(&self) -> usize {
        self.head.len()
    }

    /// The worst element of the head (the `m`-th best), if the head is not empty.
    pub fn worst_of_head(&self) -> Option<Ranked> {
        self.head.peek().copied()
    }

    /// The best element of the tail (the `(m+1)`-th best), if the tail is not empty.
    pub fn best_of_tail(&self) -> Option<Ranked> {
        self.tail.peek().map(|r| r.0)
    }

    /// Inserts `item`, then rebalances so that the head holds the best `head_size` elements
    /// (or all of them, if there are fewer). `head_size` must not exceed the previous head
    /// size plus one. O(log n).
    pub fn insert(&mut self, item: Ranked, head_size: usize) -> HeadChange {
        let mut change = HeadChange::default();
        if self.head.peek().is_some_and(|worst| item < *worst)
            || (self.head.len() < head_size && self.best_of_tail().is_none_or(|b| item < b))
        {
            self.head.push(item);
            change.entered[0] = Some(item);
        } else {
            self.tail.push(Reverse(item));
        }
        if self.head.len() > head_size
            && let Some(out) = self.head.pop()
        {
            self.tail.push(Reverse(out));
            if change.entered[0] == Some(out) {
                change.entered[0] = None;
            } else {
                change.left = Some(out);
            }
        }
        while self.head.len() < head_size {
            let Some(Reverse(up)) = self.tail.pop() else { break };
            self.head.push(up);
            if change.left == Some(up) {
                change.left = None;
            } else if change.entered[0].is_none() {
                change.entered[0] = Some(up);
            } else {
                change.entered[1] = Some(up);
            }
        }
        change
    }

    /// Whether `item` (already inserted) is in the head.
    pub fn in_head(&self, item: Ranked) -> bool {
        self.head.peek().is_some_and(|worst| item <= *worst)
    }

    /// Every element, best first (for tests and reports; O(n log n)).
    pub fn sorted(&self) -> Vec<Ranked> {
        let mut all: Vec<Ranked> = self.head.iter().copied().chain(self.tail.iter().map(|r| r.0)).collect();
        all.sort();
        all
    }
}

/// A growing multiset with its `q`-quantile under NumPy's default (linear) interpolation, kept
/// in O(log n) per insertion: the head of a [`TopSplit`] holds the sorted values up to the
/// lower interpolation point, so the two points are the head's worst and the tail's best.
///
/// The interpolation is the one of `numpy.quantile` (and of Syne Tune's `Rung.quantile`, a
/// copy of it): `virt = (n−1)·q + 1`, `i = ⌊virt⌋`, `g = virt − i`, value
/// `x₍ᵢ₎ + g·(x₍ᵢ₊₁₎ − x₍ᵢ₎)` with `x₍₁₎ ≤ … ≤ x₍ₙ₎` (1-based).
#[derive(Clone, Debug)]
pub struct RankQuantile {
    split: TopSplit,
    q: f64,
}

impl RankQuantile {
    /// An empty multiset tracking its `q`-quantile, `q ∈ [0, 1]`.
    pub fn new(q: f64) -> Self {
        Self { split: TopSplit::default(), q: q.clamp(0.0, 1.0) }
    }

    fn virt(&self, n: usize) -> f64 {
        (n - 1) as f64 * self.q + 1.0
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.split.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.split.is_empty()
    }

    /// Inserts `item`. O(log n).
    pub fn insert(&mut self, item: Ranked) {
        let n = self.split.len() + 1;
        let head = self.virt(n) as usize;
        self.split.insert(item, head);
    }

    /// The `q`-quantile of the badness values, `None` when empty. O(1).
    pub fn quantile(&self) -> Option<f64> {
        let n = self.split.len();
        if n == 0 {
            return None;
        }
        let virt = self.virt(n);
        let g = virt - virt.floor();
        let lower = self.split.worst_of_head()?.badness;
        match self.split.best_of_tail() {
            Some(upper) if g > 0.0 => {
                if upper.badness.is_infinite() {
                    Some(f64::INFINITY)
                } else {
                    Some(lower + g * (upper.badness - lower))
                }
            }
            _ => Some(lower),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn r(badness: f64, trial: u32) -> Ranked {
        Ranked { badness, trial }
    }

    #[test]
    fn ties_in_badness_go_to_the_earlier_trial() {
        assert!(r(1.0, 3) < r(1.0, 4) && r(1.0, 9) < r(2.0, 0));
    }

    #[test]
    fn head_is_the_best_m_with_reported_moves() {
        let mut split = TopSplit::default();
        // m = ⌊n/3⌋: 0, 0, 1 ...
        assert_eq!(split.insert(r(5.0, 0), 0), HeadChange::default());
        split.insert(r(3.0, 1), 0);
        // Third insertion: m becomes 1; the best so far (3.0, trial 1) moves up from the tail.
        let change = split.insert(r(4.0, 2), 1);
        assert_eq!(change.entered, [Some(r(3.0, 1)), None]);
        assert_eq!(split.worst_of_head(), Some(r(3.0, 1)));
        // A better value pushes it out.
        let change = split.insert(r(1.0, 3), 1);
        assert_eq!((change.entered[0], change.left), (Some(r(1.0, 3)), Some(r(3.0, 1))));
        assert!(split.in_head(r(1.0, 3)) && !split.in_head(r(3.0, 1)));
        assert_eq!(split.best_of_tail(), Some(r(3.0, 1)));
    }

    /// Hand-derived with NumPy's linear definition (`virt = (n−1)q + 1`):
    /// sorted [1, 2, 3, 4], q = 1/3: virt = 2, so x₍₂₎ = 2;
    /// sorted [1, 2, 3, 4, 10], q = 1/3: virt = 7/3, so 2 + (1/3)(3 − 2) = 7/3;
    /// median of [1, 2, 3, 5]: virt = 2.5, so 2 + 0.5·(3 − 2) = 2.5; with +∞ added, virt = 3: 3.
    #[test]
    fn quantiles_match_numpy() {
        let mut q = RankQuantile::new(1.0 / 3.0);
        for (i, v) in [4.0, 1.0, 3.0, 2.0].into_iter().enumerate() {
            q.insert(r(v, i as u32));
        }
        assert!((q.quantile().unwrap() - 2.0).abs() < 1e-12);
        q.insert(r(10.0, 4));
        assert!((q.quantile().unwrap() - 7.0 / 3.0).abs() < 1e-12);
        let mut m = RankQuantile::new(0.5);
        assert_eq!(m.quantile(), None);
        for (i, v) in [5.0, 1.0, 3.0, 2.0].into_iter().enumerate() {
            m.insert(r(v, i as u32));
        }
        assert_eq!(m.quantile(), Some(2.5));
        m.insert(r(f64::INFINITY, 9));
        assert_eq!(m.quantile(), Some(3.0));
    }

    proptest! {
        /// The tracked quantile equals the interpolated quantile of the sorted values.
        #[test]
        fn quantile_matches_a_sort(values in proptest::collection::vec(-50i32..50, 1..120), q in 0.0f64..=1.0) {
            let mut tracker = RankQuantile::new(q);
            let mut all = Vec::new();
            for (i, v) in values.iter().enumerate() {
                tracker.insert(r(f64::from(*v), i as u32));
                all.push(f64::from(*v));
                all.sort_by(f64::total_cmp);
                let virt = (all.len() - 1) as f64 * q + 1.0;
                let lo = virt.floor() as usize;
                let g = virt - virt.floor();
                let want = if lo < all.len() { all[lo - 1] + g * (all[lo] - all[lo - 1]) } else { all[lo - 1] };
                prop_assert!((tracker.quantile().unwrap() - want).abs() < 1e-9);
            }
        }

        /// After any sequence of insertions with m = ⌊n/eta⌋, the head is exactly the best m
        /// elements, and the reported moves replay the head's membership.
        #[test]
        fn head_matches_a_sort(values in proptest::collection::vec(0u8..20, 1..200), eta in 2usize..5) {
            let mut split = TopSplit::default();
            let mut members = std::collections::BTreeSet::new();
            for (i, v) in values.iter().enumerate() {
                let item = r(f64::from(*v), i as u32);
                let change = split.insert(item, (i + 1) / eta);
                for e in change.entered.into_iter().flatten() {
                    prop_assert!(members.insert(e));
                }
                if let Some(l) = change.left {
                    prop_assert!(members.remove(&l));
                }
                let sorted = split.sorted();
                let best: std::collections::BTreeSet<Ranked> = sorted[..(i + 1) / eta].iter().copied().collect();
                prop_assert_eq!(&members, &best);
                prop_assert_eq!(split.head_len(), (i + 1) / eta);
            }
        }
    }
}
