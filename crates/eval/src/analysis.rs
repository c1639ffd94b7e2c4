//! The analysis behind a report: from a results directory, per benchmark and strategy the
//! incumbent trajectories, their aggregates over seeds on a time grid, ranks over time,
//! speed-ups over the baseline, times to targets and the statistical tests; across benchmarks
//! the average rank, the pooled ECDF and the Friedman test; and the verdict table. Every
//! bootstrap stream derives from the benchmark and strategy names, so an analysis is
//! deterministic and independent of the number of threads.

use crate::aggregate::{Band, band};
use crate::bootstrap::{Estimate, bootstrap, median};
use crate::comparisons::{PairTest, RankTest, friedman_nemenyi, pairwise_mann_whitney, pairwise_wilcoxon};
use crate::fixed_target::{NORMALISED_TARGETS, data_targets, ecdf, expected_running_time};
use crate::incumbent::{Convention, Trajectory, trajectory};
use crate::mann_whitney::{KruskalWallis, kruskal_wallis};
use crate::quantile::median_of;
use crate::ranks::mean_ranks;
use crate::results::{CellResult, Results};
use crate::scale::{Measure, Scale};
use crate::speedup::{self, Axis};
use crate::strategy_table::Spread;
use hposim_core::BenchmarkReference;
use hposim_core::rng::stream;
use rayon::prelude::*;

/// Fractions of the compute horizon at which the report tabulates each strategy's median
/// regret, as the BOHB paper's and HpBandSter's comparisons read anytime curves.
pub const BUDGET_FRACTIONS: [f64; 5] = [0.05, 0.1, 0.25, 0.5, 1.0];

/// How to analyse.
#[derive(Clone, Debug, PartialEq)]
pub struct Options {
    /// Which observations can be the incumbent.
    pub convention: Convention,
    /// The strategy speed-ups are measured against.
    pub baseline: String,
    /// Points of the time grid of anytime curves and ranks.
    pub grid: usize,
    /// Confidence level of every interval.
    pub level: f64,
}

impl Default for Options {
    fn default() -> Self {
        Self { convention: Convention::HighestFidelity, baseline: "random".to_owned(), grid: 50, level: 0.95 }
    }
}

/// One strategy on one benchmark.
#[derive(Clone, Debug)]
pub struct StrategyAnalysis {
    /// Strategy name.
    pub name: String,
    /// Its position among the experiment's strategies (its colour in every figure).
    pub index: usize,
    /// The seeds, ascending; the per-seed vectors below follow this order.
    pub seeds: Vec<u32>,
    /// Incumbent trajectory per seed.
    pub trajectories: Vec<Trajectory>,
    /// Final score per seed: `None` where the strategy did not run the seed, infinite where
    /// the run never had an incumbent.
    pub finals: Vec<Option<f64>>,
    /// Seeds whose final incumbent was evaluated below full fidelity (no run reached it, or
    /// under the any-fidelity convention a lower fidelity looked better).
    pub below_full: usize,
    /// Per seed: the cell's wall-clock length in seconds (`None`: the seed did not run).
    pub lengths: Vec<Option<f64>>,
    /// Aggregates at each point of the benchmark's time grid.
    pub bands: Vec<Band>,
    /// Aggregates at each point of the benchmark's compute grid.
    pub compute_bands: Vec<Band>,
    /// Median final score with its interval.
    pub final_score: Option<Estimate>,
    /// Median plain regret (or objective value) over seeds at each of
    /// [`BUDGET_FRACTIONS`] of the benchmark's compute horizon; a seed without an incumbent
    /// yet counts as infinitely bad.
    pub at_fractions: Vec<f64>,
    /// Speed-up over the baseline on the wall-clock axis.
    pub speedup_time: Option<Estimate>,
    /// Speed-up over the baseline on the compute axis.
    pub speedup_compute: Option<Estimate>,
    /// Per target, per seed: the wall-clock seconds to reach it (infinite where never).
    pub hits: Vec<Vec<f64>>,
    /// Per target: the expected running time in seconds (`None`: no seed reached it).
    pub ert: Vec<Option<f64>>,
    /// Medians over seeds of the cell summaries' figures.
    pub usage: Usage,
}

/// Medians over seeds of what the cells used.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Usage {
    /// Worker-hours of training.
    pub compute_hours: f64,
    /// Worker-hours without a trial.
    pub idle_hours: f64,
    /// Wall-clock hours.
    pub wallclock_hours: f64,
    /// Worker-hours the same trials would have cost trained to full fidelity.
    pub full_training_hours: f64,
    /// Share of compute early termination saved.
    pub compute_saved: f64,
    /// Trials started.
    pub trials: f64,
    /// Cost in US dollars, where a price is set.
    pub cost_usd: Option<f64>,
    /// Cost without early termination.
    pub full_training_cost_usd: Option<f64>,
}

/// One benchmark.
#[derive(Clone, Debug)]
pub struct BenchmarkAnalysis {
    /// What the experiment knows about it.
    pub reference: BenchmarkReference,
    /// The measure of its results.
    pub scale: Scale,
    /// The time grid (seconds), from 0 to the latest end of any cell.
    pub time_grid: Vec<f64>,
    /// The compute grid (worker-seconds), from 0 to the most compute any cell used.
    pub compute_grid: Vec<f64>,
    /// Strategies that have cells on it, in experiment order.
    pub strategies: Vec<StrategyAnalysis>,
    /// Mean rank of each strategy at each grid point (`ranks[s][t]`).
    pub ranks: Vec<Vec<f64>>,
    /// Fixed targets (scores).
    pub targets: Vec<f64>,
    /// Whether the targets are normalised-regret levels or quantiles of the final scores.
    pub targets_are: &'static str,
    /// The baseline's median final score (the upper median for an even number of seeds): the
    /// target of speed-ups.
    pub baseline_target: Option<f64>,
    /// Whether its seeds are pairs: simulated results share each seed's benchmark noise between
    /// strategies (common random numbers); live studies do not, and are tested unpaired.
    pub paired: bool,
    /// Pairwise tests on the final scores: Wilcoxon signed-rank when paired, Mann–Whitney U
    /// otherwise.
    pub pairwise: Vec<PairTest>,
    /// Friedman and Nemenyi over the seeds (blocks), or why not.
    pub rank_test: Result<RankTest, String>,
    /// The Kruskal–Wallis test of all strategies (unpaired results only), or why not.
    pub kruskal: Option<Result<KruskalWallis, String>>,
}

/// A line of the verdict table.
#[derive(Clone, Debug)]
pub struct Verdict {
    /// Benchmark.
    pub benchmark: String,
    /// The strategy with the smallest median final score.
    pub best: String,
    /// Its final regret (plain, or the objective's value without a best known value).
    pub final_regret: Option<Estimate>,
    /// Its speed-up over the baseline (wall clock).
    pub speedup: Option<Estimate>,
    /// Its median usage.
    pub usage: Usage,
}

/// The whole analysis.
#[derive(Clone, Debug)]
pub struct Analysis {
    /// The options used.
    pub options: Options,
    /// Every strategy of the experiment, in order.
    pub strategies: Vec<String>,
    /// Per benchmark.
    pub benchmarks: Vec<BenchmarkAnalysis>,
    /// Grid of fractions of each benchmark's time horizon for the averaged rank curve.
    pub fraction_grid: Vec<f64>,
    /// Per strategy (experiment order): mean rank averaged over the benchmarks it ran on.
    pub average_rank: Vec<Vec<f64>>,
    /// Grid of fractions of the horizon (log-spaced) for the ECDF.
    pub ecdf_grid: Vec<f64>,
    /// Per strategy: the fraction of (run, target) pairs reached, pooled over benchmarks.
    pub ecdf: Vec<Vec<f64>>,
    /// Friedman and Nemenyi across benchmarks, or why not.
    pub across: Result<RankTest, String>,
    /// The verdict, per benchmark where some strategy has a finite median final score.
    pub verdict: Vec<Verdict>,
}

fn rng_for(parts: &[&str]) -> hposim_core::Rng {
    stream(0, &format!("{parts:?}"), "report-bootstrap")
}

fn usage_of(cells: &[&CellResult], price: Option<f64>) -> Usage {
    let m = |f: &dyn Fn(&CellResult) -> f64| Spread::of(cells.iter().map(|c| f(c))).map_or(f64::NAN, |s| s.median);
    let compute_hours = m(&|c| c.summary.compute_seconds / 3600.0);
    let full_training_hours = m(&|c| c.summary.full_training_seconds / 3600.0);
    Usage {
        compute_hours,
        idle_hours: m(&|c| c.summary.idle_seconds / 3600.0),
        wallclock_hours: m(&|c| c.summary.wallclock_seconds / 3600.0),
        full_training_hours,
        compute_saved: m(&|c| c.summary.compute_saved),
        trials: m(&|c| c.summary.trials as f64),
        cost_usd: price.map(|p| p * compute_hours),
        full_training_cost_usd: price.map(|p| p * full_training_hours),
    }
}

/// Analyses `results`.
pub fn analyse(results: &Results, options: &Options) -> Analysis {
    let price = results.manifest.as_ref().and_then(|m| m.price_per_worker_hour);
    let benchmarks: Vec<BenchmarkAnalysis> = results
        .benchmarks
        .iter()
        .filter(|b| results.cells.iter().any(|c| c.summary.benchmark == b.name))
        .map(|b| analyse_benchmark(results, b, options, price))
        .collect();
    let fraction_grid: Vec<f64> = (0..options.grid).map(|i| i as f64 / (options.grid.max(2) - 1) as f64).collect();
    let ecdf_grid: Vec<f64> = (0..options.grid).map(|i| 10f64.powf(-3.0 + 3.0 * i as f64 / (options.grid.max(2) - 1) as f64)).collect();
    let mut average_rank = Vec::new();
    let mut pooled_ecdf = Vec::new();
    for name in &results.strategies {
        let mut sums = vec![0.0; options.grid];
        let mut count = 0;
        let mut hits = Vec::new();
        for bench in &benchmarks {
            let Some(pos) = bench.strategies.iter().position(|s| &s.name == name) else { continue };
            count += 1;
            for (sum, r) in sums.iter_mut().zip(&bench.ranks[pos]) {
                *sum += r;
            }
            let horizon = bench.time_grid.last().copied().unwrap_or(1.0).max(f64::MIN_POSITIVE);
            hits.extend(bench.strategies[pos].hits.iter().flatten().map(|h| h / horizon));
        }
        average_rank.push(if count > 0 { sums.iter().map(|s| s / count as f64).collect() } else { Vec::new() });
        pooled_ecdf.push(ecdf(&hits, &ecdf_grid));
    }
    let across = across_benchmarks(&results.strategies, &benchmarks);
    let verdict = benchmarks.iter().filter_map(verdict_of).collect();
    Analysis {
        options: options.clone(),
        strategies: results.strategies.clone(),
        benchmarks,
        fraction_grid,
        average_rank,
        ecdf_grid,
        ecdf: pooled_ecdf,
        across,
        verdict,
    }
}

fn analyse_benchmark(results: &Results, reference: &BenchmarkReference, options: &Options, price: Option<f64>) -> BenchmarkAnalysis {
    let scale = Scale::of(reference);
    let cells_here = || results.cells.iter().filter(|c| c.summary.benchmark == reference.name);
    let horizon = cells_here().filter_map(|c| c.trace.end.last().copied()).fold(0.0f64, f64::max);
    let grid_of = |h: f64| -> Vec<f64> { (0..options.grid).map(|i| h * i as f64 / (options.grid.max(2) - 1) as f64).collect() };
    let time_grid = grid_of(horizon);
    let compute_horizon =
        cells_here().map(|c| c.trace.start.iter().zip(&c.trace.end).map(|(s, e)| e - s).sum::<f64>()).fold(0.0f64, f64::max);
    let compute_grid = grid_of(compute_horizon);
    let seeds: Vec<u32> = {
        let mut s: Vec<u32> = cells_here().map(|c| c.summary.seed).collect();
        s.sort_unstable();
        s.dedup();
        s
    };
    // Trajectories and per-seed finals, aligned on the benchmark's seeds: `None` where the
    // strategy did not run the seed, infinite where it ran without ever having an incumbent.
    let mut strategies: Vec<StrategyAnalysis> = results
        .strategies
        .iter()
        .enumerate()
        .filter_map(|(index, name)| {
            let cells: Vec<&CellResult> = results.cells_of(&reference.name, name).collect();
            if cells.is_empty() {
                return None;
            }
            let mut by_seed: Vec<Option<&CellResult>> = vec![None; seeds.len()];
            for c in &cells {
                if let Ok(i) = seeds.binary_search(&c.summary.seed) {
                    by_seed[i] = Some(c);
                }
            }
            let trajectories: Vec<Trajectory> = by_seed
                .iter()
                .map(|c| c.map(|c| trajectory(&c.trace, options.convention, |v| scale.score(v))).unwrap_or_default())
                .collect();
            let finals = by_seed.iter().zip(&trajectories).map(|(c, t)| c.map(|_| t.last().unwrap_or(f64::INFINITY))).collect();
            let lengths = by_seed.iter().map(|c| c.map(|c| c.trace.end.last().copied().unwrap_or(0.0))).collect();
            let below_full = by_seed
                .iter()
                .zip(&trajectories)
                .filter(|(c, t)| c.is_some() && t.last_fidelity().is_some_and(|f| f < reference.max_fidelity))
                .count();
            Some(StrategyAnalysis {
                name: name.clone(),
                index,
                seeds: seeds.clone(),
                trajectories,
                finals,
                lengths,
                below_full,
                bands: Vec::new(),
                compute_bands: Vec::new(),
                at_fractions: Vec::new(),
                final_score: None,
                speedup_time: None,
                speedup_compute: None,
                hits: Vec::new(),
                ert: Vec::new(),
                usage: usage_of(&cells, price),
            })
        })
        .collect();
    // Every seed a strategy ran counts in its aggregates; one without an incumbent yet keeps a
    // moment from having an aggregate, and counts as infinitely bad in medians.
    let ran = |s: &StrategyAnalysis| -> Vec<usize> { (0..seeds.len()).filter(|&i| s.lengths[i].is_some()).collect() };
    strategies.par_iter_mut().for_each(|s| {
        let mut rng = rng_for(&[&reference.name, &s.name, "anytime"]);
        let have = ran(s);
        s.bands = time_grid
            .iter()
            .map(|&t| band(&have.iter().map(|&i| s.trajectories[i].at_time(t)).collect::<Vec<_>>(), options.level, &mut rng))
            .collect();
        s.compute_bands = compute_grid
            .iter()
            .map(|&c| band(&have.iter().map(|&i| s.trajectories[i].at_compute(c)).collect::<Vec<_>>(), options.level, &mut rng))
            .collect();
        s.at_fractions = BUDGET_FRACTIONS
            .iter()
            .map(|f| {
                let at: Vec<f64> =
                    have.iter().map(|&i| s.trajectories[i].at_compute(f * compute_horizon).unwrap_or(f64::INFINITY)).collect();
                // The regret is an increasing affine map of the score, so it commutes with the median.
                median_of(&at).map_or(f64::NAN, |m| scale.regret(m))
            })
            .collect();
        let finals: Vec<f64> = s.finals.iter().flatten().copied().collect();
        s.final_score = bootstrap(&finals, options.level, &mut rng, median);
    });
    // Ranks over time, per seed across strategies, over the seeds every strategy ran.
    let complete: Vec<usize> = (0..seeds.len()).filter(|&i| strategies.iter().all(|s| s.lengths[i].is_some())).collect();
    let mut ranks = vec![Vec::with_capacity(time_grid.len()); strategies.len()];
    for &t in &time_grid {
        let rows: Vec<Vec<Option<f64>>> =
            complete.iter().map(|&i| strategies.iter().map(|s| s.trajectories[i].at_time(t)).collect()).collect();
        let mean = mean_ranks(&rows);
        for (k, r) in ranks.iter_mut().enumerate() {
            r.push(mean.get(k).copied().unwrap_or(f64::NAN));
        }
    }
    // Fixed targets.
    let (targets, targets_are) = if scale.measure == Measure::NormalisedRegret {
        (NORMALISED_TARGETS.to_vec(), "normalised-regret levels")
    } else {
        let finals: Vec<f64> = strategies.iter().flat_map(|s| s.finals.iter().flatten().copied()).collect();
        (data_targets(&finals), "quantiles of the final scores of all runs")
    };
    for s in &mut strategies {
        let have = ran(s);
        let lengths: Vec<f64> = have.iter().map(|&i| s.lengths[i].unwrap_or(0.0)).collect();
        s.hits = targets
            .iter()
            .map(|&target| have.iter().map(|&i| s.trajectories[i].first_reaching(target).map_or(f64::INFINITY, |h| h.0)).collect())
            .collect();
        s.ert = s
            .hits
            .iter()
            .map(|h| {
                let hits: Vec<Option<f64>> = h.iter().map(|x| x.is_finite().then_some(*x)).collect();
                expected_running_time(&hits, &lengths)
            })
            .collect();
    }
    // Speed-ups over the baseline (the baseline's seeds that ran), computed from borrowed
    // trajectories and stored once every strategy's are known.
    let baseline = strategies.iter().find(|s| s.name == options.baseline);
    let base: Vec<&Trajectory> = baseline.map(|b| ran(b).into_iter().map(|i| &b.trajectories[i]).collect()).unwrap_or_default();
    let baseline_target = baseline.and_then(|_| speedup::baseline_target(&base));
    if baseline_target.is_some() {
        let one = Some(Estimate { value: 1.0, low: 1.0, high: 1.0 });
        let speedups: Vec<(Option<Estimate>, Option<Estimate>)> = strategies
            .par_iter()
            .map(|s| {
                if s.name == options.baseline {
                    return (one, one);
                }
                let runs: Vec<&Trajectory> = ran(s).into_iter().map(|i| &s.trajectories[i]).collect();
                let mut rng = rng_for(&[&reference.name, &s.name, "speedup"]);
                let time = speedup::speedup(&base, &runs, Axis::Time, options.level, &mut rng);
                (time, speedup::speedup(&base, &runs, Axis::Compute, options.level, &mut rng))
            })
            .collect();
        for (s, (time, compute)) in strategies.iter_mut().zip(speedups) {
            (s.speedup_time, s.speedup_compute) = (time, compute);
        }
    }
    // Tests on the final scores, seeds matched by index.
    let names: Vec<String> = strategies.iter().map(|s| s.name.clone()).collect();
    let finals: Vec<Vec<Option<f64>>> = strategies.iter().map(|s| s.finals.clone()).collect();
    let paired = results.manifest.as_ref().is_none_or(|m| m.kind != "live");
    let (pairwise, rank_test, kruskal) = if paired {
        let rows: Vec<Vec<Option<f64>>> = (0..seeds.len()).map(|i| finals.iter().map(|f| f[i]).collect()).collect();
        (pairwise_wilcoxon(&names, &finals), friedman_nemenyi(&names, &rows, "seeds"), None)
    } else {
        let why = "the seeds of a live study are not blocks: real training noise is not shared between strategies, so they are compared unpaired (Kruskal–Wallis)".to_owned();
        let groups: Vec<Vec<f64>> = finals.iter().map(|f| f.iter().flatten().copied().filter(|v| v.is_finite()).collect()).collect();
        let kruskal = if groups.len() < 2 {
            Err("one strategy: nothing to compare".to_owned())
        } else if groups.iter().any(|g| g.len() < crate::comparisons::MIN_UNPAIRED) {
            Err(format!("too few runs with a result (at least {} per strategy)", crate::comparisons::MIN_UNPAIRED))
        } else {
            kruskal_wallis(&groups).ok_or_else(|| "every final score ties".to_owned())
        };
        (pairwise_mann_whitney(&names, &finals), Err(why), Some(kruskal))
    };
    BenchmarkAnalysis {
        reference: reference.clone(),
        scale,
        time_grid,
        compute_grid,
        strategies,
        ranks,
        targets,
        targets_are,
        baseline_target,
        paired,
        pairwise,
        rank_test,
        kruskal,
    }
}

/// Friedman across benchmarks: one block per benchmark, each strategy's median final score
/// (ranks within a block make the scales comparable).
fn across_benchmarks(strategies: &[String], benchmarks: &[BenchmarkAnalysis]) -> Result<RankTest, String> {
    let rows: Vec<Vec<Option<f64>>> = benchmarks
        .iter()
        .map(|b| {
            strategies
                .iter()
                .map(|name| b.strategies.iter().find(|s| &s.name == name).and_then(|s| s.final_score.map(|e| e.value)))
                .collect()
        })
        .collect();
    friedman_nemenyi(strategies, &rows, "benchmarks")
}

fn verdict_of(bench: &BenchmarkAnalysis) -> Option<Verdict> {
    // A strategy whose median final score is infinitely bad (most seeds without a result) is
    // never the verdict's best.
    let best = bench
        .strategies
        .iter()
        .filter_map(|s| s.final_score.map(|e| (s, e)))
        .filter(|(_, e)| e.value.is_finite())
        .min_by(|a, b| a.1.value.total_cmp(&b.1.value))?;
    let (s, e) = best;
    let final_regret =
        Some(Estimate { value: bench.scale.regret(e.value), low: bench.scale.regret(e.low), high: bench.scale.regret(e.high) })
            .map(|r| if r.low > r.high { Estimate { value: r.value, low: r.high, high: r.low } } else { r });
    Some(Verdict { benchmark: bench.reference.name.clone(), best: s.name.clone(), final_regret, speedup: s.speedup_time, usage: s.usage })
}
