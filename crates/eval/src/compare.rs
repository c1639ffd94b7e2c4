//! `hposim compare BASE NEW`: did a change make a strategy better or worse?
//!
//! Two results directories of the same experiment (or any two that share benchmark × strategy
//! pairs: a baseline and a candidate version of hposim, or two versions of a sampler under one
//! name) are compared pair by pair, on two measures in the benchmark's one measure (the
//! report's: normalised regret where the benchmark has a best known value and a median random
//! one, [`Scale`]), smaller being better:
//!
//! - the **final score** of each run (its last incumbent; a run without one counts as
//!   infinitely bad, as in the report);
//! - the **area under the anytime curve**: the mean of the incumbent's score over a grid of
//!   [`GRID`] points spanning the benchmark's longest wall clock in either directory, before a
//!   run's first incumbent the worst first incumbent any run of the benchmark had (so a run
//!   that reports late pays for it, and both directories pay the same). It rewards finding good
//!   configurations early, which the final score does not see.
//!
//! Either side may be a results directory or its [`Digest`] (`hposim digest`): per cell only
//! the incumbent trajectory, compute and trials, small enough to commit as a baseline (the
//! quality gate's, `reports/regression-baseline.json`).
//!
//! Runs are **paired by seed** where both directories hold simulated results: under one
//! experiment seed a cell's benchmark noise depends only on the benchmark, the seed, the
//! configuration and the step (common random numbers), so seed s of BASE and seed s of NEW see
//! the same curves and differ only by what the strategy did; the test is then Wilcoxon's
//! signed-rank test on the seeds both ran, and the effect size the share of seeds on which NEW
//! is better. Live studies share no noise and are compared **unpaired**: Mann–Whitney U and
//! Vargha–Delaney's A (the probability that a run of NEW ends better than a run of BASE).
//! p-values are Holm-corrected over every pair compared, per measure (Holm 1979), and each
//! effect comes with a 95 % percentile bootstrap interval.
//!
//! A pair **got worse** on a measure when its Holm-corrected p-value is below [`ALPHA`] and
//! NEW's median score exceeds BASE's by more than the tolerance (absolute, in the benchmark's
//! measure); better, symmetrically. `hposim compare` exits with 1 when any pair got worse.

use crate::bootstrap::Estimate;
use crate::comparisons::ALPHA;
use crate::holm::holm;
use crate::incumbent::{Convention, Trajectory, trajectory};
use crate::mann_whitney::mann_whitney;
use crate::quantile::median_of;
use crate::results::Results;
use crate::scale::Scale;
use crate::vargha_delaney::a_with_interval;
use crate::wilcoxon::wilcoxon;
use hposim_core::BenchmarkReference;
use hposim_core::rng::stream;
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;

/// Points of the grid the area under the anytime curve is averaged over (the report's grid).
pub const GRID: usize = 50;

/// How to compare.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CompareOptions {
    /// Which evaluations can be the incumbent.
    pub convention: Convention,
    /// Largest difference of median scores (NEW − BASE, in the benchmark's measure) that is not
    /// a change, however significant.
    pub tolerance: f64,
    /// Confidence level of the effect sizes' intervals.
    pub level: f64,
}

impl Default for CompareOptions {
    fn default() -> Self {
        Self { convention: Convention::HighestFidelity, tolerance: 0.0, level: 0.95 }
    }
}

/// What changed on one measure of one pair.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    /// NEW is significantly better, by more than the tolerance.
    Better,
    /// NEW is significantly worse, by more than the tolerance.
    Worse,
    /// No significant difference beyond the tolerance.
    Unchanged,
    /// Too few runs (or runs equal on every seed) to test.
    Untested,
}

/// One measure of one pair, BASE against NEW.
#[derive(Clone, Debug, Serialize)]
pub struct MeasureChange {
    /// BASE's median score (smaller is better; infinite: no result).
    pub base_median: f64,
    /// NEW's median score.
    pub new_median: f64,
    /// The test run: `wilcoxon` (paired) or `mann-whitney` (unpaired); `none` when untestable.
    pub test: &'static str,
    /// Its two-sided p-value.
    pub p_value: Option<f64>,
    /// Holm-corrected over every pair compared on this measure.
    pub p_holm: Option<f64>,
    /// The probability that NEW is better (paired: the share of seeds; unpaired: Vargha–Delaney
    /// A), with its interval as `[value, low, high]`.
    pub new_better: Option<[f64; 3]>,
    /// The verdict.
    pub change: Change,
}

/// One benchmark × strategy pair found in both directories.
#[derive(Clone, Debug, Serialize)]
pub struct PairComparison {
    /// The benchmark.
    pub benchmark: String,
    /// The strategy.
    pub strategy: String,
    /// The benchmark's measure (e.g. `normalised regret of loss`).
    pub measure: String,
    /// Whether runs were paired by seed.
    pub paired: bool,
    /// Runs compared (BASE, NEW); paired: the seeds both ran, twice.
    pub runs: (usize, usize),
    /// Final scores.
    pub final_score: MeasureChange,
    /// Areas under the anytime curve.
    pub anytime: MeasureChange,
    /// Median worker-hours of compute (BASE, NEW).
    pub compute_hours: (f64, f64),
    /// Median trials started (BASE, NEW).
    pub trials: (f64, f64),
}

impl PairComparison {
    /// Whether NEW got worse on either measure.
    pub fn worse(&self) -> bool {
        self.final_score.change == Change::Worse || self.anytime.change == Change::Worse
    }
}

/// The whole comparison.
#[derive(Clone, Debug, Serialize)]
pub struct Comparison {
    /// The baseline (directory or digest).
    pub base: String,
    /// The candidate.
    pub new: String,
    /// The tolerance applied.
    pub tolerance: f64,
    /// Incumbent convention (`highest-fidelity` or `any-fidelity`).
    pub convention: &'static str,
    /// Per pair found in both, in NEW's benchmark and strategy order.
    pub pairs: Vec<PairComparison>,
    /// Benchmark × strategy pairs in only one of the two (`base` or `new`, benchmark, strategy).
    pub unmatched: Vec<(&'static str, String, String)>,
}

impl Comparison {
    /// The pairs that got worse.
    pub fn regressions(&self) -> impl Iterator<Item = &PairComparison> {
        self.pairs.iter().filter(|p| p.worse())
    }
}

/// The version of the digest format.
pub const DIGEST_FORMAT: u32 = 1;

/// What `hposim compare` needs of a results directory, small enough to commit: the benchmarks'
/// references, and per cell its incumbent trajectory (objective values), compute and trials.
/// `hposim digest` writes it; `hposim compare` reads a digest or a results directory.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Digest {
    /// [`DIGEST_FORMAT`].
    pub format: u32,
    /// The results directory it was made from.
    pub source: String,
    /// The experiment's name (from the manifest).
    pub experiment: Option<String>,
    /// Whether the results are of a live study (unpaired).
    pub live: bool,
    /// The incumbent convention of the trajectories (`highest-fidelity` or `any-fidelity`).
    pub convention: String,
    /// The benchmarks, in experiment order.
    pub benchmarks: Vec<BenchmarkReference>,
    /// The strategies, in experiment order.
    pub strategies: Vec<String>,
    /// Per finished cell.
    pub cells: Vec<CellDigest>,
}

/// One cell of a [`Digest`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CellDigest {
    /// Benchmark.
    pub benchmark: String,
    /// Strategy.
    pub strategy: String,
    /// Seed.
    pub seed: u32,
    /// Worker-seconds of compute.
    pub compute_seconds: f64,
    /// Trials started.
    pub trials: u64,
    /// The simulated (or live) second its last step ended.
    pub end: f64,
    /// The incumbent trajectory: `[time, objective value]` at each change.
    pub incumbent: Vec<[f64; 2]>,
}

/// The digest of `results` under `convention`.
pub fn digest(results: &Results, convention: Convention) -> Digest {
    let cells = results
        .cells
        .iter()
        .map(|c| {
            let sign = c.summary.direction.sign();
            let t = trajectory(&c.trace, convention, |v| sign * v);
            CellDigest {
                benchmark: c.summary.benchmark.clone(),
                strategy: c.summary.strategy.clone(),
                seed: c.summary.seed,
                compute_seconds: c.summary.compute_seconds,
                trials: c.summary.trials,
                end: c.trace.end.last().copied().unwrap_or(0.0),
                incumbent: t.time.iter().zip(&t.score).map(|(&time, &score)| [time, sign * score]).collect(),
            }
        })
        .collect();
    Digest {
        format: DIGEST_FORMAT,
        source: results.dir.display().to_string(),
        experiment: results.manifest.as_ref().map(|m| m.experiment.clone()),
        live: results.manifest.as_ref().is_some_and(|m| m.kind == "live"),
        convention: convention.as_str().to_owned(),
        benchmarks: results.benchmarks.clone(),
        strategies: results.strategies.clone(),
        cells,
    }
}

/// One run's measures.
struct Run {
    seed: u32,
    final_score: f64,
    anytime: f64,
    compute_hours: f64,
    trials: f64,
}

/// A cell's incumbent as a trajectory of `scale`'s scores.
fn scored(cell: &CellDigest, scale: &Scale) -> Trajectory {
    let n = cell.incumbent.len();
    Trajectory {
        time: cell.incumbent.iter().map(|p| p[0]).collect(),
        compute: vec![f64::NAN; n],
        score: cell.incumbent.iter().map(|p| scale.score(p[1])).collect(),
        fidelity: vec![0; n],
    }
}

/// The cells of benchmark `name`.
fn cells_of<'a>(digest: &'a Digest, name: &str) -> Vec<&'a CellDigest> {
    digest.cells.iter().filter(|c| c.benchmark == name).collect()
}

/// Compares `new` with `base` (digests made under one convention).
pub fn compare(base: &Digest, new: &Digest, options: &CompareOptions) -> Result<Comparison, String> {
    for d in [base, new] {
        if d.format != DIGEST_FORMAT {
            return Err(format!("{}: digest format {} (this hposim reads {DIGEST_FORMAT})", d.source, d.format));
        }
        if d.convention != options.convention.as_str() {
            return Err(format!(
                "{}: its trajectories follow the {} convention, not {}",
                d.source,
                d.convention,
                options.convention.as_str()
            ));
        }
    }
    let paired = !base.live && !new.live;
    let mut pairs = Vec::new();
    let mut unmatched = Vec::new();
    for reference in &new.benchmarks {
        let Some(base_reference) = base.benchmarks.iter().find(|b| b.name == reference.name) else { continue };
        // BASE's scale for both sides, so that one value is one score.
        let scale = Scale::of(base_reference);
        let (base_cells, new_cells) = (cells_of(base, &reference.name), cells_of(new, &reference.name));
        if base_cells.is_empty() || new_cells.is_empty() {
            continue;
        }
        // One horizon and one penalty for both directories, so their areas are comparable.
        let horizon = base_cells.iter().chain(&new_cells).map(|c| c.end).fold(0.0f64, f64::max);
        let base_paths: Vec<Trajectory> = base_cells.iter().map(|c| scored(c, &scale)).collect();
        let new_paths: Vec<Trajectory> = new_cells.iter().map(|c| scored(c, &scale)).collect();
        let penalty = base_paths
            .iter()
            .chain(&new_paths)
            .filter_map(|t| t.score.first().copied())
            .filter(|s| s.is_finite())
            .fold(f64::NEG_INFINITY, f64::max);
        let runs = |cells: &[&CellDigest], paths: &[Trajectory], strategy: &str| -> Vec<Run> {
            let mut out: Vec<Run> = cells
                .iter()
                .zip(paths)
                .filter(|(c, _)| c.strategy == strategy)
                .map(|(c, t)| Run {
                    seed: c.seed,
                    final_score: t.last().unwrap_or(f64::INFINITY),
                    anytime: area(t, horizon, penalty),
                    compute_hours: c.compute_seconds / 3600.0,
                    trials: c.trials as f64,
                })
                .collect();
            out.sort_by_key(|r| r.seed);
            out
        };
        for strategy in &new.strategies {
            let new_runs = runs(&new_cells, &new_paths, strategy);
            if new_runs.is_empty() {
                continue;
            }
            let base_runs = runs(&base_cells, &base_paths, strategy);
            if base_runs.is_empty() {
                unmatched.push(("new", reference.name.clone(), strategy.clone()));
                continue;
            }
            let mut rng = stream(0, &format!("{:?}", [&reference.name, strategy]), "compare-bootstrap");
            let (b, n) = if paired { matched(&base_runs, &new_runs) } else { (base_runs.iter().collect(), new_runs.iter().collect()) };
            let measure = |of: fn(&Run) -> f64, rng: &mut hposim_core::Rng| {
                let (x, y): (Vec<f64>, Vec<f64>) = (b.iter().map(|r| of(r)).collect(), n.iter().map(|r| of(r)).collect());
                measure_change(&x, &y, paired, options, rng)
            };
            let final_score = measure(|r| r.final_score, &mut rng);
            let anytime = measure(|r| r.anytime, &mut rng);
            let median_of = |runs: &[Run], of: fn(&Run) -> f64| median(runs.iter().map(of).collect());
            pairs.push(PairComparison {
                benchmark: reference.name.clone(),
                strategy: strategy.clone(),
                measure: scale.label(),
                paired,
                runs: (b.len(), n.len()),
                final_score,
                anytime,
                compute_hours: (median_of(&base_runs, |r| r.compute_hours), median_of(&new_runs, |r| r.compute_hours)),
                trials: (median_of(&base_runs, |r| r.trials), median_of(&new_runs, |r| r.trials)),
            });
        }
    }
    for reference in &base.benchmarks {
        for strategy in &base.strategies {
            let has = |d: &Digest| d.cells.iter().any(|c| c.benchmark == reference.name && &c.strategy == strategy);
            if has(base) && !has(new) {
                unmatched.push(("base", reference.name.clone(), strategy.clone()));
            }
        }
    }
    adjust(&mut pairs, final_of, options.tolerance);
    adjust(&mut pairs, anytime_of, options.tolerance);
    Ok(Comparison {
        base: base.source.clone(),
        new: new.source.clone(),
        tolerance: options.tolerance,
        convention: options.convention.as_str(),
        pairs,
        unmatched,
    })
}

/// The final-score measure of a pair.
fn final_of(p: &mut PairComparison) -> &mut MeasureChange {
    &mut p.final_score
}

/// The anytime measure of a pair.
fn anytime_of(p: &mut PairComparison) -> &mut MeasureChange {
    &mut p.anytime
}

/// The runs of the seeds both sides ran, in seed order.
fn matched<'a>(base: &'a [Run], new: &'a [Run]) -> (Vec<&'a Run>, Vec<&'a Run>) {
    base.iter().filter_map(|b| new.iter().find(|n| n.seed == b.seed).map(|n| (b, n))).unzip()
}

/// The mean score of `t` over [`GRID`] points from 0 to `horizon`, `penalty` before its first
/// incumbent (and everywhere when it has none).
pub fn area(t: &Trajectory, horizon: f64, penalty: f64) -> f64 {
    let fallback = if penalty.is_finite() { penalty } else { f64::INFINITY };
    let sum: f64 = (0..GRID)
        .map(|i| {
            let time = horizon * i as f64 / (GRID - 1) as f64;
            t.at_time(time).unwrap_or(fallback)
        })
        .sum();
    sum / GRID as f64
}

/// The median of `values` in any order ([`median_of`]; NaN when empty).
fn median(values: Vec<f64>) -> f64 {
    median_of(&values).unwrap_or(f64::NAN)
}

/// The test and effect of BASE scores `x` against NEW scores `y` (verdict set by [`adjust`]).
fn measure_change(x: &[f64], y: &[f64], paired: bool, options: &CompareOptions, rng: &mut hposim_core::Rng) -> MeasureChange {
    let (test, p_value) = if paired {
        ("wilcoxon", wilcoxon(x, y).filter(|w| w.nonzero >= 1).map(|w| w.p_value))
    } else {
        ("mann-whitney", mann_whitney(x, y).map(|m| m.p_value))
    };
    let p_value = p_value.filter(|p| p.is_finite());
    let effect: Option<Estimate> = a_with_interval(y, x, paired, options.level, rng);
    MeasureChange {
        base_median: median(x.to_vec()),
        new_median: median(y.to_vec()),
        test: if p_value.is_some() { test } else { "none" },
        p_value,
        p_holm: None,
        new_better: effect.map(|e| [e.value, e.low, e.high]),
        change: Change::Untested,
    }
}

/// Holm-corrects the p-values of one measure over every pair and sets each verdict.
fn adjust(pairs: &mut [PairComparison], measure: fn(&mut PairComparison) -> &mut MeasureChange, tolerance: f64) {
    let tested: Vec<usize> = (0..pairs.len()).filter(|&i| measure(&mut pairs[i]).p_value.is_some()).collect();
    let raw: Vec<f64> = tested.iter().map(|&i| measure(&mut pairs[i]).p_value.unwrap_or(1.0)).collect();
    for (&i, p) in tested.iter().zip(holm(&raw)) {
        let m = measure(&mut pairs[i]);
        m.p_holm = Some(p);
        let difference = m.new_median - m.base_median;
        let worse = m.new_median > m.base_median && (difference > tolerance || difference.is_nan());
        let better = m.new_median < m.base_median && (-difference > tolerance || difference.is_nan());
        m.change = if p >= ALPHA {
            Change::Unchanged
        } else if worse {
            Change::Worse
        } else if better {
            Change::Better
        } else {
            Change::Unchanged
        };
    }
}

/// A score as a table shows it.
fn shown(score: f64) -> String {
    if score.is_infinite() { "none".to_owned() } else { format!("{score:.4}") }
}

fn p_text(m: &MeasureChange) -> String {
    match (m.p_value, m.p_holm) {
        (Some(p), Some(h)) => format!("{p:.3} ({h:.3})"),
        _ => "-".to_owned(),
    }
}

fn effect_text(m: &MeasureChange) -> String {
    match m.new_better {
        Some([v, lo, hi]) if lo.is_finite() && hi.is_finite() => format!("{v:.2} [{lo:.2}, {hi:.2}]"),
        Some([v, _, _]) => format!("{v:.2}"),
        None => "-".to_owned(),
    }
}

fn change_text(c: Change) -> &'static str {
    match c {
        Change::Better => "better",
        Change::Worse => "WORSE",
        Change::Unchanged => "unchanged",
        Change::Untested => "untested",
    }
}

/// The comparison as Markdown: one table row per pair, then what could not be matched.
pub fn markdown(c: &Comparison) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# {} against {}\n", c.new, c.base);
    let paired = c.pairs.iter().any(|p| p.paired);
    let _ = writeln!(
        out,
        "Scores in each benchmark's measure (smaller is better), medians over runs, BASE → NEW. Final: the last incumbent's score ({} convention); anytime: the mean incumbent score over {GRID} points of the benchmark's longest wall clock (the worst first incumbent before a run's first). {} p-values two-sided, Holm-corrected over the {} pairs per measure (in brackets); a change needs p < {ALPHA} after correction and a difference above the tolerance ({}). P(new better): {}, with its 95 % bootstrap interval.\n",
        c.convention,
        if paired {
            "Runs paired by seed (simulated: one seed's benchmark noise is the same in both, common random numbers), Wilcoxon signed-rank test;"
        } else {
            "Runs unpaired (live studies share no noise), Mann–Whitney U test;"
        },
        c.pairs.len(),
        c.tolerance,
        if paired {
            "the share of seeds on which NEW ends better"
        } else {
            "Vargha–Delaney A, the probability that a run of NEW ends better than one of BASE"
        },
    );
    let _ = writeln!(
        out,
        "| benchmark | strategy | runs | final | p (Holm) | P(new better) | change | anytime | p (Holm) | P(new better) | change | compute h | trials |"
    );
    let _ = writeln!(out, "|---|---|---:|---|---|---|---|---|---|---|---|---|---|");
    for p in &c.pairs {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} → {} | {} | {} | {} | {} → {} | {} | {} | {} | {:.3} → {:.3} | {:.0} → {:.0} |",
            p.benchmark,
            p.strategy,
            if p.paired { format!("{}", p.runs.0) } else { format!("{} / {}", p.runs.0, p.runs.1) },
            shown(p.final_score.base_median),
            shown(p.final_score.new_median),
            p_text(&p.final_score),
            effect_text(&p.final_score),
            change_text(p.final_score.change),
            shown(p.anytime.base_median),
            shown(p.anytime.new_median),
            p_text(&p.anytime),
            effect_text(&p.anytime),
            change_text(p.anytime.change),
            p.compute_hours.0,
            p.compute_hours.1,
            p.trials.0,
            p.trials.1,
        );
    }
    if !c.unmatched.is_empty() {
        let _ = writeln!(out, "\nNot compared (in one directory only):\n");
        for (side, benchmark, strategy) in &c.unmatched {
            let _ = writeln!(out, "- {benchmark} × {strategy}: only in {}", if *side == "base" { "BASE" } else { "NEW" });
        }
    }
    let worse: Vec<String> = c.regressions().map(|p| format!("{} on {}", p.strategy, p.benchmark)).collect();
    let better =
        c.pairs.iter().filter(|p| !p.worse() && (p.final_score.change == Change::Better || p.anytime.change == Change::Better)).count();
    let _ = writeln!(
        out,
        "\n{} pairs compared: {} worse{}, {} better, {} unchanged.",
        c.pairs.len(),
        worse.len(),
        if worse.is_empty() { String::new() } else { format!(" ({})", worse.join(", ")) },
        better,
        c.pairs.len() - worse.len() - better
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(points: &[(f64, f64)]) -> Trajectory {
        Trajectory {
            time: points.iter().map(|p| p.0).collect(),
            compute: points.iter().map(|p| p.0).collect(),
            score: points.iter().map(|p| p.1).collect(),
            fidelity: vec![1; points.len()],
        }
    }

    #[test]
    fn the_area_averages_the_incumbent_over_the_grid() {
        // Horizon 49 s: grid points at 0, 1, ..., 49 s. The incumbent is 0.8 from 9 s, 0.2 from
        // 29 s; before 9 s (points 0..=8) the penalty 1.0 counts.
        let t = path(&[(9.0, 0.8), (29.0, 0.2)]);
        let expected = (9.0 * 1.0 + 20.0 * 0.8 + 21.0 * 0.2) / 50.0;
        assert!((area(&t, 49.0, 1.0) - expected).abs() < 1e-12, "{}", area(&t, 49.0, 1.0));
        // Without any incumbent, the penalty everywhere.
        assert!((area(&Trajectory::default(), 49.0, 0.7) - 0.7).abs() < 1e-12);
        // Without any finite first incumbent anywhere, a run without one is infinitely bad.
        assert_eq!(area(&Trajectory::default(), 49.0, f64::NEG_INFINITY), f64::INFINITY);
    }

    #[test]
    fn medians_of_even_and_odd_counts() {
        assert_eq!(median(vec![3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(vec![4.0, 1.0, 2.0, 3.0]), 2.5);
        assert_eq!(median(vec![1.0, f64::INFINITY, f64::INFINITY, 2.0]), f64::INFINITY);
        assert!(median(Vec::new()).is_nan());
    }

    fn change(base: &[f64], new: &[f64], paired: bool, tolerance: f64) -> (MeasureChange, Change) {
        let options = CompareOptions { tolerance, ..CompareOptions::default() };
        let m = measure_change(base, new, paired, &options, &mut stream(0, "test", "compare"));
        let mut pairs = vec![PairComparison {
            benchmark: "b".into(),
            strategy: "s".into(),
            measure: "regret".into(),
            paired,
            runs: (base.len(), new.len()),
            final_score: m.clone(),
            anytime: m.clone(),
            compute_hours: (0.0, 0.0),
            trials: (0.0, 0.0),
        }];
        adjust(&mut pairs, final_of, tolerance);
        (m, pairs[0].final_score.change)
    }

    #[test]
    fn a_consistent_shift_is_a_change_and_noise_is_not() {
        // Ten seeds, NEW worse by 0.1 on every one: Wilcoxon exact two-sided p = 2/2^10
        // = 0.001953125 (scipy.stats.wilcoxon(x, y).pvalue gives the same), NEW better on no seed.
        let base: Vec<f64> = (0..10).map(|i| 0.1 * f64::from(i)).collect();
        let worse: Vec<f64> = base.iter().map(|v| v + 0.1).collect();
        let (m, c) = change(&base, &worse, true, 0.0);
        assert_eq!(c, Change::Worse);
        assert!((m.p_value.unwrap_or(1.0) - 0.001953125).abs() < 1e-12, "{:?}", m.p_value);
        assert_eq!(m.new_better.map(|e| e[0]), Some(0.0));
        // The same shift within a tolerance of 0.15 is no change.
        assert_eq!(change(&base, &worse, true, 0.15).1, Change::Unchanged);
        // Better by 0.1 on every seed.
        let better: Vec<f64> = base.iter().map(|v| v - 0.1).collect();
        assert_eq!(change(&base, &better, true, 0.0).1, Change::Better);
        // Alternating ±0.1: no significant difference.
        let noisy: Vec<f64> = base.iter().enumerate().map(|(i, v)| if i % 2 == 0 { v + 0.1 } else { v - 0.1 }).collect();
        assert_eq!(change(&base, &noisy, true, 0.0).1, Change::Unchanged);
        // Equal on every seed: nothing to test.
        let (m, c) = change(&base, &base, true, 0.0);
        assert_eq!((m.test, c), ("none", Change::Untested));
    }

    #[test]
    fn unpaired_runs_are_compared_with_mann_whitney() {
        // Two disjoint samples of 6: exact two-sided p = 2/C(12, 6) = 2/924 (scipy's
        // mannwhitneyu(x, y, method="exact").pvalue = 0.0021645021645021645).
        let base = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        let new = [7.0, 8.0, 9.0, 10.0, 11.0, 12.0];
        let (m, c) = change(&base, &new, false, 0.0);
        assert_eq!((m.test, c), ("mann-whitney", Change::Worse));
        assert!((m.p_value.unwrap_or(1.0) - 2.0 / 924.0).abs() < 1e-12, "{:?}", m.p_value);
        assert_eq!(m.new_better.map(|e| e[0]), Some(0.0));
    }
}
