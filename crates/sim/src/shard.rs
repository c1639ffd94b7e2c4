//! Shards of an experiment: the K-th of N disjoint subsets of its cells, which
//! `hposim run --shard K/N` runs, so that a sweep too large for one machine spreads over a
//! cluster's job array (`hposim submit`) into one results folder.
//!
//! The partition is list scheduling (Graham 1969): cells are taken one by one and each goes to
//! the shard with the least expected cost so far (ties to the lowest shard), so the shards'
//! expected costs differ by at most one cell's cost, and their cell counts by at most one when
//! every cell costs the same. A cell's expected cost is its strategy's relative cost
//! ([`hposim_schedulers::StrategySpec::relative_cost`], measured CPU time relative to random
//! search); it cannot be measured before the cells run, and every shard must compute the same
//! partition from the experiment alone, independently and at any time.
//!
//! Cells are taken seed by seed (all cells of seed 0 in grid order, the costliest first, then
//! those of seed 1, ...), so adding seeds to an experiment leaves every existing cell in its
//! shard: the new seeds' cells are placed after them. The partition depends on nothing but the
//! experiment's cells and N, so every shard computes the same one on any machine.

use crate::experiment::Experiment;
use crate::run::Cell;
use serde::Serialize;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fmt;
use std::str::FromStr;

/// Most shards a sweep can have: far more than the tasks of any job array (Slurm's
/// `MaxArraySize` defaults to 1001), and beyond it a value is a typo.
pub const MAX_SHARDS: u32 = 100_000;

/// The file in a results folder that records the partition of the last sharded run or
/// submission, for `hposim status`.
pub const SHARDS_FILE: &str = "shards.json";

/// The K-th (from 1) of N shards.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    /// K, from 1 to `count`.
    pub index: u32,
    /// N.
    pub count: u32,
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl FromStr for Shard {
    type Err = String;

    /// Reads `K/N` with 1 ≤ K ≤ N ≤ [`MAX_SHARDS`].
    fn from_str(text: &str) -> Result<Self, String> {
        let (k, n) = text.split_once('/').ok_or_else(|| format!("{text:?} is not K/N (the K-th of N shards, e.g. 2/8)"))?;
        let number = |s: &str, what: &str| s.trim().parse::<u32>().map_err(|_| format!("{text:?}: {what} {s:?} is not a whole number"));
        let (index, count) = (number(k, "K")?, number(n, "N")?);
        if count == 0 || count > MAX_SHARDS {
            return Err(format!("{text:?}: N must lie in 1..={MAX_SHARDS}"));
        }
        if index == 0 || index > count {
            return Err(format!("{text:?}: K must lie in 1..={count} (shards are counted from 1)"));
        }
        Ok(Shard { index, count })
    }
}

/// The shard (from 0) of each item, given each item's seed and expected cost, for `count`
/// shards: list scheduling seed by seed, the costliest first within a seed, each item to the
/// shard with the least cost so far (the lowest on ties). A cost of 0 counts as 1.
pub fn assign(items: &[(u32, u64)], count: u32) -> Vec<u32> {
    let count = count.max(1);
    let mut order: Vec<usize> = (0..items.len()).collect();
    order.sort_by_key(|&i| (items[i].0, Reverse(items[i].1), i));
    let mut loads: BinaryHeap<Reverse<(u64, u32)>> = (0..count).map(|shard| Reverse((0, shard))).collect();
    let mut shards = vec![0; items.len()];
    for i in order {
        // The heap holds `count` ≥ 1 entries throughout: one is popped and pushed back.
        if let Some(Reverse((load, shard))) = loads.pop() {
            shards[i] = shard;
            loads.push(Reverse((load.saturating_add(items[i].1.max(1)), shard)));
        }
    }
    shards
}

/// The shard (from 0) of each of `experiment`'s `cells` among `count` ([`assign`], by the cells'
/// strategies' relative costs).
pub fn assign_cells(experiment: &Experiment, cells: &[Cell], count: u32) -> Vec<u32> {
    let items: Vec<(u32, u64)> = cells.iter().map(|c| (c.seed, experiment.spec.strategies[c.strategy].relative_cost())).collect();
    assign(&items, count)
}

/// What [`SHARDS_FILE`] holds: the partition of the experiment's cells into `shards` shards.
#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize)]
pub struct Partition {
    /// N.
    pub shards: u32,
    /// Per shard (the first is shard 1), its cells' file stems in grid order.
    pub cells: Vec<Vec<String>>,
}

impl Partition {
    /// The partition of `cells` into `count` shards by `assignment` (each cell's shard from 0,
    /// as [`assign_cells`] gives it).
    pub fn of(cells: &[Cell], assignment: &[u32], count: u32) -> Partition {
        let mut per_shard = vec![Vec::new(); count.max(1) as usize];
        for (cell, &shard) in cells.iter().zip(assignment) {
            if let Some(list) = per_shard.get_mut(shard as usize) {
                list.push(cell.id.clone());
            }
        }
        Partition { shards: count.max(1), cells: per_shard }
    }

    /// A stable hash of the partition (its cells' file stems carry every setting and the code's
    /// fingerprint): `hposim submit` gives it to its tasks, which refuse to run a partition that
    /// is not the one submitted (the experiment file edited since, or another hposim build).
    pub fn digest(&self) -> String {
        let json = serde_json::to_vec(self).unwrap_or_default();
        format!("{:016x}", hposim_core::rng::stable_hash(0, &[&json]))
    }

    /// The partition of `experiment`'s `cells` into `count` shards.
    pub fn new(experiment: &Experiment, cells: &[Cell], count: u32) -> Partition {
        Partition::of(cells, &assign_cells(experiment, cells, count), count)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn shards_are_read_as_k_of_n_counted_from_one() {
        assert_eq!("2/8".parse::<Shard>(), Ok(Shard { index: 2, count: 8 }));
        assert_eq!(Shard { index: 3, count: 4 }.to_string(), "3/4");
        for (text, says) in [
            ("0/4", "K must lie in 1..=4"),
            ("5/4", "K must lie in 1..=4"),
            ("1/0", "N must lie in 1..=100000"),
            ("2", "is not K/N"),
            ("a/4", "K \"a\" is not a whole number"),
            ("1/-2", "N \"-2\" is not a whole number"),
        ] {
            let message = text.parse::<Shard>().unwrap_err();
            assert!(message.contains(says), "{text}: {message}");
        }
    }

    #[test]
    fn equal_cells_are_dealt_round_robin_seed_by_seed() {
        // Two strategies × three seeds, every cell of cost 1, two shards: seed 0's cells go to
        // shards 0 and 1, seed 1's likewise (both shards tied at 1: the lowest first), ...
        let items = [(0, 1), (1, 1), (2, 1), (0, 1), (1, 1), (2, 1)];
        assert_eq!(assign(&items, 2), vec![0, 0, 0, 1, 1, 1]);
        assert_eq!(assign(&items, 4), vec![0, 2, 0, 1, 3, 1]);
    }

    #[test]
    fn a_costly_strategy_is_spread_over_the_shards() {
        // Strategy A costs 500 (EHVI), B and C 1, four seeds, two shards: each shard gets two of
        // A's cells, and the cheap cells balance what remains.
        let mut items = Vec::new();
        for cost in [500, 1, 1] {
            for seed in 0..4 {
                items.push((seed, cost));
            }
        }
        let shards = assign(&items, 2);
        let costly: Vec<u32> = shards[..4].to_vec();
        assert_eq!(costly.iter().filter(|&&s| s == 0).count(), 2, "{shards:?}");
        let load = |k| items.iter().zip(&shards).filter(|(_, s)| **s == k).map(|(i, _)| i.1).sum::<u64>();
        assert_eq!((load(0), load(1)), (1004, 1004), "{shards:?}");
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

        /// Every cell in exactly one shard; the shards' costs differ by at most the costliest
        /// cell's; with equal costs, their counts by at most one; and adding seeds moves no cell.
        #[test]
        fn the_partition_covers_is_balanced_and_is_stable_when_seeds_are_added(
            strategy_costs in proptest::collection::vec(0u64..600, 1..6),
            benchmarks in 1u32..4,
            seeds in 1u32..8,
            more_seeds in 1u32..5,
            count in 1u32..12,
        ) {
            let grid = |seeds: u32| {
                let mut items = Vec::new();
                for _ in 0..benchmarks {
                    for &cost in &strategy_costs {
                        for seed in 0..seeds {
                            items.push((seed, cost));
                        }
                    }
                }
                items
            };
            let items = grid(seeds);
            let shards = assign(&items, count);
            prop_assert_eq!(shards.len(), items.len());
            prop_assert!(shards.iter().all(|&s| s < count));
            let mut loads = vec![0u64; count as usize];
            let mut counts = vec![0u64; count as usize];
            for (item, &shard) in items.iter().zip(&shards) {
                loads[shard as usize] += item.1.max(1);
                counts[shard as usize] += 1;
            }
            let costliest = items.iter().map(|i| i.1.max(1)).max().unwrap_or(1);
            let spread = |v: &[u64]| v.iter().max().unwrap() - v.iter().min().unwrap();
            prop_assert!(spread(&loads) <= costliest, "loads {:?}, costliest {}", loads, costliest);
            let equal = assign(&items.iter().map(|i| (i.0, 7)).collect::<Vec<_>>(), count);
            let mut equal_counts = vec![0u64; count as usize];
            for &s in &equal {
                equal_counts[s as usize] += 1;
            }
            prop_assert!(spread(&equal_counts) <= 1, "{:?}", equal_counts);

            // The same grid with more seeds: every cell that was there keeps its shard.
            let larger = grid(seeds + more_seeds);
            let larger_shards = assign(&larger, count);
            // Item i of a grid with n seeds is seed i % n of (benchmark, strategy) group i / n.
            let per_seed = |n: u32| move |i: usize| (i / n as usize, (i % n as usize) as u32);
            let (old, new) = (per_seed(seeds), per_seed(seeds + more_seeds));
            let mut moved = 0;
            for (j, &shard) in larger_shards.iter().enumerate() {
                let (group, seed) = new(j);
                if seed < seeds {
                    let i = (0..items.len()).find(|&i| old(i) == (group, seed)).unwrap();
                    if shards[i] != shard {
                        moved += 1;
                    }
                }
            }
            prop_assert_eq!(moved, 0);
        }
    }
}
