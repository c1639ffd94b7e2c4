//! Evaluation of multi-objective runs: the hypervolume of the results at full fidelity over
//! time, aggregated over seeds with bootstrap intervals; the time each strategy needs to reach a
//! fraction of the best known hypervolume; and the median (50 %) attainment surface of two
//! objectives (Fonseca & Fleming 1996; the `eaf` package of López-Ibáñez, Paquete & Stützle,
//! 2010): the boundary of the region of objective space that at least half of the runs attain.
//!
//! The best known hypervolume of a benchmark is that of the union of every cell's results at
//! full fidelity (the empirical reference front, as when the true front is unknown); its
//! hypervolume regret is that minus a strategy's. Results outside the reference box add no
//! volume and are counted.

use crate::aggregate::band;
use crate::bootstrap::Estimate;
use crate::results::{CellResult, Results};
use hposim_core::Trace;
use hposim_core::pareto::hypervolume::hypervolume;
use hposim_core::{Direction, EpochStatus, Objective, Rng};

/// The fractions of the best known hypervolume whose reaching time is reported.
pub const HYPERVOLUME_FRACTIONS: [f64; 3] = [0.5, 0.9, 0.99];

/// Results at full fidelity in arrival order: `(end time, values)`.
pub type TimedResults = Vec<(f64, Vec<f64>)>;

/// One strategy on one multi-objective benchmark.
#[derive(Clone, Debug, PartialEq)]
pub struct MoStrategy {
    /// Strategy name.
    pub name: String,
    /// Its position in the experiment (its colour).
    pub index: usize,
    /// Seeds.
    pub seeds: usize,
    /// Final hypervolume: median over seeds with its bootstrap interval.
    pub final_hypervolume: Option<Estimate>,
    /// Median hypervolume (with interval) at each time of [`MoBenchmark::times`].
    pub hypervolume_over_time: Vec<Option<Estimate>>,
    /// Per fraction of [`HYPERVOLUME_FRACTIONS`]: the time (seconds) by which at least half the
    /// seeds reached that share of the best known hypervolume (the `⌈n/2⌉`-th smallest), `None`
    /// if fewer than half did.
    pub time_to_fraction: Vec<Option<f64>>,
    /// The median attainment surface (two objectives) as a staircase in the objectives' units;
    /// empty for more objectives.
    pub attainment: Vec<(f64, f64)>,
    /// Results at full fidelity outside the reference box, over all seeds.
    pub outside_reference: usize,
}

/// A multi-objective benchmark's evaluation.
#[derive(Clone, Debug, PartialEq)]
pub struct MoBenchmark {
    /// Benchmark name.
    pub name: String,
    /// Its objectives.
    pub objectives: Vec<Objective>,
    /// The hypervolume reference point.
    pub reference: Vec<f64>,
    /// Hypervolume of the union of every cell's results at full fidelity.
    pub best_hypervolume: f64,
    /// The time grid (seconds) of the hypervolume curves.
    pub times: Vec<f64>,
    /// The strategies, in experiment order.
    pub strategies: Vec<MoStrategy>,
}

/// The results at full fidelity of `trace` (with `k` objectives), in the order they arrived:
/// `(end time, values)`.
pub fn full_fidelity_results(trace: &Trace, k: usize, max_fidelity: u32) -> TimedResults {
    (0..trace.len())
        .filter(|&r| trace.status[r] == EpochStatus::Ok && trace.epoch[r] >= max_fidelity)
        .filter_map(|r| trace.metrics.get(r * k..(r + 1) * k).map(|m| (trace.end[r], m.to_vec())))
        .collect()
}

/// The hypervolume after each result: `(time, hypervolume of the results so far)`. Only the
/// non-dominated results inside the reference box are kept, and the volume is recomputed only
/// when a result enters that set.
pub fn hypervolume_trajectory(results: &[(f64, Vec<f64>)], reference: &[f64], directions: &[Direction]) -> Vec<(f64, f64)> {
    let loss = |v: &[f64]| -> Vec<f64> { v.iter().zip(directions).map(|(x, d)| d.sign() * x).collect() };
    let reference_loss = loss(reference);
    let mut front: Vec<Vec<f64>> = Vec::new();
    let mut front_losses: Vec<Vec<f64>> = Vec::new();
    let mut volume = 0.0;
    results
        .iter()
        .map(|(time, values)| {
            let l = loss(values);
            let inside = l.iter().zip(&reference_loss).all(|(a, r)| a < r);
            let covered = front_losses.iter().any(|f| f.iter().zip(&l).all(|(a, b)| a <= b));
            if inside && !covered {
                let keep: Vec<bool> = front_losses.iter().map(|f| !l.iter().zip(f).all(|(a, b)| a <= b)).collect();
                let mut i = 0;
                front.retain(|_| {
                    i += 1;
                    keep[i - 1]
                });
                let mut i = 0;
                front_losses.retain(|_| {
                    i += 1;
                    keep[i - 1]
                });
                front.push(values.clone());
                front_losses.push(l);
                volume = hypervolume(&front, reference, directions).map_or(f64::NAN, |h| h.volume);
            }
            (*time, volume)
        })
        .collect()
}

/// The `⌈n/2⌉`-th smallest of `values` (infinite values allowed): the value at least half
/// attain, the statistic of the 50 % attainment surface.
fn lower_median(values: &[f64]) -> Option<f64> {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    v.get(v.len().div_ceil(2).checked_sub(1)?).copied()
}

/// The hypervolume of a trajectory at `time` (0 before the first result).
pub fn hypervolume_at(trajectory: &[(f64, f64)], time: f64) -> f64 {
    trajectory.iter().take_while(|(t, _)| *t <= time).last().map_or(0.0, |&(_, h)| h)
}

/// The first time a trajectory reaches `target`, if it does.
pub fn time_to_reach(trajectory: &[(f64, f64)], target: f64) -> Option<f64> {
    trajectory.iter().find(|(_, h)| *h >= target).map(|&(t, _)| t)
}

/// The median attainment surface of `runs` (each a set of points of two objectives with
/// `directions`): for every first-objective value `x` where some run has a point, the
/// `⌈n/2⌉`-th best over the `n` runs of the best second objective attained at a first objective
/// at least as good as `x` (infinitely bad where a run attains nothing), so at least half the
/// runs attain every point of it. Returned as the staircase through those points, corners
/// included, in the objectives' units, from the best first objective on.
pub fn median_attainment(runs: &[Vec<[f64; 2]>], directions: [Direction; 2]) -> Vec<(f64, f64)> {
    let (s0, s1) = (directions[0].sign(), directions[1].sign());
    // As losses: smaller is better in both.
    let losses: Vec<Vec<[f64; 2]>> = runs.iter().map(|run| run.iter().map(|p| [s0 * p[0], s1 * p[1]]).collect()).collect();
    let mut xs: Vec<f64> = losses.iter().flatten().map(|p| p[0]).filter(|x| x.is_finite()).collect();
    xs.sort_by(f64::total_cmp);
    xs.dedup();
    let mut surface: Vec<(f64, f64)> = Vec::new();
    for x in xs {
        let attained: Vec<f64> =
            losses.iter().map(|run| run.iter().filter(|p| p[0] <= x).map(|p| p[1]).fold(f64::INFINITY, f64::min)).collect();
        let Some(level) = lower_median(&attained).filter(|l| l.is_finite()) else { continue };
        if surface.last().is_none_or(|&(_, last)| level < last) {
            surface.push((x, level));
        }
    }
    // In loss space the staircase turns at (xᵢ, yᵢ₋₁): the previous level holds until xᵢ.
    let mut stairs: Vec<(f64, f64)> = Vec::with_capacity(2 * surface.len());
    for (i, &(x, y)) in surface.iter().enumerate() {
        if i > 0 {
            stairs.push((x, surface[i - 1].1));
        }
        stairs.push((x, y));
    }
    stairs.into_iter().map(|(x, y)| (s0 * x, s1 * y)).collect()
}

/// Evaluates every benchmark of `results` with several objectives and a reference point, on a
/// time grid of `grid` points, with `level` bootstrap intervals drawn from `rng`.
pub fn analyse(results: &Results, grid: usize, level: f64, rng: &mut Rng) -> Vec<MoBenchmark> {
    let mut out = Vec::new();
    for bench in &results.benchmarks {
        let (Some(reference), k) = (bench.hypervolume_reference.clone(), bench.objectives.len()) else { continue };
        if k < 2 || reference.len() != k {
            continue;
        }
        let directions: Vec<Direction> = bench.objectives.iter().map(|o| o.direction).collect();
        let cells: Vec<&CellResult> = results.cells.iter().filter(|c| c.summary.benchmark == bench.name).collect();
        let per_cell: Vec<(&CellResult, TimedResults)> =
            cells.iter().map(|c| (*c, full_fidelity_results(&c.trace, k, bench.max_fidelity))).collect();
        let union: Vec<Vec<f64>> = per_cell.iter().flat_map(|(_, r)| r.iter().map(|(_, v)| v.clone())).collect();
        let best = hypervolume(&union, &reference, &directions).map_or(0.0, |h| h.volume);
        let horizon = cells.iter().flat_map(|c| c.trace.end.iter().copied()).fold(0.0f64, f64::max);
        let times: Vec<f64> = (1..=grid.max(1)).map(|i| horizon * i as f64 / grid.max(1) as f64).collect();
        let mut strategies = Vec::new();
        for (index, name) in results.strategies.iter().enumerate() {
            let mine: Vec<&(&CellResult, TimedResults)> = per_cell.iter().filter(|(c, _)| &c.summary.strategy == name).collect();
            if mine.is_empty() {
                continue;
            }
            let trajectories: Vec<Vec<(f64, f64)>> = mine.iter().map(|(_, r)| hypervolume_trajectory(r, &reference, &directions)).collect();
            let finals: Vec<Option<f64>> = trajectories.iter().map(|t| Some(t.last().map_or(0.0, |&(_, h)| h))).collect();
            let hypervolume_over_time = times
                .iter()
                .map(|&t| band(&trajectories.iter().map(|tr| Some(hypervolume_at(tr, t))).collect::<Vec<_>>(), level, rng).median)
                .collect();
            let time_to_fraction = HYPERVOLUME_FRACTIONS
                .iter()
                .map(|f| {
                    if best <= 0.0 {
                        return None; // Nothing inside the reference box: no fraction to reach.
                    }
                    let reached: Vec<f64> = trajectories.iter().map(|tr| time_to_reach(tr, f * best).unwrap_or(f64::INFINITY)).collect();
                    lower_median(&reached).filter(|t| t.is_finite())
                })
                .collect();
            let attainment = if k == 2 {
                let runs: Vec<Vec<[f64; 2]>> = mine.iter().map(|(_, r)| r.iter().map(|(_, v)| [v[0], v[1]]).collect()).collect();
                median_attainment(&runs, [directions[0], directions[1]])
            } else {
                Vec::new()
            };
            let outside = mine
                .iter()
                .map(|(_, r)| {
                    let points: Vec<Vec<f64>> = r.iter().map(|(_, v)| v.clone()).collect();
                    hypervolume(&points, &reference, &directions).map_or(0, |h| h.outside)
                })
                .sum();
            strategies.push(MoStrategy {
                name: name.clone(),
                index,
                seeds: mine.len(),
                final_hypervolume: band(&finals, level, rng).median,
                hypervolume_over_time,
                time_to_fraction,
                attainment,
                outside_reference: outside,
            });
        }
        out.push(MoBenchmark {
            name: bench.name.clone(),
            objectives: bench.objectives.clone(),
            reference,
            best_hypervolume: best,
            times,
            strategies,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hypervolume_grows_with_each_result_and_is_read_at_any_time() {
        // Minimise both, reference (4, 4): (1, 3) adds 3·1 = 3; (3, 1) adds 1·3 = 3 minus the
        // overlap [3,4]×[3,4] = 1: 5; (2, 2) adds the square [2,3]×[2,3] = 1: 6.
        let results = vec![(10.0, vec![1.0, 3.0]), (20.0, vec![3.0, 1.0]), (30.0, vec![2.0, 2.0])];
        let trajectory = hypervolume_trajectory(&results, &[4.0, 4.0], &[Direction::Minimize, Direction::Minimize]);
        assert_eq!(trajectory, vec![(10.0, 3.0), (20.0, 5.0), (30.0, 6.0)]);
        assert_eq!(hypervolume_at(&trajectory, 5.0), 0.0);
        assert_eq!(hypervolume_at(&trajectory, 25.0), 5.0);
        assert_eq!(time_to_reach(&trajectory, 5.5), Some(30.0));
        assert_eq!(time_to_reach(&trajectory, 7.0), None);
        // A dominated result and one outside the box leave the volume as it was.
        let more = vec![(10.0, vec![1.0, 3.0]), (15.0, vec![2.0, 3.5]), (16.0, vec![0.5, 5.0]), (20.0, vec![0.5, 2.0])];
        let trajectory = hypervolume_trajectory(&more, &[4.0, 4.0], &[Direction::Minimize, Direction::Minimize]);
        assert_eq!(trajectory, vec![(10.0, 3.0), (15.0, 3.0), (16.0, 3.0), (20.0, 7.0)]);
        assert_eq!(lower_median(&[3.0, f64::INFINITY]), Some(3.0));
        assert_eq!(lower_median(&[]), None);
    }

    #[test]
    fn the_median_attainment_surface_is_attained_by_half_the_runs() {
        // Three runs minimising both. At x = 1 only run a attains (y = 4): the 2nd best of
        // (4, ∞, ∞) is ∞. At x = 2: a 4, b 2, c ∞: 4. At x = 3: a 1, b 2, c 3: 2.
        let runs = vec![vec![[1.0, 4.0], [3.0, 1.0]], vec![[2.0, 2.0]], vec![[3.0, 3.0]]];
        let surface = median_attainment(&runs, [Direction::Minimize, Direction::Minimize]);
        assert_eq!(surface, vec![(2.0, 4.0), (3.0, 4.0), (3.0, 2.0)]);
        // Maximising the second objective mirrors it: values are negated and back.
        let mirrored: Vec<Vec<[f64; 2]>> = runs.iter().map(|r| r.iter().map(|p| [p[0], -p[1]]).collect()).collect();
        assert_eq!(median_attainment(&mirrored, [Direction::Minimize, Direction::Maximize]), vec![(2.0, -4.0), (3.0, -4.0), (3.0, -2.0)]);
        // Two runs: the surface is what at least one of two attains, a point of a run.
        let two = vec![vec![[1.0, 1.0]], vec![[2.0, 2.0]]];
        assert_eq!(median_attainment(&two, [Direction::Minimize, Direction::Minimize]), vec![(1.0, 1.0)]);
        // A maximised first objective: the corner sits where the better level starts.
        let flipped: Vec<Vec<[f64; 2]>> = runs.iter().map(|r| r.iter().map(|p| [-p[0], p[1]]).collect()).collect();
        assert_eq!(median_attainment(&flipped, [Direction::Maximize, Direction::Minimize]), vec![(-2.0, 4.0), (-3.0, 4.0), (-3.0, 2.0)]);
    }
}
