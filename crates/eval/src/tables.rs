//! The tables of a report as polars data frames (written as CSV beside the report): the
//! verdict, per-strategy figures, anytime aggregates, ranks, the ECDF, expected running times,
//! and the tests.

use crate::analysis::{Analysis, BenchmarkAnalysis, StrategyAnalysis, Usage};
use crate::bootstrap::Estimate;
use crate::results::MissingCell;
use polars::prelude::{Column, CsvWriter, DataFrame, PolarsResult, SerWriter};
use std::path::Path;

/// A table under construction, column by column.
#[derive(Default)]
struct Builder {
    columns: Vec<Column>,
}

impl Builder {
    fn text(mut self, name: &str, values: Vec<String>) -> Self {
        self.columns.push(Column::new(name.into(), values));
        self
    }
    fn num(mut self, name: &str, values: Vec<Option<f64>>) -> Self {
        self.columns.push(Column::new(name.into(), values));
        self
    }
    fn int(mut self, name: &str, values: Vec<u64>) -> Self {
        self.columns.push(Column::new(name.into(), values));
        self
    }
    fn estimate(self, name: &str, values: &[Option<Estimate>]) -> Self {
        self.num(name, values.iter().map(|e| e.and_then(|e| finite(e.value))).collect())
            .num(&format!("{name}_low"), values.iter().map(|e| e.and_then(|e| finite(e.low))).collect())
            .num(&format!("{name}_high"), values.iter().map(|e| e.and_then(|e| finite(e.high))).collect())
    }
    fn build(self) -> PolarsResult<DataFrame> {
        let height = self.columns.first().map_or(0, Column::len);
        DataFrame::new(height, self.columns)
    }
}

/// Finite numbers only; infinite and NaN become null (CSV readers disagree on them): an
/// infinite median or speed-up bound is null in the CSV and `∞` in the report.
fn finite(x: f64) -> Option<f64> {
    x.is_finite().then_some(x)
}

/// The verdict: per benchmark, the best strategies (several on a tie, joined by `;`), every
/// strategy not significantly worse than them, whether that is "no significant difference",
/// the measure, the best's median final score and plain regret, its speed-up over the baseline
/// with intervals, its compute and cost.
pub fn verdict(analysis: &Analysis) -> PolarsResult<DataFrame> {
    let v = &analysis.verdict;
    let measure = |name: &str| analysis.benchmarks.iter().find(|b| b.reference.name == name).map_or(String::new(), |b| b.scale.label());
    Builder::default()
        .text("benchmark", v.iter().map(|r| r.benchmark.clone()).collect())
        .text("best_strategies", v.iter().map(|r| r.best.join(";")).collect())
        .text("not_significantly_worse", v.iter().map(|r| r.contenders.join(";")).collect())
        .text("no_significant_difference", v.iter().map(|r| r.no_difference.to_string()).collect())
        .text("measure", v.iter().map(|r| measure(&r.benchmark)).collect())
        .estimate("final_median", &v.iter().map(|r| r.final_score).collect::<Vec<_>>())
        .estimate("final_regret", &v.iter().map(|r| r.final_regret).collect::<Vec<_>>())
        .estimate("speedup", &v.iter().map(|r| r.speedup).collect::<Vec<_>>())
        .num("compute_hours", v.iter().map(|r| finite(r.usage.compute_hours)).collect())
        .num("cost_usd", v.iter().map(|r| r.usage.cost_usd).collect())
        .build()
}

/// Per benchmark and strategy: final score, speed-ups, and what the cells used (medians over
/// seeds), including the talk's comparison with and without early termination.
pub fn strategies(analysis: &Analysis) -> PolarsResult<DataFrame> {
    let pairs: Vec<(&BenchmarkAnalysis, &StrategyAnalysis)> =
        analysis.benchmarks.iter().flat_map(|b| b.strategies.iter().map(move |s| (b, s))).collect();
    let usage = |f: fn(&Usage) -> f64| -> Vec<Option<f64>> { pairs.iter().map(|(_, s)| finite(f(&s.usage))).collect() };
    let estimates = |f: fn(&StrategyAnalysis) -> Option<Estimate>| -> Vec<Option<Estimate>> { pairs.iter().map(|(_, s)| f(s)).collect() };
    Builder::default()
        .text("benchmark", pairs.iter().map(|(b, _)| b.reference.name.clone()).collect())
        .text("strategy", pairs.iter().map(|(_, s)| s.name.clone()).collect())
        .int("seeds", pairs.iter().map(|(_, s)| s.lengths.iter().filter(|l| l.is_some()).count() as u64).collect())
        .text("measure", pairs.iter().map(|(b, _)| b.scale.label()).collect())
        .estimate(
            "final_median",
            &pairs
                .iter()
                .map(|(b, s)| {
                    s.final_score.map(|e| {
                        let (x, y) = (b.scale.shown(e.low), b.scale.shown(e.high));
                        Estimate { value: b.scale.shown(e.value), low: x.min(y), high: x.max(y) }
                    })
                })
                .collect::<Vec<_>>(),
        )
        .estimate("effect_a_vs_baseline", &estimates(|s| s.effect))
        .int("seeds_without_full_fidelity_result", pairs.iter().map(|(_, s)| s.without_full_result.len() as u64).collect())
        .estimate("speedup_wallclock", &estimates(|s| s.speedup_time))
        .estimate("speedup_compute", &estimates(|s| s.speedup_compute))
        .num("trials", usage(|u| u.trials))
        .num("compute_hours", usage(|u| u.compute_hours))
        .num("hours_without_early_termination", usage(|u| u.full_training_hours))
        .num("compute_saved", usage(|u| u.compute_saved))
        .num("idle_hours", usage(|u| u.idle_hours))
        .num("wallclock_hours", usage(|u| u.wallclock_hours))
        .num("cost_usd", pairs.iter().map(|(_, s)| s.usage.cost_usd).collect())
        .num("cost_without_early_termination_usd", pairs.iter().map(|(_, s)| s.usage.full_training_cost_usd).collect())
        .build()
}

/// Every cell's incumbent trajectory: one row per change of the incumbent, with the moment
/// (simulated seconds, worker-seconds of compute), the measure as shown, and the plain regret
/// (or the objective's value without a best known value).
pub fn trajectories(analysis: &Analysis) -> PolarsResult<DataFrame> {
    let (mut bench, mut strat, mut seed, mut time, mut compute, mut shown, mut regret) =
        (vec![], vec![], vec![], vec![], vec![], vec![], vec![]);
    for b in &analysis.benchmarks {
        for s in &b.strategies {
            for ((sd, t), ran) in s.seeds.iter().zip(&s.trajectories).zip(&s.lengths) {
                if ran.is_none() {
                    continue;
                }
                for i in 0..t.score.len() {
                    bench.push(b.reference.name.clone());
                    strat.push(s.name.clone());
                    seed.push(u64::from(*sd));
                    time.push(Some(t.time[i]));
                    compute.push(Some(t.compute[i]));
                    shown.push(finite(b.scale.shown(t.score[i])));
                    regret.push(finite(b.scale.regret(t.score[i])));
                }
            }
        }
    }
    Builder::default()
        .text("benchmark", bench)
        .text("strategy", strat)
        .int("seed", seed)
        .num("time_seconds", time)
        .num("compute_seconds", compute)
        .num("measure", shown)
        .num("regret", regret)
        .build()
}

/// Anytime aggregates: per benchmark, strategy and grid point on the wall-clock axis
/// (`axis = time`, seconds) and the compute axis (`axis = compute`, worker-seconds), mean,
/// median and IQM of the measure with their intervals (null before every seed has an
/// incumbent).
pub fn anytime(analysis: &Analysis) -> PolarsResult<DataFrame> {
    let (mut bench, mut strat, mut axis, mut at) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let (mut mean, mut median, mut iqm) = (Vec::new(), Vec::new(), Vec::new());
    for b in &analysis.benchmarks {
        let shown = |e: Option<Estimate>| {
            e.map(|e| {
                let (x, y) = (b.scale.shown(e.low), b.scale.shown(e.high));
                Estimate { value: b.scale.shown(e.value), low: x.min(y), high: x.max(y) }
            })
        };
        for s in &b.strategies {
            for (name, grid, bands) in [("time", &b.time_grid, &s.bands), ("compute", &b.compute_grid, &s.compute_bands)] {
                for (t, band) in grid.iter().zip(bands) {
                    bench.push(b.reference.name.clone());
                    strat.push(s.name.clone());
                    axis.push(name.to_owned());
                    at.push(Some(*t));
                    mean.push(shown(band.mean));
                    median.push(shown(band.median));
                    iqm.push(shown(band.iqm));
                }
            }
        }
    }
    Builder::default()
        .text("benchmark", bench)
        .text("strategy", strat)
        .text("axis", axis)
        .num("at_seconds", at)
        .estimate("mean", &mean)
        .estimate("median", &median)
        .estimate("iqm", &iqm)
        .build()
}

/// Mean ranks over time per benchmark, and averaged over benchmarks (benchmark `(average)`,
/// time as a fraction of each benchmark's horizon).
pub fn ranks(analysis: &Analysis) -> PolarsResult<DataFrame> {
    let (mut bench, mut strat, mut time, mut fraction, mut rank) = (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for b in &analysis.benchmarks {
        for (s, r) in b.strategies.iter().zip(&b.ranks) {
            for (i, (t, v)) in b.time_grid.iter().zip(r).enumerate() {
                bench.push(b.reference.name.clone());
                strat.push(s.name.clone());
                time.push(Some(*t));
                fraction.push(analysis.fraction_grid.get(i).copied());
                rank.push(Some(*v));
            }
        }
    }
    for (name, r) in analysis.strategies.iter().zip(&analysis.average_rank) {
        for (f, v) in analysis.fraction_grid.iter().zip(r) {
            bench.push("(average)".to_owned());
            strat.push(name.clone());
            time.push(None);
            fraction.push(Some(*f));
            rank.push(Some(*v));
        }
    }
    Builder::default()
        .text("benchmark", bench)
        .text("strategy", strat)
        .num("time_seconds", time)
        .num("fraction_of_horizon", fraction)
        .num("mean_rank", rank)
        .build()
}

/// The pooled ECDF per strategy.
pub fn ecdf(analysis: &Analysis) -> PolarsResult<DataFrame> {
    let (mut strat, mut x, mut y) = (Vec::new(), Vec::new(), Vec::new());
    for (name, values) in analysis.strategies.iter().zip(&analysis.ecdf) {
        for (g, v) in analysis.ecdf_grid.iter().zip(values) {
            strat.push(name.clone());
            x.push(Some(*g));
            y.push(Some(*v));
        }
    }
    Builder::default().text("strategy", strat).num("fraction_of_horizon", x).num("fraction_of_targets_reached", y).build()
}

/// Expected running time per benchmark, strategy and target.
pub fn ert(analysis: &Analysis) -> PolarsResult<DataFrame> {
    let (mut bench, mut strat, mut target, mut ert, mut hits, mut runs) = (vec![], vec![], vec![], vec![], vec![], vec![]);
    for b in &analysis.benchmarks {
        for s in &b.strategies {
            for (i, t) in b.targets.iter().enumerate() {
                bench.push(b.reference.name.clone());
                strat.push(s.name.clone());
                target.push(Some(b.scale.shown(*t)));
                ert.push(s.ert.get(i).copied().flatten());
                hits.push(s.hits.get(i).map_or(0, |h| h.iter().filter(|x| x.is_finite()).count() as u64));
                runs.push(s.hits.get(i).map_or(0, |h| h.len() as u64));
            }
        }
    }
    let measure: Vec<String> =
        analysis.benchmarks.iter().flat_map(|b| std::iter::repeat_n(b.scale.label(), b.strategies.len() * b.targets.len())).collect();
    Builder::default()
        .text("benchmark", bench)
        .text("strategy", strat)
        .text("measure", measure)
        .num("target", target)
        .num("ert_seconds", ert)
        .int("runs_reaching", hits)
        .int("runs", runs)
        .build()
}

/// Pairwise tests per benchmark: Wilcoxon signed-rank where seeds are paired, Mann–Whitney U
/// otherwise (the `test` column).
pub fn wilcoxon(analysis: &Analysis) -> PolarsResult<DataFrame> {
    let tests: Vec<(&BenchmarkAnalysis, &crate::comparisons::PairTest)> =
        analysis.benchmarks.iter().flat_map(|b| b.pairwise.iter().map(move |t| (b, t))).collect();
    let ok = |f: fn(&crate::comparisons::PairOutcome) -> f64| -> Vec<Option<f64>> {
        tests.iter().map(|(_, t)| t.outcome.as_ref().ok().map(f)).collect()
    };
    Builder::default()
        .text("benchmark", tests.iter().map(|t| t.0.reference.name.clone()).collect())
        .text("test", tests.iter().map(|t| if t.0.paired { "wilcoxon-signed-rank" } else { "mann-whitney-u" }.to_owned()).collect())
        .text("a", tests.iter().map(|t| t.1.a.clone()).collect())
        .text("b", tests.iter().map(|t| t.1.b.clone()).collect())
        .int("pairs", tests.iter().map(|t| t.1.pairs as u64).collect())
        .text("measure", tests.iter().map(|t| t.0.scale.label()).collect())
        // In the measure as shown (a − b: the median of the paired differences, or the
        // difference of the medians for unpaired runs).
        .num("median_difference", tests.iter().map(|t| finite(t.0.scale.shown(t.1.median_difference))).collect())
        .num("statistic", ok(|o| o.statistic))
        .num("p_value", ok(|o| o.p_value))
        .num("p_holm", ok(|o| o.p_holm))
        .text("method", tests.iter().map(|t| t.1.outcome.as_ref().map_or(String::new(), |o| o.method.clone())).collect())
        .text("note", tests.iter().map(|t| t.1.outcome.as_ref().err().cloned().unwrap_or_default()).collect())
        .build()
}

/// Friedman tests (per benchmark over seeds, and across benchmarks) with Nemenyi mean ranks.
pub fn friedman(analysis: &Analysis) -> PolarsResult<DataFrame> {
    let mut scopes: Vec<(String, &Result<crate::comparisons::RankTest, String>)> =
        analysis.benchmarks.iter().map(|b| (b.reference.name.clone(), &b.rank_test)).collect();
    scopes.push(("(across benchmarks)".to_owned(), &analysis.across));
    let (mut scope, mut strat, mut rank, mut blocks, mut stat, mut p, mut cd, mut note) =
        (vec![], vec![], vec![], vec![], vec![], vec![], vec![], vec![]);
    for (name, test) in &scopes {
        match test {
            Ok(t) => {
                for (s, r) in t.names.iter().zip(&t.mean_ranks) {
                    scope.push(name.clone());
                    strat.push(s.clone());
                    rank.push(Some(*r));
                    blocks.push(t.blocks as u64);
                    stat.push(Some(t.statistic));
                    p.push(Some(t.p_value));
                    cd.push(Some(t.critical_difference));
                    note.push(String::new());
                }
            }
            Err(why) => {
                scope.push(name.clone());
                strat.push(String::new());
                rank.push(None);
                blocks.push(0);
                stat.push(None);
                p.push(None);
                cd.push(None);
                note.push(why.clone());
            }
        }
    }
    Builder::default()
        .text("scope", scope)
        .text("strategy", strat)
        .num("mean_rank", rank)
        .int("blocks", blocks)
        .num("statistic", stat)
        .num("p_value", p)
        .num("critical_difference", cd)
        .text("note", note)
        .build()
}

/// The expected cells that are missing, and why.
pub fn missing(missing: &[MissingCell]) -> PolarsResult<DataFrame> {
    Builder::default()
        .text("cell", missing.iter().map(|m| m.cell.cell.clone()).collect())
        .text("benchmark", missing.iter().map(|m| m.cell.benchmark.clone()).collect())
        .text("strategy", missing.iter().map(|m| m.cell.strategy.clone()).collect())
        .int("seed", missing.iter().map(|m| u64::from(m.cell.seed)).collect())
        .text("reason", missing.iter().map(|m| m.reason.clone()).collect())
        .build()
}

/// Writes `frame` to `path` as CSV (header row, full float precision).
pub fn write_csv(frame: &mut DataFrame, path: &Path) -> Result<(), String> {
    let mut file = std::fs::File::create(path).map_err(|e| format!("{}: {e}", path.display()))?;
    CsvWriter::new(&mut file).include_header(true).finish(frame).map_err(|e| format!("{}: {e}", path.display()))
}
