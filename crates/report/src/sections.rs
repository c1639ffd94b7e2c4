//! The report's content, section by section: the verdict first, then the compute table, the
//! figures, the tests, the fixed-target table, what is missing, and the settings with the
//! commands that reproduce everything.

use crate::ReportError;
use crate::document::Block;
use crate::figures::critical_difference::CdDiagram;
use crate::figures::lineage::{LineageFigure, lineage};
use crate::figures::lines::{Line, LineFigure};
use crate::figures::rungs::{RungFigure, rung_counts};
use crate::figures::speedup::{Bar, BarFigure};
use crate::figures::timeline::{TimelineFigure, launches};
use crate::figures::utilisation::{Usage, UtilisationFigure};
use crate::figures::{Figure, save};
use crate::format::{estimate, finding, num, p_equals, p_value, percent, speedup_text};
use crate::style::{Look, time_unit};
use hposim_core::TrialOutcome;
use hposim_eval::analysis::{BUDGET_FRACTIONS, BenchmarkAnalysis, StrategyAnalysis};
use hposim_eval::bootstrap::Estimate;
use hposim_eval::comparisons::{ALPHA, RankTest};
use hposim_eval::results::CellResult;
use hposim_eval::scale::Measure;
use hposim_eval::vargha_delaney::magnitude;
use hposim_eval::{Analysis, Results};
use std::path::{Path, PathBuf};

/// The experiment's name.
pub fn experiment_name(results: &Results) -> String {
    results.manifest.as_ref().map_or_else(
        || results.dir.file_name().map_or_else(|| "results".to_owned(), |n| n.to_string_lossy().into_owned()),
        |m| m.experiment.clone(),
    )
}

fn stem(parts: &[&str]) -> String {
    parts
        .iter()
        .map(|p| p.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '_' }).collect::<String>())
        .collect::<Vec<_>>()
        .join("__")
}

struct Figures<'a> {
    dir: &'a Path,
    look: &'a Look,
    written: Vec<PathBuf>,
    stems: std::collections::HashSet<String>,
}

impl Figures<'_> {
    fn add(&mut self, figure: &impl Figure, stem: &str, caption: String, blocks: &mut Vec<Block>) -> Result<(), ReportError> {
        // Names that differ only in characters a file name cannot hold must not overwrite each
        // other's figures.
        let mut unique = stem.to_owned();
        let mut n = 2;
        while !self.stems.insert(unique.clone()) {
            unique = format!("{stem}-{n}");
            n += 1;
        }
        let stem = unique.as_str();
        let paths = save(figure, self.dir, stem, self.look).map_err(|message| ReportError::Figure { stem: stem.to_owned(), message })?;
        self.written.extend(paths);
        blocks.push(Block::Figure { stem: stem.to_owned(), caption });
        Ok(())
    }
}

/// Builds the report's blocks, drawing its figures into `figures_dir`.
pub fn build(
    results: &Results,
    analysis: &Analysis,
    reproduce: &[String],
    figures_dir: &Path,
    look: &Look,
) -> Result<(Vec<Block>, Vec<PathBuf>), ReportError> {
    let mut b = Vec::new();
    let mut figures = Figures { dir: figures_dir, look, written: Vec::new(), stems: std::collections::HashSet::new() };
    let name = experiment_name(results);
    b.push(Block::Heading(1, format!("hposim report: {name}")));
    if let Some(d) = results.manifest.as_ref().and_then(|m| m.description.clone()) {
        b.push(Block::Paragraph(d));
    }
    let cells = results.cells.len();
    let expected = cells + results.missing.len();
    let mut intro = format!(
        "{cells} of {expected} cells ({} benchmarks × {} strategies × seeds) from `{}`. Incumbent convention: **{}**; baseline for speed-ups: **{}**; intervals are {:.0} % percentile-bootstrap intervals over seeds.",
        analysis.benchmarks.len(),
        analysis.strategies.len(),
        results.dir.display(),
        analysis.options.convention.as_str(),
        analysis.options.baseline,
        100.0 * analysis.options.level,
    );
    if results.manifest.as_ref().is_some_and(|m| m.trace == hposim_core::TraceLevel::Decisions) {
        intro.push_str(
            " The traces keep the decisions only (`trace = \"decisions\"`): a row per run segment, so the any-fidelity convention sees only the results schedulers decided on, and a run's compute counts from its decision.",
        );
    }
    if !results.missing.is_empty() {
        intro.push_str(&format!(
            " **{} cells are missing** (listed at the end); everything below covers the cells that are there.",
            results.missing.len()
        ));
    }
    b.push(Block::Paragraph(intro));
    verdict(&mut b, analysis);
    best_configurations(&mut b, results);
    savings(&mut b, results, analysis);
    fractions(&mut b, analysis);
    b.push(Block::Heading(2, "Figures".into()));
    anytime_figures(&mut b, &mut figures, analysis)?;
    rank_figure(&mut b, &mut figures, analysis)?;
    ecdf_figure(&mut b, &mut figures, analysis)?;
    speedup_figure(&mut b, &mut figures, analysis)?;
    utilisation_figure(&mut b, &mut figures, analysis)?;
    rung_figures(&mut b, &mut figures, results, analysis)?;
    lineage_figures(&mut b, &mut figures, results, analysis)?;
    multi_objective(&mut b, &mut figures, results, analysis)?;
    tests(&mut b, &mut figures, analysis)?;
    fixed_target(&mut b, analysis);
    missing(&mut b, results);
    settings(&mut b, results, reproduce);
    Ok((b, figures.written))
}

fn verdict(b: &mut Vec<Block>, analysis: &Analysis) {
    b.push(Block::Heading(2, "Verdict".into()));
    let baseline = &analysis.options.baseline;
    let with_regret = analysis.benchmarks.iter().any(|x| x.scale.measure == Measure::NormalisedRegret);
    let rows = analysis
        .verdict
        .iter()
        .filter_map(|v| analysis.benchmarks.iter().find(|x| x.reference.name == v.benchmark).map(|bench| (v, bench)))
        .map(|(v, bench)| {
            let first = &v.best[0];
            let mut row = vec![
                v.benchmark.clone(),
                finding(v),
                bench.scale.label(),
                format!("{}{}", estimate(v.final_score), below_full_note(bench, first)),
            ];
            if with_regret {
                row.push(if bench.scale.measure == Measure::NormalisedRegret {
                    format!("{} ({})", estimate(v.final_regret), bench.scale.regret_label())
                } else {
                    "(the measure)".into()
                });
            }
            row.extend([
                if bench.baseline_target.is_some() {
                    speedup_text(v.speedup)
                } else if bench.strategies.iter().any(|s| &s.name == baseline) {
                    "baseline has no median final result".into()
                } else {
                    "no baseline results".into()
                },
                against_baseline(bench, first, baseline),
                num(v.usage.compute_hours),
                v.usage.cost_usd.map_or("—".into(), |c| format!("${}", num(c))),
            ]);
            row
        })
        .collect::<Vec<_>>();
    // With no verdict at all there is nothing to tabulate; the paragraph below says why.
    if !rows.is_empty() {
        let mut header = vec![
            "benchmark".into(),
            format!("finding (Holm-corrected {}, α = {ALPHA})", test_name(analysis)),
            "measure".into(),
            "lowest median final score [95 % CI]".into(),
        ];
        if with_regret {
            header.push("as plain regret [95 % CI]".into());
        }
        header.extend([
            format!("its speed-up over {baseline}: × [95 % CI]"),
            format!("it against {baseline}: test; effect size [95 % CI]"),
            "its compute (worker-hours, median)".into(),
            "its cost (median)".into(),
        ]);
        b.push(Block::Table { header, rows });
    }
    let without: Vec<&str> = analysis
        .benchmarks
        .iter()
        .map(|x| x.reference.name.as_str())
        .filter(|name| !analysis.verdict.iter().any(|v| v.benchmark == *name))
        .collect();
    if !without.is_empty() {
        b.push(Block::Paragraph(format!(
            "No verdict for {}: no strategy has a result in at least half its seeds (its median final score is infinitely bad).",
            without.join(", ")
        )));
    }
    let flagged: Vec<String> =
        analysis.benchmarks.iter().flat_map(|bench| bench.strategies.iter().filter_map(move |s| without_full_text(bench, s))).collect();
    if !flagged.is_empty() {
        b.push(Block::Paragraph(format!(
            "**Without a full-fidelity result** (no trial of the seed reached full fidelity, so its final score is infinitely bad): {}.",
            flagged.join("; ")
        )));
    }
    b.push(Block::Paragraph(format!(
        "The finding names the strategy with the lowest median final score (several on an exact tie) and every strategy its pairwise test cannot show to be significantly worse than it; \"no significant difference\" where that is every strategy with a result. The speed-up is the time {baseline} needs to reach its own median final quality divided by the time the strategy needs to reach it (medians over seeds; the BOHB paper's ×-fold speed-up; the interval resamples the seeds of both and redoes the whole procedure); \"did not reach\" where the strategy's median run (or, in an interval, a resample's) never reached it. The effect size is the probability that the strategy ends better than {baseline}, ties counted half (0.5: no effect), with a percentile-bootstrap interval: where seeds are paired (simulated results, common random numbers) the share of seeds on which it does (the paired probability of superiority, Grissom & Kim 2012), otherwise Vargha–Delaney A over every pair of runs (Vargha & Delaney 2000; 0.56, 0.64, 0.71: small, medium, large). A seed whose run never had a result counts as infinitely bad. The measure is normalised regret where the benchmark has a best known value and a median random configuration (0 = best known, 1 = median random configuration), plain regret with only a best known value, and the objective otherwise; every score of this report is in it."
    )));
}

/// Per benchmark, the best configuration any study found (live and ask/tell studies record
/// it in their summaries, `best_config`): what a user of a tuning study came for.
fn best_configurations(b: &mut Vec<Block>, results: &Results) {
    let mut rows = Vec::new();
    for bench in &results.benchmarks {
        let objective = hposim_core::Objective { name: bench.objective.clone(), direction: bench.direction };
        let best = results
            .cells
            .iter()
            .filter(|c| c.summary.benchmark == bench.name)
            .filter_map(|c| c.summary.best_config.as_ref().map(|best| (&c.summary, best)))
            .reduce(|a, b| if b.1.better_than(a.1, &objective) { b } else { a });
        if let Some((summary, best)) = best {
            let at = if best.full_fidelity { String::new() } else { format!(" (at {} {}, below full fidelity)", bench.unit, best.step) };
            rows.push(vec![
                bench.name.clone(),
                format!("{} = {}{at}", bench.objective, num(best.value)),
                format!("{} seed {}, trial {}", summary.strategy, summary.seed, best.trial),
                format!("`{}`", serde_json::Value::Object(best.config.clone())),
            ]);
        }
    }
    if !rows.is_empty() {
        b.push(Block::Paragraph(
            "**Best configuration found** (the best result of the first objective at full fidelity over every study):".into(),
        ));
        b.push(Block::Table { header: vec!["benchmark".into(), "result".into(), "found by".into(), "configuration".into()], rows });
    }
}

/// The name of the pairwise test.
fn test_name(analysis: &Analysis) -> &'static str {
    if analysis.benchmarks.iter().all(|bench| bench.paired) { "Wilcoxon signed-rank" } else { "Mann–Whitney U" }
}

/// The seeds of `s` without a full-fidelity result and why their cells stopped, or `None`.
fn without_full_text(bench: &BenchmarkAnalysis, s: &StrategyAnalysis) -> Option<String> {
    if s.without_full_result.is_empty() {
        return None;
    }
    let mut reasons: Vec<&str> = s.without_full_result.iter().map(|(_, r)| r.as_str()).collect();
    reasons.sort_unstable();
    reasons.dedup();
    Some(format!(
        "{} on {}: {} of {} seeds (stop reason: {})",
        s.name,
        bench.reference.name,
        s.without_full_result.len(),
        s.lengths.iter().flatten().count(),
        reasons.join(", ")
    ))
}

/// A warning when some seeds' final incumbents of `strategy` were evaluated below full fidelity.
fn below_full_note(bench: &BenchmarkAnalysis, strategy: &str) -> String {
    match bench.strategies.iter().find(|s| s.name == strategy) {
        Some(s) if s.below_full > 0 => {
            format!("; in {} of {} seeds the final incumbent is below full fidelity", s.below_full, s.lengths.iter().flatten().count())
        }
        _ => String::new(),
    }
}

/// Whether `best` ended significantly better than `baseline` on `bench`, in words, with the
/// effect size.
fn against_baseline(bench: &BenchmarkAnalysis, best: &str, baseline: &str) -> String {
    if best == baseline {
        return "is the baseline".into();
    }
    let Some(test) = bench.pairwise.iter().find(|t| (t.a == best && t.b == baseline) || (t.b == best && t.a == baseline)) else {
        return "no baseline".into();
    };
    let outcome = match &test.outcome {
        Ok(o) if o.p_holm < ALPHA && o.favours_a == (test.a == best) => format!("better, {}", p_equals(o.p_holm)),
        Ok(o) if o.p_holm < ALPHA => format!("worse by the ranks, {}", p_equals(o.p_holm)),
        Ok(o) => format!("not significant, {}", p_equals(o.p_holm)),
        Err(why) => why.split(':').next().unwrap_or("not tested").to_owned(),
    };
    match bench.strategies.iter().find(|s| s.name == best).and_then(|s| s.effect) {
        Some(a) => format!("{outcome}; {}", effect_text(a, bench.paired)),
        None => outcome,
    }
}

/// An effect size with its interval: the paired probability of superiority, or Vargha–Delaney
/// A with its magnitude.
fn effect_text(a: Estimate, paired: bool) -> String {
    if paired { format!("won {} of seeds", percent(a)) } else { format!("A = {} ({})", estimate(Some(a)), magnitude(a.value)) }
}

fn savings(b: &mut Vec<Block>, results: &Results, analysis: &Analysis) {
    b.push(Block::Heading(2, "Compute with and without early termination".into()));
    let mut rows = Vec::new();
    for bench in &analysis.benchmarks {
        for s in &bench.strategies {
            let u = s.usage;
            rows.push(vec![
                bench.reference.name.clone(),
                s.name.clone(),
                num(u.trials),
                num(u.compute_hours),
                num(u.full_training_hours),
                // Only a strategy that stops or pauses trials early saves anything by design; a
                // FIFO strategy's budget cut is not a saving.
                if results.cells_of(&bench.reference.name, &s.name).any(|c| terminates_early(c, bench.reference.max_fidelity)) {
                    format!("{:.1} %", 100.0 * u.compute_saved)
                } else {
                    "—".into()
                },
                u.cost_usd.map_or("—".into(), |c| format!("${}", num(c))),
                u.full_training_cost_usd.map_or("—".into(), |c| format!("${}", num(c))),
                num(u.idle_hours),
            ]);
        }
    }
    b.push(Block::Table {
        header: vec![
            "benchmark".into(),
            "strategy".into(),
            "trials".into(),
            "compute (worker-h)".into(),
            "without early termination (worker-h)".into(),
            "saved".into(),
            "cost".into(),
            "cost without early termination".into(),
            "idle (worker-h)".into(),
        ],
        rows,
    });
    b.push(Block::Paragraph(
        "Medians over seeds. \"Without early termination\" is what training every trial the strategy started to full fidelity would have cost: the talk's comparison of full training against successive halving and HyperBand; \"saved\" is 1 − compute / that, shown for strategies that stop or pause trials before full fidelity (— for the others).".into(),
    ));
}

fn fractions(b: &mut Vec<Block>, analysis: &Analysis) {
    b.push(Block::Heading(2, "Anytime score at fractions of the compute budget".into()));
    let mut header = vec!["benchmark (measure)".to_owned(), "strategy".to_owned()];
    header.extend(BUDGET_FRACTIONS.iter().map(|f| format!("{:.0} %", 100.0 * f)));
    let mut rows = Vec::new();
    for bench in &analysis.benchmarks {
        // The best (smallest) median score at each fraction is set in bold.
        let best: Vec<f64> =
            (0..BUDGET_FRACTIONS.len()).map(|i| bench.strategies.iter().map(|s| s.at_fractions[i]).fold(f64::INFINITY, f64::min)).collect();
        for (j, s) in bench.strategies.iter().enumerate() {
            let first = if j == 0 { format!("{} ({})", bench.reference.name, bench.scale.label()) } else { String::new() };
            let mut row = vec![first, s.name.clone()];
            row.extend(s.at_fractions.iter().zip(&best).map(|(v, b)| {
                let text = num(bench.scale.shown(*v));
                if v == b && b.is_finite() { format!("**{text}**") } else { text }
            }));
            rows.push(row);
        }
    }
    b.push(Block::Table { header, rows });
    b.push(Block::Paragraph(
        "Median over seeds of the incumbent's score, in each benchmark's measure, once the given share of its compute horizon (the most worker-time any of its cells used) was spent; ∞ where at least half the seeds had no incumbent yet; the best at each share in bold.".into(),
    ));
}

/// Per benchmark, every strategy against the baseline: its effect size with its interval.
fn effect_table(b: &mut Vec<Block>, bench: &BenchmarkAnalysis, baseline: &str) {
    let rows: Vec<Vec<String>> = bench
        .strategies
        .iter()
        .filter(|s| s.name != baseline)
        .filter_map(|s| s.effect.map(|a| (s, a)))
        .map(|(s, a)| {
            let difference = bench
                .pairwise
                .iter()
                .find(|t| (t.a == s.name && t.b == baseline) || (t.b == s.name && t.a == baseline))
                .map_or(f64::NAN, |t| if t.a == s.name { t.median_difference } else { -t.median_difference });
            let mut row = vec![s.name.clone()];
            if bench.paired {
                row.push(percent(a));
            } else {
                row.extend([estimate(Some(a)), magnitude(a.value).into()]);
            }
            row.push(num(bench.scale.shown(difference)));
            row
        })
        .collect();
    if rows.is_empty() {
        return;
    }
    b.push(Block::Table {
        header: [
            vec![format!("strategy vs {baseline}")],
            if bench.paired {
                vec!["share of seeds won [95 % CI]".to_owned()]
            } else {
                vec!["Vargha–Delaney A [95 % CI]".to_owned(), "magnitude".to_owned()]
            },
            vec![if bench.paired {
                format!("median difference ({})", bench.scale.label())
            } else {
                format!("difference of medians ({})", bench.scale.label())
            }],
        ]
        .concat(),
        rows,
    });
    b.push(Block::Paragraph(format!(
        "Effect sizes against {baseline} on {}: {} Ties count half, a run without a result is worse than any result, and 0.5 means no effect. The interval is a percentile bootstrap over {}.",
        bench.reference.name,
        if bench.paired {
            format!("the share of seeds on which the strategy ends with a better final score than {baseline} under the same seed (paired probability of superiority, Grissom & Kim 2012: the seeds share their benchmark noise, so each is a pair; its magnitude has no conventional thresholds).")
        } else {
            format!("Vargha–Delaney A, the probability that a run of the strategy ends with a better final score than a run of {baseline} (Vargha & Delaney 2000); |A − 0.5| ≥ 0.06, 0.14, 0.21 is small, medium, large.")
        },
        if bench.paired { "seeds, resampled as pairs" } else { "each strategy's runs, resampled separately" }
    )));
}

/// The clock of the results: simulated, or real for live studies.
fn clock(analysis: &Analysis) -> &'static str {
    if analysis.benchmarks.iter().all(|b| b.paired) { "simulated wall clock" } else { "wall clock" }
}

fn anytime_figures(b: &mut Vec<Block>, figures: &mut Figures<'_>, analysis: &Analysis) -> Result<(), ReportError> {
    for bench in &analysis.benchmarks {
        let time = time_unit(bench.time_grid.last().copied().unwrap_or(0.0));
        let compute = time_unit(bench.compute_grid.last().copied().unwrap_or(0.0));
        for (axis, grid, x_label, (_, seconds)) in [
            ("wall clock", &bench.time_grid, format!("{} ({})", clock(analysis), time.0), time),
            ("compute", &bench.compute_grid, format!("compute (worker-{})", compute.0), compute),
        ] {
            let lines: Vec<Line> = bench
                .strategies
                .iter()
                .map(|s| {
                    let bands = if axis == "compute" { &s.compute_bands } else { &s.bands };
                    let mut points = Vec::new();
                    let mut band = Vec::new();
                    for (t, band_at) in grid.iter().zip(bands) {
                        let x = t / seconds;
                        match band_at.median {
                            Some(e) => {
                                let (lo, hi) = (bench.scale.shown(e.low), bench.scale.shown(e.high));
                                points.push((x, bench.scale.shown(e.value)));
                                band.push((x, lo.min(hi), lo.max(hi)));
                            }
                            None => points.push((x, f64::NAN)),
                        }
                    }
                    Line { name: s.name.clone(), color: s.index, points, band }
                })
                .collect();
            let positive = lines
                .iter()
                .flat_map(|l| l.points.iter().map(|p| p.1).chain(l.band.iter().map(|x| x.1)))
                .filter(|v| v.is_finite())
                .all(|v| v > 0.0);
            let log_y = positive && bench.scale.measure != hposim_eval::scale::Measure::Value;
            let figure = LineFigure {
                title: format!("{}: anytime performance ({axis})", bench.reference.name),
                x_label: x_label.clone(),
                y_label: format!("{}{}", bench.scale.label(), if log_y { " (log scale)" } else { "" }),
                log_x: false,
                log_y,
                y_range: None,
                lines,
                note: Some("median over seeds, 95 % CI".into()),
            };
            let caption = format!(
                "{}: the incumbent's {} over {x_label}, median over seeds with its 95 % bootstrap interval (a curve starts once every seed has an incumbent; convention {}).",
                bench.reference.name,
                bench.scale.label(),
                analysis.options.convention.as_str()
            );
            let kind = if axis == "compute" { "anytime-compute" } else { "anytime" };
            figures.add(&figure, &stem(&[kind, &bench.reference.name]), caption, b)?;
        }
    }
    Ok(())
}

fn rank_figure(b: &mut Vec<Block>, figures: &mut Figures<'_>, analysis: &Analysis) -> Result<(), ReportError> {
    // Ranks say nothing about a single strategy.
    if analysis.average_rank.iter().filter(|r| !r.is_empty()).count() < 2 {
        return Ok(());
    }
    let lines: Vec<Line> = analysis
        .strategies
        .iter()
        .enumerate()
        .zip(&analysis.average_rank)
        .filter(|(_, r)| !r.is_empty())
        .map(|((i, name), r)| Line {
            name: name.clone(),
            color: i,
            points: analysis.fraction_grid.iter().copied().zip(r.iter().copied()).collect(),
            band: Vec::new(),
        })
        .collect();
    let k = analysis.strategies.len() as f64;
    let figure = LineFigure {
        title: "Average rank over time".into(),
        x_label: "fraction of each benchmark's time horizon".into(),
        y_label: "mean rank (1 = best)".into(),
        log_x: false,
        log_y: false,
        y_range: Some((0.8, k + 0.2)),
        lines,
        note: Some(format!("over seeds, then over {} benchmarks", analysis.benchmarks.len())),
    };
    figures.add(
        &figure,
        "ranks",
        "Mean rank of each strategy's incumbent at each moment (ranked per seed, averaged over seeds, then over benchmarks); time is a fraction of each benchmark's longest run.".into(),
        b,
    )
}

fn ecdf_figure(b: &mut Vec<Block>, figures: &mut Figures<'_>, analysis: &Analysis) -> Result<(), ReportError> {
    // An ECDF compares strategies; alone, it says nothing the anytime figure does not.
    if analysis.average_rank.iter().filter(|r| !r.is_empty()).count() < 2 {
        return Ok(());
    }
    // The x range starts where the first strategy reaches its first target (less a step), and
    // the y range ends just above the largest fraction reached: the figure shows what happened.
    let first = analysis.ecdf.iter().filter_map(|y| y.iter().position(|v| *v > 0.0)).min().unwrap_or(0).saturating_sub(1);
    let top = analysis.ecdf.iter().flatten().copied().fold(0.0f64, f64::max);
    let lines: Vec<Line> = analysis
        .strategies
        .iter()
        .enumerate()
        .zip(&analysis.ecdf)
        .zip(&analysis.average_rank)
        .filter(|(_, rank)| !rank.is_empty())
        .map(|(((i, name), y), _)| Line {
            name: name.clone(),
            color: i,
            points: analysis.ecdf_grid.iter().copied().zip(y.iter().copied()).skip(first).collect(),
            band: Vec::new(),
        })
        .collect();
    let figure = LineFigure {
        title: "Fixed-target ECDF".into(),
        x_label: "fraction of each benchmark's time horizon (log scale)".into(),
        y_label: "fraction of (run, target) pairs reached".into(),
        log_x: true,
        log_y: false,
        y_range: Some((0.0, (top * 1.08).clamp(0.05, 1.0))),
        lines,
        note: Some("pooled over targets and benchmarks".into()),
    };
    let targets: Vec<String> = analysis.benchmarks.iter().map(|x| format!("{}: {}", x.reference.name, x.targets_are)).collect();
    figures.add(
        &figure,
        "ecdf",
        format!("Empirical cumulative distribution of the time to reach each target (COCO/IOHprofiler convention), pooled over targets and benchmarks. Targets: {}.", targets.join("; ")),
        b,
    )
}

fn speedup_figure(b: &mut Vec<Block>, figures: &mut Figures<'_>, analysis: &Analysis) -> Result<(), ReportError> {
    let bars: Vec<Bar> = analysis
        .benchmarks
        .iter()
        .filter(|x| x.baseline_target.is_some())
        .flat_map(|x| {
            x.strategies.iter().filter_map(move |s| {
                s.speedup_time.map(|e| Bar {
                    label: format!("{} / {}", x.reference.name, s.name),
                    color: s.index,
                    value: e.value,
                    interval: Some((e.low, e.high)),
                })
            })
        })
        .collect();
    if bars.is_empty() {
        let why = if analysis.benchmarks.iter().any(|x| x.strategies.iter().any(|s| s.name == analysis.options.baseline)) {
            "the baseline has no median final result on any benchmark (fewer than half its seeds have one)"
        } else {
            "no benchmark has results of the baseline"
        };
        b.push(Block::Paragraph(format!("No speed-up figure for baseline `{}`: {why}.", analysis.options.baseline)));
        return Ok(());
    }
    let figure = BarFigure {
        title: format!("Speed-up over {} (wall clock)", analysis.options.baseline),
        x_label: format!("speed-up over {} (×, 95 % CI)", analysis.options.baseline),
        bars,
        reference: Some(1.0),
    };
    figures.add(&figure, "speedup", format!("Speed-up over {} on the wall-clock axis with 95 % bootstrap intervals; the line marks 1 (as fast as the baseline); the speed-up is the time the baseline needs to reach its median final quality over the time the strategy needs, and \"did not reach\" where its median run never reached it. Speed-ups on the compute axis are in tables/strategies.csv.", analysis.options.baseline), b)
}

fn utilisation_figure(b: &mut Vec<Block>, figures: &mut Figures<'_>, analysis: &Analysis) -> Result<(), ReportError> {
    let most = analysis
        .benchmarks
        .iter()
        .flat_map(|x| x.strategies.iter().map(|s| s.usage.compute_hours + s.usage.idle_hours))
        .fold(0.0f64, f64::max);
    let (unit, seconds) = time_unit(most * 3600.0);
    let per_hour = 3600.0 / seconds;
    let bars: Vec<Usage> = analysis
        .benchmarks
        .iter()
        .flat_map(|x| {
            x.strategies.iter().map(move |s| Usage {
                label: format!("{} / {}", x.reference.name, s.name),
                color: s.index,
                busy: s.usage.compute_hours * per_hour,
                idle: s.usage.idle_hours * per_hour,
            })
        })
        .collect();
    let unit = match unit {
        "s" => "worker-seconds",
        "min" => "worker-minutes",
        "h" => "worker-hours",
        _ => "worker-days",
    };
    let figure = UtilisationFigure { title: "Worker utilisation".into(), unit: unit.into(), bars };
    figures.add(&figure, "utilisation", format!("{unit} training (solid) and idle (light) per strategy, medians over seeds: the idle time synchronous schedulers pay while rungs fill."), b)
}

/// Whether a cell's strategy terminates trials early (a pause or stop below full fidelity).
fn terminates_early(cell: &CellResult, max: u32) -> bool {
    let t = &cell.trace;
    (0..t.len()).any(|r| t.epoch[r] < max && matches!(t.outcome[r], TrialOutcome::Pause | TrialOutcome::Stop))
}

fn rung_figures(b: &mut Vec<Block>, figures: &mut Figures<'_>, results: &Results, analysis: &Analysis) -> Result<(), ReportError> {
    let Some(bench) = analysis.benchmarks.first() else { return Ok(()) };
    let max = bench.reference.max_fidelity;
    let unit = &bench.reference.unit;
    for s in &bench.strategies {
        let cells: Vec<&CellResult> = results.cells_of(&bench.reference.name, &s.name).collect();
        let Some(first) = cells.iter().min_by_key(|c| c.summary.seed) else { continue };
        if !terminates_early(first, max) {
            continue;
        }
        let runs: Vec<Vec<(u32, u32, TrialOutcome)>> =
            cells.iter().map(|c| (0..c.trace.len()).map(|r| (c.trace.trial[r], c.trace.epoch[r], c.trace.outcome[r])).collect()).collect();
        let figure = RungFigure {
            title: format!("{} on {}: trials per rung", s.name, bench.reference.name),
            color: s.index,
            unit: unit.clone(),
            rungs: rung_counts(&runs, max),
        };
        figures.add(
            &figure,
            &stem(&["rungs", &bench.reference.name, &s.name]),
            format!("Rungs of {} on {} (mean over {} seeds): how many trials reached each rung (the {unit}s where the scheduler paused or stopped trials, and full fidelity) and what became of them there.", s.name, bench.reference.name, cells.len()),
            b,
        )?;
        let t = &first.trace;
        let figure = TimelineFigure {
            title: format!("{} on {} (seed {}): workers over time", s.name, bench.reference.name, first.summary.seed),
            workers: t.worker.iter().copied().max().map_or(1, |w| w + 1),
            max_fidelity: max,
            unit: unit.clone(),
            clock: clock(analysis).into(),
            launches: launches((0..t.len()).map(|r| (t.trial[r], t.worker[r], t.epoch[r], t.start[r], t.end[r], t.outcome[r]))),
        };
        figures.add(
            &figure,
            &stem(&["timeline", &bench.reference.name, &s.name]),
            format!("Worker timeline of {} on {} (seed {}): each bar is a launch of a trial on a worker, coloured by the {unit} it reached (dark end: stopped there); white gaps are idle workers and launch overhead; a paused trial resumed later appears as several bars.", s.name, bench.reference.name, first.summary.seed),
            b,
        )?;
    }
    Ok(())
}

fn rank_test_blocks(
    b: &mut Vec<Block>,
    figures: &mut Figures<'_>,
    scope: &str,
    test: &Result<RankTest, String>,
    analysis: &Analysis,
) -> Result<(), ReportError> {
    match test {
        Err(why) => b.push(Block::Paragraph(format!("Friedman test ({scope}): not run — {why}."))),
        Ok(t) => {
            let verdict = if t.p_value < ALPHA {
                "the strategies' ranks differ significantly"
            } else {
                "no significant difference among the strategies' ranks"
            };
            b.push(Block::Paragraph(format!(
                "Friedman test ({scope}, {} blocks): χ²_F = {}, {} — {verdict} at α = {ALPHA}. Nemenyi critical difference: {}.",
                t.blocks,
                num(t.statistic),
                p_equals(t.p_value),
                num(t.critical_difference)
            )));
            let entries = t
                .names
                .iter()
                .zip(&t.mean_ranks)
                .map(|(n, r)| (n.clone(), analysis.strategies.iter().position(|s| s == n).unwrap_or(0), *r))
                .collect();
            let figure = CdDiagram { title: format!("Critical difference ({scope})"), entries, critical_difference: t.critical_difference };
            figures.add(&figure, &stem(&["cd", scope]), format!("Critical-difference diagram ({scope}): mean ranks (1 = best); strategies joined by a bar are not significantly different (Nemenyi, α = {ALPHA})."), b)?;
        }
    }
    Ok(())
}

fn tests(b: &mut Vec<Block>, figures: &mut Figures<'_>, analysis: &Analysis) -> Result<(), ReportError> {
    b.push(Block::Heading(2, "Statistical tests".into()));
    let paired = analysis.benchmarks.iter().all(|bench| bench.paired);
    let per_benchmark = if paired {
        "seeds matched by index: a pair is two strategies under the same seed of the same benchmark, which share that seed's benchmark noise (common random numbers: a configuration both evaluate has the same curve, its noise depending only on the benchmark, the seed, the configuration and the step), while each strategy's own random choices are its own; under the null hypothesis each difference is symmetric about zero, which the signed-rank test needs: per benchmark, two-sided Wilcoxon signed-rank tests between every two strategies, Holm-corrected over the benchmark's pairs, and the Friedman test with seeds as blocks"
    } else {
        "unpaired, because these are live studies: real training noise is not shared between strategies, so two runs under one seed index are two independent runs and pairing them would carry no information: per benchmark, two-sided Mann–Whitney U tests between every two strategies (as scipy.stats.mannwhitneyu: exact without ties when a side has at most 8 runs, else the normal approximation with tie and continuity corrections), Holm-corrected over the benchmark's pairs, and the Kruskal–Wallis H test of all strategies"
    };
    b.push(Block::Paragraph(format!(
        "On the final scores (a run without a result counts as infinitely bad), {per_benchmark}; across benchmarks, the Friedman test on each strategy's median final score with benchmarks as blocks, then the Nemenyi post-hoc test (Demšar, 2006). α = {ALPHA}."
    )));
    for bench in &analysis.benchmarks {
        b.push(Block::Heading(3, bench.reference.name.clone()));
        match &bench.kruskal {
            None => rank_test_blocks(b, figures, &format!("{}, seeds as blocks", bench.reference.name), &bench.rank_test, analysis)?,
            Some(Err(why)) => b.push(Block::Paragraph(format!("Kruskal–Wallis test ({}): not run — {why}.", bench.reference.name))),
            Some(Ok(k)) => b.push(Block::Paragraph(format!(
                "Kruskal–Wallis test ({}): H = {}, {} — {} at α = {ALPHA}.",
                bench.reference.name,
                num(k.statistic),
                p_equals(k.p_value),
                if k.p_value < ALPHA {
                    "the strategies' final scores differ significantly"
                } else {
                    "no significant difference among the strategies"
                }
            ))),
        }
        wilcoxon_table(b, bench);
        effect_table(b, bench, &analysis.options.baseline);
    }
    b.push(Block::Heading(3, "Across benchmarks".into()));
    rank_test_blocks(b, figures, "across benchmarks", &analysis.across, analysis)
}

fn wilcoxon_table(b: &mut Vec<Block>, bench: &BenchmarkAnalysis) {
    if bench.pairwise.is_empty() {
        b.push(Block::Paragraph("One strategy: nothing to compare pairwise.".into()));
        return;
    }
    let rows = bench
        .pairwise
        .iter()
        .map(|t| match &t.outcome {
            Ok(o) => vec![
                t.a.clone(),
                t.b.clone(),
                t.pairs.to_string(),
                num(bench.scale.shown(t.median_difference)),
                num(o.statistic),
                p_value(o.p_value),
                p_value(o.p_holm),
                if o.p_holm < ALPHA { format!("**{} better**", if o.favours_a { &t.a } else { &t.b }) } else { "not significant".into() },
            ],
            Err(why) => vec![
                t.a.clone(),
                t.b.clone(),
                t.pairs.to_string(),
                num(bench.scale.shown(t.median_difference)),
                "—".into(),
                "—".into(),
                "—".into(),
                why.clone(),
            ],
        })
        .collect();
    b.push(Block::Table {
        header: vec![
            "a".into(),
            "b".into(),
            if bench.paired { "seeds".into() } else { "runs (fewer side)".into() },
            if bench.paired { "median a − b (measure)".into() } else { "median a − median b (measure)".into() },
            if bench.paired { "W".into() } else { "U (of a)".into() },
            "p".into(),
            "p (Holm)".into(),
            "outcome".into(),
        ],
        rows,
    });
}

fn fixed_target(b: &mut Vec<Block>, analysis: &Analysis) {
    b.push(Block::Heading(2, "Expected running time to targets".into()));
    b.push(Block::Paragraph(format!(
        "Expected running time ({}, in the unit each table names) to reach each target score: the total time of all runs until they reached it (or their whole length where they never did), divided by the runs that reached it (COCO's ERT); ∞ where no run did.",
        clock(analysis)
    )));
    for bench in &analysis.benchmarks {
        let (unit, seconds) = time_unit(bench.time_grid.last().copied().unwrap_or(0.0));
        // Scores are smaller-is-better; shown as a maximised objective, "at least as good" is ≥.
        let at_least =
            if bench.scale.measure == Measure::Value && bench.scale.direction == hposim_core::Direction::Maximize { "≥" } else { "≤" };
        let mut header =
            vec![format!("{} ({} {at_least} target; {}; ERT in {unit})", bench.reference.name, bench.scale.label(), bench.targets_are)];
        header.extend(bench.targets.iter().map(|t| format!("{at_least} {}", num(bench.scale.shown(*t)))));
        let rows = bench
            .strategies
            .iter()
            .map(|s| {
                let mut row = vec![s.name.clone()];
                row.extend(s.ert.iter().map(|e| e.map_or("∞".into(), |v| num(v / seconds))));
                row
            })
            .collect();
        b.push(Block::Table { header, rows });
    }
}

/// Benchmarks with several objectives: hypervolume table, hypervolume over time and median
/// attainment surfaces.
fn multi_objective(b: &mut Vec<Block>, figures: &mut Figures<'_>, results: &Results, analysis: &Analysis) -> Result<(), ReportError> {
    let mut rng = hposim_core::rng::stream(0, "multi-objective", "report-bootstrap");
    let benchmarks = hposim_eval::multi_objective::analyse(results, analysis.options.grid, analysis.options.level, &mut rng);
    if benchmarks.is_empty() {
        return Ok(());
    }
    b.push(Block::Heading(2, "Multi-objective".into()));
    for bench in &benchmarks {
        let names: Vec<String> = bench
            .objectives
            .iter()
            .map(|o| format!("{} ({})", o.name, if o.direction == hposim_core::Direction::Minimize { "minimised" } else { "maximised" }))
            .collect();
        let reference: Vec<String> = bench.reference.iter().map(|r| num(*r)).collect();
        b.push(Block::Heading(3, bench.name.clone()));
        b.push(Block::Paragraph(format!(
            "Objectives {}; hypervolume of the results at full fidelity with reference point ({}); best known hypervolume {:.4} (the union of every cell's results). Medians over seeds with {:.0} % bootstrap intervals; a time is when at least half the seeds had reached the fraction (the ⌈n/2⌉-th earliest), shown only where at least half did.",
            names.join(", "),
            reference.join(", "),
            bench.best_hypervolume,
            100.0 * analysis.options.level
        )));
        let mut header: Vec<String> = vec!["strategy".into(), "final hypervolume".into(), "hypervolume regret".into()];
        header.extend(hposim_eval::multi_objective::HYPERVOLUME_FRACTIONS.iter().map(|f| format!("time to {:.0} % (h)", 100.0 * f)));
        header.push("results outside the reference".into());
        let rows = bench
            .strategies
            .iter()
            .map(|s| {
                let mut row = vec![
                    s.name.clone(),
                    s.final_hypervolume.map_or("—".into(), |e| {
                        if e.low.is_finite() { format!("{:.4} [{:.4}, {:.4}]", e.value, e.low, e.high) } else { format!("{:.4}", e.value) }
                    }),
                    s.final_hypervolume.map_or("—".into(), |e| format!("{:.4}", bench.best_hypervolume - e.value)),
                ];
                row.extend(s.time_to_fraction.iter().map(|t| t.map_or("—".into(), |t| num(t / 3600.0))));
                row.push(s.outside_reference.to_string());
                row
            })
            .collect();
        b.push(Block::Table { header, rows });
        let (unit, seconds) = time_unit(bench.times.last().copied().unwrap_or(0.0));
        let hours: Vec<f64> = bench.times.iter().map(|t| t / seconds).collect();
        let lines = bench
            .strategies
            .iter()
            .map(|s| {
                let points = hours.iter().zip(&s.hypervolume_over_time).map(|(&t, e)| (t, e.map_or(f64::NAN, |e| e.value))).collect();
                let band = hours
                    .iter()
                    .zip(&s.hypervolume_over_time)
                    .filter_map(|(&t, e)| e.filter(|e| e.low.is_finite() && e.high.is_finite()).map(|e| (t, e.low, e.high)))
                    .collect();
                Line { name: s.name.clone(), color: s.index, points, band }
            })
            .collect();
        let figure = LineFigure {
            title: format!("Hypervolume on {}", bench.name),
            x_label: format!("{} ({unit})", clock(analysis)),
            y_label: "hypervolume (median over seeds)".into(),
            log_x: false,
            log_y: false,
            y_range: None,
            lines,
            note: None,
        };
        figures.add(
            &figure,
            &stem(&["hypervolume", &bench.name]),
            format!(
                "Hypervolume of the results at full fidelity on {} over simulated time: median over seeds with its bootstrap band.",
                bench.name
            ),
            b,
        )?;
        if bench.objectives.len() == 2 {
            let lines = bench
                .strategies
                .iter()
                .map(|s| Line { name: s.name.clone(), color: s.index, points: s.attainment.clone(), band: Vec::new() })
                .collect();
            let figure = LineFigure {
                title: format!("Median attainment surfaces on {}", bench.name),
                x_label: bench.objectives[0].name.clone(),
                y_label: bench.objectives[1].name.clone(),
                log_x: false,
                log_y: false,
                y_range: None,
                lines,
                note: None,
            };
            figures.add(
                &figure,
                &stem(&["attainment", &bench.name]),
                format!("Median attainment surfaces on {}: per strategy, the boundary of what at least half of its seeds attained at full fidelity.", bench.name),
                b,
            )?;
        }
    }
    Ok(())
}

/// What population-based training recorded: exploits per strategy, and for every benchmark and
/// strategy with exploits the lineage of its first seed.
fn lineage_figures(b: &mut Vec<Block>, figures: &mut Figures<'_>, results: &Results, analysis: &Analysis) -> Result<(), ReportError> {
    let mut counts: Vec<(&str, usize, usize)> = Vec::new();
    for cell in results.cells.iter().filter(|c| !c.exploits.is_empty()) {
        match counts.iter_mut().find(|(s, _, _)| *s == cell.summary.strategy) {
            Some(entry) => {
                entry.1 += 1;
                entry.2 += cell.exploits.len();
            }
            None => counts.push((&cell.summary.strategy, 1, cell.exploits.len())),
        }
    }
    if counts.is_empty() {
        b.push(Block::Paragraph(
            "Population-based training lineage: no cell recorded an exploit (no population-based strategy), so there is no lineage to draw.".into(),
        ));
        return Ok(());
    }
    let per: Vec<String> = counts.iter().map(|(s, cells, n)| format!("{s}: {n} exploits in {cells} cells")).collect();
    b.push(Block::Paragraph(format!(
        "Population-based training lineage: {}. Each exploit (time, step, donor, recipient, old and new configuration) is listed in `cells/<cell>.exploits.json`.",
        per.join("; ")
    )));
    for bench in &analysis.benchmarks {
        for s in &bench.strategies {
            let cell = results.cells_of(&bench.reference.name, &s.name).filter(|c| !c.exploits.is_empty()).min_by_key(|c| c.summary.seed);
            let Some(cell) = cell else { continue };
            let t = &cell.trace;
            let exploits: Vec<(u32, u32, u32, u32)> = cell.exploits.iter().map(|e| (e.trial, e.donor, e.recipient, e.step)).collect();
            let (members, segments, copies) = lineage((0..t.len()).map(|r| (t.trial[r], t.epoch[r], t.outcome[r])), &exploits);
            let figure = LineageFigure {
                title: format!("{} on {} (seed {})", s.name, bench.reference.name, cell.summary.seed),
                color: s.index,
                max_fidelity: bench.reference.max_fidelity,
                unit: bench.reference.unit.clone(),
                members,
                segments,
                copies,
            };
            figures.add(
                &figure,
                &stem(&["lineage", &bench.reference.name, &s.name]),
                format!(
                    "Lineage of {} (seed {}): one row per population member, one segment per trial (cross: replaced, dot: fully trained); grey lines copy a member's checkpoint into another's row.",
                    s.name, cell.summary.seed
                ),
                b,
            )?;
        }
    }
    Ok(())
}

fn missing(b: &mut Vec<Block>, results: &Results) {
    if results.missing.is_empty() {
        return;
    }
    b.push(Block::Heading(2, "Missing cells".into()));
    b.push(Block::Paragraph(format!("{} cells the experiment runs are not in the results directory; rerun the experiment's command to complete it (finished cells are reused).", results.missing.len())));
    b.push(Block::Table {
        header: vec!["benchmark".into(), "strategy".into(), "seed".into(), "why".into()],
        rows: results
            .missing
            .iter()
            .map(|m| vec![m.cell.benchmark.clone(), m.cell.strategy.clone(), m.cell.seed.to_string(), m.reason.clone()])
            .collect(),
    });
}

fn settings(b: &mut Vec<Block>, results: &Results, reproduce: &[String]) {
    b.push(Block::Heading(2, "Settings and reproduction".into()));
    b.push(Block::Paragraph(
        "These commands reproduce the results and this report exactly (every random stream derives from the experiment seed):".into(),
    ));
    b.push(Block::Code(reproduce.join("\n")));
    if let Some(m) = &results.manifest {
        b.push(Block::List(vec![
            format!("hposim {} ({} results, trace format {})", m.hposim, m.kind, m.trace_format),
            format!("{} workers per cell", m.workers),
            m.price_per_worker_hour.map_or("no price per worker-hour set".into(), |p| format!("${p} per worker-hour")),
        ]));
        let rows = m
            .benchmarks
            .iter()
            .map(|x| {
                vec![
                    x.name.clone(),
                    format!("{} ({:?})", x.objective, x.direction).to_lowercase(),
                    x.max_fidelity.to_string(),
                    x.best_known.map_or("—".into(), num),
                    x.median_random.map_or("—".into(), num),
                ]
            })
            .collect();
        b.push(Block::Table {
            header: vec![
                "benchmark".into(),
                "objective".into(),
                "full fidelity".into(),
                "best known".into(),
                "median random configuration".into(),
            ],
            rows,
        });
    }
    match &results.experiment_source {
        Some(source) => {
            b.push(Block::Paragraph("The experiment file, as run:".into()));
            b.push(Block::Code(source.clone()));
        }
        None => b.push(Block::Paragraph("The results directory holds no copy of the experiment file.".into())),
    }
}
