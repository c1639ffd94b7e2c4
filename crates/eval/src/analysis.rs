//! The analysis behind a report: from a results directory, per benchmark and strategy the
//! incumbent trajectories, their aggregates over seeds on a time grid, ranks over time,
//! speed-ups over the baseline, times to targets and the statistical tests; across benchmarks
//! the average rank, the pooled ECDF and the Friedman test; and the verdict table. Every
//! bootstrap stream derives from the benchmark and strategy names, so an analysis is
//! deterministic and independent of the number of threads.

use crate::aggregate::{Band, band};
use crate::bootstrap::{Estimate, bootstrap, median};
use crate::comparisons::{ALPHA, PairTest, RankTest, friedman_nemenyi, pairwise_mann_whitney, pairwise_wilcoxon};
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
    /// Median score over seeds (the benchmark's measure, as a score: smaller is better; see
    /// [`Scale::shown`]) at each of [`BUDGET_FRACTIONS`] of the benchmark's compute horizon; a
    /// seed without an incumbent yet counts as infinitely bad.
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
    /// The effect size against the baseline, with its bootstrap interval ([`crate::vargha_delaney`]):
    /// where seeds are paired, the share of seeds on which this strategy ends with a better final
    /// score than the baseline; otherwise Vargha–Delaney A, the probability that a run of it ends
    /// better than a run of the baseline (ties half; runs without a result count as infinitely
    /// bad); `None` without baseline runs.
    pub effect: Option<Estimate>,
    /// Seeds without any result at full fidelity, with the reason their cell stopped (the
    /// summary's `stop_reason`), in seed order.
    pub without_full_result: Vec<(u32, String)>,
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

/// A line of the verdict table: not one winner, but the strategies the tests cannot tell
/// from the best.
#[derive(Clone, Debug)]
pub struct Verdict {
    /// Benchmark.
    pub benchmark: String,
    /// The strategies with the smallest median final score: one, or several on an exact tie.
    pub best: Vec<String>,
    /// Every strategy not significantly worse than the best (the best included), by median
    /// final score: a strategy is significantly worse when its Holm-corrected pairwise test
    /// against one of the best rejects at [`ALPHA`] in the best's favour. A strategy
    /// without a finite median final score is never among them.
    pub contenders: Vec<String>,
    /// Strategies whose comparison with the best could not be tested (too few seeds, or equal
    /// on every seed): among the contenders because nothing shows them worse.
    pub untested: Vec<String>,
    /// Whether the contenders are every strategy with a finite median final score (and more
    /// than one): the finding is "no significant difference".
    pub no_difference: bool,
    /// The best's median final score (the benchmark's measure) with its interval.
    pub final_score: Option<Estimate>,
    /// The same as plain regret (or the objective's value without a best known value).
    pub final_regret: Option<Estimate>,
    /// The first best's speed-up over the baseline (wall clock).
    pub speedup: Option<Estimate>,
    /// The first best's median usage.
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
                effect: None,
                without_full_result: by_seed
                    .iter()
                    .flatten()
                    .filter(|c| c.summary.best_objective_max_fidelity.is_none())
                    .map(|c| (c.summary.seed, c.summary.stop_reason.clone()))
                    .collect(),
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
                median_of(&at).unwrap_or(f64::NAN)
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
    // Effect sizes against the baseline: Vargha–Delaney A on the final scores, seeds resampled as
    // pairs where they are pairs.
    let paired = results.manifest.as_ref().is_none_or(|m| m.kind != "live");
    if let Some(base) = strategies.iter().position(|s| s.name == options.baseline) {
        let base_finals = strategies[base].finals.clone();
        strategies.par_iter_mut().for_each(|s| {
            let (x, y): (Vec<f64>, Vec<f64>) = if paired {
                s.finals.iter().zip(&base_finals).filter_map(|(a, b)| a.zip(*b)).unzip()
            } else {
                (s.finals.iter().flatten().copied().collect(), base_finals.iter().flatten().copied().collect())
            };
            let mut rng = rng_for(&[&reference.name, &s.name, "effect"]);
            s.effect = crate::vargha_delaney::a_with_interval(&x, &y, paired, options.level, &mut rng);
        });
    }
    // Tests on the final scores, seeds matched by index.
    let names: Vec<String> = strategies.iter().map(|s| s.name.clone()).collect();
    let finals: Vec<Vec<Option<f64>>> = strategies.iter().map(|s| s.finals.clone()).collect();
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

/// The verdict on one benchmark: the best by median final score (every strategy on an exact tie),
/// and every strategy its pairwise tests cannot show to be worse.
pub fn verdict_of(bench: &BenchmarkAnalysis) -> Option<Verdict> {
    // A strategy whose median final score is infinitely bad (most seeds without a result) is
    // never the verdict's best, nor a contender.
    let mut ranked: Vec<(&StrategyAnalysis, Estimate)> =
        bench.strategies.iter().filter_map(|s| s.final_score.map(|e| (s, e))).filter(|(_, e)| e.value.is_finite()).collect();
    ranked.sort_by(|a, b| a.1.value.total_cmp(&b.1.value));
    let (first, e) = *ranked.first()?;
    let best: Vec<String> = ranked.iter().take_while(|(_, x)| x.value == e.value).map(|(s, _)| s.name.clone()).collect();
    let test_of = |a: &str, b: &str| bench.pairwise.iter().find(|t| (t.a == a && t.b == b) || (t.a == b && t.b == a));
    let mut contenders = Vec::new();
    let mut untested = Vec::new();
    for (s, _) in &ranked {
        if best.contains(&s.name) {
            contenders.push(s.name.clone());
            continue;
        }
        let mut worse = false;
        let mut tested = true;
        for b in &best {
            match test_of(b, &s.name).map(|t| (t, &t.outcome)) {
                Some((t, Ok(o))) => worse |= o.p_holm < ALPHA && o.favours_a == (&t.a == b),
                _ => tested = false,
            }
        }
        if !worse {
            contenders.push(s.name.clone());
            if !tested {
                untested.push(s.name.clone());
            }
        }
    }
    let no_difference = contenders.len() > 1 && contenders.len() == ranked.len();
    let mapped = |f: &dyn Fn(f64) -> f64| Some(ordered(Estimate { value: f(e.value), low: f(e.low), high: f(e.high) }));
    let final_regret = mapped(&|v| bench.scale.regret(v));
    let final_score = mapped(&|v| bench.scale.shown(v));
    Some(Verdict {
        benchmark: bench.reference.name.clone(),
        best,
        contenders,
        untested,
        no_difference,
        final_score,
        final_regret,
        speedup: first.speedup_time,
        usage: first.usage,
    })
}

/// An interval with its ends in order (a decreasing map, as the objective of a maximised
/// benchmark, swaps them).
fn ordered(r: Estimate) -> Estimate {
    if r.low > r.high { Estimate { value: r.value, low: r.high, high: r.low } } else { r }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use hposim_core::{BenchmarkReference, Direction};
    use rand::SeedableRng;

    fn strategy(name: &str, index: usize, finals: &[f64]) -> StrategyAnalysis {
        let mut rng = hposim_core::Rng::seed_from_u64(index as u64);
        StrategyAnalysis {
            name: name.into(),
            index,
            seeds: (0..finals.len() as u32).collect(),
            trajectories: vec![Trajectory::default(); finals.len()],
            finals: finals.iter().map(|f| Some(*f)).collect(),
            below_full: 0,
            lengths: vec![Some(1.0); finals.len()],
            bands: Vec::new(),
            compute_bands: Vec::new(),
            final_score: bootstrap(finals, 0.95, &mut rng, median),
            at_fractions: Vec::new(),
            speedup_time: None,
            speedup_compute: None,
            hits: Vec::new(),
            ert: Vec::new(),
            usage: Usage::default(),
            effect: None,
            without_full_result: Vec::new(),
        }
    }

    /// A benchmark (regret measure) whose strategies ended with these final scores per seed,
    /// tested as the analysis tests them.
    fn bench(strategies: &[(&str, &[f64])]) -> BenchmarkAnalysis {
        let strategies: Vec<StrategyAnalysis> = strategies.iter().enumerate().map(|(i, (n, f))| strategy(n, i, f)).collect();
        let names: Vec<String> = strategies.iter().map(|s| s.name.clone()).collect();
        let finals: Vec<Vec<Option<f64>>> = strategies.iter().map(|s| s.finals.clone()).collect();
        let reference = BenchmarkReference {
            name: "b".into(),
            objective: "loss".into(),
            direction: Direction::Minimize,
            max_fidelity: 9,
            unit: "epoch".into(),
            best_known: Some(0.0),
            median_random: None,
            objectives: Vec::new(),
            hypervolume_reference: None,
        };
        BenchmarkAnalysis {
            scale: Scale::of(&reference),
            reference,
            time_grid: Vec::new(),
            compute_grid: Vec::new(),
            ranks: Vec::new(),
            targets: Vec::new(),
            targets_are: "",
            baseline_target: None,
            paired: true,
            pairwise: pairwise_wilcoxon(&names, &finals),
            rank_test: Err(String::new()),
            kruskal: None,
            strategies,
        }
    }

    #[test]
    fn a_clear_winner_is_named_alone() {
        let a = [0.10, 0.12, 0.11, 0.13, 0.09, 0.10, 0.12, 0.11, 0.10, 0.14];
        let b: Vec<f64> = a.iter().map(|v| v + 0.3).collect();
        let c: Vec<f64> = a.iter().map(|v| v + 0.5).collect();
        let v = verdict_of(&bench(&[("b", &b), ("a", &a), ("c", &c)])).unwrap();
        // Ten seeds, every difference the same sign: exact two-sided p = 2/1024, Holm × 3 < 0.05.
        assert_eq!((v.best.clone(), v.contenders.clone(), v.no_difference), (vec!["a".to_owned()], vec!["a".to_owned()], false));
        assert!((v.final_score.unwrap().value - 0.11).abs() < 1e-12);
    }

    #[test]
    fn no_significant_difference_is_the_finding_when_the_tests_say_so() {
        // Differences of alternating sign: no test rejects, so the lowest median is not a winner.
        let a = [0.10, 0.30, 0.12, 0.28, 0.11, 0.31, 0.13, 0.29, 0.10, 0.30];
        let b = [0.29, 0.11, 0.30, 0.12, 0.28, 0.10, 0.31, 0.13, 0.30, 0.12];
        let c = [0.20, 0.21, 0.19, 0.22, 0.18, 0.23, 0.20, 0.21, 0.19, 0.22];
        let v = verdict_of(&bench(&[("a", &a), ("b", &b), ("c", &c)])).unwrap();
        assert!(v.no_difference, "{v:?}");
        assert_eq!(v.contenders.len(), 3);
        assert!(v.untested.is_empty());
    }

    #[test]
    fn a_tie_names_every_tied_strategy_and_excludes_the_significantly_worse() {
        let a = [0.10, 0.12, 0.11, 0.13, 0.09, 0.10, 0.12, 0.11, 0.10, 0.14];
        let worse: Vec<f64> = a.iter().map(|v| v + 0.5).collect();
        // The same scores on every seed: equal medians, a tie; no test between the two.
        let v = verdict_of(&bench(&[("bohb", &a), ("tpe+asha", &a), ("random", &worse)])).unwrap();
        assert_eq!(v.best, ["bohb", "tpe+asha"]);
        assert_eq!(v.contenders, ["bohb", "tpe+asha"]);
        assert!(!v.no_difference);
    }

    #[test]
    fn too_few_seeds_leave_strategies_untested_not_beaten() {
        let v = verdict_of(&bench(&[("a", &[0.1, 0.2, 0.1]), ("b", &[0.5, 0.6, 0.7])])).unwrap();
        assert_eq!(
            (v.best.clone(), v.contenders.clone(), v.untested.clone()),
            (vec!["a".to_owned()], vec!["a".to_owned(), "b".to_owned()], vec!["b".to_owned()])
        );
        assert!(v.no_difference);
    }
}
